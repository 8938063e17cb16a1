"""Status changes and incidents."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache

from sorawatch.domain.observation import Evidence
from sorawatch.domain.redact import redact
from sorawatch.domain.status import Status


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A confirmed transition of one channel, with the observations that decided it."""

    channel_id: str
    at: datetime
    old: Status
    new: Status
    reason: str
    sources: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True)
class Incident:
    """A period in which a channel's status was bad (see ``Status.is_bad``).

    Opened by a change into a bad status, updated while it stays bad (``worst`` only grows),
    closed by the change back to ``operational``. ``ended_at`` is None while open.
    """

    id: str
    channel_id: str
    started_at: datetime
    status: Status
    worst: Status
    cause: str
    ended_at: datetime | None = None
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class Segment:
    """One stretch of the status timeline: ``status`` from ``start`` until ``end`` (None = now)."""

    start: datetime
    status: Status
    end: datetime | None = None


def redacted(inc: Incident, secrets: Iterable[str] = ()) -> Incident:
    """The incident with its cause and evidence safe to show anyone (see ``domain.redact``)."""
    return _redacted(inc, tuple(secrets))


# Incidents are immutable and rarely change, while the status page redacts every one of them on
# each refresh: remember the answers rather than run the patterns again.
@lru_cache(maxsize=50_000)
def _redacted(inc: Incident, keys: tuple[str, ...]) -> Incident:
    return replace(
        inc,
        cause=redact(inc.cause, keys),
        evidence=tuple(replace(e, detail=redact(e.detail, keys)) for e in inc.evidence),
    )
