"""The http adapter: plain URL checks against the simulator's health endpoint and status pages,
and against an in-process fake upstream where the request itself is what is tested."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio

from sorawatch.app import make_client
from sorawatch.check import check_once
from sorawatch.config import ChannelConfig, parse_config
from sorawatch.domain.outcome import Outcome
from sorawatch.domain.status import Status
from sorawatch.errors import ConfigError
from sorawatch.providers import provider_class
from sorawatch.providers.base import VideoRequest
from sorawatch.providers.http_check import HttpCheck
from sorawatch.simulator import Simulator, parse_scenario

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCENARIO = """
name: http-test
channels:
  web: {protocol: http, latency_ms: 1}
status_pages:
  vendor:
    kind: statuspage
    name: Vendor
    components: {"API": operational}
    timeline:
      - {at: 100s, components: {"API": major_outage}, incident: "API down"}
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def clock() -> FakeClock:
    return FakeClock()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def sim(clock: FakeClock) -> AsyncIterator[Simulator]:
    simulator = Simulator(parse_scenario(SCENARIO), clock=clock, seed=3)
    async with simulator.serve():
        yield simulator


@pytest_asyncio.fixture(loop_scope="module")
async def client(sim: Simulator, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    sim.set_fault("web", None)
    clock.now = 0.0
    async with make_client() as http:
        yield http


def channel(base_url: str, check: str, *, key: str | None = None, timeout: str = "2s") -> Any:
    key_line = f'    api_key: "{key}"\n' if key else ""
    text = f"""
storage: {{url: "memory://"}}
channels:
  - id: web
    name: Web
    model: health
    access: official
    protocol: http
    base_url: "{base_url}"
{key_line}    probes: {{light: {{every: 60s, timeout: {timeout}}}}}
    thresholds: {{slow_ms: 1000}}
    check: {check}
"""
    return parse_config(text, env={}).channels[0]


HEALTH_OK = "{url_path: /health, json: [{path: $.status, equals: ok}]}"


def health(sim: Simulator, client: httpx.AsyncClient, check: str = HEALTH_OK) -> HttpCheck:
    return HttpCheck(channel(sim.base_url("web"), check), client)


@pytest.mark.parametrize(
    ("fault", "params", "outcome", "status", "detail"),
    [
        pytest.param("ok", {}, Outcome.OK, 200, "200 ok", id="ok"),
        pytest.param(
            "slow", {"latency_ms": 1200}, Outcome.SLOW, 200, "200 slow: ", id="over-slow-ms"
        ),
        pytest.param("rate_limited", {}, Outcome.RATE_LIMITED, 429, "429 ", id="429"),
        pytest.param("overloaded", {}, Outcome.OVERLOADED, 503, "503 ", id="503"),
        pytest.param("paused", {}, Outcome.PAUSED, 503, "503 ", id="paused-503"),
        pytest.param("server_error", {}, Outcome.SERVER_ERROR, 500, "500 ", id="500"),
        pytest.param("auth_failed", {}, Outcome.AUTH_FAILED, 401, "401 ", id="401"),
        pytest.param("quota_exhausted", {}, Outcome.QUOTA_EXHAUSTED, 402, "402 ", id="402"),
        pytest.param("gone", {}, Outcome.RETIRED, 410, "410 gone", id="410"),
        pytest.param("cloudflare", {}, Outcome.RISK_CONTROL, 403, "403 cf-mitigated", id="cf"),
        pytest.param(
            "malformed",
            {},
            Outcome.BAD_RESPONSE,
            200,
            "200 body is not JSON",
            id="truncated-json",
        ),
        pytest.param(
            "malformed",
            {"mode": "wrong_shape"},
            Outcome.BAD_RESPONSE,
            200,
            '200 json $.status == "ok" failed: got "degraded"',
            id="condition-fails",
        ),
        pytest.param(
            "sunset",
            {"date": "2020-01-01"},
            Outcome.RETIRED,
            200,
            "200 sunset passed 2020-01-01",
            id="sunset-passed",
        ),
        pytest.param("moderation", {}, Outcome.OK, 200, "200 ok", id="video-only-fault"),
        pytest.param("timeout", {"hold_s": 5}, Outcome.TIMEOUT, None, "timeout", id="timeout"),
    ],
)
async def test_health_check_reads_each_fault(
    sim: Simulator,
    client: httpx.AsyncClient,
    fault: str,
    params: dict[str, Any],
    outcome: Outcome,
    status: int | None,
    detail: str,
) -> None:
    sim.set_fault("web", fault, **params)
    result = await health(sim, client).light_check()
    assert result.verdict.outcome is outcome, result.verdict.detail
    assert result.http_status == status
    assert result.verdict.detail.startswith(detail)
    assert len(result.exchanges) == 1


async def test_sunset_ahead_is_a_warning(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_fault("web", "sunset", date="2099-03-01")
    verdict = (await health(sim, client).light_check()).verdict
    assert verdict.outcome is Outcome.OK
    assert verdict.sunset == datetime(2099, 3, 1, tzinfo=UTC)
    assert verdict.deprecation is not None


async def test_max_latency_overrides_slow_ms(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_fault("web", "slow", latency_ms=150)
    strict = "{url_path: /health, max_latency_ms: 100}"
    assert (await health(sim, client, strict).light_check()).verdict.outcome is Outcome.SLOW
    assert (await health(sim, client, "{url_path: /health}").light_check()).verdict.outcome is (
        Outcome.OK
    )


@pytest.mark.parametrize(
    ("check", "outcome", "detail"),
    [
        pytest.param("{url_path: /nope}", Outcome.BAD_RESPONSE, "404 route not found", id="404"),
        pytest.param(
            "{url_path: /nope, expect_status: [404]}", Outcome.OK, "404 ok", id="want-404"
        ),
        pytest.param(
            "{url_path: /health, expect_status: 204}",
            Outcome.BAD_RESPONSE,
            "200 not an expected status (204)",
            id="200-not-204",
        ),
        pytest.param(
            "{url_path: /health, method: HEAD, expect_status: [2xx]}",
            Outcome.OK,
            "200 ok",
            id="head",
        ),
        pytest.param(
            '{url_path: /health, body_contains: "\\"queue\\":\\"ok\\""}',
            Outcome.OK,
            "200 ok",
            id="body-contains",
        ),
    ],
)
async def test_expected_statuses(
    sim: Simulator, client: httpx.AsyncClient, check: str, outcome: Outcome, detail: str
) -> None:
    verdict = (await health(sim, client, check).light_check()).verdict
    assert (verdict.outcome, verdict.detail) == (outcome, detail)


async def test_status_page_indicator(
    sim: Simulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    check = "{url_path: /api/v2/status.json, json: [{path: $.status.indicator, equals: none}]}"
    probe = HttpCheck(channel(sim.status_url("vendor"), check), client)
    calm = await probe.light_check()
    clock.now = 150.0
    storm = await probe.light_check()
    assert (calm.verdict.outcome, calm.verdict.detail) == (Outcome.OK, "200 ok")
    assert storm.verdict.outcome is Outcome.BAD_RESPONSE
    assert storm.verdict.detail == '200 json $.status.indicator == "none" failed: got "critical"'


async def test_bad_key_is_auth_failed(sim: Simulator, client: httpx.AsyncClient) -> None:
    probe = HttpCheck(channel(sim.base_url("web"), "{url_path: /health}", key="sk-bad"), client)
    assert (await probe.light_check()).verdict.outcome is Outcome.AUTH_FAILED


async def test_refused_connection(client: httpx.AsyncClient) -> None:
    probe = HttpCheck(channel("http://127.0.0.1:9", "{}", timeout="1s"), client)
    result = await probe.light_check()
    assert result.verdict.outcome is Outcome.CONNECT_ERROR
    assert result.http_status is None


async def test_request_carries_method_path_headers_and_key() -> None:
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    check = '{method: POST, url_path: "/ping?deep=1", headers: {X-Probe: sorawatch}}'
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as fake:
        keyed = HttpCheck(channel("https://svc.example/api", check, key="sk-longsecret"), fake)
        assert (await keyed.light_check()).verdict.outcome is Outcome.OK
        own = "{headers: {Authorization: Basic dXNlcjpwYXNz}}"
        await HttpCheck(
            channel("https://svc.example", own, key="sk-longsecret"), fake
        ).light_check()
    first, second = seen
    assert (first.method, str(first.url)) == ("POST", "https://svc.example/api/ping?deep=1")
    assert first.headers["x-probe"] == "sorawatch"
    assert first.headers["authorization"] == "Bearer sk-longsecret"
    assert second.headers["authorization"] == "Basic dXNlcjpwYXNz"  # the check's own header wins


async def test_secrets_echoed_in_the_body_are_redacted() -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": request.headers["x-api-key"]})

    check = '{headers: {X-Api-Key: "tok-0123456789abcdef"}, json: [{path: $.status, equals: ok}]}'
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as fake:
        result = await HttpCheck(channel("https://svc.example", check), fake).light_check()
    assert result.verdict.outcome is Outcome.BAD_RESPONSE
    assert "tok-0123456789abcdef" not in result.verdict.detail
    assert result.verdict.detail.startswith('200 json $.status == "ok" failed: got ')


async def test_http_channels_have_no_jobs(client: httpx.AsyncClient) -> None:
    cfg: ChannelConfig = channel("https://svc.example", "{}")
    probe = provider_class("http")(cfg, client)
    with pytest.raises(ConfigError, match="plain http check"):
        await probe.create(VideoRequest(prompt="x", model="m"))
    with pytest.raises(ConfigError, match="plain http check"):
        await probe.retrieve("x")
    with pytest.raises(ConfigError, match="plain http check"):
        await probe.download("x")


async def test_one_shot_check_probes_a_keyless_http_channel(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    """An http check needs no key; a video channel without one is still not probed."""
    text = f"""
storage: {{url: "memory://"}}
channels:
  - id: web
    name: Web
    model: health
    access: official
    protocol: http
    base_url: "{sim.base_url("web")}"
    check: {{url_path: /health, json: [{{path: $.status, equals: ok}}]}}
  - id: video
    name: Video
    model: sora-2
    access: relay
    protocol: openai-videos
    base_url: "{sim.base_url("web")}"
"""
    config = parse_config(text, env={})
    by_id = {r.channel.id: r for r in await check_once(config, client)}
    assert by_id["web"].observation.outcome is Outcome.OK
    assert by_id["web"].status is Status.OPERATIONAL
    assert by_id["video"].observation.inconclusive
    assert not config.channel("web").missing_key
    assert config.channel("video").missing_key
