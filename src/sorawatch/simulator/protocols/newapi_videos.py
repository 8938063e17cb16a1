"""The ``newapi-videos`` protocol: a new-api / one-api gateway's clone of ``/v1/videos``.

Wire details follow upstream-protocols.md §4.1 item 3, §4.3 and §5 item 11:

- routes ``POST /videos``, ``GET /videos/:task_id``, ``GET /videos/:task_id/content``,
  ``POST /video/generations``, ``GET /video/generations/:task_id`` and ``GET /models``; no list,
  delete, edits or characters (404 "Invalid URL (…)");
- public ``task_…`` ids with the legacy duplicate ``task_id``, ``video_url``, ``metadata{url}``
  and an always-present ``completed_at`` (null until done);
- each job speaks one dialect, fixed by its id (so by the seed): a status vocabulary
  (``succeeded``, ``processing``, ``NOT_START``, ``SUCCESS`` …), progress as an int or a
  ``"45%"`` string, ``created_at`` in seconds or milliseconds;
- task routes answer errors flat, ``{"code","message","data"}``; an upstream's non-2xx answer to
  a submit is relayed as ``fail_to_fetch_task`` with the upstream body as the message string;
  every task 429 says "当前分组上游负载已饱和，请稍后再试";
- middleware errors are ``{"error":{"message":"… (request id: …)","type":"new_api_error",
  "code"}}``, with the request id also in ``X-Oneapi-Request-Id``.

Where a fault happens decides which routes show it. Gateway faults (a bad key, a paused
channel, no channel for the model) show on every route they would touch. Upstream faults (rate
limits, server errors, a retired model, anti-bot blocks) only show on the routes that reach the
upstream: the submits and the content proxy. ``GET /models`` and task lookups are answered from
the gateway's own database, so a light probe cannot see the upstream behind it.

A gateway's own quota (``quota_exhausted``) is checked when a task is submitted. ``overloaded``
is the gateway with no enabled channel for the model: 503 "…无可用渠道" on submits, and the
model missing from ``GET /models``. ``no_tokens``, ``risk_control_cn`` and ``moderation`` have
no new-api form here (an upstream's 200 carrying an error is not relayed as such) and answer
normally.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from starlette.responses import Response

from sorawatch.simulator import media
from sorawatch.simulator.jobs import JOB_FAILURE, JobRecord
from sorawatch.simulator.protocols.base import Call
from sorawatch.simulator.protocols.openai_videos import SENTINEL_MESSAGE, SERVER_ERROR_MESSAGE
from sorawatch.simulator.wire import json_response

BAD_KEY = "sk-bad"
SATURATED = "当前分组上游负载已饱和，请稍后再试"
NO_CHANNEL = "当前分组 {group} 下对于模型 {model} 无可用渠道"
GROUP = "default"
# new-api's fixed "created" for models it lists (2021-07-20, as in its model list).
_MODEL_CREATED = 1626777600
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# No public example of a gateway's "paused" answer exists; this text is illustrative only.
PAUSED_MESSAGE = "该渠道已暂停使用 (temporarily paused by the provider)"
REQUEST_ID_HEADER = "X-Oneapi-Request-Id"

# Status vocabularies seen behind new-api (its Sora adaptor's synonym table, the task DTO's
# upper-case states, forks passing upstream words through): queued, running, done, failed.
DIALECTS: tuple[tuple[str, str, str, str], ...] = (
    ("queued", "in_progress", "completed", "failed"),
    ("pending", "processing", "succeeded", "failed"),
    ("NOT_START", "IN_PROGRESS", "SUCCESS", "FAILURE"),
    ("submitted", "running", "success", "error"),
    ("created", "generating", "finished", "fail"),
    ("QUEUED", "RUNNING", "COMPLETE", "FAILED"),
)
_STATE_INDEX = {"queued": 0, "in_progress": 1, "completed": 2, "failed": 3}
# The task DTO of ``/video/generations/:task_id`` always uses new-api's own upper-case states.
_TASK_STATES = ("NOT_START", "IN_PROGRESS", "SUCCESS", "FAILURE")


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one job presents itself, fixed by its id so a seeded run is repeatable."""

    words: tuple[str, str, str, str]
    progress_as_text: bool
    millis: bool
    bare_create: bool  # the create answer is new-api's fallback presenter (no ``object``)

    @classmethod
    def of(cls, job_id: str) -> Dialect:
        h = zlib.crc32(job_id.encode())
        return cls(
            words=DIALECTS[h % len(DIALECTS)],
            progress_as_text=bool(h >> 8 & 1),
            millis=bool(h >> 9 & 1),
            bare_create=bool(h >> 10 & 1),
        )

    def status(self, state: str) -> str:
        return self.words[_STATE_INDEX[state]]

    def progress(self, value: int) -> int | str:
        return f"{value}%" if self.progress_as_text else value

    def time(self, unix: float) -> int:
        return int(unix * 1000) if self.millis else int(unix)


