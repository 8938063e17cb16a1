"""Canary probes against the simulator, through the real openai-videos adapter, on a fake clock
shared by the canary and the simulator (so a 10-minute stall takes milliseconds)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from sorawatch.app import make_client
from sorawatch.canary import POLL_FIRST_S, POLL_MAX_S, Canary
from sorawatch.config import ChannelConfig, Config, parse_config
from sorawatch.domain.evaluate import ChannelState
from sorawatch.domain.observation import Exchange, Verdict
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status
from sorawatch.monitor import Monitor
from sorawatch.providers.base import (
    Download,
    Job,
    JobResult,
    JobState,
    ProbeResult,
    VideoRequest,
)
from sorawatch.simulator import Simulator
from sorawatch.simulator.scenario import parse_scenario
from sorawatch.store import CanaryState, MemoryStore, open_store
from sorawatch.store.base import Store

START = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)

SCENARIO = """
name: canary-test
channels:
  healthy: {protocol: openai-videos, queue_s: 2s, generate_s: 8s, poll_after_ms: 500}
  stalling: {protocol: openai-videos, queue_s: 1s, generate_s: 100000s, poll_after_ms: 1000}
  flaky: {protocol: openai-videos, poll_after_ms: 1000}
  quick: {protocol: openai-videos, queue_s: 0s, generate_s: 0.3s, poll_after_ms: 100}
  gw: {protocol: newapi-videos, queue_s: 1s, generate_s: 3s}
  agg: {protocol: aggregator-videos, models: [openai/sora-2], queue_s: 1s, generate_s: 3s}
