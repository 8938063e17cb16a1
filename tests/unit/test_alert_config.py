"""The alerts and maintenance config: Apprise URLs checked at load, references checked,
every problem with its key path."""

from __future__ import annotations

import textwrap

import pytest
from tests.unit.test_config import GOOD, problems_of

from sorawatch.config import parse_config

ALERTS = textwrap.dedent(
    """
    alerts:
      notifiers:
        hook: {url: "json://127.0.0.1:9000/hook"}
        mail: {url: "mailto://127.0.0.1:2525?from=sw@example.com&to=ops@example.com"}
      routes:
        - {name: ops, notifiers: [hook, mail], groups: [Sora], severities: [critical]}
      remind_every: 30m
    maintenance:
      - {name: weekly, groups: [Sora], start: "2026-11-24T02:00:00Z", duration: 2h, every: 7d}
    """
)


def test_a_full_alerts_section_loads() -> None:
    cfg = parse_config(ALERTS + GOOD, env={})
    assert cfg.alerts.remind_every == 1800
    assert [r.name for r in cfg.alerts.effective_routes] == ["ops"]
    assert cfg.maintenance[0].every == 7 * 86400
    assert "9000" not in repr(cfg.alerts)  # URLs hold tokens: kept secret


def test_without_routes_everything_goes_to_every_notifier() -> None:
    text = 'alerts: {notifiers: {a: {url: "json://h/x"}, b: {url: "json://h/y"}}}\n' + GOOD
    (route,) = parse_config(text, env={}).alerts.effective_routes
    assert route.notifiers == ["a", "b"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            ('"json://127.0.0.1:9000/hook"', '"foo://x"'),
            "alerts.notifiers.hook.url: Apprise cannot use this foo:// URL",
            id="unknown-scheme",
        ),
        pytest.param(
            ("notifiers: [hook, mail]", "notifiers: [hook, pager]"),
            "routes[0].notifiers: 'pager' is not defined under alerts.notifiers",
            id="undefined-notifier",
        ),
        pytest.param(
            ("groups: [Sora], severities", "groups: [Kling], severities"),
            "alerts.routes[0].groups: no channel is in group 'Kling'",
            id="unknown-group",
        ),
        pytest.param(
            ("severities: [critical]", "severities: [urgent]"),
            "alerts.routes[0].severities[0]",
            id="unknown-severity",
        ),
        pytest.param(
            ('start: "2026-11-24T02:00:00Z"', 'start: "2026-11-24T02:00:00"'),
            "maintenance[0].start: give a time zone",
            id="naive-start",
        ),
        pytest.param(
            ("duration: 2h, every: 7d", "duration: 2h, every: 1h"),
            "every must be at least the window's length",
            id="overlapping-recurrence",
        ),
        pytest.param(
            ("duration: 2h, ", ""), "give exactly one of duration and end", id="no-length"
        ),
        pytest.param(("remind_every: 30m", "remind_evry: 30m"), "alerts.remind_evry", id="typo"),
    ],
)
def test_each_problem_names_its_key_path(edit: tuple[str, str], expected: str) -> None:
    text = ALERTS.replace(*edit)
    assert text != ALERTS
    problems = problems_of(text + GOOD)
    assert any(expected in p for p in problems), problems
