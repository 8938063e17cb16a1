"""Conversions shared by the store backends: JSON forms of evidence, time checks, timelines."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sorawatch.domain.incident import Incident, Segment, StatusChange
from sorawatch.domain.observation import Evidence
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.store.base import DeliveryState, MaintenanceWindow, OutboxMessage


def aware(value: datetime, name: str) -> datetime:
    """``value`` in UTC; a naive datetime is a bug in the caller."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}: naive datetime {value.isoformat()} (expected timezone-aware)")
    return value.astimezone(UTC)


def aware_or_none(value: datetime | None, name: str) -> datetime | None:
    return None if value is None else aware(value, name)


def utc_evidence(evidence: Sequence[Evidence]) -> tuple[Evidence, ...]:
    return tuple(dataclasses.replace(e, at=aware(e.at, "evidence.at")) for e in evidence)


def utc_change(change: StatusChange) -> StatusChange:
    """``change`` with every time in UTC, as a store gives it back."""
    return dataclasses.replace(
        change, at=aware(change.at, "change.at"), evidence=utc_evidence(change.evidence)
    )


def utc_message(m: OutboxMessage) -> OutboxMessage:
    """``m`` with every time in UTC and no ``seq``, as a store takes it (raises on a naive
    time)."""
    return dataclasses.replace(
        m,
        channels=tuple(m.channels),
        created_at=aware(m.created_at, "message.created_at"),
        state=DeliveryState(m.state),
        next_attempt_at=aware_or_none(m.next_attempt_at, "message.next_attempt_at"),
        delivered_at=aware_or_none(m.delivered_at, "message.delivered_at"),
        seq=None,
    )


def utc_window(w: MaintenanceWindow) -> MaintenanceWindow:
    """``w`` with every time in UTC, as the store gives it back (raises on a naive time)."""
    return dataclasses.replace(
        w,
        start=aware(w.start, "window.start"),
        end=aware(w.end, "window.end"),
        ended_at=aware_or_none(w.ended_at, "window.ended_at"),
        channels=tuple(w.channels),
        groups=tuple(w.groups),
    )


def utc_incident(incident: Incident) -> Incident:
    return dataclasses.replace(
        incident,
        started_at=aware(incident.started_at, "incident.started_at"),
        ended_at=aware_or_none(incident.ended_at, "incident.ended_at"),
        evidence=utc_evidence(incident.evidence),
    )


def evidence_to_json(evidence: Sequence[Evidence]) -> list[dict[str, Any]]:
    return [
        {
            "at": aware(e.at, "evidence.at").isoformat(),
            "source": e.source.value,
            "outcome": e.outcome.value,
            "http_status": e.http_status,
            "detail": e.detail,
        }
        for e in evidence
    ]


def evidence_from_json(items: Sequence[dict[str, Any]]) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(
            at=datetime.fromisoformat(item["at"]).astimezone(UTC),
            source=Source(item["source"]),
            outcome=Outcome(item["outcome"]),
            http_status=item["http_status"],
            detail=item["detail"],
        )
        for item in items
    )


def build_segments(
    in_force: StatusChange | None,
    inside: Sequence[StatusChange],
    since: datetime,
    until: datetime | None,
    later_exists: bool,
) -> list[Segment]:
    """Segments from the change in force at ``since`` and the changes inside (since, until),
    oldest first.

    A segment ends where the next change starts. The last one ends at ``until`` when a change
    at or after ``until`` exists (``later_exists``), and stays open (``end=None``) when it is
    the status in force now. Zero-length segments (several changes at one instant) are dropped.
    """
    starts: list[tuple[datetime, StatusChange]] = []
    if in_force is not None:
        starts.append((since, in_force))
    starts.extend((c.at, c) for c in inside)
    segments: list[Segment] = []
    for i, (start, change) in enumerate(starts):
        if i + 1 < len(starts):
            end: datetime | None = starts[i + 1][0]
        else:
            end = until if later_exists else None
        if end is None or end > start:
            segments.append(Segment(start=start, status=change.new, end=end))
    return segments
