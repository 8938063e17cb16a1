"""Video jobs whose state is a pure function of time.

No task runs per job: a job stores when it was created and whether it will fail, and each read
computes ``queued → in_progress → completed|failed`` from the clock. That keeps 10,000 channels
cheap and makes the lifecycle exact under a fake clock.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

JobStatus = Literal["queued", "in_progress", "completed", "failed"]

# Where in the generation phase a doomed job gives up.
_FAIL_POINT = 0.6

JOB_FAILURE = {
    "code": "video_generation_failed",
    "message": "Video generation failed. Please try again.",
}


@dataclass(slots=True)
class JobRecord:
    id: str
    model: str
    prompt: str | None
    seconds: str
    size: str
    created_t: float
    queue_s: float
    generate_s: float
    fails: bool
    expires_s: float

    def status_at(self, t: float) -> tuple[JobStatus, int]:
        started = self.created_t + self.queue_s
        if t < started:
            return "queued", 0
        if self.fails and t >= started + self.generate_s * _FAIL_POINT:
            return "failed", int(_FAIL_POINT * 100)
        if not self.fails and t >= started + self.generate_s:
            return "completed", 100
        done = (t - started) / self.generate_s if self.generate_s > 0 else 1.0
        return "in_progress", min(99, max(1, int(done * 100)))

    @property
    def completed_t(self) -> float:
        return self.created_t + self.queue_s + self.generate_s

    def expired(self, t: float) -> bool:
        return t >= self.completed_t + self.expires_s

    def to_video(self, t: float, epoch: float) -> dict[str, Any]:
        """The OpenAI Video object at elapsed time ``t`` (``epoch`` = Unix time of t=0)."""
        status, progress = self.status_at(t)
        completed = status == "completed"
        return {
            "id": self.id,
            "object": "video",
            "model": self.model,
            "status": status,
            "progress": progress,
            "created_at": int(epoch + self.created_t),
            "completed_at": int(epoch + self.completed_t) if completed else None,
            "expires_at": int(epoch + self.completed_t + self.expires_s) if completed else None,
            "prompt": self.prompt,
            "remixed_from_video_id": None,
            "seconds": self.seconds,
            "size": self.size,
            "error": dict(JOB_FAILURE) if status == "failed" else None,
        }


@dataclass(slots=True)
class ChannelState:
    """Everything a channel remembers between requests."""

    max_jobs: int
    jobs: OrderedDict[str, JobRecord] = field(default_factory=OrderedDict)
    window_start: float = 0.0
    window_count: int = 0
    jobs_created: int = 0

    def add(self, job: JobRecord) -> None:
        self.jobs[job.id] = job
        self.jobs_created += 1
        while len(self.jobs) > self.max_jobs:
            self.jobs.popitem(last=False)

    def count_request(self, t: float) -> tuple[int, float]:
        """Requests in the current one-minute window and seconds until it resets."""
        if t - self.window_start >= 60.0 or t < self.window_start:
            self.window_start, self.window_count = t, 0
        self.window_count += 1
        return self.window_count, self.window_start + 60.0 - t
