"""Every surface of the web app, over a seeded store: shapes, enums, parsers, redaction."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import timedelta

import feedparser
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.webdata import BASE_SECRET, INCIDENT_FIELDS, NOW, SECRET, config, seed

from sorawatch.domain.incident import StatusChange
from sorawatch.domain.observation import Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status
from sorawatch.store.memory import MemoryStore
from sorawatch.web import WebService

COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INDICATORS = {"none", "minor", "major", "critical", "maintenance"}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
IMPACTS = {"none", "minor", "major", "critical", "maintenance"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    store = MemoryStore()
    await store.open()
    await seed(store)
    web = WebService(config(), store, now=lambda: NOW)
    await web.cache.rebuild()
    transport = httpx.ASGITransport(app=web.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    web.listener._sock.close() if web.listener._sock else None
    await store.close()


async def get_json(client: httpx.AsyncClient, path: str) -> object:
    r = await client.get(path)
    assert r.status_code == 200, (path, r.text)
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def check_page(page: dict[str, object]) -> None:
    assert set(page) >= {"id", "name", "url", "time_zone", "updated_at"}
    assert page["url"] == "https://status.example.test"


def check_component(c: dict[str, object]) -> None:
    assert set(c) >= {
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "position",
        "description",
        "showcase",
        "start_date",
        "group_id",
        "page_id",
        "group",
        "only_show_if_degraded",
    }
    assert c["status"] in COMPONENT_STATUSES


def check_incident(i: dict[str, object], maintenance: bool = False) -> None:
    assert set(i) >= INCIDENT_FIELDS
    assert i["status"] in (MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES)
    assert i["impact"] in IMPACTS
    for u in i["incident_updates"]:  # type: ignore[attr-defined]
        assert set(u) >= {"id", "status", "body", "incident_id", "created_at", "display_at"}


async def test_statuspage_status_and_summary(client: httpx.AsyncClient) -> None:
    status = await get_json(client, "/api/v2/status.json")
    assert isinstance(status, dict)
    check_page(status["page"])
    assert status["status"]["indicator"] in INDICATORS
    # beta is suspended: a major outage somewhere on the page
    assert status["status"]["indicator"] == "major"

    summary = await get_json(client, "/api/v2/summary.json")
    assert isinstance(summary, dict)
    assert set(summary) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    for c in summary["components"]:
        check_component(c)
    by_id = {c["id"]: c for c in summary["components"]}
    assert by_id["alpha"]["status"] == "operational"
    assert by_id["beta"]["status"] == "major_outage"
    assert by_id["gamma"]["status"] == "under_maintenance"
    group = by_id["group-sora"]
    assert group["group"] is True and set(group["components"]) == {"alpha", "beta"}
    assert by_id["alpha"]["group_id"] == "group-sora"
    # unresolved only
    assert [i["id"] for i in summary["incidents"]] == ["inc-beta-1"]
    for i in summary["incidents"]:
        check_incident(i)
    assert summary["incidents"][0]["impact"] == "critical"
    [maint] = summary["scheduled_maintenances"]
    check_incident(maint, maintenance=True)
    assert maint["status"] == "in_progress" and maint["components"][0]["id"] == "gamma"


async def test_statuspage_incident_lists(client: httpx.AsyncClient) -> None:
    every = await get_json(client, "/api/v2/incidents.json")
    assert isinstance(every, dict)
    ids = [i["id"] for i in every["incidents"]]
    assert ids == ["inc-beta-1", "inc-alpha-1"]  # open first, then newest
    resolved = every["incidents"][1]
    check_incident(resolved)
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    assert [u["status"] for u in resolved["incident_updates"]] == ["resolved", "investigating"]
    unresolved = await get_json(client, "/api/v2/incidents/unresolved.json")
    assert isinstance(unresolved, dict)
    assert [i["id"] for i in unresolved["incidents"]] == ["inc-beta-1"]
    components = await get_json(client, "/api/v2/components.json")
    assert isinstance(components, dict)
    assert len(components["components"]) == 4 + 3  # channels + groups
    for which, expected in (("", 1), ("/active", 1), ("/upcoming", 0)):
        m = await get_json(client, f"/api/v2/scheduled-maintenances{which}.json")
        assert isinstance(m, dict)
        assert len(m["scheduled_maintenances"]) == expected


async def test_native_api_channels(client: httpx.AsyncClient) -> None:
    channels = await get_json(client, "/api/v1/channels")
    assert isinstance(channels, list)
    by_id = {c["id"]: c for c in channels}
    assert by_id["beta"]["status"] == "suspended"
    assert by_id["alpha"]["stars"] is not None
    assert by_id["alpha"]["canary"]["completed_30d"] == 1
    assert by_id["alpha"]["p95_24h_ms"] > by_id["alpha"]["p50_24h_ms"] > 100
    assert 0.6 < by_id["beta"]["success_rate_24h"] < 0.7  # one in three answers blocked
    assert by_id["beta"]["risk_control_per_week"] == 0.25  # one entry in four weeks
    detail = await get_json(client, "/api/v1/channels/alpha")
    assert isinstance(detail, dict)
    assert len(detail["days"]) == 90
    bad_day = [d for d in detail["days"] if d["worst"] == "suspended"]
    assert len(bad_day) == 1 and bad_day[0]["uptime"] == pytest.approx(22 / 24)
    r = await client.get("/api/v1/channels/nope")
    assert r.status_code == 404


async def test_native_api_timeline_uptime_incidents(client: httpx.AsyncClient) -> None:
    timeline = await get_json(client, "/api/v1/channels/beta/timeline?since=2026-11-20T00:00:00Z")
    assert isinstance(timeline, list)
    assert [s["status"] for s in timeline] == ["operational", "risk_control", "suspended"]
    assert timeline[-1]["end"] is None
    uptime = await get_json(client, "/api/v1/channels/alpha/uptime")
    assert isinstance(uptime, dict)
    assert uptime["windows"]["24h"] == 1.0
    assert uptime["windows"]["7d"] == pytest.approx(1 - 2 / (7 * 24))
    incidents = await get_json(client, "/api/v1/incidents?channel=beta")
    assert isinstance(incidents, list)
    assert incidents[0]["evidence"][0]["outcome"] == "risk_control"
    assert (await client.get("/api/v1/incidents?limit=0")).status_code == 422


async def test_native_api_observations_are_paged_by_time(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    url = "/api/v1/channels/alpha/observations?since=2026-11-24T09:00:00Z&limit=70"
    pages = 0
    while url:
        page = await get_json(client, url)
        assert isinstance(page, dict)
        seen += [o["at"] for o in page["observations"]]
        pages += 1
        nxt = page["next_since"]
        url = (
            f"/api/v1/channels/alpha/observations?since={nxt.replace('+', '%2B')}&limit=70"
            if nxt
            else ""
        )
    assert pages == 3
    assert len(seen) == len(set(seen)) == 180
    assert seen == sorted(seen)


async def test_openapi_document(client: httpx.AsyncClient) -> None:
    doc = await get_json(client, "/api/v1/openapi.json")
    assert isinstance(doc, dict)
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path in (
        "/api/v1/channels",
        "/api/v1/channels/{channel_id}",
        "/api/v1/channels/{channel_id}/timeline",
        "/api/v1/channels/{channel_id}/uptime",
        "/api/v1/channels/{channel_id}/observations",
        "/api/v1/incidents",
        "/api/v1/export",
    ):
        assert "get" in paths[path], path
    schemas = doc["components"]["schemas"]
    assert "operational" in schemas["Status"]["enum"]


async def test_export(client: httpx.AsyncClient) -> None:
    body = await get_json(client, "/api/v1/export?format=json&since=30d")
    assert isinstance(body, dict)
    assert {c["id"] for c in body["channels"]} == {"alpha", "beta", "gamma", "check"}
    r = await client.get("/api/v1/export?format=csv")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["record"] for row in rows} == {"uptime", "segment", "incident"}
    assert (await client.get("/api/v1/export?format=xml")).status_code == 422


async def test_metrics_parse(client: httpx.AsyncClient) -> None:
    r = await client.get("/metrics")
    assert r.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    status = families["sorawatch_channel_status"]
    current = {s.labels["channel"]: s.labels["status"] for s in status.samples if s.value == 1.0}
    assert current == {
        "alpha": "operational",
        "beta": "suspended",
        "gamma": "maintenance",
        "check": "operational",
    }
    uptime = families["sorawatch_channel_uptime_ratio"]
    windows = {s.labels["window"] for s in uptime.samples if s.labels["channel"] == "alpha"}
    assert windows == {"24h", "7d", "30d", "90d"}
    spend = families["sorawatch_canary_spend_today_usd"]
    assert [(s.labels["channel"], s.value) for s in spend.samples] == [("alpha", 0.4)]
    assert "sorawatch_probe_latency_seconds" in families
    assert "sorawatch_probe_outcomes" in families


async def test_badges(client: httpx.AsyncClient) -> None:
    r = await client.get("/badge/beta/status.svg")
    assert r.headers["content-type"].startswith("image/svg+xml")
    svg = ET.fromstring(r.text)
    assert "suspended" in "".join(svg.itertext())
    r = await client.get("/badge/alpha/uptime.svg?window=7d")
    assert f"{(1 - 2 / (7 * 24)) * 100:.2f}%" in "".join(ET.fromstring(r.text).itertext())
    assert (await client.get("/badge/alpha/uptime.svg?window=1y")).status_code == 422
    assert (await client.get("/badge/nope/status.svg")).status_code == 404


@pytest.mark.parametrize("kind", ["rss", "atom"])
async def test_feeds_parse(client: httpx.AsyncClient, kind: str) -> None:
    r = await client.get(f"/history.{kind}")
    assert r.status_code == 200
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version.startswith(kind)
    titles = [e.title for e in feed.entries]
    assert titles == ["Investigating: Beta reverse suspended", "Resolved: Alpha relay suspended"]
    assert feed.entries[0].link == "https://status.example.test/channels/beta#incident-inc-beta-1"


async def test_pages(client: httpx.AsyncClient) -> None:
    r = await client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-encoding"] == "gzip"  # compressed once per board version
    html = r.text
    for text in ("Alpha relay", "Beta reverse", "Open incidents", "Suspended", "★"):
        assert text in html
    assert html.index("<h2>Open incidents") < html.index("<h2>Incident history")
    assert 'data-channel="beta" data-status="suspended"' in html
    partial = await client.get("/", headers={"X-Sorawatch-Partial": "1"})
    assert "<html" not in partial.text and 'data-channel="beta"' in partial.text
    page = await client.get("/channels/alpha")
    assert page.status_code == 200
    assert "Real jobs (canary)" in page.text and "<polyline" in page.text
    assert (await client.get("/channels/nope")).status_code == 404
    assert (await client.get("/static/live.js")).status_code == 200


async def test_nothing_reveals_a_key_or_credentials(client: httpx.AsyncClient) -> None:
    paths = [
        "/",
        "/channels/alpha",
        "/channels/beta",
        "/api/v2/summary.json",
        "/api/v2/incidents.json",
        "/api/v1/channels",
        "/api/v1/channels/alpha",
        "/api/v1/incidents",
        "/api/v1/channels/alpha/observations?since=2026-11-20T00:00:00Z",
        "/api/v1/export?format=json",
        "/api/v1/export?format=csv",
        "/history.rss",
        "/history.atom",
        "/metrics",
    ]
    for path in paths:
        body = (await client.get(path)).text
        for secret in (SECRET, BASE_SECRET, "sk-betakey", "AIzaSyTest", "example.test/v1"):
            assert secret not in body, (path, secret)
    # the redacted cause is still there, masked
    incidents = json.loads((await client.get("/api/v1/incidents?channel=alpha")).text)
    assert incidents[0]["cause"].endswith("provided: ***")


async def test_metrics_follow_a_status_change_and_count_observations() -> None:
    store = MemoryStore()
    await store.open()
    await seed(store)
    web = WebService(config(), store, now=lambda: NOW)
    await web.cache.rebuild()

    async def scrape(c: httpx.AsyncClient) -> dict[str, object]:
        text = (await c.get("/metrics")).text
        return {f.name: f for f in text_string_to_metric_families(text)}

    def status_of(families: dict[str, object], channel: str) -> str:
        family = families["sorawatch_channel_status"]
        return next(
            s.labels["status"]
            for s in family.samples  # type: ignore[attr-defined]
            if s.labels["channel"] == channel and s.value == 1.0
        )

    transport = httpx.ASGITransport(app=web.app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            assert status_of(await scrape(c), "beta") == "suspended"
            change = StatusChange(
                "beta", NOW - timedelta(seconds=1), Status.SUSPENDED, Status.OPERATIONAL, "ok"
            )
            await store.record_change(change, None)
            web.cache.touch("beta")
            await web.cache.rebuild()
            web.metrics.observe(Observation("beta", Source.LIGHT, NOW, Outcome.OK, 200, 120.0))
            families = await scrape(c)
            assert status_of(families, "beta") == "operational"  # not the cached text
            outcomes = families["sorawatch_probe_outcomes"]
            assert any(
                s.labels == {"channel": "beta", "source": "light", "outcome": "ok"}
                for s in outcomes.samples  # type: ignore[attr-defined]
            )
    finally:
        await web.listener.close(reserve=False)
        await store.close()
