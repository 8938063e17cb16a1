"""sorawatch: availability monitor, status page and failover gateway for AI video APIs."""

__version__ = "0.1.0"
