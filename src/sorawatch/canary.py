"""Canary probes: the smallest real job a channel allows, end to end, within a daily budget.

A canary reserves its cost in the store first (the store refuses it when the channel's or the
global budget for the UTC day would be exceeded, and records the skip), then creates a job,
polls it as the upstream asks (``Job.poll_after_ms``; a capped back-off otherwise), downloads
the video, and records one ``canary`` observation plus a ``CanaryRun`` with its timings. A job
that is refused or fails is not billed: its reservation is released. A job that stalls or runs
out of time may still be billed later, so its reservation is kept.

It speaks only the generic ``Provider`` protocol, so every video protocol gets canaries.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import httpx

from sorawatch.budget import BudgetLimits
from sorawatch.config import CanaryProbeConfig, ChannelConfig
from sorawatch.domain.classify import MODERATION_MARKS
from sorawatch.domain.observation import Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.errors import ConfigError
from sorawatch.providers.base import Download, Job, JobResult, JobState, Provider, VideoRequest
from sorawatch.store.base import CanaryRun, CanaryState, Store

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

POLL_FIRST_S: Final = 2.0  # back-off when the upstream gives no poll hint
POLL_FACTOR: Final = 1.5
POLL_MAX_S: Final = 30.0  # a poll hint is honoured up to this
POLL_MIN_S: Final = 0.05  # a hint of 0 ms must not become a busy loop
POLL_FAILURES: Final = 3  # consecutive unreadable polls end the run

# failure classes (CanaryRun.failure_class)
MODERATION: Final = "moderation"  # the prompt or the video was refused by a safety system
REJECTED: Final = "rejected"  # the request itself was refused (e.g. a size the channel lacks)
FAILURE: Final = "failure"  # the job failed for a reason of the channel's own
RISK_CONTROL: Final = "risk_control"  # an anti-bot block ended the job
STALL: Final = "stall"
TIMEOUT: Final = "timeout"

_ACTIVE = (JobState.QUEUED, JobState.IN_PROGRESS)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CanaryReport:
    """What one canary did: its stored run, and the observation to evaluate (None when it did
    not run: a budget said no)."""

    run: CanaryRun
    observation: Observation | None


@dataclass(slots=True)
class _Timings:
    """Monotonic seconds of the job's milestones, as seen at poll resolution."""

    start: float
    accepted: float | None = None
    generating: float | None = None  # first seen in progress
    finished: float | None = None  # first seen finished, or given up on
    end: float | None = None  # the run's end (after the download)

    def ms(self, a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else round((b - a) * 1000, 1)


@dataclass(slots=True)
class _End:
    state: CanaryState
    outcome: Outcome
    http_status: int | None
    billed: bool | None  # None: cannot be known (the job may still finish and be billed)
    why: str
    failure_class: str | None = None
    job_id: str | None = None
    upstream_cost_usd: float | None = None  # what the upstream says it billed, if it says


def _is_moderation(code: str | None) -> bool:
    return any(m in (code or "").lower() for m in MODERATION_MARKS)


def _failure_class(outcome: Outcome, code: str | None, *, job_ended: bool) -> str:
    """Moderation vs failure, for a job that ended failed or a create that was refused."""
    if outcome is Outcome.REJECTED:
        return MODERATION if job_ended or _is_moderation(code) else REJECTED
    if outcome is Outcome.RISK_CONTROL:
        return RISK_CONTROL
    return FAILURE if job_ended else outcome.value


def _seconds(ms: float | None) -> str:
    return "?" if ms is None else (f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s")


class Canary:
    """The canary of one channel. ``now`` dates runs (and so picks the budget day); ``clock``
    and ``sleep`` measure and pace the polling (a fake clock makes tests instant)."""

    def __init__(
        self,
        channel: ChannelConfig,
        provider: Provider,
        store: Store,
        global_budget_usd: float | None = None,
        *,
        now: Callable[[], datetime] = utcnow,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if channel.probes.canary is None or channel.price is None:
            raise ConfigError(f"channel {channel.id!r} has no canary with a price")
        self.channel = channel
        self.config: CanaryProbeConfig = channel.probes.canary
        self.provider = provider
        self.store = store
        self.cost_usd = channel.price.cost(self.config.seconds)
        self.limits = BudgetLimits(self.config.budget_usd_per_day, global_budget_usd)
        self._now = now
        self._clock = clock
        self._sleep = sleep

    async def run(self) -> CanaryReport:
        """One canary: reserve, create, poll, download, record. Never raises for the
        upstream's failures (they are the result)."""
        ch = self.channel
        run = await self.store.reserve_canary(ch.id, self._now(), self.cost_usd, self.limits)
        if run.final_state is CanaryState.SKIPPED_BUDGET:
            log.warning("%s: canary skipped: %s", ch.id, run.detail)
            return CanaryReport(run, None)
        timings = _Timings(self._clock())
        end = await self._job(timings)
        timings.end = self._clock()
        if timings.finished is None:
            timings.finished = timings.end
        done = self._finished_run(run, end, timings)
        await self.store.finish_canary(done)
        log.info("%s: canary %s", ch.id, done.detail)
        return CanaryReport(done, self._observation(done, end))

    # --- the job ----------------------------------------------------------------------------
    async def _job(self, timings: _Timings) -> _End:
        request = VideoRequest(
            prompt=self.config.prompt,
            model=self.channel.model,
            seconds=self.config.seconds,
            size=self.config.size,
        )
        created = await self.provider.create(request)
        timings.accepted = self._clock()
        if created.job is None or not created.verdict.outcome.is_good:
            return self._refused(created)
        last = await self._poll(created, timings)
        if isinstance(last, _End):
            return last
        job = last.job
        assert job is not None
        if job.state is JobState.FAILED:
            return self._failed(last, job)
        return await self._download(job, timings)

    def _refused(self, created: JobResult) -> _End:
        v = created.verdict
        outcome = v.outcome if not v.outcome.is_good else Outcome.BAD_RESPONSE
        if v.outcome.is_good:  # a good answer that carried no job
            return _End(
                CanaryState.CREATE_FAILED,
                outcome,
                created.exchange.status,
                False,
                f"create answered without a job ({v.detail})",
                FAILURE,
            )
        klass = _failure_class(outcome, v.error_code, job_ended=False)
        return _End(
            CanaryState.CREATE_FAILED,
            outcome,
            created.exchange.status,
            False,
            f"create refused ({klass}): {v.detail}",
            klass,
        )

    def _failed(self, last: JobResult, job: Job) -> _End:
        outcome = last.verdict.outcome if not last.verdict.outcome.is_good else Outcome.JOB_FAILED
        klass = _failure_class(outcome, job.error_code, job_ended=True)
        return _End(
            CanaryState.FAILED,
            outcome,
            last.exchange.status,
            False,
            f"job failed ({klass}: {job.error_code or 'no code'})",
            klass,
            job.id,
        )

    async def _poll(self, created: JobResult, timings: _Timings) -> JobResult | _End:
        """Poll until the job ends; the last good answer, or why the run ended early."""
        assert created.job is not None and timings.accepted is not None
        last, job = created, created.job
        cfg = self.config
        deadline = timings.start + cfg.timeout
        seen, changed = (job.state, job.progress), timings.accepted
        backoff, failures = POLL_FIRST_S, 0
        self._note_generating(job, timings)
        while job.state in _ACTIVE:
            now = self._clock()
            if now - changed >= cfg.stall_after:
                why = (
                    f"stalled: no progress for {now - changed:.0f} s ({job.state} {job.progress}%)"
                )
                return self._gave_up(CanaryState.STALLED, STALL, last, job, why)
            if now >= deadline:
                why = f"timed out after {now - timings.start:.0f} s ({job.state} {job.progress}%)"
                return self._gave_up(CanaryState.TIMED_OUT, TIMEOUT, last, job, why)
            hint = job.poll_after_ms / 1000 if job.poll_after_ms is not None else backoff
            wait = min(hint, POLL_MAX_S, deadline - now, changed + cfg.stall_after - now)
            await self._sleep(max(POLL_MIN_S, wait))
            backoff = min(backoff * POLL_FACTOR, POLL_MAX_S)
            polled = await self.provider.retrieve(job.id)
            if polled.job is None:
                failures += 1
                if failures >= POLL_FAILURES:
                    return _End(
                        CanaryState.POLL_FAILED,
                        polled.verdict.outcome,
                        polled.exchange.status,
                        None,
                        f"{failures} polls in a row failed: {polled.verdict.detail}",
                        polled.verdict.outcome.value,
                        job.id,
                    )
                continue
            failures = 0
            last, job = polled, polled.job
            if (job.state, job.progress) != seen:
                seen, changed = (job.state, job.progress), self._clock()
            self._note_generating(job, timings)
        timings.finished = self._clock()
        return last

    def _note_generating(self, job: Job, timings: _Timings) -> None:
        if timings.generating is None and job.state is not JobState.QUEUED:
            timings.generating = self._clock()

    @staticmethod
    def _gave_up(state: CanaryState, klass: str, last: JobResult, job: Job, why: str) -> _End:
        return _End(state, Outcome.TIMEOUT, last.exchange.status, None, why, klass, job.id)

    async def _download(self, job: Job, timings: _Timings) -> _End:
        dl = await self.provider.download(job.id)
        size, problem = await _drain(dl)
        status = dl.exchange.status
        if problem is not None:
            outcome = dl.verdict.outcome if not dl.verdict.outcome.is_good else problem[0]
            return _End(
                CanaryState.DOWNLOAD_FAILED,
                outcome,
                status,
                True,
                f"finished, but its video could not be downloaded: {problem[1]}",
                FAILURE,
                job.id,
                job.cost_usd,
            )
        total = (self._clock() - timings.start) * 1000
        slow = total > self.config.slow_after * 1000
        outcome = Outcome.SLOW if slow else Outcome.OK
        why = f"completed, {size} bytes of video" + (
            f"; slow: over {self.config.slow_after:.0f} s" if slow else ""
        )
        return _End(CanaryState.COMPLETED, outcome, status, True, why, None, job.id, job.cost_usd)

    # --- records ----------------------------------------------------------------------------
    def _finished_run(self, run: CanaryRun, end: _End, t: _Timings) -> CanaryRun:
        cost = 0.0 if end.billed is False else self.cost_usd
        if end.billed is False:
            money = "not billed (reservation released)"
        elif end.billed is None:
            money = f"${cost:.2f} kept: the job may still be billed"
        elif end.upstream_cost_usd is not None:
            cost = end.upstream_cost_usd
            money = f"cost ${cost:.2f} (as the upstream reports it)"
        else:
            money = f"cost ${cost:.2f}"
        generating = t.generating if t.generating is not None else t.finished
        timing = (
            f"accept {_seconds(t.ms(t.start, t.accepted))}, "
            f"queue {_seconds(t.ms(t.accepted, generating))}, "
            f"generate {_seconds(t.ms(t.generating, t.finished))}, "
            f"end-to-end {_seconds(t.ms(t.start, t.end))}"
        )
        accepted = end.state is not CanaryState.CREATE_FAILED
        return dataclasses.replace(
            run,
            final_state=end.state,
            outcome=end.outcome,
            failure_class=end.failure_class,
            job_id=end.job_id,
            accept_ms=t.ms(t.start, t.accepted),
            queue_ms=t.ms(t.accepted, generating) if accepted else None,
            generate_ms=t.ms(t.generating, t.finished) if accepted else None,
            total_ms=t.ms(t.start, t.end),
            cost_usd=cost,
            finished_at=self._now(),
            detail=f"{end.why}; {timing}; final state {end.state.value}; {money}",
        )

    def _observation(self, run: CanaryRun, end: _End) -> Observation:
        return Observation(
            channel_id=run.channel_id,
            source=Source.CANARY,
            at=run.finished_at or run.started_at,
            outcome=end.outcome,
            http_status=end.http_status,
            latency_ms=run.total_ms,
            cost_usd=run.cost_usd,
            detail=f"canary: {run.detail}",
        )


async def _drain(dl: Download) -> tuple[int, tuple[Outcome, str] | None]:
    """Read the whole video (a canary's is a few seconds long) and count it; never keep it."""
    if not dl.verdict.outcome.is_good or dl.chunks is None:
        return 0, (dl.verdict.outcome, dl.verdict.detail)
    size = 0
    try:
        async for chunk in dl.chunks:
            size += len(chunk)
    except httpx.TimeoutException as exc:
        return size, (Outcome.TIMEOUT, f"timed out after {size} bytes ({type(exc).__name__})")
    except httpx.HTTPError as exc:
        return size, (Outcome.CONNECT_ERROR, f"broken after {size} bytes ({type(exc).__name__})")
    if size == 0:
        return 0, (Outcome.BAD_RESPONSE, "empty video")
    return size, None
