"""``/history.rss`` and ``/history.atom``: the incident history as feeds (feedgen writes them).

Like Atlassian's feeds (status-page-formats.md §1): one entry per incident, newest first, its
updates in the HTML content, newest first, and the state also in the title so a reader without
HTML still sees it.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator

from sorawatch.domain.redact import redact

from .board import Board

MAX_ENTRIES = 50


def _generator(board: Board, title: str, base_url: str) -> FeedGenerator:
    host = urlsplit(base_url).hostname or "localhost"
    fg = FeedGenerator()
    fg.id(f"tag:{host},2026:/history")
    fg.title(f"{title} - incident history")
    fg.link(href=base_url + "/", rel="alternate")
    fg.description(f"Incidents of the channels watched by {title}")
    fg.language("en")
    fg.updated(board.built_at)
    fg.generator("sorawatch")
    # feedgen puts entries first-added last; add oldest first so the newest leads.
    for inc in reversed(board.incidents[:MAX_ENTRIES]):
        card = board.by_id.get(inc.channel_id)
        name = card.channel.name if card else inc.channel_id
        state = "Resolved" if not inc.is_open else "Investigating"
        cause = escape(redact(inc.cause))
        updates = []
        if inc.ended_at is not None:
            updates.append(
                f"<p><small>{inc.ended_at:%Y-%m-%d %H:%M} UTC</small><br>"
                f"<strong>Resolved</strong> - {escape(name)} is operational again.</p>"
            )
        updates.append(
            f"<p><small>{inc.started_at:%Y-%m-%d %H:%M} UTC</small><br>"
            f"<strong>Investigating</strong> - {escape(name)} is {inc.worst.value}: {cause}</p>"
        )
        fe = fg.add_entry()
        fe.id(f"tag:{host},2026:Incident/{inc.id}")
        fe.title(f"{state}: {name} {inc.worst.value.replace('_', ' ')}")
        fe.link(href=f"{base_url}/channels/{inc.channel_id}#incident-{inc.id}")
        fe.published(inc.started_at)
        fe.updated(inc.ended_at or inc.started_at)
        fe.content("".join(updates), type="html")
        fe.description("".join(updates))
    return fg


def rss(board: Board, title: str, base_url: str) -> bytes:
    return bytes(_generator(board, title, base_url).rss_str(pretty=False))


def atom(board: Board, title: str, base_url: str) -> bytes:
    return bytes(_generator(board, title, base_url).atom_str(pretty=False))
