"""The ``sorawatch`` command line.

Exit codes: 0 success (``check``: every checked channel operational), 1 a checked channel is not
operational, 2 a configuration or usage error, 3 a runtime problem such as an unreachable store.
Expected problems print one clear line, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
import tempfile
from datetime import timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from sorawatch.app import make_client, opened_store
from sorawatch.check import CheckResult, check_once
from sorawatch.cli_alerts import alerts_app, maintenance_app
from sorawatch.cliutil import ConfigOpt, out
from sorawatch.cliutil import fail as _fail
from sorawatch.cliutil import load as _load
from sorawatch.cliutil import run_async as _run
from sorawatch.config import Config, parse_config, parse_duration
from sorawatch.domain.stability import star_text
from sorawatch.domain.status import Status
from sorawatch.errors import ConfigError
from sorawatch.monitor import Monitor, utcnow
from sorawatch.report import history, history_csv, history_json
from sorawatch.store.base import OutboxMessage, Store

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
config_app = typer.Typer(no_args_is_help=True, help="Work with configuration files.")
app.add_typer(config_app, name="config")
app.add_typer(alerts_app, name="alerts")
app.add_typer(maintenance_app, name="maintenance")


class CheckFormat(StrEnum):
    table = "table"
    json = "json"


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


# --- check -----------------------------------------------------------------------------------


def _results_table(results: list[CheckResult]) -> Table:
    table = Table(title="sorawatch check")
    for col in ("", "channel", "status", "latency", "outcome", "detail"):
        table.add_column(col, justify="right" if col == "latency" else "left")
    for r in results:
        lat = r.observation.latency_ms
        table.add_row(
            r.status.icon,
            r.channel.name,
            r.status.value,
            "—" if lat is None else f"{lat:,.0f} ms",
            r.observation.outcome.value,
            r.observation.detail,
        )
    return table


@app.command()
def check(
    config: ConfigOpt,
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="Only this channel id (repeatable).")
    ] = None,
    fmt: Annotated[CheckFormat, typer.Option("--format", help="table or json.")] = (
        CheckFormat.table
    ),
) -> None:
    """Probe each channel once and print what it is now."""
    cfg = _load(config)
    for cid in channel or []:
        try:
            cfg.channel(cid)
        except ConfigError as exc:
            _fail(str(exc), 2)

    async def go() -> list[CheckResult]:
        async with make_client(cfg.monitor.concurrency) as client:
            return await check_once(cfg, client, channel)

    checked_at = utcnow()
    results = _run(go())
    if fmt is CheckFormat.json:
        doc = {"checked_at": checked_at.isoformat(), "channels": [r.as_json() for r in results]}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    else:
        out.print(_results_table(results))
    raise typer.Exit(0 if all(r.status is Status.OPERATIONAL for r in results) else 1)


# --- run -------------------------------------------------------------------------------------


async def _monitor(cfg: Config, live: bool, instance: str | None = None) -> None:
    """Run everything ``run`` runs. ``instance`` names this process in the alerts lease: the
    same instance restarted (after a crash too) takes its lease back at once."""
    from sorawatch.tui import live_table

    async with opened_store(cfg) as store, make_client(cfg.monitor.concurrency) as client:
        monitor = Monitor(cfg, store, client)
        tasks = []
        if cfg.alerts.notifiers:
            # Started before the monitor, so the alerts see its first change.
            tasks += await start_alerts(cfg, store, monitor, echo=not live, instance=instance)
        tasks.append(asyncio.create_task(monitor.run(), name="monitor"))
        if cfg.web.enabled:
            from sorawatch.web import WebService

            web = WebService(cfg, store, monitor)
            tasks.append(asyncio.create_task(web.run(), name="web"))
            out.print(f"status page on {web.url}/", highlight=False)
        if live:
            tasks.append(asyncio.create_task(live_table(monitor, utcnow(), out), name="tui"))
        else:
            monitor.listeners.append(
                lambda c: out.print(
                    f"{c.at:%Y-%m-%d %H:%M:%S} {c.new.icon} {c.channel_id}: "
                    f"{c.old.value} → {c.new.value} ({c.reason})",
                    highlight=False,
                )
            )
        await _until_stopped(tasks)


async def start_alerts(
    cfg: Config, store: Store, monitor: Monitor, echo: bool = False, instance: str | None = None
) -> list[asyncio.Task[None]]:
    """The alert service and the outbox deliverer, woken by every status change; with ``echo``
    every delivery attempt is printed."""
    from sorawatch.alerts.deliver import Deliverer
    from sorawatch.alerts.lease import Lease
    from sorawatch.alerts.send import AppriseSender
    from sorawatch.alerts.service import AlertService

    lease = Lease(store, holder=instance)  # several processes on one database: one alerts
    sender = AppriseSender(cfg.alerts.notifiers, cfg.alerts.delivery.timeout)
    deliverer = Deliverer(
        store, sender, cfg.alerts.delivery, on_result=_echo if echo else None, lease=lease
    )
    service = AlertService(
        cfg,
        store,
        sunsets=lambda: monitor.sunsets,
        windows=monitor.windows,
        on_outbox=deliverer.wake.set,
        lease=lease,
    )
    await monitor.read_windows()  # the service takes the monitor's windows from the start
    await service.leading()  # loads its state now, before the monitor records a change
    monitor.listeners.append(lambda _change: service.wake.set())
    return [
        asyncio.create_task(service.run(), name="alerts"),
        asyncio.create_task(deliverer.run(), name="alert-delivery"),
    ]


def _echo(message: OutboxMessage, error: str | None) -> None:
    result = "delivered" if error is None else f"not delivered ({error})"
    out.print(f"  alert to {message.notifier}: {message.title} — {result}", highlight=False)


async def _until_stopped(tasks: list[asyncio.Task[None]]) -> None:
    """Wait for the first task to end (or SIGINT/SIGTERM), then cancel and await the rest."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in [*tasks, stopper]:
            t.cancel()
        results = await asyncio.gather(*tasks, stopper, return_exceptions=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
            raise r


@app.command()
def run(
    config: ConfigOpt,
    live: Annotated[
        bool | None,
        typer.Option("--live/--no-live", help="Live table (default: when on a terminal)."),
    ] = None,
) -> None:
    """Run the monitor continuously, storing everything (SQLite by default)."""
    cfg = _load(config)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    instance = f"{socket.gethostname()}:{config.resolve()}"
    _run(_monitor(cfg, sys.stdout.isatty() if live is None else live, instance))


# --- config ----------------------------------------------------------------------------------


@config_app.command("validate")
def config_validate(file: Annotated[Path, typer.Argument(help="Config file to validate.")]) -> None:
    """Report every error with its key path; exit 2 when there is any."""
    cfg = _load(file)
    out.print(
        f"[green]ok[/green]: {file}: {len(cfg.channels)} channel(s), "
        f"{len(cfg.status_pages)} status page(s), {len(cfg.alerts.notifiers)} notifier(s), "
        f"{len(cfg.maintenance)} maintenance window(s), storage {cfg.storage.url.split(':', 1)[0]}",
        highlight=False,
    )


# --- history / export ------------------------------------------------------------------------


def _since(text: str) -> timedelta:
    try:
        return timedelta(seconds=parse_duration(text))
    except ValueError as exc:
        _fail(f"--since: {exc}", 2)


@app.command("history")
def history_cmd(
    config: ConfigOpt,
    channel: Annotated[str | None, typer.Option("--channel", help="Only this channel.")] = None,
    since: Annotated[str, typer.Option("--since", help="How far back: 24h, 7d, 90d…")] = "24h",
    fmt: Annotated[CheckFormat, typer.Option("--format")] = CheckFormat.table,
) -> None:
    """Print the status timeline, incidents and uptime (24 h, 7 d, 30 d, 90 d) per channel."""
    cfg = _load(config)
    back = _since(since)
    if channel:
        try:
            cfg.channel(channel)
        except ConfigError as exc:
            _fail(str(exc), 2)
    now = utcnow()

    async def go() -> Any:
        async with opened_store(cfg) as store:
            return await history(store, cfg, now - back, now, channel)

    items = _run(go())
    if fmt is CheckFormat.json:
        sys.stdout.write(json.dumps(history_json(items, now), ensure_ascii=False, indent=2) + "\n")
        return
    for h in items:
        ups = "  ".join(
            f"{k} {'—' if v is None else f'{v * 100:.2f}%'}" for k, v in h.uptime.items()
        )
        rate = "—" if h.success_rate_24h is None else f"{h.success_rate_24h * 100:.1f}%"
        out.print(
            f"\n{h.status.icon} [bold]{h.channel.name}[/bold] ({h.channel.id}) "
            f"{star_text(h.stars)}  {ups}\n  success 24h {rate}, "
            f"risk-control entries/week {h.risk_control_per_week:.2f}",
            highlight=False,
        )
        if not h.timeline:
            out.print("  no status recorded in this period yet")
            continue
        table = Table(show_header=True, box=None, pad_edge=False)
        for col in ("from", "to", "status"):
            table.add_column(col)
        for s in h.timeline:
            end = f"{s.end:%Y-%m-%d %H:%M:%S}" if s.end else "now"
            table.add_row(f"{s.start:%Y-%m-%d %H:%M:%S}", end, f"{s.status.icon} {s.status}")
        out.print(table)
        for i in h.incidents:
            end = f"{i.ended_at:%Y-%m-%d %H:%M:%S}" if i.ended_at else "open"
            out.print(
                f"  incident {i.id}: {i.started_at:%Y-%m-%d %H:%M:%S} → {end}, "
                f"worst {i.worst}, cause: {i.cause}",
                highlight=False,
            )


@app.command()
def export(
    config: ConfigOpt,
    fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.json,
    since: Annotated[str, typer.Option("--since")] = "90d",
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Export timelines, incidents and uptime of every channel as JSON or CSV."""
    cfg = _load(config)
    back = _since(since)
    now = utcnow()

    async def go() -> Any:
        async with opened_store(cfg) as store:
            return await history(store, cfg, now - back, now)

    items = _run(go())
    text = (
        json.dumps(history_json(items, now), ensure_ascii=False, indent=2) + "\n"
        if fmt is ExportFormat.json
        else history_csv(items)
    )
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


# --- simulator and demo ----------------------------------------------------------------------


@app.command()
def simulate(
    scenario: Annotated[
        str, typer.Option("--scenario", help="Builtin name or YAML file.")
    ] = "demo",
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 18765,
) -> None:
    """Run the upstream simulator alone, for your own tools."""
    from sorawatch.simulator import Simulator, load_scenario

    async def go() -> None:
        sim = Simulator(load_scenario(scenario))
        async with sim.serve(host=host, port=port) as running:
            urls = sim.urls()
            out.print(f"simulator '{sim.scenario.name}' on {running.url}  (Ctrl-C to stop)")
            shown = list(urls.channels.items())
            for cid, url in shown[:20]:
                out.print(f"  {cid}: {url}", highlight=False)
            if len(shown) > 20:
                out.print(f"  … and {len(shown) - 20} more channels", highlight=False)
            for page, url in urls.status_pages.items():
                out.print(f"  status page {page}: {url}", highlight=False)
            out.print(f"  control: {urls.control}", highlight=False)
            await _until_stopped([asyncio.create_task(_forever())])

    _run(go())


async def _forever() -> None:
    await asyncio.Event().wait()


def demo_config_text() -> str:
    return resources.files("sorawatch").joinpath("demo.yaml").read_text(encoding="utf-8")


@app.command()
def demo(
    port: Annotated[int, typer.Option("--port", help="Simulator port.")] = 18765,
    db: Annotated[
        Path | None, typer.Option("--db", help="SQLite file (default: a temporary one).")
    ] = None,
) -> None:
    """Start the simulator and watch it with the demo config, in a live table."""
    from sorawatch.simulator import Simulator, load_scenario

    async def go(db_path: Path) -> None:
        sim = Simulator(load_scenario("demo"))
        async with sim.serve(host="127.0.0.1", port=port) as running:
            env = dict(
                os.environ,
                SORAWATCH_SIM=running.url,
                SORAWATCH_SIM_HOST=running.url.removeprefix("http://"),
                SORAWATCH_DEMO_DB=str(db_path),
            )
            cfg = parse_config(demo_config_text(), "demo.yaml", env)
            out.print(f"simulator on {running.url}; storing in {db_path}", highlight=False)
            await _monitor(cfg, live=True, instance=f"{socket.gethostname()}:demo:{db_path}")

    logging.basicConfig(level=logging.ERROR)
    if db is not None:
        _run(go(db))
        return
    with tempfile.TemporaryDirectory(prefix="sorawatch-demo-") as tmp:
        _run(go(Path(tmp) / "demo.db"))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
