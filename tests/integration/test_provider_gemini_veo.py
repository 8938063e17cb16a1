"""The gemini-veo adapter against the simulator, in both modes: every failure signature of
upstream-protocols.md §3 served by the simulator and read through the real provider code."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.helpers import running_sim

from sorawatch.app import make_client
from sorawatch.config import ChannelConfig, parse_config
from sorawatch.domain.outcome import Outcome
from sorawatch.errors import ConfigError
from sorawatch.providers.base import JobState, VideoRequest
from sorawatch.providers.gemini_veo import (
    RAI_FILTERED,
    GeminiVeo,
    Mode,
    endpoints,
    gcs_download_url,
    job_outcome,
    parse_operation,
    video_shape,
)
from sorawatch.simulator import Simulator
from sorawatch.simulator.protocols.gemini_veo import parse_target

GEMINI_MODEL = "veo-3.1-generate-preview"
VERTEX_MODEL = "veo-3.1-generate-001"
SCENARIO = f"""
name: gemini-veo-test
channels:
  gem: {{protocol: gemini-veo, models: [{GEMINI_MODEL}], latency_ms: 1, queue_s: 0.1,
         generate_s: 0.2}}
  vx: {{protocol: gemini-veo, models: [{VERTEX_MODEL}], latency_ms: 1, queue_s: 0.1,
        generate_s: 0.2}}
"""
PARENT = "projects/sim-proj/locations/us-central1"


def base_url(sim: Simulator, mode: Mode) -> str:
    if mode is Mode.VERTEX:
        return f"{sim.base_url('vx')}/{PARENT}"
    return f"{sim.base_url('gem')}beta"  # …/ch/gem/v1 + beta = the Gemini API's /v1beta


def channel(sim: Simulator, mode: Mode, key: str = "sk-test", model: str = "") -> ChannelConfig:
    model = model or (VERTEX_MODEL if mode is Mode.VERTEX else GEMINI_MODEL)
    text = f"""
storage: {{url: "memory://"}}
channels:
  - id: veo
    name: Veo
    model: {model}
    access: official
    protocol: gemini-veo
    base_url: "{base_url(sim, mode)}"
    api_key: "{key}"
    probes: {{light: {{every: 1s, timeout: 2s}}}}
    thresholds: {{slow_ms: 1000}}
