"""The alert service: the store's change log → policy → batches → the outbox.

It reads status changes from the store (not from memory), after a saved cursor, and saves the
cursor, the policy's state and the open batches in the same transaction as the messages it
adds to the outbox. Killed at any point, it resumes where the last commit left it: nothing is
missed, and what is replayed makes the same alert ids, which the outbox keeps only once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from pydantic import TypeAdapter

from sorawatch.alerts import windows as maintenance
from sorawatch.alerts.grouping import Batch, ChannelInfo, Rule, due, place
from sorawatch.alerts.lease import Lease
from sorawatch.alerts.policy import (
    ChangeEvent,
    ChannelAlertState,
    Notice,
    PolicyState,
    Settings,
    on_change,
    on_tick,
)
from sorawatch.alerts.render import render
from sorawatch.config import ChannelConfig, Config
from sorawatch.domain.observation import Evidence
from sorawatch.domain.redact import redact
from sorawatch.domain.status import Status
from sorawatch.errors import StoreError
from sorawatch.store.base import LoggedChange, MaintenanceWindow, OutboxMessage, Store

log = logging.getLogger(__name__)
PAGE = 500
PRUNE_EVERY = timedelta(hours=1)
EVIDENCE_CHARS = 200


@dataclass(frozen=True, slots=True)
class Saved:
    """What the service keeps in the store between steps."""

    policy: PolicyState = field(default_factory=PolicyState)
    batches: tuple[Batch, ...] = ()


_SAVED: TypeAdapter[Saved] = TypeAdapter(Saved)


def settings_of(config: Config) -> Settings:
    a = config.alerts
    return Settings(
        remind_every_s=a.remind_every,
        flap_changes=a.flapping.changes if a.flapping else None,
        flap_window_s=a.flapping.window if a.flapping else 3600.0,
        sunset_warning_s=a.sunset_warning,
    )


def vendor_of(ch: ChannelConfig) -> str:
    return ch.status_page.page if ch.status_page else (urlsplit(ch.base_url).hostname or "")


def evidence_lines(evidence: Iterable[Evidence], secrets: list[str]) -> tuple[str, ...]:
    out = []
    for e in evidence:
        code = f" HTTP {e.http_status}" if e.http_status else ""
        line = f"{e.at:%H:%M:%S} {e.source.value} {e.outcome.value}{code}: {e.detail}"
        out.append(redact(line, secrets)[:EVIDENCE_CHARS])
    return tuple(out)


class AlertService:
    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sunsets: Callable[[], Mapping[str, datetime]] = dict,
        tick_s: float = 1.0,
        on_outbox: Callable[[], None] | None = None,
        lease: Lease | None = None,
        windows: Callable[[], list[MaintenanceWindow]] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.now = now
        self.sunsets = sunsets
        self.tick_s = tick_s
        self.on_outbox = on_outbox
        self.lease = lease  # None: this process is the only one
        self.term = 0  # the lease term the state in memory was loaded in
        self.rules = {r.name: Rule.of(r) for r in config.alerts.effective_routes}
        self.waits = {name: rule.wait_s for name, rule in self.rules.items()}
        self.settings = settings_of(config)
        self.info = {ch.id: ChannelInfo(ch.group, vendor_of(ch)) for ch in config.channels}
        self.names = {ch.id: ch.name for ch in config.channels}
        # The monitor's windows when it runs in this process (it keeps them read); else the
        # config's and the store's, read at every step.
        self.windows_of_monitor = windows
        self.cursor = 0
        self.saved = Saved()
        self._saved_json = ""
        self.wake = asyncio.Event()

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Load the saved cursor and state; on the very first start, begin at the end of the
        change log (what happened before alerts were set up is history, not news)."""
        cursor, text = await self.store.alert_cursor()
        if text is not None:
            self.cursor, self.saved, self._saved_json = cursor, _SAVED.validate_json(text), text
            return
        last = 0
        while page := await self.store.change_log(last, PAGE):
            last = page[-1].id
        told = {
            snap.channel_id: ChannelAlertState(
                # Assume receivers know a channel that is bad already; anything else (a window's
                # maintenance, unknown) reads as fine, so its end is no "recovery".
                notified=snap.status if snap.status.is_bad else Status.OPERATIONAL,
                current=snap.status,
            )
            for snap in await self.store.snapshots()
        }
        await self._commit(last, Saved(PolicyState(told)), [])

    async def leading(self) -> bool:
        """Whether this process runs the alerts now; on gaining the lease, the state another
        process left in the store is loaded first."""
        if self.lease is None:
            return True
        if not await self.lease.held():
            return False
        if self.term != self.lease.term:
            await self.start()
            self.term = self.lease.term
        return True

    async def windows(self) -> list[MaintenanceWindow]:
        if self.windows_of_monitor is not None:
            return self.windows_of_monitor()
        return [*self.config.maintenance_windows, *await self.store.windows()]

    async def prune(self) -> int:
        """Forget delivered and failed messages older than ``delivery.keep``."""
        keep = timedelta(seconds=self.config.alerts.delivery.keep)
        return await self.store.prune_messages(self.now() - keep)

    async def run(self) -> None:
        """Take in changes within ``tick_s`` (at once when woken) until cancelled; prune the
        outbox once an hour."""
        pruned_at: datetime | None = None
        while True:
            try:
                if await self.leading():
                    if pruned_at is None or self.now() - pruned_at >= PRUNE_EVERY:
                        await self.prune()
                        pruned_at = self.now()
                    await self.step()
            except StoreError as exc:  # the store is away: the change log waits for us
                log.warning("alerts paused: %s", exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tick_s):
                    await self.wake.wait()
            self.wake.clear()

    # --- one step -----------------------------------------------------------------------------
    async def step(self) -> list[OutboxMessage]:
        """Take in every new change and the passing of time; commit what is due to the outbox."""
        now = self.now()
        channels = dict(self.saved.policy.channels)
        batches = self.saved.batches
        ready: list[Batch] = []
        cursor = self.cursor
        while True:
            page = await self.store.change_log(cursor, PAGE)
            # Windows after the changes: the monitor records a window's start or end only once
            # it has seen the window stored (or ended), so this read knows every window behind
            # these changes; one read before them could hide the change that ends a window.
            windows = await self.windows()
            for logged in page:
                cursor = logged.id
                notices = self._on_change(channels, logged, windows)
                batches = self._place(batches, notices, ready)
            if len(page) < PAGE:
                break
        observed = self.sunsets()
        for ch in self.config.channels:
            in_window = maintenance.active(windows, ch.id, ch.group, now) is not None
            sunset = observed.get(ch.id) or ch.sunset
            state, notices = on_tick(
                ch.id, channels.get(ch.id) or ChannelAlertState(), now, in_window, sunset,
                self.settings,
            )  # fmt: skip
            channels[ch.id] = state
            batches = self._place(batches, notices, ready)
        batches, now_due = due(batches, now, self.waits)
        ready += now_due
        messages = [m for b in ready for m in self._messages(b, now)]
        # Only once committed does the service move on: a failed commit is redone next step.
        await self._commit(cursor, Saved(PolicyState(channels), batches), messages)
        if messages and self.on_outbox is not None:
            self.on_outbox()
        return messages

    def _on_change(
        self,
        channels: dict[str, ChannelAlertState],
        logged: LoggedChange,
        windows: list[MaintenanceWindow],
    ) -> list[Notice]:
        c = logged.change
        if c.channel_id not in self.info:
            return []  # a channel since removed from the config: history, not news
        ch = self.config.channel(c.channel_id)
        ev = ChangeEvent(
            logged.id,
            c.channel_id,
            c.at,
            c.old,
            c.new,
            redact(c.reason, ch.secrets),
            evidence_lines(c.evidence[-3:], ch.secrets),
        )
        in_window = maintenance.active(windows, ch.id, ch.group, c.at) is not None
        state, notices = on_change(
            channels.get(c.channel_id) or ChannelAlertState(), ev, in_window, self.settings
        )
        channels[c.channel_id] = state
        return notices

    def _place(
        self, batches: tuple[Batch, ...], notices: list[Notice], ready: list[Batch]
    ) -> tuple[Batch, ...]:
        for n in notices:
            batches, closed = place(batches, self.rules.values(), n, self.info[n.channel_id])
            ready += closed
        return batches

    def _messages(self, batch: Batch, now: datetime) -> list[OutboxMessage]:
        rule = self.rules.get(batch.route)
        if rule is None:
            log.warning("route %s is gone from the config; dropping its alert", batch.route)
            return []
        text = render(batch, self.names, self.config.web.public_url)
        channels = tuple(dict.fromkeys(n.channel_id for n in batch.notices))
        return [
            OutboxMessage(
                alert_id=batch.alert_id,
                notifier=name,
                route=batch.route,
                kind=text.kind,
                severity=text.severity,
                title=text.title,
                body=text.body,
                channels=channels,
                created_at=now,
            )
            for name in rule.notifiers
        ]

    async def _commit(self, cursor: int, saved: Saved, messages: list[OutboxMessage]) -> None:
        text = _SAVED.dump_json(saved).decode()
        if messages or text != self._saved_json or cursor != self.cursor:
            await self.store.commit_alerts(cursor, text, messages)
        self.cursor, self.saved, self._saved_json = cursor, saved, text
