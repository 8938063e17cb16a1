"""Observations and the raw HTTP exchanges they are classified from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status


class TransportError(StrEnum):
    """Why an exchange produced no HTTP answer at all."""

    TIMEOUT = "timeout"
    CONNECT = "connect"
    PROTOCOL = "protocol"  # the peer answered, but not in HTTP we could read


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP request/answer pair as a probe or the gateway saw it; the input of ``classify``.

    ``headers`` keys are lower-case. ``body`` is the raw bytes (possibly truncated by the caller).
    ``status`` is None exactly when ``transport_error`` is set.
    """

    method: str
    url: str
    status: int | None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    latency_ms: float | None = None
    transport_error: TransportError | None = None
    error_text: str = ""  # the transport library's message, already redacted


@dataclass(frozen=True, slots=True)
class Verdict:
    """What ``classify`` concluded from one exchange."""

    outcome: Outcome
    detail: str  # short, human, redacted: "429 rate_limit_exceeded", "cf-mitigated: challenge"
    error_type: str | None = None
    error_code: str | None = None
    retry_after_s: float | None = None
    deprecation: datetime | None = None  # Deprecation header date (RFC 9745) or now for `true`
    sunset: datetime | None = None  # Sunset header date (RFC 8594) / shutdown_date


@dataclass(frozen=True, slots=True)
class Observation:
    """One immutable fact from a probe.

    ``reported`` is set only for ``statuspage`` observations: the vendor's word mapped to our
    status vocabulary, which the evaluator takes at once. ``inconclusive`` marks observations
    that say nothing about the channel itself (no credentials, our own network is down): they
    move the channel to ``unknown`` and are never counted as its downtime.
    """

    channel_id: str
    source: Source
    at: datetime
    outcome: Outcome
    http_status: int | None = None
    latency_ms: float | None = None
    cost_usd: float = 0.0
    detail: str = ""
    reported: Status | None = None
    inconclusive: bool = False
    sunset: datetime | None = None
    id: int | None = None  # assigned by the store


@dataclass(frozen=True, slots=True)
class Evidence:
    """A short, redacted reference to an observation that decided a status change."""

    at: datetime
    source: Source
    outcome: Outcome
    http_status: int | None
    detail: str

    @classmethod
    def of(cls, obs: Observation) -> Evidence:
        return cls(obs.at, obs.source, obs.outcome, obs.http_status, obs.detail)
