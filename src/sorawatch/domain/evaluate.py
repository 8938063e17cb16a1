"""The evaluator: observations → confirmed status changes → incidents (DESIGN.md, "Status").

Pure. The caller keeps one ``ChannelState`` per channel and feeds it every observation in time
order; ``evaluate`` returns the next state and, when the channel's status moved, the
``StatusChange`` that says why. Two voices are kept apart and combined at the end:

* the probes (light, canary, traffic), which must *confirm* a change: ``fail_after`` consecutive
  failures to leave ``operational``, ``recover_after`` consecutive good answers to return;
* the vendor's status page, whose word counts at once (a ``major_outage`` is evidence, not a rumour)
  until it is replaced or expires.

Canary observations count among the probes and also in a streak of their own, with their own
thresholds: a canary runs every few hours while the light probe runs every minute, so in the
shared streak a green light probe would always break a run of failed jobs. The canaries' own
verdict is worsened into the probes' (a channel whose jobs fail or stall is ``degraded`` even
while its light probe is green) and expires when no canary has spoken for a while.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from sorawatch.domain.incident import Incident, StatusChange
from sorawatch.domain.observation import Evidence, Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status, worst

STREAK_CAP: Final = 20  # observations kept in a streak (at least 2 × fail_after are kept)
# Reverse channels under risk control fail *some* requests (the seed measured 30–50 % success), so
# their failures rarely come fail_after in a row. Over the last RC_WINDOW probe attempts since the
# status last moved: fail_after or more blocked by risk control (or rate limits) and a success
# rate under RC_HEALTHY puts an operational channel in risk_control; leaving risk_control then
# needs recover_after good answers in a row *and* RC_HEALTHY success again (hysteresis, so a
# 40 % channel reads risk_control steadily instead of flapping with every lucky pair).
RC_WINDOW: Final = 10
RC_HEALTHY: Final = 0.8
INCIDENT_EVIDENCE_CAP: Final = 20
_EVIDENCE_HEAD: Final = 5  # of those, how many from the incident's start are always kept

# DESIGN.md's "health signal" column. None: the observation says nothing about the channel.
HEALTH_SIGNAL: Final[Mapping[Outcome, Status | None]] = {
    Outcome.OK: Status.OPERATIONAL,
    Outcome.SLOW: Status.DEGRADED,
    Outcome.RATE_LIMITED: Status.RISK_CONTROL,
    Outcome.RISK_CONTROL: Status.RISK_CONTROL,
    Outcome.OVERLOADED: Status.DEGRADED,  # suspended when sustained, see SUSTAINABLE
    Outcome.QUOTA_EXHAUSTED: Status.SUSPENDED,
    Outcome.AUTH_FAILED: Status.SUSPENDED,
    Outcome.PAUSED: Status.SUSPENDED,
    Outcome.RETIRED: Status.RETIRED,
    Outcome.SERVER_ERROR: Status.DEGRADED,  # suspended when sustained, see SUSTAINABLE
    Outcome.TIMEOUT: Status.SUSPENDED,
    Outcome.CONNECT_ERROR: Status.SUSPENDED,
    Outcome.BAD_RESPONSE: Status.DEGRADED,
    Outcome.REJECTED: None,
    Outcome.JOB_FAILED: Status.DEGRADED,
}
# Outcomes whose uninterrupted run of 2 × fail_after means "down", not "wobbly".
SUSTAINABLE: Final = frozenset({Outcome.OVERLOADED, Outcome.SERVER_ERROR})
# A canary's timeout is a job that was accepted but stalled or never finished: the channel
# answers, its jobs do not complete — degraded, not down (the light probe tells down).
CANARY_SIGNAL: Final[Mapping[Outcome, Status]] = {Outcome.TIMEOUT: Status.DEGRADED}


def target_status(outcome: Outcome) -> Status | None:
    """The status one observation of ``outcome`` points to (None: it points nowhere)."""
    return HEALTH_SIGNAL[outcome]


def observed_target(obs: Observation) -> Status | None:
    """The status one observation points to, with the canary's own readings."""
    if obs.source is Source.CANARY and obs.outcome in CANARY_SIGNAL:
        return CANARY_SIGNAL[obs.outcome]
    return target_status(obs.outcome)


