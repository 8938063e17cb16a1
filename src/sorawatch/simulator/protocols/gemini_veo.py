"""The ``gemini-veo`` protocol: Veo behind Google's long-running operations, in two modes.

Wire details follow upstream-protocols.md §3 and §5 item 8. A channel serves both modes; the
path decides which one a request speaks (the channel's URL is ``…/ch/<id>/v1``):

- Gemini Developer API under ``…/v1beta`` (``x-goog-api-key`` header or ``?key=``):
  ``POST models/{m}:predictLongRunning`` → ``{"name": "models/{m}/operations/{id}"}``;
  ``GET models/{m}/operations/{id}`` → the operation (no ``done`` while it runs, then
  ``response.generateVideoResponse.generatedSamples[].video.uri``); ``GET
  files/{id}:download?alt=media`` (key needed) → 302 to a signed, key-less stand-in for the
  storage URL (``blobs/{id}?sig=…``) → ``video/mp4``; ``GET models`` and ``GET models/{m}`` (free).
- Vertex AI under ``…/v1/projects/{p}/locations/{l}/publishers/google/models/{m}``
  (``Authorization: Bearer``): ``:predictLongRunning``, ``:fetchPredictOperation``
  (``POST {"operationName"}``) with ``response.videos[]`` carrying ``bytesBase64Encoded`` (or
  ``gcsUri`` when the request named a ``storageUri``); ``GET …/v1/publishers/google/models/{m}``
  (free, no project in the path).

Errors use the ``google.rpc.Status`` envelope. A bad key (``sk-bad``) is 400
``INVALID_ARGUMENT`` with ErrorInfo ``API_KEY_INVALID`` on the Gemini API, 401
``UNAUTHENTICATED`` on Vertex; a missing key or ``sk-leaked`` is 403 ``PERMISSION_DENIED``.
Faults: ``rate_limited`` / ``quota_exhausted`` are 429 ``RESOURCE_EXHAUSTED`` with
``QuotaFailure`` (a per-minute / a ``PerDay`` quota id) and ``RetryInfo.retryDelay``;
``overloaded`` 503 ``UNAVAILABLE``; ``server_error`` 500 ``INTERNAL``; ``auth_failed`` the
bad-key answer on the Gemini API and 403 ``IAM_PERMISSION_DENIED`` on Vertex; ``retired`` 404
``NOT_FOUND`` "…is no longer available"; ``moderation`` makes the creates it hits end ``done``
with ``raiMediaFilteredCount > 0`` and no samples (a safety block); ``job_failures`` makes jobs
end ``done`` with an ``error``. ``paused``, ``gone``, ``sentinel_block``, ``no_tokens`` and
``risk_control_cn`` have no Google form and answer normally; the transport faults
(``cloudflare``, ``timeout``, ``slow``, ``sunset``, ``connection_refused``) are the engine's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from starlette.responses import RedirectResponse, Response

from sorawatch.simulator import media
from sorawatch.simulator.jobs import JobRecord
from sorawatch.simulator.protocols.base import Call
from sorawatch.simulator.scenario import Fault
from sorawatch.simulator.wire import json_response

BAD_KEY: Final = "sk-bad"
LEAKED_KEY: Final = "sk-leaked"
GEMINI_HOST: Final = "generativelanguage.googleapis.com"
VERTEX_HOST: Final = "aiplatform.googleapis.com"

KEY_INVALID: Final = "API key not valid. Please pass a valid API key."
KEY_LEAKED: Final = "Your API key was reported as leaked. Please use another API key."
NO_CALLER: Final = (
    "Method doesn't allow unregistered callers (callers without established identity). Please "
    "use API Key or other form of API consumer identity to call this API."
)
BAD_TOKEN: Final = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
NO_TOKEN: Final = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
QUOTA_MESSAGE: Final = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
)
OVERLOADED_MESSAGE: Final = "The model is overloaded. Please try again later."
INTERNAL_MESSAGE: Final = (
    "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting"
)
NOT_FOUND_MESSAGE: Final = "Requested entity was not found."
JOB_ERROR: Final = {
    "code": 13,
    "message": "Video generation failed due to an internal error. Please try again later.",
}
RAI_REASON: Final = (
    "Unable to show generated video. All videos were filtered out because they violated the "
    "usage guidelines. You will not be charged for blocked videos. Try rephrasing the prompt. "
    "If you think this was an error, send feedback. Support codes: 29310472"
)
_GEMINI_RESPONSE_TYPE: Final = (
    "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"
)
_MINUTE_QUOTA: Final = "GenerateRequestsPerMinutePerProjectPerModel"
_DAY_QUOTA: Final = "GenerateRequestsPerDayPerProjectPerModel"
_DEFAULT_RETRY_S: Final = 19.0

DURATIONS: Final = (4, 6, 8)
ASPECTS: Final = ("16:9", "9:16")
RESOLUTIONS: Final = ("720p", "1080p", "4k")
PERSONS: Final = ("allow_all", "allow_adult", "dont_allow")
_COMMON_PARAMS: Final = frozenset(
    {
        "sampleCount",
        "durationSeconds",
        "aspectRatio",
        "resolution",
        "personGeneration",
        "negativePrompt",
        "enhancePrompt",
    }
)
# Refused by the Gemini API (the SDK refuses them client-side in that mode).
VERTEX_ONLY_PARAMS: Final = frozenset(
    {
        "storageUri",
        "fps",
        "seed",
        "pubsubTopic",
        "generateAudio",
        "compressionQuality",
        "resizeMode",
    }
)
_INSTANCE_FIELDS: Final = frozenset(
    {"prompt", "image", "lastFrame", "referenceImages", "video", "mask"}
)

_ALNUM: Final = "abcdefghijklmnopqrstuvwxyz0123456789"
_OP_ID_LEN: Final = 12
_PathTable = tuple[tuple[str, re.Pattern[str], str], ...]
_GEMINI_PATHS: Final[_PathTable] = (
    ("models", re.compile(r"^models/?$"), "GET"),
    ("models", re.compile(r"^models/(?P<model>[^/:]+)$"), "GET"),
    ("create", re.compile(r"^models/(?P<model>[^/:]+):predictLongRunning$"), "POST"),
    ("operation", re.compile(r"^models/(?P<model>[^/:]+)/operations/(?P<op>[a-z0-9]+)$"), "GET"),
    ("file", re.compile(r"^files/(?P<file>[a-z0-9]+):download$"), "GET"),
    ("file", re.compile(r"^blobs/(?P<file>[a-z0-9]+)$"), "GET"),
)
_VERTEX_MODEL: Final = (
    r"^(?P<parent>projects/[^/]+/locations/[^/]+)/publishers/google/models/(?P<model>[^/:]+)"
)
_VERTEX_PATHS: Final[_PathTable] = (
    ("models", re.compile(r"^publishers/google/models/(?P<model>[^/:]+)$"), "GET"),
    ("create", re.compile(_VERTEX_MODEL + r":predictLongRunning$"), "POST"),
    ("operation", re.compile(_VERTEX_MODEL + r":fetchPredictOperation$"), "POST"),
)


@dataclass(frozen=True, slots=True)
class Target:
    """What a request path names."""

    vertex: bool
    route: str
    model: str | None = None
    op: str | None = None
    file: str | None = None
    parent: str = ""  # projects/{p}/locations/{l} (Vertex)
    blob: bool = False  # the signed, key-less download


def parse_target(method: str, path: str) -> Target | None:
    """The route a path names in either mode, or None. Gemini paths arrive as ``beta/…``
    (the ``beta`` of ``v1beta``), Vertex ones as ``/projects/…`` or ``/publishers/…``."""
    if path.startswith("beta/"):
        vertex, rest, table = False, path[5:], _GEMINI_PATHS
    elif path.startswith(("/projects/", "/publishers/")):
        vertex, rest, table = True, path[1:], _VERTEX_PATHS
    else:
        return None
    for route, pattern, verb in table:
        m = pattern.match(rest)
        if m is None or method != verb:
            continue
        groups = m.groupdict()
        return Target(
            vertex=vertex,
            route=route,
            model=groups.get("model"),
            op=groups.get("op"),
            file=groups.get("file"),
            parent=groups.get("parent") or "",
            blob=rest.startswith("blobs/"),
        )
    return None


@dataclass(slots=True)
class VeoJob(JobRecord):
    """A Veo generation: a ``JobRecord`` plus what its operation answer needs."""

    vertex: bool = False
    parent: str = ""
    samples: int = 1
    blocked: bool = False  # the safety filter removes every sample
    storage_uri: str | None = None

    @property
    def op_name(self) -> str:
        if self.vertex:
            return f"{self.parent}/publishers/google/models/{self.model}/operations/{self.id}"
        return f"models/{self.model}/operations/{self.id}"


# --- the google.rpc.Status envelope -----------------------------------------------------------


def google_error(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> Response:
    error: dict[str, Any] = {"code": status, "message": message, "status": code}
    if details:
        error["details"] = details
    return json_response({"error": error}, status)


def _error_info(reason: str, service: str, **metadata: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": service, **metadata},
    }


def _service(vertex: bool) -> str:
    return VERTEX_HOST if vertex else GEMINI_HOST


def key_invalid() -> Response:
    details = [
        _error_info("API_KEY_INVALID", GEMINI_HOST),
        {
            "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
            "locale": "en-US",
            "message": KEY_INVALID,
        },
    ]
    return google_error(400, "INVALID_ARGUMENT", KEY_INVALID, details)


def resource_exhausted(target: Target, model: str, daily: bool, retry_s: float) -> Response:
    service = _service(target.vertex)
    quota_id = _DAY_QUOTA if daily else _MINUTE_QUOTA
    metric = "generate_requests_per_model_per_day" if daily else "generate_requests_per_model"
    details: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": f"{service}/{metric}",
                    "quotaId": quota_id,
                    "quotaDimensions": {"location": "global", "model": model},
                    "quotaValue": "10",
                }
            ],
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [
                {
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                }
            ],
        },
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_s:g}s"},
    ]
    message = (
        f"Quota exceeded for {service}/{metric} with base model: {model}. Please submit a "
        "quota increase request. https://cloud.google.com/vertex-ai/generative-ai/docs/quotas."
        if target.vertex
        else QUOTA_MESSAGE
    )
    return google_error(429, "RESOURCE_EXHAUSTED", message, details)


def _model_path(target: Target, model: str) -> str:
    if target.vertex:
        parent = target.parent or "projects/-/locations/us-central1"
        return f"{parent}/publishers/google/models/{model}"
    return f"models/{model}"


def model_retired(target: Target, model: str) -> Response:
    name = f"Publisher Model `{_model_path(target, model)}`" if target.vertex else f"models/{model}"
    message = (
        f"{name} is no longer available. Please migrate to a supported model: "
        "https://ai.google.dev/gemini-api/docs/deprecations"
    )
    return google_error(404, "NOT_FOUND", message)


def model_unknown(target: Target, model: str) -> Response:
    if target.vertex:
        message = (
            f"Publisher Model `{_model_path(target, model)}` was not found or your project does "
            "not have access to it. Please ensure you are using a valid model version. For more "
            "information, see: https://cloud.google.com/vertex-ai/generative-ai/docs/learn/"
            "model-versions"
        )
    else:
        message = (
            f"models/{model} is not found for API version v1beta, or is not supported for "
            "predictLongRunning. Call ListModels to see the list of available models and their "
            "supported methods."
        )
    return google_error(404, "NOT_FOUND", message)


def _invalid(message: str) -> Response:
    return google_error(400, "INVALID_ARGUMENT", message)


# --- the protocol ----------------------------------------------------------------------------


class GeminiVeoProtocol:
    name: ClassVar[str] = "gemini-veo"
    routes: ClassVar[tuple[str, ...]] = ("create", "operation", "file", "models")

    def route_name(self, method: str, path: str) -> str | None:
        target = parse_target(method, path)
        return target.route if target else None

    async def handle(self, call: Call) -> Response:
        target = parse_target(call.method, call.path)
        if target is None:
            return google_error(404, "NOT_FOUND", f"Method not found: {call.method} {call.path}")
        response = None if target.blob else self._authenticate(call, target)
        if response is None and not call.fault.is_ok:
            response = await self._fault_answer(call, target)
        if response is None:
            response = await self._handlers[target.route](self, call, target)
        return response

    def malformed(self, call: Call, mode: str) -> Response:
        if mode == "wrong_shape":
            return json_response({"predictions": [], "deployedModelId": ""})
        model = call.spec.models[0]
        body = f'{{"name":"models/{model}/operations/{_op_id(call)}","done":tr'
        return Response(body.encode(), media_type="application/json")

    # --- authentication -----------------------------------------------------------------------

    def _authenticate(self, call: Call, target: Target) -> Response | None:
        if target.vertex:
            return _bearer_problem(call)
        key = call.request.headers.get("x-goog-api-key") or call.request.query_params.get("key")
        if not key:
            return google_error(403, "PERMISSION_DENIED", NO_CALLER)
        if key == BAD_KEY:
            return key_invalid()
        if key == LEAKED_KEY:
            details = [_error_info("API_KEY_SERVICE_BLOCKED", GEMINI_HOST)]
            return google_error(403, "PERMISSION_DENIED", KEY_LEAKED, details)
        return None

    # --- faults --------------------------------------------------------------------------------

    async def _fault_answer(self, call: Call, target: Target) -> Response | None:
        fault: Fault = call.fault
        name = fault.fault
        model = target.model or call.spec.models[0]
        if name in ("rate_limited", "quota_exhausted"):
            retry = fault.retry_after_s or _DEFAULT_RETRY_S
            return resource_exhausted(target, model, name == "quota_exhausted", retry)
        if name == "overloaded":
            return google_error(503, "UNAVAILABLE", OVERLOADED_MESSAGE)
        if name == "server_error":
            return google_error(500, "INTERNAL", INTERNAL_MESSAGE)
        if name == "retired":
            return model_retired(target, model)
        if name == "auth_failed":
            return _permission_denied(target, model) if target.vertex else key_invalid()
        return None  # moderation and job_failures shape the jobs; the rest has no Google form

    # --- routes --------------------------------------------------------------------------------

    async def _models(self, call: Call, target: Target) -> Response:
        if target.model is None:
            return json_response({"models": [_gemini_model(m) for m in call.spec.models]})
        if target.model not in call.spec.models:
            return model_unknown(target, target.model)
        if target.vertex:
            return json_response(_vertex_model(target.model))
        return json_response(_gemini_model(target.model))

    async def _create(self, call: Call, target: Target) -> Response:
        assert target.model is not None
        if target.model not in call.spec.models:
            return model_unknown(target, target.model)
        raw = await call.request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return _invalid("Invalid JSON payload received. Unexpected token.")
        checked = check_create(body, target.vertex)
        if isinstance(checked, Response):
            return checked
        prompt, params = checked
        failure_rate = call.spec.job_failure_rate
        if call.in_force.fault == "job_failures":
            failure_rate = max(failure_rate, call.in_force.rate)
        blocked = call.fault.fault == "moderation"
        job = VeoJob(
            id=_vertex_op_id(call) if target.vertex else _op_id(call),
            model=target.model,
            prompt=prompt,
            seconds=str(params.get("durationSeconds", 8)),
            size=str(params.get("resolution", "720p")),
            created_t=call.t,
            queue_s=call.spec.queue_s,
            generate_s=call.spec.generate_s,
            fails=blocked or (failure_rate > 0 and call.rng.random() < failure_rate),
            expires_s=call.spec.expires_s,
            vertex=target.vertex,
            parent=target.parent,
            samples=int(params.get("sampleCount", 1)),
            blocked=blocked,
            storage_uri=params.get("storageUri"),
        )
        call.state.add(job)
        return json_response({"name": job.op_name})

    async def _operation(self, call: Call, target: Target) -> Response:
        op_id = target.op
        if target.vertex:
            name = await _operation_name(call)
            if name is None:
                return _invalid("Invalid value at 'operation_name': expected \"operationName\".")
            resource, _, op_id = name.rpartition("/operations/")
            if resource != _model_path(target, target.model or ""):
                return _invalid(f"Operation {name} does not belong to the requested model.")
        job = call.state.jobs.get(op_id or "")
        if not isinstance(job, VeoJob) or job.vertex != target.vertex or job.model != target.model:
            return google_error(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
        return json_response(_operation(job, call))

    async def _file(self, call: Call, target: Target) -> Response:
        assert target.file is not None
        found = _sample_of(call, target.file)
        if found is None:
            return google_error(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
        job, _ = found
        if job.expired(call.t):
            return google_error(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
        if not target.blob:
            # The real download answers with a redirect to signed storage; so does this one.
            signed = f"{_api_root(call)}/v1beta/blobs/{target.file}?sig={_signature(target.file)}"
            return RedirectResponse(signed, status_code=302)
        if call.request.query_params.get("sig") != _signature(target.file):
            text = "<Error><Code>SignatureDoesNotMatch</Code></Error>"
            return Response(text.encode(), status_code=403, media_type="application/xml")
        return Response(media.mp4_bytes(target.file, _seconds(job)), media_type="video/mp4")

    _handlers: ClassVar[
        dict[str, Callable[[GeminiVeoProtocol, Call, Target], Awaitable[Response]]]
    ] = {
        "models": _models,
        "create": _create,
        "operation": _operation,
        "file": _file,
    }


# --- helpers -----------------------------------------------------------------------------------


def _bearer_problem(call: Call) -> Response | None:
    header = call.request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        details = [_error_info("CREDENTIALS_MISSING", VERTEX_HOST)]
        return google_error(401, "UNAUTHENTICATED", NO_TOKEN, details)
    if token.strip() in (BAD_KEY, LEAKED_KEY):
        details = [_error_info("ACCESS_TOKEN_TYPE_UNSUPPORTED", VERTEX_HOST)]
        return google_error(401, "UNAUTHENTICATED", BAD_TOKEN, details)
    return None


def _permission_denied(target: Target, model: str) -> Response:
    resource = f"//{VERTEX_HOST}/{_model_path(target, model)}"
    message = (
        f"Permission 'aiplatform.endpoints.predict' denied on resource '{resource}' "
        "(or it may not exist)."
    )
    details = [
        _error_info("IAM_PERMISSION_DENIED", VERTEX_HOST, permission="aiplatform.endpoints.predict")
    ]
    return google_error(403, "PERMISSION_DENIED", message, details)


def check_create(body: object, vertex: bool) -> tuple[str | None, dict[str, Any]] | Response:
    """The prompt and parameters of a create body, or the 400 the API answers."""
    if not isinstance(body, dict):
        return _invalid("Invalid JSON payload received. Expected an object.")
    allowed = {"instances", "parameters", "labels"} if vertex else {"instances", "parameters"}
    for key in body:
        if key not in allowed:
            return _invalid(
                f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.'
            )
    instances = body.get("instances")
    if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
        return _invalid("Exactly one instance is required.")
    instance: dict[str, Any] = instances[0]
    for key in instance:
        if key not in _INSTANCE_FIELDS:
            return _invalid(
                f'Invalid JSON payload received. Unknown name "{key}" at '
                f"'instances[0]': Cannot find field."
            )
    prompt = instance.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        return _invalid("Invalid value at 'instances[0].prompt' (TYPE_STRING).")
    if not prompt and "image" not in instance and "video" not in instance:
        return _invalid("A prompt, an image or a video is required.")
    params = body.get("parameters") or {}
    if not isinstance(params, dict):
        return _invalid("Invalid value at 'parameters': expected an object.")
    problem = _check_params(params, vertex)
    return problem if problem is not None else (prompt, params)


def _check_params(params: dict[str, Any], vertex: bool) -> Response | None:
    known = _COMMON_PARAMS | VERTEX_ONLY_PARAMS if vertex else _COMMON_PARAMS
    for key in params:
        if key in VERTEX_ONLY_PARAMS and not vertex:
            return _invalid(
                f"`{key}` isn't supported by this model. Please remove it or refer to the "
                "Gemini API documentation for supported usage."
            )
        if key not in known:
            return _invalid(
                f'Invalid JSON payload received. Unknown name "{key}" at '
                f"'parameters': Cannot find field."
            )
    duration = params.get("durationSeconds", 8)
    if duration not in DURATIONS or isinstance(duration, bool):
        return _invalid(f"`durationSeconds` must be one of 4, 6 or 8; got {duration!r}.")
    for key, allowed in (
        ("aspectRatio", ASPECTS),
        ("resolution", RESOLUTIONS),
        ("personGeneration", PERSONS),
    ):
        value = params.get(key)
        if value is not None and value not in allowed:
            return _invalid(f"`{key}` must be one of {', '.join(allowed)}; got {value!r}.")
    if params.get("resolution", "720p") != "720p" and duration != 8:
        return _invalid("1080p and 4k videos must be 8 seconds long.")
    samples = params.get("sampleCount", 1)
    if not isinstance(samples, int) or isinstance(samples, bool) or not 1 <= samples <= 4:
        return _invalid("`sampleCount` must be an integer between 1 and 4.")
    storage = params.get("storageUri")
    if storage is not None and not (isinstance(storage, str) and storage.startswith("gs://")):
        return _invalid("`storageUri` must be a Cloud Storage URI (gs://bucket/path).")
    return None


async def _operation_name(call: Call) -> str | None:
    try:
        body = json.loads(await call.request.body() or b"null")
    except ValueError:
        return None
    name = body.get("operationName") if isinstance(body, dict) else None
    return name if isinstance(name, str) and "/operations/" in name else None


def _op_id(call: Call) -> str:
    return "".join(call.rng.choice(_ALNUM) for _ in range(_OP_ID_LEN))


def _vertex_op_id(call: Call) -> str:
    h = f"{call.rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _signature(file_id: str) -> str:
    return hashlib.sha256(f"sorawatch-sim:{file_id}".encode()).hexdigest()[:24]


def _seconds(job: JobRecord) -> int:
    return int(job.seconds) if job.seconds.isdigit() else 8


def _api_root(call: Call) -> str:
    """The channel's root, before ``/v1`` (``…/ch/<id>``), as the client reached it."""
    url = call.request.url
    prefix = url.path[: len(url.path) - len(call.path)] if url.path.endswith(call.path) else ""
    return f"{url.scheme}://{url.netloc}{prefix.removesuffix('/v1')}"


