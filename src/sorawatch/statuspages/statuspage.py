"""Atlassian Statuspage public API v2 (status-page-formats.md §1).

The parsing is tolerant of the v2-compatible imitations (incident.io and others): a missing or
``null`` array reads as "not given", which ``parse_summary`` reports as ``None`` so the reader
knows to fetch that part elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from sorawatch.statuspages.base import (
    ComponentReading,
    IncidentReading,
    JsonGetter,
    Level,
    PayloadError,
    ReadFailure,
    StatusReading,
    as_obj,
    objects,
    parse_time,
    text,
    unique,
    worst,
)

INDICATOR_LEVELS = {
    "none": Level.OPERATIONAL,
    "minor": Level.DEGRADED,
    # The Atlassian sample pairs "major" with the description "Partial System Outage".
    "major": Level.PARTIAL,
    "critical": Level.MAJOR,
    "maintenance": Level.MAINTENANCE,
}

COMPONENT_LEVELS = {
    "operational": Level.OPERATIONAL,
    "under_maintenance": Level.MAINTENANCE,
    "degraded_performance": Level.DEGRADED,
    "partial_outage": Level.PARTIAL,
    "major_outage": Level.MAJOR,
    "full_outage": Level.MAJOR,  # incident.io's word for major_outage
}

CLOSED_INCIDENT = frozenset({"resolved", "postmortem", "completed"})
MAINTENANCE_IN_PROGRESS = frozenset({"in_progress", "verifying", "maintenance_in_progress"})


def indicator_level(word: object) -> Level:
    return INDICATOR_LEVELS.get(str(word), Level.UNKNOWN)


def component_level(word: object) -> Level:
    return COMPONENT_LEVELS.get(str(word), Level.UNKNOWN)


def parse_components(value: object) -> tuple[ComponentReading, ...]:
    """Leaf components, each labelled with its group's name; group rows themselves are dropped."""
    rows = objects(value, "components")
    groups = {text(r.get("id")): text(r.get("name")) for r in rows if r.get("group") is True}
    readings = []
    for row in rows:
        if row.get("group") is True:
            continue
        readings.append(
            ComponentReading(
                id=text(row.get("id")) or "",
                name=text(row.get("name")) or "",
                level=component_level(row.get("status")),
                group=groups.get(text(row.get("group_id"))),
            )
        )
    return tuple(readings)


def _affected(row: Mapping[str, object]) -> list[str]:
    """Ids and names of every component an incident or maintenance names, in any update."""
    refs: list[str] = []
    for comp in objects(row.get("components"), "incident.components"):
        refs += [text(comp.get("id")) or "", text(comp.get("name")) or ""]
    for update in objects(row.get("incident_updates"), "incident.incident_updates"):
        for comp in objects(update.get("affected_components"), "affected_components"):
            refs += [text(comp.get("code")) or "", text(comp.get("name")) or ""]
    return refs


def parse_incident(row: Mapping[str, object], page_url: str | None = None) -> IncidentReading:
    """One incident or scheduled maintenance object."""
    ident = text(row.get("id")) or ""
    url = text(row.get("shortlink"))
    if url is None and page_url and ident:
        url = f"{page_url.rstrip('/')}/incidents/{ident}"
    return IncidentReading(
        id=ident,
        name=text(row.get("name")) or "",
        impact=indicator_level(row.get("impact")),
        status=text(row.get("status")) or "",
        started_at=parse_time(row.get("started_at") or row.get("created_at")),
        resolved_at=parse_time(row.get("resolved_at")),
        components=unique(_affected(row)),
        url=url,
    )


def is_unresolved(incident: IncidentReading) -> bool:
    return incident.status not in CLOSED_INCIDENT and incident.resolved_at is None


def is_in_progress(maintenance: IncidentReading) -> bool:
    return maintenance.status in MAINTENANCE_IN_PROGRESS and maintenance.resolved_at is None


def _page_url(doc: Mapping[str, object]) -> str | None:
    page = doc.get("page")
    return text(page.get("url")) if isinstance(page, Mapping) else None


def parse_incidents(doc: object) -> tuple[IncidentReading, ...]:
    """``incidents.json`` / ``incidents/unresolved.json``: the unresolved incidents only."""
    body = as_obj(doc, "incidents document")
    rows = objects(body.get("incidents"), "incidents")
    found = (parse_incident(r, _page_url(body)) for r in rows)
    return tuple(i for i in found if is_unresolved(i))


