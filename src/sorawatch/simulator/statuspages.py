"""Scripted vendor status pages: Atlassian Statuspage, incident.io's compat layer, Google Cloud.

The timeline is replayed once at start into snapshots; a request picks the snapshot in force by
bisection and renders it in the page kind's real shape, quirks included
(status-page-formats.md §1, §2, §4): incident.io's summary has no incidents, its incidents no
components, its ``unresolved.json`` is an HTML 404; Google's ``incidents.json`` is a bare array.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.responses import HTMLResponse, Response

from sorawatch.simulator.scenario import PageEntry, StatusPageSpec
from sorawatch.simulator.wire import json_response

_INDICATOR_RANK = {"none": 0, "maintenance": 1, "minor": 2, "major": 3, "critical": 4}
_INDICATOR_TEXT = {
    "none": "All Systems Operational",
    "maintenance": "Service Under Maintenance",
    "minor": "Partially Degraded Service",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}
_COMPONENT_INDICATOR = {
    "operational": "none",
    "under_maintenance": "maintenance",
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
}
_NATIVE_STATUS = {"major_outage": "full_outage"}  # incident.io's own word
_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_GLOBAL = [{"title": "Global", "id": "global"}]

_NOT_FOUND_HTML = (
    "<!DOCTYPE html><html><head><title>Page not found</title></head>"
    "<body><h1>404</h1><p>The page you are looking for could not be found.</p></body></html>"
)


def _digest_id(alphabet: str, length: int, *parts: object) -> str:
    digest = int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest(), "big")
    out = []
    for _ in range(length):
        digest, i = divmod(digest, len(alphabet))
        out.append(alphabet[i])
    return "".join(out)


def _slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def _iso(unix: float) -> str:
    return (
        datetime.fromtimestamp(unix, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


@dataclass(frozen=True, slots=True)
class IncidentState:
    seq: int
    name: str
    kind: Literal["incident", "maintenance"]
    impact: str
    opened_t: float
    resolved_t: float | None
    components: tuple[str, ...]
    old_status: tuple[str, ...]
    new_status: tuple[str, ...]
    products: tuple[str, ...]
    status_impact: str
    severity: str
    first_update: str | None

    @property
    def open(self) -> bool:
        return self.resolved_t is None


@dataclass(frozen=True, slots=True)
class PageSnapshot:
    at: float
    components: dict[str, str]
    changed_t: dict[str, float]
    incidents: tuple[IncidentState, ...]  # oldest first


def _derived_impact(statuses: list[str]) -> str:
    worst = max((_COMPONENT_INDICATOR[s] for s in statuses), key=_INDICATOR_RANK.__getitem__)
    return "minor" if worst in ("none", "maintenance") else worst


def _opened(entry: PageEntry, seq: int, before: Mapping[str, str]) -> IncidentState | None:
    name = entry.incident or entry.maintenance
    if name is None:
        return None
    hit = [n for n, s in entry.components.items() if s != "operational"] or list(entry.components)
    kind: Literal["incident", "maintenance"] = "maintenance" if entry.maintenance else "incident"
    impact: str
    if entry.impact:
        impact = entry.impact
    elif kind == "maintenance":
        impact = "maintenance"
    elif hit:
        impact = _derived_impact([entry.components[n] for n in hit])
    else:
        impact = _STATUS_IMPACT_TO_INDICATOR[entry.status_impact]
    return IncidentState(
        seq=seq,
        name=name,
        kind=kind,
        impact=impact,
        opened_t=entry.at,
        resolved_t=None,
        components=tuple(hit),
        old_status=tuple(before[n] for n in hit),
        new_status=tuple(entry.components[n] for n in hit),
        products=entry.products,
        status_impact=entry.status_impact,
        severity=entry.severity,
        first_update=entry.update,
    )


_STATUS_IMPACT_TO_INDICATOR = {
    "SERVICE_INFORMATION": "none",
    "SERVICE_DISRUPTION": "minor",
    "SERVICE_OUTAGE": "major",
}


def compile_page(spec: StatusPageSpec) -> list[PageSnapshot]:
    """Replay the timeline into the snapshot in force from each entry on."""
    comps: dict[str, str] = dict(spec.components)
    changed = dict.fromkeys(comps, 0.0)
    incidents: list[IncidentState] = []
    snaps = [PageSnapshot(float("-inf"), dict(comps), dict(changed), ())]
    for entry in spec.timeline:
        before = dict(comps)
        for name, status in entry.components.items():
            if comps[name] != status:
                comps[name], changed[name] = status, entry.at
        for i, inc in enumerate(incidents):
            wanted = entry.resolve is True or entry.resolve == inc.name
            settled = bool(inc.components) and all(
                comps[c] == "operational" for c in inc.components
            )
            if inc.open and (wanted or settled):
                incidents[i] = replace(inc, resolved_t=entry.at)
        if (new := _opened(entry, len(incidents), before)) is not None:
            incidents.append(new)
        snaps.append(PageSnapshot(entry.at, dict(comps), dict(changed), tuple(incidents)))
    return snaps


class StatusPage:
    """One simulated status page; ``render`` answers a request path at an instant."""

    def __init__(self, page_id: str, spec: StatusPageSpec) -> None:
        self.page_id = page_id
        self.spec = spec
        self.name = spec.name or page_id
        self._snaps = compile_page(spec)
        self._ats = [s.at for s in self._snaps]
        self._sid = _digest_id(_ALNUM, 12, "page", page_id)
        names = list(spec.components)
        self._position = {n: i + 1 for i, n in enumerate(names)}
        self._group_of = {m: g for g, members in spec.groups.items() for m in members}

    def snapshot(self, t: float) -> PageSnapshot:
        return self._snaps[bisect_right(self._ats, t) - 1]

    def render(self, path: str, t: float, cycle_epoch: float, url: str) -> Response:
        """``t`` is the time within the current loop cycle, which began at ``cycle_epoch``."""
        view = _View(self, self.snapshot(t), t, cycle_epoch, url)
        kind = self.spec.kind
        if kind == "gcloud":
            handler = _GCLOUD.get(path)
        elif kind == "incidentio" and path.startswith("proxy/"):
            handler = _View.incidentio_proxy
        else:
            handler = _ATLASSIAN.get(path)
            if kind == "incidentio" and path in _INCIDENTIO_MISSING:
                handler = None
        if handler is None:
            return HTMLResponse(_NOT_FOUND_HTML, status_code=404)
        return json_response(handler(view))


class _View:
    """One snapshot rendered at one instant (timestamps are Unix seconds of this cycle)."""

    def __init__(
        self, page: StatusPage, snap: PageSnapshot, t: float, cycle_epoch: float, url: str
    ) -> None:
        self.page, self.snap, self.t, self.epoch, self.url = page, snap, t, cycle_epoch, url
        self.cycle = int(cycle_epoch)
        self.incidentio = page.spec.kind == "incidentio"

    def at(self, rel: float) -> str:
        return _iso(self.epoch + max(0.0, rel))

    # --- Atlassian shapes -----------------------------------------------------------------

    def component_id(self, name: str) -> str:
        if self.incidentio:
            return _slug(name)
        return _digest_id(_ALNUM, 12, "component", self.page.page_id, name)

    def page_obj(self) -> dict[str, Any]:
        obj: dict[str, Any] = {"id": self.page._sid, "name": self.page.name, "url": self.url}
        if not self.incidentio:
            obj["time_zone"] = "Etc/UTC"
        obj["updated_at"] = self.at(self.t)
        return obj

    def component(self, name: str) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "id": self.component_id(name),
            "name": name,
            "status": self.snap.components[name],
            "created_at": self.at(0),
            "updated_at": self.at(self.snap.changed_t[name]),
            "position": self.page._position[name],
            "description": None,
            "showcase": False,
            "start_date": None,
        }
        if not self.incidentio:
            group = self.page._group_of.get(name)
            obj["group_id"] = self.group_id(group) if group else None
        obj["page_id"] = self.page._sid
        if not self.incidentio:
            obj["group"] = False
        obj["only_show_if_degraded"] = False
        return obj

    def group_id(self, group: str) -> str:
        return _digest_id(_ALNUM, 12, "group", self.page.page_id, group)

    def group(self, group: str, members: tuple[str, ...]) -> dict[str, Any]:
        worst = _worst(tuple(self.snap.components[m] for m in members))
        return {
            "id": self.group_id(group),
            "name": group,
            "status": worst,
            "created_at": self.at(0),
            "updated_at": self.at(max(self.snap.changed_t[m] for m in members)),
            "position": len(self.page._position) + 1 + list(self.page.spec.groups).index(group),
            "description": None,
            "showcase": False,
            "start_date": None,
            "group_id": None,
            "page_id": self.page._sid,
            "group": True,
            "only_show_if_degraded": False,
            "components": [self.component_id(m) for m in members],
        }

    def components(self) -> list[dict[str, Any]]:
        rows = [self.component(n) for n in self.page.spec.components]
        rows += [self.group(g, m) for g, m in self.page.spec.groups.items()]
        return rows

    def indicator(self) -> dict[str, str]:
        levels = [_COMPONENT_INDICATOR[s] for s in self.snap.components.values()]
        levels += [i.impact for i in self.snap.incidents if i.open]
        worst = max(levels, key=_INDICATOR_RANK.__getitem__, default="none")
        return {"indicator": worst, "description": _INDICATOR_TEXT[worst]}

    def incident_id(self, inc: IncidentState) -> str:
        if self.incidentio:
            return "01K" + _digest_id(_CROCKFORD, 23, self.page.page_id, self.cycle, inc.seq)
        return _digest_id(_ALNUM, 12, "incident", self.page.page_id, self.cycle, inc.seq)

    def incident(self, inc: IncidentState) -> dict[str, Any]:
        iid = self.incident_id(inc)
        maintenance = inc.kind == "maintenance"
        resolved = "completed" if maintenance else "resolved"
        opening = "in_progress" if maintenance else "investigating"
        updates = [self.update(inc, iid, opening, inc.opened_t, self.opening_text(inc), True)]
        if inc.resolved_t is not None:
            text = (
                "The scheduled maintenance has been completed."
                if maintenance
                else "This incident has been resolved."
            )
            updates.insert(0, self.update(inc, iid, resolved, inc.resolved_t, text, False))
        obj: dict[str, Any] = {
            "id": iid,
            "name": inc.name,
            "status": opening if inc.open else resolved,
            "created_at": self.at(inc.opened_t),
            "updated_at": self.at(inc.opened_t if inc.open else inc.resolved_t or 0),
            "monitoring_at": None,
            "resolved_at": None if inc.open else self.at(inc.resolved_t or 0),
            "impact": inc.impact,
            "shortlink": None if self.incidentio else f"https://stspg.io/{iid[:7]}",
            "started_at": self.at(inc.opened_t),
            "page_id": self.page._sid,
            "incident_updates": updates,
        }
        if not self.incidentio:
            obj["components"] = [self.component(n) for n in inc.components]
        if maintenance:
            obj["scheduled_for"] = self.at(inc.opened_t)
            obj["scheduled_until"] = self.at((inc.resolved_t or inc.opened_t) + 3600)
        return obj

    def opening_text(self, inc: IncidentState) -> str:
        if inc.first_update:
            return inc.first_update
        names = ", ".join(inc.components) or "some services"
        return f"We are investigating reports of degraded performance affecting {names}."

    def update(
        self, inc: IncidentState, iid: str, status: str, rel: float, body: str, opening: bool
    ) -> dict[str, Any]:
        if opening:
            pairs = zip(inc.components, inc.old_status, inc.new_status, strict=True)
        else:
            back = ["operational"] * len(inc.components)
            pairs = zip(inc.components, inc.new_status, back, strict=True)
        affected = [
            {"code": self.component_id(n), "name": n, "old_status": old, "new_status": new}
            for n, old, new in pairs
        ]
        return {
            "id": _digest_id(_ALNUM, 12, "update", iid, status),
            "status": status,
            "body": body,
            "incident_id": iid,
            "created_at": self.at(rel),
            "updated_at": self.at(rel),
            "display_at": self.at(rel),
            "affected_components": affected or None,
            "deliver_notifications": True,
            "custom_tweet": None,
            "tweet_id": None,
        }

    def incident_list(self, kind: str, only_open: bool) -> list[dict[str, Any]]:
        chosen = [i for i in self.snap.incidents if i.kind == kind and (i.open or not only_open)]
        return [self.incident(i) for i in reversed(chosen)][:50]

    def status_json(self) -> dict[str, Any]:
        return {"page": self.page_obj(), "status": self.indicator()}

    def summary_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"page": self.page_obj(), "components": self.components()}
        if not self.incidentio:
            body["incidents"] = self.incident_list("incident", True)
            body["scheduled_maintenances"] = self.incident_list("maintenance", True)
        body["status"] = self.indicator()
        return body

    def components_json(self) -> dict[str, Any]:
        return {"page": self.page_obj(), "components": self.components()}

    def incidents_json(self) -> dict[str, Any]:
        return {"page": self.page_obj(), "incidents": self.incident_list("incident", False)}

    def unresolved_json(self) -> dict[str, Any]:
        return {"page": self.page_obj(), "incidents": self.incident_list("incident", True)}

    def maintenances_json(self) -> dict[str, Any]:
        return {
            "page": self.page_obj(),
            "scheduled_maintenances": self.incident_list("maintenance", False),
        }

    def active_maintenances_json(self) -> dict[str, Any]:
        return {
            "page": self.page_obj(),
            "scheduled_maintenances": self.incident_list("maintenance", True),
        }

    def upcoming_maintenances_json(self) -> dict[str, Any]:
        return {"page": self.page_obj(), "scheduled_maintenances": []}

    # --- incident.io native -------------------------------------------------------------------

    def native_id(self, *parts: object) -> str:
        return "01K" + _digest_id(_CROCKFORD, 23, self.page.page_id, *parts)

    def incidentio_proxy(self) -> dict[str, Any]:
        page_ulid = self.native_id("page")
        names = list(self.page.spec.components)
        statuses = self.snap.components
        affected = [
            {"component_id": self.native_id("c", n), "status": _native(statuses[n])}
            for n in names
            if statuses[n] != "operational"
        ]
        ongoing = [
            {
                "id": self.incident_id(i),
                "name": i.name,
                "status": "investigating",
                "published_at": self.at(i.opened_t),
                "current_worst_impact": _native(_worst(i.new_status)),
                "affected_components": [
                    {
                        "component_id": self.native_id("c", n),
                        "status": _native(s),
                        "current_status": _native(statuses[n]),
                    }
                    for n, s in zip(i.components, i.new_status, strict=True)
                ],
            }
            for i in self.snap.incidents
            if i.open and i.kind == "incident"
        ]
        return {
            "summary": {
                "id": page_ulid,
                "name": self.page.name,
                "subpath": self.page.page_id,
                "public_url": self.url,
                "support_url": None,
                "logo_url": None,
                "favicon_url": None,
                "components": [
                    {
                        "id": self.native_id("c", n),
                        "name": n,
                        "status_page_id": page_ulid,
                        "description": None,
                    }
                    for n in names
                ],
                "affected_components": affected,
                "ongoing_incidents": ongoing,
                "scheduled_maintenances": [],
                "structure": {
                    "id": self.native_id("structure"),
                    "status_page_id": page_ulid,
                    "items": [
                        {
                            "component": {
                                "component_id": self.native_id("c", n),
                                "name": n,
                                "hidden": False,
                            }
                        }
                        for n in names
                    ],
                },
                "page_type": "public",
                "locale": "en-US",
            }
        }

    # --- Google Cloud ----------------------------------------------------------------------

    def gcloud_incidents(self) -> list[dict[str, Any]]:
        return [self.gcloud_incident(i) for i in reversed(self.snap.incidents)]

    def gcloud_incident(self, inc: IncidentState) -> dict[str, Any]:
        products = {p.id: p for p in self.page.spec.products}
        affected = [{"title": products[p].title, "id": p} for p in inc.products if p in products]
        updates = [
            self.gcloud_update(inc.opened_t, inc.first_update or inc.name, inc.status_impact)
        ]
        if inc.resolved_t is not None:
            text = "The issue has been resolved for all affected users as of " + self.at(
                inc.resolved_t
            )
            updates.insert(0, self.gcloud_update(inc.resolved_t, text, "AVAILABLE"))
        obj: dict[str, Any] = {
            "id": _digest_id(_BASE62, 20, self.page.page_id, self.cycle, inc.seq),
            "number": str(int(_digest_id("0123456789", 19, self.page.page_id, inc.seq))),
            "begin": self.gtime(inc.opened_t),
            "created": self.gtime(inc.opened_t),
        }
        if inc.resolved_t is not None:
            obj["end"] = self.gtime(inc.resolved_t)
        obj.update(
            {
                "modified": self.gtime(
                    inc.resolved_t if inc.resolved_t is not None else inc.opened_t
                ),
                "external_desc": inc.name,
                "updates": updates,
                "most_recent_update": updates[0],
                "status_impact": inc.status_impact,
                "severity": inc.severity,
                "service_key": "zall",
                "service_name": "Multiple Products",
                "affected_products": affected,
                "currently_affected_locations": _GLOBAL if inc.open else [],
                "previously_affected_locations": [] if inc.open else _GLOBAL,
                "uri": f"incidents/{obj['id']}",
            }
        )
        return obj

    def gtime(self, rel: float) -> str:
        return datetime.fromtimestamp(int(self.epoch + max(0.0, rel)), UTC).isoformat()

    def gcloud_update(self, rel: float, text: str, status: str) -> dict[str, Any]:
        when = self.gtime(rel)
        return {
            "created": when,
            "modified": when,
            "when": when,
            "text": text,
            "status": status,
            "affected_locations": _GLOBAL,
        }

    def gcloud_products(self) -> dict[str, Any]:
        return {
            "products": [
                {"title": p.title, "id": p.id, "current_title": p.current_title or p.title}
                for p in self.page.spec.products
            ]
        }


def _worst(statuses: tuple[str, ...]) -> str:
    rank = _INDICATOR_RANK
    return max(
        statuses, key=lambda s: rank[_COMPONENT_INDICATOR[s]], default="degraded_performance"
    )


def _native(status: str) -> str:
    return _NATIVE_STATUS.get(status, status)


_ATLASSIAN = {
    "api/v2/status.json": _View.status_json,
    "api/v2/summary.json": _View.summary_json,
    "api/v2/components.json": _View.components_json,
    "api/v2/incidents.json": _View.incidents_json,
    "api/v2/incidents/unresolved.json": _View.unresolved_json,
    "api/v2/scheduled-maintenances.json": _View.maintenances_json,
    "api/v2/scheduled-maintenances/active.json": _View.active_maintenances_json,
    "api/v2/scheduled-maintenances/upcoming.json": _View.upcoming_maintenances_json,
}
_INCIDENTIO_MISSING = frozenset(
    {"api/v2/incidents/unresolved.json", "api/v2/scheduled-maintenances/upcoming.json"}
)
_GCLOUD = {"incidents.json": _View.gcloud_incidents, "products.json": _View.gcloud_products}
