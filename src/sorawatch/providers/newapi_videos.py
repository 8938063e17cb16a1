"""Adapter for the ``newapi-videos`` protocol: new-api / one-api gateways' ``/v1/videos``.

The light probe costs nothing. It sends exactly two authenticated GETs and never starts a job:

1. ``GET {base_url}/models`` — the key is valid and the gateway lists the model. new-api lists
   the models its group has an enabled channel for, so a model left out is the same state as
   its 503 "…无可用渠道": ``overloaded`` (no channel can take it now), not ``retired``;
2. ``GET {base_url}/videos/task_sorawatch_probe`` — the video task route exists and is the
   gateway's own: it must answer new-api's flat ``{"code":"task_not_exist",…}`` (400, or 404 in
   some forks). A Cloudflare challenge, an HTML page, a 404 "Invalid URL" (a gateway without
   video routes) or any other shape decides the verdict.

Neither call reaches the upstream behind the gateway (new-api answers both from its own
database), so upstream trouble — rate limits, a retired model, anti-bot blocks — shows only on
submits, that is in canaries and real traffic.

Jobs are read in every dialect new-api gateways speak: status synonyms (``succeeded``,
``processing``, ``NOT_START``, ``SUCCESS`` …), ``"45%"`` progress strings, ``created_at`` in
seconds or milliseconds, the fallback create answer without ``object``, and the legacy
``/video/generations`` task wrapper ``{"code":"success","data":{…}}``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
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

PROBE_TASK_ID: Final = "task_sorawatch_probe"

# new-api's Sora adaptor's synonym table (case-insensitive), plus the task DTO's own states.
STATUS_SYNONYMS: Final[dict[str, JobState]] = {
    **dict.fromkeys(
        (
            "queued",
            "pending",
            "submitted",
            "not_start",
            "preparing",
            "unknown",
            "notstarted",
            "created",
            "starting",
        ),
        JobState.QUEUED,
    ),
    **dict.fromkeys(("processing", "in_progress", "running", "generating"), JobState.IN_PROGRESS),
    **dict.fromkeys(
        ("completed", "complete", "success", "succeeded", "finished"), JobState.COMPLETED
    ),
    **dict.fromkeys(
        ("failed", "failure", "fail", "error", "cancelled", "canceled"), JobState.FAILED
    ),
}


def job_state(raw: object) -> JobState | None:
    """A status word of any new-api dialect, or None when it is not one."""
    if not isinstance(raw, str):
        return None
    return STATUS_SYNONYMS.get(raw.strip().lower().replace(" ", "_").replace("-", "_"))


def progress_of(raw: object) -> int | None:
    """``45``, ``45.5``, ``"45%"`` or ``"45"`` → 45 (clamped to 0–100); None otherwise."""
    value: float
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip().removesuffix("%").strip())
        except ValueError:
            return None
    else:
        return None
    if math.isnan(value):
        return None
    return int(min(100.0, max(0.0, value)))


def timestamp(raw: object) -> datetime | None:
    """Unix seconds, milliseconds (new-api's docs example) or RFC 3339 (forks) → UTC."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        if raw <= 0 or not math.isfinite(raw):
            return None  # the task DTO writes 0 for "not yet"
        seconds = raw / 1000 if raw > 10**11 else raw
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(raw, str) and raw.strip():
        try:
            parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _error_of(body: dict[str, Any]) -> tuple[str | None, str | None]:
    err = body.get("error")
    if isinstance(err, dict):
        code, message = err.get("code"), err.get("message")
        return (
            str(code) if code not in (None, "") else None,
            str(message) if message not in (None, "") else None,
        )
    if isinstance(err, str) and err.strip():
        return None, err.strip()
    reason = body.get("fail_reason")
    if isinstance(reason, str) and reason.strip():
        return None, reason.strip()
    return None, None


def _unwrap(body: Any) -> Any:
    """The task inside the legacy ``{"code":"success","data":{…}}`` wrapper, else the body."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict) and "status" not in body:
        return body["data"]
    return body


def parse_job(body: Any) -> Job | None:
    """A new-api video or task answer to a ``Job``, or None when it is not one."""
    body = _unwrap(body)
    if not isinstance(body, dict):
        return None
    job_id = body.get("id") if isinstance(body.get("id"), str) else body.get("task_id")
    state = job_state(body.get("status"))
    if not isinstance(job_id, str) or not job_id or state is None:
        return None
    progress = progress_of(body.get("progress"))
    if progress is None or state is JobState.COMPLETED:
        progress = 100 if state is JobState.COMPLETED else 0
    code, message = _error_of(body) if state is JobState.FAILED else (None, None)
    props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
    model = body.get("model") or (props or {}).get("origin_model_name") or ""
    return Job(
        id=job_id,
        state=state,
        progress=progress,
        model=str(model),
        seconds=str(body["seconds"]) if body.get("seconds") not in (None, "") else None,
        size=body.get("size") if isinstance(body.get("size"), str) else None,
        created_at=timestamp(body.get("created_at", body.get("submit_time"))),
        completed_at=timestamp(body.get("completed_at", body.get("finish_time"))),
        error_code=code,
        error_message=message,
        raw=body,
    )


def _listed(body: Any, model: str) -> bool | None:
    """Whether a model list names the model; None when the body is not a model list."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return None
    return any(isinstance(m, dict) and m.get("id") == model for m in body["data"])


def _is_task_not_found(ex: Exchange) -> bool:
    """new-api's own answer for an unknown task id: a flat task error, 400 (404 in forks)."""
    body = json_of(ex)
    return (
        ex.status in (400, 404)
        and isinstance(body, dict)
        and isinstance(body.get("code"), str)
        and "data" in body
        and "error" not in body
    )


class NewApiVideos(BearerAdapter):
    protocol: ClassVar[str] = "newapi-videos"

    # --- light probe -----------------------------------------------------------------------

    async def light_check(self) -> ProbeResult:
        models_ex = await self._call("GET", "/models")
        verdict = self._models_verdict(models_ex)
        exchanges: tuple[Exchange, ...] = (models_ex,)
        if verdict.outcome.is_good:
            route_ex = await self._call("GET", f"/videos/{PROBE_TASK_ID}")
            exchanges += (route_ex,)
            route = self._route_verdict(route_ex)
            if route is not None:
                verdict = route
        decisive = exchanges[-1] if not verdict.outcome.is_good else models_ex
        return ProbeResult(
            verdict=verdict,
            exchanges=exchanges,
            http_status=decisive.status,
            latency_ms=models_ex.latency_ms,
        )

    def _models_verdict(self, ex: Exchange) -> Verdict:
        verdict = self._classify(ex)
        if not verdict.outcome.is_good:
            return verdict
        listed = _listed(json_of(ex), self.channel.model)
        if listed is None:
            return bad_shape(ex, "model answer is not a model list")
        if not listed:
            return Verdict(
                Outcome.OVERLOADED,
                f"{ex.status} model {self.channel.model} not listed (no available channel)",
            )
        return verdict

    def _route_verdict(self, ex: Exchange) -> Verdict | None:
        """None when the task route answered like a new-api gateway; else what went wrong."""
        if _is_task_not_found(ex):
            return None
        verdict = self._classify(ex)
        if verdict.outcome.is_good or verdict.outcome in (Outcome.REJECTED, Outcome.BAD_RESPONSE):
            # A 2xx, another 4xx or a 404 "Invalid URL" for a task id nobody created: this is
            # not a new-api task route (a plain relay, or a gateway without video routes).
            return bad_shape(ex, "task route did not answer like a new-api gateway")
        return verdict

    # --- jobs ------------------------------------------------------------------------------

    def _job_result(self, ex: Exchange) -> JobResult:
        verdict = self._classify(ex)
        if not verdict.outcome.is_good:
            return JobResult(verdict, ex)
        job = parse_job(json_of(ex))
        if job is None:
            return JobResult(bad_shape(ex, "answer is not a video task"), ex)
        if job.state is JobState.FAILED:
            outcome = classify_job_failure(job.error_code, job.error_message)
            verdict = Verdict(outcome, f"job failed: {job.error_code or 'no code'}")
        return JobResult(verdict, ex, job)

    async def create(self, request: VideoRequest) -> JobResult:
        payload = {
            "model": request.model,
            "prompt": request.prompt,
            # The gateway forwards the body; Sora behind it wants a string, as OpenAI does.
            "seconds": str(request.seconds),
            "size": request.size,
            **request.extra,
        }
        return self._job_result(await self._call("POST", "/videos", json=payload))

    async def retrieve(self, job_id: str) -> JobResult:
        return self._job_result(await self._call("GET", f"/videos/{job_id}"))

    async def download(self, job_id: str, variant: str = "video") -> Download:
        # new-api's content proxy knows no variants: only the video itself is served.
        return await open_stream(
            self.client,
            f"{self.channel.base_url}/videos/{job_id}/content",
            headers=self._headers("application/binary"),
            secrets=self._secrets,
            timeout=self._timeout,
            classify=self._classify,
        )
