"""Adapter for the ``aggregator-videos`` protocol: OpenRouter's video API shape on ``/videos``.

The light probe costs nothing. It sends exactly one authenticated GET and never starts a job:
``GET {base_url}/videos/models``, the aggregator's video catalog. It proves the key works and
the video API answers, and the channel's model must be in the catalog: an aggregator drops a
model from its catalog when the model is withdrawn, so a model left out is ``retired``.

Creates send ``duration`` as an integer (the aggregator refuses a string), and ``resolution`` /
``aspect_ratio`` derived from the request's ``size`` (``1280x720`` → ``720p``, ``16:9``) unless
``extra`` names them. A job answer's ``cancelled`` and ``expired`` are failures
(``JobState.FAILED``) with the error codes ``job_cancelled`` / ``job_expired``; ``usage.cost``
becomes the job's ``cost_usd``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Final

from sorawatch.domain.classify import classify_job_failure
from sorawatch.domain.observation import Exchange, Verdict
from sorawatch.domain.outcome import Outcome
from sorawatch.providers.base import (
    Download,
    Job,
    JobResult,
    JobState,
    ProbeResult,
    VideoRequest,
)
from sorawatch.providers.bearer import BearerAdapter
from sorawatch.providers.http import bad_shape, json_of, open_stream

STATES: Final[dict[str, JobState]] = {
    "pending": JobState.QUEUED,
    "queued": JobState.QUEUED,
    "in_progress": JobState.IN_PROGRESS,
    "processing": JobState.IN_PROGRESS,
    "completed": JobState.COMPLETED,
    "failed": JobState.FAILED,
    "cancelled": JobState.FAILED,
    "canceled": JobState.FAILED,
    "expired": JobState.FAILED,
}
# Terminal words that are failures of their own kind: the code a job carries for them.
FAILURE_CODES: Final = {
    "cancelled": "job_cancelled",
    "canceled": "job_cancelled",
    "expired": "job_expired",
}


def resolution_of(size: str) -> tuple[str, str] | None:
    """``"1280x720"`` → ``("720p", "16:9")``; None when ``size`` is not ``WxH``."""
    width, sep, height = size.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        return None
    w, h = int(width), int(height)
    if w == 0 or h == 0:
        return None
    g = math.gcd(w, h)
    return f"{min(w, h)}p", f"{w // g}:{h // g}"


def _cost(body: dict[str, Any]) -> float | None:
    usage = body.get("usage")
    cost = usage.get("cost") if isinstance(usage, dict) else None
    if isinstance(cost, int | float) and not isinstance(cost, bool) and math.isfinite(cost):
        return float(cost)
    return None


def parse_job(body: Any) -> Job | None:
    """An aggregator job answer to a ``Job``, or None when the shape is not a job."""
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        return None
    word = str(body.get("status", "")).strip().lower()
    state = STATES.get(word)
    if state is None:
        return None
    error = body.get("error")
    message = error if isinstance(error, str) and error.strip() else None
    if isinstance(error, dict):  # some clones nest it OpenAI-style
        message = str(error.get("message") or "") or None
    code = FAILURE_CODES.get(word) if state is JobState.FAILED else None
    if isinstance(error, dict) and error.get("code") not in (None, ""):
        code = code or str(error["code"])
    return Job(
        id=body["id"],
        state=state,
        progress=100 if state is JobState.COMPLETED else 0,
        model=str(body.get("model", "")),
        error_code=code,
        error_message=message if state is JobState.FAILED else None,
        raw=body,
        cost_usd=_cost(body),
    )


class AggregatorVideos(BearerAdapter):
    protocol: ClassVar[str] = "aggregator-videos"

    async def light_check(self) -> ProbeResult:
        ex = await self._call("GET", "/videos/models")
        verdict = self._classify(ex)
        if verdict.outcome.is_good:
            verdict = self._catalog_verdict(ex, verdict)
        return ProbeResult(verdict, (ex,), ex.status, ex.latency_ms)

    def _catalog_verdict(self, ex: Exchange, verdict: Verdict) -> Verdict:
        body = json_of(ex)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            return bad_shape(ex, "video catalog has no data list")
        if not any(isinstance(m, dict) and m.get("id") == self.channel.model for m in data):
            return Verdict(
                Outcome.RETIRED, f"{ex.status} model {self.channel.model} not in the video catalog"
            )
        return verdict

    def _job_result(self, ex: Exchange) -> JobResult:
        verdict = self._classify(ex)
        if not verdict.outcome.is_good:
            return JobResult(verdict, ex)
        job = parse_job(json_of(ex))
        if job is None:
            return JobResult(bad_shape(ex, "answer is not a video job"), ex)
        if job.state is JobState.FAILED:
            outcome = classify_job_failure(job.error_code, job.error_message)
            verdict = Verdict(outcome, f"job failed: {job.error_code or 'no code'}")
        return JobResult(verdict, ex, job)

    async def create(self, request: VideoRequest) -> JobResult:
        payload: dict[str, Any] = {
            "model": request.model,
            "prompt": request.prompt,
            "duration": int(request.seconds),  # an integer: a string is refused
        }
        derived = resolution_of(request.size)
        if derived is not None:
            payload["resolution"], payload["aspect_ratio"] = derived
        payload.update(request.extra)
        return self._job_result(await self._call("POST", "/videos", json=payload))

    async def retrieve(self, job_id: str) -> JobResult:
        return self._job_result(await self._call("GET", f"/videos/{job_id}"))

    async def download(self, job_id: str, variant: str = "video") -> Download:
        # The content proxy serves outputs by index; a job has one video, at index 0.
        return await open_stream(
            self.client,
            f"{self.channel.base_url}/videos/{job_id}/content",
            params={"index": "0"},
            headers=self._headers("application/octet-stream"),
            secrets=self._secrets,
            timeout=self._timeout,
            classify=self._classify,
        )
