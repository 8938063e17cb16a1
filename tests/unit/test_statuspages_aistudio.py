"""AI Studio / Gemini API ListIncidentsHistory RPC answer (real capture, 2026-04-17)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sorawatch.statuspages import aistudio
from sorawatch.statuspages.base import Level, PayloadError

DATA = Path(__file__).parents[1] / "data" / "status-pages"
NOW = datetime(2026, 4, 17, 18, 0, tzinfo=UTC)


def load() -> Any:
    return json.loads((DATA / "aistudio-list-incidents-history-sample.json").read_bytes())


def test_history_has_fifty_incidents_with_both_severities() -> None:
    history = aistudio.parse_history(load())
    assert len(history) == 50
    impacts = {i.impact for i in history}
    assert impacts == {Level.DEGRADED, Level.MAJOR}
    assert sum(i.impact is Level.MAJOR for i in history) == 14


def test_two_incidents_are_still_open() -> None:
    page = aistudio.parse_incidents_history(load(), "aistudio", NOW)
    assert [(i.id, i.status, i.components) for i in page.incidents] == [
        ("GeminiAPI-new-keys-20260417", "detected", ("Gemini API",)),
        ("AIStudio-model-errors-20260417", "detected", ("AI Studio",)),
    ]
    assert page.incidents[0].started_at == datetime.fromtimestamp(1776466800, UTC)
    assert page.level_for(component="Gemini API") is Level.DEGRADED
    assert page.level_for(component="AI Studio") is Level.DEGRADED
    assert page.level_for(component="Multimodal Live") is Level.OPERATIONAL
    assert page.level_for() is Level.DEGRADED


def test_resolution_is_the_type_four_update() -> None:
    history = {i.id: i for i in aistudio.parse_history(load())}
    latency = history["AIStudio-latency-issue-20260402"]
    assert latency.status == "resolved"
    assert latency.resolved_at == datetime.fromtimestamp(1776384000, UTC)
    assert latency.started_at == datetime.fromtimestamp(1775134800, UTC)


def test_multi_component_incidents_name_all_three() -> None:
    history = aistudio.parse_history(load())
    assert any(set(i.components) == {"Gemini API", "Multimodal Live", "AI Studio"} for i in history)


def test_a_severity_two_open_incident_is_major() -> None:
    doc = load()
    doc[0][0][0][2] = 2
    page = aistudio.parse_incidents_history(doc, "aistudio", NOW)
    assert page.level_for(component="Gemini API") is Level.MAJOR
    assert page.level_for(component="AI Studio") is Level.DEGRADED


def test_unwrapping_depth_does_not_matter() -> None:
    doc = load()
    assert aistudio.parse_history(doc[0][0]) == aistudio.parse_history(doc)


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param({"incidents": []}, id="object"),
        pytest.param([[1, 2]], id="numbers"),
        pytest.param([[["id", "title", 1, []], 7]], id="mixed-entries"),
    ],
)
def test_unreadable_answers_raise_payload_error(doc: object) -> None:
    with pytest.raises(PayloadError):
        aistudio.parse_history(doc)
