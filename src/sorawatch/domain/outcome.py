"""Outcomes: the class of one observation (DESIGN.md, "Outcomes")."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    SLOW = "slow"
    RATE_LIMITED = "rate_limited"
    RISK_CONTROL = "risk_control"
    OVERLOADED = "overloaded"
    QUOTA_EXHAUSTED = "quota_exhausted"
    AUTH_FAILED = "auth_failed"
    PAUSED = "paused"
    RETIRED = "retired"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    CONNECT_ERROR = "connect_error"
    BAD_RESPONSE = "bad_response"
    REJECTED = "rejected"
    JOB_FAILED = "job_failed"

    @property
    def is_good(self) -> bool:
        """The channel answered as it should (``slow`` still answered)."""
        return self in (Outcome.OK, Outcome.SLOW)

    @property
    def is_neutral(self) -> bool:
        """Says nothing about the channel: the caller's request was at fault."""
        return self is Outcome.REJECTED

    @property
    def fails_over(self) -> bool:
        """Whether the gateway should try another channel on this outcome.

        ``timeout`` is listed as True here; the gateway still refuses to repeat a create after a
        read timeout unless the channel says creates are safe to repeat.
        """
        return self not in (Outcome.OK, Outcome.SLOW, Outcome.REJECTED, Outcome.JOB_FAILED)


class Source(StrEnum):
    """Which probe produced an observation."""

    STATUSPAGE = "statuspage"
    LIGHT = "light"
    CANARY = "canary"
    TRAFFIC = "traffic"


class AccessKind(StrEnum):
    OFFICIAL = "official"
    RELAY = "relay"
    REVERSE = "reverse"
