"""Scripted status pages in each kind's real shape, quirks included."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from sorawatch.simulator import Simulator, parse_scenario

SCENARIO = """
name: pages
loop: 100s
status_pages:
  vendor:
    kind: statuspage
    name: Vendor
    components: {"Video API": operational, "Web": operational, "Billing": operational}
    groups: {"Platform": ["Video API", "Web"]}
    timeline:
      - {at: 10s, components: {"Video API": major_outage}, incident: "Video API down"}
      - {at: 30s, components: {"Video API": operational}}
      - {at: 40s, components: {"Billing": under_maintenance}, maintenance: "DB upgrade"}
      - {at: 50s, components: {"Billing": operational}}
  openai:
    kind: incidentio
    name: OpenAI
    components: {"Video generation": operational, "Sora": operational}
    timeline:
      - at: 40s
        components: {"Video generation": degraded_performance}
        incident: "Sora 2 Degraded Performance"
      - {at: 80s, components: {"Video generation": operational}}
  gcp:
    kind: gcloud
    products:
      - id: Z0FZJAMvEB4j3NbCJs6B
        title: Vertex Gemini API
        current_title: Gemini on Agent Platform
      - {id: other, title: Other}
    timeline:
      - at: 20s
        incident: Vertex video generation failing
        products: [Z0FZJAMvEB4j3NbCJs6B]
        status_impact: SERVICE_OUTAGE
        severity: high
      - {at: 60s, resolve: true}
