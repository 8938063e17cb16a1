"""The board: everything the status page and its APIs show, built from the store's status
timeline, rollups and canary ledger (never from raw observations), one channel at a time.

A ``ChannelCard`` is rebuilt when its channel changes status and otherwise on a slow rolling
schedule (``BoardCache``), so a page with a thousand channels and 90 days of history is served
from memory while the store is only asked about what moved.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from sorawatch.config import ChannelConfig, Config
from sorawatch.domain.incident import Incident, Segment, redacted
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.redact import redact
from sorawatch.domain.stability import stars, success_rate
from sorawatch.domain.status import Status
from sorawatch.domain.uptime import DayBar, daily_bars, uptime_windows
from sorawatch.providers import provider_class
from sorawatch.store.base import CanaryRun, CanaryState, Resolution, Rollup, Store
from sorawatch.store.rollup import latency_percentile

from .maintenance import MaintenanceBook

DAYS = 90
RC_WEEKS = 4
# A price for comparison: the seed compares a 10 s 720p clip and 100 clips a month.
CLIP_SECONDS = 10
CLIPS_PER_MONTH = 100


@dataclass(frozen=True, slots=True)
class HourLatency:
    hour: datetime
    p50_ms: float | None
    p95_ms: float | None
    count: int


@dataclass(frozen=True, slots=True)
class CanaryStats:
    """Real jobs of the last 30 days (runs still out or skipped for budget are left out)."""

    runs: int
    completed: int
    success_rate: float | None  # completed / runs, moderation refusals left out
    e2e_p50_s: float | None  # end-to-end time of completed jobs
    e2e_max_s: float | None
    spend_today_usd: float
    last: CanaryRun | None


@dataclass(frozen=True, slots=True)
class LiveStatus:
    """The monitor's current word on a channel (newer than the store's timeline)."""

    status: Status
    since: datetime | None
    reason: str = ""
    latency_ms: float | None = None
    outcome: Outcome | None = None
    checked_at: datetime | None = None
    sunset: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChannelCard:
    channel: ChannelConfig
    live: LiveStatus
    uptime: dict[str, float | None]
    stars: int | None
    days: list[DayBar]
    day_incidents: dict[date, list[Incident]]
    latency_24h: list[HourLatency]
    p50_24h_ms: float | None
    p95_24h_ms: float | None
    p50_30d_ms: float | None
    p95_30d_ms: float | None
    success_rate_24h: float | None
    risk_control_per_week: float
    incidents: list[Incident]  # last 90 days, newest first
    canary: CanaryStats | None
    built_at: datetime
    produces: str = "video"  # what its protocol makes: video, image or check

    @property
    def makes_video(self) -> bool:
        return self.produces == "video"

    @property
    def id(self) -> str:
        return self.channel.id

    @property
    def status(self) -> Status:
        return self.live.status

    @property
    def clip_price_usd(self) -> float | None:
        """What one 10 s 720p clip costs on this channel at its configured price."""
        price = self.channel.price
        return None if price is None else price.cost(CLIP_SECONDS)


@dataclass(frozen=True, slots=True)
class Board:
    built_at: datetime
    cards: list[ChannelCard]
    version: int = 0
    by_id: dict[str, ChannelCard] = field(default_factory=dict)

    incidents: list[Incident] = field(default_factory=list)  # open first, then newest first

    def __post_init__(self) -> None:
        self.by_id.update({c.id: c for c in self.cards})
        every = [i for c in self.cards for i in c.incidents]
        self.incidents[:] = sorted(every, key=lambda i: (i.is_open, i.started_at), reverse=True)

    def groups(self) -> list[tuple[str, list[ChannelCard]]]:
        """Cards grouped by ``group``, in the order groups first appear in the config."""
        out: dict[str, list[ChannelCard]] = {}
        for card in self.cards:
            out.setdefault(card.channel.group, []).append(card)
        return list(out.items())


def risk_control_entries(segments: Sequence[Segment], since: datetime) -> int:
    """Times the timeline entered ``risk_control`` at or after ``since``."""
    entries = 0
    for prev, seg in zip([None, *segments], segments, strict=False):
        if (
            seg.status is Status.RISK_CONTROL
            and seg.start >= since
            and (prev is None or prev.status is not Status.RISK_CONTROL)
        ):
            entries += 1
    return entries


def hourly_latency(rollups: Iterable[Rollup], since: datetime, hours: int) -> list[HourLatency]:
    by_hour: dict[datetime, list[Rollup]] = {}
    for r in rollups:
        by_hour.setdefault(r.bucket, []).append(r)
    out = []
    for i in range(hours):
        hour = since + timedelta(hours=i)
        rs = by_hour.get(hour, [])
        out.append(
            HourLatency(
                hour,
                latency_percentile(rs, 0.5),
                latency_percentile(rs, 0.95),
                sum(r.latency_count for r in rs),
            )
        )
    return out


def canary_stats(runs: Sequence[CanaryRun], spend_today: float) -> CanaryStats:
    finished = [
        r
        for r in runs
        if r.final_state not in (CanaryState.RUNNING, CanaryState.SKIPPED_BUDGET)
        and r.outcome is not Outcome.REJECTED
    ]
    done = [r for r in finished if r.final_state is CanaryState.COMPLETED]
    e2e = [r.total_ms / 1000 for r in done if r.total_ms is not None]
    return CanaryStats(
        runs=len(finished),
        completed=len(done),
        success_rate=len(done) / len(finished) if finished else None,
        e2e_p50_s=statistics.median(e2e) if e2e else None,
        e2e_max_s=max(e2e) if e2e else None,
        spend_today_usd=spend_today,
        last=runs[-1] if runs else None,
    )


def incidents_by_day(incidents: Iterable[Incident], now: datetime) -> dict[date, list[Incident]]:
    """Each incident under every UTC day it touched (for the bars' hover text)."""
    out: dict[date, list[Incident]] = {}
    for inc in incidents:
        day = inc.started_at.astimezone(UTC).date()
        last = (inc.ended_at or now).astimezone(UTC).date()
        while day <= last:
            out.setdefault(day, []).append(inc)
            day += timedelta(days=1)
    return out


def live_from_timeline(segments: Sequence[Segment]) -> LiveStatus:
    if not segments:
        return LiveStatus(Status.UNKNOWN, None)
    return LiveStatus(segments[-1].status, segments[-1].start)


@dataclass(slots=True)
class CardData:
    """What the store holds for one channel's card."""

    segments: list[Segment] = field(default_factory=list)
    hours: list[Rollup] = field(default_factory=list)
    days: list[Rollup] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    runs: list[CanaryRun] = field(default_factory=list)


def windows(now: datetime) -> tuple[datetime, datetime, datetime, datetime]:
    """(timeline start, first hour of the 24 h chart, first day of 30 days, end of queries)."""
    hour0 = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    day0 = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=29)
    # the bucket holding `now` starts at or before it: include it
    return now - timedelta(days=DAYS), hour0, day0, now + timedelta(seconds=1)