@dataclass(frozen=True, slots=True)
class Thresholds:
    fail_after: int = 3
    recover_after: int = 2
    canary_fail_after: int = 2  # consecutive failed canaries (they are few and far between)
    canary_recover_after: int = 1

    def __post_init__(self) -> None:
        if (
            min(self.fail_after, self.recover_after) < 1
            or min(self.canary_fail_after, self.canary_recover_after) < 1
        ):
            raise ValueError(f"thresholds must be at least 1, got {self}")

    @property
    def canary(self) -> Thresholds:
        """The thresholds of the canaries' own streak."""
        return Thresholds(self.canary_fail_after, self.canary_recover_after)


@dataclass(frozen=True, slots=True)
class ChannelState:
    """Everything the evaluator remembers about one channel between observations."""

    channel_id: str
    status: Status = Status.UNKNOWN  # the confirmed status: combine(probe_status, vendor)
    since: datetime | None = None
    probe_status: Status = Status.UNKNOWN  # what the probes alone say
    vendor: Status | None = None  # the status page's last word
    vendor_at: datetime | None = None
    streak: tuple[Observation, ...] = ()  # the current run of same-polarity probe observations
    recent: tuple[Observation, ...] = ()  # last RC_WINDOW probe attempts since probe_status moved
    canary_status: Status = Status.UNKNOWN  # what the canaries alone say
    canary_streak: tuple[Observation, ...] = ()  # their own run of same-polarity observations
    canary_at: datetime | None = None  # the last canary observation that counted
    window: str | None = None  # our own maintenance window in force, by name


def with_canaries(probe: Status, canary: Status) -> Status:
    """The probes' verdict worsened by the canaries' (a good canary verdict adds nothing: the
    light probe still tells a channel that is down between canaries)."""
    if canary in (Status.UNKNOWN, Status.OPERATIONAL):
        return probe
    return worst(probe, canary)


def state_status(state: ChannelState) -> Status:
    """The confirmed status a state's voices add up to; a maintenance window of ours covers
    whatever they say, like the vendor's own maintenance (a retired model stays retired)."""
    status = combine(with_canaries(state.probe_status, state.canary_status), state.vendor)
    if state.window is not None and status is not Status.RETIRED:
        return Status.MAINTENANCE
    return status


def combine(probe: Status, vendor: Status | None) -> Status:
    """The confirmed status from the probes' verdict and the vendor's word.

    A vendor maintenance explains whatever the probes see (but a retired model stays retired);
    otherwise the worse of the two, so an operational vendor never hides what the probes found.
    """
    if vendor is Status.MAINTENANCE:
        return probe if probe is Status.RETIRED else Status.MAINTENANCE
    if vendor is None or vendor in (Status.OPERATIONAL, Status.UNKNOWN):
        return probe
    return worst(probe, vendor)


# --------------------------------------------------------------------------- probe decisions


def _is_good(obs: Observation) -> bool:
    return observed_target(obs) is Status.OPERATIONAL


def _extend(streak: tuple[Observation, ...], obs: Observation, cap: int) -> tuple[Observation, ...]:
    """The streak after ``obs``: its trailing run of ``obs``'s polarity, plus ``obs``.

    Re-derived rather than trusted, so a streak rebuilt by other code (after a restart) that
    mixes polarities or holds neutral observations cannot confirm a change early.
    """
    good = _is_good(obs)
    kept: list[Observation] = []
    for old in reversed(streak):
        if observed_target(old) is None:
            continue
        if _is_good(old) != good:
            break
        kept.append(old)
    return (*reversed(kept), obs)[-cap:]


def _sustained_run(streak: tuple[Observation, ...]) -> int:
    run = 0
    for obs in reversed(streak):
        if obs.outcome not in SUSTAINABLE:
            break
        run += 1
    return run


