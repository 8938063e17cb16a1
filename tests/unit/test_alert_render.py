"""Alert text: headline per kind, grouped titles, redacted evidence, the link, the alert id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sorawatch.alerts.grouping import Batch
from sorawatch.alerts.policy import Kind, Notice
from sorawatch.alerts.render import render
from sorawatch.alerts.send import with_id_header
from sorawatch.alerts.service import evidence_lines
from sorawatch.domain.observation import Evidence
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status as S

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NAMES = {"a": "Sora 2 reverse", "b": "Sora 2 Pro reverse"}


def one(n: Notice, url: str | None = None) -> tuple[str, str]:
    r = render(Batch("ops", "group:Sora", n.at, (n,)), NAMES, url)
    return r.title, r.body


@pytest.mark.parametrize(
    ("notice", "title"),
    [
        pytest.param(
            Notice(Kind.PROBLEM, "a", T0, S.OPERATIONAL, S.RISK_CONTROL, "3 consecutive 403"),
            "🟡 Sora 2 reverse: operational → risk_control",
            id="problem",
        ),
        pytest.param(
            Notice(Kind.RECOVERY, "a", T0, S.SUSPENDED, S.OPERATIONAL),
            "✅ Sora 2 reverse recovered: suspended → operational",
            id="recovery",
        ),
        pytest.param(
            Notice(Kind.REMINDER, "a", T0, S.SUSPENDED, S.SUSPENDED),
            "🔴 Sora 2 reverse is still suspended",
            id="reminder",
        ),
        pytest.param(
            Notice(Kind.SUNSET, "a", T0, None, S.OPERATIONAL, sunset=T0 + timedelta(days=9)),
            "⏳ Sora 2 reverse retires on 2026-12-03",
            id="sunset",
        ),
        pytest.param(
            Notice(Kind.FLAPPING, "a", T0, S.OPERATIONAL, S.DEGRADED),
            "🔁 Sora 2 reverse is flapping (now degraded)",
            id="flapping",
        ),
    ],
)
def test_titles(notice: Notice, title: str) -> None:
    assert one(notice)[0] == title


def test_body_has_cause_evidence_link_and_id() -> None:
    n = Notice(Kind.PROBLEM, "a", T0, S.OPERATIONAL, S.SUSPENDED, "paused", ("e1", "e2"))
    _, body = one(n, "https://status.example.com/")
    assert "cause: paused" in body and "evidence: e1" in body
    assert "https://status.example.com/channels/a" in body
    assert Batch("ops", "group:Sora", T0, (n,)).alert_id in body


def test_a_group_title_counts_channels() -> None:
    ns = (
        Notice(Kind.PROBLEM, "a", T0, S.OPERATIONAL, S.SUSPENDED),
        Notice(Kind.PROBLEM, "b", T0, S.OPERATIONAL, S.DEGRADED),
    )
    r = render(Batch("ops", "group:Sora", T0, ns), NAMES, None)
    assert r.title == "🔴 2 channels of Sora: 2 changed" and r.severity == "critical"
    assert "Sora 2 reverse: operational → suspended" in r.body
    assert "Sora 2 Pro reverse: operational → degraded" in r.body


def test_evidence_is_redacted() -> None:
    key = "sk-live-abcdefghijklmnop1234"
    ev = Evidence(
        T0, Source.LIGHT, Outcome.AUTH_FAILED, 401, f"bad key {key} Authorization: Bearer {key}"
    )
    (line,) = evidence_lines([ev], [key])
    assert key not in line and "HTTP 401" in line and "auth_failed" in line


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("json://h/x", "json://h/x?+X-Sorawatch-Alert-Id=abc", id="json"),
        pytest.param("jsons://h/x?a=1", "jsons://h/x?a=1&+X-Sorawatch-Alert-Id=abc", id="query"),
        pytest.param("mailto://h?to=a@b.c", "mailto://h?to=a@b.c", id="not-a-webhook"),
    ],
)
def test_webhooks_get_the_alert_id_as_a_header(url: str, expected: str) -> None:
    assert with_id_header(url, "abc") == expected
