"""The openai-images adapter against the simulator, and the real ``openai`` SDK against the
simulator's Image API: every failure signature read through the real code."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import openai
import pytest
import pytest_asyncio

from sorawatch.app import make_client
from sorawatch.config import parse_config
from sorawatch.domain.outcome import Outcome
from sorawatch.providers.base import JobState, VideoRequest
from sorawatch.providers.openai_images import OpenAIImages
from sorawatch.simulator import Simulator, parse_scenario

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCENARIO = """
name: images-test
channels:
  img: {protocol: openai-images, models: [gpt-image-2, dall-e-3], latency_ms: 1}
  old: {protocol: openai-images, models: [gpt-image-1], latency_ms: 1, shutdown_date: 2026-10-23}
  soon: {protocol: openai-images, models: [gpt-image-2], latency_ms: 1, shutdown_date: 2099-01-31}
"""


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(parse_scenario(SCENARIO), seed=5)
    async with simulator.serve():
        yield simulator


@pytest_asyncio.fixture(loop_scope="module")
async def client(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    for cid in sim.channels:
        sim.set_fault(cid, None)
    async with make_client() as http:
        yield http


def channel_config(
    base_url: str, *, model: str = "gpt-image-2", key: str = "sk-test", timeout: str = "2s"
) -> Any:
    text = f"""
storage: {{url: "memory://"}}
channels:
  - id: images
    name: Images
    model: {model}
    access: official
    protocol: openai-images
    base_url: "{base_url}"
    api_key: "{key}"
    price: {{per_call: 0.04}}
    probes: {{light: {{every: 60s, timeout: {timeout}}}}}
    thresholds: {{slow_ms: 1000}}
