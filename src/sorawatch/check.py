"""One-shot checks (``sorawatch check``): probe each channel once and say what it is now.

A single round has nothing to confirm, so the evaluator runs with thresholds of one: the same
rules as the monitor, minus the waiting.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from sorawatch.config import ChannelConfig, Config
from sorawatch.domain.evaluate import ChannelState, Thresholds, evaluate
from sorawatch.domain.observation import Exchange, Observation
from sorawatch.domain.status import Status
from sorawatch.monitor import (
    light_observation,
    no_key_observation,
    utcnow,
    vendor_observations,
)
from sorawatch.providers import provider_class
from sorawatch.statuspages import StatusPageReader

ONE_ROUND = Thresholds(fail_after=1, recover_after=1)


@dataclass(frozen=True, slots=True)
class CheckResult:
    channel: ChannelConfig
    status: Status
    observation: Observation
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        obs = self.observation
        return {
            "id": self.channel.id,
            "name": self.channel.name,
            "status": self.status.value,
            "outcome": obs.outcome.value,
            "http_status": obs.http_status,
            "latency_ms": obs.latency_ms,
            "detail": obs.detail,
            "sunset": obs.sunset.isoformat() if obs.sunset else None,
            "evidence": self.evidence,
        }


def _exchange_evidence(ex: Exchange) -> dict[str, Any]:
    item: dict[str, Any] = {
        "source": "light",
        "request": f"{ex.method} {ex.url}",
        "http_status": ex.status,
        "latency_ms": round(ex.latency_ms, 1) if ex.latency_ms is not None else None,
    }
    if ex.transport_error:
        item["error"] = ex.error_text or ex.transport_error.value
    if ex.headers.get("x-request-id"):
        item["request_id"] = ex.headers["x-request-id"]
    return item


async def _vendor_words(
    config: Config, channels: list[ChannelConfig], client: httpx.AsyncClient, now: datetime
) -> dict[str, Observation]:
    pages = {ch.status_page.page for ch in channels if ch.status_page}
    readers = {
        name: StatusPageReader(
            name,
            config.status_pages[name].url,
            config.status_pages[name].kind,
            client,
            config.status_pages[name].timeout,
        )
        for name in pages
    }
    readings = dict(
        zip(readers, await asyncio.gather(*(r.read(now) for r in readers.values())), strict=True)
    )
    out: dict[str, Observation] = {}
    for name, reading in readings.items():
        if not reading.error:
            out.update((o.channel_id, o) for o in vendor_observations(channels, name, reading, now))
    return out


async def _check_channel(
    ch: ChannelConfig, client: httpx.AsyncClient, vendor: Observation | None
) -> CheckResult:
    evidence: list[dict[str, Any]] = []
    if ch.missing_key:
        obs = no_key_observation(ch, utcnow())
    else:
        result = await provider_class(ch.protocol)(ch, client).light_check()
        obs = light_observation(ch, result, utcnow())
        evidence = [_exchange_evidence(ex) for ex in result.exchanges]
    state = ChannelState(channel_id=ch.id)
    if vendor is not None:
        state, _ = evaluate(state, vendor, ONE_ROUND)
        evidence.append(
            {"source": "statuspage", "detail": vendor.detail, "reported": str(vendor.reported)}
        )
    state, _ = evaluate(state, obs, ONE_ROUND)
    return CheckResult(ch, state.status, obs, evidence)


async def check_once(
    config: Config, client: httpx.AsyncClient, channel_ids: list[str] | None = None
) -> list[CheckResult]:
    channels = [config.channel(c) for c in channel_ids] if channel_ids else list(config.channels)
    vendor = await _vendor_words(config, channels, client, utcnow())
    return list(
        await asyncio.gather(*(_check_channel(ch, client, vendor.get(ch.id)) for ch in channels))
    )
