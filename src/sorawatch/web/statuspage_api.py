"""The board in Atlassian Statuspage v2 shapes (status-page-formats.md §1), so any tool that
reads an Atlassian page reads sorawatch: every channel is a component, every ``group`` a group
component, every incident an incident with its updates, vendor maintenance a maintenance.

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


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat().replace("+00:00", "Z")


def group_id(name: str) -> str:
    return "group-" + "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")


class StatuspageView:
    """Builds the v2 documents for one board."""

    def __init__(self, board: Board, page_id: str, name: str, url: str) -> None:
        self.board, self.page_id, self.name, self.url = board, page_id, name, url

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

    def incident(self, inc: Incident) -> dict[str, Any]:
        card = self.board.by_id.get(inc.channel_id)
        name = card.channel.name if card else inc.channel_id
        group = card.channel.group if card else ""
        component_status = inc.status.statuspage_component if inc.is_open else "operational"
        affected = [
            {
                "code": inc.channel_id,
                "name": f"{group} - {name}" if group else name,
                "old_status": "operational",
                "new_status": inc.worst.statuspage_component,
            }
        ]
        cause = redact(inc.cause)
        updates = []
        if not inc.is_open:
            updates.append(
                self._update(inc, "resolved", f"{name} is operational again.", inc.ended_at, [])
            )
        updates.append(
            self._update(
                inc,
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
        inc: Incident,
        status: str,
        body: str,
        at: datetime | None,
        affected: list[dict[str, str]],
    ) -> dict[str, Any]:
        return {
            "id": f"{inc.id}-{status}",
            "status": status,
            "body": body,
            "incident_id": inc.id,
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
        """Maintenance the vendors announced, as sorawatch saw it: in progress while a channel's
        status is ``maintenance``. (Nothing is scheduled ahead of time by sorawatch itself.)"""
        if which == "upcoming":
            return []
        out = []
        for card in self.board.cards:
            if card.status is not Status.MAINTENANCE:
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
            "scheduled_maintenances": self.maintenances(),
        }
