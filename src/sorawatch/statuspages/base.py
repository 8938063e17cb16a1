"""The shared words of every status-page reader: levels, readings, and JSON helpers.

Everything here is pure. A vendor's page is evidence about a channel, never ground truth, so a
reading keeps what the vendor said (component levels, open incidents, maintenances) and
``StatusReading.level_for`` folds it into one ``Level`` for one component or product.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from sorawatch.domain.status import Status


class Level(StrEnum):
    """The one scale every vendor vocabulary is normalised to (status-page-formats.md §6)."""

    OPERATIONAL = "operational"
    MAINTENANCE = "maintenance"
    DEGRADED = "degraded"
    PARTIAL = "partial"
    MAJOR = "major"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Order used to pick "the worst" level (higher is worse)."""
        return _RANK[self]


# unknown ranks just above operational: a word we cannot read must never pass for "up", yet it
# must not hide a problem the vendor did state.
_RANK = {
    Level.OPERATIONAL: 0,
    Level.UNKNOWN: 1,
    Level.MAINTENANCE: 2,
    Level.DEGRADED: 3,
    Level.PARTIAL: 4,
    Level.MAJOR: 5,
}


def worst(levels: Iterable[Level], default: Level = Level.OPERATIONAL) -> Level:
    """The worst of ``levels``, or ``default`` when there are none."""
    return max(levels, key=lambda lv: lv.rank, default=default)


# Why these targets:
# - partial → degraded: a partial outage means some calls or regions fail while the service still
#   answers; for a channel that is "works, but worse", not "down". risk_control is never a vendor's
#   word (it is our own evidence of captchas and throttling), so no level maps to it.
# - major → suspended: the vendor itself says the service is down.
# - unknown → unknown: a page we cannot read says nothing about the channel.
_TO_STATUS = {
    Level.OPERATIONAL: Status.OPERATIONAL,
    Level.MAINTENANCE: Status.MAINTENANCE,
    Level.DEGRADED: Status.DEGRADED,
    Level.PARTIAL: Status.DEGRADED,
    Level.MAJOR: Status.SUSPENDED,
    Level.UNKNOWN: Status.UNKNOWN,
}


def to_status(level: Level) -> Status:
    """The sorawatch ``Status`` a vendor page level stands for."""
    return _TO_STATUS[level]


@dataclass(frozen=True, slots=True)
class ComponentReading:
    """One leaf component of a page. Group rows are not components; their name is ``group``."""

    id: str
    name: str
    level: Level
    group: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentReading:
    """An incident or maintenance as the vendor published it.

    ``components`` holds whatever the format names affected parts by: component ids and names
    (Statuspage "Group - Component" names included), or Google Cloud product ids.
    ``status`` is the vendor's own lifecycle word, kept verbatim.
    """

    id: str
    name: str
    impact: Level
    status: str
    started_at: datetime | None = None
    resolved_at: datetime | None = None
    components: tuple[str, ...] = ()
    url: str | None = None


