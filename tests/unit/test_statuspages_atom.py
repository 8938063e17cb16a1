"""history.atom feeds: a real Statuspage capture (GitHub) and a hand-made incident.io one."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sorawatch.statuspages import atom
from sorawatch.statuspages.base import PayloadError

DATA = Path(__file__).parents[1] / "data" / "status-pages"


def test_github_feed_entries() -> None:
    entries = atom.parse_feed((DATA / "statuspage-history-github.atom").read_bytes())
    assert len(entries) == 25
    first = entries[0]
    assert first.id == "tag:www.githubstatus.com,2005:Incident/31233568"
    assert first.title == "Intermittent failures creating agent tasks"
    assert first.link == "https://www.githubstatus.com/incidents/bhbcjn4n3jzp"
    assert first.updated == datetime(2026, 8, 21, 0, 37, 20, tzinfo=UTC)
    assert first.latest_status == "Resolved"
    assert all(e.id.startswith("tag:www.githubstatus.com,2005:Incident/") for e in entries)
    assert all(e.is_resolved for e in entries)  # a snapshot taken after every incident closed


def test_statuspage_latest_word_is_the_first_update() -> None:
    content = (
        "<small>Aug 21</small><br><strong>Monitoring</strong> - fix out"
        " <small>Aug 20</small><br><strong>Investigating</strong> - looking"
    )
    feed = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id><title>t</title>'
        f'<content type="html">{html.escape(content)}</content></entry></feed>'
    ).encode()
    (entry,) = atom.parse_feed(feed)
    assert entry.latest_status == "Monitoring"
    assert not entry.is_resolved


def test_incidentio_feed_status_and_components() -> None:
    entries = atom.parse_feed((DATA / "incidentio-history-openai.atom").read_bytes())
    assert [e.title for e in entries] == [
        "Sora 2 Degraded Performance",
        "Increased errors on Responses API",
    ]
    sora = entries[0]
    assert sora.latest_status == "Identified"
    assert not sora.is_resolved
    assert sora.link == "https://status.openai.com//incidents/01KNDY0YP57RCYBVN5SXS5AA81"
    assert sora.components == (
        ("Video generation", "Degraded performance"),
        ("Sora", "Degraded performance"),
    )
    assert entries[1].is_resolved


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html><body>404</body></html>", id="html"),
        pytest.param(b"<feed", id="truncated"),
        pytest.param(b"{}", id="json"),
    ],
)
def test_not_a_feed(body: bytes) -> None:
    with pytest.raises(PayloadError):
        atom.parse_feed(body)
