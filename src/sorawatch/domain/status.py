"""Statuses: a channel's confirmed state (DESIGN.md, "Status")."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    RISK_CONTROL = "risk_control"
    SUSPENDED = "suspended"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"
    UNKNOWN = "unknown"

    @property
    def icon(self) -> str:
        return _ICONS[self]

    @property
    def severity(self) -> int:
        """Order used to pick "the worst" of several statuses (higher is worse)."""
        return _SEVERITY[self]

    @property
    def is_bad(self) -> bool:
        """A status that opens (or keeps open) an incident."""
        return self in (Status.DEGRADED, Status.RISK_CONTROL, Status.SUSPENDED, Status.RETIRED)

    @property
    def statuspage_component(self) -> str:
        """The Atlassian Statuspage component status this maps to."""
        return _STATUSPAGE[self]


_ICONS = {
    Status.OPERATIONAL: "🟢",
    Status.DEGRADED: "🟡",
    Status.RISK_CONTROL: "🟡",
    Status.SUSPENDED: "🔴",
    Status.MAINTENANCE: "🔧",
    Status.RETIRED: "⚫",
    Status.UNKNOWN: "⚪",
}

# unknown sits lowest: "we do not know" must never hide a known problem.
_SEVERITY = {
    Status.UNKNOWN: 0,
    Status.OPERATIONAL: 1,
    Status.MAINTENANCE: 2,
    Status.DEGRADED: 3,
    Status.RISK_CONTROL: 4,
    Status.SUSPENDED: 5,
    Status.RETIRED: 6,
}

_STATUSPAGE = {
    Status.OPERATIONAL: "operational",
    Status.DEGRADED: "degraded_performance",
    Status.RISK_CONTROL: "partial_outage",
    Status.SUSPENDED: "major_outage",
    Status.MAINTENANCE: "under_maintenance",
    Status.RETIRED: "major_outage",
    Status.UNKNOWN: "operational",
}


def worst(*statuses: Status) -> Status:
    """The most severe of the given statuses (``unknown`` when none are given)."""
    return max(statuses, key=lambda s: s.severity, default=Status.UNKNOWN)
