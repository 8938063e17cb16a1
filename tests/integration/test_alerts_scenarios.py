"""Alert scenarios end to end: the simulator's faults → the monitor → the alert service →
the outbox → Apprise → a real webhook receiver (and a real SMTP server), on a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from tests.helpers import channel_yaml, config_yaml, running_sim
from tests.receivers import Mailbox, Webhook, alert_id, smtp_server, webhook

from sorawatch.alerts.deliver import Deliverer
from sorawatch.alerts.send import AppriseSender
from sorawatch.alerts.service import AlertService
from sorawatch.app import make_client
from sorawatch.config import Config, parse_config
from sorawatch.domain.status import Status
from sorawatch.domain.uptime import uptime
from sorawatch.monitor import Monitor
from sorawatch.simulator import Simulator
from sorawatch.store import open_store
from sorawatch.store.base import DeliveryState, LoggedChange, MaintenanceWindow, Store

SCENARIO = """
name: alerts-test
channels:
  a1: {protocol: openai-videos, models: [sora-2], latency_ms: 1}
  a2: {protocol: openai-videos, models: [sora-2], latency_ms: 1}
  b1: {protocol: openai-videos, models: [sora-2], latency_ms: 1}
"""
T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


@dataclass
class Rig:
    sim: Simulator
    monitor: Monitor
    service: AlertService
    deliverer: Deliverer
    store: Store
    hook: Webhook
    clock: Clock

    async def probe(self, rounds: int = 1) -> None:
        """Probe every channel ``rounds`` times, 10 s apart."""
        for _ in range(rounds):
            for ch in self.monitor.config.channels:
                await self.monitor.ingest(await self.monitor.probe(ch))
            self.clock.advance(10)

    async def settle(self, seconds: float = 31) -> int:
        """Let time pass (group waits), run the service and deliver; returns messages sent."""
        self.clock.advance(seconds)
        made = await self.service.step()
        await self.deliverer.deliver_due()
        return len(made)


def alerts_yaml(hook: Webhook, extra: str = "", route: str = "") -> str:
    route = route or "{name: ops, notifiers: [hook], group_wait: 30s}"
    return (
        "alerts:\n"
        f'  notifiers: {{hook: {{url: "{hook.url}"}}}}\n'
        f"  routes: [{route}]\n"
        "  delivery: {retry_initial: 10s, retry_max: 60s, give_up_after: 1d}\n"
        f"{extra}"
    )


def make_config(sim: Simulator, db: str, alerts: str) -> Config:
    channels = [
        channel_yaml(sim, "a1").replace("group: Test", "group: Sora"),
        channel_yaml(sim, "a2").replace("group: Test", "group: Sora"),
        channel_yaml(sim, "b1").replace("group: Test", "group: Veo"),
    ]
    return parse_config(alerts + config_yaml(sim, db, channels, web=""), env={})


@asynccontextmanager
async def rig(tmp_path: Path, extra: str = "", route: str = "") -> AsyncIterator[Rig]:
    clock = Clock()
    store = open_store(f"sqlite:///{tmp_path / 'alerts.db'}")
    await store.open()
    client: httpx.AsyncClient
    async with (
        running_sim(tmp_path, SCENARIO) as sim,
        webhook() as hook,
        make_client() as client,
    ):
        cfg = make_config(
            sim, f"sqlite:///{tmp_path / 'alerts.db'}", alerts_yaml(hook, extra, route)
        )
        monitor = Monitor(cfg, store, client, now=clock)
        service = AlertService(cfg, store, now=clock, sunsets=lambda: monitor.sunsets)
        await service.start()
        deliverer = Deliverer(
            store, AppriseSender(cfg.alerts.notifiers, 5), cfg.alerts.delivery, now=clock
        )
        try:
            yield Rig(sim, monitor, service, deliverer, store, hook, clock)
        finally:
            await store.close()


async def test_a_failure_alerts_once_after_confirmation_and_its_recovery_once(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        await r.probe()
        assert await r.settle() == 0  # start-up to operational is not news
        r.sim.set_fault("a1", "paused")
        await r.probe(2)
        assert await r.settle(1) == 0  # two failed probes: not confirmed, nothing said
        await r.probe()
        assert r.monitor.states["a1"].status is Status.SUSPENDED
        assert await r.settle(5) == 0  # confirmed, but the group wait is not over
        assert await r.settle(30) == 1
        assert len(r.hook.received) == 1
        body = r.hook.received[0]
        assert "a1 channel" in body["title"] and "suspended" in body["title"]
        assert "cause:" in body["message"] and "evidence:" in body["message"]
        assert body["type"] == "failure"
        # the id is in the text for every notifier, and a header on webhooks
        assert r.hook.headers[0]["x-sorawatch-alert-id"] == r.hook.ids()[0]
        await r.probe(3)
        assert await r.settle() == 0  # still down: no repeat (reminders are hours apart)

        r.sim.set_fault("a1", None)
        await r.probe(2)
        assert await r.settle() == 1
        assert [b["type"] for b in r.hook.received] == ["failure", "success"]
        assert "recovered" in r.hook.received[1]["title"]
        delivered = await r.store.messages(state=DeliveryState.DELIVERED)
        assert sorted(m.alert_id for m in delivered) == sorted(r.hook.ids())


async def test_a_channel_that_stays_down_is_reminded_at_the_set_pace(tmp_path: Path) -> None:
    async with rig(tmp_path, extra="  remind_every: 10m\n") as r:
        r.sim.set_fault("b1", "paused")
        await r.probe(3)
        await r.settle()
        assert len(r.hook.received) == 1
        for _ in range(7):  # 35 minutes, five at a time
            await r.probe()
            await r.settle(290)
        titles = r.hook.titles()
        assert len(titles) == 1 + 3, titles
        assert all("still suspended" in t for t in titles[1:])


async def test_two_channels_of_one_group_failing_together_make_one_alert(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.probe()
        r.sim.set_fault("a1", "paused")
        r.sim.set_fault("a2", "paused")
        await r.probe(3)
        assert await r.settle() == 1
        (only,) = r.hook.received
        assert "2 channels of Sora" in only["title"]
        assert "a1 channel" in only["message"] and "a2 channel" in only["message"]


async def test_a_maintenance_window_silences_and_its_end_alerts_what_is_still_bad(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        await r.probe()
        await r.store.add_window(
            MaintenanceWindow("upgrade", r.clock.t, r.clock.t + timedelta(minutes=10), ("b1",))
        )
        await r.monitor.apply_windows()
        assert r.monitor.states["b1"].status is Status.MAINTENANCE
        r.sim.set_fault("b1", "paused")
        await r.probe(4)
        assert r.monitor.states["b1"].status is Status.MAINTENANCE
        assert await r.settle() == 0
        assert r.hook.received == []
        # ... and the window is left out of uptime: b1 was fine before it, so 100 %
        start = T0 - timedelta(minutes=1)
        segments = await r.store.timeline("b1", start)
        assert uptime(segments, T0, r.clock.t) == 1.0

        r.clock.advance(600)  # the window is over and b1 is still down: that is news now
        await r.monitor.apply_windows()
        assert r.monitor.states["b1"].status is Status.SUSPENDED
        assert await r.settle() == 1
        assert "maintenance → suspended" not in r.hook.titles()[0]
        assert "operational → suspended" in r.hook.titles()[0]


async def test_a_flapping_channel_is_alerted_once_as_flapping(tmp_path: Path) -> None:
    async with rig(tmp_path, extra="  flapping: {changes: 3, window: 1h}\n") as r:
        await r.probe()
        for _ in range(4):  # down, up, down, up …: eight changes
            r.sim.set_fault("a2", "paused")
            await r.probe(3)
            r.sim.set_fault("a2", None)
            await r.probe(2)
        await r.settle(1)
        await r.settle(60)
        titles = r.hook.titles()
        # the first down-and-up came within one group wait: one message; then flapping, once
        assert len(titles) == 2, titles
        assert titles[0].endswith("a2 channel: 1 changed, 1 recovered, now operational")
        assert "a2 channel is flapping" in titles[1]


async def test_a_notifier_down_for_an_hour_gets_everything_in_order_when_back(
    tmp_path: Path,
) -> None:
    route = "{name: ops, notifiers: [hook], group_by: channel, group_wait: 1s}"
    async with rig(tmp_path, route=route) as r:
        assert r.hook.listener is not None
        await r.hook.listener.close()  # connections refused from now on
        await r.probe()
        for cid in ("a1", "b1", "a2"):
            r.sim.set_fault(cid, "paused")
            await r.probe(3)
            await r.settle(5)
        for _ in range(12):  # an hour of retries, five minutes apart
            await r.settle(300)
        pending = await r.store.pending_messages()
        assert len(pending) == 3 and pending[0].attempts > 3
        assert "Connection error" in pending[0].last_error
        assert pending[1].attempts == 0  # held behind the first: order is kept

        await r.hook.listener.open()
        await r.settle(60)
        assert [alert_id(b["message"]) for b in r.hook.received] == [m.alert_id for m in pending]
        assert [m.state for m in await r.store.messages()] == [DeliveryState.DELIVERED] * 3


async def test_the_service_resumes_after_a_crash_without_losing_or_doubling(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        await r.probe()
        r.sim.set_fault("a1", "paused")
        await r.probe(3)
        await r.service.step()  # the change is in an open batch, saved with the cursor
        # a new process: a fresh service over the same store picks up the open batch
        again = AlertService(r.monitor.config, r.store, now=r.clock)
        await again.start()
        assert again.saved.batches == r.service.saved.batches
        r.clock.advance(31)
        made = await again.step()
        assert len(made) == 1
        # the old one, replaying the same step, makes the same alert: the outbox keeps it once
        assert [m.alert_id for m in await r.service.step()] == [made[0].alert_id]
        assert len(await r.store.messages()) == 1


async def test_email_through_a_real_smtp_server(tmp_path: Path) -> None:
    async with smtp_server() as box, rig(tmp_path) as r:
        mail_cfg = make_config(
            r.sim,
            "memory://",
            alerts_yaml(r.hook)
            .replace(
                f'{{hook: {{url: "{r.hook.url}"}}}}',
                f'{{hook: {{url: "{r.hook.url}"}}, mail: {{url: "{box.url()}"}}}}',
            )
            .replace("notifiers: [hook]", "notifiers: [hook, mail]"),
        )
        service = AlertService(mail_cfg, r.store, now=r.clock)
        deliverer = Deliverer(
            r.store,
            AppriseSender(mail_cfg.alerts.notifiers, 5),
            mail_cfg.alerts.delivery,
            now=r.clock,
        )
        await service.start()
        await r.probe()
        r.sim.set_fault("b1", "paused")
        await r.probe(3)
        r.clock.advance(31)
        made = await service.step()
        await deliverer.deliver_due()
        assert {m.notifier for m in made} == {"hook", "mail"}
        assert len({m.alert_id for m in made}) == 1  # one alert, two notifiers, one id
        await _wait_mail(box)
        (mail,) = box.messages
        assert "b1 channel" in str(mail["Subject"])
        body = mail.get_body(("plain", "html"))
        assert body is not None and made[0].alert_id in body.get_content()


async def _wait_mail(box: Mailbox) -> None:
    import asyncio

    async with asyncio.timeout(10):
        while not box.messages:  # noqa: ASYNC110 - the SMTP server runs in its own thread
            await asyncio.sleep(0.05)


class EndsWindowOnRead:
    """The store, except that `maintenance end` lands while the service reads the change log
    (between its two reads of the windows): the race the service must not lose a change to."""

    def __init__(self, store: Store, window_id: int, at: datetime, monitor: Monitor) -> None:
        self._store, self._id, self._at, self._monitor = store, window_id, at, monitor
        self._done = False

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    async def change_log(self, after_id: int = 0, limit: int = 1000) -> list[LoggedChange]:
        if not self._done:
            self._done = True
            await self._store.end_window(self._id, self._at)
            await self._monitor.apply_windows()  # the monitor logs the change that ends it
        return await self._store.change_log(after_id, limit)


async def test_a_window_ended_while_the_service_reads_still_alerts(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.probe()
        stored = await r.store.add_window(
            MaintenanceWindow("upgrade", r.clock.t, r.clock.t + timedelta(hours=2), ("b1",))
        )
        await r.monitor.apply_windows()
        r.sim.set_fault("b1", "paused")
        await r.probe(3)
        await r.settle()
        assert r.hook.received == []
        assert stored.id is not None
        r.service.store = EndsWindowOnRead(r.store, stored.id, r.clock.t, r.monitor)  # type: ignore[assignment]
        await r.settle()  # the change is taken in (its group wait starts) ...
        await r.settle()  # ... and sent
        assert ["operational → suspended" in t for t in r.hook.titles()] == [True]


async def test_a_sunset_header_warns_once_ahead_of_the_retirement(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        retires = r.clock.t + timedelta(days=10)  # within the default 14-day warning
        r.sim.set_fault("a1", "sunset", date=retires.isoformat())
        await r.probe(2)
        assert r.monitor.sunsets["a1"] == retires
        await r.settle()
        await r.probe()
        await r.settle()
        (title,) = r.hook.titles()
        assert title == f"⏳ a1 channel retires on {retires:%Y-%m-%d}"
        assert "in 10 days" in r.hook.received[0]["message"]
