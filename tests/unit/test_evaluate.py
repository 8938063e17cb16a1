"""evaluate: confirmation thresholds, vendor words, incidents."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sorawatch.domain.evaluate import (
    INCIDENT_EVIDENCE_CAP,
    RC_HEALTHY,
    RC_WINDOW,
    STREAK_CAP,
    ChannelState,
    Thresholds,
    apply_change,
    combine,
    evaluate,
    expire,
    resume_canaries,
    state_status,
    target_status,
    with_canaries,
)
from sorawatch.domain.incident import Incident, StatusChange
from sorawatch.domain.observation import Evidence, Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status, worst

T0 = datetime(2026, 11, 24, tzinfo=UTC)
CH = "sora-relay"
TH = Thresholds()

DETAILS = {
    Outcome.OK: "200 ok",
    Outcome.SLOW: "200 slow: 9100 ms > 8000 ms",
    Outcome.RATE_LIMITED: "429 rate_limit_exceeded",
    Outcome.RISK_CONTROL: "403 cf-mitigated: challenge",
    Outcome.OVERLOADED: "503 server_is_overloaded",
    Outcome.QUOTA_EXHAUSTED: "429 insufficient_quota",
    Outcome.AUTH_FAILED: "401 invalid_api_key",
    Outcome.PAUSED: "503 channel_paused",
    Outcome.RETIRED: "404 model_not_found",
    Outcome.SERVER_ERROR: "500 server_error",
    Outcome.TIMEOUT: "timeout after 15000 ms",
    Outcome.CONNECT_ERROR: "connect error",
    Outcome.BAD_RESPONSE: "200 html instead of json",
    Outcome.REJECTED: "400 invalid_type",
    Outcome.JOB_FAILED: "job failed: generation_failed",
}
FAILING = [o for o in Outcome if target_status(o) not in (None, Status.OPERATIONAL)]
GOOD = [o for o in Outcome if target_status(o) is Status.OPERATIONAL]

_clock = itertools.count()


def at(minute: int | None = None) -> datetime:
    return T0 + timedelta(minutes=next(_clock) if minute is None else minute)


def probe(
    outcome: Outcome, source: Source = Source.LIGHT, minute: int | None = None
) -> Observation:
    return Observation(CH, source, at(minute), outcome, detail=DETAILS[outcome])


def vendor(reported: Status, word: str, minute: int | None = None) -> Observation:
    return Observation(
        CH, Source.STATUSPAGE, at(minute), Outcome.OK, detail=word, reported=reported
    )


def no_data(detail: str = "no credentials") -> Observation:
    return Observation(CH, Source.LIGHT, at(), Outcome.OK, detail=detail, inconclusive=True)


def feed(
    items: Iterable[Observation | Outcome],
    state: ChannelState | None = None,
    th: Thresholds = TH,
) -> tuple[ChannelState, list[StatusChange]]:
    state = state or ChannelState(CH)
    changes = []
    for item in items:
        obs = probe(item) if isinstance(item, Outcome) else item
        state, change = evaluate(state, obs, th)
        if change is not None:
            changes.append(change)
    return state, changes


O = Outcome  # noqa: E741 - keeps the tables readable

SEQUENCES = [
    pytest.param([O.OK], TH, [Status.OPERATIONAL], id="first-ok-from-unknown-is-at-once"),
    pytest.param([O.OK, O.RATE_LIMITED, O.RATE_LIMITED], TH, [Status.OPERATIONAL], id="two-fails"),
    pytest.param(
        [O.OK, *[O.RATE_LIMITED] * 3],
        TH,
        [Status.OPERATIONAL, Status.RISK_CONTROL],
        id="three-rate-limited-confirm-risk-control",
    ),
    pytest.param(
        [O.OK, O.SERVER_ERROR, O.SERVER_ERROR, O.OK, O.SERVER_ERROR, O.SERVER_ERROR],
        TH,
        [Status.OPERATIONAL],
        id="a-good-answer-breaks-the-streak",
    ),
    pytest.param(
        [O.OK, O.RATE_LIMITED, O.RATE_LIMITED, O.OK, O.RATE_LIMITED, O.RATE_LIMITED],
        TH,
        [Status.OPERATIONAL, Status.RISK_CONTROL],
        id="partly-blocked-is-risk-control-without-a-streak",
    ),
    pytest.param(
        [O.OK, O.RISK_CONTROL, O.OK, O.RISK_CONTROL, O.OK, O.OK, O.RISK_CONTROL, O.OK],
        TH,
        [Status.OPERATIONAL, Status.RISK_CONTROL],
        id="three-blocked-of-six-is-risk-control-and-one-ok-is-no-recovery",
    ),
    pytest.param(
        [O.OK, *[O.RISK_CONTROL] * 3, O.RISK_CONTROL, O.OK, O.OK, O.OK],
        TH,
        [Status.OPERATIONAL, Status.RISK_CONTROL],
        id="two-in-a-row-is-no-recovery-while-most-attempts-since-were-blocked",
    ),
    pytest.param(
        [O.OK, *[O.RISK_CONTROL] * 3, O.RISK_CONTROL, *[O.OK] * 4],
        TH,
        [Status.OPERATIONAL, Status.RISK_CONTROL, Status.OPERATIONAL],
        id="recovery-from-risk-control-once-80-percent-pass-again",
    ),
    pytest.param(
        [O.OK, O.RATE_LIMITED, O.RATE_LIMITED, O.REJECTED, O.RATE_LIMITED],
        TH,
        [Status.OPERATIONAL, Status.RISK_CONTROL],
        id="rejected-neither-counts-nor-breaks",
    ),
    pytest.param(
        [O.OK, *[O.TIMEOUT] * 3], TH, [Status.OPERATIONAL, Status.SUSPENDED], id="timeouts"
    ),
    pytest.param([O.OK, *[O.SLOW] * 3], TH, [Status.OPERATIONAL, Status.DEGRADED], id="slow"),
    pytest.param(
        [O.OK, O.OVERLOADED, O.SERVER_ERROR, O.OVERLOADED],
        TH,
        [Status.OPERATIONAL, Status.DEGRADED],
        id="mixed-5xx-degraded",
    ),
    pytest.param(
        [O.OK, *[O.SERVER_ERROR] * 6],
        TH,
        [Status.OPERATIONAL, Status.DEGRADED, Status.SUSPENDED],
        id="sustained-5xx-escalates-to-suspended",
    ),
    pytest.param(
        [O.OK, *[O.SERVER_ERROR] * 5, O.BAD_RESPONSE],
        TH,
        [Status.OPERATIONAL, Status.DEGRADED],
        id="a-bad-response-interrupts-the-sustained-run",
    ),
    pytest.param(
        [O.OK, O.RATE_LIMITED, O.TIMEOUT, O.TIMEOUT],
        TH,
        [Status.OPERATIONAL, Status.SUSPENDED],
        id="most-frequent-target-wins",
    ),
    pytest.param(
        [O.OK, O.RATE_LIMITED, O.TIMEOUT],
        Thresholds(fail_after=2),
        [Status.OPERATIONAL, Status.SUSPENDED],
        id="tie-goes-to-the-most-recent-suspended",
    ),
    pytest.param(
        [O.OK, O.TIMEOUT, O.RATE_LIMITED],
        Thresholds(fail_after=2),
        [Status.OPERATIONAL, Status.RISK_CONTROL],
        id="tie-goes-to-the-most-recent-risk",
    ),
    pytest.param(
        [O.OK, *[O.SERVER_ERROR] * 3, O.RATE_LIMITED, O.RATE_LIMITED],
        TH,
        [Status.OPERATIONAL, Status.DEGRADED],
        id="between-bad-two-elsewhere-is-not-enough",
    ),
    pytest.param(
        [O.OK, *[O.SERVER_ERROR] * 3, *[O.RATE_LIMITED] * 3],
        TH,
        [Status.OPERATIONAL, Status.DEGRADED, Status.RISK_CONTROL],
        id="between-bad-three-elsewhere-move",
    ),
    pytest.param(
        [O.OK, *[O.SERVER_ERROR] * 3, O.RATE_LIMITED, O.SERVER_ERROR, O.RATE_LIMITED],
        TH,
        [Status.OPERATIONAL, Status.DEGRADED],
        id="between-bad-window-still-points-at-current",
    ),
    pytest.param(
        [O.OK, *[O.TIMEOUT] * 3, O.OK],
        TH,
        [Status.OPERATIONAL, Status.SUSPENDED],
        id="one-ok-does-not-recover",
    ),
    pytest.param(
        [O.OK, *[O.TIMEOUT] * 3, O.OK, O.SLOW, O.OK],
        TH,
        [Status.OPERATIONAL, Status.SUSPENDED],
        id="slow-is-not-a-success-for-recovery",
    ),
    pytest.param(
        [O.OK, *[O.TIMEOUT] * 3, O.OK, O.OK],
        TH,
        [Status.OPERATIONAL, Status.SUSPENDED, Status.OPERATIONAL],
        id="two-ok-recover",
    ),
    pytest.param([O.TIMEOUT, O.TIMEOUT], TH, [], id="failures-from-unknown-need-confirmation"),
    pytest.param([*[O.TIMEOUT] * 3], TH, [Status.SUSPENDED], id="three-failures-from-unknown"),
    pytest.param(
        [O.OK, *[O.RETIRED] * 3, *[O.TIMEOUT] * 8, O.OK],
        TH,
        [Status.OPERATIONAL, Status.RETIRED],
        id="retired-is-sticky-against-failures",
    ),
    pytest.param(
        [O.OK, *[O.RETIRED] * 3, O.OK, O.OK],
        TH,
        [Status.OPERATIONAL, Status.RETIRED, Status.OPERATIONAL],
        id="retired-comes-back-on-good-answers",
    ),
    pytest.param(
        [O.OK, O.QUOTA_EXHAUSTED, O.AUTH_FAILED, O.PAUSED],
        TH,
        [Status.OPERATIONAL, Status.SUSPENDED],
        id="owner-must-act-outcomes-suspend",
    ),
    pytest.param(
        [O.OK, *[O.JOB_FAILED] * 3],
        TH,
        [Status.OPERATIONAL, Status.DEGRADED],
        id="job-failed-degrades",
    ),
    pytest.param(
        [O.OK, O.TIMEOUT],
        Thresholds(fail_after=1, recover_after=1),
        [Status.OPERATIONAL, Status.SUSPENDED],
        id="one-round-thresholds",
    ),
]


@pytest.mark.parametrize(("outcomes", "th", "expected"), SEQUENCES)
def test_sequences(outcomes: list[Outcome], th: Thresholds, expected: list[Status]) -> None:
    state, changes = feed(outcomes, th=th)
    assert [c.new for c in changes] == expected
    assert state.status is (expected[-1] if expected else Status.UNKNOWN)
    for before, after in itertools.pairwise(changes):
        assert after.old is before.new


def test_change_says_why() -> None:
    state, _ = feed([O.OK])
    _, changes = feed([O.RATE_LIMITED] * 3, state)
    (change,) = changes
    assert change.reason == "3 consecutive rate_limited (429 rate_limit_exceeded)"
    assert change.sources == ("light",)
    assert [e.outcome for e in change.evidence] == [O.RATE_LIMITED] * 3
    assert change.old is Status.OPERATIONAL
    assert change.at == change.evidence[-1].at


def test_mixed_reason_and_sources() -> None:
    state, _ = feed([O.OK])
    obs = [probe(O.TIMEOUT), probe(O.RATE_LIMITED, Source.CANARY), probe(O.TIMEOUT, Source.TRAFFIC)]
    _, (change,) = feed(obs, state)
    assert change.new is Status.SUSPENDED
    assert change.reason.startswith("3 consecutive failures: 2 timeout, 1 rate_limited")
    assert change.sources == ("light", "canary", "traffic")


def test_sustained_reason_names_the_whole_run() -> None:
    _, changes = feed([O.OK, *[O.SERVER_ERROR] * 4, *[O.OVERLOADED] * 2])
    assert changes[-1].reason.startswith("6 consecutive overloaded/server_error (sustained)")
    assert len(changes[-1].evidence) == 6


def test_first_good_probe_reason() -> None:
    _, (change,) = feed([O.OK])
    assert change.reason == "first good probe (200 ok)"
    assert change.old is Status.UNKNOWN


def test_inconclusive_sets_unknown_at_once_and_resets_streaks() -> None:
    state, _ = feed([O.OK, O.TIMEOUT, O.TIMEOUT])
    state, (change,) = feed([no_data("our own network is down")], state)
    assert (change.old, change.new) == (Status.OPERATIONAL, Status.UNKNOWN)
    assert change.reason == "no data: our own network is down"
    assert state.streak == ()
    state, changes = feed([O.TIMEOUT], state)
    assert changes == []  # the two earlier timeouts were forgotten
    _, (back,) = feed([O.OK], ChannelState(CH, Status.UNKNOWN, probe_status=Status.UNKNOWN))
    assert back.new is Status.OPERATIONAL


def test_since_moves_with_the_status() -> None:
    state, _ = feed([O.OK])
    first = state.since
    state, _ = feed([O.OK, O.TIMEOUT], state)
    assert state.since == first
    state, changes = feed([O.TIMEOUT, O.TIMEOUT], state)
    assert state.since == changes[-1].at


def test_streak_is_capped() -> None:
    state, _ = feed([O.OK, *[O.TIMEOUT] * 100])
    assert len(state.streak) == STREAK_CAP
    big = Thresholds(fail_after=30)
    state, _ = feed([O.OK, *[O.SERVER_ERROR] * 100], th=big)
    assert len(state.streak) == 60
    assert state.status is Status.SUSPENDED


def test_a_rebuilt_streak_of_mixed_polarity_is_not_trusted() -> None:
    # e.g. rebuilt after a restart by code that counts slow as good
    mixed = tuple(probe(o) for o in (O.OK, O.OK, O.SLOW, O.REJECTED))
    state = ChannelState(CH, Status.OPERATIONAL, T0, Status.OPERATIONAL, streak=mixed)
    state, changes = feed([O.SLOW], state)
    assert changes == []
    assert [o.outcome for o in state.streak] == [O.SLOW, O.SLOW]
    _, (change,) = feed([O.SLOW], state)
    assert change.new is Status.DEGRADED


def test_observation_of_another_channel_is_a_bug() -> None:
    with pytest.raises(ValueError, match="fed to"):
        evaluate(ChannelState("other"), probe(O.OK), TH)


def test_thresholds_below_one_are_a_bug() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Thresholds(fail_after=0)


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (O.OK, Status.OPERATIONAL),
        (O.SLOW, Status.DEGRADED),
        (O.OVERLOADED, Status.DEGRADED),
        (O.SERVER_ERROR, Status.DEGRADED),
        (O.BAD_RESPONSE, Status.DEGRADED),
        (O.JOB_FAILED, Status.DEGRADED),
        (O.RATE_LIMITED, Status.RISK_CONTROL),
        (O.RISK_CONTROL, Status.RISK_CONTROL),
        (O.QUOTA_EXHAUSTED, Status.SUSPENDED),
        (O.AUTH_FAILED, Status.SUSPENDED),
        (O.PAUSED, Status.SUSPENDED),
        (O.TIMEOUT, Status.SUSPENDED),
        (O.CONNECT_ERROR, Status.SUSPENDED),
        (O.RETIRED, Status.RETIRED),
        (O.REJECTED, None),
    ],
    ids=lambda v: str(v),
)
def test_health_signal_column(outcome: Outcome, status: Status | None) -> None:
    assert target_status(outcome) is status


# ---- the vendor's word


def test_vendor_major_outage_counts_at_once() -> None:
    state, _ = feed([O.OK])
    state, (change,) = feed([vendor(Status.SUSPENDED, "major_outage")], state)
    assert (change.old, change.new) == (Status.OPERATIONAL, Status.SUSPENDED)
    assert change.reason == "vendor status page: major_outage"
    assert change.sources == ("statuspage",)
    assert [e.source for e in change.evidence] == [Source.STATUSPAGE]
    assert state.probe_status is Status.OPERATIONAL


def test_vendor_maintenance_explains_probe_failures() -> None:
    state, _ = feed([O.OK, *[O.TIMEOUT] * 3])
    state, (change,) = feed([vendor(Status.MAINTENANCE, "under_maintenance")], state)
    assert change.new is Status.MAINTENANCE
    state, (back,) = feed([vendor(Status.OPERATIONAL, "operational")], state)
    assert back.new is Status.SUSPENDED  # the probes still say so


def test_vendor_maintenance_does_not_revive_a_retired_model() -> None:
    state, _ = feed([O.OK, *[O.RETIRED] * 3])
    state, changes = feed([vendor(Status.MAINTENANCE, "under_maintenance")], state)
    assert changes == []
    assert state.status is Status.RETIRED


def test_probe_recovery_under_a_vendor_outage_names_the_vendor() -> None:
    state, _ = feed([O.OK, *[O.TIMEOUT] * 3, vendor(Status.DEGRADED, "degraded_performance")])
    assert state.status is Status.SUSPENDED
    state, (change,) = feed([O.OK, O.OK], state)
    assert change.new is Status.DEGRADED
    assert change.reason == "2 consecutive ok (200 ok); vendor status page says degraded"
    assert change.sources == ("light", "statuspage")


def test_operational_vendor_hides_nothing() -> None:
    state, _ = feed([O.OK, *[O.TIMEOUT] * 3, vendor(Status.OPERATIONAL, "operational")])
    assert state.status is Status.SUSPENDED


def test_unreadable_status_page_says_nothing() -> None:
    state, _ = feed([O.OK])
    unread = Observation(CH, Source.STATUSPAGE, at(), Outcome.BAD_RESPONSE, detail="502")
    assert evaluate(state, unread, TH) == (state, None)


def test_expire_drops_a_stale_vendor_word() -> None:
    state, _ = feed([O.OK, vendor(Status.SUSPENDED, "major_outage", minute=1000)])
    said = T0 + timedelta(minutes=1000)
    assert expire(state, said + timedelta(seconds=600), 600) == (state, None)
    state, change = expire(state, said + timedelta(seconds=601), 600)
    assert change is not None
    assert (change.old, change.new) == (Status.SUSPENDED, Status.OPERATIONAL)
    assert change.reason == "vendor status page word expired (suspended, older than 600 s)"
    assert state.vendor is None
    assert state.vendor_at is None


def test_expire_without_a_vendor_word_does_nothing() -> None:
    state, _ = feed([O.OK])
    assert expire(state, T0 + timedelta(days=9), 60) == (state, None)


@pytest.mark.parametrize(
    ("probe_status", "vendor_status", "expected"),
    [
        (Status.OPERATIONAL, None, Status.OPERATIONAL),
        (Status.OPERATIONAL, Status.OPERATIONAL, Status.OPERATIONAL),
        (Status.OPERATIONAL, Status.DEGRADED, Status.DEGRADED),
        (Status.SUSPENDED, Status.DEGRADED, Status.SUSPENDED),
        (Status.SUSPENDED, Status.MAINTENANCE, Status.MAINTENANCE),
        (Status.RETIRED, Status.MAINTENANCE, Status.RETIRED),
        (Status.UNKNOWN, Status.SUSPENDED, Status.SUSPENDED),
        (Status.UNKNOWN, Status.OPERATIONAL, Status.UNKNOWN),
        (Status.DEGRADED, Status.UNKNOWN, Status.DEGRADED),
    ],
    ids=lambda v: str(v),
)
def test_combine(probe_status: Status, vendor_status: Status | None, expected: Status) -> None:
    assert combine(probe_status, vendor_status) is expected


# ---- incidents


def _change(new: Status, minute: int, old: Status = Status.OPERATIONAL, n: int = 1) -> StatusChange:
    when = T0 + timedelta(minutes=minute)
    evidence = tuple(
        Evidence(when, Source.LIGHT, O.TIMEOUT, None, f"e{minute}.{i}") for i in range(n)
    )
    return StatusChange(CH, when, old, new, f"to {new.value}", ("light",), evidence)


def _ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"inc-{next(counter)}"


def test_change_into_bad_opens_an_incident() -> None:
    new_id = _ids()
    incident = apply_change(None, _change(Status.DEGRADED, 1, n=3), new_id)
    assert incident is not None
    assert incident.is_open
    assert (incident.id, incident.status, incident.worst) == (
        "inc-1",
        Status.DEGRADED,
        Status.DEGRADED,
    )
    assert incident.cause == "to degraded"
    assert incident.started_at == T0 + timedelta(minutes=1)
    assert len(incident.evidence) == 3


@pytest.mark.parametrize("new", [Status.OPERATIONAL, Status.MAINTENANCE, Status.UNKNOWN])
def test_change_into_a_not_bad_status_opens_nothing(new: Status) -> None:
    assert apply_change(None, _change(new, 1, old=Status.UNKNOWN), _ids()) is None


def test_open_incident_follows_and_worst_only_grows() -> None:
    new_id = _ids()
    inc = apply_change(None, _change(Status.DEGRADED, 1), new_id)
    inc = apply_change(inc, _change(Status.SUSPENDED, 2, Status.DEGRADED), new_id)
    assert inc is not None
    assert (inc.status, inc.worst) == (Status.SUSPENDED, Status.SUSPENDED)
    inc = apply_change(inc, _change(Status.MAINTENANCE, 3, Status.SUSPENDED), new_id)
    assert inc is not None
    assert (inc.status, inc.worst) == (Status.MAINTENANCE, Status.SUSPENDED)
    inc = apply_change(inc, _change(Status.DEGRADED, 4, Status.MAINTENANCE), new_id)
    assert inc is not None
    assert (inc.status, inc.worst) == (Status.DEGRADED, Status.SUSPENDED)
    assert inc.id == "inc-1"
    assert inc.cause == "to degraded"
    closed = apply_change(inc, _change(Status.OPERATIONAL, 5, Status.DEGRADED), new_id)
    assert closed is not None
    assert not closed.is_open
    assert closed.ended_at == T0 + timedelta(minutes=5)
    assert len(closed.evidence) == 5


def test_a_closed_incident_is_not_reopened() -> None:
    new_id = _ids()
    inc = apply_change(None, _change(Status.DEGRADED, 1), new_id)
    closed = apply_change(inc, _change(Status.OPERATIONAL, 2, Status.DEGRADED), new_id)
    again = apply_change(closed, _change(Status.SUSPENDED, 3), new_id)
    assert again is not None
    assert again.id == "inc-2"
    assert again.is_open


def test_incident_evidence_is_capped_keeping_the_start() -> None:
    new_id = _ids()
    inc = apply_change(None, _change(Status.DEGRADED, 0, n=3), new_id)
    for minute in range(1, 20):
        status = Status.SUSPENDED if minute % 2 else Status.DEGRADED
        inc = apply_change(inc, _change(status, minute, n=3), new_id)
    assert inc is not None
    assert len(inc.evidence) == INCIDENT_EVIDENCE_CAP
    assert inc.evidence[0].detail == "e0.0"
    assert inc.evidence[-1].detail == "e19.2"


def test_incident_of_another_channel_is_a_bug() -> None:
    other = Incident("x", "other", T0, Status.DEGRADED, Status.DEGRADED, "c")
    with pytest.raises(ValueError, match="applied to"):
        apply_change(other, _change(Status.SUSPENDED, 1), _ids())


# ---- properties

failing = st.sampled_from(FAILING)
thresholds = st.builds(Thresholds, fail_after=st.integers(1, 6), recover_after=st.integers(1, 6))


def _step() -> st.SearchStrategy[tuple[str, object]]:
    return st.one_of(
        st.tuples(st.just("probe"), st.sampled_from(list(Outcome))),
        st.tuples(st.just("vendor"), st.sampled_from(list(Status))),
        st.tuples(st.just("no_data"), st.none()),
        st.tuples(st.just("expire"), st.none()),
    )


def _play(
    steps: Sequence[tuple[str, object]], th: Thresholds, state: ChannelState | None = None
) -> Iterable[tuple[ChannelState, StatusChange | None]]:
    state = state or ChannelState(CH)
    for minute, (kind, arg) in enumerate(steps):
        when = T0 + timedelta(minutes=minute)
        if kind == "expire":
            state, change = expire(state, when, 300)
        else:
            if kind == "probe":
                assert isinstance(arg, Outcome)
                obs = Observation(CH, Source.LIGHT, when, arg, detail=DETAILS[arg])
            elif kind == "vendor":
                assert isinstance(arg, Status)
                obs = Observation(CH, Source.STATUSPAGE, when, O.OK, detail=arg, reported=arg)
            else:
                obs = Observation(CH, Source.LIGHT, when, O.OK, inconclusive=True)
            state, change = evaluate(state, obs, th)
        yield state, change


def _final(steps: Sequence[tuple[str, object]], th: Thresholds) -> ChannelState:
    state = ChannelState(CH)
    for state, _ in _play(steps, th):  # noqa: B007 - only the last state is wanted
        pass
    return state


def _operational(th: Thresholds) -> ChannelState:
    state, _ = feed([O.OK], th=th)
    return state


@given(th=thresholds.filter(lambda t: t.fail_after >= 2), outcome=failing)
def test_a_single_failure_never_changes_operational(th: Thresholds, outcome: Outcome) -> None:
    state, changes = feed([outcome], _operational(th), th)
    assert changes == []
    assert state.status is Status.OPERATIONAL


@given(th=thresholds, data=st.data())
def test_fail_after_failures_always_leave_operational(th: Thresholds, data: st.DataObject) -> None:
    outcomes = data.draw(st.lists(failing, min_size=th.fail_after, max_size=th.fail_after))
    state, early = feed(outcomes[:-1], _operational(th), th)
    assert early == []
    state, (change,) = feed(outcomes[-1:], state, th)
    assert change.old is Status.OPERATIONAL
    assert change.new.is_bad
    assert len(change.evidence) == th.fail_after


@given(th=thresholds, data=st.data())
def test_recovery_needs_recover_after_successes(th: Thresholds, data: st.DataObject) -> None:
    """Exactly recover_after in a row; from risk_control also RC_HEALTHY success among the
    attempts since the status moved (so a recovery always comes within RC_WINDOW more)."""
    down = data.draw(st.lists(failing, min_size=th.fail_after, max_size=3 * th.fail_after))
    state, _ = feed(down, _operational(th), th)
    assert state.status.is_bad
    bad, since_entry = state.status, state.recent
    goods = data.draw(
        st.lists(st.sampled_from(GOOD), min_size=th.recover_after + RC_WINDOW, max_size=20)
    )

    def healthy(n: int) -> bool:
        outcomes = [o.outcome for o in since_entry] + goods[:n]
        window = outcomes[-RC_WINDOW:]
        good = sum(target_status(o) is Status.OPERATIONAL for o in window)
        return bad is not Status.RISK_CONTROL or good / len(window) >= RC_HEALTHY

    first = next(n for n in range(1, len(goods) + 1) if n >= th.recover_after and healthy(n))
    assert first <= th.recover_after + RC_WINDOW
    for n, good in enumerate(goods, start=1):
        state, change = evaluate(state, probe(good), th)
        if n == first:
            assert change is not None
            assert change.new is Status.OPERATIONAL
        else:
            assert change is None


@settings(max_examples=150)
@given(th=thresholds, steps=st.lists(_step(), max_size=40))
def test_rejected_never_changes_anything(th: Thresholds, steps: list[tuple[str, object]]) -> None:
    state = _final(steps, th)
    assert evaluate(state, probe(O.REJECTED), th) == (state, None)


@settings(max_examples=150)
@given(th=thresholds, steps=st.lists(_step(), max_size=40))
def test_vendor_major_outage_changes_status_at_once(
    th: Thresholds, steps: list[tuple[str, object]]
) -> None:
    state = _final(steps, th)
    after, change = evaluate(state, vendor(Status.SUSPENDED, "major_outage"), th)
    assert after.status is worst(state.probe_status, Status.SUSPENDED)
    assert (change is not None) == (after.status is not state.status)


@settings(max_examples=200)
@given(th=thresholds, steps=st.lists(_step(), max_size=60))
def test_status_is_always_the_combination(th: Thresholds, steps: list[tuple[str, object]]) -> None:
    for state, change in _play(steps, th):
        assert state.status is combine(state.probe_status, state.vendor)
        assert len(state.streak) <= max(STREAK_CAP, 2 * th.fail_after)
        if change is not None:
            assert change.old is not change.new
            assert change.new is state.status


@settings(max_examples=200)
@given(th=thresholds, steps=st.lists(_step(), max_size=60))
def test_incidents_open_and_close_in_pairs(th: Thresholds, steps: list[tuple[str, object]]) -> None:
    new_id = _ids()
    open_incident: Incident | None = None
    in_trouble = False  # a bad status was seen since the last operational one
    opened = closed = 0
    worst_seen = Status.UNKNOWN
    for _, change in _play(steps, th):
        if change is None:
            continue
        incident = apply_change(open_incident, change, new_id)
        if change.new.is_bad and not in_trouble:
            assert incident is not None
            assert incident.is_open
            assert incident != open_incident
            opened += 1
            worst_seen = change.new
        if change.new.is_bad:
            in_trouble = True
            worst_seen = worst(worst_seen, change.new)
        if change.new is Status.OPERATIONAL and in_trouble:
            assert incident is not None
            assert not incident.is_open
            assert incident.ended_at is not None
            assert incident.ended_at >= incident.started_at
            closed += 1
            in_trouble = False
        if incident is not None:
            assert incident.worst is worst_seen
            assert len(incident.evidence) <= INCIDENT_EVIDENCE_CAP
        open_incident = (
            incident
            if incident is not None and incident.is_open
            else (None if incident is not None else open_incident)
        )
        assert (open_incident is not None) == in_trouble
    assert opened - closed == (1 if in_trouble else 0)


# ---- canaries: their own streak, their own thresholds


def canary(outcome: Outcome) -> Observation:
    return probe(outcome, Source.CANARY)


def light_and_canary(canaries: Sequence[Outcome], lights_between: int = 3) -> list[Observation]:
    """Each canary observation between runs of green light probes, as a monitor sees them."""
    out: list[Observation] = []
    for outcome in canaries:
        out += [probe(O.OK) for _ in range(lights_between)]
        out.append(canary(outcome))
    return [*out, *(probe(O.OK) for _ in range(lights_between))]


CANARY_SEQUENCES = [
    pytest.param([O.JOB_FAILED], TH, [Status.OPERATIONAL], id="one-failed-job-is-not-enough"),
    pytest.param(
        [O.JOB_FAILED, O.JOB_FAILED],
        TH,
        [Status.OPERATIONAL, Status.DEGRADED],
        id="failed-jobs-degrade-through-green-light",
    ),
    pytest.param(
        [O.TIMEOUT, O.TIMEOUT],
        TH,
        [Status.OPERATIONAL, Status.DEGRADED],
        id="stalled-jobs-degrade-not-suspend",
    ),
    pytest.param(
        [O.JOB_FAILED, O.OK, O.JOB_FAILED],
        TH,
        [Status.OPERATIONAL],
        id="a-good-job-breaks-the-canary-streak",
    ),
    pytest.param(
        [O.JOB_FAILED, O.REJECTED, O.JOB_FAILED],
        TH,
        [Status.OPERATIONAL, Status.DEGRADED],
        id="moderation-neither-counts-nor-breaks",
    ),
    pytest.param(
        [O.JOB_FAILED, O.JOB_FAILED, O.OK],
        TH,
        [Status.OPERATIONAL, Status.DEGRADED, Status.OPERATIONAL],
        id="one-good-job-recovers",
    ),
    pytest.param(
        [O.TIMEOUT],
        Thresholds(canary_fail_after=1),
        [Status.OPERATIONAL, Status.DEGRADED],
        id="canary-fail-after-one",
    ),
    pytest.param(
        [O.TIMEOUT, O.TIMEOUT, O.OK, O.OK],
        Thresholds(canary_recover_after=2),
        [Status.OPERATIONAL, Status.DEGRADED, Status.OPERATIONAL],
        id="canary-recover-after-two",
    ),
    pytest.param(
        [O.QUOTA_EXHAUSTED, O.QUOTA_EXHAUSTED],
        TH,
        [Status.OPERATIONAL, Status.SUSPENDED],
        id="paid-quota-gone-while-light-is-free-and-green",
    ),
]


@pytest.mark.parametrize(("canaries", "th", "expected"), CANARY_SEQUENCES)
def test_canary_sequences_between_green_light_probes(
    canaries: list[Outcome], th: Thresholds, expected: list[Status]
) -> None:
    state, changes = feed(light_and_canary(canaries), th=th)
    assert [Status.OPERATIONAL, *(c.new for c in changes[1:])] == expected
    assert state.status is expected[-1]
    assert state.probe_status is Status.OPERATIONAL  # the light probe alone stays green


def test_canary_change_says_why() -> None:
    _, changes = feed(light_and_canary([O.JOB_FAILED, O.JOB_FAILED]))
    change = changes[-1]
    assert change.reason == "canary jobs: 2 consecutive job_failed (job failed: generation_failed)"
    assert change.sources == ("canary",)
    assert [(e.source, e.outcome) for e in change.evidence] == [(Source.CANARY, O.JOB_FAILED)] * 2


def test_light_recovery_does_not_hide_failing_jobs() -> None:
    state, _ = feed(light_and_canary([O.TIMEOUT, O.TIMEOUT]))
    state, changes = feed([O.TIMEOUT] * 3, state)  # light probe timeouts: down
    assert changes[-1].new is Status.SUSPENDED
    state, changes = feed([O.OK] * 2, state)
    assert changes[-1].new is Status.DEGRADED  # reachable again, jobs still stall
    assert (state.probe_status, state.canary_status) == (Status.OPERATIONAL, Status.DEGRADED)


def test_canary_observations_still_count_in_the_shared_streak() -> None:
    state, _ = feed([O.OK])
    _, (change,) = feed([O.SERVER_ERROR, canary(O.SERVER_ERROR), O.SERVER_ERROR], state)
    assert change.new is Status.DEGRADED
    assert change.sources == ("light", "canary")


def test_expire_drops_a_stale_canary_verdict() -> None:
    state, _ = feed(light_and_canary([O.JOB_FAILED, O.JOB_FAILED]))
    assert state.status is Status.DEGRADED
    last = state.canary_at
    assert last is not None
    assert expire(state, last + timedelta(hours=12), 600, canary_ttl_s=13 * 3600) == (state, None)
    assert expire(state, last + timedelta(days=9), 600) == (state, None)  # no canary ttl given

    after, change = expire(state, last + timedelta(hours=14), 600, canary_ttl_s=13 * 3600)

    assert change is not None
    assert (change.old, change.new) == (Status.DEGRADED, Status.OPERATIONAL)
    assert change.reason == "canary verdict expired (degraded, older than 46800 s)"
    assert change.sources == ("canary",)
    assert (after.canary_status, after.canary_streak, after.canary_at) == (Status.UNKNOWN, (), None)


def test_resume_canaries_rebuilds_the_canary_verdict() -> None:
    history = [canary(O.OK), canary(O.TIMEOUT), canary(O.REJECTED), canary(O.TIMEOUT)]
    stored = ChannelState(CH, Status.DEGRADED, T0, Status.DEGRADED)

    state = resume_canaries(stored, [probe(O.OK), *history], TH)

    assert (state.status, state.canary_status) == (Status.DEGRADED, Status.DEGRADED)
    assert [o.outcome for o in state.canary_streak] == [O.TIMEOUT, O.TIMEOUT]
    assert state.canary_at == history[-1].at
    assert resume_canaries(stored, history[:2], TH).canary_status is Status.OPERATIONAL


@pytest.mark.parametrize(
    ("probe_status", "canary_status", "expected"),
    [
        (Status.OPERATIONAL, Status.UNKNOWN, Status.OPERATIONAL),
        (Status.UNKNOWN, Status.OPERATIONAL, Status.UNKNOWN),
        (Status.OPERATIONAL, Status.DEGRADED, Status.DEGRADED),
        (Status.UNKNOWN, Status.DEGRADED, Status.DEGRADED),
        (Status.SUSPENDED, Status.DEGRADED, Status.SUSPENDED),
        (Status.RETIRED, Status.OPERATIONAL, Status.RETIRED),
    ],
    ids=lambda v: str(v),
)
def test_with_canaries(probe_status: Status, canary_status: Status, expected: Status) -> None:
    assert with_canaries(probe_status, canary_status) is expected


def test_canary_thresholds_below_one_are_a_bug() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Thresholds(canary_fail_after=0)


def _mixed_step() -> st.SearchStrategy[tuple[str, object]]:
    return st.one_of(_step(), st.tuples(st.just("canary"), st.sampled_from(list(Outcome))))


@settings(max_examples=200)
@given(th=thresholds, steps=st.lists(_mixed_step(), max_size=60))
def test_status_is_always_the_combination_with_canaries(
    th: Thresholds, steps: list[tuple[str, object]]
) -> None:
    state = ChannelState(CH)
    for minute, (kind, arg) in enumerate(steps):
        when = T0 + timedelta(minutes=minute)
        if kind == "canary":
            assert isinstance(arg, Outcome)
            obs = Observation(CH, Source.CANARY, when, arg, detail=DETAILS[arg])
            state, change = evaluate(state, obs, th)
        else:
            [(state, change)] = list(_play([(kind, arg)], th, state))
        assert state.status is state_status(state)
        assert len(state.canary_streak) <= max(STREAK_CAP, 2 * th.canary_fail_after)
        if change is not None:
            assert change.old is not change.new
            assert change.new is state.status