"""
    return parse_config(text, env={}).channels[0]


def adapter(sim: Simulator, client: httpx.AsyncClient, mode: Mode, **kw: str) -> GeminiVeo:
    return GeminiVeo(channel(sim, mode, **kw), client)


def cid(mode: Mode) -> str:
    return "vx" if mode is Mode.VERTEX else "gem"


G, V = Mode.GEMINI, Mode.VERTEX


@pytest.mark.parametrize(
    ("mode", "fault", "params", "key", "outcome", "status"),
    [
        pytest.param(G, "ok", {}, "sk-test", Outcome.OK, 200, id="gemini-ok"),
        pytest.param(V, "ok", {}, "sk-test", Outcome.OK, 200, id="vertex-ok"),
        pytest.param(G, "ok", {}, "sk-bad", Outcome.AUTH_FAILED, 400, id="gemini-api-key-invalid"),
        pytest.param(
            G, "auth_failed", {}, "sk-test", Outcome.AUTH_FAILED, 400, id="gemini-auth-fault-400"
        ),
        pytest.param(G, "ok", {}, "sk-leaked", Outcome.AUTH_FAILED, 403, id="gemini-key-leaked"),
        pytest.param(V, "ok", {}, "sk-bad", Outcome.AUTH_FAILED, 401, id="vertex-bad-token"),
        pytest.param(
            V, "auth_failed", {}, "sk-test", Outcome.AUTH_FAILED, 403, id="vertex-iam-denied"
        ),
        pytest.param(
            G, "rate_limited", {}, "sk-test", Outcome.RATE_LIMITED, 429, id="gemini-per-minute"
        ),
        pytest.param(
            V, "rate_limited", {}, "sk-test", Outcome.RATE_LIMITED, 429, id="vertex-per-minute"
        ),
        pytest.param(
            G, "quota_exhausted", {}, "sk-test", Outcome.QUOTA_EXHAUSTED, 429, id="gemini-per-day"
        ),
        pytest.param(
            V, "quota_exhausted", {}, "sk-test", Outcome.QUOTA_EXHAUSTED, 429, id="vertex-per-day"
        ),
        pytest.param(
            G, "overloaded", {}, "sk-test", Outcome.OVERLOADED, 503, id="gemini-unavailable"
        ),
        pytest.param(
            V, "server_error", {}, "sk-test", Outcome.SERVER_ERROR, 500, id="vertex-internal"
        ),
        pytest.param(G, "retired", {}, "sk-test", Outcome.RETIRED, 404, id="gemini-retired"),
        pytest.param(V, "retired", {}, "sk-test", Outcome.RETIRED, 404, id="vertex-retired"),
        pytest.param(G, "cloudflare", {}, "sk-test", Outcome.RISK_CONTROL, 403, id="cloudflare"),
        pytest.param(
            V, "cloudflare", {"status": 429}, "sk-test", Outcome.RISK_CONTROL, 429, id="cf-429"
        ),
        pytest.param(G, "malformed", {}, "sk-test", Outcome.BAD_RESPONSE, 200, id="truncated"),
        pytest.param(
            V,
            "malformed",
            {"mode": "wrong_shape"},
            "sk-test",
            Outcome.BAD_RESPONSE,
            200,
            id="wrong-shape",
        ),
        pytest.param(G, "slow", {"latency_ms": 1200}, "sk-test", Outcome.SLOW, 200, id="slow"),
        pytest.param(G, "timeout", {"hold_s": 5}, "sk-test", Outcome.TIMEOUT, None, id="timeout"),
        pytest.param(G, "paused", {}, "sk-test", Outcome.OK, 200, id="paused-has-no-google-form"),
    ],
)
async def test_light_probe_reads_each_failure(
    tmp_path: Path,
    mode: Mode,
    fault: str,
    params: dict[str, Any],
    key: str,
    outcome: Outcome,
    status: int | None,
) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        sim.set_fault(cid(mode), fault, **params)
        result = await adapter(sim, client, mode, key=key).light_check()
    assert result.verdict.outcome is outcome, result.verdict.detail
    assert result.http_status == status
    assert key not in result.verdict.detail
    assert all(key not in ex.url for ex in result.exchanges)


@pytest.mark.parametrize(
    ("fault", "outcome", "retry_after_s"),
    [
        pytest.param("rate_limited", Outcome.RATE_LIMITED, 19.0, id="per-minute-waits-19s"),
        pytest.param("quota_exhausted", Outcome.QUOTA_EXHAUSTED, 19.0, id="per-day-despite-19s"),
    ],
)
async def test_resource_exhausted_carries_retry_info(
    tmp_path: Path, fault: str, outcome: Outcome, retry_after_s: float
) -> None:
    """Both 429s say ``retryDelay: 19s``; only the quota id tells a daily quota apart."""
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        sim.set_fault("gem", fault, routes=["create"])
        probe = adapter(sim, client, G)
        assert (await probe.light_check()).verdict.outcome is Outcome.OK
        created = await probe.create(VideoRequest(prompt="a cat", model=GEMINI_MODEL))
    assert created.verdict.outcome is outcome
    assert created.verdict.retry_after_s == retry_after_s
    assert created.verdict.error_type == "RESOURCE_EXHAUSTED"
    assert created.job is None


@pytest.mark.parametrize(
    ("mode", "model", "outcome"),
    [
        pytest.param(G, "veo-9-imaginary", Outcome.RETIRED, id="gemini-not-found-for-api-version"),
        pytest.param(V, "veo-9-imaginary", Outcome.RETIRED, id="vertex-publisher-model-not-found"),
    ],
)
async def test_unknown_model_is_retired(
    tmp_path: Path, mode: Mode, model: str, outcome: Outcome
) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        probe = adapter(sim, client, mode, model=model)
        checked = await probe.light_check()
        created = await probe.create(VideoRequest(prompt="a cat", model=model))
    assert checked.verdict.outcome is outcome, checked.verdict.detail
    assert created.verdict.outcome is outcome, created.verdict.detail
    assert checked.http_status == 404


@pytest.mark.parametrize(
    ("mode", "request_", "outcome", "status"),
    [
        pytest.param(
            G,
            VideoRequest(prompt="a cat", model=GEMINI_MODEL, seconds=5),
            Outcome.REJECTED,
            400,
            id="duration-5s",
        ),
        pytest.param(
            G,
            VideoRequest(prompt="a cat", model=GEMINI_MODEL, extra={"generateAudio": True}),
            Outcome.REJECTED,
            400,
            id="vertex-only-parameter-on-gemini",
        ),
        pytest.param(
            V,
            VideoRequest(prompt="a cat", model=VERTEX_MODEL, seconds=4, size="1920x1080"),
            Outcome.REJECTED,
            400,
            id="1080p-needs-8s",
        ),
        pytest.param(
            V,
            VideoRequest(prompt="a cat", model=VERTEX_MODEL, extra={"generateAudio": False}),
            Outcome.OK,
            200,
            id="vertex-takes-generate-audio",
        ),
    ],
)
async def test_create_validation(
    tmp_path: Path, mode: Mode, request_: VideoRequest, outcome: Outcome, status: int
) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        created = await adapter(sim, client, mode).create(request_)
    assert created.verdict.outcome is outcome, created.verdict.detail
    assert created.exchange.status == status


async def test_light_probe_is_one_free_get(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        gem = await adapter(sim, client, G).light_check()
        vx = await adapter(sim, client, V).light_check()
        stats = sim.stats()
    assert [ex.method for ex in (*gem.exchanges, *vx.exchanges)] == ["GET", "GET"]
    assert gem.exchanges[0].url.endswith(f"/v1beta/models/{GEMINI_MODEL}")
    assert vx.exchanges[0].url.endswith(f"/v1/publishers/google/models/{VERTEX_MODEL}")
    assert stats.jobs_created == 0


async def test_sunset_header_is_a_warning(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        sim.set_fault("gem", "sunset", date="2099-10-22")
        result = await adapter(sim, client, G).light_check()
    assert result.verdict.outcome is Outcome.OK
    assert result.verdict.sunset == datetime(2099, 10, 22, tzinfo=UTC)


async def _until_done(probe: GeminiVeo, job_id: str) -> Any:
    for _ in range(60):
        got = await probe.retrieve(job_id)
        assert got.job is not None, got.verdict.detail
        if got.job.state in (JobState.COMPLETED, JobState.FAILED):
            return got
        assert got.job.state is JobState.IN_PROGRESS
        await asyncio.sleep(0.03)
    raise AssertionError("the operation never finished")


async def _read(chunks: AsyncIterator[bytes] | None) -> bytes:
    assert chunks is not None
    return b"".join([c async for c in chunks])


@pytest.mark.parametrize("mode", [pytest.param(G, id="gemini"), pytest.param(V, id="vertex")])
async def test_create_poll_download_round_trip(tmp_path: Path, mode: Mode) -> None:
    model = VERTEX_MODEL if mode is Mode.VERTEX else GEMINI_MODEL
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        probe = adapter(sim, client, mode)
        created = await probe.create(VideoRequest(prompt="a cat", model=model, seconds=8))
        assert created.verdict.outcome is Outcome.OK
        assert created.job is not None
        assert created.job.state is JobState.IN_PROGRESS
        assert created.job.model == model
        prefix = f"{PARENT}/publishers/google/" if mode is Mode.VERTEX else ""
        assert created.job.id.startswith(f"{prefix}models/{model}/operations/")
        done = await _until_done(probe, created.job.id)
        assert done.verdict.outcome is Outcome.OK
        assert done.job.progress == 100
        download = await probe.download(created.job.id)
        data = await _read(download.chunks)
    assert download.verdict.outcome is Outcome.OK
    assert download.content_type == "video/mp4"
    assert data[4:8] == b"ftyp"
    assert len(data) > 8000  # an 8 s clip of the simulator's fake MP4
    # Inline base64 never stays in what the adapter hands on.
    assert "base64 chars" in json.dumps(done.job.raw) or mode is Mode.GEMINI
    assert len(done.exchange.body) < 2000


async def test_gemini_download_follows_the_redirect_to_signed_storage(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        probe = adapter(sim, client, G)
        created = await probe.create(VideoRequest(prompt="a cat", model=GEMINI_MODEL))
        assert created.job is not None
        await _until_done(probe, created.job.id)
        download = await probe.download(created.job.id)
        await _read(download.chunks)
        status_302 = sim.stats().by_status.get(302, 0)
    assert status_302 == 1
    assert "/blobs/" in download.exchange.url


@pytest.mark.parametrize("mode", [pytest.param(G, id="gemini"), pytest.param(V, id="vertex")])
async def test_safety_block_is_rejected_not_a_channel_fault(tmp_path: Path, mode: Mode) -> None:
    model = VERTEX_MODEL if mode is Mode.VERTEX else GEMINI_MODEL
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        sim.set_fault(cid(mode), "moderation")
        probe = adapter(sim, client, mode)
        created = await probe.create(VideoRequest(prompt="something unsafe", model=model))
        assert created.verdict.outcome is Outcome.OK  # accepted: the filter runs on the output
        assert created.job is not None
        done = await _until_done(probe, created.job.id)
        download = await probe.download(created.job.id)
    assert done.job.state is JobState.FAILED
    assert done.job.error_code == RAI_FILTERED
    assert done.verdict.outcome is Outcome.REJECTED
    assert not done.verdict.outcome.fails_over
    body = json.loads(done.exchange.body)
    counts = body["response"] if mode is Mode.VERTEX else body["response"]["generateVideoResponse"]
    assert counts["raiMediaFilteredCount"] > 0
    assert "error" not in body
    assert download.verdict.outcome is Outcome.REJECTED
    assert download.chunks is None


async def test_failed_job_is_job_failed(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        sim.set_fault("vx", "job_failures", rate=1.0)
        probe = adapter(sim, client, V)
        created = await probe.create(VideoRequest(prompt="a dog", model=VERTEX_MODEL))
        assert created.job is not None
        done = await _until_done(probe, created.job.id)
    assert done.job.state is JobState.FAILED
    assert done.job.error_code == "INTERNAL"
    assert done.verdict.outcome is Outcome.JOB_FAILED


async def test_storage_uri_gives_a_gcs_location(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        probe = adapter(sim, client, V)
        request = VideoRequest(
            prompt="a cat", model=VERTEX_MODEL, seconds=8, extra={"storageUri": "gs://b/out"}
        )
        created = await probe.create(request)
        assert created.job is not None
        done = await _until_done(probe, created.job.id)
    video = done.job.raw["response"]["videos"][0]
    assert video["gcsUri"].startswith("gs://b/out/")
    url = gcs_download_url(video["gcsUri"])
    assert url is not None
    assert url.startswith("https://storage.googleapis.com/download/storage/v1/b/b/o/out%2F")


async def test_simulator_takes_the_key_as_a_query_parameter_too(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        url = f"{base_url(sim, G)}/models/{GEMINI_MODEL}"
        with_key = await client.get(url, params={"key": "AIza-sim"})
        bad_key = await client.get(url, params={"key": "sk-bad"})
        no_key = await client.get(url)
    assert with_key.status_code == 200
    assert (bad_key.status_code, bad_key.json()["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert (no_key.status_code, no_key.json()["error"]["status"]) == (403, "PERMISSION_DENIED")


async def test_unknown_operation_is_not_a_job(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        got = await adapter(sim, client, G).retrieve(f"models/{GEMINI_MODEL}/operations/zzzz")
    assert got.job is None
    assert got.exchange.status == 404
    assert got.verdict.outcome is Outcome.BAD_RESPONSE


# --- the key never leaves the channel's origin -------------------------------------------------


@asynccontextmanager
async def _two_origins(seen: list[httpx.Request]) -> AsyncIterator[httpx.AsyncClient]:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.test" and "operations" in request.url.path:
            uri = "https://api.test/v1beta/files/abc0:download?alt=media"
            doc = {
                "name": "models/m/operations/abc",
                "done": True,
                "response": {
                    "generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]}
                },
            }
            return httpx.Response(200, json=doc)
        if request.url.host == "api.test":
            return httpx.Response(302, headers={"location": "https://blob.test/v/abc0?sig=1"})
        return httpx.Response(
            200, content=b"\x00\x00\x00\x18ftypisom", headers={"content-type": "video/mp4"}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        yield client


async def test_key_is_not_sent_to_another_origin_on_redirect() -> None:
    seen: list[httpx.Request] = []
    text = """
