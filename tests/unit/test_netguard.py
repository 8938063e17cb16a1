"""Our own network down must read as unknown, not as every channel suspended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sorawatch.domain.observation import Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.netguard import NetworkGuard

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def obs(ch: str, outcome: Outcome, at: datetime = T0) -> Observation:
    return Observation(ch, Source.LIGHT, at, outcome)


def test_every_channel_refused_across_hosts_is_inconclusive() -> None:
    g = NetworkGuard({"a": "h1:443", "b": "h2:443"}, timedelta(minutes=2))
    assert not g.judge(obs("a", Outcome.CONNECT_ERROR)).inconclusive
    assert g.judge(obs("b", Outcome.CONNECT_ERROR, T0 + timedelta(seconds=5))).inconclusive


def test_one_channel_refused_while_another_answers_is_real() -> None:
    g = NetworkGuard({"a": "h1:443", "b": "h2:443"}, timedelta(minutes=2))
    g.judge(obs("a", Outcome.OK))
    assert not g.judge(obs("b", Outcome.CONNECT_ERROR)).inconclusive


def test_single_host_cannot_tell_ours_from_theirs() -> None:
    g = NetworkGuard({"a": "h1:443", "b": "h1:443"}, timedelta(minutes=2))
    g.judge(obs("a", Outcome.CONNECT_ERROR))
    assert not g.judge(obs("b", Outcome.CONNECT_ERROR)).inconclusive


def test_old_answers_do_not_count() -> None:
    g = NetworkGuard({"a": "h1:443", "b": "h2:443"}, timedelta(minutes=2))
    g.judge(obs("a", Outcome.CONNECT_ERROR, T0 - timedelta(minutes=10)))
    assert not g.judge(obs("b", Outcome.CONNECT_ERROR)).inconclusive
