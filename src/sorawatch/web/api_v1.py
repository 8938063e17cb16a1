"""The native JSON API under ``/api/v1`` (described by ``/api/v1/openapi.json``).

Models are pydantic so the OpenAPI document is the same code that shapes the answers. Every
free-text field an upstream could have filled (details, causes) is redacted on the way out,
with the channel's own key as a known secret.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from sorawatch.alerts.send import url_secrets
from sorawatch.config import ChannelConfig, Config
from sorawatch.domain.incident import Incident
from sorawatch.domain.outcome import AccessKind, Outcome, Source
from sorawatch.domain.redact import redact
from sorawatch.domain.status import Status
from sorawatch.report import history, history_csv, history_json
from sorawatch.store.base import DeliveryState, OutboxMessage, Store

from .board import BoardCache, ChannelCard
from .maintenance import WindowView

MAX_PAGE = 1000


class DayOut(BaseModel):
    day: str = Field(description="UTC date, YYYY-MM-DD")
    uptime: float | None = Field(description="time-weighted availability that day, 0–1")
    worst: Status = Field(description="the most severe status seen that day")
    incidents: list[str] = Field(description="incidents that touched the day: worst — cause")


class CanaryOut(BaseModel):
    runs_30d: int
    completed_30d: int
    success_rate_30d: float | None
    e2e_p50_s: float | None
    spend_today_usd: float


class ChannelOut(BaseModel):
    id: str
    name: str
    group: str
    access: AccessKind
    model: str
    description: str
    status: Status
    since: datetime | None
    reason: str = Field(description="why the current status was decided (redacted)")
    latency_ms: float | None = Field(description="latency of the last probe")
    last_outcome: Outcome | None
    uptime: dict[str, float | None] = Field(description="24h, 7d, 30d and 90d, 0–1")
    stars: int | None = Field(description="1–5 from 30-day availability")
    p50_24h_ms: float | None
    p95_24h_ms: float | None
    success_rate_24h: float | None
    risk_control_per_week: float
    price_per_10s_clip_usd: float | None
    sunset: datetime | None = Field(description="announced retirement date, if any")
    canary: CanaryOut | None


class ChannelDetailOut(ChannelOut):
    days: list[DayOut] = Field(description="the last 90 UTC days, oldest first")


class SegmentOut(BaseModel):
    start: datetime
    end: datetime | None = Field(description="None while still in force")
    status: Status


class EvidenceOut(BaseModel):
    at: datetime
    source: Source
    outcome: Outcome
    http_status: int | None
    detail: str


class IncidentOut(BaseModel):
    id: str
    channel_id: str
    started_at: datetime
    ended_at: datetime | None
    status: Status
    worst: Status
    cause: str
    evidence: list[EvidenceOut]


class ObservationOut(BaseModel):
    at: datetime
    source: Source
    outcome: Outcome
    http_status: int | None
    latency_ms: float | None
    detail: str
    cost_usd: float


class ObservationPage(BaseModel):
    observations: list[ObservationOut]
    next_since: datetime | None = Field(
        description="pass as `since` for the next page; None when this page is the last"
    )


class UptimeOut(BaseModel):
    channel_id: str
    windows: dict[str, float | None]
    days: list[DayOut]


class AlertOut(BaseModel):
    seq: int = Field(description="position in the outbox; pass as `before` to page on")
    alert_id: str = Field(description="shared by every notifier the alert went to")
    notifier: str
    route: str
    kind: str = Field(description="problem, recovery, reminder, flapping, settled or sunset")
    severity: str = Field(description="critical, warning or info")
    title: str
    body: str = Field(description="the message as sent (evidence already redacted)")
    channels: list[str]
    created_at: datetime
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None = Field(description="next retry while pending")
    last_error: str = Field(description="why the last attempt failed (redacted)")
    delivered_at: datetime | None


class AlertPage(BaseModel):
    alerts: list[AlertOut]
    next_before: int | None = Field(
        description="pass as `before` for the next page; None when this page is the last"
    )


class MaintenanceOut(BaseModel):
    id: int | None = Field(description="a stored window's id (`sorawatch maintenance end`)")
    name: str
    source: Literal["config", "cli"] = Field(
        description="the config's `maintenance:`, or added with `sorawatch maintenance add`"
    )
    state: Literal["active", "upcoming", "ended"]
    start: datetime | None = Field(description="current or next occurrence; None once ended")
    end: datetime | None
    every_s: float | None = Field(description="repeats every this many seconds")
    ended_at: datetime | None = Field(description="when it was ended early, if it was")
    channels: list[str] = Field(description="ids of the channels it covers, groups expanded")
    groups: list[str]
    reason: str


def _secrets(ch: ChannelConfig | None) -> list[str]:
    return [] if ch is None else ch.secrets


def channel_out(card: ChannelCard, detail: bool = False) -> ChannelOut:
    ch, live, secrets = card.channel, card.live, _secrets(card.channel)
    canary = card.canary
    fields = {
        "id": ch.id,
        "name": ch.name,
        "group": ch.group,
        "access": ch.access,
        "model": ch.model,
        "description": ch.description,
        "status": live.status,
        "since": live.since,
        "reason": redact(live.reason, secrets),
        "latency_ms": live.latency_ms,
        "last_outcome": live.outcome,
        "uptime": card.uptime,
        "stars": card.stars,
        "p50_24h_ms": card.p50_24h_ms,
        "p95_24h_ms": card.p95_24h_ms,
        "success_rate_24h": card.success_rate_24h,
        "risk_control_per_week": card.risk_control_per_week,
        "price_per_10s_clip_usd": card.clip_price_usd,
        "sunset": live.sunset,
        "canary": None
        if canary is None
        else CanaryOut(
            runs_30d=canary.runs,
            completed_30d=canary.completed,
            success_rate_30d=canary.success_rate,
            e2e_p50_s=canary.e2e_p50_s,
            spend_today_usd=canary.spend_today_usd,
        ),
    }
    if not detail:
        return ChannelOut(**fields)
    return ChannelDetailOut(**fields, days=days_out(card))


def days_out(card: ChannelCard) -> list[DayOut]:
    return [
        DayOut(
            day=b.day.isoformat(),
            uptime=b.uptime,
            worst=b.worst,
            incidents=[f"{i.worst.value} — {i.cause}" for i in card.day_incidents.get(b.day, [])],
        )
        for b in card.days
    ]


def incident_out(inc: Incident, ch: ChannelConfig | None) -> IncidentOut:
    secrets = _secrets(ch)
    return IncidentOut(
        id=inc.id,
        channel_id=inc.channel_id,
        started_at=inc.started_at,
        ended_at=inc.ended_at,
        status=inc.status,
        worst=inc.worst,
        cause=redact(inc.cause, secrets),
        evidence=[
            EvidenceOut(
                at=e.at,
                source=e.source,
                outcome=e.outcome,
                http_status=e.http_status,
                detail=redact(e.detail, secrets),
            )
            for e in inc.evidence
        ],
    )


def alert_out(m: OutboxMessage, secrets: list[str], notifier_secrets: list[str]) -> AlertOut:
    """An outbox message for the public API, redacted once more: the alert service and the
    sender redact already, but this page is public and a key must not depend on one layer."""
    assert m.seq is not None  # stored messages have one
    return AlertOut(
        seq=m.seq,
        alert_id=m.alert_id,
        notifier=m.notifier,
        route=m.route,
        kind=m.kind,
        severity=m.severity,
        title=redact(m.title, secrets),
        body=redact(m.body, secrets),
        channels=list(m.channels),
        created_at=m.created_at,
        state=m.state,
        attempts=m.attempts,
        next_attempt_at=m.next_attempt_at,
        # A notifier's error may quote its URL, whose parts are its token; the title and body
        # are not masked with those parts, which are often plain words (a topic, a path).
        last_error=redact(m.last_error, [*secrets, *notifier_secrets]),
        delivered_at=m.delivered_at,
    )


def maintenance_out(v: WindowView) -> MaintenanceOut:
    w = v.window
    return MaintenanceOut(
        id=w.id,
        name=w.name,
        source=v.source,
        state=v.state,
        start=v.start,
        end=v.end,
        every_s=w.every_s,
        ended_at=w.ended_at,
        channels=list(v.channels),
        groups=list(w.groups),
        reason=v.reason,
    )


def _aware(t: datetime | None) -> datetime | None:
    if t is not None and t.tzinfo is None:
        return t.replace(tzinfo=UTC)  # a time without a zone is read as UTC
    return t


def router(
    config: Config, store: Store, cache: BoardCache, now: Callable[[], datetime]
) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["sorawatch"])
    secrets = sorted({s for ch in config.channels for s in ch.secrets})
    notifier_secrets = sorted(
        {s for n in config.alerts.notifiers.values() for s in url_secrets(n.url.get_secret_value())}
    )

    def card_of(channel_id: str) -> ChannelCard:
        card = cache.board().by_id.get(channel_id)
        if card is None:
            raise HTTPException(404, f"no channel {channel_id!r}")
        return card

    @api.get("/channels", response_model=list[ChannelOut], summary="Every channel, now")
    async def channels() -> list[ChannelOut]:
        return [channel_out(c) for c in cache.board().cards]

    @api.get("/channels/{channel_id}", response_model=ChannelDetailOut, summary="One channel")
    async def channel(channel_id: str) -> ChannelOut:
        return channel_out(card_of(channel_id), detail=True)

    @api.get(
        "/channels/{channel_id}/timeline",
        response_model=list[SegmentOut],
        summary="Status timeline",
        description="Status segments overlapping [since, until), oldest first (default 7 days).",
    )
    async def timeline(
        channel_id: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[SegmentOut]:
        card_of(channel_id)
        start = _aware(since) or now() - timedelta(days=7)
        segments = await store.timeline(channel_id, start, _aware(until))
        return [SegmentOut(start=s.start, end=s.end, status=s.status) for s in segments]

    @api.get("/channels/{channel_id}/uptime", response_model=UptimeOut, summary="Uptime windows")
    async def uptime(channel_id: str) -> UptimeOut:
        card = card_of(channel_id)
        return UptimeOut(channel_id=channel_id, windows=card.uptime, days=days_out(card))

    @api.get(
        "/channels/{channel_id}/observations",
        response_model=ObservationPage,
        summary="Raw observations, paged by time",
        description="Oldest first, `since <= at < until`. Follow `next_since` for the next page.",
    )
    async def observations(
        channel_id: str,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    ) -> ObservationPage:
        ch = card_of(channel_id).channel
        start = _aware(since) or now() - timedelta(hours=1)
        rows = await store.observations(channel_id, start, _aware(until), limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        secrets = _secrets(ch)
        return ObservationPage(
            observations=[
                ObservationOut(
                    at=o.at,
                    source=o.source,
                    outcome=o.outcome,
                    http_status=o.http_status,
                    latency_ms=o.latency_ms,
                    detail=redact(o.detail, secrets),
                    cost_usd=o.cost_usd,
                )
                for o in rows
            ],
            # Observations of one channel never share a microsecond in practice; the next page
            # starts just after the last one returned.
            next_since=rows[-1].at + timedelta(microseconds=1) if more else None,
        )

    @api.get("/incidents", response_model=list[IncidentOut], summary="Incidents, newest first")
    async def incidents(
        channel: str | None = None,
        open_only: bool = False,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    ) -> list[IncidentOut]:
        if channel is not None:
            card_of(channel)
        found = await store.incidents(channel, open_only=open_only, limit=limit)
        return [incident_out(i, _channel_or_none(config, i.channel_id)) for i in found]

    @api.get(
        "/alerts",
        response_model=AlertPage,
        summary="Alert deliveries, newest first",
        description="One row per alert and notifier, from the outbox. Follow `next_before` "
        "(as `before`) for the next page. Off (404) with `web.alerts_api: false`.",
    )
    async def alerts(
        state: DeliveryState | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
        before: Annotated[int | None, Query(ge=1, description="only seq < before")] = None,
    ) -> AlertPage:
        if not config.web.alerts_api:  # operators may keep delivery details off a public page
            raise HTTPException(404, "the alerts API is turned off (web.alerts_api)")
        rows = await store.messages(state=state, limit=limit + 1, before_seq=before)
        more = len(rows) > limit
        rows = rows[:limit]
        return AlertPage(
            alerts=[alert_out(m, secrets, notifier_secrets) for m in rows],
            next_before=rows[-1].seq if more else None,
        )

    @api.get(
        "/maintenance",
        response_model=list[MaintenanceOut],
        summary="Maintenance windows",
        description="Every window, from the config first, then those added with "
        "`sorawatch maintenance add` (ended ones too), with its state now and its current or "
        "next occurrence.",
    )
    async def maintenance() -> list[MaintenanceOut]:
        maint = await cache.maintenance.current()
        return [maintenance_out(v) for v in maint.windows]

    @api.get(
        "/export",
        summary="History export (as `sorawatch export`)",
        responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
    )
    async def export(
        format: Literal["json", "csv"] = "json",
        since: Annotated[str, Query(pattern=r"^\d+[hd]$")] = "90d",
    ) -> object:
        n = int(since[:-1])
        t = now()
        span = timedelta(hours=n) if since.endswith("h") else timedelta(days=n)
        items = await history(store, config, t - span, t)
        if format == "csv":
            return PlainTextResponse(history_csv(items), media_type="text/csv")
        return history_json(items, t)

    return api


def _channel_or_none(config: Config, channel_id: str) -> ChannelConfig | None:
    return next((c for c in config.channels if c.id == channel_id), None)
