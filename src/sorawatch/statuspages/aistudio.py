"""Google AI Studio / Gemini API status RPC ``ListIncidentsHistory`` (status-page-formats.md §4).

Undocumented protobuf-as-JSON arrays, so this is best-effort. Each entry is
``[id, title, severity, updates, <int>, [component ints]]`` and each update
``[type, "YYYY-MM-DD HH:MM", ["<unix seconds>"], text]``. The enum meanings come from a third-party
reader's tests, not from Google.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sorawatch.statuspages.base import (
    ComponentReading,
    IncidentReading,
    Level,
    PayloadError,
    StatusReading,
    text,
    worst,
)

PAGE_URL = "https://aistudio.google.com/status"
COMPONENTS = {1: "Gemini API", 2: "Multimodal Live", 3: "AI Studio"}
SEVERITY_LEVELS = {1: Level.DEGRADED, 2: Level.MAJOR}
UPDATE_WORDS = {1: "detected", 2: "identified", 3: "monitoring", 4: "resolved", 5: "mitigated"}
RESOLVED = 4


def _is_entry(value: object) -> bool:
    return isinstance(value, list) and len(value) >= 4 and isinstance(value[0], str)


def _entries(doc: object) -> list[list[object]]:
    # Readers disagree on how deep the list is wrapped, so unwrap until entries appear.
    node = doc
    while isinstance(node, list) and node and not _is_entry(node[0]):
        if len(node) != 1:
            raise PayloadError("ListIncidentsHistory: unexpected nesting")
        node = node[0]
    if not isinstance(node, list) or not all(_is_entry(e) for e in node):
        raise PayloadError("ListIncidentsHistory: expected a list of incident entries")
    return [e for e in node if isinstance(e, list)]


def _update_time(update: list[object]) -> datetime | None:
    stamps = update[2] if len(update) > 2 else None
    if isinstance(stamps, list) and stamps:
        try:
            return datetime.fromtimestamp(int(str(stamps[0])), UTC)
        except ValueError:
            return None
    return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_entry(entry: list[object]) -> IncidentReading:
    updates = [u for u in (entry[3] if isinstance(entry[3], list) else []) if isinstance(u, list)]
    timed = sorted(
        ((_update_time(u), _int(u[0]) if u else None) for u in updates),
        key=lambda pair: pair[0] or datetime.min.replace(tzinfo=UTC),
    )
    resolved = [when for when, kind in timed if kind == RESOLVED]
    latest = timed[-1][1] if timed else None
    ids = entry[5] if len(entry) > 5 and isinstance(entry[5], list) else []
    comps = [n for n in (_int(i) for i in ids) if n is not None]
    severity = _int(entry[2])
    return IncidentReading(
        id=str(entry[0]),
        name=text(entry[1]) or "",
        impact=SEVERITY_LEVELS.get(severity or 0, Level.UNKNOWN),
        status=UPDATE_WORDS.get(latest or 0, "unknown"),
        started_at=next((when for when, _ in timed if when), None),
        resolved_at=resolved[-1] if resolved else None,
        components=tuple(COMPONENTS.get(n, str(n)) for n in comps),
        url=PAGE_URL,
    )


def parse_history(doc: object) -> tuple[IncidentReading, ...]:
    """Every incident in the answer, resolved ones included."""
    return tuple(parse_entry(e) for e in _entries(doc))


def is_open(incident: IncidentReading) -> bool:
    """Open until an update of type 4 (resolved) arrives."""
    return incident.resolved_at is None and incident.status != UPDATE_WORDS[RESOLVED]


def parse_incidents_history(doc: object, page: str, fetched_at: datetime) -> StatusReading:
    """The open incidents and the three fixed components they weigh on."""
    incidents = tuple(i for i in parse_history(doc) if is_open(i))
    components = tuple(
        ComponentReading(
            id=str(num),
            name=name,
            level=worst(i.impact for i in incidents if name in i.components),
        )
        for num, name in COMPONENTS.items()
    )
    indicator = worst(c.level for c in components)
    return StatusReading(page, fetched_at, indicator, components, incidents)
