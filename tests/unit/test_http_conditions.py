"""The ``http`` check's conditions: paths, statuses, JSON tests and the verdict, table by table."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sorawatch.config import HttpCheckConfig, JsonCondition, parse_config
from sorawatch.domain.outcome import Outcome
from sorawatch.errors import ConfigError
from sorawatch.providers.http_conditions import (
    failed_condition,
    judge,
    lookup,
    parse_path,
    parse_status,
    status_expected,
)

DOC: dict[str, Any] = {
    "status": {"indicator": "none", "description": "All Systems Operational"},
    "components": [{"name": "API", "status": "operational"}, {"name": "Web", "up": True}],
    "count": 3,
    "ratio": 1.0,
    "flag": True,
    "nothing": None,
    "odd key": {"x-y": 7},
}


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        pytest.param("$", (), id="root"),
        pytest.param("$.status", ("status",), id="member"),
        pytest.param("$.status.indicator", ("status", "indicator"), id="nested"),
        pytest.param("$.components[0].name", ("components", 0, "name"), id="index"),
        pytest.param("$.components[-1]", ("components", -1), id="negative-index"),
        pytest.param("$['odd key'].x-y", ("odd key", "x-y"), id="quoted-and-dash"),
        pytest.param('$["odd key"]', ("odd key",), id="double-quoted"),
        pytest.param(" $.a ", ("a",), id="surrounding-space"),
    ],
)
def test_parse_path(text: str, parts: tuple[str | int, ...]) -> None:
    assert parse_path(text) == parts


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("status", id="no-dollar"),
        pytest.param("$.", id="dangling-dot"),
        pytest.param("$.a..b", id="double-dot"),
        pytest.param("$[x]", id="bare-word-index"),
        pytest.param("$.a[0", id="unclosed-bracket"),
        pytest.param("$.*", id="wildcard-not-in-subset"),
        pytest.param("$..a", id="recursive-descent-not-in-subset"),
    ],
)
def test_parse_path_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="JSON path"):
        parse_path(text)


@pytest.mark.parametrize(
    ("path", "found", "value"),
    [
        pytest.param("$.status.indicator", True, "none", id="string"),
        pytest.param("$.components[1].up", True, True, id="bool-in-list"),
        pytest.param("$.components[-1].name", True, "Web", id="last"),
        pytest.param("$.components[2]", False, None, id="index-past-end"),
        pytest.param("$.components[-3]", False, None, id="index-before-start"),
        pytest.param("$.nothing", True, None, id="null-is-found"),
        pytest.param("$.missing", False, None, id="missing-member"),
        pytest.param("$.count.more", False, None, id="member-of-number"),
        pytest.param("$.status[0]", False, None, id="index-of-object"),
        pytest.param("$['odd key'].x-y", True, 7, id="quoted"),
    ],
)
def test_lookup(path: str, found: bool, value: object) -> None:
    assert lookup(DOC, parse_path(path)) == (found, value)


@given(
    st.recursive(st.integers() | st.text(), lambda kids: st.lists(kids, max_size=3), max_leaves=8)
)
def test_lookup_root_is_the_document(doc: object) -> None:
    assert lookup(doc, parse_path("$")) == (True, doc)


@given(st.dictionaries(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True), st.integers()))
def test_every_member_is_found_by_its_path(doc: dict[str, int]) -> None:
    for key, value in doc.items():
        assert lookup(doc, parse_path(f"$.{key}")) == (True, value)
        assert lookup(doc, parse_path(f"$['{key}']")) == (True, value)


@pytest.mark.parametrize(
    ("pattern", "span"),
    [
        pytest.param(200, (200, 200), id="int"),
        pytest.param("204", (204, 204), id="digits"),
        pytest.param("2xx", (200, 299), id="class"),
        pytest.param("5XX", (500, 599), id="class-upper"),
        pytest.param("200-204", (200, 204), id="range"),
        pytest.param("301 - 308", (301, 308), id="range-spaced"),
    ],
)
def test_parse_status(pattern: int | str, span: tuple[int, int]) -> None:
    assert parse_status(pattern) == span


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param(99, id="too-low"),
        pytest.param(600, id="too-high"),
        pytest.param("6xx", id="class-out-of-range"),
        pytest.param("299-200", id="reversed"),
        pytest.param("ok", id="word"),
        pytest.param(True, id="bool"),
    ],
)
def test_parse_status_refuses(pattern: int | str) -> None:
    with pytest.raises(ValueError, match="status"):
        parse_status(pattern)


@pytest.mark.parametrize(
    ("status", "patterns", "expected"),
    [
        pytest.param(200, (200,), True, id="default"),
        pytest.param(204, (200,), False, id="204-not-200"),
        pytest.param(204, ("2xx",), True, id="class"),
        pytest.param(404, (200, 404), True, id="expected-404"),
        pytest.param(503, ("200-299", "3xx"), False, id="none-match"),
    ],
)
def test_status_expected(status: int, patterns: tuple[int | str, ...], expected: bool) -> None:
    assert status_expected(status, patterns) is expected


def cond(**raw: Any) -> JsonCondition:
    return JsonCondition.model_validate(raw)


@pytest.mark.parametrize(
    ("condition", "failure"),
    [
        pytest.param(cond(path="$.status.indicator", equals="none"), None, id="equals"),
        pytest.param(
            cond(path="$.status.indicator", equals="major"),
            'json $.status.indicator == "major" failed: got "none"',
            id="equals-fails",
        ),
        pytest.param(cond(path="$.count", equals=3.0), None, id="int-equals-float"),
        pytest.param(
            cond(path="$.flag", equals=1),
            "json $.flag == 1 failed: got true",
            id="true-is-not-1",
        ),
        pytest.param(cond(path="$.nothing", equals=None), None, id="equals-null"),
        pytest.param(cond(path="$.count", not_equals=0), None, id="not-equals"),
        pytest.param(
            cond(path="$.count", not_equals=3),
            "json $.count != 3 failed: got 3",
            id="not-equals-fails",
        ),
        pytest.param(
            cond(path="$.gone", not_equals="down"),
            'json $.gone != "down" failed: path not found',
            id="not-equals-on-missing-path-fails",
        ),
        pytest.param(cond(path="$.components[0].status", **{"in": ["operational"]}), None, id="in"),
        pytest.param(
            cond(path="$.status.indicator", **{"in": ["minor", "major"]}),
            'json $.status.indicator in ["minor","major"] failed: got "none"',
            id="in-fails",
        ),
        pytest.param(cond(path="$.status", exists=True), None, id="exists"),
        pytest.param(cond(path="$.gone", exists=False), None, id="absent"),
        pytest.param(
            cond(path="$.gone", exists=True), "json $.gone exists true failed", id="exists-fails"
        ),
        pytest.param(
            cond(path="$.nothing", exists=False),
            "json $.nothing exists false failed",
            id="null-exists",
        ),
        pytest.param(
            cond(path="$.components", equals="x"),
            'json $.components == "x" failed: got '
            '[{"name":"API","status":"operational"},{"name":"Web","up":t…',
            id="long-value-is-cut",
        ),
    ],
)
def test_failed_condition(condition: JsonCondition, failure: str | None) -> None:
    assert failed_condition(DOC, condition) == failure


def check(**raw: Any) -> HttpCheckConfig:
    return HttpCheckConfig.model_validate(raw)


BODY = json.dumps(DOC).encode()


@pytest.mark.parametrize(
    ("config", "body", "latency", "outcome", "detail"),
    [
        pytest.param(check(), b"<html>hi</html>", 10.0, Outcome.OK, "200 ok", id="no-conditions"),
        pytest.param(
            check(json=[{"path": "$.status.indicator", "equals": "none"}]),
            BODY,
            10.0,
            Outcome.OK,
            "200 ok",
            id="json-holds",
        ),
        pytest.param(
            check(json=[{"path": "$.count", "exists": True}, {"path": "$.flag", "equals": False}]),
            BODY,
            10.0,
            Outcome.BAD_RESPONSE,
            "200 json $.flag == false failed: got true",
            id="second-condition-fails",
        ),
        pytest.param(
            check(json=[{"path": "$.a", "exists": True}]),
            b"<html>",
            10.0,
            Outcome.BAD_RESPONSE,
            "200 body is not JSON (the json conditions need it)",
            id="json-conditions-need-json",
        ),
        pytest.param(
            check(body_contains="Operational"), BODY, 10.0, Outcome.OK, "200 ok", id="contains"
        ),
        pytest.param(
            check(body_contains="healthy"),
            BODY,
            10.0,
            Outcome.BAD_RESPONSE,
            '200 body does not contain "healthy"',
            id="contains-fails",
        ),
        pytest.param(
            check(max_latency_ms=100),
            BODY,
            250.0,
            Outcome.SLOW,
            "200 slow: 250 ms > 100 ms",
            id="over-max-latency",
        ),
        pytest.param(
            check(), BODY, 9000.0, Outcome.SLOW, "200 slow: 9000 ms > 5000 ms", id="slow-ms"
        ),
        pytest.param(
            check(max_latency_ms=100, body_contains="nope"),
            BODY,
            250.0,
            Outcome.BAD_RESPONSE,
            '200 body does not contain "nope"',
            id="bad-body-beats-slow",
        ),
        pytest.param(check(), BODY, None, Outcome.OK, "200 ok", id="no-latency"),
    ],
)
def test_judge(
    config: HttpCheckConfig, body: bytes, latency: float | None, outcome: Outcome, detail: str
) -> None:
    verdict = judge(config, 200, body, latency, 5000.0)
    assert (verdict.outcome, verdict.detail) == (outcome, detail)


# --- config: where a check is allowed, and what it may say ---------------------------------------


def channel_yaml(protocol: str, check: str | None) -> str:
    check_line = f"    check: {check}\n" if check is not None else ""
    return (
        'storage: {url: "memory://"}\nchannels:\n  - id: c\n    name: C\n    model: m\n'
        f'    access: official\n    protocol: {protocol}\n    base_url: "https://x.example"\n'
        f"{check_line}"
    )


def test_a_full_check_loads() -> None:
    text = channel_yaml(
        "http",
        '{method: HEAD, url_path: /healthz, headers: {X-A: b}, expect_status: [200, "3xx"], '
        'max_latency_ms: 500, body_contains: ok, json: [{path: "$.a[0]", in: [1, 2]}]}',
    )
    loaded = parse_config(text, env={}).channels[0].check
    assert loaded is not None
    assert (loaded.method, loaded.url_path, loaded.expect_status) == (
        "HEAD",
        "/healthz",
        (200, "3xx"),
    )
    assert loaded.json_[0].in_ == [1, 2]


def test_expect_status_may_be_one_value() -> None:
    loaded = parse_config(channel_yaml("http", "{expect_status: 2xx}"), env={}).channels[0].check
    assert loaded is not None
    assert loaded.expect_status == ("2xx",)


@pytest.mark.parametrize(
    ("protocol", "check", "problem"),
    [
        pytest.param(
            "http", None, "channels[0].check: protocol http needs a check", id="http-needs-check"
        ),
        pytest.param(
            "openai-videos",
            "{}",
            "channels[0].check: only protocol http takes a check, not openai-videos",
            id="videos-takes-none",
        ),
        pytest.param(
            "http",
            "{json: [{path: status, equals: ok}]}",
            "channels[0].check.json[0].path: a JSON path starts with $",
            id="bad-path",
        ),
        pytest.param(
            "http",
            "{json: [{path: $.a, equals: 1, exists: true}]}",
            "channels[0].check.json[0]: give exactly one of equals, in, not_equals or exists",
            id="two-tests",
        ),
        pytest.param(
            "http",
            "{json: [{path: $.a}]}",
            "channels[0].check.json[0]: give exactly one of",
            id="no-test",
        ),
        pytest.param(
            "http",
            "{json: [{path: $.a, in: null}]}",
            "channels[0].check.json[0]: in: expected a list",
            id="in-null",
        ),
        pytest.param(
            "http",
            "{expect_status: [200, 7xx]}",
            "channels[0].check.expect_status: expected a status",
            id="bad-status",
        ),
        pytest.param(
            "http",
            "{expect_status: []}",
            "channels[0].check.expect_status: expected at least one",
            id="no-status",
        ),
        pytest.param(
            "http",
            "{url_path: health}",
            "channels[0].check.url_path: expected a path starting with /",
            id="relative-path",
        ),
        pytest.param(
            "http",
            '{url_path: "/https://evil.example"}',
            "channels[0].check.url_path: expected a path",
            id="path-with-a-host",
        ),
        pytest.param("http", "{methd: GET}", "channels[0].check.methd: unknown key", id="typo"),
        pytest.param(
            "http", "{method: DELETE}", "channels[0].check.method: Input should be", id="method"
        ),
        pytest.param(
            "http",
            "{max_latency_ms: 0}",
            "channels[0].check.max_latency_ms: Input should be greater than 0",
            id="latency",
        ),
    ],
)
def test_check_problems_name_their_key(protocol: str, check: str | None, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(channel_yaml(protocol, check), env={})
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_an_http_check_takes_no_canary() -> None:
    text = channel_yaml("http", "{}").replace(
        "    check: {}\n", "    check: {}\n    price: {per_call: 0.01}\n    probes: {canary: {}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, env={})
    [problem] = caught.value.problems
    assert problem.startswith("channels[0].probes: canary: protocol http has no")
