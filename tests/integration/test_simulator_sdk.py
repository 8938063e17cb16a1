"""The official ``openai`` SDK against the simulator: what a real client sees.

SDK v3 marks every video method deprecated (the Sora API shut down on 2026-09-24); the warning
is silenced here only, for exactly that message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
import pytest_asyncio

from sorawatch.simulator import Simulator, parse_scenario

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("ignore:The Sora API is scheduled:DeprecationWarning"),
]

# Real clock, tiny job timings: the SDK's poll() sleeps for real, as told by openai-poll-after-ms.
SCENARIO = """
name: sdk
channels:
  ch:
    models: [sora-2, sora-2-pro]
    queue_s: 0.05
    generate_s: 0.2
    poll_after_ms: 20
  doomed:
    models: [sora-2]
    queue_s: 0.02
    generate_s: 0.05
    poll_after_ms: 10
    job_failure_rate: 1.0
"""


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(parse_scenario(SCENARIO), seed=11)
    async with simulator.serve():
        yield simulator


@pytest.fixture(autouse=True)
def _clean(sim: Simulator) -> None:
    sim.set_fault("ch", None)


def _client(sim: Simulator, channel: str = "ch", key: str = "sk-test") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=key, base_url=sim.base_url(channel), max_retries=0)


async def test_create_poll_download(sim: Simulator) -> None:
    async with _client(sim) as client:
        video = await client.videos.create(prompt="a red kite", model="sora-2-pro", seconds="8")
        assert (video.status, video.progress, video.seconds) == ("queued", 0, "8")
        done = await client.videos.poll(video.id)
        assert done.status == "completed"
        assert done.progress == 100
        assert done.completed_at is not None and done.expires_at is not None
        content = await client.videos.download_content(video.id)
        data = content.read()
        assert data[4:8] == b"ftyp"
        thumb = await client.videos.download_content(video.id, variant="thumbnail")
        assert thumb.read()[:4] == b"RIFF"
        listed = [v.id async for v in client.videos.list(limit=1)]
        assert video.id in listed
        deleted = await client.videos.delete(video.id)
        assert deleted.deleted is True


async def test_failed_job_comes_back_from_poll(sim: Simulator) -> None:
    async with _client(sim, "doomed") as client:
        video = await client.videos.create(prompt="x")
        done = await client.videos.poll(video.id)
        assert done.status == "failed"
        assert done.error is not None and done.error.code == "video_generation_failed"


@pytest.mark.parametrize(
    ("fault", "params", "exc_type", "code"),
    [
        pytest.param("rate_limited", {}, openai.RateLimitError, "rate_limit_exceeded", id="rate"),
        pytest.param(
            "quota_exhausted", {}, openai.RateLimitError, "insufficient_quota", id="quota"
        ),
        pytest.param("cloudflare", {}, openai.PermissionDeniedError, None, id="cloudflare"),
        pytest.param(
            "overloaded", {}, openai.InternalServerError, "server_is_overloaded", id="overloaded"
        ),
        pytest.param("auth_failed", {}, openai.AuthenticationError, "invalid_api_key", id="auth"),
        pytest.param("retired", {}, openai.NotFoundError, "model_not_found", id="retired"),
        pytest.param("sentinel_block", {}, openai.BadRequestError, "sentinel_block", id="sentinel"),
    ],
)
async def test_sdk_exception_for_fault(
    sim: Simulator,
    fault: str,
    params: dict[str, object],
    exc_type: type[openai.APIStatusError],
    code: str | None,
) -> None:
    sim.set_fault("ch", fault, **params)
    async with _client(sim) as client:
        with pytest.raises(exc_type) as caught:
            await client.videos.create(prompt="p")
    assert type(caught.value) is exc_type
    assert caught.value.code == code
    if fault == "cloudflare":
        assert "<title>Just a moment...</title>" in caught.value.response.text
        assert caught.value.response.headers["cf-mitigated"] == "challenge"


async def test_sdk_rejects_integer_seconds_like_the_real_api(sim: Simulator) -> None:
    async with _client(sim) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.videos.create(
                prompt="p",
                extra_body={"seconds": 8},
                extra_headers={"Content-Type": "application/json"},
            )
    assert caught.value.code == "invalid_type"
    assert caught.value.param == "seconds"


async def test_bad_key_is_authentication_error(sim: Simulator) -> None:
    async with _client(sim, key="sk-bad") as client:
        with pytest.raises(openai.AuthenticationError) as caught:
            await client.videos.retrieve("video_x")
    assert caught.value.code == "invalid_api_key"
