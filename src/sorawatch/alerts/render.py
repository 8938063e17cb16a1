"""Alert text: one title and a plain-text body per batch, the same for every notifier.

Plain text reads well in email, chat and webhooks alike; the stable alert id is in the body so
any receiver can drop a duplicate (delivery is at-least-once).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sorawatch.alerts.grouping import Batch
from sorawatch.alerts.policy import Kind, Notice
from sorawatch.domain.status import Status, worst

EVIDENCE_LINES = 3
_SEVERITY_ICON = {"critical": "🔴", "warning": "🟡", "info": "🔵"}
_KIND_WORD = {
    Kind.PROBLEM: "changed",
    Kind.RECOVERY: "recovered",
    Kind.REMINDER: "still bad",
    Kind.FLAPPING: "flapping",
    Kind.SETTLED: "settled",
    Kind.SUNSET: "retiring soon",
}


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str
    body: str
    severity: str
    kind: str


def _icon(n: Notice) -> str:
    if n.kind is Kind.RECOVERY:
        return "✅"
    if n.kind is Kind.FLAPPING:
        return "🔁"
    if n.kind is Kind.SUNSET:
        return "⏳"
    return n.new.icon


def headline(n: Notice, name: str) -> str:
    if n.kind is Kind.RECOVERY:
        return f"{_icon(n)} {name} recovered: {_old(n)} → operational"
    if n.kind is Kind.REMINDER:
        return f"{_icon(n)} {name} is still {n.new.value}"
    if n.kind is Kind.FLAPPING:
        return f"{_icon(n)} {name} is flapping (now {n.new.value})"
    if n.kind is Kind.SETTLED:
        return f"{_icon(n)} {name} settled: {n.new.value}"
    if n.kind is Kind.SUNSET:
        when = f"{n.sunset:%Y-%m-%d}" if n.sunset else "soon"
        return f"{_icon(n)} {name} retires on {when}"
    return f"{_icon(n)} {name}: {_old(n)} → {n.new.value}"


def _old(n: Notice) -> str:
    return n.old.value if n.old is not None else "?"


def _severity(batch: Batch) -> str:
    order = ["info", "warning", "critical"]
    return max((n.severity for n in batch.notices), key=order.index)


def render(batch: Batch, names: Mapping[str, str], public_url: str | None) -> Rendered:
    notices = batch.notices
    severity = _severity(batch)
    kinds = Counter(n.kind for n in notices)
    kind = notices[0].kind.value if len(kinds) == 1 else "mixed"
    if len(notices) == 1:
        n = notices[0]
        title = headline(n, names.get(n.channel_id, n.channel_id))
    else:
        channels = list(dict.fromkeys(n.channel_id for n in notices))
        worst_now = worst(*(n.new for n in notices if n.kind is not Kind.RECOVERY))
        parts = ", ".join(f"{count} {_KIND_WORD[k]}" for k, count in kinds.most_common())
        icon = _SEVERITY_ICON[severity] if worst_now is not Status.UNKNOWN else "✅"
        if len(channels) == 1:  # one channel moved several times within the group wait
            name = names.get(channels[0], channels[0])
            title = f"{icon} {name}: {parts}, now {notices[-1].new.value}"
        else:
            label = batch.group.split(":", 1)[-1]
            title = f"{icon} {len(channels)} channels of {label}: {parts}"
    lines: list[str] = []
    for n in notices:
        name = names.get(n.channel_id, n.channel_id)
        lines.append(headline(n, name) if len(notices) > 1 else f"Channel: {name} ({n.channel_id})")
        lines.append(f"  at {n.at:%Y-%m-%d %H:%M:%S} UTC · severity {n.severity}")
        if n.kind in (Kind.PROBLEM, Kind.RECOVERY, Kind.FLAPPING, Kind.SETTLED):
            lines.append(f"  status: {_old(n)} → {n.new.value}")
        if n.reason:
            lines.append(f"  cause: {n.reason}")
        for line in n.evidence[:EVIDENCE_LINES]:
            lines.append(f"  evidence: {line}")
        if public_url:
            lines.append(f"  {public_url.rstrip('/')}/channels/{n.channel_id}")
        lines.append("")
    lines.append(f"alert id: {batch.alert_id} (route {batch.route}; the same id means a resend)")
    return Rendered(title, "\n".join(lines), severity, kind)