storage: {url: "memory://"}
channels:
  - {id: veo, name: Veo, model: m, access: official, protocol: gemini-veo,
     base_url: "https://api.test/v1beta", api_key: "AIza-secret"}
"""
    async with _two_origins(seen) as client:
        probe = GeminiVeo(parse_config(text, env={}).channels[0], client)
        download = await probe.download("models/m/operations/abc")
        data = await _read(download.chunks)
    assert data.startswith(b"\x00\x00\x00\x18ftyp")
    hosts = [(r.url.host, r.headers.get("x-goog-api-key")) for r in seen]
    assert hosts == [
        ("api.test", "AIza-secret"),
        ("api.test", "AIza-secret"),
        ("blob.test", None),
    ]


# --- pure pieces -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "mode", "probe"),
    [
        pytest.param(
            "https://generativelanguage.googleapis.com/v1beta",
            Mode.GEMINI,
            "https://generativelanguage.googleapis.com/v1beta/models/m",
            id="gemini",
        ),
        pytest.param(
            "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/",
            Mode.VERTEX,
            "https://us-central1-aiplatform.googleapis.com/v1/publishers/google/models/m",
            id="vertex",
        ),
        pytest.param(
            "http://127.0.0.1:9/ch/x/v1/projects/p/locations/l",
            Mode.VERTEX,
            "http://127.0.0.1:9/ch/x/v1/publishers/google/models/m",
            id="vertex-by-path-shape",
        ),
    ],
)
def test_mode_and_probe_url_from_base_url(base: str, mode: Mode, probe: str) -> None:
    urls = endpoints(base)
    assert urls.mode is mode
    assert urls.probe("m") == probe


def test_vertex_without_project_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="projects/PROJECT/locations/LOCATION"):
        endpoints("https://aiplatform.googleapis.com/v1")


_TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)


@given(project=_TOKEN, location=_TOKEN, model=_TOKEN)
def test_adapter_urls_are_the_routes_the_simulator_serves(
    project: str, location: str, model: str
) -> None:
    root = "http://sim.test/ch/vx/v1"
    urls = endpoints(f"{root}/projects/{project}/locations/{location}")
    op = f"projects/{project}/locations/{location}/publishers/google/models/{model}/operations/x"
    for url, method, route in (
        (urls.create(model), "POST", "create"),
        (urls.operation(op), "POST", "operation"),
        (urls.probe(model), "GET", "models"),
    ):
        target = parse_target(method, url.removeprefix(root))
        assert target is not None
        assert (target.route, target.model, target.vertex) == (route, model, True)


@pytest.mark.parametrize(
    ("size", "shape"),
    [
        pytest.param("1280x720", {"aspectRatio": "16:9", "resolution": "720p"}, id="720p-wide"),
        pytest.param("1080x1920", {"aspectRatio": "9:16", "resolution": "1080p"}, id="1080p-tall"),
        pytest.param("3840x2160", {"aspectRatio": "16:9", "resolution": "4k"}, id="4k"),
        pytest.param("1024x1024", {}, id="square-left-to-defaults"),
        pytest.param("big", {}, id="not-a-size"),
    ],
)
def test_video_shape(size: str, shape: dict[str, str]) -> None:
    assert video_shape(size) == shape


@pytest.mark.parametrize(
    ("doc", "state", "outcome"),
    [
        pytest.param({"name": "models/m/operations/a"}, JobState.IN_PROGRESS, None, id="running"),
        pytest.param(
            {"name": "models/m/operations/a", "done": True, "error": {"code": 3, "message": "x"}},
            JobState.FAILED,
            Outcome.REJECTED,
            id="prompt-refused-invalid-argument",
        ),
        pytest.param(
            {"name": "models/m/operations/a", "done": True, "error": {"code": 13}},
            JobState.FAILED,
            Outcome.JOB_FAILED,
            id="internal",
        ),
        pytest.param(
            {"name": "models/m/operations/a", "done": True, "response": {}},
            JobState.FAILED,
            Outcome.JOB_FAILED,
            id="done-without-videos",
        ),
        pytest.param(
            {
                "name": "models/m/operations/a",
                "done": True,
                "response": {
                    "generateVideoResponse": {
                        "generatedSamples": [{"video": {"encodedVideo": "AAAA"}}]
                    }
                },
            },
            JobState.COMPLETED,
            None,
            id="inline-sample",
        ),
    ],
)
def test_parse_operation(doc: dict[str, Any], state: JobState, outcome: Outcome | None) -> None:
    job = parse_operation(doc, Mode.GEMINI)
    assert job is not None
    assert job.state is state
    assert job.model == "m"
    if outcome is not None:
        assert job_outcome(job) is outcome


def test_vertex_inline_operation_is_completed() -> None:
    data = b"\x00\x00\x00\x18ftypisom"
    doc = {
        "name": "projects/p/locations/l/publishers/google/models/m/operations/u",
        "done": True,
        "response": {"videos": [{"bytesBase64Encoded": base64.b64encode(data).decode()}]},
    }
    job = parse_operation(doc, Mode.VERTEX)
    assert job is not None
    assert job.state is JobState.COMPLETED
    assert job.model == "m"
