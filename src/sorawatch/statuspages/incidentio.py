"""incident.io status pages (status-page-formats.md §2-§3).

Two surfaces are read:
- the Statuspage-compatible ``/api/v2`` layer (stable; parsed by ``statuspage``), which leaves
  incidents out of ``summary.json`` and components out of incidents;
- the native ``/proxy/<host>`` JSON the page's own frontend uses (richer, undocumented), which ties
  incidents to components. It is optional: when it fails the compatible layer alone is used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit

from sorawatch.statuspages import statuspage
from sorawatch.statuspages.base import (
    ComponentReading,
    IncidentReading,
    JsonGetter,
    Level,
    ReadFailure,
    StatusReading,
    as_obj,
    objects,
    parse_time,
    text,
    unique,
    worst,
)

# A ULID: 26 characters of Crockford base32 (no I, L, O, U), the first at most 7 (48-bit time).
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")


def is_ulid(value: str) -> bool:
    return _ULID.fullmatch(value) is not None


def looks_like_incidentio(ids: Iterable[str]) -> bool:
    """True when any id is a ULID: Atlassian ids are 12 lower-case characters."""
    return any(is_ulid(i) for i in ids)


def proxy_url(url: str) -> str:
    base = statuspage.api_base(url)
    return f"{base}/proxy/{urlsplit(base).hostname}"


def _impacts(row: Mapping[str, object]) -> list[Mapping[str, object]]:
    return objects(row.get("affected_components"), "affected_components") + objects(
        row.get("component_impacts"), "component_impacts"
    )


def _impact_status(impact: Mapping[str, object]) -> object:
    return impact.get("status") or impact.get("current_status") or impact.get("component_status")


def _impact_id(impact: Mapping[str, object]) -> str:
    return text(impact.get("component_id")) or text(impact.get("id")) or ""


def parse_proxy_incident(row: Mapping[str, object], page_url: str | None) -> IncidentReading:
    impacts = _impacts(row)
    if row.get("current_worst_impact") is not None:
        impact = statuspage.component_level(row["current_worst_impact"])
    else:
        # An open incident that names no impact is not "operational": we just cannot tell.
        impact = worst(
            (statuspage.component_level(_impact_status(i)) for i in impacts), Level.UNKNOWN
        )
    ident = text(row.get("id")) or ""
    url = text(row.get("url")) or text(row.get("permalink"))
    if url is None and page_url and ident:
        url = f"{page_url.rstrip('/')}/incidents/{ident}"
    refs = [_impact_id(i) for i in impacts] + [text(i.get("name")) or "" for i in impacts]
    return IncidentReading(
        id=ident,
        name=text(row.get("name")) or "",
        impact=impact,
        status=text(row.get("status")) or "",
        started_at=parse_time(row.get("published_at") or row.get("started_at")),
        resolved_at=parse_time(row.get("resolved_at")),
        components=unique(refs),
        url=url,
    )


def _groups(summary: Mapping[str, object]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """component id → group name, and every (id, name) the structure lists."""
    structure = summary.get("structure")
    items = (
        objects(structure.get("items"), "structure.items") if isinstance(structure, Mapping) else []
    )
    group_of: dict[str, str] = {}
    listed: list[tuple[str, str]] = []
    for item in items:
        group = item.get("group")
        if isinstance(group, Mapping):
            for comp in objects(group.get("components"), "group.components"):
                cid = text(comp.get("component_id")) or ""
                group_of[cid] = text(group.get("name")) or ""
                listed.append((cid, text(comp.get("name")) or ""))
        single = item.get("component")
        if isinstance(single, Mapping):
            listed.append((text(single.get("component_id")) or "", text(single.get("name")) or ""))
    return group_of, listed


def parse_proxy(doc: object, page: str, fetched_at: datetime) -> StatusReading:
    """``/proxy/<host>``: ``{"summary": {components, affected_components, ongoing_incidents,
    scheduled_maintenances, structure}}``."""
    body = as_obj(doc, "proxy document")
    summary = as_obj(body.get("summary", body), "proxy summary")
    group_of, listed = _groups(summary)
    named = [
        (text(c.get("id")) or "", text(c.get("name")) or "")
        for c in objects(summary.get("components"), "components")
    ]
    affected = {
        _impact_id(a): statuspage.component_level(_impact_status(a))
        for a in objects(summary.get("affected_components"), "affected_components")
    }
    components = tuple(
        # Absent from affected_components means operational: the page lists only the impacted.
        ComponentReading(cid, name, affected.get(cid, Level.OPERATIONAL), group_of.get(cid))
        for cid, name in dict(named or listed).items()
    )
    page_url = text(summary.get("public_url"))
    incidents = tuple(
        parse_proxy_incident(r, page_url)
        for r in objects(summary.get("ongoing_incidents"), "ongoing_incidents")
    )
    maintenances = tuple(
        m
        for m in (
            parse_proxy_incident(r, page_url)
            for r in objects(summary.get("scheduled_maintenances"), "scheduled_maintenances")
        )
        if statuspage.is_in_progress(m)
    )
    indicator = worst([*(c.level for c in components), *(i.impact for i in incidents)])
    return StatusReading(page, fetched_at, indicator, components, incidents, maintenances)


def merge(compat: StatusReading, proxy: StatusReading) -> StatusReading:
    """The compatible layer's indicator with the proxy's component-linked details.

    Incidents are merged by id, the proxy's version winning, because only it names components.
    """
    incidents = {i.id: i for i in (*compat.incidents, *proxy.incidents)}
    maintenances = {m.id: m for m in (*compat.maintenances, *proxy.maintenances)}
    return replace(
        compat,
        components=proxy.components or compat.components,
        incidents=tuple(incidents.values()),
        maintenances=tuple(maintenances.values()),
    )


async def read(http: JsonGetter, url: str, page: str, now: datetime) -> StatusReading:
    """summary.json + incidents.json, enriched from the proxy when it answers."""
    try:
        compat = await statuspage.read(http, url, page, now)
    except ReadFailure as failure:
        # The compatible layer is down or gone: the proxy alone still says enough.
        try:
            return parse_proxy(await http.get_json(proxy_url(url)), page, now)
        except ReadFailure:
            raise failure from None
    try:
        proxy = parse_proxy(await http.get_json(proxy_url(url)), page, now)
    except ReadFailure:
        return compat
    return merge(compat, proxy)
