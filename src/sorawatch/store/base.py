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


class DeliveryState(StrEnum):
    """Where one alert message stands with one notifier."""

    PENDING = "pending"  # not delivered yet (being retried when attempts > 0)
    DELIVERED = "delivered"
    FAILED = "failed"  # given up on after the delivery's give_up_after


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One alert for one notifier, written to the outbox before any attempt to send it.

    ``alert_id`` is stable: the same alert gets the same id after a restart, and every notifier
    it goes to shares it, so a receiver can drop duplicates (delivery is at-least-once).
    ``(alert_id, notifier)`` is unique; ``seq`` (assigned by the store) orders the outbox.
    """

    alert_id: str
    notifier: str
    route: str
    kind: str  # problem, recovery, reminder, flapping, settled, sunset
    severity: str  # critical, warning, info
    title: str
    body: str
    channels: tuple[str, ...]
    created_at: datetime
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None  # None: as soon as possible
    last_error: str = ""
    delivered_at: datetime | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class LoggedChange:
    """A status change with its position in the change log (ids only grow)."""

    id: int
    change: StatusChange


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A planned window in which alerts are silenced and uptime is not counted.

    The first occurrence is ``[start, end)``; with ``every_s`` it recurs every that many
    seconds. ``ended_at`` cuts it short (``sorawatch maintenance end``): nothing of it counts
    from then on. It covers the listed channels and every channel of the listed groups.
    """

    name: str
    start: datetime
    end: datetime
    channels: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    every_s: float | None = None
    reason: str = ""
    ended_at: datetime | None = None
    id: int | None = None  # assigned by the store; None for windows from the config


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

    # alerts -----------------------------------------------------------------------------------
    async def change_log(self, after_id: int = 0, limit: int = 1000) -> list[LoggedChange]:
        """Status changes with an id above ``after_id``, in id order (the order recorded)."""

    async def alert_cursor(self) -> tuple[int, str | None]:
        """The last change id the alerts have taken in and their saved state (0, None at first)."""

    async def commit_alerts(
        self, cursor: int, state: str, messages: Sequence[OutboxMessage]
    ) -> None:
        """Atomically add ``messages`` to the outbox (one already there with the same
        ``(alert_id, notifier)`` is kept as it is) and save the cursor and state."""

    async def pending_messages(self, limit: int = 1000) -> list[OutboxMessage]:
        """Undelivered messages (state pending), oldest first (by ``seq``)."""

    async def record_attempt(
        self,
        seq: int,
        at: datetime,
        *,
        error: str | None,
        next_attempt_at: datetime | None = None,
        give_up: bool = False,
    ) -> None:
        """Store one delivery attempt of message ``seq``: delivered when ``error`` is None,
        else still pending until ``next_attempt_at`` (or failed with ``give_up``). Attempts
        count up by one. Unknown ids are a ``StoreError``."""

    async def messages(
        self,
        state: DeliveryState | None = None,
        limit: int = 100,
        before_seq: int | None = None,
    ) -> list[OutboxMessage]:
        """Outbox messages newest first (``seq < before_seq`` to page on)."""

    async def prune_messages(self, before: datetime) -> int:
        """Delete delivered and failed messages created before ``before`` (pending ones stay,
        however old). Returns how many were deleted."""

    async def add_window(self, window: MaintenanceWindow) -> MaintenanceWindow:
        """Store a maintenance window; returns it with its id."""

    async def windows(self) -> list[MaintenanceWindow]:
        """Every stored maintenance window (ended ones too), in id order."""

    async def end_window(self, window_id: int, at: datetime) -> MaintenanceWindow:
        """End window ``window_id`` at ``at`` (no-op if already ended earlier); returns it.
        Unknown ids are a ``StoreError``."""

    async def take_lease(self, name: str, holder: str, now: datetime, ttl_s: float) -> bool:
        """Hold lease ``name`` for ``holder`` until ``now + ttl_s`` when it is free, expired or
        held by ``holder`` already; True when ``holder`` holds it now. Atomic across processes
        sharing the database."""

    # housekeeping -------------------------------------------------------------------------------
    async def compact(self, now: datetime, raw_retention_s: float) -> int:
        """Roll minute buckets up into hours and hours into days for closed periods, and delete
        raw observations older than the retention. Returns the number of rows deleted."""

    async def size_bytes(self) -> int | None:
        """Bytes used by the database, when the backend can tell."""
