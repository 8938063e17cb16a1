"""Adapter for the ``openai-videos`` protocol: OpenAI's ``/v1/videos`` and faithful relays.

The light probe costs nothing. It sends exactly two authenticated GETs and never starts a job:

1. ``GET {base_url}/models/{model}`` — the key is valid and the model still exists (a
   ``shutdown_date`` in the answer becomes a sunset warning; 404 ``model_not_found`` = retired);
2. ``GET {base_url}/videos?limit=1`` — the videos route itself answers for this key (a relay can
   list a model yet have its video route down, paused or behind a Cloudflare challenge).

The first answer that is not good decides the verdict; otherwise the models call's latency is
the probe's latency.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sorawatch.domain.classify import classify_job_failure
from sorawatch.domain.observation import Exchange, Verdict
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

_STATES = {s.value: s for s in JobState}


def _ts(value: object) -> datetime | None:
    """Unix seconds, or milliseconds as some gateways send, to a UTC datetime."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    seconds = value / 1000 if value > 10**11 else value
    return datetime.fromtimestamp(seconds, UTC)


def _shutdown_date(model: dict[str, Any]) -> datetime | None:
    raw = model.get("shutdown_date")
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_job(body: Any, poll_after_ms: int | None = None) -> Job | None:
    """A Video object to a ``Job``, or None when the shape is not a Video."""
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        return None
    state = _STATES.get(str(body.get("status", "")).lower())
    if state is None:
        return None
    progress = body.get("progress")
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    return Job(
        id=body["id"],
        state=state,
        progress=progress if isinstance(progress, int) else 0,
        model=str(body.get("model", "")),
        seconds=str(body["seconds"]) if body.get("seconds") is not None else None,
        size=body.get("size") if isinstance(body.get("size"), str) else None,
        created_at=_ts(body.get("created_at")),
        completed_at=_ts(body.get("completed_at")),
        error_code=error.get("code") if error else None,
        error_message=error.get("message") if error else None,
        poll_after_ms=poll_after_ms,
        raw=body,
    )


class OpenAIVideos(BearerAdapter):
    protocol: ClassVar[str] = "openai-videos"

    async def light_check(self) -> ProbeResult:
        model_ex = await self._call("GET", f"/models/{self.channel.model}")
        verdict = self._classify(model_ex)
        exchanges: tuple[Exchange, ...] = (model_ex,)
        if verdict.outcome.is_good:
            body = json_of(model_ex)
            if not isinstance(body, dict) or "id" not in body:
                verdict = bad_shape(model_ex, "model answer is not a model object")
            elif sunset := _shutdown_date(body):
                verdict = Verdict(
                    verdict.outcome,
                    f"{verdict.detail}; model shutdown_date {sunset.date().isoformat()}",
                    deprecation=verdict.deprecation,
                    sunset=sunset,
                )
        if verdict.outcome.is_good:
            route_ex = await self._call("GET", "/videos", params={"limit": "1"})
            exchanges += (route_ex,)
            route = self._classify(route_ex)
            if not route.outcome.is_good:
                verdict = route
            elif not isinstance((json_of(route_ex) or {}).get("data"), list):
                verdict = bad_shape(route_ex, "video list answer has no data list")
        return ProbeResult(
            verdict=verdict,
            exchanges=exchanges,
            http_status=exchanges[-1].status if not verdict.outcome.is_good else model_ex.status,
            latency_ms=model_ex.latency_ms,
        )

    def _job_result(self, ex: Exchange) -> JobResult:
        verdict = self._classify(ex)
        if not verdict.outcome.is_good:
            return JobResult(verdict, ex)
        poll = ex.headers.get("openai-poll-after-ms", "")
        job = parse_job(json_of(ex), int(poll) if poll.isdigit() else None)
        if job is None:
            return JobResult(bad_shape(ex, "answer is not a video object"), ex)
        if job.state is JobState.FAILED:
            outcome = classify_job_failure(job.error_code, job.error_message)
            verdict = Verdict(outcome, f"job failed: {job.error_code or 'no code'}")
        return JobResult(verdict, ex, job)

    async def create(self, request: VideoRequest) -> JobResult:
        payload = {
            "model": request.model,
            "prompt": request.prompt,
            "seconds": str(request.seconds),  # the API wants a string; an int is a 400
            "size": request.size,
            **request.extra,
        }
        return self._job_result(await self._call("POST", "/videos", json=payload))

    async def retrieve(self, job_id: str) -> JobResult:
        return self._job_result(await self._call("GET", f"/videos/{job_id}"))

    async def download(self, job_id: str, variant: str = "video") -> Download:
        headers = {"Authorization": f"Bearer {self._key}", "Accept": "application/binary"}
        return await open_stream(
            self.client,
            f"{self.channel.base_url}/videos/{job_id}/content",
            params={"variant": variant},
            headers=headers,
            secrets=self._secrets,
            timeout=self._timeout,
            classify=self._classify,
        )