def new_task_id(call: Call) -> str:
    return "task_" + "".join(call.rng.choice(_ALNUM) for _ in range(32))


def newapi_request_id(call: Call) -> str:
    """new-api's request ids: a local timestamp and random digits."""
    stamp = datetime.fromtimestamp(call.unix, UTC).strftime("%Y%m%d%H%M%S")
    return stamp + "".join(call.rng.choice("0123456789") for _ in range(9))


def middleware_error(call: Call, status: int, message: str, code: str = "") -> Response:
    """What new-api's middleware aborts with (token auth, distribution, rate limits)."""
    rid = call.request.headers.get(REQUEST_ID_HEADER) or newapi_request_id(call)
    body = {
        "error": {
            "message": f"{message} (request id: {rid})",
            "type": "new_api_error",
            "code": code,
        }
    }
    return json_response(body, status, {REQUEST_ID_HEADER: rid})


def task_error(status: int, code: str, message: str) -> Response:
    """A task route's flat error (``dto.TaskError``)."""
    return json_response({"code": code, "message": message, "data": None}, status)


def upstream_failure(status: int, upstream: dict[str, Any]) -> Response:
    """An upstream's non-2xx answer to a submit, as new-api relays it: the body as a string."""
    text = json.dumps(upstream, ensure_ascii=False, separators=(",", ":"))
    if status == 429:  # new-api rewrites every task 429's message
        text = SATURATED
    return task_error(status, "fail_to_fetch_task", text)


