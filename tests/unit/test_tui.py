"""The live table's rows say what a person needs: icon, status with pass rate, stars, why."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from rich.console import Console

from sorawatch.config import parse_config
from sorawatch.domain.observation import Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status
from sorawatch.monitor import ChannelView, Monitor
from sorawatch.store.base import CanaryRun, CanaryState, OutboxMessage
from sorawatch.store.memory import MemoryStore
from sorawatch.tui import alert_summary, status_table

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
CONFIG = """
channels:
  - {id: rev, name: Sora 2 (reverse), model: sora-2, access: reverse, protocol: openai-videos,
     base_url: "http://127.0.0.1:9/v1"}
  - {id: official, name: Sora 2 (official), model: sora-2, access: official,
     protocol: openai-videos, base_url: "http://127.0.0.1:9/v1"}
"""


def render(table: object) -> str:
    console = Console(record=True, width=240)
    console.print(table)
    return console.export_text()


def test_rows() -> None:
    rev, off = parse_config(CONFIG, env={}).channels
    views = [
        ChannelView(
            rev,
            Status.RISK_CONTROL,
            NOW,
            Observation("rev", Source.LIGHT, NOW, Outcome.RISK_CONTROL, 403, 410.0, detail="cf"),
            None,
            success=0.4,
        ),
        ChannelView(
            off,
            Status.DEGRADED,
            NOW,
            Observation("official", Source.LIGHT, NOW, Outcome.OK, 200, 180.0),
            None,
            reason="openai: Video generation is degraded",
            sunset=datetime(2026, 12, 31, tzinfo=UTC),
        ),
    ]
    canary = CanaryRun("official", NOW, CanaryState.COMPLETED, 0.4, Outcome.OK, total_ms=6100)
    text = render(
        status_table(
            views,
            {"rev": 0.85, "official": 0.9984},
            "t",
            {"official": canary},
            "canary spend today $0.40",
            {"rev": 2, "official": 5},
        )
    )
    rev_line = next(line for line in text.splitlines() if "Sora 2 (reverse)" in line)
    off_line = next(line for line in text.splitlines() if "Sora 2 (official)" in line)
    assert "🟡" in rev_line
    assert "risk_control (40% pass)" in rev_line
    assert "★★☆☆☆" in rev_line
    assert "risk_control: cf" in rev_line
    assert "85.00%" in rev_line
    assert "sunset 2026-12-31" in off_line
    assert "(openai: Video generation is degraded)" in off_line
    assert "★★★★★" in off_line
    assert "completed 6.1s $0.40" in off_line
    assert "canary spend today $0.40" in text


async def test_the_caption_sums_up_the_outbox() -> None:
    quiet = parse_config(CONFIG, env={})
    text = 'alerts: {notifiers: {hook: {url: "json://127.0.0.1:9/x"}}}\n' + CONFIG
    store = MemoryStore()
    async with httpx.AsyncClient() as client:
        assert await alert_summary(Monitor(quiet, store, client)) is None
        monitor = Monitor(parse_config(text, env={}), store, client)
        assert await alert_summary(monitor) == "alerts: none yet"

        def msg(alert_id: str, title: str) -> OutboxMessage:
            return OutboxMessage(
                alert_id, "hook", "all", "problem", "critical", title, "b", ("rev",), NOW
            )

        await store.commit_alerts(1, "{}", [msg("a" * 24, "first"), msg("b" * 24, "second")])
        (first, _) = await store.pending_messages()
        assert first.seq is not None
        await store.record_attempt(first.seq, NOW, error=None)
        summary = await alert_summary(monitor)
        assert summary == "alerts: 1 delivered, 1 pending · last: second"
