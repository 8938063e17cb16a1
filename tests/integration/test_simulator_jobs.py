"""The openai-videos job lifecycle and request validation, under a fake clock."""

from __future__ import annotations

import re
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st

from sorawatch.simulator import Simulator, parse_scenario
from sorawatch.simulator.jobs import JobRecord
from sorawatch.simulator.wire import go_duration

SCENARIO = """
name: jobs
channels:
  ch:
    models: [sora-2, sora-2-pro]
    queue_s: 1
    generate_s: 4
    expires_s: 100
    poll_after_ms: 250
  doomed:
    models: [sora-2]
    queue_s: 1
    generate_s: 4
    job_failure_rate: 1.0
  retiring:
    models: [sora-2]
    shutdown_date: 2026-09-24
"""
AUTH = {"Authorization": "Bearer sk-test"}
EPOCH = 1_790_000_000.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Env:
    sim: Simulator
    clock: FakeClock
    client: httpx.AsyncClient

    async def create(self, channel: str = "ch", **body: Any) -> httpx.Response:
        return await self.client.post(f"/ch/{channel}/v1/videos", json={"prompt": "p", **body})

    async def get(self, path: str, channel: str = "ch", **params: Any) -> httpx.Response:
        return await self.client.get(f"/ch/{channel}/v1{path}", params=params)


@pytest_asyncio.fixture
async def env() -> AsyncIterator[Env]:
    clock = FakeClock()
    sim = Simulator(parse_scenario(SCENARIO), clock=clock, seed=3, epoch=EPOCH)
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim", headers=AUTH) as c:
        yield Env(sim, clock, c)


async def test_job_goes_queued_in_progress_completed(env: Env) -> None:
    env.clock.advance(10)
    created = (await env.create(seconds="8", size="1280x720")).json()
    assert re.fullmatch(r"video_[0-9a-f]{32}", created["id"])
    assert created == {
        "id": created["id"],
        "object": "video",
        "model": "sora-2",
        "status": "queued",
        "progress": 0,
        "created_at": int(EPOCH + 10),
        "completed_at": None,
        "expires_at": None,
        "prompt": "p",
        "remixed_from_video_id": None,
        "seconds": "8",
        "size": "1280x720",
        "error": None,
    }
    seen = []
    for _ in range(6):
        env.clock.advance(0.9)
        resp = await env.get(f"/videos/{created['id']}")
        assert resp.headers["openai-poll-after-ms"] == "250"
        seen.append((resp.json()["status"], resp.json()["progress"]))
    statuses = [s for s, _ in seen]
    assert statuses == [
        "queued",
        "in_progress",
        "in_progress",
        "in_progress",
        "in_progress",
        "completed",
    ]
    progress = [p for _, p in seen]
    assert progress == sorted(progress)
    assert 0 < progress[1] < progress[4] < 100 == progress[5]
    done = (await env.get(f"/videos/{created['id']}")).json()
    assert done["completed_at"] == int(EPOCH + 10 + 5)
    assert done["expires_at"] == done["completed_at"] + 100


async def test_failing_job_is_http_200_with_error(env: Env) -> None:
    created = (await env.create("doomed")).json()
    env.clock.advance(10)
    resp = await env.get(f"/videos/{created['id']}", "doomed")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "failed"
    assert set(body["error"]) == {"code", "message"}
    assert body["completed_at"] is None
    assert env.sim.stats().jobs_created == 1


async def test_job_failures_fault_fails_jobs_at_its_rate(env: Env) -> None:
    env.sim.set_fault("ch", "job_failures", rate=1.0)
    failing = (await env.create()).json()["id"]
    env.sim.set_fault("ch", None)
    fine = (await env.create()).json()["id"]
    env.clock.advance(10)
    assert (await env.get(f"/videos/{failing}")).json()["status"] == "failed"
    assert (await env.get(f"/videos/{fine}")).json()["status"] == "completed"