def _openai_body(message: str, type_: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


_SUBMITS = frozenset({"create", "generate"})
_UPSTREAM = _SUBMITS | {"content"}


class NewApiVideosProtocol:
    name: ClassVar[str] = "newapi-videos"
    routes: ClassVar[tuple[str, ...]] = (
        "create",
        "retrieve",
        "content",
        "generate",
        "task",
        "models",
    )

    def route_name(self, method: str, path: str) -> str | None:
        parts = path.strip("/").split("/")
        n = len(parts)
        if parts[0] == "models" and method == "GET" and n <= 2:
            return "models"
        if parts[0] == "videos":
            if n == 1:
                return "create" if method == "POST" else None
            if n == 2 and parts[1] and method == "GET":
                return "retrieve"
            if n == 3 and parts[2] == "content" and method == "GET":
                return "content"
            return None
        if parts[:2] == ["video", "generations"]:
            if n == 2:
                return "generate" if method == "POST" else None
            if n == 3 and parts[2] and method == "GET":
                return "task"
        return None

    async def handle(self, call: Call) -> Response:
        response = self._authenticate(call)
        if response is None and call.route is None:
            response = middleware_error(
                call, 404, f"Invalid URL ({call.method} /v1{call.path})", "invalid_request_error"
            )
        if response is None and not call.fault.is_ok:
            response = await self._fault_answer(call)
        if response is None:
            assert call.route is not None
            response = await self._handlers[call.route](self, call)
        response.headers.setdefault(REQUEST_ID_HEADER, newapi_request_id(call))
        return response

    def malformed(self, call: Call, mode: str) -> Response:
        if mode == "wrong_shape":
            return json_response({"code": "success", "message": "", "data": None})
        body = f'{{"id":"{new_task_id(call)}","object":"video","status":"in_pro'
        return Response(body.encode(), media_type="application/json")

    # --- common --------------------------------------------------------------------------

    def _authenticate(self, call: Call) -> Response | None:
        header = call.request.headers.get("authorization", "")
        key = header.removeprefix("Bearer ").removeprefix("bearer ").strip()
        if not key or key == header.strip():
            return middleware_error(call, 401, "未提供令牌")
        if key == BAD_KEY:
            return middleware_error(call, 401, "无效的令牌")
        return None

    # --- faults --------------------------------------------------------------------------

    async def _fault_answer(self, call: Call) -> Response | None:
        name, route = call.fault.fault, call.route
        if name == "auth_failed":
            return middleware_error(call, 401, "无效的令牌")
        if name == "paused":
            if route == "models":
                return middleware_error(call, 503, PAUSED_MESSAGE, "channel_paused")
            return task_error(503, "channel_paused", PAUSED_MESSAGE)
        if name == "overloaded":
            if route in _SUBMITS:
                model = await _requested_model(call)
                text = NO_CHANNEL.format(group=GROUP, model=model)
                return middleware_error(call, 503, text, "model_not_found")
            return None  # ``/models`` leaves the model out (see ``_models``)
        if name == "quota_exhausted" and route in _SUBMITS:
            # A real gateway sent the saturation text with a quota type and code (§4.3).
            rid = newapi_request_id(call)
            body = {
                "error": {
                    "message": f"{SATURATED} (request id: {rid})",
                    "type": "insufficient_quota",
                    "code": "insufficient_user_quota",
                }
            }
            return json_response(body, 429, {REQUEST_ID_HEADER: rid})
        if route not in _UPSTREAM:
            return None
        builder = _UPSTREAM_FAULTS.get(name)
        return builder(call) if builder is not None else None

    # --- routes --------------------------------------------------------------------------

    async def _create(self, call: Call) -> Response:
        params = await _json_body(call)
        if isinstance(params, Response):
            return params
        model = params.get("model")
        if not isinstance(model, str) or not model:
            return task_error(400, "invalid_request", "model is required")
        if model not in call.spec.models:
            text = NO_CHANNEL.format(group=GROUP, model=model)
            return middleware_error(call, 503, text, "model_not_found")
        prompt = params.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            return task_error(400, "invalid_request", "prompt is required")
        seconds = params.get("seconds", params.get("duration", "4"))
        failure_rate = call.spec.job_failure_rate
        if call.in_force.fault == "job_failures":
            failure_rate = max(failure_rate, call.in_force.rate)
        job = JobRecord(
            id=new_task_id(call),
            model=model,
            prompt=prompt,
            seconds=str(seconds),
            size=str(params.get("size", "1280x720")),
            created_t=call.t,
            queue_s=call.spec.queue_s,
            generate_s=call.spec.generate_s,
            fails=failure_rate > 0 and call.rng.random() < failure_rate,
            expires_s=call.spec.expires_s,
        )
        call.state.add(job)
        dialect = Dialect.of(job.id)
        if dialect.bare_create or call.route == "generate":
            return json_response(
                {
                    "id": job.id,
                    "task_id": job.id,
                    "status": dialect.status("queued"),
                    "model": model,
                    "created_at": dialect.time(call.epoch + job.created_t),
                }
            )
        return json_response(_video(job, call))

    async def _retrieve(self, call: Call) -> Response:
        job = call.state.jobs.get(call.path.strip("/").split("/")[1])
        if job is None:
            return task_error(400, "task_not_exist", "task_not_exist")
        return json_response(_video(job, call))

    async def _task(self, call: Call) -> Response:
        job = call.state.jobs.get(call.path.strip("/").split("/")[2])
        if job is None:
            return task_error(400, "task_not_exist", "task_not_exist")
        return json_response({"code": "success", "message": "", "data": _task_dto(job, call)})

    async def _content(self, call: Call) -> Response:
        job = call.state.jobs.get(call.path.strip("/").split("/")[1])
        if job is None:
            return task_error(400, "task_not_exist", "task_not_exist")
        state, _ = job.status_at(call.t)
        if state != "completed":
            return json_response(
                {
                    "error": {
                        "message": "Task is not completed yet, current status: "
                        + _TASK_STATES[_STATE_INDEX[state]],
                        "type": "invalid_request_error",
                    }
                },
                400,
            )
        if job.expired(call.t):
            # The proxy fetches the upstream URL, which has expired.
            return json_response(
                {"error": {"message": "Failed to fetch video content", "type": "server_error"}},
                502,
            )
        seconds = int(job.seconds) if job.seconds.isdigit() else 4
        return Response(media.mp4_bytes(job.id, seconds), media_type="video/mp4")

    async def _models(self, call: Call) -> Response:
        # new-api lists the models its group has enabled channels for: with none, it is gone.
        listed = () if call.in_force.fault == "overloaded" else call.spec.models
        parts = call.path.strip("/").split("/")
        if len(parts) == 2 and parts[1]:
            if parts[1] not in listed:
                body = _openai_body(
                    f"The model '{parts[1]}' does not exist",
                    "invalid_request_error",
                    "model_not_found",
                )
                return json_response(body, 404)
            return json_response(_model_object(parts[1]))
        data = [_model_object(m) for m in listed]
        return json_response({"success": True, "object": "list", "data": data})

    _handlers: ClassVar[dict[str, Callable[[NewApiVideosProtocol, Call], Awaitable[Response]]]] = {
        "create": _create,
        "generate": _create,
        "retrieve": _retrieve,
        "task": _task,
        "content": _content,
        "models": _models,
    }


def _model_object(model: str) -> dict[str, Any]:
    return {
        "id": model,
        "object": "model",
        "created": _MODEL_CREATED,
        "owned_by": "custom",
        "supported_endpoint_types": ["openai-video"],
    }


def _content_url(call: Call, job_id: str) -> str:
    url = str(call.request.url)
    root = url[: url.index("/v1/") + 3] if "/v1/" in url else url
    return f"{root}/videos/{job_id}/content"


def _video(job: JobRecord, call: Call) -> dict[str, Any]:
    """The OpenAI-shaped video object, in this job's dialect, with new-api's legacy fields."""
    dialect = Dialect.of(job.id)
    state, progress = job.status_at(call.t)
    done = state == "completed"
    url = _content_url(call, job.id) if done else ""
    body: dict[str, Any] = {
        "id": job.id,
        "task_id": job.id,
        "object": "video",
        "model": job.model,
        "status": dialect.status(state),
        "progress": dialect.progress(progress),
        "created_at": dialect.time(call.epoch + job.created_t),
        "completed_at": dialect.time(call.epoch + job.completed_t) if done else None,
        "seconds": job.seconds,
        "size": job.size,
        "video_url": url,
    }
    if done:
        body["metadata"] = {"url": url}
    if state == "failed":
        body["error"] = dict(JOB_FAILURE)
    return body


def _task_dto(job: JobRecord, call: Call) -> dict[str, Any]:
    """new-api's own task row (``/video/generations/:task_id``): upper-case states, "45%"."""
    state, progress = job.status_at(call.t)
    submit = int(call.epoch + job.created_t)
    started = job.created_t + job.queue_s
    return {
        "task_id": job.id,
        "platform": "55",
        "action": "generate",
        "status": _TASK_STATES[_STATE_INDEX[state]],
        "fail_reason": JOB_FAILURE["message"] if state == "failed" else "",
        "result_url": _content_url(call, job.id) if state == "completed" else "",
        "submit_time": submit,
        "start_time": int(call.epoch + started) if call.t >= started else 0,
        "finish_time": int(call.epoch + job.completed_t) if state == "completed" else 0,
        "progress": f"{progress}%",
        "properties": {"origin_model_name": job.model},
    }


async def _json_body(call: Call) -> dict[str, Any] | Response:
    raw = await call.request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return task_error(400, "invalid_request", "invalid request body")
    return body


async def _requested_model(call: Call) -> str:
    if call.method == "POST":
        body = await _json_body(call)
        if isinstance(body, dict) and isinstance(body.get("model"), str):
            return str(body["model"])
    return call.spec.models[0]


# --- upstream faults, as relayed by the gateway ----------------------------------------------


def _retired(call: Call) -> Response:
    model = call.spec.models[0]
    return upstream_failure(
        404,
        _openai_body(
            f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        ),
    )


def _gone(call: Call) -> Response:
    fault_date = call.fault.date
    return upstream_failure(
        410,
        {
            "error": "model_unavailable",
            "reason": "deprecated",
            "message": f"The model `{call.spec.models[0]}` has been shut down.",
            "sunset_date": fault_date.date().isoformat() if fault_date else None,
        },
    )


def _rate_limited(call: Call) -> Response:
    return upstream_failure(
        429, _openai_body("Rate limit reached for requests", "requests", "rate_limit_exceeded")
    )


def _server_error(call: Call) -> Response:
    return upstream_failure(500, _openai_body(SERVER_ERROR_MESSAGE, "server_error", None))


def _sentinel_block(call: Call) -> Response:
    return upstream_failure(
        400, _openai_body(SENTINEL_MESSAGE, "invalid_request_error", "sentinel_block")
    )


_UPSTREAM_FAULTS: dict[str, Callable[[Call], Response]] = {
    "retired": _retired,
    "gone": _gone,
    "rate_limited": _rate_limited,
    "server_error": _server_error,
    "sentinel_block": _sentinel_block,
}
