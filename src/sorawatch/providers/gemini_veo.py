"""Adapter for the ``gemini-veo`` protocol: Veo as a Google long-running operation.

Two modes, chosen by the channel's ``base_url``:

- **Gemini Developer API**: ``base_url`` is the versioned root, e.g.
  ``https://generativelanguage.googleapis.com/v1beta``; the key goes in ``x-goog-api-key``.
- **Vertex AI**: ``base_url`` names the project and location, e.g.
  ``https://us-central1-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-central1``
  (any URL whose path holds ``/projects/…/locations/…``, so a simulator on 127.0.0.1 can speak
  it too); ``api_key`` is an OAuth access token sent as ``Authorization: Bearer``.

The light probe costs nothing: one authenticated GET of the model's metadata, never a
generation (``docs/probes.md``). A job id is the operation's ``name``. ``retrieve`` reads the
operation (``GET {name}`` on the Gemini API, ``POST …:fetchPredictOperation`` on Vertex):
``done`` with samples is ``completed``; ``done`` with ``raiMediaFilteredCount > 0`` and no
samples is a safety block, ``failed`` with the code ``raiMediaFiltered`` (``rejected``, the
prompt's fault); ``done`` with an ``error`` is ``failed`` (``rejected`` for
``INVALID_ARGUMENT``, Veo's answer to a refused prompt, else ``job_failed``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, ClassVar, Final
from urllib.parse import quote, urljoin, urlsplit

import httpx

from sorawatch.config import ChannelConfig
from sorawatch.domain.classify import classify, classify_job_failure
from sorawatch.domain.observation import Exchange, Verdict
from sorawatch.domain.outcome import Outcome
from sorawatch.errors import ConfigError
from sorawatch.providers.base import (
    Download,
    Job,
    JobResult,
    JobState,
    ProbeResult,
    VideoRequest,
)
from sorawatch.providers.http import MAX_BODY, exchange, open_stream

# An operation on Vertex may carry its videos inline (base64): read that much of it at most.
MAX_OPERATION_BODY: Final = 256 * 1024 * 1024
MAX_REDIRECTS: Final = 3
GCS_DOWNLOAD: Final = "https://storage.googleapis.com/download/storage/v1/b/{bucket}/o/{object}"
RAI_FILTERED: Final = "raiMediaFiltered"  # the job error code of a safety block
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_CHUNK: Final = 64 * 1024

# google.rpc.Code numbers, as an operation's ``error.code`` carries them.
RPC_CODES: Final = {
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    16: "UNAUTHENTICATED",
}


class Mode(StrEnum):
    GEMINI = "gemini"
    VERTEX = "vertex"


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where each call of one channel goes."""

    mode: Mode
    api_root: str  # Gemini: the versioned root; Vertex: ``…/v1`` before ``/projects/``
    parent: str = ""  # Vertex: ``projects/{p}/locations/{l}``

    def model(self, model: str) -> str:
        """The model's resource URL (the prefix of its methods)."""
        if self.mode is Mode.VERTEX:
            return f"{self.api_root}/{self.parent}/publishers/google/models/{model}"
        return f"{self.api_root}/models/{model}"

    def probe(self, model: str) -> str:
        """The free metadata GET: the Gemini model, or Vertex's publisher model."""
        if self.mode is Mode.VERTEX:
            return f"{self.api_root}/publishers/google/models/{model}"
        return self.model(model)

    def create(self, model: str) -> str:
        return f"{self.model(model)}:predictLongRunning"

    def operation(self, name: str) -> str:
        """Gemini: the URL to GET. Vertex: the ``fetchPredictOperation`` URL to POST to."""
        if self.mode is Mode.VERTEX:
            resource = name.rpartition("/operations/")[0]
            return f"{self.api_root}/{resource}:fetchPredictOperation"
        return f"{self.api_root}/{name}"


