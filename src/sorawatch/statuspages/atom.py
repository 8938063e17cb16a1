"""Incident history feeds (Atom 1.0) of Statuspage and incident.io pages.

Feeds carry no machine-readable state: the latest update's word is read from the HTML content,
``<strong>Resolved</strong> - …`` on Statuspage (newest update first) and
``<b>Status: Resolved</b>`` on incident.io, whose content also lists ``Name (State)`` items.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree

from sorawatch.statuspages.base import PayloadError, parse_time

_NS = {"a": "http://www.w3.org/2005/Atom"}
_INCIDENTIO_STATUS = re.compile(r"<b>\s*Status:\s*([^<]+?)\s*</b>", re.IGNORECASE)
_STATUSPAGE_WORD = re.compile(r"<strong>\s*([^<]+?)\s*</strong>", re.IGNORECASE)
_ITEM = re.compile(r"<li>\s*([^<]+?)\s*\(([^()<]+)\)\s*</li>", re.IGNORECASE)
CLOSED_WORDS = frozenset({"resolved", "completed", "postmortem"})


@dataclass(frozen=True, slots=True)
class FeedEntry:
    id: str
    title: str
    link: str | None
    published: datetime | None
    updated: datetime | None
    latest_status: str | None  # "Resolved", "Update", "Investigating", … as the page wrote it
    components: tuple[tuple[str, str], ...] = ()  # (name, state), incident.io feeds only

    @property
    def is_resolved(self) -> bool:
        return (self.latest_status or "").casefold() in CLOSED_WORDS


def _latest_word(content: str) -> str | None:
    found = _INCIDENTIO_STATUS.search(content) or _STATUSPAGE_WORD.search(content)
    return html.unescape(found.group(1)) if found else None


def _entry(node: ElementTree.Element) -> FeedEntry:
    def child(tag: str) -> str:
        return (node.findtext(f"a:{tag}", default="", namespaces=_NS) or "").strip()

    link = node.find("a:link[@rel='alternate']", _NS)
    if link is None:
        link = node.find("a:link", _NS)
    content = child("content") or child("summary")
    return FeedEntry(
        id=child("id"),
        title=html.unescape(child("title")),
        link=link.get("href") if link is not None else None,
        published=parse_time(child("published")),
        updated=parse_time(child("updated")),
        latest_status=_latest_word(content),
        components=tuple(
            (html.unescape(m.group(1)), html.unescape(m.group(2))) for m in _ITEM.finditer(content)
        ),
    )


def parse_feed(body: bytes) -> tuple[FeedEntry, ...]:
    """Every ``<entry>`` of an Atom feed, in feed order (newest first)."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise PayloadError(f"malformed Atom feed: {exc}") from exc
    if root.tag != "{http://www.w3.org/2005/Atom}feed":
        raise PayloadError(f"not an Atom feed: root element {root.tag!r}")
    return tuple(_entry(e) for e in root.findall("a:entry", _NS))