"""
EPOCH = 1_790_000_000.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Pages:
    sim: Simulator
    clock: FakeClock
    client: httpx.AsyncClient

    async def get(self, page: str, path: str) -> httpx.Response:
        return await self.client.get(f"/status/{page}/{path}")

    async def json(self, page: str, path: str, at: float) -> Any:
        self.clock.now = at
        resp = await self.get(page, path)
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"] == "application/json"
        return resp.json()


@pytest_asyncio.fixture
async def pages() -> AsyncIterator[Pages]:
    clock = FakeClock()
    sim = Simulator(parse_scenario(SCENARIO), clock=clock, epoch=EPOCH)
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        yield Pages(sim, clock, client)


def _by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in rows}


@pytest.mark.parametrize(
    ("at", "indicator", "video_api", "platform"),
    [
        pytest.param(0, "none", "operational", "operational", id="calm"),
        pytest.param(15, "critical", "major_outage", "major_outage", id="outage"),
        pytest.param(45, "maintenance", "operational", "operational", id="maintenance"),
        pytest.param(115, "critical", "major_outage", "major_outage", id="next-loop"),
    ],
)
async def test_statuspage_summary_follows_the_timeline(
    pages: Pages, at: float, indicator: str, video_api: str, platform: str
) -> None:
    body = await pages.json("vendor", "api/v2/summary.json", at)
    assert set(body) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert body["page"]["url"] == "http://sim/status/vendor"
    assert body["page"]["time_zone"] == "Etc/UTC"
    assert body["status"]["indicator"] == indicator
    rows = _by_name(body["components"])
    assert rows["Video API"]["status"] == video_api
    group = rows["Platform"]
    assert group["group"] is True
    assert rows["Video API"]["group_id"] == group["id"]
    assert set(group["components"]) == {rows["Video API"]["id"], rows["Web"]["id"]}
    assert group["status"] == platform
    assert re.fullmatch(r"[0-9a-z]{12}", rows["Web"]["id"])


async def test_statuspage_incident_lifecycle(pages: Pages) -> None:
    during = await pages.json("vendor", "api/v2/incidents/unresolved.json", 15)
    [incident] = during["incidents"]
    assert (incident["name"], incident["status"], incident["impact"]) == (
        "Video API down",
        "investigating",
        "critical",
    )
    assert incident["created_at"] == "2026-09-21T14:13:30.000Z"  # EPOCH + 10 s
    assert [c["name"] for c in incident["components"]] == ["Video API"]
    [update] = incident["incident_updates"]
    assert update["affected_components"] == [
        {
            "code": incident["components"][0]["id"],
            "name": "Video API",
            "old_status": "operational",
            "new_status": "major_outage",
        }
    ]
    after = await pages.json("vendor", "api/v2/incidents.json", 35)
    [resolved] = after["incidents"]
    assert resolved["id"] == incident["id"]
    assert resolved["status"] == "resolved"
    assert resolved["resolved_at"] == "2026-09-21T14:13:50.000Z"
    assert [u["status"] for u in resolved["incident_updates"]] == ["resolved", "investigating"]
    assert (await pages.json("vendor", "api/v2/incidents/unresolved.json", 35))["incidents"] == []


async def test_statuspage_maintenance(pages: Pages) -> None:
    active = await pages.json("vendor", "api/v2/scheduled-maintenances/active.json", 45)
    [maint] = active["scheduled_maintenances"]
    assert (maint["name"], maint["status"], maint["impact"]) == (
        "DB upgrade",
        "in_progress",
        "maintenance",
    )
    assert "scheduled_for" in maint and "scheduled_until" in maint
    done = await pages.json("vendor", "api/v2/scheduled-maintenances.json", 55)
    assert [m["status"] for m in done["scheduled_maintenances"]] == ["completed"]
    status = await pages.json("vendor", "api/v2/status.json", 55)
    assert status["status"] == {"indicator": "none", "description": "All Systems Operational"}


async def test_incidentio_compat_layer_has_its_gaps(pages: Pages) -> None:
    summary = await pages.json("openai", "api/v2/summary.json", 50)
    assert set(summary) == {"page", "components", "status"}  # no incidents, no maintenances
    assert "time_zone" not in summary["page"]
    rows = _by_name(summary["components"])
    assert rows["Video generation"]["id"] == "video-generation"
    assert rows["Video generation"]["status"] == "degraded_performance"
    assert "group_id" not in rows["Sora"] and "group" not in rows["Sora"]
    assert summary["status"]["indicator"] == "minor"
    incidents = (await pages.json("openai", "api/v2/incidents.json", 50))["incidents"]
    [incident] = incidents
    assert incident["name"] == "Sora 2 Degraded Performance"
    assert re.fullmatch(r"01K[0-9A-Z]{23}", incident["id"])
    assert "components" not in incident
    assert incident["shortlink"] is None
    for missing in (
        "api/v2/incidents/unresolved.json",
        "api/v2/scheduled-maintenances/upcoming.json",
    ):
        resp = await pages.get("openai", missing)
        assert resp.status_code == 404
        assert resp.headers["content-type"].startswith("text/html")


async def test_incidentio_native_proxy(pages: Pages) -> None:
    body = await pages.json("openai", "proxy/status.openai.com", 50)
    summary = body["summary"]
    names = {c["id"]: c["name"] for c in summary["components"]}
    assert sorted(names.values()) == ["Sora", "Video generation"]
    [affected] = summary["affected_components"]
    assert names[affected["component_id"]] == "Video generation"
    assert affected["status"] == "degraded_performance"
    [ongoing] = summary["ongoing_incidents"]
    assert ongoing["name"] == "Sora 2 Degraded Performance"
    items = summary["structure"]["items"]
    assert [i["component"]["name"] for i in items] == ["Video generation", "Sora"]
    calm = await pages.json("openai", "proxy/status.openai.com", 90)
    assert calm["summary"]["affected_components"] == []
    assert calm["summary"]["ongoing_incidents"] == []


async def test_gcloud_incidents_and_products(pages: Pages) -> None:
    assert await pages.json("gcp", "incidents.json", 5) == []
    [open_incident] = await pages.json("gcp", "incidents.json", 30)
    assert "end" not in open_incident
    assert open_incident["status_impact"] == "SERVICE_OUTAGE"
    assert open_incident["severity"] == "high"
    assert open_incident["affected_products"] == [
        {"title": "Vertex Gemini API", "id": "Z0FZJAMvEB4j3NbCJs6B"}
    ]
    assert open_incident["begin"] == "2026-09-21T14:13:40+00:00"
    assert open_incident["most_recent_update"] == open_incident["updates"][0]
    assert open_incident["currently_affected_locations"] == [{"title": "Global", "id": "global"}]
    [closed] = await pages.json("gcp", "incidents.json", 70)
    assert closed["id"] == open_incident["id"]
    assert closed["end"] == "2026-09-21T14:14:20+00:00"
    assert closed["updates"][0]["status"] == "AVAILABLE"
    products = await pages.json("gcp", "products.json", 70)
    assert products["products"][0] == {
        "title": "Vertex Gemini API",
        "id": "Z0FZJAMvEB4j3NbCJs6B",
        "current_title": "Gemini on Agent Platform",
    }


@pytest.mark.parametrize(
    ("page", "path"),
    [
        pytest.param("vendor", "api/v2/nothing.json", id="statuspage-unknown"),
        pytest.param("gcp", "api/v2/summary.json", id="gcloud-has-no-v2"),
        pytest.param("nobody", "api/v2/summary.json", id="unknown-page"),
    ],
)
async def test_unknown_page_paths_are_404(pages: Pages, page: str, path: str) -> None:
    assert (await pages.get(page, path)).status_code == 404


async def test_page_state_in_control_endpoint(pages: Pages) -> None:
    pages.clock.now = 15
    state = (await pages.client.get("/_sim/state")).json()
    assert state["status_pages"]["vendor"]["open_incidents"] == ["Video API down"]
    assert state["status_pages"]["openai"]["components"]["Video generation"] == "operational"
    assert pages.sim.stats().status_page_requests == 0
