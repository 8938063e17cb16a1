"""Every payload in tests/data/status-pages is read by the parser for its format.

A new file without a parser entry here fails the test, so no sample sits unread.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sorawatch.statuspages import aistudio, atom, gcloud, incidentio, statuspage
from sorawatch.statuspages.base import Level, PayloadError, StatusReading, decode_json

DATA = Path(__file__).parents[1] / "data" / "status-pages"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DOCS = {"SOURCES.md", "README.md"}


def _json(body: bytes) -> object:
    return decode_json(body, "application/json")


def _summary(body: bytes) -> StatusReading:
    return statuspage.summary_reading(_json(body), "p", NOW)


def _incidents(body: bytes) -> StatusReading:
    return StatusReading(
        "p", NOW, Level.OPERATIONAL, incidents=statuspage.parse_incidents(_json(body))
    )


def _proxy(body: bytes) -> StatusReading:
    return incidentio.parse_proxy(_json(body), "p", NOW)


def _gcloud(body: bytes) -> StatusReading:
    return gcloud.parse_incidents(_json(body), "p", NOW)


def _aistudio(body: bytes) -> StatusReading:
    return aistudio.parse_incidents_history(_json(body), "p", NOW)


def _feed(body: bytes) -> StatusReading:
    entries = atom.parse_feed(body)
    assert entries
    return StatusReading("p", NOW, Level.OPERATIONAL)


def _html_is_refused(body: bytes) -> StatusReading:
    with pytest.raises(PayloadError):
        decode_json(body, "text/html; charset=utf-8")
    return StatusReading("p", NOW, Level.UNKNOWN)


# file → (parser, the whole-page level it must read)
PARSERS: dict[str, tuple[Callable[[bytes], StatusReading], Level]] = {
    "statuspage-summary-instructure-unresolved-incident.json": (_summary, Level.DEGRADED),
    "statuspage-components-github-partial-outage.json": (_summary, Level.PARTIAL),
    "statuspage-components-box-groups-degraded.json": (_summary, Level.DEGRADED),
    "statuspage-scheduled-maintenances-twilio-in-progress.json": (_summary, Level.MAINTENANCE),
    "statuspage-history-github.atom": (_feed, Level.OPERATIONAL),
    "gcp-incidents-with-vertex-gemini.json": (_gcloud, Level.OPERATIONAL),
    "aistudio-list-incidents-history-sample.json": (_aistudio, Level.DEGRADED),
    "incidentio-compat-summary-openai.json": (_summary, Level.DEGRADED),
    "incidentio-compat-summary-slug-ids.json": (_summary, Level.OPERATIONAL),
    "incidentio-compat-incidents-openai.json": (_incidents, Level.DEGRADED),
    "incidentio-proxy-openai-degraded.json": (_proxy, Level.DEGRADED),
    "incidentio-proxy-openai-full-outage.json": (_proxy, Level.MAJOR),
    "incidentio-history-openai.atom": (_feed, Level.OPERATIONAL),
    "incidentio-unresolved-404.html": (_html_is_refused, Level.UNKNOWN),
}


def test_every_file_has_a_parser() -> None:
    present = {p.name for p in DATA.iterdir()} - DOCS
    assert present == set(PARSERS)


@pytest.mark.parametrize("name", sorted(PARSERS), ids=sorted(PARSERS))
def test_every_file_parses_to_its_level(name: str) -> None:
    parse, level = PARSERS[name]
    reading = parse((DATA / name).read_bytes())
    assert reading.level_for() is level


def test_real_captures_are_untouched() -> None:
    # SOURCES.md records the original sizes of the two files it length-checked.
    sizes = {
        "statuspage-scheduled-maintenances-twilio-in-progress.json": 5687,
        "aistudio-list-incidents-history-sample.json": 15211,
    }
    for name, size in sizes.items():
        assert len((DATA / name).read_text(encoding="utf-8")) == size
    for name in PARSERS:
        if name.endswith(".json"):
            json.loads((DATA / name).read_bytes())
