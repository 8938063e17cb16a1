"""The ``openai-images`` protocol: OpenAI's Image API (``POST /v1/images/generations``).

Authentication, headers, the error envelope and every common fault are those of
``openai-videos`` (the same API platform). What differs: generation is synchronous (the answer
carries the images), and moderation is a 400 ``image_generation_user_error`` /
``moderation_blocked`` with ``moderation_details`` (upstream-protocols.md §1), served by the
``moderation`` fault on the ``generate`` route.

``response_format: url`` answers with URLs on the simulator itself
(``…/v1/images/files/<id>_<W>x<H>.png``); those files need no key, like the signed blob URLs of
the real API, and are derived from their name, so nothing is stored.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from starlette.responses import Response

from sorawatch.simulator import media
from sorawatch.simulator.protocols.base import Call
from sorawatch.simulator.protocols.openai_videos import OpenAIVideosProtocol
from sorawatch.simulator.wire import hex_id, invalid_url, json_response, openai_error, request_id

_FIELDS = frozenset(
    {
        "prompt",
        "model",
        "n",
        "size",
        "quality",
        "response_format",
        "output_format",
        "output_compression",
        "background",
        "moderation",
        "style",
        "user",
        "safety_identifier",
    }
)
_QUALITIES = ("low", "medium", "high", "auto")
_FORMATS = ("png", "webp")  # jpeg/gif/svg exist upstream; the simulator cannot draw them
_RESPONSE_FORMATS = ("url", "b64_json")
_SIZE = re.compile(r"^(\d{2,4})x(\d{2,4})$")
_FILE = re.compile(r"^(img_[0-9a-f]+)_(\d{2,4})x(\d{2,4})\.png$")
_MAX_EDGE = 3840
_PROMPT_TOKENS_PER_WORD = 1.3
_IMAGE_TOKENS = {"low": 272, "medium": 1056, "high": 4160, "auto": 1056}

MODERATION_MESSAGE = (
    "Your request was rejected by the safety system. If you believe this is an error, contact "
    "us at help.openai.com and include the request ID {request_id}."
)


def _bad_request(message: str, code: str | None, param: str | None) -> Response:
    return openai_error(400, message, "invalid_request_error", code, param)


def _invalid_value(param: str, value: object, allowed: tuple[str, ...]) -> Response:
    quoted = ", ".join(f"'{v}'" for v in allowed)
    return _bad_request(
        f"Invalid value: '{value}'. Supported values are: {quoted}.", "invalid_value", param
    )


def _edges(size: str) -> tuple[int, int] | None:
    """Width and height of a size the GPT image models accept (multiples of 16, ≤ 3840)."""
    if size == "auto":
        return 1024, 1024
    m = _SIZE.match(size)
    if m is None:
        return None
    w, h = int(m.group(1)), int(m.group(2))
    if w % 16 or h % 16 or not (16 <= w <= _MAX_EDGE and 16 <= h <= _MAX_EDGE):
        return None
    if max(w, h) > 3 * min(w, h):
        return None
    return w, h


class OpenAIImagesProtocol(OpenAIVideosProtocol):
    name: ClassVar[str] = "openai-images"
    routes: ClassVar[tuple[str, ...]] = ("generate", "models", "file")

    def route_name(self, method: str, path: str) -> str | None:
        parts = path.strip("/").split("/")
        if parts[0] == "models" and method == "GET" and len(parts) <= 2:
            return "models"
        if parts[0] != "images" or len(parts) < 2:
            return None
        if parts[1] == "generations" and len(parts) == 2 and method == "POST":
            return "generate"
        if parts[1] == "files" and len(parts) == 3 and method == "GET":
            return "file"
        return None

    async def handle(self, call: Call) -> Response:
        # Image files sit behind signed URLs upstream: no key is asked for them.
        response = None if call.route == "file" else self._authenticate(call)
        if response is None and call.route is None:
            response = invalid_url(call.method, f"/v1{call.path}")
        if response is None and not call.fault.is_ok:
            response = await self._fault_answer(call)
        if response is None:
            if call.route == "generate":
                response = await self._generate(call)
            elif call.route == "file":
                response = self._file(call)
            else:
                response = await self._handlers["models"](self, call)
        return self._finish(call, response)

    def malformed(self, call: Call, mode: str) -> Response:
        if mode == "wrong_shape":
            body: dict[str, Any] = {"created": int(call.unix), "data": [{"revised_prompt": ""}]}
            return self._finish(call, json_response(body))
        text = f'{{"created":{int(call.unix)},"data":[{{"b64_json":"iVBORw0KGgoAAAANSUhEU'
        return self._finish(call, Response(text.encode(), media_type="application/json"))

    async def _fault_answer(self, call: Call) -> Response | None:
        if call.fault.fault == "moderation":
            return self._moderation(call) if call.route == "generate" else None
        return await super()._fault_answer(call)

    async def _requested_model(self, call: Call) -> str:
        if call.route == "generate":
            params = await _params(call)
            if isinstance(params, dict) and isinstance(params.get("model"), str):
                return str(params["model"])
        return await super()._requested_model(call)

    # --- routes --------------------------------------------------------------------------

    def _moderation(self, call: Call) -> Response:
        rid = request_id(call.rng)
        body = {
            "error": {
                "message": MODERATION_MESSAGE.format(request_id=rid),
                "type": "image_generation_user_error",
                "param": None,
                "code": "moderation_blocked",
            },
            "moderation_details": {"moderation_stage": call.rng.choice(("input", "output"))},
        }
        return json_response(body, 400, {"x-request-id": rid})

    async def _generate(self, call: Call) -> Response:
        params = await _params(call)
        if isinstance(params, Response):
            return params
        checked = _check(params, call.spec.models)
        if isinstance(checked, Response):
            return checked
        call.state.jobs_created += 1  # a generation is the paid unit the stats count
        return json_response(self._images(call, checked))

    def _images(self, call: Call, req: _Request) -> dict[str, Any]:
        w, h = req.edges
        data: list[dict[str, str]] = []
        for _ in range(req.n):
            image_id = f"img_{hex_id(call.rng, 64)}"
            if req.response_format == "url":
                data.append({"url": _file_url(call, f"{image_id}_{w}x{h}.png")})
            elif req.output_format == "webp":
                data.append({"b64_json": base64.b64encode(media.WEBP_1X1).decode()})
            else:
                png = media.png_bytes(w, h, image_id)
                data.append({"b64_json": base64.b64encode(png).decode()})
        body: dict[str, Any] = {
            "created": int(call.unix),
            "background": "opaque",
            "data": data,
            "output_format": req.output_format,
            "quality": req.quality if req.quality != "auto" else "medium",
            "size": f"{w}x{h}",
        }
        if not req.model.startswith("dall-e"):  # GPT image models bill tokens and say so
            body["usage"] = _usage(req)
        return body

    def _file(self, call: Call) -> Response:
        m = _FILE.match(call.path.strip("/").split("/")[2])
        edges = _edges(f"{m.group(2)}x{m.group(3)}") if m else None
        if m is None or edges is None:
            return Response(b"BlobNotFound", status_code=404, media_type="application/xml")
        return Response(media.png_bytes(*edges, m.group(1)), media_type="image/png")


@dataclass(frozen=True, slots=True)
class _Request:
    """A checked generation request."""

    model: str
    n: int
    edges: tuple[int, int]
    quality: str
    output_format: str
    response_format: str
    prompt: str


def _usage(req: _Request) -> dict[str, Any]:
    text = max(1, round(len(req.prompt.split()) * _PROMPT_TOKENS_PER_WORD))
    image = _IMAGE_TOKENS[req.quality] * req.n
    return {
        "input_tokens": text,
        "input_tokens_details": {"image_tokens": 0, "text_tokens": text},
        "output_tokens": image,
        "output_tokens_details": {"image_tokens": image, "text_tokens": 0},
        "total_tokens": text + image,
    }


def _file_url(call: Call, name: str) -> str:
    url = call.request.url
    prefix = url.path[: len(url.path) - len(call.path)] if url.path.endswith(call.path) else ""
    return f"{url.scheme}://{url.netloc}{prefix}/images/files/{name}"


_BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent "
    "was not valid JSON.)"
)


async def _params(call: Call) -> dict[str, object] | Response:
    raw = await call.request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        return _bad_request(_BAD_JSON, None, None)
    if not isinstance(body, dict):
        return _bad_request(_BAD_JSON, None, None)
    return body


def _type_error(param: str, expected: str) -> Response:
    return _bad_request(f"Invalid type for '{param}': expected {expected}.", "invalid_type", param)


def _choice(params: dict[str, object], key: str, default: str, allowed: tuple[str, ...]) -> Any:
    value = params.get(key)
    if value is None:
        return default
    if not isinstance(value, str) or value not in allowed:
        return _invalid_value(key, value, allowed)
    return value


def _check(params: dict[str, object], models: tuple[str, ...]) -> _Request | Response:
    for key in params:
        if key not in _FIELDS:
            return _bad_request(f"Unknown parameter: '{key}'.", "unknown_parameter", key)
    prompt = params.get("prompt")
    if prompt is None:
        return _bad_request(
            "Missing required parameter: 'prompt'.", "missing_required_parameter", "prompt"
        )
    if not isinstance(prompt, str):
        return _type_error("prompt", "a string")
    model = params.get("model") or models[0]
    if not isinstance(model, str) or model not in models:
        return _invalid_value("model", model, models)
    n = params.get("n", 1)
    if n is None:
        n = 1
    if not isinstance(n, int) or isinstance(n, bool):
        return _type_error("n", "an integer")
    if not 1 <= n <= 10:
        return _bad_request(
            f"Invalid 'n': integer out of range. Expected a value between 1 and 10, but got {n} "
            "instead.",
            "integer_out_of_range",
            "n",
        )
    size = params.get("size") or "auto"
    edges = _edges(size) if isinstance(size, str) else None
    if edges is None:
        return _invalid_value("size", size, ("auto", "1024x1024", "1536x1024", "1024x1536"))
    choices = [
        _choice(params, "quality", "auto", _QUALITIES),
        _choice(params, "output_format", "png", _FORMATS),
        _choice(params, "response_format", "b64_json", _RESPONSE_FORMATS),
    ]
    if bad := next((c for c in choices if isinstance(c, Response)), None):
        return bad
    quality, output_format, response_format = (str(c) for c in choices)
    return _Request(model, n, edges, quality, output_format, response_format, prompt)
