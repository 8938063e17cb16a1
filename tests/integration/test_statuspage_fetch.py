"""StatusPageReader against a real HTTP server (Starlette under uvicorn on 127.0.0.1, port 0)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sorawatch.statuspages import Level, StatusPageReader

DATA = Path(__file__).parents[1] / "data" / "status-pages"
T0 = datetime(2026, 2, 18, 21, 15, tzinfo=UTC)
HTML_404 = (DATA / "incidentio-unresolved-404.html").read_bytes()

Handler = Callable[[Request], Awaitable[Response]]


def fixture_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


@dataclass
class FakePages:
    """Scripted answers by path; every other path gets an HTML 404, as real hosts do."""

    routes: dict[str, Handler] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    seen_headers: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def endpoint(self, request: Request) -> Response:
        path = request.url.path
        self.hits[path] += 1
        self.seen_headers.setdefault(path, []).append(dict(request.headers))
        handler = self.routes.get(path)
        if handler is None:
            return Response(HTML_404, 404, media_type="text/html")
        return await handler(request)

    def json(
        self,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        etag: str | None = None,
        last_modified: str | None = None,
        content_type: str = "application/json; charset=utf-8",
    ) -> None:
        async def answer(request: Request) -> Response:
            if etag and request.headers.get("if-none-match") == etag:
                return Response(status_code=304, headers={"etag": etag})
            if last_modified and request.headers.get("if-modified-since") == last_modified:
                return Response(status_code=304)
            headers = {}
            if etag:
                headers["etag"] = etag
            if last_modified:
                headers["last-modified"] = last_modified
            return Response(body, status, headers=headers, media_type=content_type)

        self.routes[path] = answer

    def fixture(self, path: str, name: str, **kwargs: Any) -> None:
        self.json(path, fixture_bytes(name), **kwargs)

    def plain(
        self, path: str, status: int, body: bytes = b"", media_type: str = "text/html"
    ) -> None:
        async def answer(request: Request) -> Response:
            return Response(body, status, media_type=media_type)

        self.routes[path] = answer

    def hang(self, path: str) -> None:
        async def answer(request: Request) -> Response:
            await self.release.wait()
            return Response(b"{}", 200, media_type="application/json")

        self.routes[path] = answer


@dataclass
class Site:
    pages: FakePages
    url: str
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.pages.release.set()
        self.server.should_exit = True
        await self.task


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    pages = FakePages()
    app = Starlette(routes=[Route("/{path:path}", pages.endpoint)])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none", http="h11"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started
    port = server.servers[0].sockets[0].getsockname()[1]
    running = Site(pages, f"http://127.0.0.1:{port}", server, task)
    yield running
    if not task.done():
        await running.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


def reader(
    site: Site, client: httpx.AsyncClient, kind: Any = "auto", path: str = ""
) -> StatusPageReader:
    return StatusPageReader("vendor", site.url + path, kind, client, 2.0)


# --- detection ------------------------------------------------------------------------------


async def test_auto_detects_atlassian_statuspage_once(
    site: Site, client: httpx.AsyncClient
) -> None:
    site.pages.fixture(
        "/api/v2/summary.json", "statuspage-summary-instructure-unresolved-incident.json"
    )
    sp = reader(site, client)
    first = await sp.read(T0)
    assert sp.kind == "statuspage"
    assert first.error is None
    assert first.indicator is Level.DEGRADED
    assert [i.id for i in first.incidents] == ["g1zp3jpycgbz"]
    assert first.level_for(component="Benchmarks") is Level.DEGRADED
    await sp.read(T0 + timedelta(minutes=1))
    assert site.pages.hits["/proxy/127.0.0.1"] == 1  # the detection probe, not repeated
    assert site.pages.hits["/api/v2/summary.json"] == 3  # detection + two reads


async def test_auto_detects_incidentio_by_ulid_ids(site: Site, client: httpx.AsyncClient) -> None:
    site.pages.fixture("/api/v2/summary.json", "incidentio-compat-summary-openai.json")
    site.pages.fixture("/api/v2/incidents.json", "incidentio-compat-incidents-openai.json")
    site.pages.fixture("/proxy/127.0.0.1", "incidentio-proxy-openai-degraded.json")
    site.pages.plain("/api/v2/incidents/unresolved.json", 404, HTML_404)
    sp = reader(site, client)
    page = await sp.read(T0)
    assert sp.kind == "incidentio"
    assert page.error is None
    assert page.indicator is Level.DEGRADED
    assert page.level_for(component="Sora") is Level.DEGRADED
    assert page.level_for(component="Feed") is Level.MAINTENANCE
    assert page.level_for(component="Chat Completions") is Level.OPERATIONAL
    (incident,) = page.incidents
    assert incident.name == "Sora 2 Degraded Performance"
    assert incident.components  # linked through the proxy
    assert site.pages.hits["/api/v2/incidents/unresolved.json"] == 0


async def test_auto_detects_incidentio_by_proxy_route(
    site: Site, client: httpx.AsyncClient
) -> None:
    site.pages.fixture("/api/v2/summary.json", "incidentio-compat-summary-slug-ids.json")
    site.pages.json("/api/v2/incidents.json", b'{"incidents": []}')
    site.pages.fixture("/proxy/127.0.0.1", "incidentio-proxy-openai-full-outage.json")
    sp = reader(site, client)
    page = await sp.read(T0)
    assert sp.kind == "incidentio"
    assert page.level_for(component="Login") is Level.MAJOR
    assert page.level_for(component="video generation") is Level.OPERATIONAL


async def test_auto_detects_google_cloud_bare_array(site: Site, client: httpx.AsyncClient) -> None:
    doc = json.loads(fixture_bytes("gcp-incidents-with-vertex-gemini.json"))
    for row in doc:
        if row["id"] == "41E5S3mkTGDfkZuJZH5k":
            del row["end"]
            row["status_impact"] = "SERVICE_OUTAGE"
    site.pages.json("/incidents.json", json.dumps(doc).encode())
    sp = reader(site, client, path="/incidents.json")
    page = await sp.read(T0)
    assert sp.kind == "gcloud"
    assert page.level_for(product="Z0FZJAMvEB4j3NbCJs6B") is Level.MAJOR
    assert page.level_for(product="9H6gWUHvb2ZubeoxzQ1Y") is Level.OPERATIONAL
    assert page.incidents[0].url == f"{site.url}/incidents/41E5S3mkTGDfkZuJZH5k"


async def test_configured_gcloud_kind_reads_incidents_json(
    site: Site, client: httpx.AsyncClient
) -> None:
    site.pages.fixture("/incidents.json", "gcp-incidents-with-vertex-gemini.json")
    page = await reader(site, client, kind="gcloud").read(T0)
    assert page.error is None
    assert page.incidents == ()
    assert page.level_for(product="Z0FZJAMvEB4j3NbCJs6B") is Level.OPERATIONAL


async def test_detection_failure_is_retried(site: Site, client: httpx.AsyncClient) -> None:
    sp = reader(site, client)
    first = await sp.read(T0)
    assert sp.kind is None
    assert first.error is not None
    assert "404" in first.error
    assert first.level_for() is Level.UNKNOWN
    site.pages.fixture("/api/v2/summary.json", "statuspage-components-github-partial-outage.json")
    second = await sp.read(T0 + timedelta(minutes=1))
    assert sp.kind == "statuspage"
    assert second.level_for(component="GitHub Actions") is Level.PARTIAL


# --- incident.io quirks ---------------------------------------------------------------------


async def test_incidentio_without_proxy_uses_the_compatible_layer(
    site: Site, client: httpx.AsyncClient
) -> None:
    site.pages.fixture("/api/v2/summary.json", "incidentio-compat-summary-openai.json")
    site.pages.fixture("/api/v2/incidents.json", "incidentio-compat-incidents-openai.json")
    page = await reader(site, client, kind="incidentio").read(T0)
    assert page.error is None
    assert [i.id for i in page.incidents] == ["01KNDY0YP57RCYBVN5SXS5AA81"]
    assert page.level_for(component="Video generation") is Level.DEGRADED
    assert page.level_for() is Level.DEGRADED


async def test_incidentio_proxy_alone_when_compat_layer_is_gone(
    site: Site, client: httpx.AsyncClient
) -> None:
    site.pages.fixture("/proxy/127.0.0.1", "incidentio-proxy-openai-full-outage.json")
    page = await reader(site, client, kind="incidentio").read(T0)
    assert page.error is None
    assert page.level_for(component="Login") is Level.MAJOR


async def test_statuspage_fetches_active_maintenances_when_summary_has_none(
    site: Site, client: httpx.AsyncClient
) -> None:
    summary = json.loads(fixture_bytes("statuspage-components-github-partial-outage.json"))
    summary["status"] = {"indicator": "maintenance", "description": "Under Maintenance"}
    summary["incidents"] = []
    summary["scheduled_maintenances"] = []
    site.pages.json("/api/v2/summary.json", json.dumps(summary).encode())
    site.pages.fixture(
        "/api/v2/scheduled-maintenances/active.json",
        "statuspage-scheduled-maintenances-twilio-in-progress.json",
    )
    page = await reader(site, client, kind="statuspage").read(T0)
    assert [m.id for m in page.maintenances] == ["yll2y7hhb3hd"]
    assert page.level_for(component="Lookup SIM Swap") is Level.MAINTENANCE


# --- failures are data ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "media_type", "error_part"),
    [
        pytest.param(404, HTML_404, "text/html", "HTTP 404", id="html-404"),
        pytest.param(200, HTML_404, "text/html", "content-type", id="html-200"),
        pytest.param(
            200,
            b'{"status": {"indicator": "none"}}',
            "text/html",
            "content-type",
            id="json-in-html",
        ),
        pytest.param(200, b'{"page": {', "application/json", "malformed", id="malformed-json"),
        pytest.param(503, b'{"error": "busy"}', "application/json", "HTTP 503", id="json-503"),
        pytest.param(200, b"[1, 2, 3]", "application/json", "summary", id="wrong-shape"),
    ],
)
async def test_a_failure_without_history_is_an_unknown_reading(
    site: Site,
    client: httpx.AsyncClient,
    status: int,
    body: bytes,
    media_type: str,
    error_part: str,
) -> None:
    site.pages.plain("/api/v2/summary.json", status, body, media_type)
    page = await reader(site, client, kind="statuspage").read(T0)
    assert page.error is not None
    assert error_part in page.error
    assert not page.stale
    assert page.indicator is Level.UNKNOWN
    assert page.components == ()
    assert page.level_for() is Level.UNKNOWN
    assert page.level_for(product="anything") is Level.UNKNOWN


@pytest.mark.parametrize(
    ("status", "body", "media_type", "error_part"),
    [
        pytest.param(503, b"<html>down</html>", "text/html", "HTTP 503", id="503"),
        pytest.param(200, HTML_404, "text/html", "content-type", id="html"),
        pytest.param(200, b"{oops", "application/json", "malformed", id="malformed"),
    ],
)
async def test_a_failure_after_a_good_read_returns_it_stale(
    site: Site,
    client: httpx.AsyncClient,
    status: int,
    body: bytes,
    media_type: str,
    error_part: str,
) -> None:
    site.pages.fixture("/api/v2/summary.json", "statuspage-components-github-partial-outage.json")
    sp = reader(site, client, kind="statuspage")
    good = await sp.read(T0)
    site.pages.plain("/api/v2/summary.json", status, body, media_type)
    later = await sp.read(T0 + timedelta(minutes=1))
    assert later.stale
    assert later.error is not None
    assert error_part in later.error
    assert later.fetched_at == good.fetched_at
    assert later.components == good.components
    assert later.level_for(component="GitHub Actions") is Level.PARTIAL
    site.pages.fixture("/api/v2/summary.json", "statuspage-components-github-partial-outage.json")
    recovered = await sp.read(T0 + timedelta(minutes=2))
    assert not recovered.stale
    assert recovered.error is None
    assert recovered.fetched_at == T0 + timedelta(minutes=2)


async def test_a_timeout_returns_the_last_good_reading_stale(
    site: Site, client: httpx.AsyncClient
) -> None:
    site.pages.fixture("/incidents.json", "gcp-incidents-with-vertex-gemini.json")
    sp = StatusPageReader("gcp", site.url, "gcloud", client, 0.2)
    good = await sp.read(T0)
    site.pages.hang("/incidents.json")
    later = await sp.read(T0 + timedelta(minutes=1))
    assert later.stale
    assert later.error is not None
    assert "timed out" in later.error
    assert later.fetched_at == good.fetched_at


async def test_a_connect_error_returns_the_last_good_reading_stale(
    site: Site, client: httpx.AsyncClient
) -> None:
    site.pages.fixture(
        "/api/v2/summary.json", "statuspage-summary-instructure-unresolved-incident.json"
    )
    sp = reader(site, client, kind="statuspage")
    good = await sp.read(T0)
    await site.stop()
    later = await sp.read(T0 + timedelta(minutes=1))
    assert later.stale
    assert later.error is not None
    assert "ConnectError" in later.error
    assert later.incidents == good.incidents
    assert later.level_for() is Level.DEGRADED


# --- conditional GETs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("validators", "request_header"),
    [
        pytest.param({"etag": '"v1"'}, "if-none-match", id="etag"),
        pytest.param(
            {"last_modified": "Wed, 18 Feb 2026 21:14:05 GMT"},
            "if-modified-since",
            id="last-modified",
        ),
    ],
)
async def test_304_is_the_same_as_the_last_good_reading(
    site: Site, client: httpx.AsyncClient, validators: dict[str, str], request_header: str
) -> None:
    site.pages.fixture(
        "/api/v2/summary.json", "statuspage-components-github-partial-outage.json", **validators
    )
    sp = reader(site, client, kind="statuspage")
    first = await sp.read(T0)
    second = await sp.read(T0 + timedelta(minutes=1))
    sent = site.pages.seen_headers["/api/v2/summary.json"]
    assert request_header not in sent[0]
    assert sent[1][request_header] == next(iter(validators.values()))
    assert not second.stale
    assert second.error is None
    assert second.fetched_at == T0 + timedelta(minutes=1)
    assert second.components == first.components
    assert second.level_for(component="GitHub Actions") is Level.PARTIAL


async def test_304_without_a_remembered_body_is_a_failure(
    site: Site, client: httpx.AsyncClient
) -> None:
    site.pages.plain("/api/v2/summary.json", 304)
    page = await reader(site, client, kind="statuspage").read(T0)
    assert page.error is not None
    assert "304" in page.error
    assert page.level_for() is Level.UNKNOWN