"""
    return parse_config(text, env={}).channels[0]


def adapter(
    sim: Simulator,
    client: httpx.AsyncClient,
    cid: str = "img",
    *,
    model: str = "gpt-image-2",
    key: str = "sk-test",
) -> OpenAIImages:
    return OpenAIImages(channel_config(sim.base_url(cid), model=model, key=key), client)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- light probe ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "params", "outcome", "status"),
    [
        pytest.param("ok", {}, Outcome.OK, 200, id="ok"),
        pytest.param("slow", {"latency_ms": 1200}, Outcome.SLOW, 200, id="slow"),
        pytest.param("rate_limited", {}, Outcome.RATE_LIMITED, 429, id="rate-limit-exceeded"),
        pytest.param("quota_exhausted", {}, Outcome.QUOTA_EXHAUSTED, 429, id="insufficient-quota"),
        pytest.param(
            "quota_exhausted",
            {"code": "credit_balance_exhausted"},
            Outcome.QUOTA_EXHAUSTED,
            429,
            id="credit-balance-exhausted",
        ),
        pytest.param("cloudflare", {}, Outcome.RISK_CONTROL, 403, id="cloudflare-403"),
        pytest.param("cloudflare", {"status": 429}, Outcome.RISK_CONTROL, 429, id="cloudflare-429"),
        pytest.param("overloaded", {}, Outcome.OVERLOADED, 503, id="server-is-overloaded"),
        pytest.param("server_error", {}, Outcome.SERVER_ERROR, 500, id="server-error"),
        pytest.param("auth_failed", {}, Outcome.AUTH_FAILED, 401, id="invalid-api-key"),
        pytest.param("paused", {}, Outcome.PAUSED, 503, id="paused"),
        pytest.param("retired", {}, Outcome.RETIRED, 404, id="model-not-found"),
        pytest.param("gone", {}, Outcome.RETIRED, 410, id="gone"),
        pytest.param("no_tokens", {}, Outcome.RISK_CONTROL, 200, id="no-tokens-in-200"),
        pytest.param("malformed", {}, Outcome.BAD_RESPONSE, 200, id="truncated"),
        pytest.param("moderation", {}, Outcome.OK, 200, id="moderation-spares-models-route"),
        pytest.param("timeout", {"hold_s": 5}, Outcome.TIMEOUT, None, id="timeout"),
    ],
)
async def test_light_probe_reads_each_fault(
    sim: Simulator,
    client: httpx.AsyncClient,
    fault: str,
    params: dict[str, Any],
    outcome: Outcome,
    status: int | None,
) -> None:
    sim.set_fault("img", fault, **params)
    result = await adapter(sim, client).light_check()
    assert result.verdict.outcome is outcome, result.verdict.detail
    assert result.http_status == status
    assert "sk-test" not in result.verdict.detail


async def test_light_probe_is_one_free_get(sim: Simulator, client: httpx.AsyncClient) -> None:
    before = sim.stats().jobs_created
    result = await adapter(sim, client).light_check()
    assert [(ex.method, ex.url.rsplit("/v1", 1)[1]) for ex in result.exchanges] == [
        ("GET", "/models/gpt-image-2")
    ]
    assert sim.stats().jobs_created == before


async def test_unknown_model_is_retired(sim: Simulator, client: httpx.AsyncClient) -> None:
    result = await adapter(sim, client, model="gpt-image-9").light_check()
    assert result.verdict.outcome is Outcome.RETIRED
    assert result.verdict.error_code == "model_not_found"


async def test_shutdown_date_warns_then_retires(sim: Simulator, client: httpx.AsyncClient) -> None:
    soon = await adapter(sim, client, "soon").light_check()
    past = await adapter(sim, client, "old", model="gpt-image-1").light_check()
    assert soon.verdict.outcome is Outcome.OK
    assert soon.verdict.sunset == datetime(2099, 1, 31, tzinfo=UTC)
    assert "shutdown_date 2099-01-31" in soon.verdict.detail
    assert past.verdict.outcome is Outcome.RETIRED
    assert past.verdict.sunset == datetime(2026, 10, 23, tzinfo=UTC)


# --- generation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "params", "outcome", "status", "code"),
    [
        pytest.param(
            "moderation", {}, Outcome.REJECTED, 400, "moderation_blocked", id="moderation"
        ),
        pytest.param("rate_limited", {}, Outcome.RATE_LIMITED, 429, "rate_limit_exceeded", id="rl"),
        pytest.param(
            "quota_exhausted", {}, Outcome.QUOTA_EXHAUSTED, 429, "insufficient_quota", id="quota"
        ),
        pytest.param("overloaded", {}, Outcome.OVERLOADED, 503, "server_is_overloaded", id="503"),
        pytest.param("paused", {}, Outcome.PAUSED, 503, "channel_paused", id="paused"),
        pytest.param("retired", {}, Outcome.RETIRED, 404, "model_not_found", id="retired"),
        pytest.param("auth_failed", {}, Outcome.AUTH_FAILED, 401, "invalid_api_key", id="auth"),
        pytest.param("sentinel_block", {}, Outcome.RISK_CONTROL, 400, "sentinel_block", id="pow"),
        pytest.param("risk_control_cn", {}, Outcome.RISK_CONTROL, 200, "4013", id="jimeng-4013"),
        pytest.param("cloudflare", {"status": 503}, Outcome.RISK_CONTROL, 503, None, id="cf-503"),
        pytest.param("malformed", {}, Outcome.BAD_RESPONSE, 200, None, id="truncated"),
        pytest.param(
            "malformed", {"mode": "wrong_shape"}, Outcome.BAD_RESPONSE, 200, None, id="no-image"
        ),
    ],
)
async def test_generation_reads_each_fault(
    sim: Simulator,
    client: httpx.AsyncClient,
    fault: str,
    params: dict[str, Any],
    outcome: Outcome,
    status: int,
    code: str | None,
) -> None:
    sim.set_fault("img", fault, **params)
    result = await adapter(sim, client).create(VideoRequest(prompt="a lighthouse", model=""))
    assert result.verdict.outcome is outcome, result.verdict.detail
    assert result.exchange.status == status
    assert result.verdict.error_code == code
    assert result.job is None


async def test_moderation_names_its_stage(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_fault("img", "moderation")
    result = await adapter(sim, client).create(VideoRequest(prompt="x", model=""))
    assert result.verdict.error_type == "image_generation_user_error"
    assert result.verdict.detail.startswith("400 moderation_blocked (")
    assert result.verdict.detail.endswith(("(input moderation)", "(output moderation)"))
    assert not result.verdict.outcome.fails_over


async def test_invalid_request_is_rejected(sim: Simulator, client: httpx.AsyncClient) -> None:
    request = VideoRequest(prompt="x", model="", extra={"size": "1000x1000"})
    result = await adapter(sim, client).create(request)
    assert result.verdict.outcome is Outcome.REJECTED
    assert result.verdict.error_code == "invalid_value"


async def test_generation_round_trip(sim: Simulator, client: httpx.AsyncClient) -> None:
    images = adapter(sim, client)
    before = sim.stats().jobs_created
    request = VideoRequest(
        prompt="a paper boat", model="", extra={"size": "1536x1024", "quality": "low"}
    )
    created = await images.create(request)
    assert created.verdict.outcome is Outcome.OK, created.verdict.detail
    job = created.job
    assert job is not None
    assert (job.state, job.progress, job.model, job.size) == (
        JobState.COMPLETED,
        100,
        "gpt-image-2",
        "1536x1024",
    )
    assert job.created_at is not None
    assert job.created_at.tzinfo is UTC
    raw_png = base64.b64decode(job.raw["data"][0]["b64_json"])
    assert png_size(raw_png) == (1536, 1024)
    assert job.raw["usage"]["output_tokens"] > 0
    assert sim.stats().jobs_created == before + 1
    # The answer kept for observation is the shape, not megabytes of base64.
    assert b"base64 chars>" in created.exchange.body
    assert len(created.exchange.body) < 1024

    again = await images.retrieve(job.id)
    assert again.verdict.outcome is Outcome.OK
    assert again.job == job
    download = await images.download(job.id)
    assert download.verdict.outcome is Outcome.OK
    assert download.content_type == "image/png"
    assert download.chunks is not None
    assert b"".join([c async for c in download.chunks]) == raw_png


async def test_url_images_download_from_the_upstream(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    images = adapter(sim, client)
    request = VideoRequest(
        prompt="a kite", model="dall-e-3", extra={"response_format": "url", "size": "1024x1024"}
    )
    created = await images.create(request)
    assert created.job is not None, created.verdict.detail
    assert "usage" not in created.job.raw
    download = await images.download(created.job.id)
    assert download.verdict.outcome is Outcome.OK
    assert download.content_type == "image/png"
    assert download.chunks is not None
    assert png_size(b"".join([c async for c in download.chunks])) == (1024, 1024)


async def test_unknown_job_is_the_callers_fault(sim: Simulator, client: httpx.AsyncClient) -> None:
    images = adapter(sim, client)
    got = await images.retrieve("img_nope")
    download = await images.download("img_nope")
    assert got.verdict.outcome is Outcome.REJECTED
    assert got.job is None
    assert download.verdict.outcome is Outcome.REJECTED
    assert download.chunks is None


async def test_key_is_never_sent_to_a_foreign_image_host() -> None:
    """A URL on another host (a signed blob URL) is fetched without our key."""
    seen: dict[str, str | None] = {}
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16

    def upstream(request: httpx.Request) -> httpx.Response:
        seen[request.url.host] = request.headers.get("authorization")
        if request.url.host == "api.example":
            body = {"created": 1, "data": [{"url": "https://blob.example/img.png?sig=abc"}]}
            return httpx.Response(200, json=body)
        return httpx.Response(200, content=png, headers={"content-type": "image/png"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as fake:
        images = OpenAIImages(channel_config("https://api.example/v1", key="sk-secret1"), fake)
        created = await images.create(VideoRequest(prompt="x", model=""))
        assert created.job is not None
        download = await images.download(created.job.id)
        assert download.chunks is not None
        assert b"".join([c async for c in download.chunks]) == png
    assert seen == {"api.example": "Bearer sk-secret1", "blob.example": None}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        pytest.param({"created": 1, "data": []}, "200 answer has no image data", id="empty-data"),
        pytest.param(
            {"created": 1, "data": [{"b64_json": "not base64!"}]},
            "200 image is not valid base64",
            id="bad-base64",
        ),
        pytest.param(
            {"created": 1, "data": [{"url": "ftp://x/y.png"}]},
            "200 image has neither b64_json nor url",
            id="not-an-http-url",
        ),
    ],
)
async def test_wrong_image_answers_are_bad_responses(body: dict[str, Any], detail: str) -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=json.dumps(body).encode())

    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as fake:
        images = OpenAIImages(channel_config("https://api.example/v1"), fake)
        result = await images.create(VideoRequest(prompt="x", model=""))
    assert (result.verdict.outcome, result.verdict.detail) == (Outcome.BAD_RESPONSE, detail)


# --- the real SDK -------------------------------------------------------------------------------


def sdk(sim: Simulator, key: str = "sk-test") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=key, base_url=sim.base_url("img"), max_retries=0)


async def test_sdk_generates_b64_and_url_images(sim: Simulator) -> None:
    async with sdk(sim) as api:
        made = await api.images.generate(
            model="gpt-image-2", prompt="a red kite", size="1024x1536", quality="low", n=2
        )
        assert made.data is not None
        assert len(made.data) == 2
        assert made.data[0].b64_json is not None
        assert png_size(base64.b64decode(made.data[0].b64_json)) == (1024, 1536)
        assert made.usage is not None
        assert made.usage.total_tokens == made.usage.input_tokens + made.usage.output_tokens
        assert (made.size, made.output_format, made.quality) == ("1024x1536", "png", "low")
        linked = await api.images.generate(
            model="dall-e-3", prompt="a red kite", response_format="url"
        )
        assert linked.data is not None
        assert linked.data[0].url is not None
        fetched = await api.get(linked.data[0].url, cast_to=httpx.Response)
        assert png_size(fetched.content) == (1024, 1024)
        model = await api.models.retrieve("gpt-image-2")
        assert model.id == "gpt-image-2"


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        pytest.param("moderation", openai.BadRequestError, "moderation_blocked", id="moderation"),
        pytest.param("rate_limited", openai.RateLimitError, "rate_limit_exceeded", id="429"),
        pytest.param("overloaded", openai.InternalServerError, "server_is_overloaded", id="503"),
        pytest.param("retired", openai.NotFoundError, "model_not_found", id="retired"),
    ],
)
async def test_sdk_sees_the_real_errors(
    sim: Simulator, fault: str, error: type[openai.APIStatusError], code: str
) -> None:
    sim.set_fault("img", fault)
    try:
        async with sdk(sim) as api:
            with pytest.raises(error) as caught:
                await api.images.generate(model="gpt-image-2", prompt="x")
    finally:
        sim.set_fault("img", None)
    assert caught.value.code == code


async def test_sdk_moderation_error_body(sim: Simulator) -> None:
    sim.set_fault("img", "moderation")
    try:
        async with sdk(sim) as api:
            with pytest.raises(openai.BadRequestError) as caught:
                await api.images.generate(model="gpt-image-2", prompt="x")
    finally:
        sim.set_fault("img", None)
    assert caught.value.type == "image_generation_user_error"
    assert caught.value.param is None
    assert "safety system" in caught.value.message
    response_body = caught.value.response.json()
    assert response_body["moderation_details"]["moderation_stage"] in ("input", "output")


async def test_sdk_bad_key(sim: Simulator) -> None:
    async with sdk(sim, key="sk-bad") as api:
        with pytest.raises(openai.AuthenticationError) as caught:
            await api.images.generate(model="gpt-image-2", prompt="x")
    assert caught.value.code == "invalid_api_key"
