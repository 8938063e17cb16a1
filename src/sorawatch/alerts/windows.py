"""Maintenance windows: which channels a window covers, and when (pure)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from sorawatch.alerts.config import MaintenanceConfig
from sorawatch.store.base import MaintenanceWindow


def from_config(cfg: MaintenanceConfig) -> MaintenanceWindow:
    return MaintenanceWindow(
        name=cfg.name,
        start=cfg.start,
        end=cfg.last,
        channels=tuple(cfg.channels),
        groups=tuple(cfg.groups),
        every_s=cfg.every,
        reason=cfg.reason,
    )


def covers_channel(window: MaintenanceWindow, channel_id: str, group: str) -> bool:
    return channel_id in window.channels or group in window.groups


def occurrence(window: MaintenanceWindow, at: datetime) -> tuple[datetime, datetime] | None:
    """The occurrence ``[start, end)`` of the window in force at ``at`` (None: none is)."""
    if at < window.start or (window.ended_at is not None and at >= window.ended_at):
        return None
    length = window.end - window.start
    start = window.start
    if window.every_s is not None:
        k = math.floor((at - window.start).total_seconds() / window.every_s)
        start = window.start + timedelta(seconds=k * window.every_s)
    end = start + length
    if window.ended_at is not None:
        end = min(end, window.ended_at)
    return (start, end) if start <= at < end else None


def next_occurrence(window: MaintenanceWindow, after: datetime) -> tuple[datetime, datetime] | None:
    """The current or next occurrence that has not ended by ``after`` (None: no more)."""
    now = occurrence(window, after)
    if now is not None:
        return now
    start = window.start
    if after >= window.start:
        if window.every_s is None:
            return None
        k = math.floor((after - window.start).total_seconds() / window.every_s) + 1
        start = window.start + timedelta(seconds=k * window.every_s)
    if window.ended_at is not None and start >= window.ended_at:
        return None
    end = start + (window.end - window.start)
    if window.ended_at is not None:
        end = min(end, window.ended_at)
    return start, end


State = Literal["active", "upcoming", "ended"]


def state_at(
    window: MaintenanceWindow, at: datetime
) -> tuple[State, tuple[datetime, datetime] | None]:
    """``active`` with its current occurrence, ``upcoming`` with its next, or ``ended``."""
    current = occurrence(window, at)
    span = current or next_occurrence(window, at)
    return ("active" if current else "upcoming" if span else "ended"), span


def active(
    windows: Iterable[MaintenanceWindow], channel_id: str, group: str, at: datetime
) -> MaintenanceWindow | None:
    """The first window covering the channel at ``at``."""
    for w in windows:
        if covers_channel(w, channel_id, group) and occurrence(w, at) is not None:
            return w
    return None
