"""Fake upstreams with scripted fault timelines (the demo, the tests and the benchmarks run on it).

scenario = load_scenario("demo")                 # a builtin name or a YAML path
sim = Simulator(scenario, clock=None, seed=0)
async with sim.serve(host="127.0.0.1", port=0) as running:
    sim.base_url("sora-2-reverse")               # http://127.0.0.1:PORT/ch/sora-2-reverse/v1
    sim.set_fault("sora-2-reverse", "overloaded")
"""

from sorawatch.errors import ScenarioError
from sorawatch.simulator.core import Simulator
from sorawatch.simulator.engine import SimStats
from sorawatch.simulator.scenario import (
    BUILTIN_SCENARIOS,
    FAULTS,
    OK,
    Fault,
    Scenario,
    load_scenario,
    parse_scenario,
)
from sorawatch.simulator.server import Running, SimulatorUrls

__all__ = [
    "BUILTIN_SCENARIOS",
    "FAULTS",
    "OK",
    "Fault",
    "Running",
    "Scenario",
    "ScenarioError",
    "SimStats",
    "Simulator",
    "SimulatorUrls",
    "load_scenario",
    "parse_scenario",
]
