"""Server-rendered SVG: bars, chart and badges are well-formed and say what they show."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sorawatch.domain.incident import Incident
from sorawatch.domain.status import Status
from sorawatch.domain.uptime import DayBar
from sorawatch.web import svg
from sorawatch.web.board import HourLatency

D0 = date(2026, 11, 1)
NS = "{http://www.w3.org/2000/svg}"


def bars_of(statuses: list[Status]) -> list[DayBar]:
    return [
        DayBar(D0 + timedelta(days=i), 1.0 if s is Status.OPERATIONAL else 0.5, s, {s: 1.0})
        for i, s in enumerate(statuses)
    ]


def parse(text: str) -> ET.Element:
    if "xmlns=" not in text:
        text = text.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return ET.fromstring(text)


@given(st.lists(st.sampled_from(list(Status)), min_size=1, max_size=90))
def test_compact_bars_cover_every_day_with_its_status(statuses: list[Status]) -> None:
    root = parse(svg.day_bars_compact("ch", bars_of(statuses), {}, "99%"))
    painted: list[str] = []
    for rect in root.iter(f"{NS}rect"):
        x, w = int(rect.get("x", "0")), int(rect.get("width", "0"))
        first, count = x // 4, (w + 1) // 4
        assert len(painted) == first  # runs are contiguous, in order
        painted += [rect.get("class", "")] * count
    assert painted == [f"s-{s.value}" for s in statuses]


def test_full_bars_hover_text_names_uptime_and_incident_causes() -> None:
    inc = Incident(
        "i1",
        "ch",
        datetime(2026, 11, 2, 3, tzinfo=UTC),
        Status.SUSPENDED,
        Status.SUSPENDED,
        "503 <paused> & gone",
    )
    bars = bars_of([Status.OPERATIONAL, Status.SUSPENDED])
    root = parse(svg.day_bars(bars, {D0 + timedelta(days=1): [inc]}))
    titles = [t.text for t in root.iter(f"{NS}title")]
    assert titles[0] == "2026-11-01: 100.00%"
    assert (
        titles[1]
        == "2026-11-02: 50.00%, worst suspended, 1 incident: suspended — 503 <paused> & gone"
    )


@pytest.mark.parametrize(
    ("points", "expect"),
    [
        pytest.param([], "no latency measured", id="empty"),
        pytest.param(
            [
                HourLatency(datetime(2026, 11, 1, h, tzinfo=UTC), 100.0 + h, 300.0, 60)
                for h in range(24)
            ],
            "polyline",
            id="a-day",
        ),
    ],
)
def test_latency_chart(points: list[HourLatency], expect: str) -> None:
    text = svg.latency_chart(points)
    parse(text)
    assert expect in text


@pytest.mark.parametrize(
    ("label", "value"),
    [("Sora 2 (official relay)", "operational"), ("a<b & c", "99.84%"), ("uptime 30d", "—")],
)
def test_badges_are_well_formed_and_readable(label: str, value: str) -> None:
    root = parse(svg.badge(label, value, "#2e7d32"))
    assert root.get("aria-label") == f"{label}: {value}"
    assert [t.text for t in root.iter(f"{NS}text")] == [label, value]
    assert int(root.get("width", "0")) > 0
