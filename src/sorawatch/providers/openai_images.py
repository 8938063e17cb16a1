"""Adapter for the ``openai-images`` protocol: OpenAI's Image API and faithful relays (the seed's
"Sora images" row).

The light probe costs nothing: it sends exactly one authenticated ``GET {base_url}/models/{model}``
(the key is valid and the model still exists; a ``shutdown_date`` becomes a sunset warning,
404 ``model_not_found`` is retired). It never calls ``/images/generations``: every generation is
billed, and the Image API has no free route that proves the generation path itself.

``create`` is one generation, ``POST {base_url}/images/generations`` with ``{"model", "prompt",
"n": 1}`` plus ``request.extra`` (e.g. ``{"quality": "low", "size": "1024x1024"}``, the cheapest
canary). Generation is synchronous, so the job comes back ``completed`` with the answer (images
as ``b64_json`` or ``url``) in ``job.raw``. Images are not stored upstream: the adapter keeps its
last few generations so ``retrieve`` and ``download`` can answer for them. A 400
``moderation_blocked`` is ``rejected`` (the caller's prompt, not the channel).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

import httpx

from sorawatch.config import ChannelConfig
from sorawatch.domain.observation import Exchange, Verdict
from sorawatch.domain.outcome import Outcome
from sorawatch.providers.base import Download, Job, JobResult, JobState, ProbeResult, VideoRequest
from sorawatch.providers.bearer import BearerAdapter
from sorawatch.providers.http import MAX_BODY, exchange, open_stream

# An image answer carries the image itself in base64 (a few MB at high quality).
MAX_IMAGE_BODY: Final = 64 * 1024 * 1024
KEPT_GENERATIONS: Final = 8
# Image generation takes from seconds to about two minutes; the light timeout is for probes.
GENERATION_TIMEOUT: Final = 180.0
_CONTENT_TYPES: Final = {"png": "image/png", "webp": "image/webp", "jpeg": "image/jpeg"}


@dataclass(frozen=True, slots=True)
class _Kept:
    """A finished generation the adapter remembers: its job, answer, and decoded images."""

    job: Job
    exchange: Exchange
    images: tuple[bytes | str, ...]  # bytes from b64_json, or the URL to fetch
    content_type: str


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _without_payload(ex: Exchange, doc: dict[str, Any]) -> Exchange:
    """The exchange with each base64 image replaced by its length: classification and storage
    need the answer's shape, not megabytes of pixels."""
    slim = dict(doc)
    if isinstance(doc.get("data"), list):
        slim["data"] = [
            {**item, "b64_json": f"<{len(item['b64_json'])} base64 chars>"}
            if isinstance(item, dict) and isinstance(item.get("b64_json"), str)
            else item
            for item in doc["data"]
        ]
    return replace(ex, body=json.dumps(slim, separators=(",", ":")).encode())


def _images(doc: Any) -> tuple[bytes | str, ...] | str:
    """The images of an answer, or why the answer is not a good image answer."""
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list) or not doc["data"]:
        return "answer has no image data"
    out: list[bytes | str] = []
    for item in doc["data"]:
        b64 = item.get("b64_json") if isinstance(item, dict) else None
        url = item.get("url") if isinstance(item, dict) else None
        if isinstance(b64, str) and b64:
            try:
                out.append(base64.b64decode(b64, validate=True))
            except (binascii.Error, ValueError):
                return "image is not valid base64"
        elif isinstance(url, str) and url.startswith(("http://", "https://")):
            out.append(url)
        else:
            return "image has neither b64_json nor url"
    return tuple(out)


def _content_type(doc: dict[str, Any], first: bytes | str) -> str:
    fmt = doc.get("output_format")
    if isinstance(fmt, str) and fmt in _CONTENT_TYPES:
        return _CONTENT_TYPES[fmt]
    if isinstance(first, bytes) and first[8:12] == b"WEBP":
        return "image/webp"
    if isinstance(first, bytes) and first[:2] == b"\xff\xd8":
        return "image/jpeg"
    return "image/png"


def _created(value: object) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None


async def _memory(data: bytes) -> AsyncIterator[bytes]:
    yield data


