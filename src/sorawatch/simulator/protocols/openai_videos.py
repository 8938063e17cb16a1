"""The ``openai-videos`` protocol: OpenAI's ``/v1/videos`` with its real wire details.

Validation messages, error envelopes and headers follow upstream-protocols.md §1 and §5. Faults
that only exist on reverse channels (``sentinel_block``, ``no_tokens``, ``risk_control_cn``)
answer with the bodies those reverse proxies really send through this same route.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from starlette.datastructures import UploadFile
from starlette.responses import Response

from sorawatch.simulator import media
from sorawatch.simulator.jobs import JobRecord
from sorawatch.simulator.protocols.base import Call
from sorawatch.simulator.scenario import Fault
from sorawatch.simulator.wire import (
    go_duration,
    hex_id,
    invalid_url,
    json_response,
    model_not_found,
    openai_error,
    request_id,
)

SECONDS = ("4", "8", "12", "16", "20")
SIZES_720 = ("720x1280", "1280x720")
SIZES_ALL = (*SIZES_720, "1024x1792", "1792x1024", "1080x1920", "1920x1080")
_CREATE_FIELDS = frozenset({"prompt", "model", "seconds", "size", "input_reference"})
_MODEL_CREATED = 1759708800  # 2025-10-06, the day sora-2 reached the API
_ORG = "org-sorawatchsimulator"
BAD_KEY = "sk-bad"

_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with "
    "blank username) if you're accessing the API from your browser and are prompted for a "
    "username and password. You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)
_BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent "
    "was not valid JSON. If you have trouble figuring out how to fix this, please contact us "
    "through our help center at help.openai.com.)"
)
SENTINEL_MESSAGE = (
    "Hmmm something didn't look right with your request. Please try again later or visit "
    "https://help.openai.com if this issue persists."
)
NO_TOKENS_MESSAGE = (
    "No available tokens for video generation. All tokens are either disabled, cooling down, "
    "Sora2 quota exhausted, don't support Sora2, or expired."
)
RISK_CONTROL_MESSAGE = "生成失败，疑似存在异常行为，请重新尝试"
# No public example of a provider's "paused" answer exists; this body is illustrative only.
PAUSED_BODY = {
    "error": {
        "message": "This channel is temporarily paused by the provider (渠道已暂停)",
        "type": "service_unavailable_error",
        "code": "channel_paused",
    }
}
OVERLOADED_MESSAGE = "Our servers are currently overloaded. Please try again later."
SERVER_ERROR_MESSAGE = (
    "The server had an error processing your request. Sorry about that! You can retry your "
    "request, or contact us through our help center at help.openai.com if you keep seeing this "
    "error."
)
QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors."
)

_TYPE_WORDS = {bool: "a boolean", int: "an integer", float: "a decimal", list: "an array"}


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    return _TYPE_WORDS.get(type(value), "a string")


def _choices(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def _bad_request(message: str, code: str | None, param: str | None) -> Response:
    return openai_error(400, message, "invalid_request_error", code, param)


def _invalid_value(param: str, value: object, allowed: tuple[str, ...]) -> Response:
    return _bad_request(
        f"Invalid value: '{value}'. Supported values are: {_choices(allowed)}.",
        "invalid_value",
        param,
    )


def _not_found(video_id: str) -> Response:
    return openai_error(
        404, f"Video with id '{video_id}' not found.", "invalid_request_error", None, "video_id"
    )


def _mask(key: str) -> str:
    return key if len(key) <= 8 else key[:3] + "*" * (len(key) - 7) + key[-4:]


def _sizes_for(model: str) -> tuple[str, ...]:
    return SIZES_720 if model == "sora-2" or model.startswith("sora-2-20") else SIZES_ALL


class OpenAIVideosProtocol:
    name: ClassVar[str] = "openai-videos"
    routes: ClassVar[tuple[str, ...]] = (
        "create",
        "retrieve",
        "list",
        "delete",
        "content",
        "models",
    )

    def route_name(self, method: str, path: str) -> str | None:
        parts = path.strip("/").split("/")
        head, n = parts[0], len(parts)
        if head == "models" and method == "GET" and n <= 2:
            return "models"
        if head != "videos":
            return None
        if n == 1:
            return {"POST": "create", "GET": "list"}.get(method)
        if n == 2 and parts[1]:
            return {"GET": "retrieve", "DELETE": "delete"}.get(method)
        if n == 3 and parts[2] == "content" and method == "GET":
            return "content"
        return None

    async def handle(self, call: Call) -> Response:
        response = self._authenticate(call)
        if response is None and call.route is None:
            response = invalid_url(call.method, f"/v1{call.path}")
        if response is None and not call.fault.is_ok:
            response = await self._fault_answer(call)
        if response is None:
            assert call.route is not None
            response = await self._handlers[call.route](self, call)
        return self._finish(call, response)

    def malformed(self, call: Call, mode: str) -> Response:
        if mode == "wrong_shape":
            return self._finish(call, json_response({"code": 0, "msg": "success", "data": None}))
        video = (
            f'{{"id":"video_{hex_id(call.rng)}","object":"video","model":"{call.spec.models[0]}"'
        )
        body = (video + ',"status":"in_prog').encode()
        return self._finish(call, Response(body, media_type="application/json"))

    # --- common --------------------------------------------------------------------------

    def _authenticate(self, call: Call) -> Response | None:
        header = call.request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return openai_error(401, _NO_KEY, "invalid_request_error")
        if key == BAD_KEY:
            return self._incorrect_key(key)
        return None

    @staticmethod
    def _incorrect_key(key: str) -> Response:
        return openai_error(
            401,
            f"Incorrect API key provided: {_mask(key)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        )

    def _finish(self, call: Call, response: Response) -> Response:
        count, reset_s = call.state.count_request(call.t)
        headers = response.headers
        headers.setdefault("x-request-id", request_id(call.rng))
        headers.setdefault("openai-processing-ms", str(call.processing_ms))
        headers.setdefault("openai-organization", _ORG)
        headers.setdefault("openai-version", "2020-10-01")
        headers.setdefault("x-ratelimit-limit-requests", str(call.spec.rpm))
        headers.setdefault("x-ratelimit-remaining-requests", str(max(0, call.spec.rpm - count)))
        headers.setdefault("x-ratelimit-reset-requests", go_duration(reset_s))
        return response

    # --- faults --------------------------------------------------------------------------

    async def _fault_answer(self, call: Call) -> Response | None:
        fault = call.fault
        name = fault.fault
        if name == "retired":
            return model_not_found(await self._requested_model(call))
        if name == "rate_limited":
            return self._rate_limited(call, fault)
        if name == "overloaded":
            wait = fault.retry_after_s or 5.0
            return openai_error(
                503,
                OVERLOADED_MESSAGE,
                "service_unavailable_error",
                "server_is_overloaded",
                headers=_retry_headers(wait),
            )
        if name == "paused":
            headers = _retry_headers(fault.retry_after_s) if fault.retry_after_s else None
            return json_response(PAUSED_BODY, 503, headers)
        if name == "quota_exhausted":
            code = fault.code or "insufficient_quota"
            return openai_error(429, QUOTA_MESSAGE, "insufficient_quota", code)
        if name == "auth_failed":
            return self._incorrect_key(_request_key(call))
        if name == "gone":
            return self._gone(call, fault)
        builder = _SIMPLE_FAULTS.get(name)
        return builder(call) if builder else None

    def _rate_limited(self, call: Call, fault: Fault) -> Response:
        wait = fault.retry_after_s or 2.0
        rpm = call.spec.rpm
        message = (
            f"Rate limit reached for {call.spec.models[0]} in organization {_ORG} on requests per "
            f"min (RPM): Limit {rpm}, Used {rpm}, Requested 1. Please try again in "
            f"{go_duration(wait)}. Visit https://platform.openai.com/account/rate-limits to "
            "learn more."
        )
        headers = {
            **_retry_headers(wait),
            "x-ratelimit-limit-requests": str(rpm),
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": go_duration(wait),
        }
        return openai_error(429, message, "requests", "rate_limit_exceeded", headers=headers)

    def _gone(self, call: Call, fault: Fault) -> Response:
        model = call.spec.models[0]
        sunset = fault.date.date().isoformat() if fault.date else None
        body = {
            "error": "model_unavailable",
            "reason": "deprecated",
            "message": f"The model `{model}` has been shut down and is no longer available.",
            "sunset_date": sunset,
            "replacement": None,
            "migration_url": None,
        }
        return json_response(body, 410)

    async def _requested_model(self, call: Call) -> str:
        parts = call.path.strip("/").split("/")
        if call.route == "models" and len(parts) == 2:
            return parts[1]
        if call.route == "create":
            params = await _create_params(call)
            if isinstance(params, dict) and isinstance(params.get("model"), str):
                return str(params["model"])
        return call.spec.models[0]

    # --- routes --------------------------------------------------------------------------

    async def _create(self, call: Call) -> Response:
        params = await _create_params(call)
        if isinstance(params, Response):
            return params
        checked = _check_create(params, call.spec.models)
        if isinstance(checked, Response):
            return checked
        model, seconds, size, prompt = checked
        failure_rate = call.spec.job_failure_rate
        if call.in_force.fault == "job_failures":
            failure_rate = max(failure_rate, call.in_force.rate)
        job = JobRecord(
            id=f"video_{hex_id(call.rng)}",
            model=model,
            prompt=prompt,
            seconds=seconds,
            size=size,
            created_t=call.t,
            queue_s=call.spec.queue_s,
            generate_s=call.spec.generate_s,
            fails=failure_rate > 0 and call.rng.random() < failure_rate,
            expires_s=call.spec.expires_s,
        )
        call.state.add(job)
        return json_response(job.to_video(call.t, call.epoch))

    async def _retrieve(self, call: Call) -> Response:
        video_id = call.path.strip("/").split("/")[1]
        job = call.state.jobs.get(video_id)
        if job is None:
            return _not_found(video_id)
        headers = {"openai-poll-after-ms": str(call.spec.poll_after_ms)}
        return json_response(job.to_video(call.t, call.epoch), headers=headers)

    async def _list(self, call: Call) -> Response:
        query = call.request.query_params
        raw_limit = query.get("limit", "20")
        try:
            limit = int(raw_limit)
        except ValueError:
            return _bad_request(
                f"Invalid type for 'limit': expected an integer, but got '{raw_limit}' instead.",
                "invalid_type",
                "limit",
            )
        if not 1 <= limit <= 100:
            return _bad_request(
                f"Invalid 'limit': integer out of range. Expected a value between 1 and 100, "
                f"but got {limit} instead.",
                "integer_out_of_range",
                "limit",
            )
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            return _invalid_value("order", order, ("asc", "desc"))
        jobs = list(call.state.jobs.values())
        if order == "desc":
            jobs.reverse()
        after = query.get("after")
        if after:
            ids = [j.id for j in jobs]
            jobs = jobs[ids.index(after) + 1 :] if after in ids else []
        page = jobs[:limit]
        return json_response(
            {
                "object": "list",
                "data": [j.to_video(call.t, call.epoch) for j in page],
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
                "has_more": len(jobs) > limit,
            }
        )

    async def _delete(self, call: Call) -> Response:
        video_id = call.path.strip("/").split("/")[1]
        if call.state.jobs.pop(video_id, None) is None:
            return _not_found(video_id)
        return json_response({"id": video_id, "object": "video.deleted", "deleted": True})

    async def _content(self, call: Call) -> Response:
        video_id = call.path.strip("/").split("/")[1]
        job = call.state.jobs.get(video_id)
        if job is None:
            return _not_found(video_id)
        variant = call.request.query_params.get("variant", "video")
        if variant not in ("video", "thumbnail", "spritesheet"):
            return _invalid_value("variant", variant, ("video", "thumbnail", "spritesheet"))
        status, _ = job.status_at(call.t)
        if status != "completed":
            return _bad_request(
                f"Video '{video_id}' is not ready: its status is '{status}'. "
                "Download content only after the video has completed.",
                "video_not_ready",
                None,
            )
        if job.expired(call.t):
            return openai_error(
                404,
                f"The content of video '{video_id}' has expired.",
                "invalid_request_error",
                "video_expired",
            )
        if variant == "thumbnail":
            return Response(media.WEBP_1X1, media_type="image/webp")
        if variant == "spritesheet":
            return Response(media.png_bytes(64, 36, video_id), media_type="image/png")
        return Response(media.mp4_bytes(video_id, int(job.seconds)), media_type="video/mp4")

    async def _models(self, call: Call) -> Response:
        parts = call.path.strip("/").split("/")
        if len(parts) == 1 or not parts[1]:
            data = [_model_object(m, call) for m in call.spec.models]
            return json_response({"object": "list", "data": data})
        if parts[1] not in call.spec.models:
            return model_not_found(parts[1])
        return json_response(_model_object(parts[1], call))

    _handlers: ClassVar[dict[str, Callable[[OpenAIVideosProtocol, Call], Awaitable[Response]]]] = {
        "create": _create,
        "retrieve": _retrieve,
        "list": _list,
        "delete": _delete,
        "content": _content,
        "models": _models,
    }


def _model_object(model: str, call: Call) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": model,
        "object": "model",
        "created": _MODEL_CREATED,
        "owned_by": "system",
    }
    if call.spec.shutdown_date is not None:
        obj["shutdown_date"] = call.spec.shutdown_date.isoformat()
    return obj


def _retry_headers(seconds: float) -> dict[str, str]:
    return {"retry-after": str(math.ceil(seconds)), "retry-after-ms": str(round(seconds * 1000))}


def _request_key(call: Call) -> str:
    return call.request.headers.get("authorization", "").partition(" ")[2].strip()


def _sentinel_block(call: Call) -> Response:
    return _bad_request(SENTINEL_MESSAGE, "sentinel_block", None)


def _no_tokens(call: Call) -> Response:
    return openai_error(200, NO_TOKENS_MESSAGE, "server_error")


def _risk_control_cn(call: Call) -> Response:
    body = {
        "ret": "4013",
        "errmsg": RISK_CONTROL_MESSAGE,
        "systime": str(int(call.unix)),
        "logid": hex_id(call.rng, 96).upper(),
        "data": None,
    }
    return json_response(body)


def _server_error(call: Call) -> Response:
    return openai_error(500, SERVER_ERROR_MESSAGE, "server_error")


_SIMPLE_FAULTS: dict[str, Callable[[Call], Response]] = {
    "sentinel_block": _sentinel_block,
    "no_tokens": _no_tokens,
    "risk_control_cn": _risk_control_cn,
    "server_error": _server_error,
}


# --- create parameters -------------------------------------------------------------------


async def _create_params(call: Call) -> dict[str, object] | Response:
    """The create body as a dict, from multipart (what the SDK sends), a form or JSON."""
    request = call.request
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        params: dict[str, object] = {}
        for key, value in form.multi_items():
            # The SDK flattens an ``input_reference`` object into ``input_reference[image_url]``.
            name = "input_reference" if key.startswith("input_reference[") else key
            params[name] = {"ref": value} if name != key else value
        await form.close()  # the upload is never stored; close its spooled file now
        return params
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        return _bad_request(_BAD_JSON, None, None)
    if not isinstance(body, dict):
        return _bad_request(_BAD_JSON, None, None)
    return body


def _check_create(
    params: dict[str, object], models: tuple[str, ...]
) -> tuple[str, str, str, str] | Response:
    for key in params:
        if key not in _CREATE_FIELDS:
            return _bad_request(f"Unknown parameter: '{key}'.", "unknown_parameter", key)
    prompt = params.get("prompt")
    if prompt is None:
        return _bad_request(
            "Missing required parameter: 'prompt'.", "missing_required_parameter", "prompt"
        )
    if not isinstance(prompt, str):
        return _type_error("prompt", "a string", prompt)
    model = params.get("model", "sora-2")
    if not isinstance(model, str):
        return _type_error("model", "a string", model)
    if model not in models:
        return _invalid_value("model", model, models)
    seconds = params.get("seconds", "4")
    if not isinstance(seconds, str):
        return _type_error("seconds", "one of '4', '8', or '12'", seconds)
    if seconds not in SECONDS:
        return _invalid_value("seconds", seconds, SECONDS)
    size = params.get("size", "720x1280")
    if not isinstance(size, str):
        return _type_error("size", "a string", size)
    if size not in _sizes_for(model):
        return _invalid_value("size", size, _sizes_for(model))
    reference = params.get("input_reference")
    if reference is not None and not isinstance(reference, UploadFile | dict):
        return _type_error("input_reference", "a file", reference)
    return model, seconds, size, prompt


def _type_error(param: str, expected: str, value: object) -> Response:
    return _bad_request(
        f"Invalid type for '{param}': expected {expected}, but got {_kind(value)} instead.",
        "invalid_type",
        param,
    )