async def fetch_one(store: Store, channel: ChannelConfig, now: datetime) -> CardData:
    start, hour0, day0, end = windows(now)
    data = CardData(
        segments=await store.timeline(channel.id, start, now),
        hours=await store.rollups(channel.id, Resolution.HOUR, hour0, end),
        days=await store.rollups(channel.id, Resolution.DAY, day0, end),
        incidents=await store.incidents(channel.id, since=start, limit=5000),
    )
    if channel.probes.canary is not None:
        data.runs = await store.canary_runs(channel.id, since=day0, limit=5000)
    return data


async def fetch_all(store: Store, now: datetime, history: bool = True) -> dict[str, CardData]:
    """Every channel's data in five queries (instead of five per channel); without ``history``
    only the measures (rollups, canary runs), leaving timelines and incidents empty."""
    start, hour0, day0, end = windows(now)
    out: dict[str, CardData] = {}

    def of(cid: str) -> CardData:
        return out.setdefault(cid, CardData())

    if history:
        for cid, segments in (await store.timelines(start, now)).items():
            of(cid).segments = segments
        for inc in await store.incidents(since=start, limit=1_000_000):
            of(inc.channel_id).incidents.append(inc)
    for r in await store.rollups(None, Resolution.HOUR, hour0, end):
        of(r.channel_id).hours.append(r)
    for r in await store.rollups(None, Resolution.DAY, day0, end):
        of(r.channel_id).days.append(r)
    for run in await store.canary_runs(since=day0, limit=1_000_000):
        of(run.channel_id).runs.append(run)
    return out


def today_spend(runs: Iterable[CanaryRun], now: datetime) -> float:
    """USD held by runs started on the UTC day of ``now`` (as ``Store.spend`` counts it)."""
    day = now.astimezone(UTC).date()
    return sum(r.cost_usd for r in runs if r.started_at.astimezone(UTC).date() == day)