class OpenAIImages(BearerAdapter):
    protocol: ClassVar[str] = "openai-images"
    produces: ClassVar[str] = "image"

    def __init__(self, channel: ChannelConfig, client: httpx.AsyncClient) -> None:
        super().__init__(channel, client)
        self.generation_timeout = max(GENERATION_TIMEOUT, self._timeout)
        self._kept: OrderedDict[str, _Kept] = OrderedDict()

    async def light_check(self) -> ProbeResult:
        ex = await self._call("GET", f"/models/{self.channel.model}")
        verdict = self._classify(ex)
        if verdict.outcome.is_good:
            body = _json(ex.body)
            if not isinstance(body, dict) or "id" not in body:
                verdict = Verdict(Outcome.BAD_RESPONSE, f"{ex.status} not a model object")
            elif verdict.sunset is not None:
                verdict = replace(
                    verdict,
                    detail=f"{verdict.detail}; model shutdown_date {verdict.sunset:%Y-%m-%d}",
                )
        return ProbeResult(verdict, (ex,), ex.status, ex.latency_ms)

    async def create(self, request: VideoRequest) -> JobResult:
        payload = {"model": request.model or self.channel.model, "prompt": request.prompt, "n": 1}
        payload.update(request.extra)
        ex = await exchange(
            self.client,
            "POST",
            f"{self.channel.base_url}/images/generations",
            secrets=self._secrets,
            timeout=self.generation_timeout,
            headers=self._headers(),
            json=payload,
            max_body=MAX_IMAGE_BODY,
        )
        doc = _json(ex.body) if ex.status is not None and 200 <= ex.status < 300 else None
        shown = (
            _without_payload(ex, doc)
            if isinstance(doc, dict)
            else replace(ex, body=ex.body[:MAX_BODY])
        )
        verdict = self._classify(shown)
        if not verdict.outcome.is_good:
            return JobResult(_with_stage(verdict, shown), shown)
        images = _images(doc)
        if isinstance(images, str):
            return JobResult(Verdict(Outcome.BAD_RESPONSE, f"{ex.status} {images}"), shown)
        assert isinstance(doc, dict)  # _images accepted it
        job = Job(
            id=f"img_{uuid.uuid4().hex}",
            state=JobState.COMPLETED,
            progress=100,
            model=str(payload["model"]),
            size=doc.get("size") if isinstance(doc.get("size"), str) else None,
            created_at=_created(doc.get("created")),
            completed_at=datetime.now(UTC),
            raw=doc,
        )
        self._keep(_Kept(job, shown, images, _content_type(doc, images[0])))
        return JobResult(verdict, shown, job)

    def _keep(self, kept: _Kept) -> None:
        self._kept[kept.job.id] = kept
        while len(self._kept) > KEPT_GENERATIONS:
            self._kept.popitem(last=False)

    def _unknown(self, job_id: str) -> tuple[Verdict, Exchange]:
        # No request is made: the upstream keeps no images. A local 404 stands for the answer.
        ex = Exchange("GET", f"{self.channel.base_url}/images/generations#{job_id}", 404)
        why = f"unknown image job {job_id}: images are only kept for the last generations"
        return Verdict(Outcome.REJECTED, why), ex

    async def retrieve(self, job_id: str) -> JobResult:
        kept = self._kept.get(job_id)
        if kept is None:
            return JobResult(*self._unknown(job_id))
        return JobResult(Verdict(Outcome.OK, "image generation completed"), kept.exchange, kept.job)

    async def download(self, job_id: str, variant: str = "video") -> Download:
        """The image of a kept generation; ``variant`` may pick one by index (``"1"``)."""
        kept = self._kept.get(job_id)
        if kept is None:
            verdict, ex = self._unknown(job_id)
            return Download(verdict, ex)
        index = int(variant) if variant.isdigit() and int(variant) < len(kept.images) else 0
        image = kept.images[index]
        if isinstance(image, bytes):
            ex = replace(kept.exchange, headers={"content-type": kept.content_type}, body=b"")
            return Download(
                Verdict(Outcome.OK, "image in the answer"), ex, kept.content_type, _memory(image)
            )
        # Our key goes only to our own upstream, never to a signed URL on someone else's host.
        own = image.startswith(f"{self.channel.base_url}/")
        return await open_stream(
            self.client,
            image,
            headers={"Authorization": f"Bearer {self._key}"} if own and self._key else None,
            secrets=self._secrets,
            timeout=self.generation_timeout,
            classify=self._classify,
        )


def _with_stage(verdict: Verdict, ex: Exchange) -> Verdict:
    """A moderation block says at which stage it happened (the prompt or the image)."""
    details = (_json(ex.body) or {}) if ex.body else {}
    stage = details.get("moderation_details") if isinstance(details, dict) else None
    where = stage.get("moderation_stage") if isinstance(stage, dict) else None
    if verdict.outcome is Outcome.REJECTED and isinstance(where, str):
        return replace(verdict, detail=f"{verdict.detail} ({where[:20]} moderation)")
    return verdict
