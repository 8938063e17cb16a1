"""The level scale, the Status mapping, level_for's folding rules, and the JSON guards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sorawatch.domain.status import Status
from sorawatch.statuspages.base import (
    ComponentReading,
    IncidentReading,
    Level,
    PayloadError,
    StatusReading,
    decode_json,
    parse_time,
    to_status,
    unknown_reading,
    worst,
)

NOW = datetime(2026, 2, 18, 21, 15, tzinfo=UTC)


def comp(name: str, level: Level, group: str | None = None, ident: str = "") -> ComponentReading:
    return ComponentReading(id=ident or name.lower(), name=name, level=level, group=group)


def inc(impact: Level, *components: str, ident: str = "i1") -> IncidentReading:
    return IncidentReading(ident, "incident", impact, "investigating", components=components)


def reading(
    indicator: Level = Level.OPERATIONAL,
    components: tuple[ComponentReading, ...] = (),
    incidents: tuple[IncidentReading, ...] = (),
    maintenances: tuple[IncidentReading, ...] = (),
) -> StatusReading:
    return StatusReading("page", NOW, indicator, components, incidents, maintenances)


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        pytest.param([], Level.OPERATIONAL, id="empty-is-operational"),
        pytest.param([Level.OPERATIONAL, Level.UNKNOWN], Level.UNKNOWN, id="unknown-beats-up"),
        pytest.param(
            [Level.UNKNOWN, Level.MAINTENANCE], Level.MAINTENANCE, id="known-beats-unknown"
        ),
        pytest.param([Level.MAINTENANCE, Level.DEGRADED], Level.DEGRADED, id="degraded-over-maint"),
        pytest.param([Level.PARTIAL, Level.DEGRADED], Level.PARTIAL, id="partial-over-degraded"),
        pytest.param([Level.MAJOR, Level.PARTIAL, Level.UNKNOWN], Level.MAJOR, id="major-tops"),
    ],
)
def test_worst_follows_the_scale(levels: list[Level], expected: Level) -> None:
    assert worst(levels) is expected


@pytest.mark.parametrize(
    ("level", "status"),
    [
        pytest.param(Level.OPERATIONAL, Status.OPERATIONAL, id="operational"),
        pytest.param(Level.MAINTENANCE, Status.MAINTENANCE, id="maintenance"),
        pytest.param(Level.DEGRADED, Status.DEGRADED, id="degraded"),
        pytest.param(Level.PARTIAL, Status.DEGRADED, id="partial-is-degraded"),
        pytest.param(Level.MAJOR, Status.SUSPENDED, id="major-is-suspended"),
        pytest.param(Level.UNKNOWN, Status.UNKNOWN, id="unknown"),
    ],
)
def test_to_status(level: Level, status: Status) -> None:
    assert to_status(level) is status


KNOWN = [lv for lv in Level if lv is not Level.UNKNOWN]


@given(st.sampled_from(KNOWN), st.sampled_from(KNOWN))
def test_to_status_keeps_the_order_of_known_levels(a: Level, b: Level) -> None:
    if a.rank <= b.rank:
        assert to_status(a).severity <= to_status(b).severity


@given(st.lists(st.sampled_from(list(Level)), min_size=1))
def test_worst_is_a_member_and_dominates(levels: list[Level]) -> None:
    top = worst(levels)
    assert top in levels
    assert all(lv.rank <= top.rank for lv in levels)


@pytest.mark.parametrize(
    ("page", "query", "expected"),
    [
        pytest.param(
            reading(components=(comp("Video generation", Level.DEGRADED),)),
            "video GENERATION",
            Level.DEGRADED,
            id="name-is-case-insensitive",
        ),
        pytest.param(
            reading(
                components=(comp("Sora", Level.OPERATIONAL),), incidents=(inc(Level.MAJOR, "sora"),)
            ),
            "Sora",
            Level.MAJOR,
            id="incident-listing-the-component-by-id",
        ),
        pytest.param(
            reading(
                components=(comp("Sora", Level.OPERATIONAL, ident="abc"),),
                incidents=(inc(Level.PARTIAL, "Other"),),
            ),
            "Sora",
            Level.OPERATIONAL,
            id="incident-on-another-component-ignored",
        ),
        pytest.param(
            reading(
                components=(comp("Feed", Level.OPERATIONAL),),
                maintenances=(inc(Level.MAINTENANCE, "feed"),),
            ),
            "Feed",
            Level.MAINTENANCE,
            id="maintenance-covering-it",
        ),
        pytest.param(
            reading(components=(comp("Sora", Level.OPERATIONAL),)),
            "Sora 2",
            Level.UNKNOWN,
            id="no-such-component-is-unknown",
        ),
        pytest.param(
            reading(
                components=(
                    comp("Search", Level.DEGRADED, group="Web"),
                    comp("Search", Level.OPERATIONAL, group="Mobile"),
                ),
            ),
            "mobile - search",
            Level.OPERATIONAL,
            id="group-qualified-name",
        ),
        pytest.param(
            reading(
                components=(
                    comp("Upload", Level.OPERATIONAL, group="Web"),
                    comp("Preview", Level.PARTIAL, group="Web"),
                ),
            ),
            "web",
            Level.PARTIAL,
            id="group-name-is-worst-child",
        ),
        pytest.param(
            reading(incidents=(inc(Level.DEGRADED, "CARRIER - Lookup"),)),
            "lookup",
            Level.DEGRADED,
            id="group-dash-name-reference",
        ),
    ],
)
def test_level_for_component(page: StatusReading, query: str, expected: Level) -> None:
    assert page.level_for(component=query) is expected


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        pytest.param(reading(), Level.OPERATIONAL, id="all-quiet"),
        pytest.param(
            reading(incidents=(inc(Level.PARTIAL),)),
            Level.PARTIAL,
            id="indicator-none-but-incident",
        ),
        pytest.param(
            reading(components=(comp("A", Level.DEGRADED),)),
            Level.DEGRADED,
            id="component-degraded",
        ),
        pytest.param(reading(Level.MAJOR), Level.MAJOR, id="indicator-critical"),
        pytest.param(
            reading(maintenances=(inc(Level.MAINTENANCE),)), Level.MAINTENANCE, id="maintenance"
        ),
        pytest.param(
            reading(components=(comp("A", Level.UNKNOWN),)), Level.UNKNOWN, id="unknown-word"
        ),
    ],
)
def test_level_for_the_whole_page(page: StatusReading, expected: Level) -> None:
    assert page.level_for() is expected


def test_level_for_product_matches_ids_only() -> None:
    page = reading(incidents=(inc(Level.DEGRADED, "Z0FZJ"), inc(Level.MAJOR, "other", ident="i2")))
    assert page.level_for(product="Z0FZJ") is Level.DEGRADED
    assert page.level_for(product="z0fzj") is Level.OPERATIONAL
    assert page.level_for(product="quiet") is Level.OPERATIONAL


def test_a_reading_without_data_is_unknown_for_everything() -> None:
    empty = unknown_reading("page", NOW, "GET x: HTTP 503")
    assert not empty.has_data
    assert empty.level_for() is Level.UNKNOWN
    assert empty.level_for(product="anything") is Level.UNKNOWN


@given(
    st.lists(st.sampled_from(list(Level)), max_size=8),
    st.lists(st.sampled_from(list(Level)), max_size=4),
    st.sampled_from(list(Level)),
)
def test_whole_page_level_is_never_better_than_any_part(
    comp_levels: list[Level], incident_levels: list[Level], indicator: Level
) -> None:
    page = reading(
        indicator,
        tuple(comp(f"c{n}", lv) for n, lv in enumerate(comp_levels)),
        tuple(inc(lv, ident=f"i{n}") for n, lv in enumerate(incident_levels)),
    )
    overall = page.level_for()
    for lv in [indicator, *comp_levels, *incident_levels]:
        assert overall.rank >= lv.rank
    for n in range(len(comp_levels)):
        assert page.level_for(component=f"c{n}").rank <= overall.rank


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        pytest.param("application/json", b'{"a": 1}', {"a": 1}, id="json"),
        pytest.param("application/json; charset=utf-8", b"[1]", [1], id="json-charset"),
        pytest.param("application/vnd.api+json", b"{}", {}, id="plus-json"),
        pytest.param("text/json", b"null", None, id="text-json"),
    ],
)
def test_decode_json_accepts_json_types(content_type: str, body: bytes, expected: object) -> None:
    assert decode_json(body, content_type) == expected


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("text/html; charset=utf-8", b"<html>404</html>", id="html-error-page"),
        pytest.param("text/html", b'{"looks": "like json"}', id="html-labelled-json-body"),
        pytest.param(None, b"{}", id="no-content-type"),
        pytest.param("application/json", b"{not json", id="malformed"),
        pytest.param("application/json", b"\xff\xfe\x00", id="not-utf8"),
    ],
)
def test_decode_json_refuses(content_type: str | None, body: bytes) -> None:
    with pytest.raises(PayloadError):
        decode_json(body, content_type)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            "2021-12-07T09:06:43.172-07:00",
            datetime(2021, 12, 7, 16, 6, 43, 172000, tzinfo=UTC),
            id="offset-to-utc",
        ),
        pytest.param(
            "2026-02-27T12:37:00+00:00", datetime(2026, 2, 27, 12, 37, tzinfo=UTC), id="utc"
        ),
        pytest.param(
            "2026-02-18T20:41:00.000Z", datetime(2026, 2, 18, 20, 41, tzinfo=UTC), id="zulu"
        ),
        pytest.param("2026-02-18T20:41:00", datetime(2026, 2, 18, 20, 41, tzinfo=UTC), id="naive"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="null"),
        pytest.param("yesterday", None, id="garbage"),
    ],
)
def test_parse_time(raw: object, expected: datetime | None) -> None:
    parsed = parse_time(raw)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == timedelta(0)


@given(st.datetimes(timezones=st.just(timezone(timedelta(hours=-7)))))
def test_parse_time_round_trips_any_offset(moment: datetime) -> None:
    assert parse_time(moment.isoformat()) == moment


def test_decode_json_refuses_absurd_nesting() -> None:
    with pytest.raises(PayloadError):
        decode_json(b"[" * 100_000 + b"]" * 100_000, "application/json")
