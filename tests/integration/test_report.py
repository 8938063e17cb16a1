"""History and export numbers from a hand-made store: uptime, stars, success rate, entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sorawatch.config import parse_config
from sorawatch.domain.incident import StatusChange
from sorawatch.domain.observation import Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status
from sorawatch.report import history, history_csv, history_json
from sorawatch.store import open_store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CONFIG = """
channels:
  - {id: rev, name: Reverse, model: sora-2, access: reverse, protocol: openai-videos,
     base_url: "http://127.0.0.1:9/v1"}
"""


async def test_history_numbers() -> None:
    store = open_store("memory://")
    await store.open()
    t0 = NOW - timedelta(days=30)
    # 30 days: operational, then 3 days of risk control in two entries, rest operational
    for at, old, new in [
        (t0, Status.UNKNOWN, Status.OPERATIONAL),
        (NOW - timedelta(days=10), Status.OPERATIONAL, Status.RISK_CONTROL),
        (NOW - timedelta(days=8), Status.RISK_CONTROL, Status.OPERATIONAL),
        (NOW - timedelta(days=3), Status.OPERATIONAL, Status.RISK_CONTROL),
        (NOW - timedelta(days=2), Status.RISK_CONTROL, Status.OPERATIONAL),
    ]:
        await store.record_change(StatusChange("rev", at, old, new, "test"), None)
    # last hours: 4 good of 10 probes, plus rejected and vendor words that must not count
    obs = [
        Observation("rev", Source.LIGHT, NOW - timedelta(minutes=10 * i), outcome)
        for i, outcome in enumerate([Outcome.OK] * 4 + [Outcome.RISK_CONTROL] * 6)
    ]
    obs += [Observation("rev", Source.CANARY, NOW - timedelta(minutes=5), Outcome.REJECTED)]
    obs += [
        Observation(
            "rev",
            Source.STATUSPAGE,
            NOW - timedelta(minutes=5),
            Outcome.OK,
            reported=Status.OPERATIONAL,
        )
    ]
    await store.add_observations(obs)

    cfg = parse_config(CONFIG, env={})
    [h] = await history(store, cfg, NOW - timedelta(days=7), NOW)
    assert h.status is Status.OPERATIONAL
    assert h.uptime["30d"] is not None
    assert abs(h.uptime["30d"] - 27 / 30) < 1e-9
    assert h.stars == 3
    assert h.success_rate_24h == 0.4
    assert h.risk_control_per_week == 0.5
    assert [s.status for s in h.timeline] == [
        Status.OPERATIONAL,
        Status.RISK_CONTROL,
        Status.OPERATIONAL,
    ]
    doc = history_json([h], NOW)["channels"][0]
    assert (doc["stars"], doc["success_rate_24h"], doc["risk_control_per_week"]) == (3, 0.4, 0.5)
    rows = history_csv([h]).splitlines()
    assert rows[1].startswith("rev,uptime,,,operational")
    assert sum(r.startswith("rev,segment,") for r in rows) == 3
    await store.close()
