"""The ``aggregator-videos`` protocol: OpenRouter's video API shape on ``/v1/videos``.

Wire details follow upstream-protocols.md §4.1 item 4 and §5 item 12 (OpenRouter's
``/api/v1/videos``, served by ofox.ai and others at ``/v1/videos``):

- ``POST /videos`` → **202** ``{id, polling_url, status: "pending"}``; ``duration`` must be an
  integer, ``resolution`` and ``aspect_ratio`` one of the model's values;
- ``GET /videos/{id}`` → ``pending`` → ``in_progress`` → ``completed`` | ``failed`` |
  ``cancelled`` | ``expired``, with ``error`` a string, and on completion ``unsigned_urls``
  (the authenticated content proxy), ``urls`` (signed storage) and ``usage{cost, is_byok}``;
- ``GET /videos/{id}/content?index=0`` → the MP4;
- ``GET /videos/models`` → the catalog with each model's allowed values;
- errors ``{"error": {"code": <HTTP status>, "message", "metadata"?}}``.

A doomed job ends ``failed``, or ``cancelled`` for one in three (fixed by its id); a completed
job whose outputs have expired reads ``expired``. ``retired`` takes the model out of the catalog
and makes creates a 400 "is not a valid model ID". ``sentinel_block``, ``no_tokens`` and
``risk_control_cn`` have no form on an aggregator and answer normally.
"""

from __future__ import annotations

import json
import math
import uuid
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from starlette.responses import Response

from sorawatch.simulator import media
from sorawatch.simulator.jobs import JobRecord
from sorawatch.simulator.protocols.base import Call
from sorawatch.simulator.wire import hex_id, json_response

BAD_KEY = "sk-bad"
DURATIONS = (4, 8, 12)
RESOLUTIONS = ("480p", "720p", "1080p")
ASPECT_RATIOS = ("16:9", "9:16")
PRICE_PER_SECOND = 0.10
_MODEL_CREATED = 1759708800
_FIELDS = frozenset(
    {
        "model",
        "prompt",
        "duration",
        "resolution",
        "aspect_ratio",
        "generate_audio",
        "seed",
        "frame_images",
        "input_references",
        "callback_url",
        "provider",
    }
)
# No public example of an aggregator's "paused" answer exists; this text is illustrative only.
PAUSED_MESSAGE = "This model is temporarily paused by its provider. Please try again later."
FAILURE_MESSAGE = "Provider returned error: video generation failed"
CANCEL_MESSAGE = "The provider cancelled this generation"