def _targets(streak: tuple[Observation, ...], fail_after: int) -> list[Status]:
    run = _sustained_run(streak)
    escalate = run >= 2 * fail_after
    targets = []
    for i, obs in enumerate(streak):
        target = observed_target(obs) or Status.UNKNOWN
        if escalate and i >= len(streak) - run:
            target = Status.SUSPENDED
        targets.append(target)
    return targets


def _most_frequent(targets: list[Status]) -> Status:
    """The most frequent target; ties go to the one seen most recently."""
    counts = Counter(targets)
    last_seen = {t: i for i, t in enumerate(targets)}
    return max(counts, key=lambda t: (counts[t], last_seen[t]))


def _describe(window: tuple[Observation, ...], what: str | None = None) -> str:
    outcomes = Counter(o.outcome.value for o in window)
    if what is None and len(outcomes) == 1:
        what = f"{len(window)} consecutive {window[-1].outcome.value}"
    elif what is None:
        mix = ", ".join(f"{n} {o}" for o, n in outcomes.most_common())
        what = f"{len(window)} consecutive failures: {mix}"
    last = window[-1].detail
    return f"{what} ({last})" if last else what


@dataclass(frozen=True, slots=True)
class _Decision:
    status: Status
    reason: str
    deciding: tuple[Observation, ...]


def _rc_blocked(obs: Observation) -> bool:
    return observed_target(obs) is Status.RISK_CONTROL


def _success(recent: tuple[Observation, ...]) -> float:
    return sum(_is_good(o) for o in recent) / len(recent) if recent else 1.0


def _partly_blocked(
    current: Status, recent: tuple[Observation, ...], th: Thresholds
) -> _Decision | None:
    """An operational channel whose recent attempts are partly blocked is in risk control."""
    if current is not Status.OPERATIONAL or not recent or not _rc_blocked(recent[-1]):
        return None
    blocked = [o for o in recent if _rc_blocked(o)]
    rate = _success(recent)
    if len(blocked) < th.fail_after or rate >= RC_HEALTHY:
        return None
    what = (
        f"{len(blocked)} of the last {len(recent)} attempts blocked by risk control, "
        f"success {rate:.0%}"
    )
    return _Decision(Status.RISK_CONTROL, _describe(tuple(blocked), what), tuple(blocked))


def _recover(
    current: Status,
    streak: tuple[Observation, ...],
    th: Thresholds,
    recent: tuple[Observation, ...] = (),
) -> _Decision | None:
    if current is Status.OPERATIONAL:
        return None
    if current is Status.UNKNOWN:  # no history to confirm against: believe the first answer
        return _Decision(
            Status.OPERATIONAL, _describe(streak[-1:], "first good probe"), streak[-1:]
        )
    if len(streak) < th.recover_after:
        return None
    if current is Status.RISK_CONTROL and recent and _success(recent) < RC_HEALTHY:
        return None  # lucky answers in a row are not a recovery while most are still blocked
    window = streak[-th.recover_after :]
    return _Decision(Status.OPERATIONAL, _describe(window), window)


def _fail(current: Status, streak: tuple[Observation, ...], th: Thresholds) -> _Decision | None:
    if current is Status.RETIRED or len(streak) < th.fail_after:
        return None  # retired is sticky: only good answers bring a model back
    window_targets = _targets(streak, th.fail_after)[-th.fail_after :]
    if current.is_bad and current in window_targets:
        return None  # a move between bad statuses needs fail_after failures pointing elsewhere
    new = _most_frequent(window_targets)
    if new is current:
        return None
    window = streak[-th.fail_after :]
    run = _sustained_run(streak)
    if new is Status.SUSPENDED and run >= 2 * th.fail_after:
        kinds = "/".join(sorted({o.outcome.value for o in streak[-run:]}))
        run_obs = streak[-run:]
        return _Decision(new, _describe(run_obs, f"{run} consecutive {kinds} (sustained)"), run_obs)
    return _Decision(new, _describe(window), window)