def endpoints(base_url: str) -> Endpoints:
    """The mode and URLs a ``base_url`` implies; ``ConfigError`` for a Vertex URL without a
    project and location (the API needs them in every path)."""
    base = base_url.rstrip("/")
    path = urlsplit(base).path
    start = path.find("/projects/")
    if start >= 0 and "/locations/" in path[start:]:
        cut = len(base) - len(path) + start
        return Endpoints(Mode.VERTEX, base[:cut], base[cut + 1 :])
    if "aiplatform.googleapis.com" in urlsplit(base).netloc:
        raise ConfigError(
            f"gemini-veo on Vertex AI needs base_url …/v1/projects/PROJECT/locations/LOCATION, "
            f"got {base_url!r}"
        )
    return Endpoints(Mode.GEMINI, base)


def gcs_download_url(uri: str) -> str | None:
    """``gs://bucket/path`` → the Cloud Storage JSON API media URL; None for anything else."""
    if not uri.startswith("gs://"):
        return None
    bucket, _, obj = uri[5:].partition("/")
    if not bucket or not obj:
        return None
    return GCS_DOWNLOAD.format(bucket=quote(bucket, safe=""), object=quote(obj, safe="")) + (
        "?alt=media"
    )


def video_shape(size: str) -> dict[str, str]:
    """``"1280x720"`` → ``{"aspectRatio": "16:9", "resolution": "720p"}``; {} when Veo has no
    such shape (the API's defaults then apply)."""
    width, sep, height = size.lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit()):
        return {}
    w, h = int(width), int(height)
    aspect = "16:9" if w * 9 == h * 16 else "9:16" if w * 16 == h * 9 else None
    resolution = {720: "720p", 1080: "1080p", 2160: "4k"}.get(min(w, h))
    if aspect is None or resolution is None:
        return {}
    return {"aspectRatio": aspect, "resolution": resolution}


# --- reading operations ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """One generated video: a URL to fetch, or its bytes inline."""

    uri: str | None = None
    inline: str | None = None  # base64
    mime_type: str = "video/mp4"


def _samples(response: dict[str, Any], mode: Mode) -> tuple[list[Sample], dict[str, Any]]:
    """The samples of a done operation's response, and the object carrying the RAI counts."""
    if mode is Mode.VERTEX:
        found = [
            Sample(v.get("gcsUri"), v.get("bytesBase64Encoded"), v.get("mimeType") or "video/mp4")
            for v in response.get("videos") or ()
            if isinstance(v, dict)
        ]
        return [s for s in found if s.uri or s.inline], response
    result = response.get("generateVideoResponse")
    result = result if isinstance(result, dict) else {}
    samples = []
    for item in result.get("generatedSamples") or ():
        video = item.get("video") if isinstance(item, dict) else None
        if isinstance(video, dict) and (video.get("uri") or video.get("encodedVideo")):
            mime = video.get("encoding") or "video/mp4"
            samples.append(Sample(video.get("uri"), video.get("encodedVideo"), mime))
    return samples, result


def samples_of(doc: Any, mode: Mode) -> list[Sample]:
    """The videos of a done operation document (empty when it has none)."""
    response = doc.get("response") if isinstance(doc, dict) else None
    return _samples(response, mode)[0] if isinstance(response, dict) else []


def _model_of(name: str) -> str:
    head = name.rpartition("/operations/")[0]
    return head.rpartition("/models/")[2] if "/models/" in head else head.removeprefix("models/")


def _failed(doc: dict[str, Any], code: str, message: str) -> Job:
    name = doc["name"]
    return Job(
        name,
        JobState.FAILED,
        100,
        _model_of(name),
        error_code=code,
        error_message=message[:500],
        raw=doc,
    )


def _rpc_code(error: dict[str, Any]) -> str:
    """An operation error's code by name (``INTERNAL``), whether it came as a name or a number."""
    if isinstance(status := error.get("status"), str) and status:
        return status
    number = error.get("code")
    if isinstance(number, int) and not isinstance(number, bool):
        return RPC_CODES.get(number, str(number))
    return str(number) if number is not None else "UNKNOWN"


