"""Reading the few HTTP headers and durations that carry meaning for health.

Every parser here returns None for a value it cannot read: a malformed header from an upstream is
a fact about the upstream, never a reason to fail.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Go / Google protobuf durations: "19s", "0.5s", "6m0s", "12ms", "1h2m3.5s".
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)")
_DURATION_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|us|µs|ns|h|m|s))+$")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}

# Larger waits are not a retry hint but a broken header; they would also overflow timedelta.
_MAX_WAIT_S = 366 * 86400.0


def _finite_seconds(value: float) -> float | None:
    if math.isnan(value) or math.isinf(value) or value < 0 or value > _MAX_WAIT_S:
        return None
    return value


def parse_duration(text: str) -> float | None:
    """``"19s"`` / ``"6m0s"`` / ``"12ms"`` → seconds, or None."""
    text = text.strip()
    if not _DURATION_WHOLE.match(text):
        return None
    total = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))
    return _finite_seconds(total)


def parse_http_date(text: str) -> datetime | None:
    """An RFC 9110 HTTP-date (``Wed, 31 Dec 2025 23:59:59 GMT``) → aware UTC datetime, or None."""
    try:
        parsed = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000" means UTC with unknown origin zone
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_float(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def retry_after_s(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds to wait, from ``retry-after-ms`` (OpenAI's, more precise) or ``retry-after``."""
    if (ms := headers.get("retry-after-ms")) is not None:
        value = _parse_float(ms)
        if value is not None and (seconds := _finite_seconds(value / 1000.0)) is not None:
            return seconds
    raw = headers.get("retry-after")
    if raw is None:
        return None
    value = _parse_float(raw)
    if value is not None:
        return _finite_seconds(value)
    when = parse_http_date(raw)
    if when is None:
        return None
    return _finite_seconds(max(0.0, (when - now).total_seconds()))


def _from_unix(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_deprecation(value: str, now: datetime) -> datetime | None:
    """``Deprecation`` header → the date it names.

    RFC 9745 writes ``@<unix seconds>``; the legacy ``true`` (still sent, e.g. by Krea) means
    "deprecated already", so it becomes ``now``. Early drafts used an HTTP-date.
    """
    value = value.strip()
    if value.lower() == "true":
        return now
    if value.startswith("@"):
        seconds = _parse_float(value[1:])
        return None if seconds is None or not math.isfinite(seconds) else _from_unix(seconds)
    return parse_http_date(value)


def parse_sunset(value: str) -> datetime | None:
    """``Sunset`` header (RFC 8594, an HTTP-date) → the date."""
    return parse_http_date(value)
