"""Atlassian Statuspage v2 documents, read from real captures (tests/data/status-pages)."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sorawatch.statuspages import statuspage
from sorawatch.statuspages.base import Level, PayloadError

DATA = Path(__file__).parents[1] / "data" / "status-pages"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads((DATA / name).read_bytes())


INSTRUCTURE = "statuspage-summary-instructure-unresolved-incident.json"
GITHUB = "statuspage-components-github-partial-outage.json"
BOX = "statuspage-components-box-groups-degraded.json"
TWILIO = "statuspage-scheduled-maintenances-twilio-in-progress.json"


def test_instructure_summary_reads_minor_with_one_identified_incident() -> None:
    page = statuspage.summary_reading(load(INSTRUCTURE), "instructure", NOW)
    assert page.indicator is Level.DEGRADED  # "minor", "Partially Degraded Service"
    levels = Counter(c.level for c in page.components)
    # 24 rows: 3 are group containers (all degraded), so 21 leaves of which 8 degraded.
    assert len(page.components) == 21
    assert levels == {Level.OPERATIONAL: 13, Level.DEGRADED: 8}
    (incident,) = page.incidents
    assert incident.id == "g1zp3jpycgbz"
    assert incident.status == "identified"
    assert incident.impact is Level.DEGRADED
    assert incident.resolved_at is None
    assert incident.started_at == datetime(2021, 12, 7, 16, 6, 43, 172000, tzinfo=UTC)
    assert incident.url == "https://stspg.io/0vf16sb2j8xn"
    assert "Canvas - Canvas" in incident.components
    assert page.maintenances == ()
    assert page.level_for() is Level.DEGRADED


def test_instructure_raw_file_has_eleven_degraded_rows_including_groups() -> None:
    rows = load(INSTRUCTURE)["components"]
    assert sum(r["status"] == "degraded_performance" for r in rows) == 11
    assert sum(r["group"] for r in rows) == 3


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        pytest.param("Benchmarks", Level.DEGRADED, id="degraded-leaf"),
        pytest.param("— Chat", Level.OPERATIONAL, id="operational-leaf"),
        pytest.param("Canvas", Level.DEGRADED, id="leaf-named-like-its-group"),
        pytest.param("MasteryConnect", Level.DEGRADED, id="group-name-worst-child"),
        pytest.param("Portfolium - Website", Level.DEGRADED, id="group-qualified"),
        pytest.param("Blackboard", Level.UNKNOWN, id="absent"),
    ],
)
def test_instructure_component_levels(component: str, expected: Level) -> None:
    page = statuspage.summary_reading(load(INSTRUCTURE), "instructure", NOW)
    assert page.level_for(component=component) is expected


def test_instructure_groups_label_their_children() -> None:
    page = statuspage.summary_reading(load(INSTRUCTURE), "instructure", NOW)
    groups = Counter(c.group for c in page.components)
    assert groups == {"Canvas": 14, "MasteryConnect": 4, "Portfolium": 3}


def test_github_components_partial_outage_on_actions() -> None:
    page = statuspage.summary_reading(load(GITHUB), "github", NOW)
    assert len(page.components) == 10
    assert page.level_for(component="GitHub Actions") is Level.PARTIAL
    assert page.level_for(component="github actions") is Level.PARTIAL
    assert page.level_for(component="Git Operations") is Level.OPERATIONAL
    assert all(c.group is None for c in page.components)
    # components.json has no status block: the indicator is derived from the components.
    assert page.indicator is Level.PARTIAL
    assert page.level_for() is Level.PARTIAL


def test_box_group_rows_are_skipped_when_scoring() -> None:
    page = statuspage.summary_reading(load(BOX), "box", NOW)
    assert len(page.components) == 52 - 7
    assert "Box Web Application" not in {c.name for c in page.components}
    (degraded,) = [c for c in page.components if c.level is not Level.OPERATIONAL]
    assert degraded.name == "Admin Console & Functionality"
    assert degraded.group == "Box Web Application"
    assert page.level_for(component="Box Web Application") is Level.DEGRADED
    assert page.level_for(component="Box Platform / API") is Level.OPERATIONAL


def test_box_duplicate_names_are_told_apart_by_group() -> None:
    page = statuspage.summary_reading(load(BOX), "box", NOW)
    searches = [c for c in page.components if c.name == "Search"]
    assert len(searches) == 3
    assert page.level_for(component="Box Web Application - Search") is Level.OPERATIONAL


def test_twilio_in_progress_maintenance_covers_its_components() -> None:
    doc = load(TWILIO)
    (maint,) = statuspage.parse_maintenances(doc)
    assert maint.id == "yll2y7hhb3hd"
    assert maint.status == "in_progress"
    assert maint.impact is Level.MAINTENANCE
    assert maint.started_at == datetime(2026, 9, 18, 17, 43, 2, 303000, tzinfo=UTC)
    page = statuspage.summary_reading(doc, "twilio", NOW)
    assert page.level_for() is Level.MAINTENANCE
    for name in (
        "Verify Silent Network Auth",
        "Lookup Identity Match",
        "Lookup Line Type Intelligence [Twilio API]",
        "CARRIER NETWORK - Lookup SIM Swap",
        "trrz5ztt7pl8",
    ):
        assert page.level_for(component=name) is Level.MAINTENANCE, name
    # The completed maintenance covers nothing any more.
    assert page.level_for(component="MMS Long Code, North America") is Level.UNKNOWN


def test_maintenances_merge_into_a_summary_reading() -> None:
    page = statuspage.summary_reading(load(GITHUB), "github", NOW)
    merged = statuspage.with_maintenances(load(TWILIO), page)
    assert [m.id for m in merged.maintenances] == ["yll2y7hhb3hd"]
    assert merged.components == page.components


def test_resolved_incidents_are_left_out() -> None:
    doc = copy.deepcopy(load(INSTRUCTURE))
    doc["incidents"][0]["status"] = "resolved"
    doc["incidents"][0]["resolved_at"] = "2021-12-07T12:00:00.000-07:00"
    page = statuspage.summary_reading(doc, "instructure", NOW)
    assert page.incidents == ()
    assert statuspage.parse_incidents(doc) == ()


@pytest.mark.parametrize(
    ("impact", "expected"),
    [
        pytest.param("none", Level.OPERATIONAL, id="none"),
        pytest.param("minor", Level.DEGRADED, id="minor"),
        pytest.param("major", Level.PARTIAL, id="major"),
        pytest.param("critical", Level.MAJOR, id="critical"),
        pytest.param("catastrophic", Level.UNKNOWN, id="unknown-word"),
    ],
)
def test_incident_impact_is_read_on_the_indicator_scale(impact: str, expected: Level) -> None:
    doc = copy.deepcopy(load(INSTRUCTURE))
    doc["incidents"][0]["impact"] = impact
    doc["status"]["indicator"] = "none"
    page = statuspage.summary_reading(doc, "instructure", NOW)
    assert page.incidents[0].impact is expected
    assert page.level_for(component="— Chat") is Level.OPERATIONAL
    # The indicator reads none, yet an open incident still counts.
    assert page.level_for().rank >= expected.rank


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        pytest.param("operational", Level.OPERATIONAL, id="operational"),
        pytest.param("under_maintenance", Level.MAINTENANCE, id="maintenance"),
        pytest.param("degraded_performance", Level.DEGRADED, id="degraded"),
        pytest.param("partial_outage", Level.PARTIAL, id="partial"),
        pytest.param("major_outage", Level.MAJOR, id="major"),
        pytest.param("full_outage", Level.MAJOR, id="incidentio-full"),
        pytest.param("on_fire", Level.UNKNOWN, id="unknown-never-operational"),
        pytest.param(None, Level.UNKNOWN, id="missing"),
    ],
)
def test_component_words(word: str | None, expected: Level) -> None:
    doc = copy.deepcopy(load(GITHUB))
    doc["components"][0]["status"] = word
    page = statuspage.summary_reading(doc, "github", NOW)
    assert page.level_for(component="Git Operations") is expected


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param([], id="array"),
        pytest.param({"hello": "world"}, id="no-known-key"),
        pytest.param({"components": {"a": 1}}, id="components-not-array"),
        pytest.param({"components": [1, 2]}, id="component-not-object"),
    ],
)
def test_unreadable_summaries_raise_payload_error(doc: object) -> None:
    with pytest.raises(PayloadError):
        statuspage.summary_reading(doc, "x", NOW)


@pytest.mark.parametrize(
    ("url", "base"),
    [
        pytest.param("https://status.example.com", "https://status.example.com", id="root"),
        pytest.param("https://status.example.com/", "https://status.example.com", id="slash"),
        pytest.param(
            "https://status.example.com/api/v2/summary.json",
            "https://status.example.com",
            id="api-url",
        ),
    ],
)
def test_api_base(url: str, base: str) -> None:
    assert statuspage.api_base(url) == base
