"""Building blocks shared by every config model: strict models and durations."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_seconds(value: object) -> float:
    """``"90s"``, ``"5m"``, ``"6h"``, ``"1d"``, ``"250ms"`` or a number → seconds (zero allowed,
    negatives not)."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 60s, 5m, 6h or 1d")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError(f"expected a duration such as 60s, 5m, 6h or 1d, got {value!r}")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


def parse_duration(value: object) -> float:
    """Like ``parse_seconds``, but the duration must be positive (an interval, a timeout)."""
    seconds = parse_seconds(value)
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


def _has_zone(value: datetime) -> datetime:
    # A window written without a zone would shift with the server's clock: say which one.
    if value.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2026-11-24T02:00:00Z or +08:00")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_has_zone)]


class Strict(BaseModel):
    """Unknown keys are errors and loaded config never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
