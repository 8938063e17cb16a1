"""What the adapters that authenticate with ``Authorization: Bearer`` share: how they call
the channel and classify its answers, so every protocol sees a channel the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from sorawatch.config import ChannelConfig
from sorawatch.domain.classify import classify
from sorawatch.domain.observation import Exchange, Verdict
from sorawatch.providers.http import exchange

DEFAULT_TIMEOUT = 15.0


class BearerAdapter:
    protocol: ClassVar[str]
    produces: ClassVar[str] = "video"

    def __init__(self, channel: ChannelConfig, client: httpx.AsyncClient) -> None:
        self.channel = channel
        self.client = client
        self._key = channel.api_key.get_secret_value() if channel.api_key else ""
        self._secrets = (self._key,) if self._key else ()
        light = channel.probes.light
        self._timeout = light.timeout if light else DEFAULT_TIMEOUT

    def _headers(self, accept: str = "application/json") -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}", "Accept": accept}

    async def _call(self, method: str, path: str, **kwargs: Any) -> Exchange:
        """One request to ``base_url + path``; never raises for network trouble."""
        return await exchange(
            self.client,
            method,
            f"{self.channel.base_url}{path}",
            secrets=self._secrets,
            timeout=self._timeout,
            headers=self._headers(),
            **kwargs,
        )

    def _classify(self, ex: Exchange) -> Verdict:
        return classify(
            ex,
            slow_ms=self.channel.thresholds.slow_ms,
            now=datetime.now(UTC),
            secrets=self._secrets,
        )
