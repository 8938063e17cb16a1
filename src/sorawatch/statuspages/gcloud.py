"""Google Cloud Service Health ``incidents.json`` (status-page-formats.md §4).

A bare array of recent incidents, resolved ones included; the only resolution signal is ``end``.
Products are matched by id, never by title (titles get renamed: "Vertex Gemini API" now shows
as "Gemini on Agent Platform"). The page has no component list and no overall indicator, so a
product with no open incident is operational.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

from sorawatch.statuspages.base import (
    IncidentReading,
    JsonGetter,
    Level,
    PayloadError,
    StatusReading,
    as_obj,
    objects,
    parse_time,
    text,
    worst,
)

DASHBOARD = "https://status.cloud.google.com"

IMPACT_LEVELS = {
    # Information is a notice, not a failure: it must not escalate a product.
    "SERVICE_INFORMATION": Level.OPERATIONAL,
    "SERVICE_DISRUPTION": Level.DEGRADED,
    "SERVICE_OUTAGE": Level.MAJOR,
}


def impact_level(word: object) -> Level:
    return IMPACT_LEVELS.get(str(word), Level.UNKNOWN)


def is_open(row: Mapping[str, object]) -> bool:
    return not row.get("end")


def _url(uri: str | None, base: str) -> str | None:
    if not uri:
        return None
    return uri if urlsplit(uri).scheme else f"{base.rstrip('/')}/{uri.lstrip('/')}"


def _headline(desc: str | None) -> str:
    """The first line of the Markdown description: the dashboard's own headline."""
    lines = [line.strip() for line in (desc or "").splitlines() if line.strip()]
    return lines[0] if lines else ""


def parse_incident(row: Mapping[str, object], base: str = DASHBOARD) -> IncidentReading:
    """One incident. ``status`` is its ``status_impact`` word, the closest thing to a state."""
    products = objects(row.get("affected_products"), "affected_products")
    return IncidentReading(
        id=text(row.get("id")) or "",
        name=_headline(text(row.get("external_desc"))),
        impact=impact_level(row.get("status_impact")),
        status=text(row.get("status_impact")) or "",
        started_at=parse_time(row.get("begin")),
        resolved_at=parse_time(row.get("end")),
        components=tuple(text(p.get("id")) or "" for p in products if p.get("id")),
        url=_url(text(row.get("uri")), base),
    )


def parse_incidents(
    doc: object, page: str, fetched_at: datetime, base: str = DASHBOARD
) -> StatusReading:
    """The open incidents of an ``incidents.json`` array, as one reading."""
    if not isinstance(doc, list):
        raise PayloadError(f"incidents.json: expected a bare array, got {type(doc).__name__}")
    rows = [as_obj(r, "incident") for r in doc]
    incidents = tuple(parse_incident(r, base) for r in rows if is_open(r))
    indicator = worst(i.impact for i in incidents)
    return StatusReading(page, fetched_at, indicator, incidents=incidents)


def incidents_url(url: str) -> str:
    """The JSON feed of a dashboard URL (a URL already naming a .json file is kept)."""
    url = url.rstrip("/")
    return url if urlsplit(url).path.endswith(".json") else f"{url}/incidents.json"


def dashboard_url(url: str) -> str:
    """Where ``uri`` values are relative to: the feed's folder."""
    feed = incidents_url(url)
    return feed.rsplit("/", 1)[0]


async def read(http: JsonGetter, url: str, page: str, now: datetime) -> StatusReading:
    return parse_incidents(await http.get_json(incidents_url(url)), page, now, dashboard_url(url))
