"""The newapi-videos adapter against the simulator: every fault read through the real code.

A new-api gateway answers ``GET /models`` and task lookups from its own database, so the light
probe sees gateway faults and the submit sees upstream ones; the table says which call reads
each fault.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import channel_yaml, config_yaml, running_sim

from sorawatch.app import make_client
from sorawatch.config import parse_config
from sorawatch.domain.outcome import Outcome
from sorawatch.providers.base import JobResult, JobState, VideoRequest
from sorawatch.providers.newapi_videos import NewApiVideos, parse_job
from sorawatch.simulator import Simulator

SCENARIO = """
name: newapi-provider-test
channels:
  gw: {protocol: newapi-videos, models: [sora-2], latency_ms: 1, queue_s: 0.1, generate_s: 0.3}
  relay: {protocol: openai-videos, models: [sora-2], latency_ms: 1}
"""
SATURATED = "当前分组上游负载已饱和，请稍后再试"


def adapter(sim: Simulator, client: Any, cid: str = "gw", key: str = "sk-test") -> NewApiVideos:
    chan = channel_yaml(sim, cid, api_key=key, slow_ms=300)
    chan = chan.replace("protocol: openai-videos", "protocol: newapi-videos")
    chan = chan.replace("timeout: 2s", "timeout: 0.5s")
    cfg = parse_config(config_yaml(sim, "memory://", [chan]), env={})
    return NewApiVideos(cfg.channels[0], client)


async def read(probe: NewApiVideos, op: str) -> tuple[Outcome, int | None, str]:
    if op == "probe":
        result = await probe.light_check()
        return result.verdict.outcome, result.http_status, result.verdict.detail
    created = await probe.create(VideoRequest(prompt="a cat", model="sora-2"))
    return created.verdict.outcome, created.exchange.status, created.verdict.detail


@pytest.mark.parametrize(
    ("op", "fault", "params", "outcome", "status"),
    [
        pytest.param("probe", "ok", {}, Outcome.OK, 200, id="probe-ok"),
        pytest.param("probe", "slow", {"latency_ms": 400}, Outcome.SLOW, 200, id="probe-slow"),
        pytest.param("probe", "cloudflare", {}, Outcome.RISK_CONTROL, 403, id="probe-cf-403"),
        pytest.param(
            "probe", "cloudflare", {"status": 429}, Outcome.RISK_CONTROL, 429, id="probe-cf-429"
        ),
        pytest.param("probe", "auth_failed", {}, Outcome.AUTH_FAILED, 401, id="probe-bad-token"),
        pytest.param("probe", "paused", {}, Outcome.PAUSED, 503, id="probe-paused"),
        pytest.param(
            "probe", "overloaded", {}, Outcome.OVERLOADED, 200, id="probe-model-not-listed"
        ),
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
        # The probe never reaches the upstream: its rate limits show only on submits.
        pytest.param(
            "probe", "rate_limited", {}, Outcome.OK, 200, id="probe-blind-to-upstream-429"
        ),
        pytest.param(
            "create", "rate_limited", {}, Outcome.OVERLOADED, 429, id="create-saturated-text"
        ),
        pytest.param(
            "create",
            "quota_exhausted",
            {},
            Outcome.QUOTA_EXHAUSTED,
            429,
            id="create-saturated-text-with-insufficient-quota",
        ),
        pytest.param("create", "overloaded", {}, Outcome.OVERLOADED, 503, id="create-no-channel"),
        pytest.param("create", "retired", {}, Outcome.RETIRED, 404, id="create-relayed-404"),
        pytest.param("create", "gone", {}, Outcome.RETIRED, 410, id="create-relayed-410"),
        pytest.param(
            "create", "server_error", {}, Outcome.SERVER_ERROR, 500, id="create-relayed-500"
        ),
        pytest.param(
            "create", "sentinel_block", {}, Outcome.RISK_CONTROL, 400, id="create-relayed-sentinel"
        ),
        pytest.param("create", "cloudflare", {}, Outcome.RISK_CONTROL, 403, id="create-cf-403"),
        pytest.param("create", "auth_failed", {}, Outcome.AUTH_FAILED, 401, id="create-bad-token"),
        pytest.param("create", "paused", {}, Outcome.PAUSED, 503, id="create-paused"),
        pytest.param("create", "ok", {}, Outcome.OK, 200, id="create-ok"),
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
        sim.set_fault("gw", fault, **params)
        got, http_status, detail = await read(adapter(sim, client), op)
    assert got is outcome, detail
    assert http_status == status
    assert "sk-test" not in detail


async def test_saturation_text_is_told_apart_by_code_alone(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        probe = adapter(sim, client)
        answers: dict[str, JobResult] = {}
        for fault in ("rate_limited", "quota_exhausted"):
            sim.set_fault("gw", fault)
            answers[fault] = await probe.create(VideoRequest(prompt="x", model="sora-2"))
    texts = {fault: r.exchange.body.decode() for fault, r in answers.items()}
    assert all(SATURATED in text for text in texts.values())
    assert answers["rate_limited"].verdict.outcome is Outcome.OVERLOADED
    assert answers["quota_exhausted"].verdict.outcome is Outcome.QUOTA_EXHAUSTED
    assert answers["quota_exhausted"].verdict.error_code == "insufficient_user_quota"


async def test_light_probe_sends_two_free_gets(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        result = await adapter(sim, client).light_check()
        created = sim.stats().jobs_created
    assert result.verdict.outcome is Outcome.OK
    assert [ex.method for ex in result.exchanges] == ["GET", "GET"]
    assert result.exchanges[0].url.endswith("/v1/models")
    assert result.exchanges[1].url.endswith("/v1/videos/task_sorawatch_probe")
    assert result.exchanges[1].status == 400
    assert created == 0


async def test_a_plain_openai_relay_is_not_a_newapi_gateway(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        result = await adapter(sim, client, "relay").light_check()
    assert result.verdict.outcome is Outcome.BAD_RESPONSE
    assert "new-api" in result.verdict.detail
    assert result.http_status == 404


async def test_wrong_key_is_auth_failed_and_never_echoed(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        result = await adapter(sim, client, key="sk-bad").light_check()
    assert result.verdict.outcome is Outcome.AUTH_FAILED
    assert "(request id:" in result.exchanges[0].body.decode()
    assert all("sk-bad" not in ex.url for ex in result.exchanges)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/videos", id="no-list"),
        pytest.param("DELETE", "/videos/task_x", id="no-delete"),
        pytest.param("POST", "/videos/edits/x", id="no-edits"),
    ],
)
async def test_missing_routes_are_invalid_url(tmp_path: Path, method: str, path: str) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        resp = await client.request(
            method, sim.base_url("gw") + path, headers={"Authorization": "Bearer sk-test"}
        )
    body = resp.json()
    assert resp.status_code == 404
    assert body["error"]["type"] == "new_api_error"
    assert body["error"]["message"].startswith(f"Invalid URL ({method} /v1{path})")


async def _poll_until_done(probe: NewApiVideos, job_id: str) -> list[JobResult]:
    seen: list[JobResult] = []
    for _ in range(60):
        got = await probe.retrieve(job_id)
        seen.append(got)
        if got.job is None or got.job.state in (JobState.COMPLETED, JobState.FAILED):
            break
        await asyncio.sleep(0.03)
    return seen


async def test_create_poll_download_round_trip(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        probe = adapter(sim, client)
        created = await probe.create(VideoRequest(prompt="a cat", model="sora-2", seconds=4))
        assert created.verdict.outcome is Outcome.OK, created.verdict.detail
        assert created.job is not None
        assert created.job.id.startswith("task_")
        assert created.job.state is JobState.QUEUED
        assert created.job.raw["task_id"] == created.job.id
        early = await probe.download(created.job.id)
        assert not early.verdict.outcome.is_good
        polls = await _poll_until_done(probe, created.job.id)
        job = polls[-1].job
        assert job is not None
        assert job.state is JobState.COMPLETED
        assert job.progress == 100
        assert job.completed_at is not None and job.created_at is not None
        assert job.completed_at > job.created_at
        assert job.raw["metadata"]["url"] == job.raw["video_url"]
        assert all(p.job is None or p.job.raw["completed_at"] is None for p in polls[:-1])
        download = await probe.download(job.id)
        assert download.verdict.outcome is Outcome.OK
        assert download.content_type == "video/mp4"
        assert download.chunks is not None
        data = b"".join([c async for c in download.chunks])
    assert data[4:8] == b"ftyp"


async def test_every_dialect_normalises(tmp_path: Path) -> None:
    """Status synonyms, "45%" progress and millisecond times all read as the same jobs."""
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        probe = adapter(sim, client)
        created = [
            await probe.create(VideoRequest(prompt=f"clip {i}", model="sora-2")) for i in range(12)
        ]
        ids = [c.job.id for c in created if c.job is not None]
        runs = await asyncio.gather(*(_poll_until_done(probe, i) for i in ids))
    words = {str(r.job.raw["status"]) for run in runs for r in run if r.job is not None}
    text_progress = [
        r.job for run in runs for r in run if r.job and isinstance(r.job.raw["progress"], str)
    ]
    millis = [c.job for c in created if c.job and c.job.raw["created_at"] > 10**11]
    assert len(ids) == 12
    assert all(run[-1].job and run[-1].job.state is JobState.COMPLETED for run in runs)
    assert len(words) >= 6, words  # several vocabularies met
    assert text_progress and all(0 <= j.progress <= 100 for j in text_progress)
    assert millis and all(j.created_at and j.created_at.year >= 2025 for j in millis)


async def test_legacy_generations_route_reads_as_the_same_job(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        base, auth = sim.base_url("gw"), {"Authorization": "Bearer sk-test"}
        made = await client.post(
            f"{base}/video/generations", json={"model": "sora-2", "prompt": "x"}, headers=auth
        )
        task_id = made.json()["task_id"]
        first = await client.get(f"{base}/video/generations/{task_id}", headers=auth)
        await asyncio.sleep(0.5)
        last = await client.get(f"{base}/video/generations/{task_id}", headers=auth)
        missing = await client.get(f"{base}/video/generations/task_nope", headers=auth)
    assert "object" not in made.json()
    assert first.json()["data"]["status"] in ("NOT_START", "IN_PROGRESS")
    assert last.json()["data"]["status"] == "SUCCESS"
    assert last.json()["data"]["progress"] == "100%"
    job = parse_job(last.json())
    assert job is not None
    assert job.id == task_id
    assert job.state is JobState.COMPLETED
    assert missing.status_code == 400
    assert missing.json() == {"code": "task_not_exist", "message": "task_not_exist", "data": None}


async def test_failed_job_is_job_failed(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        probe = adapter(sim, client)
        sim.set_fault("gw", "job_failures", rate=1.0)
        created = await probe.create(VideoRequest(prompt="a dog", model="sora-2"))
        assert created.job is not None
        last = (await _poll_until_done(probe, created.job.id))[-1]
    assert last.job is not None
    assert last.job.state is JobState.FAILED
    assert last.verdict.outcome is Outcome.JOB_FAILED
    assert last.job.error_code == "video_generation_failed"


async def test_unknown_task_is_a_flat_400(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        got = await adapter(sim, client).retrieve("task_unknown")
    assert got.job is None
    assert got.exchange.status == 400
    assert got.verdict.outcome is Outcome.REJECTED
