"""The store contract. Every backend (SQL on SQLite or PostgreSQL, in-memory) passes the same
contract test suite (``tests/integration/test_store_contract.py``).

Times are timezone-aware UTC datetimes everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sorawatch.budget import BudgetLimits
from sorawatch.domain.incident import Incident, Segment, StatusChange
from sorawatch.domain.observation import Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status


class Resolution(StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class Rollup:
    """Aggregate of the observations of one channel and source in one time bucket.

    ``latency_buckets`` counts latencies per upper bound in ``LATENCY_BOUNDS_MS`` (the last
    entry counts everything above the last bound) so percentiles survive aggregation.
    """

    channel_id: str
    source: Source
    resolution: Resolution
    bucket: datetime  # bucket start
    count: int
    outcomes: dict[Outcome, int]
    latency_count: int
    latency_sum_ms: float
    latency_max_ms: float
    latency_buckets: tuple[int, ...]
    cost_usd: float = 0.0

    @property
    def good(self) -> int:
        return sum(n for o, n in self.outcomes.items() if o.is_good)


# Upper bounds (ms) of the latency histogram kept in rollups.
LATENCY_BOUNDS_MS: tuple[float, ...] = (
    50,
    100,
    200,
    300,
    500,
    750,
    1000,
    1500,
    2000,
    3000,
    5000,
    8000,
    12000,
    20000,
    30000,
    60000,
)


@dataclass(frozen=True, slots=True)
class ChannelSnapshot:
    """What the evaluator needs to resume a channel after a restart."""

    channel_id: str
    status: Status
    since: datetime
    open_incident: Incident | None = None
    last_observations: tuple[Observation, ...] = field(default_factory=tuple)


class CanaryState(StrEnum):
    """Where a canary run ended (``running`` while its cost is reserved and the job is out)."""

    RUNNING = "running"
    COMPLETED = "completed"  # the job finished and its video downloaded
    FAILED = "failed"  # the job was accepted and ended failed
    STALLED = "stalled"  # the job made no progress for ``stall_after``
    TIMED_OUT = "timed_out"  # the job did not finish within ``timeout``
    CREATE_FAILED = "create_failed"  # the upstream refused the job
    POLL_FAILED = "poll_failed"  # the job could no longer be read
    DOWNLOAD_FAILED = "download_failed"  # finished, but its video could not be fetched
    SKIPPED_BUDGET = "skipped_budget"  # not run: it would have exceeded a budget


@dataclass(frozen=True, slots=True)
class CanaryRun:
    """One canary job (or one skipped for budget): its timings, end and cost.

    ``cost_usd`` is what counts against the budgets: the reserved cost while ``running``, the
    billed cost once finished (0 for a job that was refused or failed, which is not billed).
    Times are measured at poll resolution: ``queue_ms`` ends when the job is first seen
    generating, ``generate_ms`` when it is first seen finished.
    """

    channel_id: str
    started_at: datetime
    final_state: CanaryState
    cost_usd: float = 0.0
    outcome: Outcome | None = None  # None only for a run that never ran
    failure_class: str | None = None  # moderation, failure, risk_control, stall, …
    job_id: str | None = None
    accept_ms: float | None = None
    queue_ms: float | None = None
    generate_ms: float | None = None
    total_ms: float | None = None
    finished_at: datetime | None = None
    detail: str = ""
    id: int | None = None  # assigned by the store


class Store(Protocol):
    """Persistence for observations, the status timeline, incidents and rollups."""

    async def open(self) -> None:
        """Connect and apply any pending schema migrations (idempotent)."""

    async def close(self) -> None: ...

    # observations -------------------------------------------------------------------------
    async def add_observations(self, observations: Sequence[Observation]) -> None:
        """Durably store observations (committed when this returns) and fold them into the
        minute rollups in the same transaction."""

    async def observations(
        self,
        channel_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[Observation]:
        """Raw observations, oldest first, ``since <= at < until``."""

    async def rollups(
        self,
        channel_id: str | None,
        resolution: Resolution,
        since: datetime,
        until: datetime,
        source: Source | None = None,
    ) -> list[Rollup]:
        """Rollups of one channel (every channel if None), oldest first; all sources unless
        ``source`` is given."""

    # status timeline and incidents ----------------------------------------------------------
    async def record_change(self, change: StatusChange, incident: Incident | None) -> None:
        """Append a status change and upsert the incident it opened/updated/closed, atomically."""

    async def timeline(
        self, channel_id: str, since: datetime, until: datetime | None = None
    ) -> list[Segment]:
        """Status segments overlapping [since, until), oldest first. The first segment is
        clipped to start at ``since`` when an earlier change was in force; the last has
        ``end=None`` when still current."""

    async def timelines(
        self, since: datetime, until: datetime | None = None
    ) -> dict[str, list[Segment]]:
        """``timeline`` of every channel with a recorded status, in one pass (the status page
        rebuilds all of its cards from this)."""

    async def changes(
        self, channel_id: str | None = None, since: datetime | None = None, limit: int = 1000
    ) -> list[StatusChange]:
        """Status changes oldest first."""

    async def incidents(
        self,
        channel_id: str | None = None,
        since: datetime | None = None,
        open_only: bool = False,
        limit: int = 500,
    ) -> list[Incident]:
        """Incidents, newest first (open ones and those that ended after ``since``)."""

    async def snapshots(self) -> list[ChannelSnapshot]:
        """Current status, open incident and recent observations of every known channel."""

    # canary runs and spend --------------------------------------------------------------------
    async def reserve_canary(
        self, channel_id: str, at: datetime, cost_usd: float, limits: BudgetLimits
    ) -> CanaryRun:
        """Atomically check today's (the UTC day of ``at``) spend of the channel and of every
        channel against ``limits`` and store a run: ``running`` holding ``cost_usd`` when it
        fits, else ``skipped_budget`` with cost 0 and the reason in ``detail``."""

    async def finish_canary(self, run: CanaryRun) -> None:
        """Replace the stored run ``run.id`` with ``run`` (its metrics, end and final cost; a
        cost of 0 releases the reservation). Unknown ids are a ``StoreError``."""

    async def canary_runs(
        self,
        channel_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
        newest_first: bool = False,
    ) -> list[CanaryRun]:
        """Canary runs with ``since <= started_at < until``, oldest first unless
        ``newest_first`` (the limit then keeps the newest)."""

    async def spend(self, day: datetime, channel_id: str | None = None) -> float:
        """USD held by canary runs started on the UTC day of ``day`` (all channels if None)."""

    # maintenance ------------------------------------------------------------------------------
    async def compact(self, now: datetime, raw_retention_s: float) -> int:
        """Roll minute buckets up into hours and hours into days for closed periods, and delete
        raw observations older than the retention. Returns the number of rows deleted."""

    async def size_bytes(self) -> int | None:
        """Bytes used by the database, when the backend can tell."""
