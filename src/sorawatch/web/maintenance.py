"""Maintenance windows as the web shows them: the config's and the stored ones (``sorawatch
maintenance add``), each with its state now, its current or next occurrence and the channels it
covers (groups expanded to channel ids).

Windows change without the board moving (one starts on the clock, or is added from the CLI in
another process), so they are kept apart from the board: the stored ones are read at most every
``ttl_s`` seconds, and the computed ``Maintenance`` snapshot carries its own ``version``, which
the page and document caches add to their keys.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sorawatch.alerts import windows as mw
from sorawatch.config import Config
from sorawatch.domain.redact import redact
from sorawatch.errors import StoreError
from sorawatch.store.base import MaintenanceWindow, Store

log = logging.getLogger(__name__)

TTL_S = 5.0  # as often as the monitor itself looks at the windows
SOON = timedelta(days=7)  # the overview lists upcoming windows this far ahead
_NEVER = datetime.max.replace(tzinfo=UTC)

State = mw.State


def last_occurrence(w: MaintenanceWindow, at: datetime) -> tuple[datetime, datetime] | None:
    """The latest occurrence that began before ``at`` and before the window was ended, cut at
    ``ended_at`` (None: the window was ended, or asked about, before it ever began)."""
    stop = at if w.ended_at is None else min(at, w.ended_at)
    if stop <= w.start:
        return None
    start = w.start
    if w.every_s is not None:
        k = math.ceil((stop - w.start).total_seconds() / w.every_s) - 1
        start = w.start + timedelta(seconds=max(k, 0) * w.every_s)
    end = start + (w.end - w.start)
    if w.ended_at is not None:
        end = min(end, w.ended_at)
    return start, end


@dataclass(frozen=True, slots=True)
class WindowView:
    """One window at one moment."""

    window: MaintenanceWindow
    state: State
    start: datetime | None  # the current or next occurrence; None once ended
    end: datetime | None
    last: tuple[datetime, datetime] | None  # the latest occurrence that began (for history)
    channels: tuple[str, ...]  # configured channel ids it covers, groups expanded
    reason: str  # redacted: it is typed by a person, who may paste anything into it

    @property
    def name(self) -> str:
        return self.window.name

    @property
    def source(self) -> Literal["config", "cli"]:
        return "config" if self.window.id is None else "cli"

    @property
    def ident(self) -> str:
        """A stable id: config names are unique and stored windows have a numeric id; the
        ``config-`` prefix keeps a config window named "3" apart from stored window 3."""
        w = self.window
        return f"mw-config-{w.name}" if w.id is None else f"mw-{w.id}"

    @property
    def span(self) -> tuple[datetime, datetime] | None:
        """The occurrence to publish: the current or next one, else the last one that ran."""
        if self.start is not None and self.end is not None:
            return self.start, self.end
        return self.last

    def boundaries(self) -> list[datetime]:
        """Times at which this view stops being true (its state or the 7-day list changes)."""
        if self.start is None or self.end is None:
            return []
        if self.state == "active":
            return [self.end]
        return [self.start - SOON, self.start]


def view(
    w: MaintenanceWindow, config: Config, at: datetime, secrets: Sequence[str] = ()
) -> WindowView:
    state, upcoming = mw.state_at(w, at)
    return WindowView(
        window=w,
        state=state,
        start=upcoming[0] if upcoming else None,
        end=upcoming[1] if upcoming else None,
        last=last_occurrence(w, at),
        channels=tuple(ch.id for ch in config.channels if mw.covers_channel(w, ch.id, ch.group)),
        reason=redact(w.reason, secrets),
    )


@dataclass(frozen=True, slots=True)
class Maintenance:
    """Every window at ``at``: config windows first, then stored ones in id order."""

    at: datetime
    windows: tuple[WindowView, ...] = ()
    version: int = 0

    def active(self) -> list[WindowView]:
        return [v for v in self.windows if v.state == "active"]

    def upcoming(self, within: timedelta | None = None) -> list[WindowView]:
        """Upcoming windows, soonest first (only those starting ``within`` from ``at``)."""
        found = [
            v
            for v in self.windows
            if v.state == "upcoming"
            and v.start is not None
            and (within is None or v.start - self.at <= within)
        ]
        return sorted(found, key=lambda v: v.start or _NEVER)

    def covering(self, channel_id: str) -> list[WindowView]:
        """Active and upcoming windows that cover a channel, the active ones first."""
        live = [*self.active(), *self.upcoming()]
        return [v for v in live if channel_id in v.channels]


class MaintenanceBook:
    """The combined list of windows, read from the store at most every ``ttl_s`` seconds."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        ttl_s: float = TTL_S,
    ) -> None:
        self.config = config
        self.store = store
        self.now = now
        self.ttl_s = ttl_s
        self.stored: list[MaintenanceWindow] = []
        self.secrets = sorted({s for ch in config.channels for s in ch.secrets})
        self._read_at: float | None = None  # monotonic: the injected clock may stand still
        self._lock = asyncio.Lock()
        self._snapshot: Maintenance | None = None
        self._valid_until = _NEVER
        self._version = 0

    def windows(self) -> list[MaintenanceWindow]:
        """Config windows, then the stored ones as last read."""
        return [*self.config.maintenance_windows, *self.stored]

    async def refresh(self, force: bool = False) -> None:
        """Read the stored windows again if the last read is older than ``ttl_s``."""
        if not force and self._fresh():
            return
        async with self._lock:
            if not force and self._fresh():
                return  # another request read them while this one waited
            try:
                stored = await self.store.windows()
            except StoreError as exc:  # keep the last known windows rather than drop them all
                log.warning("reading maintenance windows failed: %s", exc)
                stored = self.stored
            self._read_at = time.monotonic()
            if stored != self.stored:
                self.stored = stored
                self._snapshot = None

    def _fresh(self) -> bool:
        return self._read_at is not None and time.monotonic() - self._read_at < self.ttl_s

    async def current(self) -> Maintenance:
        await self.refresh()
        return self.snapshot(self.now())

    def snapshot(self, at: datetime) -> Maintenance:
        """The windows at ``at``, recomputed only when one of them changes state (or enters
        the 7-day list) or the stored ones changed, so a request mostly costs a comparison."""
        held = self._snapshot
        if held is not None and held.at <= at < self._valid_until:
            return held
        views = tuple(view(w, self.config, at, self.secrets) for w in self.windows())
        if held is None or views != held.windows:
            self._version += 1
        self._snapshot = Maintenance(at, views, self._version)
        self._valid_until = min(
            (t for v in views for t in v.boundaries() if t > at), default=_NEVER
        )
        return self._snapshot
