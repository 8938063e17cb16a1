"""Adapter for the ``http`` protocol: a plain URL check, for anything else a user wants on the
same page (a reseller's dashboard, an internal health endpoint, a vendor's JSON status).

The light probe sends exactly one request: ``check.method`` to ``{base_url}{check.url_path}``
with ``check.headers`` (plus ``Authorization: Bearer <api_key>`` when the channel has a key and
the headers name none). Redirects are not followed.

A transport failure, or a status outside ``check.expect_status``, is classified like any other
answer (a 503 is ``overloaded``, a Cloudflare challenge ``risk_control``; an unexpected 2xx is
``bad_response``). An expected status is judged by the check's own conditions: a failed
``body_contains`` or JSON condition is ``bad_response`` naming the condition; an answer slower
than ``check.max_latency_ms`` (default: ``thresholds.slow_ms``) is ``slow``. ``Deprecation`` and
``Sunset`` headers are recorded as on every protocol, and a passed ``Sunset`` retires the check.

An http channel has no jobs: asking it for one is a configuration error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar, Final

import httpx

from sorawatch.config import ChannelConfig, HttpCheckConfig
from sorawatch.domain.classify import classify
from sorawatch.domain.observation import Exchange, Verdict
from sorawatch.domain.outcome import Outcome
from sorawatch.domain.redact import redact
from sorawatch.errors import ConfigError
from sorawatch.providers.base import Download, JobResult, ProbeResult, VideoRequest
from sorawatch.providers.http import exchange
from sorawatch.providers.http_conditions import judge, status_expected

# JSON status documents can outgrow the 64 KiB an error page needs; this still bounds memory.
MAX_CHECK_BODY: Final = 1024 * 1024
_SECRET_HEADER_MARKS: Final = ("authorization", "key", "token", "cookie", "secret")


def _header_secrets(headers: dict[str, str]) -> tuple[str, ...]:
    return tuple(
        v
        for k, v in headers.items()
        if v and any(mark in k.lower() for mark in _SECRET_HEADER_MARKS)
    )


class HttpCheck:
    protocol: ClassVar[str] = "http"
    produces: ClassVar[str] = "check"

    def __init__(self, channel: ChannelConfig, client: httpx.AsyncClient) -> None:
        if channel.check is None:  # config validation makes this unreachable
            raise ConfigError(f"channel {channel.id!r}: protocol http needs a check")
        self.channel = channel
        self.check: HttpCheckConfig = channel.check
        self.client = client
        self._headers = dict(self.check.headers)
        key = channel.api_key.get_secret_value() if channel.api_key else ""
        if key and not any(k.lower() == "authorization" for k in self._headers):
            self._headers["Authorization"] = f"Bearer {key}"
        self._secrets = tuple(s for s in (key, *_header_secrets(self._headers)) if s)
        self._timeout = channel.probes.light.timeout if channel.probes.light else 15.0

    @property
    def url(self) -> str:
        return f"{self.channel.base_url}{self.check.url_path}"

    async def light_check(self) -> ProbeResult:
        ex = await exchange(
            self.client,
            self.check.method,
            self.url,
            secrets=self._secrets,
            timeout=self._timeout,
            headers=self._headers,
            max_body=MAX_CHECK_BODY,
        )
        verdict = self.verdict(ex, datetime.now(UTC))
        return ProbeResult(verdict, (ex,), ex.status, ex.latency_ms)

    def verdict(self, ex: Exchange, now: datetime) -> Verdict:
        """The outcome of one answer to this check."""
        general = classify(
            ex,
            slow_ms=self.channel.thresholds.slow_ms,
            now=now,
            expect_json=False,
            secrets=self._secrets,
        )
        if ex.status is None:
            return general
        if not status_expected(ex.status, self.check.expect_status):
            if not general.outcome.is_good:
                return general
            wanted = ", ".join(map(str, self.check.expect_status))
            return Verdict(Outcome.BAD_RESPONSE, f"{ex.status} not an expected status ({wanted})")
        judged = judge(
            self.check, ex.status, ex.body, ex.latency_ms, self.channel.thresholds.slow_ms
        )
        outcome, detail = judged.outcome, judged.detail
        if outcome.is_good and general.sunset is not None and general.sunset < now:
            outcome, detail = (
                Outcome.RETIRED,
                f"{ex.status} sunset passed {general.sunset:%Y-%m-%d}",
            )
        return Verdict(
            outcome,
            redact(detail, self._secrets),  # a condition's detail quotes the body
            retry_after_s=general.retry_after_s,
            deprecation=general.deprecation,
            sunset=general.sunset,
        )

    def _no_jobs(self) -> ConfigError:
        return ConfigError(f"channel {self.channel.id!r} is a plain http check: it has no jobs")

    async def create(self, request: VideoRequest) -> JobResult:
        raise self._no_jobs()

    async def retrieve(self, job_id: str) -> JobResult:
        raise self._no_jobs()

    async def download(self, job_id: str, variant: str = "video") -> Download:
        raise self._no_jobs()
