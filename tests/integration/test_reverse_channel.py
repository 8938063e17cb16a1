"""A reverse channel through the simulator: partly blocked (risk control at ~40 % success),
then paused by its provider, then back — and its measured success rate along the way."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.helpers import channel_yaml, config_yaml, running_sim

from sorawatch.app import make_client
from sorawatch.config import parse_config
from sorawatch.domain.stability import success_rate
from sorawatch.domain.status import Status
from sorawatch.monitor import Monitor
from sorawatch.store import open_store

SCENARIO = """
name: reverse-test
channels:
  rev: {protocol: openai-videos, models: [sora-2], latency_ms: 1}
"""


async def test_risk_control_pause_recovery(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    await store.open()
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        chan = channel_yaml(sim, "rev", access="reverse")
        monitor = Monitor(
            parse_config(config_yaml(sim, "memory://", [chan]), env={}), store, client
        )
        ch = monitor.config.channels[0]

        async def rounds(n: int) -> list[Status]:
            seen = []
            for _ in range(n):
                await monitor.ingest(await monitor.probe(ch))
                seen.append(monitor.states["rev"].status)
            return seen

        assert (await rounds(3))[-1] is Status.OPERATIONAL
        sim.set_fault("rev", "cloudflare", rate=0.6)  # 40 % of requests still pass
        during = await rounds(40)
        assert Status.RISK_CONTROL in during
        entered = during.index(Status.RISK_CONTROL)
        assert set(during[entered:]) == {Status.RISK_CONTROL}  # steady, no flapping
        assert Status.SUSPENDED not in during

        sim.set_fault("rev", "paused")
        assert (await rounds(3))[-1] is Status.SUSPENDED
        sim.set_fault("rev", None)
        after = await rounds(12)
        assert after[-1] is Status.OPERATIONAL
        await monitor.flush()

    changes = await store.changes("rev")
    assert [c.new for c in changes] == [
        Status.OPERATIONAL,
        Status.RISK_CONTROL,
        Status.SUSPENDED,
        Status.OPERATIONAL,
    ]
    assert (
        "attempts blocked by risk control" in changes[1].reason
        or "consecutive" in changes[1].reason
    )
    observed = await store.observations("rev", since=changes[1].at, until=changes[2].at)
    measured = success_rate(Counter(o.outcome for o in observed))
    assert measured is not None
    assert 0.15 < measured < 0.7  # about 40 % pass while it is under risk control
    await store.close()
