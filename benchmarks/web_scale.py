"""Status page at scale: N channels with D days of history, page and summary.json latency.

Target (issue 4): with 1,000 channels and 90 days of history, ``/`` and
``/api/v2/summary.json`` answer in ≤ 50 ms at p95, from the rollups and the status timeline
(never raw observations: this store holds none).

    .venv/bin/python benchmarks/web_scale.py --channels 1000 --days 90

Steps: (1) generate the history straight into a SQLite store (status changes, incidents, day
and hour rollups, canary runs); (2) start the web app over it in a child process, exactly as
``sorawatch run`` serves it but with no monitor, its rolling card refresh running; (3) time
sequential requests from this process. It also times the cold board build (every card from the
store) and one uncached page render, the work behind a board change.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from sorawatch.config import parse_config
from sorawatch.domain.incident import Incident, StatusChange
from sorawatch.domain.observation import Evidence
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status
from sorawatch.store import open_store
from sorawatch.store import schema as t
from sorawatch.store.base import Resolution
from sorawatch.store.rollup import RollupAcc, latency_bucket
from sorawatch.store.sql import _change_row, _incident_row, _rollup_row

ACCESS = ("official", "relay", "reverse")


def config_yaml(n: int, db: Path, port: int) -> str:
    rows = []
    for i in range(n):
        access = ACCESS[i % 3]
        canary = ", canary: {every: 6h}" if i % 10 == 0 else ""
        rows.append(
            f"  - {{id: ch-{i}, name: 'Channel {i}', group: 'Group {i % 12}', model: sora-2, "
            f"access: {access}, protocol: openai-videos, description: 'bench channel {i}', "
            f"base_url: 'http://127.0.0.1:9/v1', api_key: sk-bench-{i}, "
            f"price: {{per_second: {0.02 + (i % 7) * 0.05:.2f}}}, "
            f"probes: {{light: {{every: 60s}}{canary}}}}}\n"
        )
    return (
        f'storage: {{url: "sqlite:///{db}"}}\n'
        f'web: {{listen: "127.0.0.1:{port}", title: "bench", refresh: 60s}}\n'
        "channels:\n" + "".join(rows)
    )


def history(cid: str, access: str, days: int, now: datetime, rng: random.Random):  # type: ignore[no-untyped-def]
    """Status changes and incidents: reverse channels fall into risk control every ~2 days,
    the others have an incident every ~10 days."""
    t0 = now - timedelta(days=days)
    changes = [StatusChange(cid, t0, Status.UNKNOWN, Status.OPERATIONAL, "first good probe")]
    incidents = []
    at = t0
    mean_gap = 2.0 if access == "reverse" else 10.0
    while True:
        at += timedelta(days=rng.expovariate(1 / mean_gap))
        if at >= now - timedelta(hours=6):
            break
        bad = Status.RISK_CONTROL if access == "reverse" else Status.SUSPENDED
        end = at + timedelta(minutes=rng.uniform(10, 360))
        ev = (Evidence(at, Source.LIGHT, Outcome.RISK_CONTROL, 403, "403 cf-mitigated"),)
        inc = Incident(f"{cid}-{len(incidents)}", cid, at, bad, bad, "3 consecutive", end, ev)
        changes.append(StatusChange(cid, at, Status.OPERATIONAL, bad, "3 consecutive"))
        changes.append(StatusChange(cid, end, bad, Status.OPERATIONAL, "recovered"))
        incidents.append(inc)
        at = end
    return changes, incidents


def rollup_rows(cid: str, days: int, now: datetime, rng: random.Random) -> list[dict[str, object]]:
    rows = []
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    hour = now.replace(minute=0, second=0, microsecond=0)
    buckets = [(Resolution.DAY, today - timedelta(days=d), 1440) for d in range(days)]
    buckets += [(Resolution.HOUR, hour - timedelta(hours=h), 60) for h in range(48)]
    base = rng.uniform(100, 900)
    for resolution, bucket, count in buckets:
        acc = RollupAcc()
        for _ in range(24):  # a sample of the bucket's latencies, scaled to its count
            ms = rng.lognormvariate(0, 0.4) * base
            acc.latency_buckets[latency_bucket(ms)] += count // 24
            acc.latency_max_ms = max(acc.latency_max_ms, ms)
            acc.latency_sum_ms += ms * (count // 24)
        acc.count = acc.latency_count = (count // 24) * 24
        acc.outcomes[Outcome.OK] = acc.count - 3
        acc.outcomes[Outcome.RATE_LIMITED] = 3
        rows.append(_rollup_row((cid, Source.LIGHT, resolution, bucket), acc))
    return rows


def generate(n: int, days: int, db: Path, now: datetime) -> dict[str, int]:
    async def migrate() -> None:
        store = open_store(f"sqlite:///{db}")
        await store.open()
        await store.close()

    asyncio.run(migrate())
    rng = random.Random(42)
    engine = sa.create_engine(f"sqlite:///{db}")
    counts = {"changes": 0, "incidents": 0, "rollups": 0, "canary_runs": 0}
    with engine.begin() as conn:
        for i in range(n):
            cid = f"ch-{i}"
            changes, incidents = history(cid, ACCESS[i % 3], days, now, rng)
            conn.execute(sa.insert(t.status_changes), [_change_row(c) for c in changes])
            if incidents:
                conn.execute(sa.insert(t.incidents), [_incident_row(x) for x in incidents])
            rows = rollup_rows(cid, days, now, rng)
            conn.execute(sa.insert(t.rollups), rows)
            counts["changes"] += len(changes)
            counts["incidents"] += len(incidents)
            counts["rollups"] += len(rows)
            if i % 10 == 0:
                runs = [
                    {
                        "channel_id": cid,
                        "started_at": now - timedelta(hours=6 * k),
                        "finished_at": now - timedelta(hours=6 * k) + timedelta(minutes=3),
                        "final_state": "completed" if k % 5 else "failed",
                        "outcome": "ok" if k % 5 else "job_failed",
                        "cost_usd": 0.4,
                        "total_ms": rng.uniform(60_000, 300_000),
                        "detail": "",
                    }
                    for k in range(min(days, 30) * 4)
                ]
                conn.execute(sa.insert(t.canary_runs), runs)
                counts["canary_runs"] += len(runs)
    engine.dispose()
    return counts


def serve(config_path: Path) -> None:
    """Child process: the web app over the store, as `sorawatch run` serves it (no monitor)."""
    from sorawatch.app import opened_store
    from sorawatch.config import load_config
    from sorawatch.web import WebService
    from sorawatch.web.pages import Pages

    async def go() -> None:
        cfg = load_config(config_path)
        async with opened_store(cfg) as store:
            web = WebService(cfg, store)
            start = time.perf_counter()
            await web.cache.rebuild()
            build_s = time.perf_counter() - start
            board = web.cache.board()
            start = time.perf_counter()
            Pages(cfg).render(board, "overview.html", False)
            render_s = time.perf_counter() - start
            print(json.dumps({"build_s": build_s, "render_s": render_s}), flush=True)
            await web.run()

    asyncio.run(go())


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def measure(url: str, requests: int) -> dict[str, float]:
    times = []
    size = 0
    with httpx.Client(timeout=30) as client:
        client.get(url)  # warm
        for _ in range(requests):
            start = time.perf_counter()
            r = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            r.raise_for_status()
            size = len(r.content)
    return {
        "p50_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
        "max_ms": max(times),
        "bytes": size,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--channels", type=int, default=1000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve)
        return
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="sorawatch-web-bench-") as tmp:
        db, cfg = Path(tmp) / "bench.db", Path(tmp) / "bench.yaml"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cfg.write_text(config_yaml(args.channels, db, port), encoding="utf-8")
        parse_config(cfg.read_text(), str(cfg), env={})  # fail early on a bad config
        start = time.perf_counter()
        counts = generate(args.channels, args.days, db, now)
        print(f"generated in {time.perf_counter() - start:.1f} s: {counts}")
        print(f"database: {db.stat().st_size / 1e6:.1f} MB")
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(cfg)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert child.stdout is not None
            cold = json.loads(child.stdout.readline())
            print(
                f"cold board build: {cold['build_s']:.2f} s for {args.channels} cards; "
                f"one uncached overview render: {cold['render_s'] * 1000:.0f} ms"
            )
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    httpx.get(base + "/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            for path in ("/", "/api/v2/summary.json", "/api/v1/channels", "/metrics"):
                m = measure(base + path, args.requests)
                print(
                    f"{path:24} p50 {m['p50_ms']:6.1f} ms  p95 {m['p95_ms']:6.1f} ms  "
                    f"max {m['max_ms']:6.1f} ms  {m['bytes'] / 1e6:.2f} MB"
                )
        finally:
            child.terminate()
            child.wait(10)


if __name__ == "__main__":
    main()
