"""Comparison tables and per-scenario recommendations, from cards (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sorawatch.config import parse_config
from sorawatch.domain.stability import stars
from sorawatch.domain.status import Status
from sorawatch.web.advice import compare_access, prices, recommend
from sorawatch.web.board import ChannelCard, LiveStatus

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def card(
    cid: str,
    access: str = "relay",
    status: Status = Status.OPERATIONAL,
    up: float | None = 0.999,
    price: float | None = 0.10,
    rc: float = 0.0,
    p95: float | None = 500.0,
    protocol: str = "openai-videos",
) -> ChannelCard:
    price_yaml = "" if price is None else f"    price: {{per_second: {price}}}\n"
    check = "    check: {}\n" if protocol == "http" else ""
    cfg = parse_config(
        f"channels:\n  - id: {cid}\n    name: {cid}\n    model: m\n    access: {access}\n"
        f"    protocol: {protocol}\n    base_url: http://x/v1\n    api_key: k\n{price_yaml}{check}",
        env={},
    )
    produces = {"http": "check", "openai-images": "image"}.get(protocol, "video")
    return ChannelCard(
        channel=cfg.channels[0],
        live=LiveStatus(status, NOW),
        uptime={"24h": up, "7d": up, "30d": up, "90d": up},
        stars=stars(up),
        days=[],
        day_incidents={},
        latency_24h=[],
        p50_24h_ms=None if p95 is None else p95 / 2,
        p95_24h_ms=p95,
        p50_30d_ms=None if p95 is None else p95 / 2,
        p95_30d_ms=p95,
        success_rate_24h=up,
        risk_control_per_week=rc,
        incidents=[],
        canary=None,
        built_at=NOW,
        produces=produces,
    )


SEED = [
    card("official-relay", "relay", up=0.9984, price=0.10),
    card("pro-relay", "relay", up=0.999, price=0.30, p95=900),
    card("reverse", "reverse", up=0.85, price=0.012, rc=2.5),
    card("pro-reverse", "reverse", Status.RISK_CONTROL, up=0.70, price=0.04, rc=4.0),
    card("vertex", "official", up=0.9995, price=0.40, p95=300),
    card("images", "relay", up=1.0, price=0.001, protocol="openai-images"),
    card("health", "relay", up=1.0, price=None, protocol="http"),
]


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        pytest.param("production", "vertex", id="production-most-available-non-reverse"),
        pytest.param("commercial", "official-relay", id="commercial-cheapest-4-stars"),
        pytest.param("development/testing", "reverse", id="dev-cheapest-serving"),
        pytest.param("learning", "reverse", id="learning-cheapest-not-retired"),
        pytest.param("high frequency", "vertex", id="high-frequency-no-risk-control"),
        pytest.param("tight budget", "reverse", id="tight-budget-cheapest-2-stars"),
    ],
)
def test_recommendation_per_scenario(scenario: str, expected: str) -> None:
    advice = {a.scenario: a for a in recommend(SEED)}
    chosen = advice[scenario]
    assert chosen.card is not None and chosen.card.id == expected
    assert chosen.reason  # always says why, with numbers
    assert "uptime" in chosen.reason


def test_nothing_fits_says_so() -> None:
    down = [card("a", status=Status.SUSPENDED), card("b", "reverse", Status.RETIRED)]
    advice = {a.scenario: a for a in recommend(down)}
    assert advice["production"].card is None
    assert advice["production"].reason.startswith("no channel fits right now")
    assert advice["learning"].card is not None and advice["learning"].card.id == "a"


def test_image_and_check_channels_are_not_video_options() -> None:
    advice = recommend([SEED[5], SEED[6]])
    assert all(a.card is None for a in advice)
    assert prices([SEED[5], SEED[6]]) == []
    assert compare_access([SEED[5], SEED[6]]) == []


def test_access_comparison_from_measured_numbers() -> None:
    rows = {r.access.value: r for r in compare_access(SEED)}
    assert set(rows) == {"official", "relay", "reverse"}
    assert rows["relay"].channels == 2
    assert rows["relay"].availability_30d == pytest.approx((0.9984 + 0.999) / 2)
    assert rows["reverse"].risk_control_per_week == pytest.approx(3.25)
    assert rows["relay"].p95_ms == 900


def test_prices_per_clip_and_month_cheapest_first() -> None:
    rows = prices(SEED)
    assert [r.card.id for r in rows][:2] == ["reverse", "pro-reverse"]
    first = rows[0]
    assert first.per_clip_usd == pytest.approx(0.12)  # 10 s at $0.012/s
    assert first.per_month_usd == pytest.approx(12.0)  # 100 clips
