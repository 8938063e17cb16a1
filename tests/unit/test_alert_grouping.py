"""Routes and grouping: who gets a notice, and how notices close in time make one message."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sorawatch.alerts.config import RouteConfig
from sorawatch.alerts.grouping import Batch, ChannelInfo, Rule, due, place
from sorawatch.alerts.policy import (
    ChangeEvent,
    ChannelAlertState,
    Kind,
    Notice,
    Settings,
    on_change,
)
from sorawatch.domain.status import Status

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
INFO = {
    "sora-a": ChannelInfo("Sora", "openai"),
    "sora-b": ChannelInfo("Sora", "openai"),
    "veo": ChannelInfo("Veo", "google"),
}


def notice(cid: str, seconds: float, kind: Kind = Kind.PROBLEM, new: Status = Status.SUSPENDED):
    old = Status.OPERATIONAL
    return Notice(kind, cid, T0 + timedelta(seconds=seconds), old, new, key=f"k{seconds}{cid}")


def rule(**kw: object) -> Rule:
    return Rule.of(RouteConfig.model_validate({"name": "r", "notifiers": ["n"], **kw}))


@pytest.mark.parametrize(
    ("route", "n", "wanted"),
    [
        pytest.param({}, notice("veo", 0), True, id="no-scope-takes-all"),
        pytest.param({"groups": ["Sora"]}, notice("veo", 0), False, id="other-group"),
        pytest.param({"groups": ["Sora"]}, notice("sora-a", 0), True, id="its-group"),
        pytest.param({"channels": ["veo"]}, notice("veo", 0), True, id="named-channel"),
        pytest.param(
            {"severities": ["critical"]},
            notice("veo", 0, new=Status.DEGRADED),
            False,
            id="below-severity",
        ),
        pytest.param(
            {"reminders": False}, notice("veo", 0, Kind.REMINDER), False, id="no-reminders"
        ),
    ],
)
def test_route_wants(route: dict[str, object], n: Notice, wanted: bool) -> None:
    assert rule(**route).wants(n, INFO[n.channel_id]) is wanted


def test_a_group_failing_together_makes_one_batch_per_group() -> None:
    r = rule(group_wait=30)
    batches: tuple[Batch, ...] = ()
    for n in (notice("sora-a", 0), notice("veo", 5), notice("sora-b", 20)):
        batches, closed = place(batches, [r], n, INFO[n.channel_id])
        assert closed == []
    waiting, ready = due(batches, T0 + timedelta(seconds=29), {"r": 30})
    assert ready == []
    _, ready = due(waiting, T0 + timedelta(seconds=36), {"r": 30})
    assert sorted(len(b.notices) for b in ready) == [1, 2]
    assert {b.group for b in ready} == {"group:Sora", "group:Veo"}


def test_vendor_grouping_and_a_late_notice_opens_a_new_batch() -> None:
    r = rule(group_by="vendor", group_wait=10)
    batches, _ = place((), [r], notice("sora-a", 0), INFO["sora-a"])
    batches, closed = place(batches, [r], notice("sora-b", 12), INFO["sora-b"])
    assert [len(b.notices) for b in closed] == [1] and len(batches) == 1


def test_alert_ids_are_stable_and_differ_by_content() -> None:
    a = Batch("r", "group:Sora", T0, (notice("sora-a", 0),))
    assert a.alert_id == Batch("r", "group:Sora", T0, (notice("sora-a", 0),)).alert_id
    assert a.alert_id != Batch("r2", "group:Sora", T0, (notice("sora-a", 0),)).alert_id


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(INFO)), st.integers(min_value=0, max_value=600)),
        max_size=30,
    ),
    st.integers(min_value=1, max_value=120),
)
def test_every_notice_lands_in_exactly_one_batch_within_the_wait(
    raw: list[tuple[str, int]], wait: int
) -> None:
    r = rule(group_wait=wait)
    notices = [notice(cid, t) for cid, t in sorted(raw, key=lambda x: x[1])]
    batches: tuple[Batch, ...] = ()
    sent: list[Batch] = []
    for n in notices:
        batches, closed = place(batches, [r], n, INFO[n.channel_id])
        sent += closed
    _, rest = due(batches, T0 + timedelta(days=1), {"r": wait})
    sent += rest
    assert {id(n) for b in sent for n in b.notices} == {id(n) for n in notices}
    assert sum(len(b.notices) for b in sent) == len(notices)
    for b in sent:
        assert {INFO[n.channel_id].group for n in b.notices} == {b.group.split(":", 1)[1]}
        assert all(b.opened_at <= n.at < b.opened_at + timedelta(seconds=wait) for n in b.notices)
    by_group: dict[str, list[Batch]] = {}
    for b in sorted(sent, key=lambda b: b.opened_at):
        by_group.setdefault(b.group, []).append(b)
    for seq in by_group.values():  # a group's batches never overlap: one message per wait
        for first, second in itertools.pairwise(seq):
            assert second.opened_at >= first.opened_at + timedelta(seconds=wait)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(INFO)),
            st.sampled_from(list(Status)),
            st.integers(min_value=0, max_value=120),  # seconds after the previous change
            st.booleans(),  # inside a maintenance window
        ),
        max_size=40,
    ),
    st.integers(min_value=1, max_value=90),
)
def test_alerts_are_the_confirmed_transitions_outside_maintenance_grouped_as_specified(
    changes: list[tuple[str, Status, int, bool]], wait: int
) -> None:
    """The whole pure pipeline: changes of several channels → policy → one route's batches."""
    r = rule(group_wait=wait)
    states: dict[str, ChannelAlertState] = {}
    told = dict.fromkeys(INFO, Status.OPERATIONAL)
    expected: list[tuple[str, Status, Status]] = []
    batches: tuple[Batch, ...] = ()
    sent: list[Batch] = []
    at = T0
    for i, (cid, new, gap, in_window) in enumerate(changes):
        at += timedelta(seconds=gap)
        ev = ChangeEvent(i + 1, cid, at, Status.UNKNOWN, new, "")
        states[cid], notices = on_change(
            states.get(cid, ChannelAlertState()), ev, in_window, Settings()
        )
        if not in_window and new is not Status.UNKNOWN and new is not told[cid]:
            expected.append((cid, told[cid], new))  # the specification
            told[cid] = new
        for n in notices:
            batches, closed = place(batches, [r], n, INFO[cid])
            sent += closed
    _, rest = due(batches, at + timedelta(days=1), {"r": wait})
    sent += rest
    got = sorted(
        ((n.channel_id, n.old, n.new) for b in sent for n in b.notices), key=lambda x: str(x)
    )
    assert got == sorted(expected, key=lambda x: str(x))
    for b in sent:  # grouped as specified: one group per batch, all within the wait
        assert {INFO[n.channel_id].group for n in b.notices} == {b.group.split(":", 1)[1]}
        assert all(b.opened_at <= n.at < b.opened_at + timedelta(seconds=wait) for n in b.notices)
