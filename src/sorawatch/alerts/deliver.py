"""The outbox deliverer: pending messages → notifiers, in order, with retries.

Each notifier gets its messages in outbox order: only the oldest pending message of a notifier
is tried, so one that is down holds its queue (and loses nothing) while the others go on. A
failure is retried with exponential backoff up to ``retry_max``; after ``give_up_after`` from
its creation a message is marked failed and the queue moves on. A message is marked delivered
only after its notifier took it, so a crash in between resends it after a restart
(at-least-once; receivers deduplicate on the alert id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sorawatch.alerts.config import DeliveryConfig
from sorawatch.alerts.lease import Lease
from sorawatch.alerts.send import Sender
from sorawatch.errors import StoreError
from sorawatch.store.base import OutboxMessage, Store

log = logging.getLogger(__name__)
PAGE = 1000


def backoff_s(attempts: int, cfg: DeliveryConfig) -> float:
    """The wait after the ``attempts``-th failed attempt (1, 2, …)."""
    return float(min(cfg.retry_initial * 2 ** max(attempts - 1, 0), cfg.retry_max))


class Deliverer:
    def __init__(
        self,
        store: Store,
        sender: Sender,
        cfg: DeliveryConfig,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        idle_s: float = 1.0,
        on_result: Callable[[OutboxMessage, str | None], None] | None = None,
        lease: Lease | None = None,
    ) -> None:
        self.store = store
        self.sender = sender
        self.cfg = cfg
        self.now = now
        self.idle_s = idle_s
        self.lease = lease  # only the holder delivers (None: this process is the only one)
        self.on_result = on_result  # told of every attempt: the message and its error or None
        self.wake = asyncio.Event()

    async def deliver_due(self) -> int:
        """Drain each notifier's queue in outbox order, the notifiers side by side; a queue
        stops at its first message not yet due or not taken. Returns the attempts made."""
        attempts = 0
        while True:
            pending = await self.store.pending_messages(PAGE)
            queues: dict[str, list[OutboxMessage]] = {}
            for m in pending:
                queues.setdefault(m.notifier, []).append(m)
            made = sum(await asyncio.gather(*(self._drain(q) for q in queues.values())))
            attempts += made
            if len(pending) < PAGE or made == 0:  # read again only past a full page
                return attempts

    async def _drain(self, queue: list[OutboxMessage]) -> int:
        made = 0
        for m in queue:
            if m.next_attempt_at is not None and m.next_attempt_at > self.now():
                break
            made += 1
            if not await self._attempt(m):
                break  # held: the rest waits behind it, in order
        return made

    async def _attempt(self, m: OutboxMessage) -> bool:
        assert m.seq is not None
        kind = "recovery" if m.kind == "recovery" else m.severity
        error = await self.sender.send(m.notifier, m.title, m.body, kind, m.alert_id)
        if self.on_result is not None:
            self.on_result(m, error)
        at = self.now()
        if error is None:
            await self.store.record_attempt(m.seq, at, error=None)
            return True
        tries = m.attempts + 1
        give_up = at - m.created_at >= timedelta(seconds=self.cfg.give_up_after)
        retry_at = at + timedelta(seconds=backoff_s(tries, self.cfg))
        await self.store.record_attempt(
            m.seq, at, error=error, next_attempt_at=retry_at, give_up=give_up
        )
        log.warning(
            "alert %s to %s: attempt %d failed%s: %s",
            m.alert_id,
            m.notifier,
            tries,
            " (giving up)" if give_up else f", retry at {retry_at:%H:%M:%S}",
            error,
        )
        return give_up  # a message given up on lets the next one of its notifier go

    async def run(self) -> None:
        """Deliver until cancelled: right away when woken, else every ``idle_s``."""
        while True:
            try:
                if self.lease is None or await self.lease.held():
                    await self.deliver_due()
            except StoreError as exc:  # the store is away: the outbox waits, nothing is lost
                log.warning("alert delivery paused: %s", exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.idle_s):
                    await self.wake.wait()
            self.wake.clear()
