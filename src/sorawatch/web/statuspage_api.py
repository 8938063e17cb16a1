"""The board in Atlassian Statuspage v2 shapes (status-page-formats.md §1), so any tool that
reads an Atlassian page reads sorawatch: every channel is a component, every ``group`` a group
component, every incident an incident with its updates, every maintenance window (config or
``sorawatch maintenance add``) a scheduled maintenance, and vendor maintenance as sorawatch saw
it an in-progress maintenance.

Status words are mapped so that a Statuspage reader (sorawatch's own included) reads back what
sorawatch decided: components use ``Status.statuspage_component`` and incident impacts sit at the
same level (degraded → minor, risk_control → major, suspended/retired → critical).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sorawatch.domain.incident import Incident
from sorawatch.domain.redact import redact
from sorawatch.domain.status import Status

from .board import Board, ChannelCard
from .maintenance import Maintenance, WindowView

IMPACT = {
    Status.DEGRADED: "minor",
    Status.RISK_CONTROL: "major",
    Status.SUSPENDED: "critical",
    Status.RETIRED: "critical",
}

# (indicator, description) for the worst component status on the page.
INDICATOR = {
    "operational": ("none", "All Systems Operational"),
    "under_maintenance": ("maintenance", "Service Under Maintenance"),
    "degraded_performance": ("minor", "Partially Degraded Service"),
    "partial_outage": ("minor", "Partial System Outage"),
    "major_outage": ("major", "Major System Outage"),
}
COMPONENT_ORDER = list(INDICATOR)
# A window's state as a Statuspage maintenance status.
MAINTENANCE_STATUS = {"upcoming": "scheduled", "active": "in_progress", "ended": "completed"}
RECENT = 50  # scheduled-maintenances.json: the most recent ones, as Statuspage lists them


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat().replace("+00:00", "Z")


def group_id(name: str) -> str:
    return "group-" + "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")


class StatuspageView:
    """Builds the v2 documents for one board."""

    def __init__(
        self,
        board: Board,
        page_id: str,
        name: str,
        url: str,
        maintenance: Maintenance | None = None,
    ) -> None:
        self.board, self.page_id, self.name, self.url = board, page_id, name, url
        self.maint = maintenance or Maintenance(board.built_at)

    def page(self) -> dict[str, Any]:
        return {
            "id": self.page_id,
            "name": self.name,
            "url": self.url,
            "time_zone": "Etc/UTC",
            "updated_at": _iso(self.board.built_at),
        }

    def status(self) -> dict[str, Any]:
        leaves = [c.status.statuspage_component for c in self.board.cards]
        worst = max(leaves, key=COMPONENT_ORDER.index, default="operational")
        indicator, description = INDICATOR[worst]
        down = [s for s in leaves if s == "major_outage"]
        if leaves and len(down) == len(leaves):
            indicator = "critical"
        return {"indicator": indicator, "description": description}

    def _component(self, card: ChannelCard, position: int) -> dict[str, Any]:
        return {
            "id": card.id,
            "name": card.channel.name,
            "status": card.status.statuspage_component,
            "created_at": _iso(self.board.built_at),
            "updated_at": _iso(card.live.since or card.built_at),
            "position": position,
            "description": card.channel.description or None,
            "showcase": True,
            "start_date": None,
            "group_id": group_id(card.channel.group),
            "page_id": self.page_id,
            "group": False,
            "only_show_if_degraded": False,
        }

    def components(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        position = 1
        for group, cards in self.board.groups():
            children: list[dict[str, Any]] = []
            for card in cards:
                children.append(self._component(card, position + 1 + len(children)))
            worst = max(
                (c["status"] for c in children), key=COMPONENT_ORDER.index, default="operational"
            )
            out.append(
                {
                    "id": group_id(group),
                    "name": group,
                    "status": worst,
                    "created_at": _iso(self.board.built_at),
                    "updated_at": _iso(self.board.built_at),
                    "position": position,
                    "description": None,
                    "showcase": False,
                    "start_date": None,
                    "group_id": None,
                    "page_id": self.page_id,
                    "group": True,
                    "only_show_if_degraded": False,
                    "components": [c["id"] for c in children],
                }
            )
            out.extend(children)
            position += 1 + len(children)
        return out

    def _affected(self, channel_id: str, new_status: str) -> dict[str, str]:
        """An update's ``affected_components`` entry, named "Group - Name"."""
        card = self.board.by_id.get(channel_id)
        name = card.channel.name if card else channel_id
        group = card.channel.group if card else ""
        return {
            "code": channel_id,
            "name": f"{group} - {name}" if group else name,
            "old_status": "operational",
            "new_status": new_status,
        }

    def incident(self, inc: Incident) -> dict[str, Any]:
        card = self.board.by_id.get(inc.channel_id)
        name = card.channel.name if card else inc.channel_id
        component_status = inc.status.statuspage_component if inc.is_open else "operational"
        affected = [self._affected(inc.channel_id, inc.worst.statuspage_component)]
        cause = redact(inc.cause)
        updates = []
        if not inc.is_open:
            updates.append(
                self._update(inc.id, "resolved", f"{name} is operational again.", inc.ended_at, [])
            )
        updates.append(
            self._update(
                inc.id,
                "investigating",
                f"{name} is {inc.worst.value}: {cause}",
                inc.started_at,
                affected,
            )
        )
        components = []
        if card is not None:
            comp = self._component(card, 0)
            comp["status"] = component_status
            components.append(comp)
        return {
            "id": inc.id,
            "name": f"{name}: {inc.worst.value.replace('_', ' ')}",
            "status": "investigating" if inc.is_open else "resolved",
            "impact": IMPACT.get(inc.worst, "none"),
            "created_at": _iso(inc.started_at),
            "updated_at": _iso(inc.ended_at or inc.started_at),
            "started_at": _iso(inc.started_at),
            "monitoring_at": None,
            "resolved_at": _iso(inc.ended_at),
            "shortlink": f"{self.url}/channels/{inc.channel_id}#incident-{inc.id}",
            "page_id": self.page_id,
            "components": components,
            "incident_updates": updates,
        }

    def _update(
        self,
        incident_id: str,
        status: str,
        body: str,
        at: datetime | None,
        affected: list[dict[str, str]],
    ) -> dict[str, Any]:
        return {
            "id": f"{incident_id}-{status}",
            "status": status,
            "body": body,
            "incident_id": incident_id,
            "created_at": _iso(at),
            "updated_at": _iso(at),
            "display_at": _iso(at),
            "affected_components": affected or None,
            "deliver_notifications": True,
            "custom_tweet": None,
            "tweet_id": None,
        }

    def incidents(self, unresolved: bool = False, limit: int = 50) -> list[dict[str, Any]]:
        chosen: Sequence[Incident] = [
            i for i in self.board.incidents if i.is_open or not unresolved
        ]
        return [self.incident(i) for i in chosen[:limit]]

    def maintenances(self, which: str = "all") -> list[dict[str, Any]]:
        """Scheduled maintenances: our windows (``upcoming``: scheduled, ``active``: in
        progress, ``all``: the most recent of every state, newest first), plus the vendors'
        maintenance as sorawatch saw it (a channel in ``maintenance`` that no window of ours
        covers) as in progress."""
        if which == "upcoming":
            return [self.window(v) for v in self.maint.upcoming()]
        vendor = self._vendor_maintenances()
        if which == "active":
            return [*(self.window(v) for v in self.maint.active()), *vendor]
        ours = [self.window(v) for v in self.maint.windows if v.span is not None]
        ours.sort(key=lambda m: str(m["scheduled_for"]), reverse=True)  # ISO, all in UTC
        return [*ours, *vendor][:RECENT]

    def window(self, v: WindowView) -> dict[str, Any]:
        """One window as a scheduled maintenance; its current or next occurrence, or the last
        one for a window that has ended."""
        assert v.span is not None  # a window ended before it began is not published
        start, end = v.span
        status = MAINTENANCE_STATUS[v.state]
        # A recurring window is a new maintenance each time, as Statuspage would list it.
        mid = v.ident if v.window.every_s is None else f"{v.ident}-{int(start.timestamp())}"
        started = start if v.state != "upcoming" else None
        resolved = end if v.state == "ended" else None
        cards = [self.board.by_id[c] for c in v.channels if c in self.board.by_id]
        names = ", ".join(c.channel.name for c in cards) or "no channel"
        body = v.reason or f"Planned maintenance of {names}."
        changed = resolved or started or v.window.start
        affected = [self._affected(c.id, "under_maintenance") for c in cards]
        return {
            "id": mid,
            "name": v.name,
            "status": status,
            "impact": "maintenance",
            "created_at": _iso(v.window.start),
            "updated_at": _iso(changed),
            "started_at": _iso(started),
            "monitoring_at": None,
            "resolved_at": _iso(resolved),
            "shortlink": f"{self.url}/#{v.ident}",
            "page_id": self.page_id,
            "scheduled_for": _iso(start),
            "scheduled_until": _iso(end),
            "components": [self._component(c, 0) for c in cards],
            "incident_updates": [self._update(mid, status, body, changed, affected)],
        }

    def _vendor_maintenances(self) -> list[dict[str, Any]]:
        ours = {cid for v in self.maint.active() for cid in v.channels}
        out = []
        for card in self.board.cards:
            if card.status is not Status.MAINTENANCE or card.id in ours:
                continue
            start = card.live.since or card.built_at
            comp = self._component(card, 0)
            out.append(
                {
                    "id": f"maint-{card.id}-{int(start.timestamp())}",
                    "name": f"{card.channel.name}: maintenance",
                    "status": "in_progress",
                    "impact": "maintenance",
                    "created_at": _iso(start),
                    "updated_at": _iso(start),
                    "started_at": _iso(start),
                    "monitoring_at": None,
                    "resolved_at": None,
                    "shortlink": f"{self.url}/channels/{card.id}",
                    "page_id": self.page_id,
                    "scheduled_for": _iso(start),
                    "scheduled_until": None,
                    "components": [comp],
                    "incident_updates": [],
                }
            )
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "page": self.page(),
            "status": self.status(),
            "components": self.components(),
            "incidents": self.incidents(unresolved=True),
            # as Statuspage: the ones in progress and the ones to come
            "scheduled_maintenances": self.maintenances("active") + self.maintenances("upcoming"),
        }