def build_card(
    channel: ChannelConfig, data: CardData, now: datetime, live: LiveStatus | None = None
) -> ChannelCard:
    """One channel's card from its timeline, hourly and daily rollups and canary ledger."""
    _, hour0, _, _ = windows(now)
    segments = data.segments
    # Redacted once here, so no page, feed or API built from the card can leak a key.
    secrets = channel.secrets
    incidents = [redacted(i, secrets) for i in data.incidents]
    if live is not None:
        live = replace(live, reason=redact(live.reason, secrets))
    probes_24h = [r for r in data.hours if r.source is not Source.STATUSPAGE]
    probes_30d = [r for r in data.days if r.source is not Source.STATUSPAGE]
    totals: dict[Outcome, int] = {}
    for r in probes_24h:
        for o, n in r.outcomes.items():
            totals[o] = totals.get(o, 0) + n
    canary = None
    if channel.probes.canary is not None:
        canary = canary_stats(data.runs, today_spend(data.runs, now))
    ups = uptime_windows(segments, now)
    return ChannelCard(
        channel=channel,
        live=live or live_from_timeline(segments),
        uptime=ups,
        stars=stars(ups.get("30d")),
        days=daily_bars(segments, DAYS, now),
        day_incidents=incidents_by_day(incidents, now),
        latency_24h=hourly_latency(probes_24h, hour0, 24),
        p50_24h_ms=latency_percentile(probes_24h, 0.5),
        p95_24h_ms=latency_percentile(probes_24h, 0.95),
        p50_30d_ms=latency_percentile(probes_30d, 0.5),
        p95_30d_ms=latency_percentile(probes_30d, 0.95),
        success_rate_24h=success_rate(totals),
        risk_control_per_week=risk_control_entries(segments, now - timedelta(weeks=RC_WEEKS))
        / RC_WEEKS,
        incidents=incidents,
        canary=canary,
        built_at=now,
        produces=provider_class(channel.protocol).produces,
    )


LiveSource = Callable[[], dict[str, LiveStatus]]
BULK_FROM = 8  # more cards than this to rebuild: one bulk query per table instead of per card


class BoardCache:
    """Keeps a ``Board`` current.

    A channel's card is rebuilt within a second of a status change (``touch``, called by the
    monitor in the same process), from its timeline, incidents and measures. Every card is
    rebuilt once per ``refresh_s`` with fresh measures (rollups, canary runs: what moves without
    a status change) and the timeline it already holds, since uptime and day bars are recomputed
    for the new time from it; timelines and incidents are read again for every channel once per
    ``HISTORY_EVERY`` refreshes, in case another process recorded a change. Each rebuild takes
    the monitor's live word (status, last latency) at that moment.

    Maintenance windows (``maintenance``) are kept next to the board, not in it: they change
    state on the clock, not when a card does."""

    HISTORY_EVERY = 10

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        live: LiveSource | None = None,
        refresh_s: float = 60.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.store = store
        self.live = live
        self.refresh_s = refresh_s
        self.now = now
        self.cards: dict[str, ChannelCard] = {}
        self.data: dict[str, CardData] = {}
        self.dirty: set[str] = {ch.id for ch in config.channels}
        self.version = 0
        self._board: Board | None = None
        self._wake = asyncio.Event()
        self.maintenance = MaintenanceBook(config, store, now=now)

    def touch(self, channel_id: str) -> None:
        """A channel changed: rebuild its card soon."""
        self.dirty.add(channel_id)
        self._wake.set()

    async def rebuild(self, ids: Iterable[str] | None = None, *, history: bool = True) -> None:
        """Rebuild the given cards (default: the dirty ones). With ``history`` their timelines
        and incidents are read again, else only their measures."""
        now = self.now()
        todo = set(self.dirty if ids is None else ids)
        if history:
            self.dirty -= todo  # a touched card waits for a rebuild that reads its history
        channels = [ch for ch in self.config.channels if ch.id in todo]
        if len(channels) > BULK_FROM or not history:
            fresh = await fetch_all(self.store, now, history)
            for ch in channels:
                got = fresh.get(ch.id) or CardData()
                if not history and ch.id in self.data:
                    kept = self.data[ch.id]
                    got.segments, got.incidents = kept.segments, kept.incidents
                self.data[ch.id] = got
        else:
            for ch in channels:
                self.data[ch.id] = await fetch_one(self.store, ch, now)
        lives = self.live() if self.live else {}
        for i, ch in enumerate(channels):
            self.cards[ch.id] = build_card(ch, self.data[ch.id], now, lives.get(ch.id))
            if i % 50 == 49:
                await asyncio.sleep(0)  # let requests in during a large rebuild
        self.version += 1
        self._board = None

    def board(self) -> Board:
        """The current board (rebuilt only when a card was)."""
        if self._board is None:
            cards = [self.cards[ch.id] for ch in self.config.channels if ch.id in self.cards]
            self._board = Board(self.now(), cards, self.version)
        return self._board

    async def run(self) -> None:
        """Rebuild touched cards within a second, and every card once per ``refresh_s``."""
        await self.rebuild()
        every = [ch.id for ch in self.config.channels]
        last, refreshes = self.now(), 0
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._wake.wait()
            self._wake.clear()
            # Read in the background too, so a request seldom waits for the store.
            await self.maintenance.refresh()
            if self.dirty:
                await self.rebuild()
            if (self.now() - last).total_seconds() >= self.refresh_s:
                last, refreshes = self.now(), refreshes + 1
                history = refreshes % self.HISTORY_EVERY == 0
                await self.rebuild(every, history=history)