def _decide(
    current: Status,
    streak: tuple[Observation, ...],
    th: Thresholds,
    recent: tuple[Observation, ...] = (),
) -> _Decision | None:
    if _is_good(streak[-1]):
        return _recover(current, streak, th, recent)
    return _fail(current, streak, th) or _partly_blocked(current, recent, th)


# --------------------------------------------------------------------------- evaluate / expire


def _sources(observations: tuple[Observation, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(o.source.value for o in observations))


def _settle(
    before: ChannelState,
    after: ChannelState,
    at: datetime,
    reason: str,
    sources: tuple[str, ...],
    evidence: tuple[Evidence, ...],
) -> tuple[ChannelState, StatusChange | None]:
    """Recombine the voices; report a change if the confirmed status moved."""
    status = state_status(after)
    if status is before.status:
        return replace(after, status=status), None
    if (
        after.vendor is not None
        and after.window is None
        and status is not with_canaries(after.probe_status, after.canary_status)
        and "statuspage" not in sources
    ):
        reason = f"{reason}; vendor status page says {after.vendor.value}"
        sources = (*sources, Source.STATUSPAGE.value)
    change = StatusChange(
        channel_id=before.channel_id,
        at=at,
        old=before.status,
        new=status,
        reason=reason,
        sources=sources,
        evidence=evidence,
    )
    return replace(after, status=status, since=at), change


def _vendor_word(state: ChannelState, obs: Observation) -> tuple[ChannelState, StatusChange | None]:
    if obs.reported is None:  # the page could not be read: that says nothing about the channel
        return state, None
    after = replace(state, vendor=obs.reported, vendor_at=obs.at)
    reason = f"vendor status page: {obs.detail or obs.reported.value}"
    return _settle(state, after, obs.at, reason, (Source.STATUSPAGE.value,), (Evidence.of(obs),))


def evaluate(
    state: ChannelState, obs: Observation, thresholds: Thresholds
) -> tuple[ChannelState, StatusChange | None]:
    """Fold one observation into a channel's state."""
    if obs.channel_id != state.channel_id:
        raise ValueError(f"observation of {obs.channel_id!r} fed to {state.channel_id!r}")
    if obs.source is Source.STATUSPAGE:
        return _vendor_word(state, obs)
    if obs.inconclusive:
        after = replace(state, probe_status=Status.UNKNOWN, streak=(), recent=())
        reason = f"no data: {obs.detail}" if obs.detail else "no data"
        return _settle(state, after, obs.at, reason, _sources((obs,)), (Evidence.of(obs),))
    if target_status(obs.outcome) is None:
        return state, None  # the caller's fault: no streak moves
    cap = max(STREAK_CAP, 2 * thresholds.fail_after)
    streak = _extend(state.streak, obs, cap)
    recent = (*state.recent, obs)[-RC_WINDOW:]
    decision = _decide(state.probe_status, streak, thresholds, recent)
    after = replace(state, streak=streak, recent=recent)
    if decision is not None and decision.status is not state.probe_status:
        after = replace(after, probe_status=decision.status, recent=())
    decisions = [] if decision is None else [decision]
    if obs.source is Source.CANARY:
        after, canary_decision = _canary_track(after, obs, thresholds.canary)
        if canary_decision is not None:
            decisions.append(canary_decision)
    if not decisions:
        return after, None
    deciding = tuple(dict.fromkeys(o for d in decisions for o in d.deciding))
    reason = "; ".join(d.reason for d in decisions)
    evidence = tuple(Evidence.of(o) for o in deciding)
    return _settle(state, after, obs.at, reason, _sources(deciding), evidence)


def _canary_track(
    state: ChannelState, obs: Observation, th: Thresholds
) -> tuple[ChannelState, _Decision | None]:
    cap = max(STREAK_CAP, 2 * th.fail_after)
    streak = _extend(state.canary_streak, obs, cap)
    after = replace(state, canary_streak=streak, canary_at=obs.at)
    decision = _decide(state.canary_status, streak, th)
    if decision is None:
        return after, None
    labelled = replace(decision, reason=f"canary jobs: {decision.reason}")
    return replace(after, canary_status=decision.status), labelled


def resume_canaries(
    state: ChannelState, observations: Sequence[Observation], thresholds: Thresholds
) -> ChannelState:
    """``state`` with the canaries' verdict rebuilt from their recent observations (oldest
    first), e.g. after a restart; the confirmed status is left as stored."""
    fresh = replace(state, canary_status=Status.UNKNOWN, canary_streak=(), canary_at=None)
    for obs in observations:
        if obs.source is Source.CANARY and observed_target(obs) is not None:
            fresh, _ = _canary_track(fresh, obs, thresholds.canary)
    return fresh


def set_window(
    state: ChannelState, window: str | None, at: datetime
) -> tuple[ChannelState, StatusChange | None]:
    """Enter (a name) or leave (None) one of our maintenance windows. Leaving reports what the
    probes said meanwhile, so a channel still bad when the window ends changes then."""
    if state.window == window:
        return state, None
    after = replace(state, window=window)
    if window is not None:
        reason = f"maintenance window {window!r} started"
    else:
        reason = f"maintenance window {state.window!r} ended"
    return _settle(state, after, at, reason, ("maintenance",), ())


def _older(at: datetime | None, now: datetime, ttl_s: float | None) -> bool:
    return at is not None and ttl_s is not None and (now - at).total_seconds() > ttl_s


def expire(
    state: ChannelState, now: datetime, vendor_ttl_s: float, canary_ttl_s: float | None = None
) -> tuple[ChannelState, StatusChange | None]:
    """Forget a vendor word older than ``vendor_ttl_s`` and a canary verdict older than
    ``canary_ttl_s``: a stale source must not pin a status."""
    after, reasons, sources = state, [], []
    if _older(state.vendor_at, now, vendor_ttl_s):
        word = state.vendor.value if state.vendor else "nothing"
        after = replace(after, vendor=None, vendor_at=None)
        reasons.append(f"vendor status page word expired ({word}, older than {vendor_ttl_s:.0f} s)")
        sources.append(Source.STATUSPAGE.value)
    if _older(state.canary_at, now, canary_ttl_s):
        after = replace(after, canary_status=Status.UNKNOWN, canary_streak=(), canary_at=None)
        reasons.append(
            f"canary verdict expired ({state.canary_status.value}, "
            f"older than {canary_ttl_s or 0:.0f} s)"
        )
        sources.append(Source.CANARY.value)
    if after is state:
        return state, None
    return _settle(state, after, now, "; ".join(reasons), tuple(sources), ())


# --------------------------------------------------------------------------- incidents


def _cap_evidence(evidence: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
    """At most INCIDENT_EVIDENCE_CAP items: what opened the incident, then the most recent."""
    if len(evidence) <= INCIDENT_EVIDENCE_CAP:
        return evidence
    tail = INCIDENT_EVIDENCE_CAP - _EVIDENCE_HEAD
    return evidence[:_EVIDENCE_HEAD] + evidence[-tail:]


def apply_change(
    open_incident: Incident | None, change: StatusChange, new_id: Callable[[], str]
) -> Incident | None:
    """The incident to persist after ``change``, or None when there is none to write.

    Opens one on a change into a bad status, follows it (status, growing worst, evidence) while
    the channel stays away from operational, closes it on the change back to operational.
    """
    if open_incident is not None and not open_incident.is_open:
        open_incident = None
    if open_incident is None:
        if not change.new.is_bad:
            return None
        return Incident(
            id=new_id(),
            channel_id=change.channel_id,
            started_at=change.at,
            status=change.new,
            worst=change.new,
            cause=change.reason,
            evidence=_cap_evidence(change.evidence),
        )
    if open_incident.channel_id != change.channel_id:
        raise ValueError(f"{change.channel_id!r} change applied to {open_incident.id!r}")
    evidence = _cap_evidence(open_incident.evidence + change.evidence)
    if change.new is Status.OPERATIONAL:
        return replace(open_incident, ended_at=change.at, evidence=evidence)
    return replace(
        open_incident,
        status=change.new,
        worst=worst(open_incident.worst, change.new),
        evidence=evidence,
    )
