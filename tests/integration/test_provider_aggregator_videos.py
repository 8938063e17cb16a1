"""The aggregator-videos adapter against the simulator: every fault read through the real code."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.helpers import channel_yaml, config_yaml, running_sim

from sorawatch.app import make_client
from sorawatch.config import parse_config
from sorawatch.domain.outcome import Outcome
from sorawatch.providers.aggregator_videos import AggregatorVideos, parse_job, resolution_of
from sorawatch.providers.base import JobResult, JobState, VideoRequest
from sorawatch.simulator import Simulator

SCENARIO = """
name: aggregator-provider-test
channels:
  agg: {protocol: aggregator-videos, models: [openai/sora-2], latency_ms: 1, queue_s: 0.1,
        generate_s: 0.3}
  short: {protocol: aggregator-videos, models: [openai/sora-2], latency_ms: 1, queue_s: 0.05,
          generate_s: 0.1, expires_s: 0.2}
"""
MODEL = "openai/sora-2"


def adapter(
    sim: Simulator, client: Any, cid: str = "agg", key: str = "sk-test"
) -> AggregatorVideos:
    chan = channel_yaml(sim, cid, model=MODEL, api_key=key, slow_ms=300)
    chan = chan.replace("protocol: openai-videos", "protocol: aggregator-videos")
    chan = chan.replace("timeout: 2s", "timeout: 0.5s")
    cfg = parse_config(config_yaml(sim, "memory://", [chan]), env={})
    return AggregatorVideos(cfg.channels[0], client)


async def read(probe: AggregatorVideos, op: str) -> tuple[Outcome, int | None, str]:
    if op == "probe":
        result = await probe.light_check()
        return result.verdict.outcome, result.http_status, result.verdict.detail
    created = await probe.create(VideoRequest(prompt="a cat", model=MODEL))
    return created.verdict.outcome, created.exchange.status, created.verdict.detail


@pytest.mark.parametrize(
    ("op", "fault", "params", "outcome", "status"),
    [
        pytest.param("probe", "ok", {}, Outcome.OK, 200, id="probe-ok"),
        pytest.param("probe", "slow", {"latency_ms": 400}, Outcome.SLOW, 200, id="probe-slow"),
        pytest.param("probe", "cloudflare", {}, Outcome.RISK_CONTROL, 403, id="probe-cf-403"),
        pytest.param(
            "probe", "cloudflare", {"status": 503}, Outcome.RISK_CONTROL, 503, id="probe-cf-503"
        ),
        pytest.param("probe", "auth_failed", {}, Outcome.AUTH_FAILED, 401, id="probe-bad-key"),
        pytest.param("probe", "rate_limited", {}, Outcome.RATE_LIMITED, 429, id="probe-429"),
        pytest.param(
            "probe", "quota_exhausted", {}, Outcome.QUOTA_EXHAUSTED, 402, id="probe-402-credits"
        ),
        pytest.param("probe", "overloaded", {}, Outcome.OVERLOADED, 503, id="probe-no-provider"),
        pytest.param("probe", "paused", {}, Outcome.PAUSED, 503, id="probe-paused"),
        pytest.param("probe", "server_error", {}, Outcome.SERVER_ERROR, 500, id="probe-500"),
        pytest.param("probe", "retired", {}, Outcome.RETIRED, 200, id="probe-not-in-catalog"),
        pytest.param("probe", "gone", {}, Outcome.RETIRED, 410, id="probe-410"),
        pytest.param("probe", "malformed", {}, Outcome.BAD_RESPONSE, 200, id="probe-truncated"),
        pytest.param(
            "probe",
            "malformed",
            {"mode": "wrong_shape"},
            Outcome.BAD_RESPONSE,
            200,
            id="probe-wrong-shape",
        ),
        pytest.param("probe", "timeout", {"hold_s": 3}, Outcome.TIMEOUT, None, id="probe-timeout"),
        pytest.param("create", "ok", {}, Outcome.OK, 202, id="create-202"),
        pytest.param("create", "rate_limited", {}, Outcome.RATE_LIMITED, 429, id="create-429"),
        pytest.param(
            "create", "quota_exhausted", {}, Outcome.QUOTA_EXHAUSTED, 402, id="create-402"
        ),
        # The create only says "not a valid model ID" (a 400): the catalog probe tells retired.
        pytest.param("create", "retired", {}, Outcome.REJECTED, 400, id="create-unknown-model"),
    ],
)
async def test_each_fault_read_through_the_adapter(
    tmp_path: Path,
    op: str,
    fault: str,
    params: dict[str, Any],
    outcome: Outcome,
    status: int | None,
) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        sim.set_fault("agg", fault, **params)
        got, http_status, detail = await read(adapter(sim, client), op)
    assert got is outcome, detail
    assert http_status == status
    assert "sk-test" not in detail


async def test_light_probe_is_one_free_get(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        result = await adapter(sim, client).light_check()
        created = sim.stats().jobs_created
    assert [ex.method for ex in result.exchanges] == ["GET"]
    assert result.exchanges[0].url.endswith("/v1/videos/models")
    assert created == 0


async def _poll_until_done(probe: AggregatorVideos, job_id: str) -> JobResult:
    for _ in range(60):
        got = await probe.retrieve(job_id)
        if got.job is None or got.job.state in (JobState.COMPLETED, JobState.FAILED):
            return got
        await asyncio.sleep(0.03)
    return got


async def test_create_poll_download_round_trip(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        probe = adapter(sim, client)
        created = await probe.create(VideoRequest(prompt="a cat", model=MODEL, seconds=4))
        assert created.exchange.status == 202
        assert created.job is not None
        assert created.job.state is JobState.QUEUED
        assert created.job.raw["status"] == "pending"
        assert created.job.raw["polling_url"].endswith(f"/videos/{created.job.id}")
        done = await _poll_until_done(probe, created.job.id)
        assert done.job is not None
        assert done.job.state is JobState.COMPLETED
        assert done.job.cost_usd == pytest.approx(0.40)
        assert done.job.raw["unsigned_urls"][0].endswith("/content?index=0")
        download = await probe.download(done.job.id)
        assert download.verdict.outcome is Outcome.OK
        assert download.content_type == "video/mp4"
        assert download.chunks is not None
        data = b"".join([c async for c in download.chunks])
    assert data[4:8] == b"ftyp"


async def test_duration_must_be_an_integer(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        probe = adapter(sim, client)
        as_text = await probe.create(VideoRequest("x", MODEL, extra={"duration": "4"}))
        unsupported = await probe.create(VideoRequest("x", MODEL, seconds=5))
    assert as_text.verdict.outcome is Outcome.REJECTED
    assert "Expected integer" in as_text.exchange.body.decode()
    assert unsupported.verdict.outcome is Outcome.REJECTED


async def test_failed_and_cancelled_jobs_are_failures_with_codes(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        probe = adapter(sim, client)
        sim.set_fault("agg", "job_failures", rate=1.0)
        created = [await probe.create(VideoRequest(f"clip {i}", MODEL)) for i in range(9)]
        ends = await asyncio.gather(
            *(_poll_until_done(probe, c.job.id) for c in created if c.job is not None)
        )
    words = {e.job.raw["status"] for e in ends if e.job is not None}
    assert words == {"failed", "cancelled"}
    for end in ends:
        assert end.job is not None
        assert end.job.state is JobState.FAILED
        assert end.verdict.outcome is Outcome.JOB_FAILED
        assert end.job.error_message
        cancelled = end.job.raw["status"] == "cancelled"
        assert (end.job.error_code == "job_cancelled") is cancelled


async def test_expired_outputs_are_a_failure(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        probe = adapter(sim, client, "short")
        created = await probe.create(VideoRequest("x", MODEL))
        assert created.job is not None
        await asyncio.sleep(0.45)
        got = await probe.retrieve(created.job.id)
        gone = await probe.download(created.job.id)
    assert got.job is not None
    assert got.job.raw["status"] == "expired"
    assert got.job.state is JobState.FAILED
    assert got.job.error_code == "job_expired"
    assert got.verdict.outcome is Outcome.JOB_FAILED
    assert gone.verdict.outcome is Outcome.RETIRED  # 410 on the outputs
    assert gone.chunks is None


# --- pure parsing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        pytest.param("1280x720", ("720p", "16:9"), id="landscape-720"),
        pytest.param("720x1280", ("720p", "9:16"), id="portrait-720"),
        pytest.param("1920x1080", ("1080p", "16:9"), id="landscape-1080"),
        pytest.param("auto", None, id="not-a-size"),
        pytest.param("0x720", None, id="zero-edge"),
    ],
)
def test_resolution_of(size: str, expected: tuple[str, str] | None) -> None:
    assert resolution_of(size) == expected


@given(st.integers(1, 4096), st.integers(1, 4096))
def test_resolution_aspect_reduces_to_the_same_ratio(w: int, h: int) -> None:
    found = resolution_of(f"{w}x{h}")
    assert found is not None
    a, b = map(int, found[1].split(":"))
    assert a * h == b * w
    assert found[0] == f"{min(w, h)}p"


@pytest.mark.parametrize(
    ("body", "state", "code"),
    [
        pytest.param({"id": "j", "status": "pending"}, JobState.QUEUED, None, id="pending"),
        pytest.param({"id": "j", "status": "queued"}, JobState.QUEUED, None, id="ofox-queued"),
        pytest.param({"id": "j", "status": "processing"}, JobState.IN_PROGRESS, None, id="proc"),
        pytest.param(
            {"id": "j", "status": "expired", "error": "gone"},
            JobState.FAILED,
            "job_expired",
            id="expired",
        ),
        pytest.param(
            {"id": "j", "status": "canceled"}, JobState.FAILED, "job_cancelled", id="canceled"
        ),
        pytest.param(
            {"id": "j", "status": "failed", "error": {"code": "unsafe_prompt", "message": "m"}},
            JobState.FAILED,
            "unsafe_prompt",
            id="nested-error",
        ),
    ],
)
def test_parse_job_states(body: dict[str, Any], state: JobState, code: str | None) -> None:
    job = parse_job(body)
    assert job is not None
    assert job.state is state
    assert job.error_code == code


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"status": "pending"}, id="no-id"),
        pytest.param({"id": "j", "status": "paused"}, id="unknown-status"),
        pytest.param([], id="not-an-object"),
    ],
)
def test_parse_job_refuses_other_shapes(body: object) -> None:
    assert parse_job(body) is None
