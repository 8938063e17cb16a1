"""The ``http`` protocol: a plain health endpoint, what an ``http`` check usually watches.

``GET``/``HEAD /health`` (under the channel's ``/v1``) answers
``{"status": "ok", "checks": {…}, "version", "time"}``. Faults answer the way a generic web
server or framework does, with plain statuses and small bodies (no vendor envelope): 429 and 503
with ``Retry-After``, 500, 401, 402, 410, a 503 "temporarily paused" maintenance text, and
``malformed`` as a truncated body or a ``{"status": "degraded"}`` that a JSON condition catches.
Faults that only exist on video APIs (``sentinel_block``, ``moderation``, ``job_failures`` …)
leave the endpoint healthy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

from starlette.responses import PlainTextResponse, Response

from sorawatch.simulator.protocols.base import Call
from sorawatch.simulator.wire import json_response, request_id

VERSION = "1.4.2"
BAD_KEY = "sk-bad"


def _retry(call: Call, default: float) -> dict[str, str]:
    return {"retry-after": str(math.ceil(call.fault.retry_after_s or default))}


def _text(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(text, status_code=status, headers=headers)


_FAULTS: dict[str, Callable[[Call], Response]] = {
    "rate_limited": lambda call: _text(429, "Too Many Requests", _retry(call, 2.0)),
    "overloaded": lambda call: _text(503, "Service Unavailable", _retry(call, 5.0)),
    "paused": lambda call: _text(503, "This service is temporarily paused.", _retry(call, 60.0)),
    "server_error": lambda call: _text(500, "Internal Server Error"),
    "auth_failed": lambda call: json_response({"error": "unauthorized"}, 401),
    "quota_exhausted": lambda call: json_response({"error": "payment required"}, 402),
    "retired": lambda call: _text(410, "Gone"),
    "gone": lambda call: _text(410, "Gone"),
}


class HttpCheckProtocol:
    name: ClassVar[str] = "http"
    routes: ClassVar[tuple[str, ...]] = ("health",)

    def route_name(self, method: str, path: str) -> str | None:
        if path.strip("/") == "health" and method in ("GET", "HEAD"):
            return "health"
        return None

    async def handle(self, call: Call) -> Response:
        auth = call.request.headers.get("authorization", "")
        if auth.partition(" ")[2].strip() == BAD_KEY:
            response: Response = json_response({"error": "unauthorized"}, 401)
        elif call.route is None:
            response = _text(404, "Not Found")
        elif (builder := _FAULTS.get(call.fault.fault)) is not None:
            response = builder(call)
        else:
            response = json_response(self._health(call))
        response.headers.setdefault("x-request-id", request_id(call.rng))
        return response

    def malformed(self, call: Call, mode: str) -> Response:
        if mode == "wrong_shape":
            return json_response({"status": "degraded", "checks": {"database": "down"}})
        return Response(b'{"status":"o', media_type="application/json")

    def _health(self, call: Call) -> dict[str, Any]:
        return {
            "status": "ok",
            "checks": {"database": "ok", "queue": "ok"},
            "version": VERSION,
            "time": int(call.unix),
        }
