"""The status page and its machine-readable surfaces, served by ``sorawatch run``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI

from sorawatch.config import Config
from sorawatch.monitor import ChannelView, Monitor
from sorawatch.serving import Listener
from sorawatch.store.base import Store

from .board import BoardCache, LiveStatus
from .metrics import make_registry
from .server import create_app

__all__ = ["BoardCache", "LiveStatus", "WebService", "create_app", "live_of"]


def live_of(view: ChannelView) -> LiveStatus:
    last = view.last
    return LiveStatus(
        status=view.status,
        since=view.since,
        reason=view.reason or (view.incident.cause if view.incident else ""),
        latency_ms=last.latency_ms if last is not None else None,
        outcome=last.outcome if last is not None else None,
        checked_at=last.at if last is not None else None,
        sunset=view.sunset,
    )


class WebService:
    """The web app over a store, fed live by a monitor in the same process when there is one."""

    def __init__(
        self,
        config: Config,
        store: Store,
        monitor: Monitor | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        live = None
        if monitor is not None:
            mon = monitor

            def live() -> dict[str, LiveStatus]:
                return {v.channel.id: live_of(v) for v in mon.views()}

        self.cache = BoardCache(config, store, live=live, refresh_s=config.web.refresh, now=now)
        self.registry, self.metrics = make_registry(self.cache.board)
        if monitor is not None:
            monitor.listeners.append(lambda change: self.cache.touch(change.channel_id))
            monitor.observers.append(self.metrics.observe)
        self.app: FastAPI = create_app(config, store, self.cache, self.registry, now=now)
        # Bound now, so a taken port is a clear error before anything starts.
        self.listener = Listener(self.app, config.web.host, config.web.port)

    @property
    def url(self) -> str:
        return self.listener.url

    async def run(self) -> None:
        """Serve until cancelled, keeping the board current."""
        await self.cache.rebuild()
        await self.listener.open()
        try:
            await self.cache.run()
        finally:
            await self.listener.close(reserve=False)
