"""Vendor status-page readers: what OpenAI, Google and others say about their own services.

Public API
----------
Readings (``base``, pure):
    ``Level`` (operational < maintenance < degraded < partial < major, plus unknown),
    ``ComponentReading(id, name, level, group)``,
    ``IncidentReading(id, name, impact, status, started_at, resolved_at, components, url)``,
    ``StatusReading(page, fetched_at, indicator, components, incidents, maintenances, stale,
    error)`` with ``level_for(component=None, product=None) -> Level``,
    ``to_status(level) -> sorawatch.domain.status.Status``, ``worst(levels) -> Level``,
    ``decode_json(body, content_type) -> object`` (refuses HTML).
Parsers (pure; take parsed JSON, raise ``PayloadError`` on a shape they cannot read):
    ``statuspage.summary_reading(doc, page, fetched_at)`` (summary.json / components.json),
    ``statuspage.parse_incidents(doc)``, ``statuspage.parse_maintenances(doc)``,
    ``statuspage.with_maintenances(doc, reading)``,
    ``incidentio.parse_proxy(doc, page, fetched_at)``, ``incidentio.merge(compat, proxy)``,
    ``gcloud.parse_incidents(doc, page, fetched_at)``,
    ``aistudio.parse_incidents_history(doc, page, fetched_at)``,
    ``atom.parse_feed(body) -> tuple[FeedEntry, ...]``.
Fetcher (``fetch``):
    ``StatusPageReader(name, url, kind, client, timeout)`` with ``async read(now) ->
    StatusReading``; kind is "auto" | "statuspage" | "incidentio" | "gcloud". ``read`` never
    raises for the page's or the network's failures: it returns the last good reading with
    ``stale=True`` and ``error`` set.
Registry:
    ``READERS``: kind → ``async (http, url, page, now) -> StatusReading``. A new format is one
    module and one line here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Final

from sorawatch.statuspages import aistudio, atom, gcloud, incidentio, statuspage
from sorawatch.statuspages.base import (
    ComponentReading,
    IncidentReading,
    JsonGetter,
    Level,
    PayloadError,
    StatusReading,
    decode_json,
    to_status,
    worst,
)
from sorawatch.statuspages.fetch import StatusPageReader

KindReader = Callable[[JsonGetter, str, str, datetime], Awaitable[StatusReading]]

READERS: Final[Mapping[str, KindReader]] = {
    "statuspage": statuspage.read,
    "incidentio": incidentio.read,
    "gcloud": gcloud.read,
}

__all__ = [
    "READERS",
    "ComponentReading",
    "IncidentReading",
    "KindReader",
    "Level",
    "PayloadError",
    "StatusPageReader",
    "StatusReading",
    "aistudio",
    "atom",
    "decode_json",
    "gcloud",
    "incidentio",
    "statuspage",
    "to_status",
    "worst",
]
