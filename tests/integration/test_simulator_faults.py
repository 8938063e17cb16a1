"""Every fault's wire details, served over real HTTP by uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio

from sorawatch.simulator import Simulator, parse_scenario

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCENARIO = """
name: faults
channels:
  ch:
    models: [sora-2, sora-2-pro]
    queue_s: 1
    generate_s: 4
  quiet:
    models: [sora-2]
"""

AUTH = {"Authorization": "Bearer sk-test-0123456789"}
PAUSED_BODY = {
    "error": {
        "message": "This channel is temporarily paused by the provider (渠道已暂停)",
        "type": "service_unavailable_error",
        "code": "channel_paused",
    }
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Served:
    sim: Simulator
    clock: FakeClock
    client: httpx.AsyncClient
    base: str


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def served() -> AsyncIterator[Served]:
    clock = FakeClock()
    sim = Simulator(parse_scenario(SCENARIO), clock=clock, seed=7)
    async with sim.serve() as running, httpx.AsyncClient(timeout=5) as client:
        yield Served(sim, clock, client, sim.base_url("ch"))
        assert running.url.startswith("http://127.0.0.1:")


@pytest.fixture(autouse=True)
def _clean(served: Served) -> None:
    served.sim.reset()


def _error(resp: httpx.Response) -> dict[str, Any]:
    inner: dict[str, Any] = resp.json()["error"]
    return inner


@dataclass(frozen=True)
class Case:
    fault: str
    params: dict[str, Any]
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    check: Callable[[httpx.Response], bool] = lambda r: True
    method: str = "GET"
    path: str = "/models/sora-2"


def _json_error(type_: str, code: str | None) -> Callable[[httpx.Response], bool]:
    def check(r: httpx.Response) -> bool:
        err = _error(r)
        return (
            err["type"] == type_
            and err["code"] == code
            and set(err)
            == {
                "message",
                "type",
                "param",
                "code",
            }
        )

    return check


def _is_cloudflare(r: httpx.Response) -> bool:
    text = r.text
    return (
        "<title>Just a moment...</title>" in text
        and "_cf_chl_opt" in text
        and "/cdn-cgi/challenge-platform/" in text
        and r.headers["content-type"].startswith("text/html")
        and re.fullmatch(r"[0-9a-f]{16}-[A-Z]{3}", r.headers["cf-ray"]) is not None
        and "x-request-id" not in r.headers
    )


def _truncated(r: httpx.Response) -> bool:
    try:
        json.loads(r.content)
    except ValueError:
        return r.headers["content-type"] == "application/json"
    return False


CASES = [
    pytest.param(
        Case(
            "ok",
            {},
            200,
            {"openai-version": "2020-10-01", "x-ratelimit-limit-requests": "60"},
            lambda r: (
                r.json()
                == {
                    "id": "sora-2",
                    "object": "model",
                    "created": 1759708800,
                    "owned_by": "system",
                }
            ),
        ),
        id="ok-model-object",
    ),
    pytest.param(
        Case(
            "rate_limited",
            {"retry_after_s": 3},
            429,
            {
                "retry-after": "3",
                "retry-after-ms": "3000",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": "3s",
            },
            lambda r: (
                _json_error("requests", "rate_limit_exceeded")(r)
                and _error(r)["message"].startswith("Rate limit reached for sora-2")
            ),
        ),
        id="rate-limited-429",
    ),
    pytest.param(
        Case(
            "cloudflare",
            {},
            403,
            {"cf-mitigated": "challenge", "server": "cloudflare"},
            _is_cloudflare,
        ),
        id="cloudflare-403-challenge",
    ),
    pytest.param(
        Case("cloudflare", {"status": 503}, 503, {"cf-mitigated": "challenge"}, _is_cloudflare),
        id="cloudflare-503",
    ),
    pytest.param(
        Case(
            "sentinel_block",
            {},
            400,
            {},
            lambda r: (
                _json_error("invalid_request_error", "sentinel_block")(r)
                and _error(r)["message"].startswith("Hmmm something didn't look right")
            ),
        ),
        id="sentinel-block-400",
    ),
    pytest.param(
        Case(
            "no_tokens",
            {},
            200,
            {},
            lambda r: _error(r)["message"].startswith(
                "No available tokens for video generation. All tokens are either disabled"
            ),
        ),
        id="no-tokens-error-in-200",
    ),
    pytest.param(
        Case(
            "risk_control_cn",
            {},
            200,
            {},
            lambda r: (
                r.json()["ret"] == "4013"
                and r.json()["errmsg"] == "生成失败，疑似存在异常行为，请重新尝试"
            ),
        ),
        id="risk-control-jimeng-200",
    ),
    pytest.param(
        Case(
            "overloaded",
            {},
            503,
            {"retry-after": "5", "retry-after-ms": "5000"},
            _json_error("service_unavailable_error", "server_is_overloaded"),
        ),
        id="overloaded-503",
    ),
    pytest.param(
        Case("server_error", {}, 500, {}, _json_error("server_error", None)),
        id="server-error-500",
    ),
    pytest.param(
        Case(
            "quota_exhausted", {}, 429, {}, _json_error("insufficient_quota", "insufficient_quota")
        ),
        id="quota-insufficient",
    ),
    pytest.param(
        Case(
            "quota_exhausted",
            {"code": "credit_balance_exhausted"},
            429,
            {},
            _json_error("insufficient_quota", "credit_balance_exhausted"),
        ),
        id="quota-credit-balance",
    ),
    pytest.param(
        Case(
            "auth_failed",
            {},
            401,
            {},
            lambda r: (
                _json_error("invalid_request_error", "invalid_api_key")(r)
                and "sk-***********6789" in _error(r)["message"]
            ),
        ),
        id="auth-failed-401-masked-key",
    ),
    pytest.param(Case("paused", {}, 503, {}, lambda r: r.json() == PAUSED_BODY), id="paused-503"),
    pytest.param(
        Case(
            "retired",
            {},
            404,
            {},
            lambda r: (
                _json_error("invalid_request_error", "model_not_found")(r)
                and _error(r)["message"]
                == "The model `sora-2` does not exist or you do not have access to it."
            ),
        ),
        id="retired-404",
    ),
    pytest.param(
        Case(
            "retired",
            {},
            404,
            {},
            lambda r: "`sora-2-pro`" in _error(r)["message"],
            "POST",
            "/videos?model=sora-2-pro",
        ),
        id="retired-names-requested-model",
    ),
    pytest.param(
        Case(
            "gone",
            {"date": "2026-09-24"},
            410,
            {},
            lambda r: (
                r.json()["error"] == "model_unavailable" and r.json()["sunset_date"] == "2026-09-24"
            ),
        ),
        id="gone-410",
    ),
    pytest.param(
        Case(
            "sunset",
            {"date": "2026-09-24"},
            200,
            {"sunset": "Thu, 24 Sep 2026 00:00:00 GMT"},
            lambda r: (
                re.fullmatch(r"@\d+", r.headers["deprecation"]) is not None
                and int(r.headers["deprecation"][1:]) <= 1790208000
                and r.json()["id"] == "sora-2"
            ),
        ),
        id="sunset-headers-on-good-answer",
    ),
    pytest.param(Case("malformed", {}, 200, {}, _truncated), id="malformed-truncated-json"),
    pytest.param(
        Case(
            "malformed",
            {"mode": "wrong_shape"},
            200,
            {},
            lambda r: "id" not in r.json() and "data" in r.json(),
        ),
        id="malformed-wrong-shape",
    ),
    pytest.param(
        Case("connection_refused", {}, 502, {}, lambda r: "refused" in r.text),
        id="connection-refused-on-shared-port-is-502",
    ),
    pytest.param(
        Case(
            "overloaded",
            {"routes": ["create"]},
            200,
            {},
            lambda r: r.json()["id"] == "sora-2",
        ),
        id="fault-limited-to-create-spares-models",
    ),
    pytest.param(
        Case(
            "overloaded",
            {"routes": ["create"]},
            503,
            {},
            _json_error("service_unavailable_error", "server_is_overloaded"),
            "POST",
            "/videos",
        ),
        id="fault-limited-to-create-hits-create",
    ),
]


@pytest.mark.parametrize("case", CASES)
async def test_fault_wire_details(served: Served, case: Case) -> None:
    served.sim.set_fault("ch", case.fault, **case.params)
    path, _, query = case.path.partition("?")
    body = {"prompt": "a cat", **dict(p.split("=") for p in query.split("&") if p)}
    kwargs: dict[str, Any] = {"json": body} if case.method == "POST" else {}
    resp = await served.client.request(case.method, served.base + path, headers=AUTH, **kwargs)
    assert resp.status_code == case.status, resp.text
    for name, value in case.headers.items():
        assert resp.headers.get(name) == value, name
    assert case.check(resp), resp.text
    if "cf-mitigated" not in resp.headers and case.fault != "connection_refused":
        assert re.fullmatch(r"req_[0-9a-f]{32}", resp.headers["x-request-id"])
        assert resp.headers["openai-processing-ms"].isdigit()


async def test_slow_adds_latency(served: Served) -> None:
    served.sim.set_fault("ch", "slow", latency_ms=200)
    started = time.perf_counter()
    resp = await served.client.get(served.base + "/models/sora-2", headers=AUTH)
    assert resp.status_code == 200
    assert time.perf_counter() - started >= 0.16  # 200 ms, less the jitter of base latency 0
    assert int(resp.headers["openai-processing-ms"]) >= 160


async def test_timeout_holds_past_the_client_timeout_then_lets_go(served: Served) -> None:
    served.sim.set_fault("ch", "timeout", hold_s=0.5)
    with pytest.raises(httpx.ReadTimeout):
        await served.client.get(served.base + "/models/sora-2", headers=AUTH, timeout=0.1)
    started = time.perf_counter()
    resp = await served.client.get(served.base + "/models/sora-2", headers=AUTH)
    assert resp.status_code == 200
    assert time.perf_counter() - started >= 0.45


async def test_partial_rate_hits_about_that_share(served: Served) -> None:
    served.sim.set_fault("ch", "server_error", rate=0.3)
    codes = [
        (await served.client.get(served.base + "/models/sora-2", headers=AUTH)).status_code
        for _ in range(200)
    ]
    share = codes.count(500) / len(codes)
    assert 0.2 < share < 0.4
    assert set(codes) == {200, 500}
    counts = served.sim.stats().by_channel["ch"]
    assert counts == {"ok": codes.count(200), "server_error": codes.count(500)}


async def test_fault_on_one_channel_leaves_the_others_alone(served: Served) -> None:
    served.sim.set_fault("ch", "paused")
    other = await served.client.get(served.sim.base_url("quiet") + "/models", headers=AUTH)
    assert other.status_code == 200
    assert [m["id"] for m in other.json()["data"]] == ["sora-2"]


async def test_clearing_a_fault_restores_the_timeline(served: Served) -> None:
    served.sim.set_fault("ch", "paused")
    assert served.sim.fault_at("ch").fault == "paused"
    served.sim.set_fault("ch", None)
    resp = await served.client.get(served.base + "/models/sora-2", headers=AUTH)
    assert resp.status_code == 200
    assert served.sim.fault_at("ch").fault == "ok"


@pytest.mark.parametrize(
    ("headers", "code", "message_start"),
    [
        pytest.param({}, None, "You didn't provide an API key.", id="missing-key"),
        pytest.param(
            {"Authorization": "Bearer sk-bad"},
            "invalid_api_key",
            "Incorrect API key provided: sk-bad.",
            id="bad-key",
        ),
        pytest.param(
            {"Authorization": "Basic abc"}, None, "You didn't provide an API key.", id="not-bearer"
        ),
    ],
)
async def test_authentication(
    served: Served, headers: dict[str, str], code: str | None, message_start: str
) -> None:
    resp = await served.client.get(served.base + "/videos", headers=headers)
    assert resp.status_code == 401
    assert _error(resp)["code"] == code
    assert _error(resp)["type"] == "invalid_request_error"
    assert _error(resp)["message"].startswith(message_start)


@pytest.mark.parametrize(
    ("method", "url_tail", "message"),
    [
        pytest.param("GET", "/ch/ch/v1/nope", "Invalid URL (GET /v1/nope)", id="unknown-route"),
        pytest.param(
            "POST", "/ch/ch/v1/videos/x/remix", "Invalid URL (POST /v1/videos/x/remix)", id="remix"
        ),
        pytest.param(
            "GET", "/ch/nobody/v1/videos", "Invalid URL (GET /ch/nobody/v1/videos)", id="no-channel"
        ),
    ],
)
async def test_unknown_routes(served: Served, method: str, url_tail: str, message: str) -> None:
    url = served.base.split("/ch/")[0] + url_tail
    resp = await served.client.request(method, url, headers=AUTH)
    assert resp.status_code == 404
    assert _error(resp) == {
        "message": message,
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


async def test_control_endpoints(served: Served) -> None:
    root = served.base.split("/ch/")[0]
    resp = await served.client.post(
        root + "/_sim/fault", json={"channel": "ch", "fault": "rate_limited", "rate": 0.5}
    )
    assert resp.json() == {"channel": "ch", "fault": "rate_limited", "rate": 0.5}
    state = (await served.client.get(root + "/_sim/state?faulty=1")).json()
    assert state["channels"] == {"ch": {"fault": "rate_limited", "rate": 0.5, "source": "override"}}
    bad = await served.client.post(root + "/_sim/fault", json={"channel": "ch", "fault": "nap"})
    assert bad.status_code == 400
    assert "nap" in bad.json()["error"]
    cleared = await served.client.post(root + "/_sim/fault", json={"channel": "ch", "fault": None})
    assert cleared.json() == {"channel": "ch", "fault": "ok"}
