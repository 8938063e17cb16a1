"""Alerts and maintenance windows end to end, as a user runs them: real ``sorawatch`` processes,
the simulator, a webhook and an SMTP server, all on loopback."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.helpers import channel_yaml, cli, config_yaml, running_sim, start_run
from tests.receivers import Webhook, alert_id, free_port, smtp_server, webhook

from sorawatch.serving import Listener
from sorawatch.simulator import Simulator
from sorawatch.store import open_store
from sorawatch.store.base import DeliveryState, OutboxMessage, Store

SCENARIO = """
name: cli-alerts
channels:
  alpha: {protocol: openai-videos, models: [sora-2], latency_ms: 1}
  beta: {protocol: openai-videos, models: [sora-2], latency_ms: 1}
"""
TEST_TITLE = "sorawatch test alert"
FIELDS = {"alert_id", "notifier", "route", "state", "attempts", "title", "body", "created_at"}
NIGHTLY = (
    "maintenance:\n"
    '  - {name: nightly, channels: [alpha], start: "2026-01-01T00:00:00Z", duration: 1h,'
    " every: 1d}\n"
)


# --- helpers ---------------------------------------------------------------------------------


@asynccontextmanager
async def sorawatch_run(cfg: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """``sorawatch run --no-live`` in the background; killed on the way out if still running
    (a test stops it with ``stop_run`` to check its exit)."""
    proc = await start_run(cfg)
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()


async def stop_run(proc: asyncio.subprocess.Process) -> str:
    """SIGINT, as Ctrl-C would: a clean exit 0 without a traceback. Returns stdout."""
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    text = err.decode()
    assert proc.returncode == 0, text
    assert "Traceback" not in text
    return out.decode()


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


async def outbox(store: Store) -> list[OutboxMessage]:
    """The outbox as the running process left it (empty while the database is not there yet)."""
    try:
        await store.open()
        return await store.messages(limit=1000)
    except Exception:
        return []


def one_line_error(code: int, err: str, expected_code: int, *needles: str) -> None:
    assert code == expected_code, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error:"), err
    for needle in needles:
        assert needle in lines[0], err


def row(table: str, name: str) -> str:
    """The line of a printed table with ``name`` in a cell of its own."""
    found = [line for line in table.splitlines() if f" {name} " in line]
    assert len(found) == 1, table
    return found[0]


def write_config(tmp_path: Path, sim: Simulator, alerts: str = "", extra: str = "") -> Path:
    """Channels alpha and beta (light probes every 0.2 s), no web, plus the given sections."""
    path = tmp_path / "sorawatch.yaml"
    db = f"sqlite:///{tmp_path / 'sw.db'}"
    chans = [channel_yaml(sim, "alpha", every="0.2s"), channel_yaml(sim, "beta", every="0.2s")]
    path.write_text(alerts + extra + config_yaml(sim, db, chans, web=""), encoding="utf-8")
    return path


def alerts_yaml(notifiers: dict[str, str], routes: list[str]) -> str:
    lines = ["alerts:", "  notifiers:"]
    lines += [f'    {name}: {{url: "{url}"}}' for name, url in notifiers.items()]
    if routes:
        lines.append("  routes:")
        lines += [f"    - {r}" for r in routes]
    lines.append("  delivery: {retry_initial: 0.2s, retry_max: 1s, timeout: 10s}")
    return "\n".join(lines) + "\n"


@dataclass
class SlowWebhook(Webhook):
    """A webhook that also records each post as it *starts* (before ``delay_s``), so a test
    can act while a delivery is in flight."""

    started: list[dict[str, Any]] = field(default_factory=list)

    async def hook(self, request: Request) -> JSONResponse:
        self.started.append(await request.json())  # Starlette keeps the parsed body
        return await super().hook(request)


@asynccontextmanager
async def slow_webhook() -> AsyncIterator[SlowWebhook]:
    hook = SlowWebhook()
    app = Starlette(routes=[Route("/hook", hook.hook, methods=["POST"])])
    hook.listener = Listener(app, "127.0.0.1", 0)
    await hook.listener.open()
    try:
        yield hook
    finally:
        await hook.listener.close(reserve=False)


# --- sorawatch alerts test -------------------------------------------------------------------


async def test_alerts_test_sends_through_every_notifier_and_names_the_failing_one(
    tmp_path: Path,
) -> None:
    async with (
        running_sim(tmp_path, SCENARIO) as sim,
        webhook() as hook,
        smtp_server() as mailbox,
    ):
        cfg = write_config(
            tmp_path,
            sim,
            alerts_yaml(
                {"hook": hook.url, "mail": mailbox.url()},
                ["{name: ops, notifiers: [hook]}", "{name: mailroom, notifiers: [mail]}"],
            ),
        )

        code, out, err = await cli("alerts", "test", "-c", str(cfg))
        assert code == 0, out + err
        assert "sent" in row(out, "hook") and "sent" in row(out, "mail")
        assert hook.titles() == [TEST_TITLE]
        assert "alerts reach you here" in hook.received[0]["message"]
        assert [m["Subject"] for m in mailbox.messages] == [TEST_TITLE]

        # --route: only that route's notifiers
        code, out, err = await cli("alerts", "test", "-c", str(cfg), "--route", "mailroom")
        assert code == 0, out + err
        assert " mail " in out and " hook " not in out
        assert len(mailbox.messages) == 2
        assert len(hook.received) == 1

        # the webhook off the network: exit 1, the table names it with the error
        assert hook.listener is not None
        await hook.listener.close()
        everything, only_ops, unknown = await asyncio.gather(
            cli("alerts", "test", "-c", str(cfg)),
            cli("alerts", "test", "-c", str(cfg), "--route", "ops"),
            cli("alerts", "test", "-c", str(cfg), "--route", "nope"),
        )
        code, out, err = everything
        assert code == 1, out + err
        assert "Traceback" not in err
        assert "sent" not in row(out, "hook") and "error" in row(out, "hook").lower()
        assert "sent" in row(out, "mail")
        assert len(mailbox.messages) == 3

        code, out, err = only_ops
        assert code == 1, out + err
        assert " hook " in out and " mail " not in out

        code, out, err = unknown
        one_line_error(code, err, 2, "no route named 'nope'", "ops", "mailroom")
        assert out == ""


async def test_alerts_test_without_notifiers_is_a_usage_error(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim:
        cfg = write_config(tmp_path, sim)
        code, _, err = await cli("alerts", "test", "-c", str(cfg))
    one_line_error(code, err, 2, "no notifiers under alerts.notifiers")


# --- sorawatch maintenance -------------------------------------------------------------------


async def test_maintenance_add_list_end_and_clear_errors(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim:
        cfg = write_config(tmp_path, sim, extra=NIGHTLY)
        c = ("-c", str(cfg))

        code, out, err = await cli(
            "maintenance", "add", *c, "--name", "x", "--channel", "alpha", "--duration", "1h"
        )
        assert code == 0, err
        m = re.search(r"^added maintenance window (\d+) \(x\): ", out)
        assert m, out
        x_id = int(m.group(1))

        # Bad input fails before the store is touched, so these run side by side with an add.
        add = ("maintenance", "add", *c, "--name", "y")
        add_later = (
            "maintenance", "add", *c, "--name", "later", "--group", "Test", "--start",
            "2099-01-01T00:00:00Z", "--end", "2099-01-01T02:00:00+00:00", "--reason", "upgrade",
        )  # fmt: skip
        later, *bad = await asyncio.gather(
            cli(*add_later),
            cli(*add, "--channel", "gamma", "--duration", "1h"),
            cli(*add, "--duration", "1h"),
            cli(*add, "--channel", "alpha", "--duration", "1h", "--end", "2099-01-01T00:00:00Z"),
            cli(*add, "--channel", "alpha"),
            cli(*add, "--channel", "alpha", "--start", "2099-01-01T00:00:00", "--duration", "1h"),
        )
        code, out, err = later
        assert code == 0, err
        m = re.search(r"^added maintenance window (\d+) \(later\): ", out)
        assert m, out
        assert int(m.group(1)) != x_id
        expected = [
            ["not in the config: gamma"],
            ["--channel", "--group"],
            ["exactly one of --duration and --end"],
            ["exactly one of --duration and --end"],
            ["--start", "time zone"],
        ]
        for (code, out, err), needles in zip(bad, expected, strict=True):
            one_line_error(code, err, 2, *needles)
            assert out == ""

        code, out, err = await cli("maintenance", "list", *c, "--format", "json")
        assert code == 0, err
        now = datetime.now(UTC)
        rows = {r["name"]: r for r in json.loads(out)}
        assert set(rows) == {"nightly", "x", "later"}  # the failed adds added nothing
        nightly = rows["nightly"]
        assert (nightly["id"], nightly["source"], nightly["every_s"]) == (None, "config", 86400.0)
        assert nightly["state"] == ("active" if now.hour == 0 else "upcoming")
        start, end = (datetime.fromisoformat(nightly[k]) for k in ("start", "end"))
        assert (end - start).total_seconds() == 3600 and (start.hour, start.minute) == (0, 0)
        assert end > now
        x = rows["x"]
        assert (x["id"], x["source"], x["state"]) == (x_id, "cli", "active")
        assert x["channels"] == ["alpha"]
        x_span = datetime.fromisoformat(x["end"]) - datetime.fromisoformat(x["start"])
        assert x_span.total_seconds() == 3600
        later_row = rows["later"]
        assert (later_row["state"], later_row["reason"]) == ("upcoming", "upgrade")
        assert later_row["groups"] == ["Test"]
        assert later_row["start"] == "2099-01-01T00:00:00+00:00"

        code, out, err = await cli("maintenance", "end", *c, str(x_id))
        assert code == 0, err
        assert f"maintenance window {x_id} (x) ended at" in out

        (code, out, err), (tcode, table, terr), unknown = await asyncio.gather(
            cli("maintenance", "list", *c, "--format", "json"),
            cli("maintenance", "list", *c),
            cli("maintenance", "end", *c, "999"),
        )
        assert code == 0, err
        states = {r["name"]: r["state"] for r in json.loads(out)}
        assert states == {"nightly": states["nightly"], "x": "ended", "later": "upcoming"}
        assert tcode == 0, terr
        x_line = next(line for line in table.splitlines() if " x " in line)
        assert "ended" in x_line and "alpha" in x_line
        assert "config" in table and "group Test" in table and "every 24 h" in table
        code, out, err = unknown  # a store error: exit 3, one line
        one_line_error(code, err, 3, "no maintenance window with id 999")
        assert out == ""


async def test_a_maintenance_window_silences_a_channel_until_it_is_ended(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, webhook() as hook:
        cfg = write_config(
            tmp_path,
            sim,
            alerts_yaml(
                {"hook": hook.url},
                ["{name: ops, notifiers: [hook], group_wait: 1s, group_by: channel}"],
            ),
        )
        code, out, err = await cli(
            "maintenance", "add", "-c", str(cfg), "--name", "upgrade", "--channel", "alpha",
            "--duration", "1h",
        )  # fmt: skip
        assert code == 0, err
        m = re.search(r"added maintenance window (\d+)", out)
        assert m, out
        sim.set_fault("alpha", "paused")
        sim.set_fault("beta", "paused")
        store = open_store(f"sqlite:///{tmp_path / 'sw.db'}")
        async with sorawatch_run(cfg) as proc:
            # beta, in no window, is alerted; alpha failed alike but is in its window. Its
            # alert, were there one, would come first (its only change is entering the window,
            # at start), so one message now means alpha was silenced.
            await hook.wait(1, timeout=30)
            assert [(msg.channels, msg.title) for msg in await outbox(store)] == [
                (("beta",), hook.titles()[0])
            ]
            assert "beta channel: operational → suspended" in hook.titles()[0]

            code, out, err = await cli("maintenance", "end", "-c", str(cfg), m.group(1))
            assert code == 0, err
            # still down when the window ends: that is news now
            await hook.wait(2, timeout=30)
            await stop_run(proc)
        await store.close()
    assert len(hook.received) == 2
    assert "alpha channel: operational → suspended" in hook.titles()[1]
    assert "maintenance window 'upgrade' ended" in hook.received[1]["message"]


# --- sorawatch run: delivery survives a kill -9 ----------------------------------------------


async def test_killed_during_delivery_then_restarted_loses_nothing(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, slow_webhook() as hook:
        cfg = write_config(
            tmp_path,
            sim,
            alerts_yaml({"hook": hook.url}, ["{name: ops, notifiers: [hook], group_wait: 1s}"]),
        )
        store = open_store(f"sqlite:///{tmp_path / 'sw.db'}")
        hook.delay_s = 3.0  # the delivery stays in flight that long
        async with sorawatch_run(cfg) as proc:

            async def alpha_operational() -> bool:
                try:
                    await store.open()
                    snaps = {s.channel_id: s.status.value for s in await store.snapshots()}
                except Exception:
                    return False
                return snaps.get("alpha") == "operational"

            await wait_for(alpha_operational)
            sim.set_fault("alpha", "paused")

            async def delivery_started() -> bool:
                return bool(hook.started)

            await wait_for(delivery_started)
            proc.send_signal(signal.SIGKILL)
            await proc.communicate()
        assert proc.returncode == -signal.SIGKILL

        # Killed before the notifier answered: the message is still pending, not lost.
        before = await outbox(store)
        assert [(m.notifier, m.state) for m in before] == [("hook", DeliveryState.PENDING)]
        ids = {m.alert_id for m in before}
        assert ids == {_id(hook.started[0])}
        assert "alpha channel" in before[0].title

        hook.delay_s = 0.0
        async with sorawatch_run(cfg) as proc:

            async def all_delivered() -> bool:
                got = await outbox(store)
                return bool(got) and all(m.state is DeliveryState.DELIVERED for m in got)

            await wait_for(all_delivered)
            await stop_run(proc)
        await store.close()

        # The post cut short by the kill is still taken by the receiver once its delay is over,
        # then the resend: the same id twice, as at-least-once allows (receivers deduplicate).
        await hook.wait(2)
        code, out, err = await cli("alerts", "list", "-c", str(cfg), "--format", "json")
        assert code == 0, err
        listed = json.loads(out)
        # one alert, delivered; nothing new made by the restart
        assert [(m["alert_id"], m["notifier"], m["state"]) for m in listed] == [
            (before[0].alert_id, "hook", "delivered")
        ]
        assert hook.ids() == [before[0].alert_id] * 2
        assert [_id(b) for b in hook.started] == [before[0].alert_id] * 2


def _id(body: dict[str, Any]) -> str:
    return alert_id(str(body["message"]))


# --- sorawatch alerts list -------------------------------------------------------------------


async def test_alerts_list_shows_delivered_and_pending_messages(tmp_path: Path) -> None:
    down = f"mailto://127.0.0.1:{free_port()}?from=sorawatch@example.com&to=ops@example.com"
    async with running_sim(tmp_path, SCENARIO) as sim, webhook() as hook:
        cfg = write_config(
            tmp_path,
            sim,
            alerts_yaml(
                {"hook": hook.url, "mail": down},
                ["{name: ops, notifiers: [hook, mail], group_wait: 1s}"],
            ),
        )
        sim.set_fault("beta", "paused")  # from the start: its first confirmed status is bad
        store = open_store(f"sqlite:///{tmp_path / 'sw.db'}")
        async with sorawatch_run(cfg) as proc:
            await hook.wait(1, timeout=30)

            async def mail_retried() -> bool:
                mail = [m for m in await outbox(store) if m.notifier == "mail"]
                return bool(mail) and mail[0].attempts >= 2

            await wait_for(mail_retried)
            printed = await stop_run(proc)
        await store.close()
        # `run --no-live` prints every delivery attempt
        assert "alert to hook: " in printed and " — delivered" in printed
        assert "alert to mail: " in printed and "— not delivered (" in printed

        c = ("-c", str(cfg))
        (code, out, err), (pcode, pout, perr), (tcode, table, terr) = await asyncio.gather(
            cli("alerts", "list", *c, "--format", "json"),
            cli("alerts", "list", *c, "--format", "json", "--state", "pending"),
            cli("alerts", "list", *c),
        )
    assert code == 0, err
    listed = json.loads(out)
    assert {m["notifier"]: m["state"] for m in listed} == {"hook": "delivered", "mail": "pending"}
    by = {m["notifier"]: m for m in listed}
    for m in listed:
        assert set(m) >= FIELDS
        assert re.fullmatch(r"[0-9a-f]{24}", m["alert_id"])
        assert "beta channel" in m["title"]
        assert m["route"] == "ops"
        assert m["channels"] == ["beta"]
    assert by["hook"]["alert_id"] == by["mail"]["alert_id"] == hook.ids()[0]
    assert by["hook"]["attempts"] == 1 and by["hook"]["delivered_at"] is not None
    assert hook.titles() == [by["hook"]["title"]]
    assert by["mail"]["attempts"] >= 2 and by["mail"]["delivered_at"] is None
    assert by["mail"]["last_error"]
    assert by["mail"]["next_attempt_at"] is not None
    assert "sk-test" not in out

    assert pcode == 0, perr
    assert [(m["notifier"], m["state"]) for m in json.loads(pout)] == [("mail", "pending")]

    assert tcode == 0, terr
    for header in ("alert", "notifier", "state", "tries", "title"):
        assert header in table
    assert "delivered" in row(table, "hook") and by["hook"]["alert_id"][:12] in row(table, "hook")
    assert "pending" in row(table, "mail")


# --- sorawatch config validate ---------------------------------------------------------------


async def test_config_validate_reports_alert_and_maintenance_errors_with_key_paths(
    tmp_path: Path,
) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim:
        db = f"sqlite:///{tmp_path / 'sw.db'}"
        base = config_yaml(sim, db, [channel_yaml(sim, "alpha")], web="")
        hook = '    hook: {url: "json://127.0.0.1:9/hook"}\n'
        bad = {
            "scheme": 'alerts:\n  notifiers:\n    bad: {url: "foo://x"}\n' + hook,
            "route": "alerts:\n  notifiers:\n"
            + hook
            + "  routes:\n    - {name: ops, notifiers: [hook, ghost]}\n",
            "window": NIGHTLY.replace("[alpha]", "[gamma]"),
        }
        paths = []
        for name, section in bad.items():
            path = tmp_path / f"{name}.yaml"
            path.write_text(section + base, encoding="utf-8")
            paths.append(path)
        results = await asyncio.gather(*(cli("config", "validate", str(p)) for p in paths))
    expected = [
        ["alerts.notifiers.bad.url", "foo://"],
        ["alerts", "routes[0].notifiers", "'ghost'", "not defined under alerts.notifiers"],
        ["maintenance[0].channels", "'gamma'"],
    ]
    for (code, out, err), needles in zip(results, expected, strict=True):
        assert code == 2, out + err
        assert "Traceback" not in err
        for needle in needles:
            assert needle in err, err