def error(
    status: int,
    message: str,
    metadata: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    err: dict[str, Any] = {"code": status, "message": message}
    if metadata is not None:
        err["metadata"] = metadata
    return json_response({"error": err}, status, headers)


def _cancels(job_id: str) -> bool:
    return zlib.crc32(job_id.encode()) % 3 == 0


class AggregatorVideosProtocol:
    name: ClassVar[str] = "aggregator-videos"
    routes: ClassVar[tuple[str, ...]] = ("create", "retrieve", "content", "models")

    def route_name(self, method: str, path: str) -> str | None:
        parts = path.strip("/").split("/")
        n = len(parts)
        if parts[0] != "videos" or method not in ("GET", "POST"):
            return None
        if n == 1:
            return "create" if method == "POST" else None
        if method != "GET":
            return None
        if n == 2 and parts[1] == "models":
            return "models"
        if n == 2 and parts[1]:
            return "retrieve"
        if n == 3 and parts[2] == "content":
            return "content"
        return None

    async def handle(self, call: Call) -> Response:
        response = self._authenticate(call)
        if response is None and call.route is None:
            response = error(404, "Not Found")
        if response is None and not call.fault.is_ok:
            response = await self._fault_answer(call)
        if response is None:
            assert call.route is not None
            response = await self._handlers[call.route](self, call)
        response.headers.setdefault("x-request-id", f"req-{hex_id(call.rng, 96)}")
        return response

    def malformed(self, call: Call, mode: str) -> Response:
        if mode == "wrong_shape":
            return json_response({"object": "list", "items": []})
        body = f'{{"id":"{_job_id(call)}","polling_url":"/api/v1/vid'
        return Response(body.encode(), media_type="application/json")

    def _authenticate(self, call: Call) -> Response | None:
        header = call.request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return error(401, "No auth credentials found")
        if key.strip() == BAD_KEY:
            return error(401, "User not found.")
        return None

    async def _fault_answer(self, call: Call) -> Response | None:
        fault = call.fault
        name = fault.fault
        if name == "auth_failed":
            return error(401, "User not found.")
        if name == "rate_limited":
            wait = math.ceil(fault.retry_after_s or 1.0)
            return error(
                429,
                "Rate limit exceeded: too many requests. Please slow down.",
                headers={"retry-after": str(wait)},
            )
        if name == "quota_exhausted":
            return error(
                402,
                "Insufficient credits. Add more using https://openrouter.ai/settings/credits",
            )
        if name == "overloaded":
            wait = math.ceil(fault.retry_after_s or 5.0)
            return error(
                503,
                "No allowed providers are available for the selected model.",
                headers={"retry-after": str(wait)},
            )
        if name == "paused":
            return error(503, PAUSED_MESSAGE, {"reason": "model_paused"})
        if name == "server_error":
            return error(500, "Internal Server Error")
        if name == "gone":
            sunset = fault.date.date().isoformat() if fault.date else None
            return error(410, "This model has been retired.", {"sunset_date": sunset})
        return None  # ``retired`` shapes the catalog and the create check instead

    # --- routes --------------------------------------------------------------------------

    def _catalog(self, call: Call) -> tuple[str, ...]:
        return () if call.in_force.fault == "retired" else call.spec.models

    async def _create(self, call: Call) -> Response:
        raw = await call.request.body()
        try:
            params = json.loads(raw) if raw else None
        except ValueError:
            params = None
        if not isinstance(params, dict):
            return error(400, "Invalid JSON body")
        checked = _check(params, self._catalog(call))
        if isinstance(checked, Response):
            return checked
        model, prompt, duration, resolution = checked
        failure_rate = call.spec.job_failure_rate
        if call.in_force.fault == "job_failures":
            failure_rate = max(failure_rate, call.in_force.rate)
        job = JobRecord(
            id=_job_id(call),
            model=model,
            prompt=prompt,
            seconds=str(duration),
            size=resolution,
            created_t=call.t,
            queue_s=call.spec.queue_s,
            generate_s=call.spec.generate_s,
            fails=failure_rate > 0 and call.rng.random() < failure_rate,
            expires_s=call.spec.expires_s,
        )
        call.state.add(job)
        body = {"id": job.id, "polling_url": _url(call, job.id), "status": "pending"}
        return json_response(body, 202)

    async def _retrieve(self, call: Call) -> Response:
        job_id = call.path.strip("/").split("/")[1]
        job = call.state.jobs.get(job_id)
        if job is None:
            return error(404, f"Video generation job {job_id} not found")
        return json_response(_job_body(job, call))

    async def _content(self, call: Call) -> Response:
        job_id = call.path.strip("/").split("/")[1]
        job = call.state.jobs.get(job_id)
        if job is None:
            return error(404, f"Video generation job {job_id} not found")
        index = call.request.query_params.get("index", "0")
        state, _ = job.status_at(call.t)
        if state != "completed":
            return error(400, f"Video generation job {job_id} is not completed")
        if job.expired(call.t):
            return error(410, f"The outputs of video generation job {job_id} have expired")
        if index != "0":
            return error(404, f"No output at index {index}")
        return Response(media.mp4_bytes(job.id, int(job.seconds)), media_type="video/mp4")

    async def _models(self, call: Call) -> Response:
        return json_response({"data": [_model_entry(m) for m in self._catalog(call)]})

    _handlers: ClassVar[
        dict[str, Callable[[AggregatorVideosProtocol, Call], Awaitable[Response]]]
    ] = {
        "create": _create,
        "retrieve": _retrieve,
        "content": _content,
        "models": _models,
    }


def _job_id(call: Call) -> str:
    return str(uuid.UUID(int=call.rng.getrandbits(128), version=4))


def _url(call: Call, job_id: str, suffix: str = "") -> str:
    url = str(call.request.url).split("?")[0]
    root = url[: url.index("/v1/") + 3] if "/v1/" in url else url
    return f"{root}/videos/{job_id}{suffix}"


def _model_entry(model: str) -> dict[str, Any]:
    return {
        "id": model,
        "canonical_slug": model,
        "name": model,
        "created": _MODEL_CREATED,
        "generate_audio": True,
        "seed": None,
        "supported_aspect_ratios": list(ASPECT_RATIOS),
        "supported_durations": list(DURATIONS),
        "supported_frame_images": ["first_frame", "last_frame"],
        "supported_resolutions": list(RESOLUTIONS),
        "supported_sizes": None,
        "allowed_passthrough_parameters": [],
        "pricing_skus": {"per_second": f"{PRICE_PER_SECOND:.2f}"},
    }


def _job_body(job: JobRecord, call: Call) -> dict[str, Any]:
    state, _ = job.status_at(call.t)
    body: dict[str, Any] = {"id": job.id, "polling_url": _url(call, job.id)}
    if state == "queued":
        body["status"] = "pending"
    elif state == "in_progress":
        body["status"] = "in_progress"
        body["generation_id"] = f"gen-{job.id[:8]}"
    elif state == "failed":
        cancelled = _cancels(job.id)
        body["status"] = "cancelled" if cancelled else "failed"
        body["error"] = CANCEL_MESSAGE if cancelled else FAILURE_MESSAGE
    elif job.expired(call.t):
        body["status"] = "expired"
        body["error"] = "The outputs of this generation have expired"
    else:
        body["status"] = "completed"
        body["generation_id"] = f"gen-{job.id[:8]}"
        body["unsigned_urls"] = [_url(call, job.id, "/content?index=0")]
        body["urls"] = [f"https://storage.example.invalid/videos/{job.id}.mp4?sig={job.id[:8]}"]
        cost = round(int(job.seconds) * PRICE_PER_SECOND, 4)
        body["usage"] = {"cost": cost, "is_byok": False}
    return body


def _check(
    params: dict[str, Any], catalog: tuple[str, ...]
) -> tuple[str, str, int, str] | Response:
    for key in params:
        if key not in _FIELDS:
            return error(400, f"Unrecognized key in body: '{key}'")
    model = params.get("model")
    if not isinstance(model, str) or not model:
        return error(400, "Input validation failed: model: Required")
    if model not in catalog:
        return error(400, f"{model} is not a valid model ID")
    prompt = params.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return error(400, "Input validation failed: prompt: Required")
    duration = params.get("duration", DURATIONS[0])
    if not isinstance(duration, int) or isinstance(duration, bool):
        kind = "string" if isinstance(duration, str) else type(duration).__name__
        return error(400, f"Input validation failed: duration: Expected integer, received {kind}")
    if duration not in DURATIONS:
        allowed = ", ".join(map(str, DURATIONS))
        return error(400, f"Unsupported duration {duration} for {model}; supported: {allowed}")
    resolution = params.get("resolution", "720p")
    if resolution not in RESOLUTIONS:
        return error(
            400,
            f"Unsupported resolution {resolution!r} for {model}; supported: "
            + ", ".join(RESOLUTIONS),
        )
    aspect = params.get("aspect_ratio", "16:9")
    if aspect not in ASPECT_RATIOS:
        return error(
            400,
            f"Unsupported aspect_ratio {aspect!r} for {model}; supported: "
            + ", ".join(ASPECT_RATIOS),
        )
    return model, prompt, duration, str(resolution)
