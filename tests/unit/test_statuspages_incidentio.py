"""incident.io: the Statuspage-compatible layer with its gaps, and the native proxy JSON.

The payloads are hand-made (tests/data/status-pages/README.md): no real capture exists.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sorawatch.statuspages import incidentio, statuspage
from sorawatch.statuspages.base import Level, PayloadError

DATA = Path(__file__).parents[1] / "data" / "status-pages"
NOW = datetime(2026, 2, 18, 21, 15, tzinfo=UTC)
SORA_INCIDENT = "01KNDY0YP57RCYBVN5SXS5AA81"
VIDEO_GENERATION = "01KM9S346Q3D25VT4F5V37E3S3"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_bytes())


def test_compat_summary_without_incidents_reports_them_missing() -> None:
    summary = statuspage.parse_summary(load("incidentio-compat-summary-openai.json"))
    assert summary.incidents is None  # key absent
    assert summary.maintenances is None  # null
    assert summary.indicator is Level.DEGRADED
    assert all(c.group is None for c in summary.components)
    assert incidentio.looks_like_incidentio(summary.ids)


def test_compat_summary_with_null_incidents_reads_as_missing() -> None:
    summary = statuspage.parse_summary(load("incidentio-compat-summary-slug-ids.json"))
    assert summary.incidents is None
    assert not incidentio.looks_like_incidentio(summary.ids)
    assert summary.reading("openai", NOW).level_for() is Level.OPERATIONAL


def test_compat_incidents_keep_only_the_open_one_and_build_its_url() -> None:
    (incident,) = statuspage.parse_incidents(load("incidentio-compat-incidents-openai.json"))
    assert incident.id == SORA_INCIDENT
    assert incident.name == "Sora 2 Degraded Performance"
    assert incident.impact is Level.DEGRADED
    assert incident.components == ()
    assert incident.url == f"https://status.openai.com/incidents/{SORA_INCIDENT}"


def test_proxy_reads_components_groups_incidents_and_maintenance() -> None:
    page = incidentio.parse_proxy(load("incidentio-proxy-openai-degraded.json"), "openai", NOW)
    by_name = {c.name: c for c in page.components}
    assert len(by_name) == 8
    assert by_name["Video generation"].level is Level.DEGRADED
    assert by_name["Video generation"].group == "Video"
    assert by_name["Chat Completions"].level is Level.OPERATIONAL  # not in affected_components
    assert by_name["Login"].group is None  # a top-level structure item
    (incident,) = page.incidents
    assert incident.impact is Level.DEGRADED
    assert VIDEO_GENERATION in incident.components
    assert [m.name for m in page.maintenances] == [
        "Feed storage migration"
    ]  # scheduled one left out
    assert page.level_for(component="Video generation") is Level.DEGRADED
    assert page.level_for(component="feed") is Level.MAINTENANCE
    assert page.level_for(component="Login") is Level.OPERATIONAL
    assert page.level_for(component="Video") is Level.DEGRADED  # a group name
    assert page.level_for() is Level.DEGRADED


def test_proxy_full_outage_is_major() -> None:
    page = incidentio.parse_proxy(load("incidentio-proxy-openai-full-outage.json"), "openai", NOW)
    assert page.level_for(component="Login") is Level.MAJOR
    assert page.incidents[0].impact is Level.MAJOR
    assert page.level_for(component="Sora") is Level.OPERATIONAL
    assert page.maintenances == ()
    assert page.level_for() is Level.MAJOR


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        pytest.param("degraded_performance", Level.DEGRADED, id="degraded"),
        pytest.param("partial_outage", Level.PARTIAL, id="partial"),
        pytest.param("full_outage", Level.MAJOR, id="full"),
        pytest.param("major_outage", Level.MAJOR, id="major"),
        pytest.param("under_maintenance", Level.MAINTENANCE, id="maintenance"),
        pytest.param("degraded_in_new_ways", Level.UNKNOWN, id="unknown-never-operational"),
    ],
)
def test_proxy_affected_status_words(word: str, expected: Level) -> None:
    doc = copy.deepcopy(load("incidentio-proxy-openai-full-outage.json"))
    doc["summary"]["affected_components"][0]["status"] = word
    doc["summary"]["ongoing_incidents"][0]["affected_components"][0]["status"] = word
    page = incidentio.parse_proxy(doc, "openai", NOW)
    assert page.level_for(component="Login") is expected


def test_ongoing_incident_without_any_impact_is_unknown() -> None:
    doc = copy.deepcopy(load("incidentio-proxy-openai-full-outage.json"))
    doc["summary"]["ongoing_incidents"][0]["affected_components"] = []
    doc["summary"]["affected_components"] = []
    page = incidentio.parse_proxy(doc, "openai", NOW)
    assert page.incidents[0].impact is Level.UNKNOWN
    assert page.level_for() is Level.UNKNOWN


def test_merge_keeps_compat_indicator_and_takes_proxy_links() -> None:
    compat = statuspage.summary_reading(
        load("incidentio-compat-summary-openai.json"), "openai", NOW
    )
    compat_incidents = statuspage.parse_incidents(load("incidentio-compat-incidents-openai.json"))
    compat = replace(compat, incidents=compat_incidents)
    # Without the proxy, the incident names no component: it cannot weigh on one.
    assert compat.level_for(component="Login") is Level.OPERATIONAL
    proxy = incidentio.parse_proxy(load("incidentio-proxy-openai-degraded.json"), "openai", NOW)
    merged = incidentio.merge(compat, proxy)
    assert merged.indicator is Level.DEGRADED
    (incident,) = merged.incidents
    assert VIDEO_GENERATION in incident.components
    assert merged.level_for(component="Sora") is Level.DEGRADED
    assert merged.level_for(component="Feed") is Level.MAINTENANCE


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param([], id="array"),
        pytest.param({"summary": []}, id="summary-not-object"),
        pytest.param({"summary": {"components": "many"}}, id="components-not-array"),
    ],
)
def test_unreadable_proxy_raises_payload_error(doc: object) -> None:
    with pytest.raises(PayloadError):
        incidentio.parse_proxy(doc, "x", NOW)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("01KNDY0YP57RCYBVN5SXS5AA81", True, id="ulid"),
        pytest.param("g1zp3jpycgbz", False, id="atlassian-id"),
        pytest.param("01KNDY0YP57RCYBVN5SXS5AA8", False, id="25-chars"),
        pytest.param("01KNDY0YP57RCYBVN5SXS5AA8U", False, id="letter-u-not-crockford"),
        pytest.param("81KNDY0YP57RCYBVN5SXS5AA81", False, id="time-overflow"),
        pytest.param("video-generation", False, id="slug"),
    ],
)
def test_is_ulid(value: str, expected: bool) -> None:
    assert incidentio.is_ulid(value) is expected


@given(st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=25, max_size=25))
def test_every_crockford_string_with_small_head_is_a_ulid(tail: str) -> None:
    assert incidentio.is_ulid("0" + tail)


@pytest.mark.parametrize(
    ("url", "proxy"),
    [
        pytest.param(
            "https://status.openai.com",
            "https://status.openai.com/proxy/status.openai.com",
            id="root",
        ),
        pytest.param(
            "https://status.openai.com/api/v2/summary.json",
            "https://status.openai.com/proxy/status.openai.com",
            id="api-url",
        ),
    ],
)
def test_proxy_url(url: str, proxy: str) -> None:
    assert incidentio.proxy_url(url) == proxy
