"""An in-memory store: the fake the other parts test against. Passes the same contract suite
as the SQL store; nothing survives the process."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

from sorawatch.budget import BudgetLimits, refusal, utc_day
from sorawatch.domain.incident import Incident, Segment, StatusChange
from sorawatch.domain.observation import Observation
from sorawatch.domain.outcome import Source
from sorawatch.domain.status import Status
from sorawatch.errors import StoreError
from sorawatch.store.base import (
    CanaryRun,
    CanaryState,
    ChannelSnapshot,
    DeliveryState,
    LoggedChange,
    MaintenanceWindow,
    OutboxMessage,
    Resolution,
    Rollup,
)
from sorawatch.store.codec import (
    aware,
    aware_or_none,
    build_segments,
    utc_change,
    utc_incident,
    utc_message,
    utc_window,
)
from sorawatch.store.rollup import RollupKey, fold, merge, retention_cutoffs

SNAPSHOT_OBSERVATIONS = 20


class MemoryStore:
    """Every method runs without awaiting, so each call is atomic under asyncio."""

    def __init__(self, snapshot_observations: int = SNAPSHOT_OBSERVATIONS) -> None:
        self._snapshot_observations = snapshot_observations
        self._observations: list[Observation] = []  # sorted by (at, id)
        self._next_id = 1
        self._changes: list[StatusChange] = []  # sorted by at, stable for equal times
        # The same changes in the order recorded: the change log's id is the position + 1.
        self._log: list[LoggedChange] = []
        self._incidents: dict[str, Incident] = {}
        self._rollups: dict[RollupKey, Rollup] = {}
        self._canary_runs: dict[int, CanaryRun] = {}
        self._leases: dict[
            str, tuple[str, datetime]
        ] = {}  # name -> (holder, until)  # by id, ids in insertion order
        self._outbox: dict[int, OutboxMessage] = {}  # by seq, seqs in insertion order
        self._outbox_keys: set[tuple[str, str]] = set()  # (alert_id, notifier) of the outbox
        self._next_seq = 1
        self._alert_cursor: tuple[int, str | None] = (0, None)
        self._windows: dict[int, MaintenanceWindow] = {}  # by id, ids in insertion order

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def schema_version(self) -> str | None:
        return None

    # observations -------------------------------------------------------------------------
    async def add_observations(self, observations: Sequence[Observation]) -> None:
        stored = []
        for obs in observations:
            stored.append(
                dataclasses.replace(
                    obs,
                    at=aware(obs.at, "observation.at"),
                    sunset=aware_or_none(obs.sunset, "observation.sunset"),
                    id=self._next_id,
                )
            )
            self._next_id += 1
        self._observations.extend(stored)
        self._observations.sort(key=lambda o: (o.at, o.id or 0))
        for key, acc in fold(stored).items():
            fresh = acc.freeze(key)
            old = self._rollups.get(key)
            self._rollups[key] = fresh if old is None else merge(old, fresh)

    async def observations(
        self,
        channel_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[Observation]:
        since = aware_or_none(since, "since")
        until = aware_or_none(until, "until")
        found = [
            o
            for o in self._observations
            if (channel_id is None or o.channel_id == channel_id)
            and (since is None or o.at >= since)
            and (until is None or o.at < until)
        ]
        return found[:limit]

    async def rollups(
        self,
        channel_id: str | None,
        resolution: Resolution,
        since: datetime,
        until: datetime,
        source: Source | None = None,
    ) -> list[Rollup]:
        since = aware(since, "since")
        until = aware(until, "until")
        found = [
            r
            for (cid, src, res, bucket), r in self._rollups.items()
            if (channel_id is None or cid == channel_id)
            and res == resolution
            and since <= bucket < until
            and (source is None or src == source)
        ]
        return sorted(found, key=lambda r: (r.bucket, r.source.value))

    # status timeline and incidents ----------------------------------------------------------
    async def record_change(self, change: StatusChange, incident: Incident | None) -> None:
        change = utc_change(change)
        if incident is not None:
            self._incidents[incident.id] = utc_incident(incident)
        self._changes.append(change)
        self._changes.sort(key=lambda c: c.at)
        self._log.append(LoggedChange(len(self._log) + 1, change))

    def _channel_changes(self, channel_id: str) -> list[StatusChange]:
        return [c for c in self._changes if c.channel_id == channel_id]

    async def timeline(
        self, channel_id: str, since: datetime, until: datetime | None = None
    ) -> list[Segment]:
        since = aware(since, "since")
        until = aware_or_none(until, "until")
        mine = self._channel_changes(channel_id)
        before = [c for c in mine if c.at <= since]
        inside = [c for c in mine if c.at > since and (until is None or c.at < until)]
        later = until is not None and any(c.at >= until for c in mine)
        return build_segments(before[-1] if before else None, inside, since, until, later)

    async def timelines(
        self, since: datetime, until: datetime | None = None
    ) -> dict[str, list[Segment]]:
        ids = sorted({c.channel_id for c in self._changes})
        found = {cid: await self.timeline(cid, since, until) for cid in ids}
        return {cid: segments for cid, segments in found.items() if segments}

    async def changes(
        self, channel_id: str | None = None, since: datetime | None = None, limit: int = 1000
    ) -> list[StatusChange]:
        since = aware_or_none(since, "since")
        found = [
            c
            for c in self._changes
            if (channel_id is None or c.channel_id == channel_id)
            and (since is None or c.at >= since)
        ]
        return found[:limit]

    async def incidents(
        self,
        channel_id: str | None = None,
        since: datetime | None = None,
        open_only: bool = False,
        limit: int = 500,
    ) -> list[Incident]:
        since = aware_or_none(since, "since")
        found = [
            i
            for i in self._incidents.values()
            if (channel_id is None or i.channel_id == channel_id)
            and (i.ended_at is None or (not open_only and (since is None or i.ended_at > since)))
        ]
        found.sort(key=lambda i: (i.started_at, i.id), reverse=True)
        return found[:limit]

    async def snapshots(self) -> list[ChannelSnapshot]:
        channels = {c.channel_id for c in self._changes} | {
            o.channel_id for o in self._observations
        }
        return [self._snapshot(cid) for cid in sorted(channels)]

    def _snapshot(self, channel_id: str) -> ChannelSnapshot:
        mine = [o for o in self._observations if o.channel_id == channel_id]
        changes = self._channel_changes(channel_id)
        open_incidents = sorted(
            (i for i in self._incidents.values() if i.channel_id == channel_id and i.is_open),
            key=lambda i: (i.started_at, i.id),
        )
        if changes:
            status, since = changes[-1].new, changes[-1].at
        else:
            status, since = Status.UNKNOWN, mine[0].at
        return ChannelSnapshot(
            channel_id=channel_id,
            status=status,
            since=since,
            open_incident=open_incidents[-1] if open_incidents else None,
            last_observations=tuple(mine[-self._snapshot_observations :]),
        )

    # canary runs and spend --------------------------------------------------------------------
    async def reserve_canary(
        self, channel_id: str, at: datetime, cost_usd: float, limits: BudgetLimits
    ) -> CanaryRun:
        at = aware(at, "at")
        why = refusal(cost_usd, self._spent(at, channel_id), self._spent(at, None), limits)
        run = CanaryRun(
            channel_id=channel_id,
            started_at=at,
            final_state=CanaryState.RUNNING if why is None else CanaryState.SKIPPED_BUDGET,
            cost_usd=cost_usd if why is None else 0.0,
            finished_at=None if why is None else at,
            detail=why or "",
            id=len(self._canary_runs) + 1,
        )
        self._canary_runs[run.id or 0] = run
        return run

    async def finish_canary(self, run: CanaryRun) -> None:
        if run.id is None or run.id not in self._canary_runs:
            raise StoreError(f"no canary run with id {run.id}")
        self._canary_runs[run.id] = dataclasses.replace(
            run,
            started_at=aware(run.started_at, "run.started_at"),
            finished_at=aware_or_none(run.finished_at, "run.finished_at"),
        )

    async def canary_runs(
        self,
        channel_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
        newest_first: bool = False,
    ) -> list[CanaryRun]:
        since = aware_or_none(since, "since")
        until = aware_or_none(until, "until")
        found = sorted(
            (
                r
                for r in self._canary_runs.values()
                if (channel_id is None or r.channel_id == channel_id)
                and (since is None or r.started_at >= since)
                and (until is None or r.started_at < until)
            ),
            key=lambda r: (r.started_at, r.id or 0),
            reverse=newest_first,
        )
        return found[:limit]

    async def spend(self, day: datetime, channel_id: str | None = None) -> float:
        return self._spent(aware(day, "day"), channel_id)

    def _spent(self, at: datetime, channel_id: str | None) -> float:
        start, end = utc_day(at)
        return sum(
            r.cost_usd
            for r in self._canary_runs.values()
            if start <= r.started_at < end and (channel_id is None or r.channel_id == channel_id)
        )

    # alerts -----------------------------------------------------------------------------------
    async def change_log(self, after_id: int = 0, limit: int = 1000) -> list[LoggedChange]:
        # Ids are positions + 1, so the first one after ``after_id`` is at index ``after_id``.
        return self._log[max(after_id, 0) :][: max(limit, 0)]

    async def alert_cursor(self) -> tuple[int, str | None]:
        return self._alert_cursor

    async def commit_alerts(
        self, cursor: int, state: str, messages: Sequence[OutboxMessage]
    ) -> None:
        # Every message is checked before anything changes: a naive time leaves all as it was.
        fresh = [utc_message(m) for m in messages]
        for message in fresh:
            key = (message.alert_id, message.notifier)
            if key in self._outbox_keys:
                continue
            self._outbox_keys.add(key)
            self._outbox[self._next_seq] = dataclasses.replace(message, seq=self._next_seq)
            self._next_seq += 1
        self._alert_cursor = (cursor, state)

    async def pending_messages(self, limit: int = 1000) -> list[OutboxMessage]:
        pending = [m for m in self._outbox.values() if m.state is DeliveryState.PENDING]
        return pending[: max(limit, 0)]

    async def record_attempt(
        self,
        seq: int,
        at: datetime,
        *,
        error: str | None,
        next_attempt_at: datetime | None = None,
        give_up: bool = False,
    ) -> None:
        at = aware(at, "at")
        next_at = aware_or_none(next_attempt_at, "next_attempt_at")
        message = self._outbox.get(seq)
        if message is None:
            raise StoreError(f"no outbox message with seq {seq}")
        attempts = message.attempts + 1
        if error is None:
            # Nothing is left to attempt: no next time, no error to show.
            done = dataclasses.replace(
                message,
                state=DeliveryState.DELIVERED,
                attempts=attempts,
                delivered_at=at,
                last_error="",
                next_attempt_at=None,
            )
        else:
            done = dataclasses.replace(
                message,
                state=DeliveryState.FAILED if give_up else DeliveryState.PENDING,
                attempts=attempts,
                last_error=error,
                next_attempt_at=next_at,
            )
        self._outbox[seq] = done

    async def messages(
        self,
        state: DeliveryState | None = None,
        limit: int = 100,
        before_seq: int | None = None,
    ) -> list[OutboxMessage]:
        found = [
            m
            for seq, m in reversed(self._outbox.items())
            if (state is None or m.state is DeliveryState(state))
            and (before_seq is None or seq < before_seq)
        ]
        return found[: max(limit, 0)]

    async def prune_messages(self, before: datetime) -> int:
        before = aware(before, "before")
        old = [
            seq
            for seq, m in self._outbox.items()
            if m.state is not DeliveryState.PENDING and m.created_at < before
        ]
        for seq in old:
            gone = self._outbox.pop(seq)
            self._outbox_keys.discard((gone.alert_id, gone.notifier))
        return len(old)

    async def take_lease(self, name: str, holder: str, now: datetime, ttl_s: float) -> bool:
        now = aware(now, "now")
        current = self._leases.get(name)
        if current is not None and current[0] != holder and current[1] >= now:
            return False
        self._leases[name] = (holder, now + timedelta(seconds=ttl_s))
        return True

    async def add_window(self, window: MaintenanceWindow) -> MaintenanceWindow:
        stored = dataclasses.replace(utc_window(window), id=len(self._windows) + 1)
        self._windows[stored.id or 0] = stored
        return stored

    async def windows(self) -> list[MaintenanceWindow]:
        return list(self._windows.values())

    async def end_window(self, window_id: int, at: datetime) -> MaintenanceWindow:
        at = aware(at, "at")
        window = self._windows.get(window_id)
        if window is None:
            raise StoreError(f"no maintenance window with id {window_id}")
        if window.ended_at is None or window.ended_at > at:
            window = dataclasses.replace(window, ended_at=at)
            self._windows[window_id] = window
        return window

    # maintenance ------------------------------------------------------------------------------
    async def compact(self, now: datetime, raw_retention_s: float) -> int:
        cut = retention_cutoffs(aware(now, "now"), raw_retention_s)
        kept = [o for o in self._observations if o.at >= cut.raw]
        deleted = len(self._observations) - len(kept)
        self._observations = kept
        limits = {Resolution.MINUTE: cut.minute, Resolution.HOUR: cut.hour}
        old = [k for k in self._rollups if k[2] in limits and k[3] < limits[k[2]]]
        for key in old:
            del self._rollups[key]
        return deleted + len(old)

    async def size_bytes(self) -> int | None:
        return None
