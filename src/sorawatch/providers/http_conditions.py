"""The conditions of an ``http`` check, judged on one answer. Pure: no I/O, no clock.

Expected statuses are numbers (``200``), classes (``"2xx"``) or ranges (``"200-204"``). JSON
conditions address the body with a small JSONPath subset: ``$`` is the document, ``.name`` or
``['name']`` a member, ``[0]`` an element (``[-1]`` the last). A condition whose path is missing
fails, whatever its test, except ``exists: false``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

from sorawatch.domain.observation import Verdict
from sorawatch.domain.outcome import Outcome

if TYPE_CHECKING:
    from sorawatch.config import HttpCheckConfig, JsonCondition

PathPart = str | int

_STEP: Final = re.compile(
    r"""\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)"""
    r"""|\[(?P<index>-?\d+)\]"""
    r"""|\['(?P<single>[^']*)'\]"""
    r"""|\["(?P<double>[^"]*)"\]"""
)
_CLASS: Final = re.compile(r"^([1-5])xx$", re.IGNORECASE)
_RANGE: Final = re.compile(r"^(\d{3})\s*-\s*(\d{3})$")
_MAX_SHOWN: Final = 60  # characters of a value quoted in a detail


def parse_path(text: str) -> tuple[PathPart, ...]:
    """``$.a.b[0]['c d']`` → ``("a", "b", 0, "c d")``; ``ValueError`` names what is wrong."""
    text = text.strip()
    if not text.startswith("$"):
        raise ValueError(f"a JSON path starts with $, got {text!r}")
    parts: list[PathPart] = []
    pos = 1
    while pos < len(text):
        m = _STEP.match(text, pos)
        if m is None:
            raise ValueError(
                f"cannot read JSON path {text!r} at {text[pos:]!r}; use .name, ['name'] or [index]"
            )
        index = m.group("index")
        if index is not None:
            parts.append(int(index))
        else:
            parts.append(next(g for g in (m["name"], m["single"], m["double"]) if g is not None))
        pos = m.end()
    return tuple(parts)


def lookup(doc: object, path: Sequence[PathPart]) -> tuple[bool, object]:
    """(found, value) of ``path`` in a parsed JSON document."""
    node = doc
    for part in path:
        member = isinstance(part, str) and isinstance(node, dict) and part in node
        element = (
            isinstance(part, int) and isinstance(node, list) and -len(node) <= part < len(node)
        )
        if not (member or element):
            return False, None
        node = node[part]  # type: ignore[index]
    return True, node


def parse_status(pattern: int | str) -> tuple[int, int]:
    """An expected-status pattern → an inclusive range of statuses."""
    if isinstance(pattern, bool):
        raise ValueError(f"expected a status such as 200, '2xx' or '200-299', got {pattern!r}")
    if isinstance(pattern, int):
        low = high = pattern
    elif m := _CLASS.match(pattern.strip()):
        low, high = int(m.group(1)) * 100, int(m.group(1)) * 100 + 99
    elif m := _RANGE.match(pattern.strip()):
        low, high = int(m.group(1)), int(m.group(2))
    elif pattern.strip().isdigit():
        low = high = int(pattern)
    else:
        raise ValueError(f"expected a status such as 200, '2xx' or '200-299', got {pattern!r}")
    if not 100 <= low <= high <= 599:
        raise ValueError(f"status pattern {pattern!r} is outside 100-599 or reversed")
    return low, high


def status_expected(status: int, patterns: Iterable[int | str]) -> bool:
    return any(low <= status <= high for low, high in map(parse_status, patterns))


def _same(a: object, b: object) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _test_of(cond: JsonCondition) -> tuple[str, Any]:
    for name, shown in (
        ("equals", "=="),
        ("in_", "in"),
        ("not_equals", "!="),
        ("exists", "exists"),
    ):
        if name in cond.model_fields_set:
            return shown, getattr(cond, name)
    raise AssertionError("a JsonCondition holds exactly one test")  # config guarantees it


def failed_condition(doc: object, cond: JsonCondition) -> str | None:
    """Why ``cond`` fails on ``doc``, or None when it holds."""
    op, want = _test_of(cond)
    found, value = lookup(doc, parse_path(cond.path))
    label = f"json {cond.path} {op} {_show(want)}"
    if op == "exists":
        return None if found == bool(want) else f"{label} failed"
    if not found:
        return f"{label} failed: path not found"
    holds = {
        "==": lambda: _same(value, want),
        "!=": lambda: not _same(value, want),
        "in": lambda: any(_same(value, w) for w in want),
    }[op]()
    return None if holds else f"{label} failed: got {_show(value)}"


def _body_failure(check: HttpCheckConfig, body: bytes) -> str | None:
    if check.body_contains is not None:
        text = body.decode("utf-8", errors="replace")
        if check.body_contains not in text:
            return f"body does not contain {_show(check.body_contains)}"
    if not check.json_:
        return None
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return "body is not JSON (the json conditions need it)"
    return next((why for c in check.json_ if (why := failed_condition(doc, c))), None)


def judge(
    check: HttpCheckConfig,
    status: int,
    body: bytes,
    latency_ms: float | None,
    slow_ms: float | None,
) -> Verdict:
    """The verdict on an answer whose status was expected: body conditions, then latency."""
    if (why := _body_failure(check, body)) is not None:
        return Verdict(Outcome.BAD_RESPONSE, f"{status} {why}")
    limit = check.max_latency_ms if check.max_latency_ms is not None else slow_ms
    if limit is not None and latency_ms is not None and latency_ms > limit:
        return Verdict(Outcome.SLOW, f"{status} slow: {latency_ms:.0f} ms > {limit:.0f} ms")
    return Verdict(Outcome.OK, f"{status} ok")
