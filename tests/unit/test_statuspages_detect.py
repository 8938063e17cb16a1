"""Format detection against an in-memory page host (a fake JsonGetter, no network)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sorawatch.statuspages.base import FetchFailure, ReadFailure
from sorawatch.statuspages.detect import detect

DATA = Path(__file__).parents[1] / "data" / "status-pages"


@dataclass
class FakeHost:
    """URL → parsed JSON; anything else fails like an HTML 404 does."""

    docs: dict[str, object] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def serve(self, url: str, fixture: str) -> None:
        self.docs[url] = json.loads((DATA / fixture).read_bytes())

    async def get_json(self, url: str) -> object:
        self.asked.append(url)
        if url not in self.docs:
            raise FetchFailure(f"GET {url}: HTTP 404")
        return self.docs[url]


async def test_google_cloud_host_is_known_without_asking() -> None:
    host = FakeHost()
    assert await detect(host, "https://status.cloud.google.com") == "gcloud"
    assert host.asked == []


async def test_a_bare_array_at_incidents_json_is_google_style() -> None:
    host = FakeHost()
    url = "https://www.google.com/appsstatus/dashboard/incidents.json"
    host.serve(url, "gcp-incidents-with-vertex-gemini.json")
    assert await detect(host, url) == "gcloud"


async def test_a_bare_feed_under_any_root_is_google_style() -> None:
    host = FakeHost()
    host.serve(
        "https://mirror.example.com/gcp/incidents.json", "gcp-incidents-with-vertex-gemini.json"
    )
    assert await detect(host, "https://mirror.example.com/gcp") == "gcloud"
    assert host.asked[0] == "https://mirror.example.com/gcp/api/v2/summary.json"


@pytest.mark.parametrize(
    ("fixture", "proxy", "kind"),
    [
        pytest.param(
            "statuspage-summary-instructure-unresolved-incident.json",
            None,
            "statuspage",
            id="atlassian",
        ),
        pytest.param("incidentio-compat-summary-openai.json", None, "incidentio", id="ulid-ids"),
        pytest.param(
            "incidentio-compat-summary-slug-ids.json",
            "incidentio-proxy-openai-degraded.json",
            "incidentio",
            id="slug-ids-proxy-answers",
        ),
        pytest.param(
            "incidentio-compat-summary-slug-ids.json", None, "statuspage", id="slug-ids-no-proxy"
        ),
    ],
)
async def test_summary_json_pages(fixture: str, proxy: str | None, kind: str) -> None:
    host = FakeHost()
    host.serve("https://status.example.com/api/v2/summary.json", fixture)
    if proxy:
        host.serve("https://status.example.com/proxy/status.example.com", proxy)
    assert await detect(host, "https://status.example.com") == kind


async def test_an_envelope_at_a_statuspage_incidents_url_falls_back_to_summary() -> None:
    host = FakeHost()
    host.serve(
        "https://status.example.com/api/v2/summary.json",
        "statuspage-summary-instructure-unresolved-incident.json",
    )
    assert await detect(host, "https://status.example.com/api/v2/incidents.json") == "statuspage"


@pytest.mark.parametrize(
    "summary",
    [
        pytest.param({"page": {"status": "UP"}}, id="instatus-stub"),
        pytest.param([], id="array"),
    ],
)
async def test_lookalike_summaries_are_not_taken_as_proof(summary: object) -> None:
    host = FakeHost(docs={"https://status.example.com/api/v2/summary.json": summary})
    with pytest.raises(ReadFailure):
        await detect(host, "https://status.example.com")


async def test_nothing_answering_cannot_be_detected() -> None:
    with pytest.raises(ReadFailure):
        await detect(FakeHost(), "https://status.example.com")