def parse_operation(doc: Any, mode: Mode) -> Job | None:
    """A Google operation to a ``Job``, or None when the document is not an operation."""
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str) or not doc["name"]:
        return None
    name: str = doc["name"]
    if doc.get("done") is not True:
        return Job(name, JobState.IN_PROGRESS, 0, _model_of(name), raw=doc)
    error = doc.get("error")
    if isinstance(error, dict):
        return _failed(doc, _rpc_code(error), str(error.get("message") or ""))
    response = doc.get("response")
    samples, counts = _samples(response, mode) if isinstance(response, dict) else ([], {})
    if samples:
        return Job(name, JobState.COMPLETED, 100, _model_of(name), raw=doc)
    filtered = counts.get("raiMediaFilteredCount")
    if isinstance(filtered, int) and filtered > 0:
        reasons = counts.get("raiMediaFilteredReasons") or []
        text = "; ".join(r for r in reasons if isinstance(r, str)) or "filtered by safety"
        return _failed(doc, RAI_FILTERED, f"{filtered} video(s) filtered: {text}")
    return _failed(doc, "no_samples", "the operation finished without any video")


def job_outcome(job: Job) -> Outcome:
    """What a failed operation says: a refused prompt or a safety block is the caller's."""
    if job.error_code == "INVALID_ARGUMENT":
        return Outcome.REJECTED
    return classify_job_failure(job.error_code, job.error_message)


def _without_inline(doc: dict[str, Any]) -> dict[str, Any]:
    """The operation with inline video bytes replaced by their size (kept out of ``raw``)."""
    response = doc.get("response")
    if not isinstance(response, dict):
        return doc
    videos = response.get("videos")
    if not isinstance(videos, list):
        return doc
    slim = [
        {**v, "bytesBase64Encoded": f"<{len(v['bytesBase64Encoded'])} base64 chars>"}
        if isinstance(v, dict) and isinstance(v.get("bytesBase64Encoded"), str)
        else v
        for v in videos
    ]
    return {**doc, "response": {**response, "videos": slim}}


def _json(ex: Exchange) -> Any:
    try:
        return json.loads(ex.body)
    except (ValueError, UnicodeDecodeError):
        return None


async def _memory(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), _CHUNK):
        yield data[start : start + _CHUNK]


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


