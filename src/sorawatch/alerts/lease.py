"""One alerts process per database: a lease in the store, renewed while held.

Several ``sorawatch run`` processes may share one PostgreSQL database; each runs probes, but
only the holder of the ``alerts`` lease reads the change log and delivers, so the cursor has one
writer and each notifier one sender. A holder that dies loses the lease within ``ttl_s``; another
process takes it over and carries on from the saved cursor.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sorawatch.store.base import Store

log = logging.getLogger(__name__)


class Lease:
    def __init__(
        self,
        store: Store,
        name: str = "alerts",
        *,
        holder: str | None = None,
        ttl_s: float = 30.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.name = name
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.ttl_s = ttl_s
        self.now = now
        self.term = 0  # how many times this process gained the lease (state must be reloaded)
        self._held = False
        self._renewed_at: datetime | None = None

    async def held(self) -> bool:
        """Whether this process holds the lease now, renewing it a third of the way through."""
        now = self.now()
        fresh = self._renewed_at is not None and now - self._renewed_at < timedelta(
            seconds=self.ttl_s / 3
        )
        if self._held and fresh:
            return True
        held = await self.store.take_lease(self.name, self.holder, now, self.ttl_s)
        if held and not self._held:
            self.term += 1
            log.info("%s: this process (%s) runs the %s now", self.name, self.holder, self.name)
        elif self._held and not held:
            log.warning("%s: lease lost to another process", self.name)
        self._held, self._renewed_at = held, now
        return held