def _sample_of(call: Call, file_id: str) -> tuple[VeoJob, int] | None:
    op_id, index = file_id[:_OP_ID_LEN], file_id[_OP_ID_LEN:]
    job = call.state.jobs.get(op_id)
    if not isinstance(job, VeoJob) or job.vertex or not index.isdigit():
        return None
    status, _ = job.status_at(call.t)
    if status != "completed" or int(index) >= job.samples:
        return None
    return job, int(index)


def _operation(job: VeoJob, call: Call) -> dict[str, Any]:
    status, _ = job.status_at(call.t)
    op: dict[str, Any] = {"name": job.op_name}
    if status in ("queued", "in_progress"):
        return op  # a running operation carries neither ``done`` nor a response
    op["done"] = True
    if status == "failed" and not job.blocked:
        op["error"] = dict(JOB_ERROR)
        return op
    op["response"] = _vertex_response(job, call) if job.vertex else _gemini_response(job, call)
    return op


def _rai(job: VeoJob) -> dict[str, Any]:
    if not job.blocked:
        return {}
    return {"raiMediaFilteredCount": job.samples, "raiMediaFilteredReasons": [RAI_REASON]}


def _gemini_response(job: VeoJob, call: Call) -> dict[str, Any]:
    result: dict[str, Any] = _rai(job)
    if not job.blocked:
        root = _api_root(call)
        result["generatedSamples"] = [
            {"video": {"uri": f"{root}/v1beta/files/{job.id}{i}:download?alt=media"}}
            for i in range(job.samples)
        ]
    return {
        "@type": _GEMINI_RESPONSE_TYPE,
        "generateVideoResponse": result,
    }


