"""Google Cloud Service Health incidents.json, from a real capture with every incident resolved."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sorawatch.statuspages import gcloud
from sorawatch.statuspages.base import Level, PayloadError

DATA = Path(__file__).parents[1] / "data" / "status-pages"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
VERTEX_GEMINI_INCIDENT = "41E5S3mkTGDfkZuJZH5k"
VERTEX_GEMINI_PRODUCT = "Z0FZJAMvEB4j3NbCJs6B"
VMWARE_ENGINE = "9H6gWUHvb2ZubeoxzQ1Y"


def load() -> list[dict[str, Any]]:
    doc: list[dict[str, Any]] = json.loads(
        (DATA / "gcp-incidents-with-vertex-gemini.json").read_bytes()
    )
    return doc


def reopened(impact: str | None = None, end: object = ...) -> list[dict[str, Any]]:
    """The capture with the Vertex Gemini incident made open again."""
    doc = load()
    for row in doc:
        if row["id"] == VERTEX_GEMINI_INCIDENT:
            if end is ...:
                del row["end"]
            else:
                row["end"] = end
            if impact:
                row["status_impact"] = impact
    return doc


def test_the_capture_has_no_open_incident() -> None:
    doc = load()
    assert len(doc) == 4
    page = gcloud.parse_incidents(doc, "gcp", NOW)
    assert page.incidents == ()
    assert page.indicator is Level.OPERATIONAL
    assert page.level_for(product=VERTEX_GEMINI_PRODUCT) is Level.OPERATIONAL
    assert page.level_for(product=VMWARE_ENGINE) is Level.OPERATIONAL


def test_reopened_information_incident_does_not_escalate() -> None:
    page = gcloud.parse_incidents(reopened(), "gcp", NOW)
    (incident,) = page.incidents
    assert incident.id == VERTEX_GEMINI_INCIDENT
    assert incident.status == "SERVICE_INFORMATION"
    assert incident.impact is Level.OPERATIONAL
    assert incident.started_at == datetime(2026, 2, 27, 12, 37, tzinfo=UTC)
    assert incident.url == f"https://status.cloud.google.com/incidents/{VERTEX_GEMINI_INCIDENT}"
    assert incident.name.startswith("Vertex AI Gemini API customers experienced")
    assert VERTEX_GEMINI_PRODUCT in incident.components
    assert page.level_for(product=VERTEX_GEMINI_PRODUCT) is Level.OPERATIONAL


@pytest.mark.parametrize(
    ("impact", "expected"),
    [
        pytest.param("SERVICE_INFORMATION", Level.OPERATIONAL, id="information"),
        pytest.param("SERVICE_DISRUPTION", Level.DEGRADED, id="disruption"),
        pytest.param("SERVICE_OUTAGE", Level.MAJOR, id="outage"),
        pytest.param("SERVICE_ON_FIRE", Level.UNKNOWN, id="unknown-word"),
    ],
)
def test_reopened_incident_levels_by_status_impact(impact: str, expected: Level) -> None:
    page = gcloud.parse_incidents(reopened(impact), "gcp", NOW)
    assert page.level_for(product=VERTEX_GEMINI_PRODUCT) is expected
    assert page.level_for(product="Dialogflow CX") is Level.OPERATIONAL  # titles never match
    assert page.level_for(product=VMWARE_ENGINE) is Level.OPERATIONAL  # another product
    assert page.indicator is expected


@pytest.mark.parametrize(
    "end",
    [pytest.param("", id="empty-string"), pytest.param(None, id="null")],
)
def test_an_empty_end_means_open(end: object) -> None:
    page = gcloud.parse_incidents(reopened("SERVICE_DISRUPTION", end=end), "gcp", NOW)
    assert page.level_for(product=VERTEX_GEMINI_PRODUCT) is Level.DEGRADED


def test_relative_uri_resolves_against_the_feed_folder() -> None:
    page = gcloud.parse_incidents(
        reopened(),
        "ws",
        NOW,
        gcloud.dashboard_url("https://www.google.com/appsstatus/dashboard/incidents.json"),
    )
    url = page.incidents[0].url
    assert url == f"https://www.google.com/appsstatus/dashboard/incidents/{VERTEX_GEMINI_INCIDENT}"


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param({"incidents": []}, id="envelope-not-bare-array"),
        pytest.param([1], id="row-not-object"),
        pytest.param([{"id": "x", "affected_products": "all"}], id="products-not-array"),
    ],
)
def test_unreadable_feeds_raise_payload_error(doc: object) -> None:
    with pytest.raises(PayloadError):
        gcloud.parse_incidents(doc, "gcp", NOW)


@pytest.mark.parametrize(
    ("url", "feed"),
    [
        pytest.param(
            "https://status.cloud.google.com",
            "https://status.cloud.google.com/incidents.json",
            id="root",
        ),
        pytest.param(
            "https://status.cloud.google.com/incidents.json",
            "https://status.cloud.google.com/incidents.json",
            id="feed",
        ),
    ],
)
def test_incidents_url(url: str, feed: str) -> None:
    assert gcloud.incidents_url(url) == feed
