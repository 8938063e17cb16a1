"""Server-rendered SVG: the 90-day bars, the latency chart and the badges.

Plain string building on purpose: a page with a thousand channels draws 90,000 bars, and each
one is a single short element whose colour comes from a CSS class (``s-<status>``), with a
``<title>`` for the hover text. Every piece of text is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from sorawatch.domain.incident import Incident
from sorawatch.domain.status import Status
from sorawatch.domain.uptime import DayBar

from .board import HourLatency

BAR_W, BAR_GAP, BAR_H = 3, 1, 24


def pct(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def day_title(bar: DayBar, incidents: Sequence[Incident]) -> str:
    text = f"{bar.day.isoformat()}: "
    text += "no data" if bar.uptime is None and bar.worst is Status.UNKNOWN else pct(bar.uptime)
    if bar.worst not in (Status.UNKNOWN, Status.OPERATIONAL):
        text += f", worst {bar.worst.value}"
    if incidents:
        n = len(incidents)
        text += f", {n} incident{'s' if n > 1 else ''}: " + "; ".join(
            f"{i.worst.value} — {i.cause}" for i in incidents[:3]
        )
    return text


def day_bars(bars: Sequence[DayBar], incidents: dict[date, list[Incident]]) -> str:
    """One bar per UTC day, coloured by the day's worst status; hover shows uptime and incidents."""
    width = len(bars) * (BAR_W + BAR_GAP) - BAR_GAP
    parts = [
        f'<svg class="bars" viewBox="0 0 {width} {BAR_H}" preserveAspectRatio="none" '
        f'role="img" aria-label="daily status, last {len(bars)} days">'
    ]
    for i, bar in enumerate(bars):
        title = escape(day_title(bar, incidents.get(bar.day, ())))
        parts.append(
            f'<rect x="{i * (BAR_W + BAR_GAP)}" width="{BAR_W}" height="{BAR_H}" '
            f'class="s-{bar.worst.value}"><title>{title}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


def gaps_def(days: int) -> str:
    """The gaps between day bars, drawn once per page and reused by every compact bar."""
    d = "".join(f"M{i * (BAR_W + BAR_GAP) - 0.5} 0v{BAR_H}" for i in range(1, days))
    return (
        '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
        f'<path id="day-gaps" d="{d}" stroke="#fff" stroke-width="{BAR_GAP}"/></defs></svg>'
    )


def day_bars_compact(
    channel_id: str, bars: Sequence[DayBar], incidents: dict[date, list[Incident]], uptime: str
) -> str:
    """The overview's bars: one rectangle per run of days with the same worst status, the day
    gaps laid over from ``gaps_def``; a few hundred bytes however the days went. The day-by-day
    hover text is fetched by the page's script from the API when a bar is first hovered."""
    width = len(bars) * (BAR_W + BAR_GAP) - BAR_GAP
    n_incidents = len({i.id for day in incidents.values() for i in day})
    summary = escape(
        f"last {len(bars)} days: {uptime} uptime, {n_incidents} incident"
        f"{'' if n_incidents == 1 else 's'}"
    )
    parts = [
        f'<svg class="bars" data-channel="{escape(channel_id)}" data-days="{len(bars)}" '
        f'viewBox="0 0 {width} {BAR_H}" preserveAspectRatio="none" role="img" '
        f'aria-label="{summary}"><title>{summary}</title>'
    ]
    i = 0
    while i < len(bars):
        j = i
        while j + 1 < len(bars) and bars[j + 1].worst is bars[i].worst:
            j += 1
        x = i * (BAR_W + BAR_GAP)
        w = (j - i + 1) * (BAR_W + BAR_GAP) - BAR_GAP
        parts.append(
            f'<rect x="{x}" width="{w}" height="{BAR_H}" class="s-{bars[i].worst.value}"/>'
        )
        i = j + 1
    parts.append('<use href="#day-gaps"/></svg>')
    return "".join(parts)


CHART_W, CHART_H, PAD_L, PAD_B = 480, 140, 44, 18


def latency_chart(points: Sequence[HourLatency]) -> str:
    """p50 and p95 probe latency per hour over the last 24 h, as two polylines."""
    values = [v for p in points for v in (p.p50_ms, p.p95_ms) if v is not None]
    head = (
        f'<svg class="chart" viewBox="0 0 {CHART_W} {CHART_H}" role="img" '
        f'aria-label="probe latency p50 and p95, last 24 hours">'
    )
    if not values:
        return (
            f'{head}<text x="{CHART_W // 2}" y="{CHART_H // 2}" text-anchor="middle">'
            "no latency measured in the last 24 h</text></svg>"
        )
    top = max(values) * 1.1 or 1.0
    plot_w, plot_h = CHART_W - PAD_L - 4, CHART_H - PAD_B - 4
    step = plot_w / max(1, len(points) - 1)

    def xy(i: int, v: float) -> str:
        return f"{PAD_L + i * step:.1f},{4 + plot_h - v / top * plot_h:.1f}"

    parts = [head]
    for frac in (0.0, 0.5, 1.0):
        y = 4 + plot_h - frac * plot_h
        parts.append(
            f'<line x1="{PAD_L}" x2="{CHART_W - 4}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{PAD_L - 4}" y="{y + 4:.1f}" text-anchor="end">{top * frac:.0f}</text>'
        )
    for label, attr in (("p95", "p95_ms"), ("p50", "p50_ms")):
        pts = [xy(i, v) for i, p in enumerate(points) if (v := getattr(p, attr)) is not None]
        parts.append(f'<polyline class="{label}" points="{" ".join(pts)}"/>')
        for i, p in enumerate(points):
            v = getattr(p, attr)
            if v is not None:
                cx, cy = xy(i, v).split(",")
                parts.append(
                    f'<circle class="{label}" cx="{cx}" cy="{cy}" r="2"><title>'
                    f"{p.hour:%H:00} UTC {label} {v:.0f} ms ({p.count} probes)</title></circle>"
                )
    first, last = points[0].hour, points[-1].hour
    parts.append(
        f'<text x="{PAD_L}" y="{CHART_H - 4}">{first:%H:00}</text>'
        f'<text x="{CHART_W - 4}" y="{CHART_H - 4}" text-anchor="end">{last:%H:00} UTC</text>'
        f'<text x="{PAD_L + 4}" y="14" class="legend">ms — '
        '<tspan class="p50">p50</tspan> <tspan class="p95">p95</tspan></text></svg>'
    )
    return "".join(parts)


# Badge colours: text carries the meaning, colour only repeats it.
BADGE_COLOURS = {
    Status.OPERATIONAL: "#2e7d32",
    Status.DEGRADED: "#b26a00",
    Status.RISK_CONTROL: "#b26a00",
    Status.SUSPENDED: "#c62828",
    Status.MAINTENANCE: "#1565c0",
    Status.RETIRED: "#424242",
    Status.UNKNOWN: "#757575",
}


def _text_width(text: str) -> int:
    """Rough width of ``text`` in 11 px Verdana (what shields-style badges use)."""
    return sum(4 if c in "ijl.,:;!|' " else 9 if c in "mwMW%" else 7 for c in text) + 10


def badge(label: str, value: str, colour: str) -> str:
    lw, vw = _text_width(label), _text_width(value)
    w = lw + vw
    label, value = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" '
        f'aria-label="{label}: {value}"><title>{label}: {value}</title>'
        f'<rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{vw}" height="20" fill="{colour}"/>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" '
        f'font-size="11"><text x="{lw / 2:.1f}" y="14">{label}</text>'
        f'<text x="{lw + vw / 2:.1f}" y="14">{value}</text></g></svg>'
    )


def uptime_colour(value: float | None) -> str:
    if value is None:
        return BADGE_COLOURS[Status.UNKNOWN]
    if value >= 0.995:
        return BADGE_COLOURS[Status.OPERATIONAL]
    if value >= 0.97:
        return "#689f38"
    if value >= 0.90:
        return BADGE_COLOURS[Status.DEGRADED]
    return BADGE_COLOURS[Status.SUSPENDED]