def parse_maintenances(doc: object) -> tuple[IncidentReading, ...]:
    """``scheduled-maintenances.json`` (or ``/active.json``): the in-progress ones only."""
    body = as_obj(doc, "maintenances document")
    rows = objects(body.get("scheduled_maintenances"), "scheduled_maintenances")
    found = (parse_incident(r, _page_url(body)) for r in rows)
    return tuple(m for m in found if is_in_progress(m))


@dataclass(frozen=True, slots=True)
class Summary:
    """A parsed ``summary.json``; ``None`` where the page left a part out (or sent null)."""

    indicator: Level | None
    components: tuple[ComponentReading, ...]
    incidents: tuple[IncidentReading, ...] | None
    maintenances: tuple[IncidentReading, ...] | None
    ids: tuple[str, ...]  # page, component and incident ids: incident.io's are ULIDs

    def reading(self, page: str, fetched_at: datetime) -> StatusReading:
        components = self.components
        incidents = self.incidents or ()
        maintenances = self.maintenances or ()
        indicator = self.indicator
        if indicator is None:
            indicator = worst(
                [
                    *(c.level for c in components),
                    *(i.impact for i in incidents),
                    *(Level.MAINTENANCE for _ in maintenances),
                ]
            )
        return StatusReading(page, fetched_at, indicator, components, incidents, maintenances)


def parse_summary(doc: object) -> Summary:
    """``summary.json`` (also ``components.json`` and ``status.json``, which are subsets)."""
    body = as_obj(doc, "summary")
    if not any(key in body for key in ("status", "components", "page")):
        raise PayloadError("summary: neither status, components nor page present")
    status = body.get("status")
    indicator = indicator_level(status.get("indicator")) if isinstance(status, Mapping) else None
    page_url = _page_url(body)
    incidents = maintenances = None
    if body.get("incidents") is not None:
        incidents = tuple(
            i
            for i in (parse_incident(r, page_url) for r in objects(body["incidents"], "incidents"))
            if is_unresolved(i)
        )
    if body.get("scheduled_maintenances") is not None:
        maintenances = parse_maintenances(body)
    components = parse_components(body.get("components"))
    page = body.get("page")
    page_id = text(page.get("id")) if isinstance(page, Mapping) else None
    ids = unique(
        [page_id or ""]
        + [text(r.get("id")) or "" for r in objects(body.get("components"), "components")]
        + [text(r.get("id")) or "" for r in objects(body.get("incidents"), "incidents")]
    )
    return Summary(indicator, components, incidents, maintenances, ids)


def summary_reading(doc: object, page: str, fetched_at: datetime) -> StatusReading:
    """A reading from one ``summary.json`` or ``components.json`` document alone."""
    return parse_summary(doc).reading(page, fetched_at)


def with_maintenances(doc: object, reading: StatusReading) -> StatusReading:
    """``reading`` plus the in-progress maintenances of a maintenances document."""
    found = {m.id: m for m in (*reading.maintenances, *parse_maintenances(doc))}
    return replace(reading, maintenances=tuple(found.values()))


# --- reading a live page ----------------------------------------------------------------------


def api_base(url: str) -> str:
    """The page root of a Statuspage-style URL (anything under ``/api/v2`` is cut off)."""
    cut = url.find("/api/v2")
    return (url[:cut] if cut >= 0 else url).rstrip("/")


async def read(http: JsonGetter, url: str, page: str, now: datetime) -> StatusReading:
    """summary.json, plus the parts a v2-compatible page leaves out of it."""
    base = api_base(url)
    summary = parse_summary(await http.get_json(f"{base}/api/v2/summary.json"))
    reading = summary.reading(page, now)
    if summary.incidents is None:
        reading = await _add_incidents(http, base, reading, summary.indicator)
    needs_active = summary.maintenances is None or (
        summary.indicator is Level.MAINTENANCE and not reading.maintenances
    )
    if needs_active:
        try:
            active = await http.get_json(f"{base}/api/v2/scheduled-maintenances/active.json")
            reading = with_maintenances(active, reading)
        except ReadFailure:
            pass  # optional detail: imitations answer 404 here
    return reading


async def _add_incidents(
    http: JsonGetter, base: str, reading: StatusReading, indicator: Level | None
) -> StatusReading:
    # incidents.json, not incidents/unresolved.json: incident.io answers the latter with HTML 404.
    try:
        incidents = parse_incidents(await http.get_json(f"{base}/api/v2/incidents.json"))
    except ReadFailure:
        # The summary's indicator and components still stand; some imitations lack the list.
        return reading
    if indicator is None:
        indicator = worst([reading.indicator, *(i.impact for i in incidents)])
    return replace(reading, incidents=incidents, indicator=indicator)
