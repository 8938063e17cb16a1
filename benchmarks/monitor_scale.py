"""Monitor at scale: N channels at one interval against the simulator, for a few minutes.

Prints checks/s, p50/p99 schedule lag, peak RSS and database bytes per observation.
Target (issue 2): p99 lag ≤ 1 s and RSS ≤ 400 MB at 10,000 channels on a 2-core machine.

    .venv/bin/python benchmarks/monitor_scale.py --channels 10000 --every 60 --duration 180

The simulator runs in its own process (as an upstream would), the monitor in this one, so the
RSS measured is the monitor's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import psutil

from sorawatch.app import make_client
from sorawatch.config import parse_config
from sorawatch.monitor import Monitor
from sorawatch.scheduler import Scheduler
from sorawatch.store import open_store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scenario_yaml(n: int) -> str:
    return (
        "name: bench\n"
        "channels_template:\n"
        f"  count: {n}\n"
        "  prefix: bench-\n"
        "  protocol: openai-videos\n"
        "  models: [sora-2]\n"
        "  latency_ms: 20\n"
    )


def config_yaml(n: int, port: int, every: float, db: Path, concurrency: int) -> str:
    head = (
        f'storage: {{url: "sqlite:///{db}"}}\n'
        f"monitor: {{concurrency: {concurrency}, jitter: 0.1}}\n"
        "channels:\n"
    )
    rows = [
        f"  - {{id: bench-{i}, name: bench {i}, model: sora-2, access: relay, "
        f"protocol: openai-videos, base_url: 'http://127.0.0.1:{port}/ch/bench-{i}/v1', "
        f"api_key: sim-key, probes: {{light: {{every: {every}s, timeout: 10s}}}}}}\n"
        for i in range(n)
    ]
    return head + "".join(rows)


async def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise SystemExit(f"simulator did not start on port {port}")


async def main(args: argparse.Namespace) -> None:
    proc_self = psutil.Process()
    tmp = Path(tempfile.mkdtemp(prefix="sorawatch-bench-"))
    port = free_port()
    (tmp / "scenario.yaml").write_text(scenario_yaml(args.channels), encoding="utf-8")
    sim = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sorawatch.cli",
        "simulate",
        "--scenario",
        str(tmp / "scenario.yaml"),
        "--port",
        str(port),
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_port(port)
        db = tmp / "bench.db"
        cfg = parse_config(
            config_yaml(args.channels, port, args.every, db, args.concurrency), env={}
        )
        store = open_store(cfg.storage.url)
        await store.open()
        rss_peak = proc_self.memory_info().rss
        async with make_client(args.concurrency) as client:
            monitor = Monitor(cfg, store, client)
            sched = Scheduler(args.concurrency, cfg.monitor.jitter)
            task = asyncio.create_task(monitor.run(sched))
            started = time.monotonic()
            while time.monotonic() - started < args.duration:
                await asyncio.sleep(5)
                rss_peak = max(rss_peak, proc_self.memory_info().rss)
                print(
                    f"  t={time.monotonic() - started:5.0f}s checks={sched.stats.finished} "
                    f"p99 lag={sched.stats.lag_percentile(0.99) or 0:.3f}s "
                    f"rss={rss_peak / 2**20:.0f} MB",
                    flush=True,
                )
            elapsed = time.monotonic() - started
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        stats = sched.stats
        size = await store.size_bytes()
        await store.close()
        with sqlite3.connect(db) as conn:
            observations = conn.execute("SELECT count(*) FROM observations").fetchone()[0]
        db_bytes = sum(p.stat().st_size for p in tmp.glob("bench.db*"))
        print(f"channels            {args.channels} every {args.every:.0f}s for {elapsed:.0f}s")
        expected = args.channels / args.every
        print(f"checks/s            {stats.finished / elapsed:.1f} (expected {expected:.1f})")
        print(f"schedule lag p50    {stats.lag_percentile(0.5) or 0:.4f} s")
        print(f"schedule lag p99    {stats.lag_percentile(0.99) or 0:.4f} s")
        print(f"skipped / failed    {stats.skipped} / {stats.failed}")
        print(f"peak RSS            {rss_peak / 2**20:.0f} MB")
        print(f"observations        {observations}")
        print(f"DB bytes            {db_bytes} (store says {size})")
        if observations:
            print(f"DB bytes / obs      {db_bytes / observations:.0f}")
    finally:
        sim.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(sim.wait(), 15)
        except TimeoutError:
            sim.kill()
        if not args.keep:
            for p in tmp.iterdir():
                p.unlink()
            tmp.rmdir()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--channels", type=int, default=10_000)
    ap.add_argument("--every", type=float, default=60.0)
    ap.add_argument("--duration", type=float, default=180.0)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--keep", action="store_true", help="keep the temporary database")
    asyncio.run(main(ap.parse_args()))