async def test_content_variants_after_completion(env: Env) -> None:
    video_id = (await env.create(seconds="4")).json()["id"]
    early = await env.get(f"/videos/{video_id}/content")
    assert early.status_code == 400
    assert early.json()["error"]["code"] == "video_not_ready"
    env.clock.advance(5)
    video = await env.get(f"/videos/{video_id}/content")
    assert video.headers["content-type"] == "video/mp4"
    size = struct.unpack(">I", video.content[:4])[0]
    assert video.content[4:8] == b"ftyp" and video.content[8:12] == b"isom"
    assert b"mdat" in video.content[size:]
    assert len(video.content) > 2048
    assert video.content == (await env.get(f"/videos/{video_id}/content")).content
    thumb = await env.get(f"/videos/{video_id}/content", variant="thumbnail")
    assert thumb.headers["content-type"] == "image/webp"
    assert thumb.content[:4] == b"RIFF" and thumb.content[8:12] == b"WEBP"
    sprite = await env.get(f"/videos/{video_id}/content", variant="spritesheet")
    assert sprite.headers["content-type"] == "image/png"
    assert sprite.content.startswith(b"\x89PNG\r\n\x1a\n")
    bad = await env.get(f"/videos/{video_id}/content", variant="poster")
    assert bad.json()["error"]["code"] == "invalid_value"
    env.clock.advance(100)
    expired = await env.get(f"/videos/{video_id}/content")
    assert expired.status_code == 404
    assert expired.json()["error"]["code"] == "video_expired"


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/videos/video_nope", id="retrieve"),
        pytest.param("/videos/video_nope/content", id="content"),
    ],
)
async def test_unknown_video_is_404(env: Env, path: str) -> None:
    resp = await env.get(path)
    assert resp.status_code == 404
    assert resp.json()["error"]["type"] == "invalid_request_error"


async def test_list_pages_with_cursor(env: Env) -> None:
    ids = []
    for _ in range(5):
        ids.append((await env.create()).json()["id"])
        env.clock.advance(1)
    first = (await env.get("/videos", limit=2, order="asc")).json()
    assert first["object"] == "list"
    assert [v["id"] for v in first["data"]] == ids[:2]
    assert (first["first_id"], first["last_id"], first["has_more"]) == (ids[0], ids[1], True)
    rest = (await env.get("/videos", limit=10, order="asc", after=first["last_id"])).json()
    assert [v["id"] for v in rest["data"]] == ids[2:]
    assert rest["has_more"] is False
    newest = (await env.get("/videos", limit=1)).json()
    assert newest["data"][0]["id"] == ids[-1]
    empty = (await env.get("/videos", channel="doomed")).json()
    assert empty == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }


@pytest.mark.parametrize(
    ("params", "code"),
    [
        pytest.param({"limit": "0"}, "integer_out_of_range", id="limit-0"),
        pytest.param({"limit": "many"}, "invalid_type", id="limit-word"),
        pytest.param({"order": "up"}, "invalid_value", id="order"),
    ],
)
async def test_list_rejects_bad_query(env: Env, params: dict[str, str], code: str) -> None:
    resp = await env.get("/videos", **params)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == code


async def test_delete(env: Env) -> None:
    video_id = (await env.create()).json()["id"]
    resp = await env.client.delete(f"/ch/ch/v1/videos/{video_id}")
    assert resp.json() == {"id": video_id, "object": "video.deleted", "deleted": True}
    assert (await env.get(f"/videos/{video_id}")).status_code == 404
    again = await env.client.delete(f"/ch/ch/v1/videos/{video_id}")
    assert again.status_code == 404


async def test_multipart_create_as_the_sdk_sends_it(env: Env) -> None:
    resp = await env.client.post(
        "/ch/ch/v1/videos",
        data={"prompt": "a fox", "model": "sora-2-pro", "seconds": "12", "size": "1792x1024"},
        files={"input_reference": ("ref.png", b"\x89PNG\r\n\x1a\n", "image/png")},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["model"], body["seconds"], body["size"]) == ("sora-2-pro", "12", "1792x1024")