class GeminiVeo:
    protocol: ClassVar[str] = "gemini-veo"
    produces: ClassVar[str] = "video"

    def __init__(self, channel: ChannelConfig, client: httpx.AsyncClient) -> None:
        self.channel = channel
        self.client = client
        self.urls = endpoints(channel.base_url)
        self._key = channel.api_key.get_secret_value() if channel.api_key else ""
        self._secrets = (self._key,) if self._key else ()
        self._timeout = channel.probes.light.timeout if channel.probes.light else 15.0

    @property
    def mode(self) -> Mode:
        return self.urls.mode

    def _auth(self) -> dict[str, str]:
        if self.mode is Mode.VERTEX:
            return {"Authorization": f"Bearer {self._key}"}
        return {"x-goog-api-key": self._key}

    def _classify(self, ex: Exchange) -> Verdict:
        return classify(ex, slow_ms=self.channel.thresholds.slow_ms, secrets=self._secrets)

    async def _call(self, method: str, url: str, **kwargs: Any) -> Exchange:
        headers = {**self._auth(), "Accept": "application/json"}
        return await exchange(
            self.client,
            method,
            url,
            secrets=self._secrets,
            timeout=self._timeout,
            headers=headers,
            **kwargs,
        )

    async def light_check(self) -> ProbeResult:
        ex = await self._call("GET", self.urls.probe(self.channel.model))
        verdict = self._classify(ex)
        if verdict.outcome.is_good:
            body = _json(ex)
            methods = body.get("supportedGenerationMethods") if isinstance(body, dict) else None
            if not isinstance(body, dict) or not isinstance(body.get("name"), str):
                verdict = Verdict(Outcome.BAD_RESPONSE, f"{ex.status} not a model object")
            elif isinstance(methods, list) and "predictLongRunning" not in methods:
                verdict = Verdict(
                    Outcome.BAD_RESPONSE, f"{ex.status} model does not offer predictLongRunning"
                )
        return ProbeResult(verdict, (ex,), ex.status, ex.latency_ms)

    async def create(self, request: VideoRequest) -> JobResult:
        model = request.model or self.channel.model
        parameters: dict[str, Any] = {
            "sampleCount": 1,
            "durationSeconds": request.seconds,
            **video_shape(request.size),
            **request.extra,
        }
        payload = {"instances": [{"prompt": request.prompt}], "parameters": parameters}
        ex = await self._call("POST", self.urls.create(model), json=payload)
        return self._job_result(ex)

    async def _operation(self, job_id: str) -> tuple[Exchange, Any]:
        """The operation's answer (inline videos stripped from the exchange) and its document."""
        if self.mode is Mode.VERTEX:
            url = self.urls.operation(job_id)
            ex = await self._call(
                "POST", url, json={"operationName": job_id}, max_body=MAX_OPERATION_BODY
            )
        else:
            ex = await self._call("GET", self.urls.operation(job_id), max_body=MAX_OPERATION_BODY)
        doc = _json(ex) if ex.status is not None and 200 <= ex.status < 300 else None
        if isinstance(doc, dict):
            slim = json.dumps(_without_inline(doc), ensure_ascii=False).encode()
            return replace(ex, body=slim[:MAX_BODY]), doc
        return replace(ex, body=ex.body[:MAX_BODY]), doc

    def _job_result(self, ex: Exchange, doc: Any = None) -> JobResult:
        verdict = self._classify(ex)
        if not verdict.outcome.is_good:
            return JobResult(verdict, ex)
        job = parse_operation(_json(ex) if doc is None else doc, self.mode)
        if job is None:
            return JobResult(Verdict(Outcome.BAD_RESPONSE, f"{ex.status} not an operation"), ex)
        job = replace(job, raw=_without_inline(job.raw))
        if job.state is JobState.FAILED:
            verdict = Verdict(job_outcome(job), f"job failed: {job.error_code}")
        return JobResult(verdict, ex, job)

    async def retrieve(self, job_id: str) -> JobResult:
        ex, doc = await self._operation(job_id)
        return self._job_result(ex, doc)

    async def download(self, job_id: str, variant: str = "video") -> Download:
        """The operation's video; ``variant`` may pick a sample by index (``"1"``)."""
        ex, doc = await self._operation(job_id)
        result = self._job_result(ex, doc)
        if not result.verdict.outcome.is_good or result.job is None:
            return Download(result.verdict, ex)
        if result.job.state is not JobState.COMPLETED:
            why = f"operation {result.job.state.value}: no video to download"
            return Download(Verdict(Outcome.REJECTED, why), ex)
        samples = samples_of(doc, self.mode)
        sample = (
            samples[int(variant)]
            if variant.isdigit() and int(variant) < len(samples)
            else (samples[0])
        )
        if sample.inline is not None:
            try:
                data = base64.b64decode(sample.inline, validate=True)
            except ValueError:
                return Download(Verdict(Outcome.BAD_RESPONSE, "inline video is not base64"), ex)
            shown = replace(ex, headers={"content-type": sample.mime_type}, body=b"")
            verdict = Verdict(Outcome.OK, "video inline in the operation")
            return Download(verdict, shown, sample.mime_type, _memory(data))
        assert sample.uri is not None
        gcs = gcs_download_url(sample.uri)
        if gcs is not None:  # Vertex wrote it to Cloud Storage: same Google identity reads it
            return await self._fetch(gcs, {"Authorization": f"Bearer {self._key}"})
        return await self._fetch(sample.uri, None)

    async def _fetch(self, url: str, headers: dict[str, str] | None) -> Download:
        """GET a video, following redirects; the key goes only to the channel's own origin."""
        own = _origin(url) == _origin(self.channel.base_url)
        sent = headers if headers is not None else (self._auth() if own else {})
        for _ in range(MAX_REDIRECTS + 1):
            got = await open_stream(
                self.client,
                url,
                headers=sent,
                secrets=self._secrets,
                timeout=self._timeout,
                classify=self._classify,
            )
            location = got.exchange.headers.get("location")
            if got.exchange.status not in _REDIRECTS or not location:
                return got
            following = urljoin(url, location)
            if _origin(following) != _origin(url):
                sent = {}  # a signed URL elsewhere needs no key, and must not see ours
            url = following
        return Download(Verdict(Outcome.BAD_RESPONSE, "too many redirects"), got.exchange)