def _vertex_response(job: VeoJob, call: Call) -> dict[str, Any]:
    response: dict[str, Any] = {
        "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
        "raiMediaFilteredCount": 0,
        **_rai(job),
    }
    if job.blocked:
        return response
    videos: list[dict[str, str]] = []
    for i in range(job.samples):
        if job.storage_uri:
            uri = f"{job.storage_uri.rstrip('/')}/{job.id}/sample_{i}.mp4"
            videos.append({"gcsUri": uri, "mimeType": "video/mp4"})
        else:
            data = media.mp4_bytes(f"{job.id}{i}", _seconds(job))
            encoded = base64.b64encode(data).decode()
            videos.append({"bytesBase64Encoded": encoded, "mimeType": "video/mp4"})
    response["videos"] = videos
    return response


def _gemini_model(model: str) -> dict[str, Any]:
    return {
        "name": f"models/{model}",
        "version": "3.1" if "3.1" in model else "1.0",
        "displayName": model.replace("-", " ").title(),
        "description": "Veo video generation model",
        "inputTokenLimit": 1024,
        "outputTokenLimit": 0,
        "supportedGenerationMethods": ["predictLongRunning"],
    }


def _vertex_model(model: str) -> dict[str, Any]:
    return {
        "name": f"publishers/google/models/{model}",
        "versionId": "001",
        "openSourceCategory": "PROPRIETARY",
        "launchStage": "GA",
        "versionState": "VERSION_STATE_STABLE",
        "publisherModelTemplate": (
            f"projects/{{project}}/locations/{{location}}/publishers/google/models/{model}@001"
        ),
    }
