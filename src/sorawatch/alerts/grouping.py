"""Routes and grouping: notices → batches per route, one message per batch (pure).

A batch opens with its first notice and takes every later notice of the same route and group
key whose time is within the route's ``group_wait`` of that first one; it is sent once that wait
has passed. Membership depends on the notices' own times, not on when the service looked, so a
replay after a restart makes the same batches (and the same alert ids).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sorawatch.alerts.config import RouteConfig
from sorawatch.alerts.policy import Kind, Notice


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    group: str
    vendor: str  # the status page it follows, else its API host


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    notifiers: tuple[str, ...]
    channels: frozenset[str]
    groups: frozenset[str]
    severities: frozenset[str]
    group_by: str
    wait_s: float
    reminders: bool

    @classmethod
    def of(cls, route: RouteConfig) -> Rule:
        return cls(
            route.name,
            tuple(route.notifiers),
            frozenset(route.channels),
            frozenset(route.groups),
            frozenset(route.severities),
            route.group_by,
            route.group_wait,
            route.reminders,
        )

    def wants(self, notice: Notice, info: ChannelInfo) -> bool:
        scoped = bool(self.channels or self.groups)  # neither: every channel
        if scoped and notice.channel_id not in self.channels and info.group not in self.groups:
            return False
        if notice.kind is Kind.REMINDER and not self.reminders:
            return False
        return notice.severity in self.severities

    def group_key(self, channel_id: str, info: ChannelInfo) -> str:
        if self.group_by == "channel":
            return f"channel:{channel_id}"
        if self.group_by == "vendor":
            return f"vendor:{info.vendor}"
        return f"group:{info.group}"


@dataclass(frozen=True, slots=True)
class Batch:
    route: str
    group: str
    opened_at: datetime
    notices: tuple[Notice, ...]

    @property
    def alert_id(self) -> str:
        """Stable for the same notices on the same route: what receivers deduplicate on."""
        text = "\n".join(
            [self.route, self.group, *(f"{n.channel_id}|{n.kind}|{n.key}" for n in self.notices)]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:24]


def place(
    batches: tuple[Batch, ...],
    rules: Iterable[Rule],
    notice: Notice,
    info: ChannelInfo,
) -> tuple[tuple[Batch, ...], list[Batch]]:
    """Put a notice into the open batch of every route that wants it. Returns the open batches
    and any batch that had to close first (the notice came after its wait)."""
    closed: list[Batch] = []
    open_ = list(batches)
    for rule in rules:
        if not rule.wants(notice, info):
            continue
        key = rule.group_key(notice.channel_id, info)
        at = next((i for i, b in enumerate(open_) if (b.route, b.group) == (rule.name, key)), None)
        if at is not None:
            batch = open_[at]
            if notice.at < batch.opened_at + timedelta(seconds=rule.wait_s):
                open_[at] = replace(batch, notices=(*batch.notices, notice))
                continue
            closed.append(open_.pop(at))
        open_.append(Batch(rule.name, key, notice.at, (notice,)))
    return tuple(open_), closed


def due(
    batches: tuple[Batch, ...], now: datetime, waits: Mapping[str, float]
) -> tuple[tuple[Batch, ...], list[Batch]]:
    """Split the open batches into those still waiting and those to send now."""
    keep: list[Batch] = []
    ready: list[Batch] = []
    for b in batches:
        # A route removed from the config sends what it held at once rather than lose it.
        wait = waits.get(b.route, 0.0)
        (ready if now >= b.opened_at + timedelta(seconds=wait) else keep).append(b)
    return tuple(keep), ready
