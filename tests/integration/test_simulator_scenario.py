"""Scenario files: validation with key paths, builtins, templates, timelines in time."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sorawatch.errors import ScenarioError
from sorawatch.simulator import (
    BUILTIN_SCENARIOS,
    FAULTS,
    Simulator,
    load_scenario,
    parse_scenario,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _problems(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(textwrap.dedent(text), "bad.yaml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "name: x\nchannels:\n  a: {modles: [sora-2]}\n",
            "channels.a.modles: unknown key",
            id="unknown-key",
        ),
        pytest.param(
            "name: x\nchannels:\n  a: {timeline: [{at: 0s, fault: napping}]}\n",
            "channels.a.timeline[0].fault: Input should be 'ok', 'slow'",
            id="unknown-fault",
        ),
        pytest.param(
            "name: x\nchannels:\n  a: {timeline: [{at: 0s, fault: slow, hold_s: 3}]}\n",
            "channels.a.timeline[0]: hold_s does not apply to fault 'slow'",
            id="param-on-wrong-fault",
        ),
        pytest.param(
            "name: x\nchannels:\n  a: {timeline: [{at: 9s, fault: ok}, {at: 3s, fault: slow}]}\n",
            "channels.a.timeline[1].at: entries must be in time order",
            id="time-order",
        ),
        pytest.param(
            "name: x\nchannels:\n  a: {timeline: [{at: soon, fault: ok}]}\n",
            "channels.a.timeline[0].at: expected a duration",
            id="bad-duration",
        ),
        pytest.param(
            "name: x\nchannels:\n  a: {timeline: [{at: 0s, fault: paused, rate: 2}]}\n",
            "channels.a.timeline[0].rate: Input should be less than or equal to 1",
            id="rate-above-one",
        ),
        pytest.param(
            "name: x\nchannels:\n  a: {timeline: [{at: 0s, fault: paused, routes: [remix]}]}\n",
            "channels.a.timeline[0].routes: unknown route 'remix'",
            id="unknown-route",
        ),
        pytest.param(
            "name: x\nchannels:\n  a: {protocol: carrier-pigeon}\n",
            "channels.a.protocol: unknown protocol 'carrier-pigeon'",
            id="unknown-protocol",
        ),
        pytest.param(
            "name: x\nloop: 60s\nchannels:\n  a: {timeline: [{at: 90s, fault: ok}]}\n",
            "channels.a.timeline[0].at: 90s is not before the loop period 60s",
            id="beyond-loop",
        ),
        pytest.param(
            "name: x\nchannels:\n  Bad_Id: {}\n",
            "channels.Bad_Id (id): String should match pattern",
            id="bad-channel-id",
        ),
        pytest.param(
            "name: x\nchannels_template:\n  count: 3\n  prefix: b-\n"
            "  timeline: [{at: 0s, fault: connection_refused}]\n",
            "channels_template: templated channels cannot have their own port",
            id="template-listeners",
        ),
        pytest.param(
            "name: x\nchannels: {b-1: {}}\nchannels_template: {count: 3, prefix: b-}\n",
            "channels_template makes ids already in channels: b-1",
            id="template-clash",
        ),
        pytest.param(
            "name: x\nstatus_pages:\n  p:\n    kind: statuspage\n"
            "    components: {API: operational}\n"
            "    timeline: [{at: 1s, components: {Web: major_outage}}]\n",
            "status_pages.p.timeline[0].components: unknown component 'Web'",
            id="page-unknown-component",
        ),
        pytest.param(
            "name: x\nstatus_pages:\n  p:\n    kind: statuspage\n    components: {API: sideways}\n",
            "status_pages.p.components.API: Input should be 'operational'",
            id="page-bad-status",
        ),
        pytest.param(
            "name: x\nstatus_pages:\n  g:\n    kind: gcloud\n    products: [{id: P1, title: T}]\n"
            "    timeline: [{at: 1s, incident: boom, products: [P2]}]\n",
            "status_pages.g.timeline[0].products: unknown product id 'P2'",
            id="gcloud-unknown-product",
        ),
        pytest.param("name: x\n", "(top level): a scenario needs channels", id="empty"),
        pytest.param("- just\n- a list\n", "expected a mapping at the top level", id="not-mapping"),
        pytest.param("name: [unclosed\n", "not valid YAML", id="bad-yaml"),
    ],
)
def test_validation_errors_name_the_key_path(text: str, expected: str) -> None:
    message = _problems(text)
    assert message.startswith("bad.yaml")
    assert expected in message


def test_every_problem_is_reported_at_once() -> None:
    message = _problems("name: x\nchannels:\n  a: {latency: 3}\n  b: {queue_s: -1}\nextra: true\n")
    assert "3 problem(s)" in message
    assert "channels.a.latency: unknown key" in message
    assert "channels.b.queue_s: a duration cannot be negative" in message
    assert "extra: unknown key" in message


def test_missing_file_names_the_builtins(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="builtin scenarios are: demo, healthy, chaos"):
        load_scenario(tmp_path / "nope.yaml")


def test_load_from_path(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: mine\nchannels: {a: {}}\n", encoding="utf-8")
    assert load_scenario(str(path)).name == "mine"


@pytest.mark.parametrize("name", BUILTIN_SCENARIOS)
def test_builtins_load_and_build(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    sim = Simulator(scenario)
    assert sim.channels


def test_chaos_has_one_channel_per_fault() -> None:
    scenario = load_scenario("chaos")
    sim = Simulator(scenario, clock=FakeClock())
    faults_seen = {sim.fault_at(cid, 20.0).fault for cid in sim.channels}
    assert faults_seen == set(FAULTS) - {"ok"}
    assert all(sim.fault_at(cid, 45.0).is_ok for cid in sim.channels)


SEED_TABLE = (
    "sora-2-official",
    "sora-2-pro-official",
    "sora-2-reverse",
    "sora-2-pro-reverse",
    "veo-3-1-reverse",
    "sora-images",
)


def test_demo_mirrors_the_seed_table_and_its_story() -> None:
    scenario = load_scenario("demo")
    assert tuple(scenario.channels)[: len(SEED_TABLE)] == SEED_TABLE
    protocols = {spec.protocol for spec in scenario.channels.values()}
    assert protocols == {
        "openai-videos",
        "openai-images",
        "newapi-videos",
        "aggregator-videos",
        "gemini-veo",
        "http",
    }
    assert scenario.loop == 120
    sim = Simulator(scenario, clock=FakeClock())
    first_minute = {
        cid: {sim.fault_at(cid, float(t)).fault for t in range(60)} for cid in SEED_TABLE
    }
    for cid in ("sora-2-official", "sora-2-pro-official"):
        assert first_minute[cid] <= {"ok", "slow"}
    reverse_faults = set().union(*(first_minute[c] for c in SEED_TABLE[2:5]))
    assert {"cloudflare", "risk_control_cn", "paused", "connection_refused"} <= reverse_faults
    assert all(sim.fault_at(cid, 65.0).is_ok for cid in SEED_TABLE[2:])
    for cid in SEED_TABLE:  # the loop repeats the story
        assert sim.fault_at(cid, 36.5) == sim.fault_at(cid, 156.5)
    refusing = [c for c, s in scenario.channels.items() if s.mentions_connection_refused]
    assert [scenario.channels[c].port for c in refusing] == [18766]
    for cid in SEED_TABLE:
        assert (scenario.channels[cid].queue_s, scenario.channels[cid].generate_s) == (1, 4)
    page = scenario.status_pages["openai"]
    assert page.kind == "incidentio"


def test_healthy_is_all_ok() -> None:
    sim = Simulator(load_scenario("healthy"), clock=FakeClock())
    assert all(sim.fault_at(cid, t).is_ok for cid in sim.channels for t in (0.0, 50.0, 500.0))


def test_timeline_without_loop_holds_its_last_entry() -> None:
    scenario = parse_scenario(
        "name: x\nchannels:\n  a:\n    timeline:\n"
        "      - {at: 5s, fault: overloaded}\n      - {at: 10s, fault: retired}\n"
    )
    sim = Simulator(scenario, clock=FakeClock())
    assert [sim.fault_at("a", t).fault for t in (0, 4.9, 5, 9.99, 10, 1e6)] == [
        "ok",
        "ok",
        "overloaded",
        "overloaded",
        "retired",
        "retired",
    ]


def test_override_wins_until_cleared_and_bad_overrides_are_refused() -> None:
    clock = FakeClock()
    sim = Simulator(parse_scenario("name: x\nchannels: {a: {}}\n"), clock=clock)
    sim.set_fault("a", "slow", latency_ms=100)
    assert sim.fault_at("a").latency_ms == 100
    with pytest.raises(ScenarioError, match="hold_s"):
        sim.set_fault("a", "paused", hold_s=3)
    with pytest.raises(ScenarioError, match="no channel 'zz'"):
        sim.set_fault("zz", "paused")
    sim.set_fault("a", None)
    assert sim.fault_at("a").is_ok


@given(
    ats=st.lists(st.integers(0, 119), min_size=1, max_size=8, unique=True).map(sorted),
    t=st.floats(0, 10_000),
)
def test_looped_timeline_is_periodic(ats: list[int], t: float) -> None:
    faults = ("overloaded", "paused", "server_error", "ok")
    entries = "".join(
        f"      - {{at: {at}s, fault: {faults[i % len(faults)]}}}\n" for i, at in enumerate(ats)
    )
    scenario = parse_scenario(f"name: x\nloop: 120s\nchannels:\n  a:\n    timeline:\n{entries}")
    sim = Simulator(scenario, clock=FakeClock())
    assert sim.fault_at("a", t) == sim.fault_at("a", t % 120)
    assert sim.fault_at("a", t) == sim.fault_at("a", t + 120 * 7)


TEMPLATE = """
name: bench
loop: 60s
channels_template:
  count: 10000
  prefix: bench-
  stagger: 0.5s
  timeline:
    - {at: 0s, fault: ok}
    - {at: 30s, fault: overloaded}
