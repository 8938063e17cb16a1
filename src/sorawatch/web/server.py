"""The web app: pages, Statuspage v2 JSON, the native API, metrics, badges and feeds.

Read-only and public by design: no route writes anything, and nothing shown carries a key, a
base URL or an unredacted upstream message.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST

from sorawatch import __version__
from sorawatch.config import Config
from sorawatch.store.base import Store

from . import api_v1, feeds, svg
from .board import BoardCache
from .metrics import Exposition
from .pages import STATUS_WORDS, Pages
from .statuspage_api import StatuspageView

# Answers may be cached briefly by browsers and proxies: the board moves at most once a second.
CACHE = {"Cache-Control": "public, max-age=5"}
GZIP_HEADERS = {"Content-Encoding": "gzip"}
# What a cached page or document was made from: (board version, maintenance version).
Version = tuple[int, int]


def create_app(
    config: Config,
    store: Store,
    cache: BoardCache,
    registry: Exposition,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    web = config.web
    app = FastAPI(
        title=web.title,
        version=__version__,
        description="Read-only status of AI video-generation channels, measured by sorawatch.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.mount("/static", StaticFiles(packages=[("sorawatch.web", "static")]), name="static")
    app.include_router(api_v1.router(config, store, cache, now))
    pages = Pages(config)

    def base_url(request: Request) -> str:
        return web.public_url or str(request.base_url).rstrip("/")

    # --- pages ----------------------------------------------------------------------------------
    # A big page is compressed once per board and maintenance version, not once per request.
    zipped: dict[tuple[Version, str], bytes] = {}

    def html_response(request: Request, html: str, version: Version, key: str) -> Response:
        headers = {"Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
        if "gzip" not in request.headers.get("accept-encoding", "") or len(html) < 2048:
            return HTMLResponse(html, headers=headers)
        body = zipped.get((version, key))
        if body is None:
            if any(v != version for v, _ in zipped):
                zipped.clear()
            body = zipped[(version, key)] = gzip.compress(html.encode(), compresslevel=5)
        return Response(body, media_type="text/html; charset=utf-8", headers=headers | GZIP_HEADERS)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def overview(
        request: Request,
        partial: Annotated[str | None, Header(alias="X-Sorawatch-Partial")] = None,
    ) -> Response:
        maint = await cache.maintenance.current()
        board = cache.board()
        html = pages.render(board, "overview.html", partial is not None, maint=maint)
        version = (board.version, maint.version)
        return html_response(request, html, version, f"/|{partial is not None}")

    @app.get("/channels/{channel_id}", response_class=HTMLResponse, include_in_schema=False)
    async def channel_page(
        request: Request,
        channel_id: str,
        partial: Annotated[str | None, Header(alias="X-Sorawatch-Partial")] = None,
    ) -> Response:
        maint = await cache.maintenance.current()
        board = cache.board()
        card = board.by_id.get(channel_id)
        if card is None:
            raise HTTPException(404, f"no channel {channel_id!r}")
        html = pages.render(
            board,
            "channel.html",
            partial is not None,
            key=channel_id,
            maint=maint,
            card=card,
            chart=pages.chart(card),
            windows=maint.covering(channel_id),
        )
        version = (board.version, maint.version)
        return html_response(request, html, version, f"{channel_id}|{partial is not None}")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, object]:
        board = cache.board()
        return {"ok": True, "channels": len(board.cards), "built_at": board.built_at.isoformat()}

    # --- Statuspage v2 ----------------------------------------------------------------------------
    # Each document is encoded once per board and maintenance version (and base URL) and then
    # served as bytes.
    encoded: dict[tuple[Version, str, str], bytes] = {}

    async def sp(
        request: Request, name: str, build: Callable[[StatuspageView], object]
    ) -> Response:
        maint = await cache.maintenance.current()
        board = cache.board()
        version = (board.version, maint.version)
        key = (version, name, base_url(request))
        body = encoded.get(key)
        if body is None:
            if any(k[0] != version for k in encoded):
                encoded.clear()
            view = StatuspageView(board, "sorawatch", web.title, key[2], maint)
            body = json.dumps(build(view), separators=(",", ":")).encode()
            encoded[key] = body
        return Response(body, media_type="application/json", headers=CACHE)

    @app.get("/api/v2/status.json", tags=["statuspage v2"])
    async def sp_status(request: Request) -> Response:
        return await sp(request, "status", lambda v: {"page": v.page(), "status": v.status()})

    @app.get("/api/v2/summary.json", tags=["statuspage v2"])
    async def sp_summary(request: Request) -> Response:
        return await sp(request, "summary", lambda v: v.summary())

    @app.get("/api/v2/components.json", tags=["statuspage v2"])
    async def sp_components(request: Request) -> Response:
        return await sp(
            request, "components", lambda v: {"page": v.page(), "components": v.components()}
        )

    @app.get("/api/v2/incidents.json", tags=["statuspage v2"])
    async def sp_incidents(request: Request) -> Response:
        return await sp(
            request, "incidents", lambda v: {"page": v.page(), "incidents": v.incidents()}
        )

    @app.get("/api/v2/incidents/unresolved.json", tags=["statuspage v2"])
    async def sp_unresolved(request: Request) -> Response:
        return await sp(
            request,
            "unresolved",
            lambda v: {"page": v.page(), "incidents": v.incidents(unresolved=True)},
        )

    @app.get("/api/v2/scheduled-maintenances.json", tags=["statuspage v2"])
    async def sp_maint(request: Request) -> Response:
        return await sp(
            request,
            "maintenances",
            lambda v: {"page": v.page(), "scheduled_maintenances": v.maintenances()},
        )

    @app.get("/api/v2/scheduled-maintenances/{which}.json", tags=["statuspage v2"])
    async def sp_maint_which(request: Request, which: Literal["upcoming", "active"]) -> Response:
        return await sp(
            request,
            f"maintenances-{which}",
            lambda v: {"page": v.page(), "scheduled_maintenances": v.maintenances(which)},
        )

    # --- metrics, badges, feeds -----------------------------------------------------------------
    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(registry.latest(), media_type=CONTENT_TYPE_LATEST)

    def badge_response(body: str) -> Response:
        return Response(
            body, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=60"}
        )

    @app.get("/badge/{channel_id}/status.svg", tags=["badges"])
    async def status_badge(channel_id: str) -> Response:
        card = cache.board().by_id.get(channel_id)
        if card is None:
            raise HTTPException(404, f"no channel {channel_id!r}")
        word = STATUS_WORDS[card.status].lower()
        return badge_response(svg.badge(card.channel.name, word, svg.BADGE_COLOURS[card.status]))

    @app.get("/badge/{channel_id}/uptime.svg", tags=["badges"])
    async def uptime_badge(
        channel_id: str, window: Annotated[Literal["24h", "7d", "30d", "90d"], Query()] = "30d"
    ) -> Response:
        card = cache.board().by_id.get(channel_id)
        if card is None:
            raise HTTPException(404, f"no channel {channel_id!r}")
        value = card.uptime.get(window)
        return badge_response(
            svg.badge(f"uptime {window}", svg.pct(value), svg.uptime_colour(value))
        )

    @app.get("/history.rss", include_in_schema=False)
    async def history_rss(request: Request) -> Response:
        body = feeds.rss(cache.board(), web.title, base_url(request))
        return Response(body, media_type="application/rss+xml", headers=CACHE)

    @app.get("/history.atom", include_in_schema=False)
    async def history_atom(request: Request) -> Response:
        body = feeds.atom(cache.board(), web.title, base_url(request))
        return Response(body, media_type="application/atom+xml", headers=CACHE)

    return app
