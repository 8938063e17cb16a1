"""The real ``google-genai`` SDK against the simulator's ``gemini-veo`` protocol.

The SDK is synchronous; it runs in a worker thread so that the simulator keeps serving on the
test's event loop. Since google-genai 3.x, ``generate_videos`` refuses the Gemini Developer
API (Veo left it on 2026-10-22) and only speaks Vertex AI; so the Gemini API's create is sent
as the 2.x SDK sent it, and the SDK polls, reads and downloads the operation itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import google.oauth2.credentials
import httpx
import pytest
from google import genai
from google.genai import errors, types
from tests.helpers import running_sim

from sorawatch.simulator import Simulator

GEMINI_MODEL = "veo-3.1-generate-preview"
VERTEX_MODEL = "veo-3.1-generate-001"
SCENARIO = f"""
name: gemini-sdk
channels:
  gem: {{protocol: gemini-veo, models: [{GEMINI_MODEL}], latency_ms: 1, queue_s: 0.1,
         generate_s: 0.2}}
  vx: {{protocol: gemini-veo, models: [{VERTEX_MODEL}], latency_ms: 1, queue_s: 0.1,
        generate_s: 0.2}}
"""
T = TypeVar("T")


def root(sim: Simulator, cid: str) -> str:
    """The channel's root, the SDK's ``base_url`` (it appends ``/v1beta`` or ``/v1``)."""
    return sim.base_url(cid).removesuffix("/v1")


def gemini_client(sim: Simulator, key: str = "AIza-sim-key") -> genai.Client:
    options = types.HttpOptions(base_url=root(sim, "gem"), api_version="v1beta")
    return genai.Client(api_key=key, http_options=options)


def vertex_client(sim: Simulator, token: str = "ya29.sim-token") -> genai.Client:
    return genai.Client(
        vertexai=True,
        project="sim-proj",
        location="us-central1",
        credentials=google.oauth2.credentials.Credentials(token=token),
        http_options=types.HttpOptions(base_url=root(sim, "vx"), api_version="v1"),
    )


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.to_thread(fn, *args)


def poll(client: genai.Client, op: types.GenerateVideosOperation) -> types.GenerateVideosOperation:
    deadline = time.monotonic() + 10
    while not op.done:
        assert time.monotonic() < deadline, "the operation never finished"
        time.sleep(0.05)
        op = client.operations.get(op)
    return op


def gemini_round_trip(sim: Simulator) -> tuple[types.GenerateVideosOperation, bytes]:
    # The create as google-genai 2.x sent it in Gemini API mode (same JSON as Vertex).
    created = httpx.post(
        f"{root(sim, 'gem')}/v1beta/models/{GEMINI_MODEL}:predictLongRunning",
        headers={"x-goog-api-key": "AIza-sim-key"},
        json={"instances": [{"prompt": "a cat"}], "parameters": {"sampleCount": 1}},
    )
    client = gemini_client(sim)
    op = poll(client, types.GenerateVideosOperation(name=created.json()["name"]))
    assert op.result is not None
    assert op.result.generated_videos
    video = op.result.generated_videos[0].video
    assert video is not None
    assert video.uri is not None
    file_id = video.uri.split("/files/")[1].split(":")[0]
    return op, client.files.download(file=f"files/{file_id}")


async def test_gemini_api_operation_read_and_downloaded_by_the_sdk(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim:
        op, data = await in_thread(gemini_round_trip, sim)
    assert op.name is not None
    assert op.name.startswith(f"models/{GEMINI_MODEL}/operations/")
    assert op.error is None
    assert data[4:8] == b"ftyp"


def vertex_round_trip(sim: Simulator) -> types.GenerateVideosOperation:
    client = vertex_client(sim)
    op = client.models.generate_videos(
        model=VERTEX_MODEL,
        source=types.GenerateVideosSource(prompt="a cat"),
        config=types.GenerateVideosConfig(
            number_of_videos=2,
            duration_seconds=8,
            aspect_ratio="16:9",
            resolution="720p",
            generate_audio=False,
        ),
    )
    return poll(client, op)


async def test_vertex_generate_videos_round_trip(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim:
        op = await in_thread(vertex_round_trip, sim)
    assert op.name is not None
    assert op.name.startswith("projects/sim-proj/locations/us-central1/publishers/google/models/")
    assert op.result is not None
    videos = op.result.generated_videos or []
    assert len(videos) == 2
    assert all(
        v.video and v.video.video_bytes and v.video.video_bytes[4:8] == b"ftyp" for v in videos
    )
    assert videos[0].video is not None
    assert videos[0].video.mime_type == "video/mp4"


def safety_blocked(sim: Simulator) -> types.GenerateVideosOperation:
    sim.set_fault("vx", "moderation")
    client = vertex_client(sim)
    op = client.models.generate_videos(
        model=VERTEX_MODEL, source=types.GenerateVideosSource(prompt="something unsafe")
    )
    return poll(client, op)


async def test_safety_block_as_the_sdk_sees_it(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim:
        op = await in_thread(safety_blocked, sim)
    assert op.error is None
    assert op.result is not None
    assert not op.result.generated_videos
    assert op.result.rai_media_filtered_count == 1
    assert op.result.rai_media_filtered_reasons


def model_get_error(sim: Simulator, key: str) -> errors.APIError:
    client = gemini_client(sim, key)  # held: a dropped Client closes its connection pool
    with pytest.raises(errors.APIError) as caught:
        client.models.get(model=GEMINI_MODEL)
    return caught.value


def vertex_create_error(sim: Simulator, token: str) -> errors.APIError:
    client = vertex_client(sim, token)
    with pytest.raises(errors.APIError) as caught:
        client.models.generate_videos(
            model=VERTEX_MODEL, source=types.GenerateVideosSource(prompt="a cat")
        )
    return caught.value


@pytest.mark.parametrize(
    ("cid", "fault", "key", "kind", "code", "status"),
    [
        pytest.param("gem", None, "sk-bad", errors.ClientError, 400, "INVALID_ARGUMENT", id="key"),
        pytest.param(
            "gem", None, "sk-leaked", errors.ClientError, 403, "PERMISSION_DENIED", id="leak"
        ),
        pytest.param(
            "gem", "rate_limited", "AIza", errors.ClientError, 429, "RESOURCE_EXHAUSTED", id="429"
        ),
        pytest.param(
            "gem",
            "quota_exhausted",
            "AIza",
            errors.ClientError,
            429,
            "RESOURCE_EXHAUSTED",
            id="day",
        ),
        pytest.param("gem", "retired", "AIza", errors.ClientError, 404, "NOT_FOUND", id="retired"),
        pytest.param("gem", "overloaded", "AIza", errors.ServerError, 503, "UNAVAILABLE", id="503"),
        pytest.param("vx", None, "sk-bad", errors.ClientError, 401, "UNAUTHENTICATED", id="token"),
        pytest.param(
            "vx", "auth_failed", "ya29", errors.ClientError, 403, "PERMISSION_DENIED", id="iam"
        ),
        pytest.param("vx", "server_error", "ya29", errors.ServerError, 500, "INTERNAL", id="500"),
    ],
)
async def test_errors_surface_as_the_sdk_types(
    tmp_path: Path,
    cid: str,
    fault: str | None,
    key: str,
    kind: type[errors.APIError],
    code: int,
    status: str,
) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim:
        if fault:
            sim.set_fault(cid, fault)
        call = model_get_error if cid == "gem" else vertex_create_error
        error = await in_thread(call, sim, key)
    assert type(error) is kind
    assert (error.code, error.status) == (code, status)
    assert error.message


async def test_resource_exhausted_details_reach_the_sdk(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim:
        sim.set_fault("gem", "quota_exhausted")
        error = await in_thread(model_get_error, sim, "AIza")
    details = error.details["error"]["details"]
    kinds = {d["@type"].rpartition(".")[2] for d in details}
    assert {"QuotaFailure", "RetryInfo"} <= kinds
    quota_ids = [v["quotaId"] for d in details for v in d.get("violations", ())]
    assert any("PerDay" in q for q in quota_ids)