"""


async def test_ten_thousand_templated_channels_stay_cheap() -> None:
    started = time.perf_counter()
    clock = FakeClock()
    sim = Simulator(parse_scenario(TEMPLATE), clock=clock)
    assert time.perf_counter() - started < 3.0
    assert len(sim.channels) == 10_000
    assert sim.channels[0] == "bench-0" and sim.channels[-1] == "bench-9999"
    clock.now = 30.0
    assert sim.fault_at("bench-0").fault == "overloaded"
    assert sim.fault_at("bench-1").fault == "ok"  # starts its timeline 0.5 s later
    assert sim.fault_at("bench-100").fault == "overloaded"  # 50 s late, 30 - 50 wraps to 40
    transport = httpx.ASGITransport(app=sim.app)
    headers = {"Authorization": "Bearer sk-test"}
    async with httpx.AsyncClient(transport=transport, base_url="http://sim", headers=headers) as c:
        started = time.perf_counter()
        for i in range(0, 10_000, 50):
            resp = await c.get(f"/ch/bench-{i}/v1/models/sora-2")
            assert resp.status_code in (200, 503)
        per_request = (time.perf_counter() - started) / 200
    assert per_request < 0.02
    stats = sim.stats()
    assert stats.requests == 200
    assert len(stats.by_channel) == 200
