"""The alert policy: what receivers are told for a sequence of confirmed changes (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sorawatch.alerts.policy import (
    ChangeEvent,
    ChannelAlertState,
    Kind,
    Notice,
    Settings,
    on_change,
    on_tick,
)
from sorawatch.domain.status import Status

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
OFF = Settings()
S = Status


def run(
    statuses: list[Status],
    settings: Settings = OFF,
    window: set[int] | frozenset[int] = frozenset(),
    step_s: float = 60.0,
) -> tuple[ChannelAlertState, list[Notice]]:
    """Feed changes to ``statuses`` one per ``step_s``; indexes in ``window`` are inside a
    maintenance window."""
    state, out, old = ChannelAlertState(), [], Status.UNKNOWN
    for i, new in enumerate(statuses):
        ev = ChangeEvent(i + 1, "a", T0 + timedelta(seconds=i * step_s), old, new, f"why {i}")
        state, notices = on_change(state, ev, i in window, settings)
        out += notices
        old = new
    return state, out


def said(notices: list[Notice]) -> list[tuple[str, str | None, str]]:
    return [(n.kind.value, n.old.value if n.old else None, n.new.value) for n in notices]


CASES = [
    pytest.param([S.OPERATIONAL], [], id="start-up-operational-is-not-news"),
    pytest.param([S.SUSPENDED], [("problem", "operational", "suspended")], id="bad-at-start-up"),
    pytest.param(
        [S.OPERATIONAL, S.SUSPENDED, S.OPERATIONAL],
        [("problem", "operational", "suspended"), ("recovery", "suspended", "operational")],
        id="fail-then-recover",
    ),
    pytest.param(
        [S.OPERATIONAL, S.DEGRADED, S.SUSPENDED],
        [("problem", "operational", "degraded"), ("problem", "degraded", "suspended")],
        id="worse",
    ),
    pytest.param([S.OPERATIONAL, S.UNKNOWN, S.OPERATIONAL], [], id="blind-spell-is-silent"),
    pytest.param(
        [S.SUSPENDED, S.UNKNOWN, S.SUSPENDED],
        [("problem", "operational", "suspended")],
        id="blind-while-bad-no-repeat",
    ),
    pytest.param(
        [S.OPERATIONAL, S.MAINTENANCE, S.OPERATIONAL],
        [("problem", "operational", "maintenance"), ("recovery", "maintenance", "operational")],
        id="vendor-maintenance-is-told",
    ),
]


@pytest.mark.parametrize(("statuses", "expected"), CASES)
def test_notices_for_a_sequence(statuses: list[Status], expected: list[tuple[str, ...]]) -> None:
    assert said(run(statuses)[1]) == expected


def test_changes_inside_a_window_are_silent_and_the_end_alerts_what_is_still_bad() -> None:
    # operational, (window: maintenance, suspended, maintenance), then the window ends: suspended
    statuses = [S.OPERATIONAL, S.MAINTENANCE, S.SUSPENDED, S.MAINTENANCE, S.SUSPENDED]
    _, notices = run(statuses, window={1, 2, 3})
    assert said(notices) == [("problem", "operational", "suspended")]
    assert notices[0].key == "change:5"


def test_a_window_that_ends_fine_says_nothing() -> None:
    _, notices = run([S.OPERATIONAL, S.MAINTENANCE, S.OPERATIONAL], window={1})
    assert notices == []


def test_flapping_is_told_once_then_settles() -> None:
    flappy = Settings(flap_changes=3, flap_window_s=3600)
    statuses = [S.OPERATIONAL, *[S.SUSPENDED, S.OPERATIONAL] * 5, S.SUSPENDED]
    state, notices = run(statuses, flappy)
    kinds = [n.kind for n in notices]
    assert kinds.count(Kind.FLAPPING) == 1
    assert kinds[-1] is Kind.FLAPPING and state.flapping
    # still flapping within the hour after the last change...
    last = T0 + timedelta(minutes=len(statuses) - 1)
    state, quiet = on_tick("a", state, last + timedelta(minutes=59), False, None, flappy)
    assert quiet == [] and state.flapping
    # ...settled once a whole window passed without a change: told the status it settled on
    state, settled = on_tick("a", state, last + timedelta(minutes=61), False, None, flappy)
    assert [(n.kind, n.new) for n in settled] == [(Kind.SETTLED, S.SUSPENDED)]
    assert not state.flapping and state.notified is S.SUSPENDED


def test_reminders_at_the_set_pace_and_one_after_a_long_stop() -> None:
    every = Settings(remind_every_s=600)
    state, _ = run([S.SUSPENDED], every)
    reminders = []
    for minute in range(1, 31):
        state, notices = on_tick("a", state, T0 + timedelta(minutes=minute), False, None, every)
        reminders += notices
    assert [n.at for n in reminders] == [T0 + timedelta(minutes=m) for m in (10, 20, 30)]
    assert {n.kind for n in reminders} == {Kind.REMINDER}
    # the process was away for five hours: one reminder, not thirty
    state, notices = on_tick("a", state, T0 + timedelta(hours=5, minutes=30), False, None, every)
    assert len(notices) == 1


@pytest.mark.parametrize(
    ("statuses", "in_window"),
    [
        pytest.param([S.OPERATIONAL], False, id="not-bad"),
        pytest.param([S.SUSPENDED], True, id="in-window"),
        pytest.param([S.SUSPENDED, S.UNKNOWN], False, id="blind-now"),
    ],
)
def test_no_reminder(statuses: list[Status], in_window: bool) -> None:
    every = Settings(remind_every_s=60)
    state, _ = run(statuses, every)
    _, notices = on_tick("a", state, T0 + timedelta(hours=1), in_window, None, every)
    assert notices == []


def test_sunset_warning_once_per_announced_date() -> None:
    warn = Settings(sunset_warning_s=14 * 86400)
    state = ChannelAlertState(current=S.OPERATIONAL)
    sunset = T0 + timedelta(days=20)
    state, early = on_tick("a", state, T0, False, sunset, warn)
    assert early == []
    state, first = on_tick("a", state, T0 + timedelta(days=7), False, sunset, warn)
    assert [n.kind for n in first] == [Kind.SUNSET] and "in 13 days" in first[0].reason
    state, again = on_tick("a", state, T0 + timedelta(days=8), False, sunset, warn)
    assert again == []
    moved = sunset + timedelta(days=30)  # a new announced date is news again
    _, news = on_tick("a", state, moved - timedelta(days=1), False, moved, warn)
    assert [n.sunset for n in news] == [moved]


def test_severity_follows_the_status_and_recovery_the_status_it_leaves() -> None:
    _, notices = run([S.SUSPENDED, S.OPERATIONAL, S.DEGRADED])
    assert [n.severity for n in notices] == ["critical", "critical", "warning"]


def model(statuses: list[Status], window: set[int]) -> list[tuple[str, str | None, str]]:
    """The specification: receivers hear each move of the status outside maintenance, once,
    ignoring ``unknown``, starting from ``operational``."""
    out: list[tuple[str, str | None, str]] = []
    told = S.OPERATIONAL
    for i, new in enumerate(statuses):
        if i in window or new is S.UNKNOWN or new is told:
            continue
        out.append(("recovery" if new is S.OPERATIONAL else "problem", told.value, new.value))
        told = new
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(list(Status)), max_size=40),
    st.sets(st.integers(min_value=0, max_value=39)),
)
def test_alerts_are_the_confirmed_transitions_outside_maintenance(
    statuses: list[Status], window: set[int]
) -> None:
    _, notices = run(statuses, window=window)
    assert said(notices) == model(statuses, window)
    assert len({n.key for n in notices}) == len(notices)  # stable, distinct keys


def test_a_flapping_channel_settles_after_a_window_not_inside_it() -> None:
    flappy = Settings(flap_changes=3, flap_window_s=3600)
    state, _ = run([S.OPERATIONAL, *[S.SUSPENDED, S.OPERATIONAL] * 3], flappy)
    assert state.flapping
    later = T0 + timedelta(hours=2)
    state, quiet = on_tick("a", state, later, True, None, flappy)  # inside a window
    assert quiet == [] and state.flapping
    state, settled = on_tick("a", state, later + timedelta(hours=1), False, None, flappy)
    assert [(n.kind, n.new) for n in settled] == [(Kind.SETTLED, S.OPERATIONAL)]