@dataclass(frozen=True, slots=True)
class StatusReading:
    """What one page said at ``fetched_at``.

    ``incidents`` are unresolved incidents only and ``maintenances`` in-progress ones only.
    ``stale`` marks the last good reading handed back after a failed fetch (``error`` says why);
    a reading with ``error`` and not ``stale`` carries no data at all.
    """

    page: str
    fetched_at: datetime
    indicator: Level
    components: tuple[ComponentReading, ...] = ()
    incidents: tuple[IncidentReading, ...] = ()
    maintenances: tuple[IncidentReading, ...] = ()
    stale: bool = False
    error: str | None = None

    @property
    def has_data(self) -> bool:
        return self.error is None or self.stale

    def level_for(self, component: str | None = None, product: str | None = None) -> Level:
        """The page's word on one component (by name), one product (by id), or the whole page."""
        if not self.has_data:
            return Level.UNKNOWN
        if component is None and product is None:
            return self._overall()
        levels: list[Level] = []
        if component is not None:
            levels.append(self._component_level(component))
        if product is not None:
            levels.append(self._product_level(product))
        return worst(levels)

    def _overall(self) -> Level:
        # The indicator can read "none" while an incident is open, so it is one voice of several.
        return worst(
            [
                self.indicator,
                *(c.level for c in self.components),
                *(i.impact for i in self.incidents),
                *(Level.MAINTENANCE for _ in self.maintenances),
            ]
        )

    def _component_level(self, name: str) -> Level:
        wanted = _casefold(name)
        matched = [c for c in self.components if wanted in _names(c)]
        if not matched:  # a group name stands for all of its children
            matched = [c for c in self.components if c.group and _casefold(c.group) == wanted]
        keys = {wanted}
        for c in matched:
            keys.add(_casefold(c.id))
            if c.group:
                keys.add(_casefold(f"{c.group} - {c.name}"))
        incidents = [i for i in self.incidents if _mentions(i, keys)]
        maintenances = [m for m in self.maintenances if _mentions(m, keys)]
        if not (matched or incidents or maintenances):
            return Level.UNKNOWN  # renamed or misspelt: say so rather than "operational"
        return worst(
            [
                *(c.level for c in matched),
                *(i.impact for i in incidents),
                *(Level.MAINTENANCE for _ in maintenances),
            ]
        )

    def _product_level(self, product: str) -> Level:
        # Pages keyed by product (Google Cloud) list only incidents: no open incident means up.
        return worst(
            [
                *(i.impact for i in self.incidents if product in i.components),
                *(Level.MAINTENANCE for m in self.maintenances if product in m.components),
            ]
        )


def _casefold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _names(component: ComponentReading) -> set[str]:
    """The names a component answers to: its own, and qualified by its group."""
    names = {_casefold(component.name)}
    if component.group:
        names |= {_casefold(f"{component.group} {sep} {component.name}") for sep in "-/"}
    return names


def _mentions(incident: IncidentReading, keys: set[str]) -> bool:
    for raw in incident.components:
        ref = _casefold(raw)
        # Statuspage update lists name components "Group - Component".
        if ref in keys or ref.rsplit(" - ", 1)[-1] in keys:
            return True
    return False


def unknown_reading(page: str, fetched_at: datetime, error: str) -> StatusReading:
    """A reading that carries only the reason there is no data."""
    return StatusReading(page=page, fetched_at=fetched_at, indicator=Level.UNKNOWN, error=error)


# --- failures --------------------------------------------------------------------------------


class ReadFailure(Exception):
    """A page could not be read. Internal to this package: ``StatusPageReader.read`` turns it
    into a stale reading, so it never reaches a caller of the reader."""


class FetchFailure(ReadFailure):
    """No usable HTTP answer: connect error, timeout, non-2xx, non-JSON content type."""


class PayloadError(ReadFailure, ValueError):
    """The body is not the JSON shape the format promises."""


class JsonGetter(Protocol):
    """How a reader asks for one JSON document (the fetcher adds conditional GETs)."""

    async def get_json(self, url: str) -> object:
        """The parsed JSON at ``url``; raises ``FetchFailure`` or ``PayloadError``."""
        ...


# --- JSON helpers ----------------------------------------------------------------------------


def is_json_type(content_type: str | None) -> bool:
    """True for application/json, text/json and any ``+json`` type; never for HTML."""
    if not content_type:
        return False
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime in ("application/json", "text/json") or mime.endswith("+json")


def decode_json(body: bytes, content_type: str | None) -> object:
    """Parse ``body`` as JSON, refusing anything not labelled JSON (an HTML error page)."""
    if not is_json_type(content_type):
        raise PayloadError(f"expected JSON, got content-type {content_type or 'none'!r}")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PayloadError(f"malformed JSON: {exc}") from exc


def as_obj(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise PayloadError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def as_list(value: object, what: str) -> list[object]:
    """A JSON array; ``null`` and a missing key read as empty (incident.io leaves them out)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{what}: expected an array, got {type(value).__name__}")
    return value


def objects(value: object, what: str) -> list[Mapping[str, object]]:
    return [as_obj(item, what) for item in as_list(value, what)]


def text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime (naive ones are taken as UTC)."""
    raw = text(value)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """``items`` without empties or repeats, first occurrence kept."""
    return tuple(dict.fromkeys(i for i in items if i))
