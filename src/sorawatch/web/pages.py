"""The HTML pages: Jinja2 templates over the board, rendered once per board version (and
maintenance version: windows start and end on the clock, without the board moving).

Bars are pre-rendered per card (they change only when the card is rebuilt) and whole pages are
kept per board version, so serving the page costs a dictionary lookup between rebuilds, and a
rebuild costs one template pass over the rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from sorawatch.config import Config
from sorawatch.domain.redact import redact
from sorawatch.domain.stability import star_text
from sorawatch.domain.status import Status

from . import svg
from .advice import compare_access, prices, recommend
from .board import DAYS, Board, ChannelCard
from .maintenance import SOON, Maintenance

STATUS_WORDS = {
    Status.OPERATIONAL: "Operational",
    Status.DEGRADED: "Degraded",
    Status.RISK_CONTROL: "Risk control",
    Status.SUSPENDED: "Suspended",
    Status.MAINTENANCE: "Maintenance",
    Status.RETIRED: "Retired",
    Status.UNKNOWN: "Unknown",
}


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.1f} s" if value >= 10_000 else f"{value:.0f} ms"


def _when(t: datetime | None) -> str:
    return "—" if t is None else t.strftime("%Y-%m-%d %H:%M UTC")


def _duration(start: datetime, end: datetime | None, now: datetime) -> str:
    seconds = int(((end or now) - start).total_seconds())
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m = rest // 60
    return f"{d}d {h}h" if d else f"{h}h {m}m" if h else f"{m}m"


def _every(seconds: float) -> str:
    """A recurrence in the largest whole unit: "7 d", "12 h", "90 min"."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds:g} s"


def overall(board: Board) -> tuple[Status, str]:
    """The page's headline: the worst serving problem, in words."""
    watched = [c for c in board.cards if c.status is not Status.RETIRED]
    bad = [c for c in watched if c.status.is_bad]
    if not watched:
        return Status.UNKNOWN, "No channels watched"
    if not bad:
        if all(c.status is Status.UNKNOWN for c in watched):
            return Status.UNKNOWN, "Waiting for the first checks"
        return Status.OPERATIONAL, "All channels operational"
    worst = max((c.status for c in bad), key=lambda s: s.severity)
    return worst, f"{len(bad)} of {len(watched)} channels have a problem"


class Pages:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.env = Environment(
            loader=PackageLoader("sorawatch.web", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            pct=svg.pct,
            ms=_ms,
            when=_when,
            stars=star_text,
            word=lambda s: STATUS_WORDS[s],
            redact=redact,
            every=_every,
        )
        self._bars: dict[str, tuple[datetime, Markup]] = {}
        self._pages: dict[tuple[tuple[int, int], str], str] = {}
        self._version = (-1, -1)

    def bars(self, card: ChannelCard) -> Markup:
        """The overview's compact bars of a card (kept until the card is rebuilt)."""
        held = self._bars.get(card.id)
        if held is None or held[0] != card.built_at:
            up = svg.pct(card.uptime.get("90d"))
            bars = svg.day_bars_compact(card.id, card.days, card.day_incidents, up)
            held = (card.built_at, Markup(bars))
            self._bars[card.id] = held
        return held[1]

    def full_bars(self, card: ChannelCard) -> Markup:
        """A channel page's bars: one element per day, each with its hover text."""
        return Markup(svg.day_bars(card.days, card.day_incidents))

    def _context(self, board: Board, maint: Maintenance) -> dict[str, Any]:
        web = self.config.web
        status, headline = overall(board)
        active = maint.active()
        ours = {cid for v in active for cid in v.channels}
        return {
            "board": board,
            "web": web,
            "title": web.title,
            "overall": status,
            "headline": headline,
            "bars": self.bars,
            "full_bars": self.full_bars,
            "gaps": Markup(svg.gaps_def(DAYS)),
            "duration": lambda s, e: _duration(s, e, board.built_at),
            "now": board.built_at,
            # the vendors' maintenance, as sorawatch saw it: not what a window of ours explains
            "maint_cards": [
                c for c in board.cards if c.status is Status.MAINTENANCE and c.id not in ours
            ],
            "maint_windows": [*active, *maint.upcoming(SOON)],
        }

    def render(
        self,
        board: Board,
        name: str,
        partial: bool,
        key: str = "",
        maint: Maintenance | None = None,
        **extra: Any,
    ) -> str:
        """A page of ``board`` (``partial``: only its ``<main>``), kept until the board or the
        maintenance windows move; ``key`` tells apart pages of one template (the channel id)."""
        maint = maint or Maintenance(board.built_at)
        version = (board.version, maint.version)
        if version != self._version:
            self._pages.clear()
            self._version = version
        cache_key = (version, f"{name}|{partial}|{key}")
        page = self._pages.get(cache_key)
        if page is None:
            ctx = self._context(board, maint) | extra | {"partial": partial}
            if name == "overview.html":
                ctx |= {
                    "access_rows": compare_access(board.cards),
                    "price_rows": prices(board.cards),
                    "advice": recommend(board.cards),
                }
            page = self.env.get_template(name).render(ctx)
            self._pages[cache_key] = page
        return page

    def chart(self, card: ChannelCard) -> Markup:
        return Markup(svg.latency_chart(card.latency_24h))
