"""The openai-videos adapter against the simulator: every fault read through the real code."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import channel_yaml, config_yaml, running_sim

from sorawatch.app import make_client
from sorawatch.config import parse_config
from sorawatch.domain.outcome import Outcome
from sorawatch.providers.base import JobState, VideoRequest
from sorawatch.providers.openai_videos import OpenAIVideos
from sorawatch.simulator import Simulator, parse_scenario

SCENARIO = """
name: provider-test
channels:
  ch: {protocol: openai-videos, models: [sora-2], latency_ms: 1, queue_s: 0.2, generate_s: 0.4}
  old: {protocol: openai-videos, models: [sora-2], latency_ms: 1, shutdown_date: 2026-09-24}
  soon: {protocol: openai-videos, models: [sora-2], latency_ms: 1, shutdown_date: 2099-01-31}
"""


def adapter(sim: Simulator, client: Any, cid: str = "ch", key: str = "sk-test") -> OpenAIVideos:
    chan = channel_yaml(sim, cid, api_key=key, slow_ms=1000)
    cfg = parse_config(config_yaml(sim, "memory://", [chan]), env={})
    return OpenAIVideos(cfg.channels[0], client)


@pytest.mark.parametrize(
    ("fault", "params", "outcome", "status"),
    [
        pytest.param("ok", {}, Outcome.OK, 200, id="ok"),
        pytest.param("slow", {"latency_ms": 1200}, Outcome.SLOW, 200, id="slow"),
        pytest.param("rate_limited", {}, Outcome.RATE_LIMITED, 429, id="rate-limited-429"),
        pytest.param("quota_exhausted", {}, Outcome.QUOTA_EXHAUSTED, 429, id="insufficient-quota"),
        pytest.param("cloudflare", {}, Outcome.RISK_CONTROL, 403, id="cloudflare-403"),
        pytest.param("cloudflare", {"status": 503}, Outcome.RISK_CONTROL, 503, id="cloudflare-503"),
        pytest.param("sentinel_block", {}, Outcome.RISK_CONTROL, 400, id="sentinel-block"),
        pytest.param("no_tokens", {}, Outcome.RISK_CONTROL, 200, id="no-tokens-in-200"),
        pytest.param("risk_control_cn", {}, Outcome.RISK_CONTROL, 200, id="jimeng-4013"),
        pytest.param("overloaded", {}, Outcome.OVERLOADED, 503, id="server-is-overloaded"),
        pytest.param("server_error", {}, Outcome.SERVER_ERROR, 500, id="server-error"),
        pytest.param("auth_failed", {}, Outcome.AUTH_FAILED, 401, id="invalid-api-key"),
        pytest.param("paused", {}, Outcome.PAUSED, 503, id="paused"),
        pytest.param("retired", {}, Outcome.RETIRED, 404, id="model-not-found"),
        pytest.param("gone", {}, Outcome.RETIRED, 410, id="gone"),
        pytest.param("malformed", {}, Outcome.BAD_RESPONSE, 200, id="malformed"),
        pytest.param("timeout", {"hold_s": 5}, Outcome.TIMEOUT, None, id="timeout"),
    ],
)
async def test_light_probe_reads_each_fault(
    tmp_path: Path, fault: str, params: dict[str, Any], outcome: Outcome, status: int | None
) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        sim.set_fault("ch", fault, **params)
        result = await adapter(sim, client).light_check()
    assert result.verdict.outcome is outcome, result.verdict.detail
    assert result.http_status == status
    assert "sk-test" not in result.verdict.detail


async def test_connection_refused_is_connect_error() -> None:
    scenario = parse_scenario(
        SCENARIO.replace("generate_s: 0.4}", "generate_s: 0.4, own_port: true}")
    )
    sim = Simulator(scenario)
    async with sim.serve() as running, make_client() as client:
        probe = adapter(sim, client)
        sim.set_fault("ch", "connection_refused")
        await running.settle()
        result = await probe.light_check()
        assert result.verdict.outcome is Outcome.CONNECT_ERROR
        assert result.http_status is None
        sim.set_fault("ch", None)
        await running.settle()
        assert (await probe.light_check()).verdict.outcome is Outcome.OK


async def test_wrong_key_is_auth_failed_and_never_echoed(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        result = await adapter(sim, client, key="sk-bad").light_check()
    assert result.verdict.outcome is Outcome.AUTH_FAILED
    assert all("sk-bad" not in ex.url and "sk-bad" not in ex.error_text for ex in result.exchanges)


async def test_light_probe_sends_exactly_two_free_gets(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        result = await adapter(sim, client).light_check()
        jobs = sim.stats()
    assert [ex.method for ex in result.exchanges] == ["GET", "GET"]
    assert result.exchanges[0].url.endswith("/models/sora-2")
    assert "/videos" in result.exchanges[1].url
    assert jobs.jobs_created == 0


async def test_shutdown_date_becomes_a_sunset_then_retired(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        soon = await adapter(sim, client, "soon").light_check()
        past = await adapter(sim, client, "old").light_check()
    assert soon.verdict.outcome.is_good
    assert soon.verdict.sunset == datetime(2099, 1, 31, tzinfo=UTC)
    assert past.verdict.outcome is Outcome.RETIRED
    assert past.verdict.sunset == datetime(2026, 9, 24, tzinfo=UTC)


async def test_create_poll_download_round_trip(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        probe = adapter(sim, client)
        created = await probe.create(VideoRequest(prompt="a cat", model="sora-2", seconds=4))
        assert created.verdict.outcome is Outcome.OK
        assert created.job is not None
        assert created.job.state is JobState.QUEUED
        assert created.job.seconds == "4"
        job = created.job
        for _ in range(50):
            got = await probe.retrieve(job.id)
            assert got.job is not None
            job = got.job
            if job.state is JobState.COMPLETED:
                break
            assert got.job.poll_after_ms is not None
            await _sleep(0.05)
        assert job.state is JobState.COMPLETED
        assert job.progress == 100
        download = await probe.download(job.id)
        assert download.verdict.outcome is Outcome.OK
        assert download.content_type == "video/mp4"
        assert download.chunks is not None
        data = b"".join([c async for c in download.chunks])
        assert data[4:8] == b"ftyp"


async def test_failed_job_and_early_download(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        probe = adapter(sim, client)
        sim.set_fault("ch", "job_failures", rate=1.0)
        created = await probe.create(VideoRequest(prompt="a dog", model="sora-2"))
        assert created.job is not None
        early = await probe.download(created.job.id)
        assert not early.verdict.outcome.is_good
        assert early.chunks is None
        for _ in range(50):
            got = await probe.retrieve(created.job.id)
            if got.job is not None and got.job.state is JobState.FAILED:
                break
            await _sleep(0.05)
        assert got.verdict.outcome is Outcome.JOB_FAILED
        assert got.job is not None
        assert got.job.error_code


async def test_create_on_a_paused_channel_is_paused(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        sim.set_fault("ch", "paused")
        created = await adapter(sim, client).create(VideoRequest(prompt="x", model="sora-2"))
    assert created.verdict.outcome is Outcome.PAUSED
    assert created.job is None


async def _sleep(s: float) -> None:
    import asyncio

    await asyncio.sleep(s)