"""


class FakeClock:
    """Monotonic seconds, a UTC wall clock and a sleep that only moves time forward."""

    def __init__(self, start: datetime = START) -> None:
        self.t = 0.0
        self.start = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.t += seconds
        await asyncio.sleep(0)

    def jump_to(self, when: datetime) -> None:
        self.t = (when - self.start).total_seconds()


@contextlib.asynccontextmanager
async def serving(clock: FakeClock | None = None) -> AsyncIterator[Simulator]:
    sim = Simulator(parse_scenario(SCENARIO), clock=clock.monotonic if clock else None)
    async with sim.serve(host="127.0.0.1", port=0):
        yield sim


def channel(
    sim: Simulator,
    cid: str,
    canary: str | None,
    *,
    price: str = "per_second: 0.1",
    protocol: str = "openai-videos",
    model: str = "sora-2",
) -> str:
    probes = "{light: {every: 60s, timeout: 2s}" + (f", canary: {canary}" if canary else "") + "}"
    return (
        f"  - id: {cid}\n"
        f"    name: {cid}\n"
        f"    model: {model}\n"
        "    access: relay\n"
        f"    protocol: {protocol}\n"
        f'    base_url: "{sim.base_url(cid)}"\n'
        "    api_key: sk-test\n"
        f"    price: {{{price}}}\n"
        f"    probes: {probes}\n"
    )


def config(channels: list[str], top: str = "") -> Config:
    return parse_config(f"{top}channels:\n{''.join(channels)}", env={})


CANARY = "{every: 6h, budget_usd_per_day: 2.0, timeout: 15m, stall_after: 5m}"


def monitor_on(cfg: Config, store: Store, client: httpx.AsyncClient, clock: FakeClock) -> Monitor:
    return Monitor(cfg, store, client, now=clock.now, clock=clock.monotonic, sleep=clock.sleep)


async def canary_of(monitor: Monitor, cid: str) -> Outcome | None:
    """Run one canary through the monitor; the outcome it fed the evaluator (None: skipped)."""
    report = await monitor.canary(monitor.config.channel(cid))
    assert report is not None
    if report.observation is None:
        return None
    await monitor.ingest(report.observation)
    return report.observation.outcome


async def light(monitor: Monitor, cid: str, times: int = 1) -> None:
    for _ in range(times):
        obs = await monitor.probe(monitor.config.channel(cid))
        assert obs.outcome is Outcome.OK
        await monitor.ingest(obs)


# --- one canary, end to end ---------------------------------------------------------------


async def test_a_finished_job_records_its_timings_and_cost() -> None:
    clock = FakeClock()
    store = MemoryStore()
    async with serving(clock) as sim, make_client() as client:
        cfg = config([channel(sim, "healthy", CANARY)])
        monitor = monitor_on(cfg, store, client, clock)

        report = await monitor.canary(cfg.channels[0])

    assert report is not None and report.observation is not None
    run, obs = report.run, report.observation
    assert (run.final_state, run.outcome, run.failure_class) == (
        CanaryState.COMPLETED,
        Outcome.OK,
        None,
    )
    assert run.job_id is not None and run.job_id.startswith("video_")
    assert run.accept_ms is not None and 0 <= run.accept_ms < 100  # fake time: no clock moved
    # queued 2 s, then 8 s of generation, seen at the upstream's 0.5 s poll hint
    assert run.queue_ms == pytest.approx(2000, abs=600)
    assert run.generate_ms == pytest.approx(8000, abs=600)
    assert run.total_ms == pytest.approx(10000, abs=600)
    assert run.cost_usd == pytest.approx(0.4)
    assert run.finished_at == START + timedelta(milliseconds=run.total_ms)
    assert (obs.source, obs.outcome, obs.http_status) == (Source.CANARY, Outcome.OK, 200)
    assert obs.latency_ms == run.total_ms
    assert obs.cost_usd == pytest.approx(0.4)
    for part in ("accept ", "queue 2.", "generate 8.", "end-to-end 10.", "final state completed"):
        assert part in obs.detail
    assert "cost $0.40" in obs.detail
    assert await store.spend(START, "healthy") == pytest.approx(0.4)
    assert await store.canary_runs() == [run]
    assert sim.stats().jobs_created == 1
    # no hint on the create answer: the default back-off; then the upstream's 0.5 s hint
    assert clock.sleeps[0] == POLL_FIRST_S
    assert set(clock.sleeps[1:]) == {0.5}


@pytest.mark.parametrize(
    ("cid", "protocol", "model"),
    [
        pytest.param("gw", "newapi-videos", "sora-2", id="newapi-videos"),
        pytest.param("agg", "aggregator-videos", "openai/sora-2", id="aggregator-videos"),
    ],
)
async def test_every_video_protocol_gets_canaries(cid: str, protocol: str, model: str) -> None:
    clock = FakeClock()
    async with serving(clock) as sim, make_client() as client:
        cfg = config([channel(sim, cid, "{}", protocol=protocol, model=model)])
        report = await monitor_on(cfg, MemoryStore(), client, clock).canary(cfg.channels[0])

    assert report is not None and report.observation is not None
    run = report.run
    assert (run.final_state, run.outcome) == (CanaryState.COMPLETED, Outcome.OK), run.detail
    assert run.total_ms is not None and 4000 <= run.total_ms < 40_000
    assert run.cost_usd > 0
    assert sim.stats().jobs_created == 1


@pytest.mark.parametrize(
    ("scenario_channel", "state", "outcome", "klass", "cost", "money"),
    [
        pytest.param(
            "flaky",
            CanaryState.FAILED,
            Outcome.JOB_FAILED,
            "failure",
            0.0,
            "not billed (reservation released)",
            id="failed-job-is-not-billed",
        ),
        pytest.param(
            "stalling",
            CanaryState.STALLED,
            Outcome.TIMEOUT,
            "stall",
            0.4,
            "$0.40 kept: the job may still be billed",
            id="stalled-job-keeps-its-reservation",
        ),
    ],
)
async def test_failed_and_stalled_jobs(
    scenario_channel: str,
    state: CanaryState,
    outcome: Outcome,
    klass: str,
    cost: float,
    money: str,
) -> None:
    clock = FakeClock()
    store = MemoryStore()
    async with serving(clock) as sim, make_client() as client:
        sim.set_fault("flaky", "job_failures")
        cfg = config([channel(sim, scenario_channel, CANARY)])
        report = await monitor_on(cfg, store, client, clock).canary(cfg.channels[0])

    assert report is not None and report.observation is not None
    run = report.run
    assert (run.final_state, run.outcome, run.failure_class) == (state, outcome, klass)
    assert run.cost_usd == cost
    assert await store.spend(START) == cost
    assert money in run.detail
    assert report.observation.outcome is outcome
    assert f"final state {state.value}" in report.observation.detail


async def test_a_stall_is_judged_by_stall_after_and_the_whole_job_by_timeout() -> None:
    clock = FakeClock()
    async with serving(clock) as sim, make_client() as client:
        cfg = config([channel(sim, "stalling", "{stall_after: 5m, timeout: 15m}")])
        stalled = await monitor_on(cfg, MemoryStore(), client, clock).canary(cfg.channels[0])
        cfg2 = config([channel(sim, "stalling", "{stall_after: 10m, timeout: 4m}")])
        timed_out = await monitor_on(cfg2, MemoryStore(), client, clock).canary(cfg2.channels[0])

    assert stalled is not None and timed_out is not None
    assert stalled.run.final_state is CanaryState.STALLED
    assert stalled.run.total_ms == pytest.approx(300_000 + 1000, abs=1500)  # 1 s queued first
    assert "stalled: no progress for 30" in stalled.run.detail
    assert timed_out.run.final_state is CanaryState.TIMED_OUT
    assert timed_out.run.total_ms == pytest.approx(240_000, abs=100)
    assert timed_out.run.failure_class == "timeout"


# --- status: job metrics feed the evaluator -------------------------------------------------


async def test_stalling_jobs_degrade_a_channel_whose_light_probe_is_green(tmp_path: Path) -> None:
    clock = FakeClock()
    store = open_store(f"sqlite:///{tmp_path / 'canary.db'}")
    await store.open()
    try:
        async with serving(clock) as sim, make_client() as client:
            cfg = config([channel(sim, "stalling", CANARY)])
            monitor = monitor_on(cfg, store, client, clock)
            await light(monitor, "stalling", 3)
            assert monitor.states["stalling"].status is Status.OPERATIONAL

            assert await canary_of(monitor, "stalling") is Outcome.TIMEOUT
            await light(monitor, "stalling", 3)
            assert monitor.states["stalling"].status is Status.OPERATIONAL  # one is not enough
            assert await canary_of(monitor, "stalling") is Outcome.TIMEOUT
            await light(monitor, "stalling", 3)

            state = monitor.states["stalling"]
            assert (state.status, state.probe_status) == (Status.DEGRADED, Status.OPERATIONAL)
            await monitor.flush()

            # a restart remembers why: the canary verdict is rebuilt from the stored runs
            again = monitor_on(cfg, store, client, clock)
            await again.resume()
            await light(again, "stalling", 3)
            assert again.states["stalling"].status is Status.DEGRADED
        [incident] = await store.incidents("stalling")
        assert incident.status is Status.DEGRADED
        assert incident.cause.startswith("canary jobs: 2 consecutive timeout (canary: stalled")
        assert {e.source for e in incident.evidence} == {Source.CANARY}
        assert await store.spend(START, "stalling") == pytest.approx(0.8)
    finally:
        await store.close()


async def test_failed_jobs_degrade_and_one_good_job_recovers() -> None:
    clock = FakeClock()
    async with serving(clock) as sim, make_client() as client:
        cfg = config([channel(sim, "flaky", CANARY)])
        monitor = monitor_on(cfg, MemoryStore(), client, clock)
        await light(monitor, "flaky")
        sim.set_fault("flaky", "job_failures")  # accepted, then failed: the light probe is fine
        for _ in range(2):
            assert await canary_of(monitor, "flaky") is Outcome.JOB_FAILED
            await light(monitor, "flaky", 2)
        assert monitor.states["flaky"].status is Status.DEGRADED

        sim.set_fault("flaky", None)
        assert await canary_of(monitor, "flaky") is Outcome.OK
        assert monitor.states["flaky"].status is Status.OPERATIONAL
        assert monitor.reasons["flaky"].startswith("canary jobs: 1 consecutive ok")


# --- moderation: the caller's fault, never the channel's -----------------------------------


@dataclass
class ScriptedProvider:
    """A fake upstream for what the openai-videos simulator cannot do: refuse on moderation."""

    protocol: ClassVar[str] = "scripted"
    channel: ChannelConfig
    client: httpx.AsyncClient
    states: list[tuple[JobState, str | None]] = field(default_factory=list)
    create_verdict: Verdict = field(default_factory=lambda: Verdict(Outcome.OK, "200"))
    retrieved: int = 0

    def _ex(self, method: str, status: int = 200) -> Exchange:
        return Exchange(method, "https://scripted.example/v1/videos", status, latency_ms=7.0)

    def _job(self, state: JobState, code: str | None) -> Job:
        return Job("video_1", state, 0, self.channel.model, error_code=code)

    async def light_check(self) -> ProbeResult:
        raise AssertionError("a canary never sends a light probe")

    async def create(self, request: VideoRequest) -> JobResult:
        if not self.create_verdict.outcome.is_good:
            return JobResult(self.create_verdict, self._ex("POST", 400))
        return JobResult(self.create_verdict, self._ex("POST"), self._job(JobState.QUEUED, None))

    async def retrieve(self, job_id: str) -> JobResult:
        state, code = self.states[min(self.retrieved, len(self.states) - 1)]
        self.retrieved += 1
        verdict = (
            Verdict(Outcome.REJECTED, f"job failed: {code}")
            if state is JobState.FAILED
            else Verdict(Outcome.OK, "200")
        )
        return JobResult(verdict, self._ex("GET"), self._job(state, code))

    async def download(self, job_id: str, variant: str = "video") -> Download:
        raise AssertionError("a refused job has nothing to download")


MODERATED = [(JobState.IN_PROGRESS, None), (JobState.FAILED, "moderation_blocked")]


@pytest.mark.parametrize(
    ("states", "create_verdict", "final", "klass"),
    [
        pytest.param(MODERATED, None, CanaryState.FAILED, "moderation", id="job-moderated"),
        pytest.param(
            [],
            Verdict(Outcome.REJECTED, "400 moderation_blocked", error_code="moderation_blocked"),
            CanaryState.CREATE_FAILED,
            "moderation",
            id="prompt-moderated-at-create",
        ),
        pytest.param(
            [],
            Verdict(Outcome.REJECTED, "400 invalid_value", error_code="invalid_value"),
            CanaryState.CREATE_FAILED,
            "rejected",
            id="request-refused-at-create",
        ),
    ],
)
async def test_moderation_is_rejected_and_changes_no_status(
    states: list[tuple[JobState, str | None]],
    create_verdict: Verdict | None,
    final: CanaryState,
    klass: str,
) -> None:
    clock = FakeClock()
    cfg = parse_config(
        "channels:\n"
        "  - {id: mod, name: mod, model: sora-2, access: relay, protocol: openai-videos,\n"
        "     base_url: 'https://scripted.example/v1', api_key: sk-test,\n"
        "     price: {per_call: 0.5}, probes: {light: null, canary: {}}}\n",
        env={},
    )
    store = MemoryStore()
    async with make_client() as client:
        monitor = monitor_on(cfg, store, client, clock)
        fake = ScriptedProvider(cfg.channels[0], client, states)
        if create_verdict is not None:
            fake.create_verdict = create_verdict
        monitor.canaries["mod"].provider = fake
        state_before = monitor.states["mod"]

        for _ in range(3):
            assert await canary_of(monitor, "mod") is Outcome.REJECTED
            fake.retrieved = 0

    assert monitor.states["mod"] == state_before  # no streak, no status, no change
    runs = await store.canary_runs()
    assert [(r.final_state, r.failure_class, r.cost_usd) for r in runs] == [(final, klass, 0.0)] * 3
    assert await store.spend(START) == 0.0


# --- budgets ---------------------------------------------------------------------------------


async def test_budget_runs_out_mid_day_and_resets_the_next_utc_day(tmp_path: Path) -> None:
    clock = FakeClock()
    url = f"sqlite:///{tmp_path / 'budget.db'}"
    canary = "{every: 1h, budget_usd_per_day: 1.0}"  # 0.4 a job: two fit, the third does not
    async with serving(clock) as sim, make_client() as client:
        cfg = config([channel(sim, "healthy", canary)])
        store = open_store(url)
        await store.open()
        monitor = monitor_on(cfg, store, client, clock)
        assert await canary_of(monitor, "healthy") is Outcome.OK
        assert await canary_of(monitor, "healthy") is Outcome.OK
        await store.close()

        # a restart: spend comes from the store, so the third job of the day is still refused
        store = open_store(url)
        await store.open()
        monitor = monitor_on(cfg, store, client, clock)
        await monitor.resume()
        skipped = await monitor.canary(cfg.channels[0])
        assert skipped is not None
        assert skipped.observation is None
        assert sim.stats().jobs_created == 2  # no request was sent for it

        clock.jump_to(datetime(2026, 3, 1, 23, 59, tzinfo=UTC))
        assert await canary_of(monitor, "healthy") is None  # still the same UTC day
        clock.jump_to(datetime(2026, 3, 2, 0, 0, 1, tzinfo=UTC))
        assert await canary_of(monitor, "healthy") is Outcome.OK
        runs = await store.canary_runs()
        await store.close()

    assert sim.stats().jobs_created == 3
    assert [r.final_state for r in runs] == [
        CanaryState.COMPLETED,
        CanaryState.COMPLETED,
        CanaryState.SKIPPED_BUDGET,
        CanaryState.SKIPPED_BUDGET,
        CanaryState.COMPLETED,
    ]
    assert runs[2].detail == (
        "channel canary budget: $0.80 spent today (UTC) + $0.40 would exceed $1.00"
    )
    assert [r.cost_usd for r in runs] == pytest.approx([0.4, 0.4, 0.0, 0.0, 0.4])
    assert runs[2].outcome is None


async def test_the_global_budget_is_shared_by_every_channel() -> None:
    clock = FakeClock()
    store = MemoryStore()
    async with serving(clock) as sim, make_client() as client:
        cfg = config(
            [channel(sim, "healthy", "{}"), channel(sim, "quick", "{}")],
            top="budget_usd_per_day: 1.0\n",
        )
        monitor = monitor_on(cfg, store, client, clock)
        outcomes = [
            await canary_of(monitor, cid) for cid in ("healthy", "quick", "healthy", "quick")
        ]

    assert outcomes == [Outcome.OK, Outcome.OK, None, None]
    runs = await store.canary_runs()
    assert [r.detail.split(":")[0] for r in runs[2:]] == ["global canary budget"] * 2
    assert await store.spend(START) == pytest.approx(0.8)


# --- who gets paid requests ------------------------------------------------------------------


async def test_channels_without_a_canary_never_get_a_paid_request(tmp_path: Path) -> None:
    store = MemoryStore()
    async with serving() as sim, make_client() as client:
        cfg = config(
            [
                channel(sim, "healthy", None),
                channel(sim, "quick", "{every: 1h}"),
                channel(sim, "flaky", None),
            ]
        )
        monitor = Monitor(cfg, store, client)
        assert set(monitor.canaries) == {"quick"}
        assert await monitor.canary(cfg.channels[0]) is None

        task = asyncio.create_task(monitor.run())
        for _ in range(200):  # the first canary starts at once; wait for it to finish
            await asyncio.sleep(0.02)
            if (runs := await store.canary_runs()) and runs[0].final_state is not (
                CanaryState.RUNNING
            ):
                break
        await asyncio.sleep(0.2)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    [run] = await store.canary_runs()
    assert (run.channel_id, run.final_state) == ("quick", CanaryState.COMPLETED)
    assert sim.stats().jobs_created == 1  # one POST, from the one channel with a canary
    assert monitor.scheduler is not None
    assert monitor.scheduler.interval("canary:quick") == 3600.0
    with pytest.raises(KeyError):
        monitor.scheduler.interval("canary:healthy")


async def test_no_key_or_a_retired_channel_sends_no_canary() -> None:
    async with serving() as sim, make_client() as client:
        text = channel(sim, "quick", "{}").replace("api_key: sk-test", "api_key: ${NO_SUCH_KEY}")
        cfg = config([text, channel(sim, "healthy", "{}")])
        monitor = Monitor(cfg, MemoryStore(), client)
        monitor.states["healthy"] = ChannelState("healthy", Status.RETIRED, START, Status.RETIRED)

        assert await monitor.canary(cfg.channels[0]) is None
        assert await monitor.canary(cfg.channels[1]) is None
    assert sim.stats().jobs_created == 0


# --- polling ---------------------------------------------------------------------------------


async def test_without_poll_hints_polling_backs_off_to_a_cap() -> None:
    clock = FakeClock()
    cfg = parse_config(
        "channels:\n"
        "  - {id: slow, name: slow, model: sora-2, access: relay, protocol: openai-videos,\n"
        "     base_url: 'https://scripted.example/v1', api_key: sk-test,\n"
        "     price: {per_call: 0.5},\n"
        "     probes: {light: null, canary: {stall_after: 1h, timeout: 2h, slow_after: 2m}}}\n",
        env={},
    )
    async with make_client() as client:
        states = [(JobState.IN_PROGRESS, None)] * 12 + [(JobState.COMPLETED, None)]
        fake = _Finishing(cfg.channels[0], client, states)
        canary = Canary(
            cfg.channels[0],
            fake,
            MemoryStore(),
            now=clock.now,
            clock=clock.monotonic,
            sleep=clock.sleep,
        )
        report = await canary.run()

    expected = [2.0, 3.0, 4.5, 6.75, 10.125, 15.188, 22.781, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0]
    assert clock.sleeps == expected
    assert max(clock.sleeps) == POLL_MAX_S
    assert report.run.final_state is CanaryState.COMPLETED
    assert report.observation is not None
    assert report.observation.outcome is Outcome.SLOW  # 244 s, over its slow_after of 2 m
    assert report.run.total_ms == pytest.approx(sum(expected) * 1000, abs=1)
    assert report.run.cost_usd == 0.5  # the configured per-call price


async def test_the_cost_the_upstream_reports_is_what_is_spent() -> None:
    clock = FakeClock()
    cfg = parse_config(
        "channels:\n"
        "  - {id: agg, name: agg, model: sora-2, access: relay, protocol: openai-videos,\n"
        "     base_url: 'https://scripted.example/v1', api_key: sk-test,\n"
        "     price: {per_second: 0.1}, probes: {light: null, canary: {}}}\n",
        env={},
    )
    store = MemoryStore()
    async with make_client() as client:
        fake = _Finishing(cfg.channels[0], client, [(JobState.COMPLETED, None)], reported_cost=0.32)
        canary = Canary(
            cfg.channels[0], fake, store, now=clock.now, clock=clock.monotonic, sleep=clock.sleep
        )
        report = await canary.run()

    assert report.run.cost_usd == 0.32  # not the 0.40 estimate that was reserved
    assert "cost $0.32 (as the upstream reports it)" in report.run.detail
    assert await store.spend(START) == 0.32


@dataclass
class _Finishing(ScriptedProvider):
    reported_cost: float | None = None

    async def retrieve(self, job_id: str) -> JobResult:
        state, _ = self.states[min(self.retrieved, len(self.states) - 1)]
        self.retrieved += 1
        job = self._job(state, None)
        if state is JobState.COMPLETED:
            job = dataclasses.replace(job, cost_usd=self.reported_cost)
        return JobResult(Verdict(Outcome.OK, "200"), self._ex("GET"), job)

    async def download(self, job_id: str, variant: str = "video") -> Download:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"\x00\x00\x00\x18ftypmp42"

        return Download(Verdict(Outcome.OK, "200"), self._ex("GET"), "video/mp4", chunks())
