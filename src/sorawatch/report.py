"""History and export: the status timeline, incidents and uptime windows per channel."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sorawatch.config import ChannelConfig, Config
from sorawatch.domain.incident import Incident, Segment, redacted
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.stability import risk_control_entries_per_week, stars, success_rate
from sorawatch.domain.status import Status
from sorawatch.domain.uptime import WINDOWS, uptime_windows
from sorawatch.store.base import Resolution, Store

LONGEST_WINDOW = timedelta(seconds=max(WINDOWS.values()))


@dataclass(frozen=True, slots=True)
class ChannelHistory:
    channel: ChannelConfig
    status: Status
    timeline: list[Segment]  # within the requested period
    incidents: list[Incident]
    uptime: dict[str, float | None]
    stars: int | None = None  # from 30-day availability (domain.stability)
    success_rate_24h: float | None = None  # share of good probe answers, from the rollups
    risk_control_per_week: float = 0.0  # entries into risk_control, last 4 weeks


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


async def success_rate_since(
    store: Store, channel_id: str, since: datetime, now: datetime
) -> float | None:
    """From the hourly rollups, never the raw rows: probes only, the vendor's word left out."""
    totals: Counter[Outcome] = Counter()
    # the bucket holding `now` starts at or before it: include it
    for r in await store.rollups(
        channel_id, Resolution.HOUR, since, now + timedelta(microseconds=1)
    ):
        if r.source is not Source.STATUSPAGE:
            totals.update(r.outcomes)
    return success_rate(totals)


async def channel_history(
    store: Store, channel: ChannelConfig, since: datetime, now: datetime
) -> ChannelHistory:
    full = await store.timeline(channel.id, min(since, now - LONGEST_WINDOW), now)
    shown = [s for s in full if (s.end or now) > since]
    incidents = [
        redacted(i, channel.secrets) for i in await store.incidents(channel.id, since=since)
    ]
    status = full[-1].status if full else Status.UNKNOWN
    ups = uptime_windows(full, now)
    changes = await store.changes(channel.id, since=now - timedelta(weeks=4))
    return ChannelHistory(
        channel,
        status,
        shown,
        incidents,
        ups,
        stars=stars(ups.get("30d")),
        success_rate_24h=await success_rate_since(
            store, channel.id, now - timedelta(hours=24), now
        ),
        risk_control_per_week=risk_control_entries_per_week(changes, now),
    )


async def history(
    store: Store, config: Config, since: datetime, now: datetime, channel_id: str | None = None
) -> list[ChannelHistory]:
    channels = [config.channel(channel_id)] if channel_id else list(config.channels)
    return [await channel_history(store, ch, since, now) for ch in channels]


def incident_json(inc: Incident) -> dict[str, Any]:
    return {
        "id": inc.id,
        "channel_id": inc.channel_id,
        "started_at": _iso(inc.started_at),
        "ended_at": _iso(inc.ended_at),
        "status": inc.status.value,
        "worst": inc.worst.value,
        "cause": inc.cause,
        "evidence": [
            {
                "at": _iso(e.at),
                "source": e.source.value,
                "outcome": e.outcome.value,
                "http_status": e.http_status,
                "detail": e.detail,
            }
            for e in inc.evidence
        ],
    }


def history_json(items: list[ChannelHistory], now: datetime) -> dict[str, Any]:
    return {
        "generated_at": now.isoformat(),
        "channels": [
            {
                "id": h.channel.id,
                "name": h.channel.name,
                "group": h.channel.group,
                "access": h.channel.access.value,
                "status": h.status.value,
                "uptime": h.uptime,
                "stars": h.stars,
                "success_rate_24h": h.success_rate_24h,
                "risk_control_per_week": h.risk_control_per_week,
                "timeline": [
                    {"start": _iso(s.start), "end": _iso(s.end), "status": s.status.value}
                    for s in h.timeline
                ],
                "incidents": [incident_json(i) for i in h.incidents],
            }
            for h in items
        ],
    }


CSV_FIELDS = [
    "channel_id",
    "record",
    "start",
    "end",
    "status",
    "worst",
    "cause",
    "uptime_24h",
    "uptime_7d",
    "uptime_30d",
    "uptime_90d",
]


def history_csv(items: list[ChannelHistory]) -> str:
    """One row per timeline segment, incident and uptime summary (``record`` says which)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for h in items:
        cid = h.channel.id
        w.writerow(
            {"channel_id": cid, "record": "uptime", "status": h.status.value}
            | {f"uptime_{k}": "" if v is None else f"{v:.6f}" for k, v in h.uptime.items()}
        )
        for s in h.timeline:
            w.writerow(
                {
                    "channel_id": cid,
                    "record": "segment",
                    "start": _iso(s.start),
                    "end": _iso(s.end) or "",
                    "status": s.status.value,
                }
            )
        for i in h.incidents:
            w.writerow(
                {
                    "channel_id": cid,
                    "record": "incident",
                    "start": _iso(i.started_at),
                    "end": _iso(i.ended_at) or "",
                    "status": i.status.value,
                    "worst": i.worst.value,
                    "cause": i.cause,
                }
            )
    return buf.getvalue()
