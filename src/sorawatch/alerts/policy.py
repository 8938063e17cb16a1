"""The alert policy: confirmed status changes and the passing of time → notices (pure).

Receivers are told about a channel's status, not about every change recorded: the policy keeps
what they were last told (``notified``) and speaks when that no longer holds.

* A change to a bad status or to a vendor's maintenance is a ``problem``; back to
  ``operational`` is a ``recovery`` (never at start-up: a channel is assumed fine until told
  otherwise). ``unknown`` (no data, no key) is our own blindness and says nothing.
* Changes inside a maintenance window covering the channel are silent and leave ``notified`` as
  it was, so a channel still bad when the window ends is alerted by the change that ends it.
* More than ``flap_changes`` changes within ``flap_window`` mark the channel flapping: one
  ``flapping`` notice, then silence until no change for a whole window (``settled``).
* While receivers believe a channel bad, a ``reminder`` every ``remind_every``.
* A ``sunset`` warning once per announced retirement date, ``sunset_warning`` ahead of it.

Every notice carries a ``key`` that is the same however often the policy is replayed, which
makes alert ids stable across restarts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from sorawatch.domain.status import Status


class Kind(StrEnum):
    PROBLEM = "problem"
    RECOVERY = "recovery"
    REMINDER = "reminder"
    FLAPPING = "flapping"
    SETTLED = "settled"
    SUNSET = "sunset"


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """A recorded status change, with its evidence already redacted to short lines."""

    id: int
    channel_id: str
    at: datetime
    old: Status
    new: Status
    reason: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Notice:
    kind: Kind
    channel_id: str
    at: datetime
    old: Status | None  # what receivers were told before
    new: Status  # what they are told now
    reason: str = ""
    evidence: tuple[str, ...] = ()
    sunset: datetime | None = None
    key: str = ""

    @property
    def severity(self) -> str:
        if self.kind in (Kind.FLAPPING, Kind.SUNSET):
            return "warning"
        status = self.old if self.kind is Kind.RECOVERY and self.old is not None else self.new
        return severity_of(status)


def severity_of(status: Status) -> str:
    if status in (Status.SUSPENDED, Status.RETIRED):
        return "critical"
    if status in (Status.DEGRADED, Status.RISK_CONTROL):
        return "warning"
    return "info"


@dataclass(frozen=True, slots=True)
class Settings:
    remind_every_s: float | None = None
    flap_changes: int | None = None  # None: flapping detection off
    flap_window_s: float = 3600.0
    sunset_warning_s: float | None = None


@dataclass(frozen=True, slots=True)
class ChannelAlertState:
    notified: Status = Status.OPERATIONAL  # what receivers were last told
    notified_at: datetime | None = None  # when (reminders count from here)
    current: Status = Status.UNKNOWN  # the latest recorded status
    changes: tuple[datetime, ...] = ()  # recent change times, for flapping
    flapping: bool = False
    last_change_at: datetime | None = None
    sunset_warned: datetime | None = None
    reason: str = ""  # of the latest change

    def told(self, status: Status, at: datetime) -> ChannelAlertState:
        return replace(self, notified=status, notified_at=at)


def _telling(status: Status) -> bool:
    """Whether a status is something to tell receivers about (unknown is not)."""
    return status is not Status.UNKNOWN


def on_change(
    state: ChannelAlertState, ev: ChangeEvent, in_window: bool, settings: Settings
) -> tuple[ChannelAlertState, list[Notice]]:
    state = replace(state, current=ev.new, last_change_at=ev.at, reason=ev.reason)
    if in_window:
        return state, []
    if settings.flap_changes is not None:
        horizon = ev.at - timedelta(seconds=settings.flap_window_s)
        recent = (*(t for t in state.changes if t > horizon), ev.at)
        state = replace(state, changes=recent[-(settings.flap_changes + 1) :])
        if state.flapping:
            return state, []
        if len(recent) > settings.flap_changes:
            notice = Notice(
                Kind.FLAPPING,
                ev.channel_id,
                ev.at,
                state.notified,
                ev.new,
                f"{len(recent)} status changes within {_span(settings.flap_window_s)}",
                ev.evidence,
                key=f"flapping:{ev.id}",
            )
            return replace(state, flapping=True, notified_at=ev.at), [notice]
    if not _telling(ev.new) or ev.new is state.notified:
        return state, []
    kind = Kind.RECOVERY if ev.new is Status.OPERATIONAL else Kind.PROBLEM
    notice = Notice(
        kind,
        ev.channel_id,
        ev.at,
        state.notified,
        ev.new,
        ev.reason,
        ev.evidence,
        key=f"change:{ev.id}",
    )
    return state.told(ev.new, ev.at), [notice]


def on_tick(
    channel_id: str,
    state: ChannelAlertState,
    now: datetime,
    in_window: bool,
    sunset: datetime | None,
    settings: Settings,
) -> tuple[ChannelAlertState, list[Notice]]:
    notices: list[Notice] = []
    # A channel does not settle inside a maintenance window: it settles after it, told its
    # status then (settling silently would leave receivers with a stale word).
    if state.flapping and state.last_change_at is not None and not in_window:
        settled_at = state.last_change_at + timedelta(seconds=settings.flap_window_s)
        if now >= settled_at:
            state = replace(state, flapping=False, changes=())
            if _telling(state.current):
                notices.append(
                    Notice(
                        Kind.SETTLED,
                        channel_id,
                        settled_at,
                        state.notified,
                        state.current,
                        state.reason,
                        key=f"settled:{settled_at.isoformat()}",
                    )
                )
                state = state.told(state.current, settled_at)
    reminder = _reminder(channel_id, state, now, in_window, settings)
    if reminder is not None:
        notices.append(reminder)
        state = replace(state, notified_at=reminder.at)
    warning = _sunset_warning(channel_id, state, now, sunset, settings)
    if warning is not None:
        notices.append(warning)
        state = replace(state, sunset_warned=sunset)
    return state, notices


def _reminder(
    channel_id: str, state: ChannelAlertState, now: datetime, in_window: bool, settings: Settings
) -> Notice | None:
    every = settings.remind_every_s
    if (
        every is None
        or in_window
        or state.flapping
        or not state.notified.is_bad
        or state.notified_at is None
        or state.current is Status.UNKNOWN  # we cannot say it is still bad
    ):
        return None
    periods = math.floor((now - state.notified_at).total_seconds() / every)
    if periods < 1:
        return None
    # After a long stop, one reminder (at the last due time), not one per missed period.
    due = state.notified_at + timedelta(seconds=periods * every)
    since = state.last_change_at or state.notified_at
    return Notice(
        Kind.REMINDER,
        channel_id,
        due,
        state.notified,
        state.notified,
        f"still {state.notified.value} since {since:%Y-%m-%d %H:%M} UTC",
        key=f"reminder:{due.isoformat()}",
    )


def _sunset_warning(
    channel_id: str,
    state: ChannelAlertState,
    now: datetime,
    sunset: datetime | None,
    settings: Settings,
) -> Notice | None:
    ahead = settings.sunset_warning_s
    if ahead is None or sunset is None or state.sunset_warned == sunset or now >= sunset:
        return None
    if now < sunset - timedelta(seconds=ahead):
        return None
    days = (sunset - now).total_seconds() / 86400
    return Notice(
        Kind.SUNSET,
        channel_id,
        now,
        None,
        state.current,
        f"announced retirement on {sunset:%Y-%m-%d %H:%M} UTC, in {days:.0f} days",
        sunset=sunset,
        key=f"sunset:{sunset.isoformat()}",
    )


def _span(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


@dataclass(frozen=True, slots=True)
class PolicyState:
    channels: dict[str, ChannelAlertState] = field(default_factory=dict)

    def of(self, channel_id: str) -> ChannelAlertState:
        return self.channels.get(channel_id) or ChannelAlertState()
