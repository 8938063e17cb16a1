"""Shared test helpers: a running simulator and configs pointed at it."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sorawatch.simulator import Simulator, load_scenario

CLI = [sys.executable, "-m", "sorawatch.cli"]


@asynccontextmanager
async def running_sim(tmp_path: Path, scenario_yaml: str) -> AsyncIterator[Simulator]:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(scenario_yaml), encoding="utf-8")
    sim = Simulator(load_scenario(str(path)))
    async with sim.serve(host="127.0.0.1", port=0):
        yield sim


def channel_yaml(
    sim: Simulator,
    cid: str,
    *,
    model: str = "sora-2",
    access: str = "relay",
    every: str = "1s",
    api_key: str = "sk-test",
    slow_ms: int = 5000,
    extra: tuple[str, ...] = (),
) -> str:
    """One entry of a ``channels:`` list pointed at the simulator."""
    lines = [
        f"  - id: {cid}",
        f'    name: "{cid} channel"',
        "    group: Test",
        f"    model: {model}",
        f"    access: {access}",
        "    protocol: openai-videos",
        f'    base_url: "{sim.base_url(cid)}"',
        f'    api_key: "{api_key}"',
        "    price: {per_second: 0.10}",
        f"    probes: {{light: {{every: {every}, timeout: 2s}}}}",
        f"    thresholds: {{fail_after: 3, recover_after: 2, slow_ms: {slow_ms}}}",
        *(f"    {e}" for e in extra),
    ]
    return "\n".join(lines) + "\n"


def config_yaml(
    sim: Simulator, db_url: str, channels: list[str], pages: str = "", web: str = "127.0.0.1:0"
) -> str:
    """A whole config; its status page listens on a free port (``web=""`` turns it off)."""
    body = "".join(channels)
    web_yaml = f'web: {{listen: "{web}"}}\n' if web else "web: {enabled: false}\n"
    return f'storage: {{url: "{db_url}"}}\n{web_yaml}{pages}channels:\n{body}'


async def cli(*args: str, timeout: float = 60) -> tuple[int, str, str]:
    """Run ``sorawatch ARGS`` to its end: exit code, stdout, stderr."""
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def start_run(config: Path, columns: int = 200) -> asyncio.subprocess.Process:
    """``sorawatch run -c CONFIG --no-live`` in the background, its output piped."""
    return await asyncio.create_subprocess_exec(
        *CLI,
        "run",
        "-c",
        str(config),
        "--no-live",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": str(columns)},
    )