@pytest.mark.parametrize(
    ("body", "param", "code", "message"),
    [
        pytest.param(
            {"prompt": "p", "seconds": 8},
            "seconds",
            "invalid_type",
            "Invalid type for 'seconds': expected one of '4', '8', or '12', "
            "but got an integer instead.",
            id="seconds-integer",
        ),
        pytest.param(
            {"prompt": "p", "seconds": "5"},
            "seconds",
            "invalid_value",
            "Invalid value: '5'. Supported values are: '4', '8', '12', '16', and '20'.",
            id="seconds-value",
        ),
        pytest.param(
            {"prompt": "p", "size": "1792x1024"},
            "size",
            "invalid_value",
            "Invalid value: '1792x1024'. Supported values are: '720x1280' and '1280x720'.",
            id="size-not-for-sora-2",
        ),
        pytest.param(
            {"seconds": "4"},
            "prompt",
            "missing_required_parameter",
            "Missing required parameter: 'prompt'.",
            id="no-prompt",
        ),
        pytest.param(
            {"prompt": "p", "duration": 4},
            "duration",
            "unknown_parameter",
            "Unknown parameter: 'duration'.",
            id="unknown-parameter",
        ),
        pytest.param(
            {"prompt": "p", "input_reference": "https://example.com/a.png"},
            "input_reference",
            "invalid_type",
            "Invalid type for 'input_reference': expected a file, but got a string instead.",
            id="input-reference-string",
        ),
        pytest.param(
            {"prompt": "p", "model": "sora-3"},
            "model",
            "invalid_value",
            "Invalid value: 'sora-3'. Supported values are: 'sora-2' and 'sora-2-pro'.",
            id="model-not-served",
        ),
    ],
)
async def test_create_validation(
    env: Env, body: dict[str, Any], param: str, code: str, message: str
) -> None:
    resp = await env.client.post("/ch/ch/v1/videos", json=body)
    assert resp.status_code == 400
    assert resp.json() == {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }
    assert env.sim.stats().jobs_created == 0


async def test_create_rejects_a_body_that_is_not_json(env: Env) -> None:
    resp = await env.client.post(
        "/ch/ch/v1/videos", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["message"].startswith("We could not parse the JSON body")


async def test_models(env: Env) -> None:
    listed = (await env.get("/models")).json()
    assert [m["id"] for m in listed["data"]] == ["sora-2", "sora-2-pro"]
    missing = await env.get("/models/veo-3")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == (
        "The model `veo-3` does not exist or you do not have access to it."
    )
    retiring = (await env.get("/models/sora-2", channel="retiring")).json()
    assert retiring["shutdown_date"] == "2026-09-24"


async def test_ratelimit_headers_count_down_in_a_window(env: Env) -> None:
    first = await env.get("/models")
    second = await env.get("/models")
    assert first.headers["x-ratelimit-limit-requests"] == "60"
    assert int(first.headers["x-ratelimit-remaining-requests"]) == 59
    assert int(second.headers["x-ratelimit-remaining-requests"]) == 58
    env.clock.advance(30)
    assert (await env.get("/models")).headers["x-ratelimit-reset-requests"] == "30s"
    env.clock.advance(31)
    assert (await env.get("/models")).headers["x-ratelimit-remaining-requests"] == "59"


async def test_reset_forgets_jobs_and_restarts_time(env: Env) -> None:
    video_id = (await env.create()).json()["id"]
    env.clock.advance(42)
    env.sim.reset()
    assert env.sim.elapsed() == 0
    assert (await env.get(f"/videos/{video_id}")).status_code == 404
    assert env.sim.stats().requests == 1


_STATUS_RANK = {"queued": 0, "in_progress": 1, "completed": 2, "failed": 2}


@given(
    queue=st.floats(0, 100),
    generate=st.floats(0, 100),
    fails=st.booleans(),
    t1=st.floats(-10, 300),
    dt=st.floats(0, 300),
)
def test_job_state_never_goes_backwards(
    queue: float, generate: float, fails: bool, t1: float, dt: float
) -> None:
    job = JobRecord("video_x", "sora-2", None, "4", "720x1280", 0.0, queue, generate, fails, 60.0)
    s1, p1 = job.status_at(t1)
    s2, p2 = job.status_at(t1 + dt)
    assert _STATUS_RANK[s1] <= _STATUS_RANK[s2]
    assert p1 <= p2
    assert s2 != ("completed" if fails else "failed")


def _parse_go(text: str) -> float:
    if text.endswith("ms"):
        return int(text[:-2]) / 1000
    total = 0.0
    for value, unit in re.findall(r"([\d.]+)([hms])", text):
        total += float(value) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total


@given(st.integers(0, 10 * 86_400_000))
def test_go_duration_round_trips(ms: int) -> None:
    text = go_duration(ms / 1000)
    assert re.fullmatch(r"0s|\d+ms|(\d+h)?(\d+m)?\d+(\.\d+)?s", text)
    assert _parse_go(text) == pytest.approx(ms / 1000)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        pytest.param(0.012, "12ms", id="ms"),
        pytest.param(360, "6m0s", id="minutes"),
        pytest.param(1.5, "1.5s", id="fraction"),
        pytest.param(3723, "1h2m3s", id="hours"),
    ],
)
def test_go_duration_examples(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text
