"""The monitor: probes → observations → evaluator → store, for every configured channel."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from sorawatch.alerts import windows as maintenance
from sorawatch.canary import Canary, CanaryReport, Sleep
from sorawatch.config import ChannelConfig, Config
from sorawatch.domain.evaluate import (
    RC_WINDOW,
    ChannelState,
    Thresholds,
    apply_change,
    evaluate,
    expire,
    resume_canaries,
    set_window,
    target_status,
)
from sorawatch.domain.incident import Incident, StatusChange
from sorawatch.domain.observation import Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.stability import success_rate
from sorawatch.domain.status import Status
from sorawatch.errors import StoreError
from sorawatch.netguard import NetworkGuard
from sorawatch.providers import provider_class
from sorawatch.providers.base import ProbeResult, Provider
from sorawatch.scheduler import Job, Scheduler
from sorawatch.statuspages import StatusPageReader, StatusReading, to_status
from sorawatch.store.base import CanaryRun, ChannelSnapshot, MaintenanceWindow, Store

log = logging.getLogger(__name__)

RETIRED_EVERY = 86400.0  # a retired channel is still checked, once a day
COMPACT_EVERY = 600.0
FLUSH_EVERY = 1.0
FLUSH_BATCH = 500
WINDOWS_EVERY = 5.0  # how often maintenance windows are checked (their start/end precision)
CANARY_RESUME_RUNS = 10  # recent canary runs replayed to rebuild their verdict after a restart
CANARY_FIRST_SPREAD = 60.0  # first canaries of a fresh install start within this many seconds


def utcnow() -> datetime:
    return datetime.now(UTC)


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def light_observation(channel: ChannelConfig, result: ProbeResult, at: datetime) -> Observation:
    v = result.verdict
    return Observation(
        channel_id=channel.id,
        source=Source.LIGHT,
        at=at,
        outcome=v.outcome,
        http_status=result.http_status,
        latency_ms=round(result.latency_ms, 1) if result.latency_ms is not None else None,
        detail=v.detail,
        sunset=v.sunset,
    )


def no_key_observation(channel: ChannelConfig, at: datetime) -> Observation:
    return Observation(
        channel_id=channel.id,
        source=Source.LIGHT,
        at=at,
        outcome=Outcome.AUTH_FAILED,
        detail="no API key configured (its environment variable is not set); not probed",
        inconclusive=True,
    )


def vendor_observation(channel_id: str, reported: Status, detail: str, at: datetime) -> Observation:
    return Observation(
        channel_id=channel_id,
        source=Source.STATUSPAGE,
        at=at,
        outcome=Outcome.OK
        if reported in (Status.OPERATIONAL, Status.MAINTENANCE)
        else (Outcome.SERVER_ERROR),
        detail=detail,
        reported=reported,
    )


def thresholds_of(channel: ChannelConfig) -> Thresholds:
    th, canary = channel.thresholds, channel.probes.canary
    if canary is None:
        return Thresholds(th.fail_after, th.recover_after)
    return Thresholds(th.fail_after, th.recover_after, canary.fail_after, canary.recover_after)


def canary_ttl_s(channel: ChannelConfig) -> float | None:
    """How long a canary verdict stands without a new canary (two missed runs)."""
    canary = channel.probes.canary
    return None if canary is None else 2 * canary.every + canary.timeout


def run_observation(run: CanaryRun) -> Observation | None:
    """A stored canary run as the observation it produced (None if it produced none)."""
    if run.outcome is None:
        return None
    return Observation(
        channel_id=run.channel_id,
        source=Source.CANARY,
        at=run.finished_at or run.started_at,
        outcome=run.outcome,
        latency_ms=run.total_ms,
        cost_usd=run.cost_usd,
        detail=f"canary: {run.detail}",
    )


def vendor_observations(
    channels: Iterable[ChannelConfig], page: str, reading: StatusReading, at: datetime
) -> list[Observation]:
    """One statuspage observation per channel that points at ``page``, from a fresh reading."""
    out = []
    for ch in channels:
        ref = ch.status_page
        if ref is None or ref.page != page:
            continue
        level = reading.level_for(component=ref.component, product=ref.product)
        detail = f"{page}: {ref.component or ref.product or 'page'} is {level.value}"
        out.append(vendor_observation(ch.id, to_status(level), detail, at))
    return out


def resume_state(snap: ChannelSnapshot) -> ChannelState:
    """Rebuild evaluator state after a restart from the stored status and recent observations."""
    probe_obs = [o for o in snap.last_observations if o.source is not Source.STATUSPAGE]
    streak: list[Observation] = []

    def good(o: Observation) -> bool:
        return target_status(o.outcome) is Status.OPERATIONAL

    for o in reversed(probe_obs):
        if o.outcome.is_neutral:
            continue
        if streak and good(o) != good(streak[0]):
            break
        streak.insert(0, o)
    probe_status = snap.status if snap.status is not Status.MAINTENANCE else Status.UNKNOWN
    since_moved = [o for o in probe_obs if o.at > snap.since and not o.outcome.is_neutral]
    return ChannelState(
        channel_id=snap.channel_id,
        status=snap.status,
        since=snap.since,
        probe_status=probe_status,
        streak=tuple(streak),
        recent=tuple(since_moved[-RC_WINDOW:]),
    )


@dataclass(frozen=True, slots=True)
class ChannelView:
    """What a UI shows of one channel right now."""

    channel: ChannelConfig
    status: Status
    since: datetime | None
    last: Observation | None
    incident: Incident | None
    reason: str = ""  # why the current status was decided
    sunset: datetime | None = None  # announced retirement (Sunset header, shutdown_date)
    success: float | None = None  # share of good probe answers since the status last moved


class Monitor:
    def __init__(
        self,
        config: Config,
        store: Store,
        client: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] = utcnow,
        vendor_ttl_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.config = config
        self.store = store
        self.client = client
        self.now = now
        self.vendor_ttl_s = vendor_ttl_s
        self.providers: dict[str, Provider] = {
            ch.id: provider_class(ch.protocol)(ch, client) for ch in config.channels
        }
        # Only channels that configure a canary ever get a paid request.
        self.canaries: dict[str, Canary] = {
            ch.id: Canary(
                ch,
                self.providers[ch.id],
                store,
                config.budget_usd_per_day,
                now=now,
                clock=clock,
                sleep=sleep,
            )
            for ch in config.channels
            if ch.probes.canary is not None
        }
        self.readers = {
            name: StatusPageReader(name, page.url, page.kind, client, page.timeout)
            for name, page in config.status_pages.items()
        }
        self.states: dict[str, ChannelState] = {
            ch.id: ChannelState(channel_id=ch.id) for ch in config.channels
        }
        self.last: dict[str, Observation] = {}
        self.incidents: dict[str, Incident] = {}
        self.reasons: dict[str, str] = {}
        self.sunsets: dict[str, datetime] = {}
        self.listeners: list[Callable[[StatusChange], None]] = []
        self.observers: list[Callable[[Observation], None]] = []  # every ingested observation
        every = max(
            (ch.probes.light.every for ch in config.channels if ch.probes.light), default=60
        )
        self.guard = NetworkGuard(
            {ch.id: host_of(ch.base_url) for ch in config.channels if ch.probes.light},
            window=timedelta(seconds=2 * every),
        )
        self.stored_windows: list[MaintenanceWindow] = []  # `sorawatch maintenance add`
        self._pending: list[Observation] = []
        self._lock = asyncio.Lock()  # one evaluation at a time keeps state and store in step
        self.scheduler: Scheduler | None = None

    # --- lifecycle --------------------------------------------------------------------------
    async def resume(self) -> None:
        """Continue from what the store knows: statuses, streaks and open incidents."""
        for snap in await self.store.snapshots():
            if snap.channel_id not in self.states:
                continue  # a channel removed from the config keeps its history, unwatched
            self.states[snap.channel_id] = resume_state(snap)
            if snap.open_incident:
                self.incidents[snap.channel_id] = snap.open_incident
            if snap.last_observations:
                self.last[snap.channel_id] = snap.last_observations[-1]
            for obs in snap.last_observations:
                self._note_sunset(obs)
        for cid in self.canaries:
            runs = await self.store.canary_runs(cid, limit=CANARY_RESUME_RUNS, newest_first=True)
            seen = [o for o in map(run_observation, reversed(runs)) if o is not None]
            ch = self.config.channel(cid)
            self.states[cid] = resume_canaries(self.states[cid], seen, thresholds_of(ch))

    async def run(self, scheduler: Scheduler | None = None) -> None:
        """Probe every channel on its interval until cancelled; flush everything on the way out."""
        await self.resume()
        sched = scheduler or Scheduler(self.config.monitor.concurrency, self.config.monitor.jitter)
        self.scheduler = sched
        for ch in self.config.channels:
            if ch.probes.light:
                every = RETIRED_EVERY if self.states[ch.id].status is Status.RETIRED else None
                sched.add(f"light:{ch.id}", every or ch.probes.light.every, self._light_job(ch))
        for i, cid in enumerate(sorted(self.canaries)):
            first_in = await self._first_canary_in(cid, i / len(self.canaries))
            every = self.canaries[cid].config.every
            sched.add(f"canary:{cid}", every, self._canary_job(cid), first_in=first_in)
        used_pages = {ch.status_page.page for ch in self.config.channels if ch.status_page}
        for name in sorted(used_pages):
            page = self.config.status_pages[name]
            sched.add(f"page:{name}", page.every, self._page_job(name), first_in=0)
        sched.add("expire", 30.0, self._expire_all, first_in=30.0)
        sched.add("windows", WINDOWS_EVERY, self.apply_windows, first_in=0.0)
        sched.add("compact", COMPACT_EVERY, self._compact, first_in=60.0)
        writer = asyncio.create_task(self._writer(), name="observation-writer")
        try:
            await sched.run()
        finally:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
            await self.flush()

    # --- probes -----------------------------------------------------------------------------
    def _light_job(self, channel: ChannelConfig) -> Job:
        async def job() -> None:
            await self.ingest(await self.probe(channel))

        return job

    def _canary_job(self, channel_id: str) -> Job:
        async def job() -> None:
            report = await self.canary(self.config.channel(channel_id))
            if report is not None and report.observation is not None:
                await self.ingest(report.observation)

        return job

    async def _first_canary_in(self, channel_id: str, share: float) -> float:
        """Seconds until a channel's first canary: one interval after its last stored run (a
        restart neither repeats nor skips a paid job), else soon, spread over a minute."""
        every = self.canaries[channel_id].config.every
        last = await self.store.canary_runs(channel_id, limit=1, newest_first=True)
        if not last:
            return share * min(every, CANARY_FIRST_SPREAD)
        since = (self.now() - last[0].started_at).total_seconds()
        return min(every, max(0.0, every - since))

    def _page_job(self, name: str) -> Job:
        async def job() -> None:
            for obs in await self.read_status_page(name):
                await self.ingest(obs)

        return job

    async def probe(self, channel: ChannelConfig) -> Observation:
        """One light probe of one channel (no request at all when it has no key)."""
        if channel.missing_key:
            return no_key_observation(channel, self.now())
        result = await self.providers[channel.id].light_check()
        return self.guard.judge(light_observation(channel, result, self.now()))

    async def canary(self, channel: ChannelConfig) -> CanaryReport | None:
        """One canary job of one channel; None when it is not run at all (no canary, no key,
        or a retired model that no paid request can bring back)."""
        canary = self.canaries.get(channel.id)
        if canary is None or channel.api_key is None:
            return None
        if self.states[channel.id].status is Status.RETIRED:
            log.info("%s: canary not run: the channel is retired", channel.id)
            return None
        return await canary.run()

    async def read_status_page(self, name: str) -> list[Observation]:
        """The vendor's word for every channel that points at page ``name``."""
        reading = await self.readers[name].read(self.now())
        if reading.stale or reading.error:
            log.info("status page %s: %s", name, reading.error or "stale")
            return []
        return vendor_observations(self.config.channels, name, reading, self.now())

    def _note_sunset(self, obs: Observation) -> None:
        """Keep the latest announced retirement date a channel's answers carried."""
        if obs.sunset is not None:
            self.sunsets[obs.channel_id] = obs.sunset
        elif obs.outcome is Outcome.OK and obs.source is Source.LIGHT:
            self.sunsets.pop(obs.channel_id, None)  # a clean answer withdraws the warning

    # --- evaluation -------------------------------------------------------------------------
    async def ingest(self, obs: Observation) -> StatusChange | None:
        """Store an observation and let it move the channel's status."""
        thresholds = thresholds_of(self.config.channel(obs.channel_id))
        async with self._lock:
            self._pending.append(obs)
            for observer in self.observers:
                observer(obs)
            if obs.source is not Source.STATUSPAGE:
                self.last[obs.channel_id] = obs
                self._note_sunset(obs)
            state, change = evaluate(self.states[obs.channel_id], obs, thresholds)
            self.states[obs.channel_id] = state
            if change is not None:
                await self._record(change)
        if len(self._pending) >= FLUSH_BATCH:
            await self.flush()
        return change

    async def _record(self, change: StatusChange) -> None:
        incident = apply_change(
            self.incidents.get(change.channel_id), change, lambda: uuid.uuid4().hex[:12]
        )
        await self.store.record_change(change, incident)
        if incident is not None:
            if incident.is_open:
                self.incidents[change.channel_id] = incident
            else:
                self.incidents.pop(change.channel_id, None)
        self.reasons[change.channel_id] = change.reason
        self._adjust_schedule(change)
        log.info(
            "%s: %s -> %s (%s)",
            change.channel_id,
            change.old.value,
            change.new.value,
            change.reason,
        )
        for listener in self.listeners:
            listener(change)

    def _adjust_schedule(self, change: StatusChange) -> None:
        """Back a retired channel off to once a day; restore its interval when it comes back."""
        ch = self.config.channel(change.channel_id)
        if self.scheduler is None or ch.probes.light is None:
            return
        key = f"light:{ch.id}"
        if change.new is Status.RETIRED:
            self.scheduler.set_interval(key, RETIRED_EVERY)
        elif change.old is Status.RETIRED:
            self.scheduler.set_interval(key, ch.probes.light.every)

    async def _expire_all(self) -> None:
        async with self._lock:
            for cid, state in list(self.states.items()):
                ch_ttl = canary_ttl_s(self.config.channel(cid))
                new_state, change = expire(state, self.now(), self.vendor_ttl_s, ch_ttl)
                self.states[cid] = new_state
                if change is not None:
                    await self._record(change)

    def windows(self) -> list[MaintenanceWindow]:
        """The config's windows and the stored ones as last read (every ``WINDOWS_EVERY``)."""
        return [*self.config.maintenance_windows, *self.stored_windows]

    async def read_windows(self) -> list[MaintenanceWindow]:
        """Read the stored windows again; every window now."""
        try:
            self.stored_windows = await self.store.windows()
        except StoreError as exc:  # keep the last known windows rather than end them all
            log.warning("reading maintenance windows failed: %s", exc)
        return self.windows()

    async def apply_windows(self) -> None:
        """Put channels into our maintenance windows and take them out as the windows pass."""
        every = await self.read_windows()
        async with self._lock:
            now = self.now()
            for ch in self.config.channels:
                window = maintenance.active(every, ch.id, ch.group, now)
                name = None if window is None else window.name
                state, change = set_window(self.states[ch.id], name, now)
                self.states[ch.id] = state
                if change is not None:
                    await self._record(change)

    # --- persistence ------------------------------------------------------------------------
    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            await self.store.add_observations(batch)
        except BaseException:
            self._pending[:0] = batch  # keep them for the next flush
            raise

    async def _writer(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            try:
                await self.flush()
            except Exception:  # keep probing; the batch stays pending for the next flush
                log.exception("storing observations failed")

    async def _compact(self) -> None:
        await self.store.compact(self.now(), self.config.storage.retention.raw)

    # --- views ------------------------------------------------------------------------------
    def views(self) -> list[ChannelView]:
        return [
            ChannelView(
                channel=ch,
                status=self.states[ch.id].status,
                since=self.states[ch.id].since,
                last=self.last.get(ch.id),
                incident=self.incidents.get(ch.id),
                reason=self.reasons.get(ch.id, ""),
                sunset=self.sunsets.get(ch.id),
                success=success_rate(Counter(o.outcome for o in self.states[ch.id].recent)),
            )
            for ch in self.config.channels
        ]
