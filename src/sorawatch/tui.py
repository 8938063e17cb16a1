"""The live terminal table (``sorawatch run`` on a terminal, ``sorawatch demo``)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

from rich.console import Console
from rich.live import Live
from rich.table import Table

from sorawatch.domain.stability import star_text, stars
from sorawatch.domain.status import Status
from sorawatch.domain.uptime import uptime
from sorawatch.monitor import ChannelView, Monitor
from sorawatch.store.base import CanaryRun, CanaryState, DeliveryState

_STYLE = {
    Status.OPERATIONAL: "green",
    Status.DEGRADED: "yellow",
    Status.RISK_CONTROL: "yellow",
    Status.SUSPENDED: "red",
    Status.MAINTENANCE: "cyan",
    Status.RETIRED: "bright_black",
    Status.UNKNOWN: "white",
}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _latency(view: ChannelView) -> str:
    if view.last is None or view.last.latency_ms is None:
        return "—"
    return f"{view.last.latency_ms:,.0f} ms"


def _pass_rate(view: ChannelView) -> str:
    """Under risk control, how many attempts still pass: the number a reverse channel lives by."""
    if view.status is not Status.RISK_CONTROL or view.success is None:
        return ""
    return f" ({view.success:.0%} pass)"


def _canary(run: CanaryRun | None) -> str:
    if run is None:
        return ""
    if run.final_state is CanaryState.SKIPPED_BUDGET:
        return "skipped: budget"
    took = f" {run.total_ms / 1000:.1f}s" if run.total_ms is not None else ""
    return f"{run.final_state.value}{took} ${run.cost_usd:.2f}"


def status_table(
    views: list[ChannelView],
    uptimes: dict[str, float | None],
    title: str = "sorawatch",
    canaries: dict[str, CanaryRun] | None = None,
    caption: str | None = None,
    rated: dict[str, int | None] | None = None,
) -> Table:
    canaries = canaries or {}
    table = Table(title=title, caption=caption, expand=False)
    table.add_column("", width=2)
    table.add_column("channel")
    table.add_column("access")
    table.add_column("stability")
    table.add_column("status")
    table.add_column("latency", justify="right")
    table.add_column("last outcome (why)")
    table.add_column("uptime so far", justify="right")
    if canaries:
        table.add_column("last canary")
    for v in views:
        style = _STYLE[v.status]
        last = v.last.outcome.value if v.last else "—"
        if v.last and v.last.detail and not v.last.outcome.is_good:
            last = f"{last}: {v.last.detail}"
        recovering_or_vendor = v.last is None or v.last.outcome.is_good
        if v.status is not Status.OPERATIONAL and v.reason and recovering_or_vendor:
            last = f"{last} ({v.reason})"
        last = last[:70]
        row = [
            v.status.icon,
            v.channel.name + (f" ⚠ sunset {v.sunset:%Y-%m-%d}" if v.sunset else ""),
            v.channel.access.value,
            star_text((rated or {}).get(v.channel.id)),
            f"[{style}]{v.status.value}[/{style}]" + _pass_rate(v),
            _latency(v),
            last,
            _pct(uptimes.get(v.channel.id)),
        ]
        if canaries:
            row.append(_canary(canaries.get(v.channel.id)))
        table.add_row(*row)
    return table


async def uptimes_since(
    monitor: Monitor, since: datetime, now: datetime
) -> tuple[dict[str, float | None], dict[str, int | None]]:
    """Uptime since ``since`` and stars (from 30 days) per channel, one timeline read each."""
    month = now - timedelta(days=30)
    ups: dict[str, float | None] = {}
    rated: dict[str, int | None] = {}
    for ch in monitor.config.channels:
        segments = await monitor.store.timeline(ch.id, min(since, month), now)
        ups[ch.id] = uptime(segments, since, now)
        rated[ch.id] = stars(uptime(segments, month, now))
    return ups, rated


async def canary_summary(monitor: Monitor, now: datetime) -> tuple[dict[str, CanaryRun], float]:
    """The last canary run of each channel that has canaries, and today's total spend."""
    last: dict[str, CanaryRun] = {}
    for ch in monitor.config.channels:
        if ch.probes.canary is not None:
            runs = await monitor.store.canary_runs(ch.id, limit=1, newest_first=True)
            if runs:
                last[ch.id] = runs[0]
    spent = await monitor.store.spend(now) if last else 0.0
    return last, spent


async def alert_summary(monitor: Monitor) -> str | None:
    """The outbox at a glance: delivered and pending counts (of the last 200) and the latest."""
    if not monitor.config.alerts.notifiers:
        return None
    recent = await monitor.store.messages(limit=200)
    if not recent:
        return "alerts: none yet"
    counts = Counter(m.state for m in recent)
    pending = counts[DeliveryState.PENDING]
    text = f"alerts: {counts[DeliveryState.DELIVERED]} delivered, {pending} pending"
    if counts[DeliveryState.FAILED]:
        text += f", {counts[DeliveryState.FAILED]} failed"
    return f"{text} · last: {recent[0].title}"


async def live_table(
    monitor: Monitor, started: datetime, console: Console, every: float = 1.0
) -> None:
    """Redraw the table until cancelled."""
    with Live(console=console, refresh_per_second=4, transient=False) as live:
        while True:
            now = monitor.now()
            ups, rated = await uptimes_since(monitor, started, now)
            canaries, spent = await canary_summary(monitor, now)
            title = f"sorawatch — {now:%Y-%m-%d %H:%M:%S} UTC — Ctrl-C to stop"
            parts = [f"canary spend today ${spent:.2f}" if canaries else None]
            parts.append(await alert_summary(monitor))
            caption = " · ".join(p for p in parts if p) or None
            table = status_table(monitor.views(), ups, title, canaries, caption, rated)
            live.update(table)
            await asyncio.sleep(every)
