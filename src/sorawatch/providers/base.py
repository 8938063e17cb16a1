"""What every protocol adapter offers. Probes and the gateway use the same adapter, so a probe
and a real request see a channel the same way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol

import httpx

from sorawatch.config import ChannelConfig
from sorawatch.domain.observation import Exchange, Verdict


class JobState(StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The result of one light probe: the decisive verdict and every exchange it made."""

    verdict: Verdict
    exchanges: tuple[Exchange, ...]
    http_status: int | None
    latency_ms: float | None


@dataclass(frozen=True, slots=True)
class VideoRequest:
    prompt: str
    model: str
    seconds: int = 4
    size: str = "1280x720"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Job:
    """An upstream job as the adapter understood it, in the OpenAI vocabulary."""

    id: str
    state: JobState
    progress: int
    model: str
    seconds: str | None = None
    size: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    poll_after_ms: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    cost_usd: float | None = None  # what the upstream says the job cost, when it says so


@dataclass(frozen=True, slots=True)
class JobResult:
    """A create/retrieve answer: the verdict always, the job when the answer carried one."""

    verdict: Verdict
    exchange: Exchange
    job: Job | None = None


@dataclass(frozen=True, slots=True)
class Download:
    """A download answer: the verdict, and the body stream when the answer was good.

    The caller must exhaust or ``aclose()`` ``chunks``; it releases the connection.
    """

    verdict: Verdict
    exchange: Exchange
    content_type: str | None = None
    chunks: AsyncIterator[bytes] | None = None


class Provider(Protocol):
    protocol: ClassVar[str]
    # What a job makes: "video", "image", or "check" (a plain URL check that makes nothing).
    produces: ClassVar[str]

    def __init__(self, channel: ChannelConfig, client: httpx.AsyncClient) -> None: ...

    async def light_check(self) -> ProbeResult:
        """A probe that costs nothing (no generation is ever started)."""

    async def create(self, request: VideoRequest) -> JobResult: ...

    async def retrieve(self, job_id: str) -> JobResult: ...

    async def download(self, job_id: str, variant: str = "video") -> Download:
        """Open the finished asset as a byte stream (never buffers a whole video)."""
