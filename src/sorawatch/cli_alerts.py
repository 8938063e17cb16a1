"""``sorawatch alerts …`` and ``sorawatch maintenance …``."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from sorawatch.alerts import windows as maintenance
from sorawatch.alerts.config import NAME_PATTERN
from sorawatch.alerts.send import AppriseSender
from sorawatch.app import opened_store
from sorawatch.cliutil import ConfigOpt, fail, load, out, run_async
from sorawatch.config import Config, parse_duration
from sorawatch.store.base import DeliveryState, MaintenanceWindow, OutboxMessage

alerts_app = typer.Typer(no_args_is_help=True, help="Alert deliveries and notifier tests.")
maintenance_app = typer.Typer(
    no_args_is_help=True, help="Maintenance windows: alerts silenced, uptime not counted."
)


class Format(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[Format, typer.Option("--format", help="table or json.")]


def _when(t: datetime | None) -> str:
    return "" if t is None else f"{t:%Y-%m-%d %H:%M:%S}"


# --- alerts ----------------------------------------------------------------------------------


def message_json(m: OutboxMessage) -> dict[str, Any]:
    d = asdict(m)
    for key in ("created_at", "next_attempt_at", "delivered_at"):
        d[key] = None if d[key] is None else d[key].isoformat()
    d["state"] = m.state.value
    d["channels"] = list(m.channels)
    return d


@alerts_app.command("list")
def alerts_list(
    config: ConfigOpt,
    state: Annotated[
        DeliveryState | None, typer.Option(help="Only pending, delivered or failed.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    fmt: FormatOpt = Format.table,
) -> None:
    """Alert messages from the outbox, newest first: where each went, how many attempts."""
    cfg = load(config)

    async def read() -> list[OutboxMessage]:
        async with opened_store(cfg) as store:
            return await store.messages(state=state, limit=limit)

    messages = run_async(read())
    if fmt is Format.json:
        out.print_json(json.dumps([message_json(m) for m in messages]))
        return
    table = Table("created (UTC)", "alert", "notifier", "state", "tries", "title", "last error")
    for m in messages:
        colour = {"delivered": "green", "failed": "red"}.get(m.state.value, "yellow")
        table.add_row(
            _when(m.created_at),
            m.alert_id[:12],
            m.notifier,
            f"[{colour}]{m.state.value}[/{colour}]",
            str(m.attempts),
            m.title,
            m.last_error,
        )
    out.print(table if messages else "no alerts yet")


@alerts_app.command("test")
def alerts_test(
    config: ConfigOpt,
    route: Annotated[str | None, typer.Option(help="Only the notifiers of this route.")] = None,
) -> None:
    """Send a test message through each configured notifier; exit 1 if any failed."""
    cfg = load(config)
    names = _notifiers_of(cfg, route)
    sender = AppriseSender(cfg.alerts.notifiers, cfg.alerts.delivery.timeout)
    title = "sorawatch test alert"
    body = (
        f"A test from sorawatch at {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC: if you read "
        "this, alerts reach you here."
    )

    async def send_all() -> list[str | None]:
        import asyncio

        return list(await asyncio.gather(*(sender.send(n, title, body, "info") for n in names)))

    results = run_async(send_all())
    table = Table("notifier", "result")
    for name, error in zip(names, results, strict=True):
        table.add_row(name, "[green]sent[/green]" if error is None else f"[red]{error}[/red]")
    out.print(table)
    if any(e is not None for e in results):
        raise typer.Exit(1)


def _notifiers_of(cfg: Config, route: str | None) -> list[str]:
    if not cfg.alerts.notifiers:
        fail("no notifiers under alerts.notifiers in the config", 2)
    if route is None:
        return list(cfg.alerts.notifiers)
    for r in cfg.alerts.effective_routes:
        if r.name == route:
            return list(r.notifiers)
    known = ", ".join(r.name for r in cfg.alerts.effective_routes) or "none"
    fail(f"no route named {route!r} (routes: {known})", 2)


# --- maintenance -----------------------------------------------------------------------------


def _time(text: str, what: str) -> datetime:
    if text == "now":
        return datetime.now(UTC)
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{what}: expected an ISO time such as 2026-11-24T02:00:00Z or 'now'", 2)
    if t.tzinfo is None:
        fail(f"{what}: give a time zone, e.g. 2026-11-24T02:00:00Z", 2)
    return t.astimezone(UTC)


def _duration(text: str, what: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        fail(f"{what}: {exc}", 2)


@maintenance_app.command("add")
def maintenance_add(
    config: ConfigOpt,
    name: Annotated[str, typer.Option(help="What to call the window.")],
    channel: Annotated[list[str] | None, typer.Option(help="A channel it covers.")] = None,
    group: Annotated[list[str] | None, typer.Option(help="A group it covers.")] = None,
    start: Annotated[str, typer.Option(help="ISO time with zone, or 'now'.")] = "now",
    duration: Annotated[str | None, typer.Option(help="How long, e.g. 2h.")] = None,
    end: Annotated[str | None, typer.Option(help="ISO time with zone.")] = None,
    every: Annotated[str | None, typer.Option(help="Repeat every, e.g. 7d.")] = None,
    reason: Annotated[str, typer.Option(help="Shown on the status page.")] = "",
) -> None:
    """Add a maintenance window (one-off, or recurring with --every)."""
    cfg = load(config)
    if not re.match(NAME_PATTERN, name):
        fail(f"--name {name!r}: use letters, digits, _ . - (up to 63)", 2)
    channels, groups = channel or [], group or []
    unknown = [c for c in channels if c not in {ch.id for ch in cfg.channels}]
    unknown += [g for g in groups if g not in {ch.group for ch in cfg.channels}]
    if not channels and not groups:
        fail("name the channels (--channel) or groups (--group) the window covers", 2)
    if unknown:
        fail(f"not in the config: {', '.join(unknown)}", 2)
    begins = _time(start, "--start")
    if (duration is None) == (end is None):
        fail("give exactly one of --duration and --end", 2)
    if duration is not None:
        ends = begins + timedelta(seconds=_duration(duration, "--duration"))
    else:
        ends = _time(end or "", "--end")
    if ends <= begins:
        fail("the window must end after it starts", 2)
    every_s = None if every is None else _duration(every, "--every")
    if every_s is not None and every_s < (ends - begins).total_seconds():
        fail("--every must be at least the window's length", 2)
    window = MaintenanceWindow(name, begins, ends, tuple(channels), tuple(groups), every_s, reason)

    async def add() -> MaintenanceWindow:
        async with opened_store(cfg) as store:
            return await store.add_window(window)

    stored = run_async(add())
    out.print(f"added maintenance window {stored.id} ({name}): {_when(begins)} → {_when(ends)} UTC")


def _window_row(w: MaintenanceWindow, now: datetime) -> dict[str, Any]:
    state, span = maintenance.state_at(w, now)
    return {
        "id": w.id,
        "name": w.name,
        "source": "config" if w.id is None else "cli",
        "state": state,
        "start": span[0].isoformat() if span else None,
        "end": span[1].isoformat() if span else None,
        "every_s": w.every_s,
        "channels": list(w.channels),
        "groups": list(w.groups),
        "reason": w.reason,
    }


@maintenance_app.command("list")
def maintenance_list(config: ConfigOpt, fmt: FormatOpt = Format.table) -> None:
    """Every maintenance window, from the config and added ones, with its next occurrence."""
    cfg = load(config)

    async def read() -> list[MaintenanceWindow]:
        async with opened_store(cfg) as store:
            return await store.windows()

    now = datetime.now(UTC)
    every = cfg.maintenance_windows + run_async(read())
    rows = [_window_row(w, now) for w in every]
    if fmt is Format.json:
        out.print_json(json.dumps(rows))
        return
    table = Table("id", "name", "state", "start (UTC)", "end (UTC)", "repeats", "covers", "reason")
    for r in rows:
        table.add_row(
            str(r["id"] or "config"),
            r["name"],
            r["state"],
            (r["start"] or "")[:19].replace("T", " "),
            (r["end"] or "")[:19].replace("T", " "),
            "" if r["every_s"] is None else f"every {r['every_s'] / 3600:g} h",
            ", ".join(r["channels"] + [f"group {g}" for g in r["groups"]]),
            r["reason"],
        )
    out.print(table if rows else "no maintenance windows")


@maintenance_app.command("end")
def maintenance_end(
    config: ConfigOpt,
    window_id: Annotated[int, typer.Argument(help="The id `maintenance list` shows.")],
) -> None:
    """End an added window now (a recurring one does not come back)."""
    cfg = load(config)

    async def end() -> MaintenanceWindow:
        async with opened_store(cfg) as store:
            return await store.end_window(window_id, datetime.now(UTC))

    w = run_async(end())
    out.print(f"maintenance window {w.id} ({w.name}) ended at {_when(w.ended_at)} UTC")
