"""HTTP exchange → outcome (DESIGN.md, "Outcomes").

The decision is one literal, ordered table of rules (``RULES``), first match wins. Each rule reads
``Signals``: the HTTP status, the error ``type``/``code`` identifiers of whichever envelope the
upstream used (OpenAI ``{"error":{type,code}}``, Google ``{"error":{status,details}}``, new-api
flat ``{"code","message","data"}``), a Cloudflare challenge flag, and the lower-cased message text.

Codes decide before text: the text rules sit below every code rule, so a message is only read when
no code the table knows is present (new-api says "当前分组上游负载已饱和" both for overload and,
with ``type: insufficient_quota``, for an exhausted quota; the code tells them apart).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from sorawatch.domain.headers import (
    parse_deprecation,
    parse_duration,
    parse_sunset,
    retry_after_s,
)
from sorawatch.domain.observation import Exchange, TransportError, Verdict
from sorawatch.domain.outcome import Outcome
from sorawatch.domain.redact import redact

_MAX_DECODE = 2 * 1024 * 1024  # bytes of body decoded at most; the rest cannot change the class
_MAX_TEXT = 8192  # characters of message/body text the text rules search
_MAX_LABEL = 60  # characters of an upstream identifier quoted in a detail


# --------------------------------------------------------------------------- body reading


class BodyKind(StrEnum):
    EMPTY = "empty"
    JSON = "json"
    BAD_JSON = "bad_json"  # the content type says JSON, the bytes are not
    SSE = "sse"
    HTML = "html"
    BINARY = "binary"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """The error an answer carries, whichever envelope it came in."""

    type: str | None = None
    code: str | None = None
    google_status: str | None = None  # RESOURCE_EXHAUSTED, INVALID_ARGUMENT, …
    reasons: tuple[str, ...] = ()  # google.rpc.ErrorInfo.reason
    quota_ids: tuple[str, ...] = ()  # google.rpc.QuotaFailure violations[].quotaId
    retry_delay_s: float | None = None  # google.rpc.RetryInfo.retryDelay or a body retryAfter
    message: str = ""
    status: int | None = None  # an HTTP status written inside the body (Google code, status_code)

    @property
    def names(self) -> dict[str, str]:
        """Every identifier, lower-cased → as sent, most specific first."""
        out: dict[str, str] = {}
        for ident in (self.code, self.google_status, self.type, *self.reasons):
            if ident:
                out.setdefault(ident.lower(), ident)
        return out

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.names)

    @property
    def label(self) -> str | None:
        return self.code or self.google_status or self.type or next(iter(self.reasons), None)


@dataclass(frozen=True, slots=True)
class Body:
    kind: BodyKind
    doc: object = None  # the parsed JSON document (JSON kind only)
    error: ErrorInfo | None = None  # an error the answer carries
    text: str = ""  # lower-cased text the text rules may read
    sunset: datetime | None = None  # shutdown_date / sunset_date written in the body
    job: bool = False  # the document is a job/operation: on a 2xx its error is the job's


_SUCCESS_CODES: Final = frozenset({"", "0", "200", "success", "ok", "succeed", "true"})
_MESSAGE_KEYS: Final = (
    "message",
    "msg",
    "errmsg",  # jimeng / ByteDance web APIs: {"ret": "4013", "errmsg": "…"}
    "description",
    "detail",
    "error_message",
    "error_msg",
)


def _str(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _message_of(obj: Mapping[str, object]) -> str:
    return " ".join(v for k in _MESSAGE_KEYS if isinstance(v := obj.get(k), str))


def _http_status(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
        return value
    return None


def _google_details(details: object) -> tuple[tuple[str, ...], tuple[str, ...], float | None]:
    reasons: list[str] = []
    quota_ids: list[str] = []
    delay: float | None = None
    for item in details if isinstance(details, list) else ():
        if not isinstance(item, dict):
            continue
        if reason := _str(item.get("reason")):
            reasons.append(reason)
        for violation in item.get("violations") or ():
            if isinstance(violation, dict) and (quota_id := _str(violation.get("quotaId"))):
                quota_ids.append(quota_id)
        if isinstance(retry := item.get("retryDelay"), str):
            delay = parse_duration(retry)
    return tuple(reasons), tuple(quota_ids), delay


def _body_retry_after(doc: Mapping[str, object]) -> float | None:
    for key in ("retryAfter", "retry_after"):
        value = doc.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1e7:
            return float(value)
    return None


def _nested_error(err: Mapping[str, object], doc: Mapping[str, object]) -> ErrorInfo:
    """OpenAI ``{"error":{message,type,param,code}}`` and Google ``{"error":{code,status,…}}``."""
    reasons, quota_ids, delay = _google_details(err.get("details"))
    raw_code = err.get("code")
    return ErrorInfo(
        type=_str(err.get("type")),
        code=raw_code if isinstance(raw_code, str) and raw_code.strip() else None,
        google_status=_str(err.get("status")) if isinstance(err.get("status"), str) else None,
        reasons=reasons,
        quota_ids=quota_ids,
        retry_delay_s=delay if delay is not None else _body_retry_after(doc),
        message=" ".join(filter(None, (_message_of(err), _message_of(doc)))),
        status=_http_status(raw_code) or _http_status(doc.get("status_code")),
    )


def _flat_error(doc: Mapping[str, object]) -> ErrorInfo | None:
    """Flat errors: new-api task routes ``{"code","message","data"}``, flow2api, Midjourney,
    numeric ``{code,msg}`` task APIs, ByteDance web ``{ret, errmsg}``."""
    code = _str(doc.get("code")) or _str(doc.get("ret"))
    type_ = _str(doc.get("type"))
    message = _message_of(doc)
    if code is not None and code.lower() in _SUCCESS_CODES:
        return None
    if message.strip().lower() in _SUCCESS_CODES:  # {"code":10000,"message":"Success"}
        return None
    looks_failed = code is not None or (type_ is not None and "error" in type_.lower())
    if not (looks_failed and message):
        return None
    if (relayed := _relayed_error(message)) is not None:
        return relayed
    return ErrorInfo(
        type=type_,
        code=code,
        retry_delay_s=_body_retry_after(doc),
        message=message,
        status=_http_status(doc.get("status_code")) or _http_status(doc.get("code")),
    )


def _relayed_error(message: str) -> ErrorInfo | None:
    """The upstream's own error when a gateway relays its body as the message string.

    new-api answers an upstream's failed task submit with ``{"code":"fail_to_fetch_task",
    "message":"<the upstream body>"}``; the upstream's codes say more than the wrapper's.
    """
    text = message.strip()
    if not text.startswith("{"):
        return None
    ok, inner = _loads(text)
    if not ok or not isinstance(inner, dict) or not isinstance(inner.get("error"), dict | str):
        return None
    return error_of(inner)


def _is_job(doc: Mapping[str, object]) -> bool:
    """A job/operation object: its ``error`` is the job's failure, not the answer's.

    A failed video is a 200 ``{"id", "status": "failed", "error": {code, message}}`` and a failed
    Google operation a 200 ``{"name", "done": true, "error": {…}}``; both are fine answers.
    """
    if "done" in doc or isinstance(doc.get("task_id"), str):
        return True
    obj = doc.get("object")
    if isinstance(obj, str) and obj.startswith("video"):
        return True
    return "id" in doc and isinstance(doc.get("status"), str)


def error_of(doc: object) -> ErrorInfo | None:
    """The error a JSON document says the request met, or None."""
    if not isinstance(doc, dict):
        return None
    err = doc.get("error")
    if isinstance(err, dict) and err:
        return _nested_error(err, doc)
    if isinstance(err, str) and err.strip():  # Krea: {"error":"model_unavailable","reason":…}
        return ErrorInfo(
            type=_str(doc.get("reason")),
            code=err.strip(),
            message=_message_of(doc),
            status=_http_status(doc.get("status_code")),
        )
    return _flat_error(doc)


def _chat_text(doc: object) -> str:
    """Assistant text of a chat completion (chunk): reverse channels put their failures there."""
    if not isinstance(doc, dict) or not isinstance(choices := doc.get("choices"), list):
        return ""
    parts: list[str] = []
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        for key in ("delta", "message"):
            part = choice.get(key)
            if isinstance(part, dict) and isinstance(content := part.get("content"), str):
                parts.append(content)
    return "".join(parts)


def _loads(text: str) -> tuple[bool, object]:
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError):
        return False, None


def _read_sse(text: str) -> Body:
    error: ErrorInfo | None = None
    chat: list[str] = []
    event = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("event:"):
            event = line[6:].strip().lower()
            continue
        if not line.startswith("data:"):
            continue
        ok, doc = _loads(line[5:].strip())
        if not ok or not isinstance(doc, dict):
            continue
        found = error_of(doc)
        if found is None and event == "error":
            found = _nested_error(doc, doc)
        if found is not None and not _is_job(doc):
            error = error or found
        chat.append(_chat_text(doc))
        event = ""
    words = error.message if error else "".join(chat)
    return Body(BodyKind.SSE, error=error, text=words[:_MAX_TEXT].lower())


def _date_in_body(doc: object) -> datetime | None:
    if not isinstance(doc, dict):
        return None
    for key in ("shutdown_date", "sunset_date"):
        value = doc.get(key)
        if isinstance(value, str):
            try:
                day = datetime.fromisoformat(value.strip())
            except ValueError:
                continue
            return day if day.tzinfo else day.replace(tzinfo=UTC)
    return None


_BINARY_TYPES: Final = (
    "video/",
    "image/",
    "audio/",
    "application/octet-stream",
    "application/binary",
)


def _kind(text: str, content_type: str) -> BodyKind:
    head = text.lstrip()[:64].lower()
    if not head:
        return BodyKind.EMPTY
    if "event-stream" in content_type or head.startswith(("data:", "event:")):
        return BodyKind.SSE
    if "json" in content_type or head.startswith(("{", "[")):
        return BodyKind.JSON
    if "html" in content_type or head.startswith(("<!doctype html", "<html")):
        return BodyKind.HTML
    return BodyKind.TEXT


def read_body(body: bytes, content_type: str) -> Body:
    """Parse an answer's body just enough to classify it."""
    content_type = content_type.lower()
    if content_type.startswith(_BINARY_TYPES):
        return Body(BodyKind.BINARY if body else BodyKind.EMPTY)
    text = body[:_MAX_DECODE].decode("utf-8", errors="replace")
    kind = _kind(text, content_type)
    if kind is BodyKind.EMPTY and "json" in content_type:
        return Body(BodyKind.BAD_JSON)  # "" is not JSON, whatever the header promised
    if kind is BodyKind.SSE:
        return _read_sse(text)
    if kind is BodyKind.JSON:
        ok, doc = _loads(text)
        if not ok:
            bad = "json" in content_type
            return Body(BodyKind.BAD_JSON if bad else BodyKind.TEXT, text=text[:_MAX_TEXT].lower())
        error = error_of(doc)
        job = isinstance(doc, dict) and _is_job(doc)
        words = error.message if error and not job else _chat_text(doc)
        return Body(kind, doc, error, words[:_MAX_TEXT].lower(), _date_in_body(doc), job)
    return Body(kind, text=text[:_MAX_TEXT].lower())


# --------------------------------------------------------------------------- signals and rules


@dataclass(frozen=True, slots=True)
class Signals:
    """What the rules see. ``status`` is 0 for an error found inside a 2xx that names no status."""

    status: int
    error: ErrorInfo = field(default_factory=ErrorInfo)
    text: str = ""
    cf_header: bool = False
    cf_page: bool = False

    @property
    def ids(self) -> tuple[str, ...]:
        return self.error.ids

    @property
    def label(self) -> str | None:
        return self.error.label


Match = Callable[[Signals], str | None]  # the label for the detail when the rule applies


@dataclass(frozen=True, slots=True)
class Rule:
    outcome: Outcome
    match: Match
    why: str  # what the rule recognises, for people reading the table


def _ids(*names: str) -> Match:
    wanted = frozenset(names)
    return lambda s: next((sent for i, sent in s.error.names.items() if i in wanted), None)


def _ids_containing(*parts: str) -> Match:
    def match(s: Signals) -> str | None:
        return next((sent for i, sent in s.error.names.items() if any(p in i for p in parts)), None)

    return match


def _text(*needles: str) -> Match:
    def match(s: Signals) -> str | None:
        needle = next((n for n in needles if n in s.text), None)
        if needle is None:
            return None
        label = s.label
        # A bare number ("-2001", "4") tells a reader less than the words that matched.
        if label is None or not any(c.isalpha() for c in label):
            return needle
        return f"{label}: {needle}"

    return match


def _status(*codes: int, label: str) -> Match:
    return lambda s: (s.label or label) if s.status in codes else None


def _status_range(low: int, high: int, label: str) -> Match:
    return lambda s: (s.label or label) if low <= s.status < high else None


def _on(statuses: Callable[[int], bool], match: Match) -> Match:
    return lambda s: match(s) if statuses(s.status) else None


def _is(code: int) -> Callable[[int], bool]:
    return lambda status: status == code


def _both(first: Match, second: Match) -> Match:
    return lambda s: second(s) if first(s) is not None else None


def _cloudflare(s: Signals) -> str | None:
    if s.cf_header:
        return "cf-mitigated: challenge"
    return "cloudflare challenge page" if s.cf_page else None


def _daily_quota(s: Signals) -> str | None:
    if "resource_exhausted" not in s.ids and s.status != 429:
        return None
    daily = next((q for q in s.error.quota_ids if "perday" in q.lower()), None)
    return f"{s.label or 'RESOURCE_EXHAUSTED'} ({daily})" if daily else None


def _client_fault(status: int) -> bool:
    # 0: an error inside a 2xx; 401/403/404/429 have their own meaning whatever the type says.
    return status == 0 or (400 <= status < 500 and status not in (401, 403, 404, 429))


QUOTA_CODES: Final = (
    "insufficient_quota",
    "credit_balance_exhausted",
    "organization_spend_limit_exceeded",
    "project_spend_limit_exceeded",
    "organization_usage_limit_exceeded",
    "insufficient_user_quota",
    "billing_hard_limit_reached",
    "pre_consume_token_quota_failed",
)
AUTH_CODES: Final = (
    "invalid_api_key",
    "account_deactivated",
    "authentication_error",
    "permission_error",
    "permission_denied",
    "unauthenticated",
    "unsupported_country_region_territory",
    "api_key_invalid",
    "api_key_expired",
    "forbidden",
    "failed_precondition",  # Gemini: free tier not offered in the region / billing not enabled
)
RATE_CODES: Final = (
    "rate_limit_exceeded",
    "rate_limit_error",
    "rate_limited",
    "slow_down",
    "resource_exhausted",
    "too_many_requests",
)
PAUSED_CODES: Final = ("channel_paused", "model_paused", "service_paused")
RETIRED_CODES: Final = ("model_not_found", "model_unavailable", "model_deprecated", "model_retired")
OVERLOAD_CODES: Final = (
    "server_is_overloaded",
    "unavailable",
    "overloaded",
    "overloaded_error",
    "engine_overloaded",
)
INVALID_REQUEST_CODES: Final = (
    "invalid_request_error",
    "invalid_request",  # Gemini Interactions API
    "invalid_type",
    "invalid_value",
    "invalid_argument",
    "invalid_parameter",
    "missing_required_parameter",
    "bad_request",
    "image_generation_user_error",
)
MODERATION_MARKS: Final = (
    "moderation",
    "safety",
    "unsafe",
    "sensitive",
    "content_policy",
    "content_filter",
    "raimediafiltered",
)
RISK_MARKS: Final = ("sentinel", "captcha", "unusual_activity")

# Text rules: read only when no code above matched.
RISK_TEXT: Final = (
    "风控",
    "疑似存在异常行为",
    "no available tokens",
    "failed to get sentinel token",
    "oai-did",
    "captcha",
    "unusual activity",
    "proof of work",
    "pow failed",
)
PAUSED_TEXT: Final = ("暂停", "temporarily paused")
OVERLOAD_TEXT: Final = ("负载已饱和", "无可用渠道", "overloaded", "high demand")
QUOTA_TEXT: Final = (
    "exceeded your current quota",
    "credit balance is too low",
    "已欠费",
    "余额不足",
    "额度不足",
)
AUTH_TEXT: Final = ("api key not valid", "api key expired", "incorrect api key", "invalid api key")
RETIRED_TEXT: Final = (
    "is no longer available",
    "is not found for api version",
    # Vertex AI: a publisher model that is gone (or never was) for this project.
    "or your project does not have access",
)
MODERATION_TEXT: Final = ("content policy", "realistic human", "safety system", "违规")

CLOUDFLARE_RULE: Final = Rule(Outcome.RISK_CONTROL, _cloudflare, "Cloudflare challenge")

# The table, in four literal parts so that a 2xx can be read against the text rules alone.
CODE_RULES: Final[tuple[Rule, ...]] = (
    # Anti-bot walls come first: behind one, every other signal is the wall's, not the API's.
    CLOUDFLARE_RULE,
    Rule(Outcome.RISK_CONTROL, _ids_containing(*RISK_MARKS), "sentinel_block, captcha, unusual"),
    Rule(
        Outcome.RISK_CONTROL,
        _both(_ids("invalid_request"), _text("unable to process request")),
        "sora2api: proof-of-work failed",
    ),
    Rule(Outcome.PAUSED, _ids(*PAUSED_CODES), "provider paused the channel"),
    Rule(Outcome.QUOTA_EXHAUSTED, _ids(*QUOTA_CODES), "OpenAI / new-api quota codes"),
    Rule(Outcome.QUOTA_EXHAUSTED, _daily_quota, "Google RESOURCE_EXHAUSTED on a PerDay quota"),
    Rule(Outcome.AUTH_FAILED, _ids(*AUTH_CODES), "key, permission or region codes"),
    Rule(
        Outcome.AUTH_FAILED,
        _both(_ids("invalid_argument"), _text(*AUTH_TEXT)),
        "Google 400 INVALID_ARGUMENT 'API key not valid' without ErrorInfo",
    ),
    Rule(Outcome.RATE_LIMITED, _ids(*RATE_CODES), "rate-limit codes"),
    Rule(Outcome.RATE_LIMITED, _on(_is(429), _ids("requests", "tokens")), "429 type"),
    Rule(Outcome.RETIRED, _on(_is(404), _ids(*RETIRED_CODES)), "404 model_not_found"),
    Rule(Outcome.RETIRED, _on(_is(404), _text(*RETIRED_TEXT)), "Google 404 'no longer available'"),
    Rule(Outcome.OVERLOADED, _ids(*OVERLOAD_CODES), "server_is_overloaded, UNAVAILABLE"),
    Rule(Outcome.REJECTED, _ids_containing(*MODERATION_MARKS), "content moderation codes"),
    Rule(Outcome.REJECTED, _on(_client_fault, _ids(*INVALID_REQUEST_CODES)), "bad request"),
)
STRONG_STATUS_RULES: Final[tuple[Rule, ...]] = (
    # Statuses that mean one thing whatever the body says.
    Rule(Outcome.AUTH_FAILED, _status(401, label="unauthorized"), "401"),
    Rule(Outcome.QUOTA_EXHAUSTED, _status(402, label="payment required"), "402"),
    Rule(Outcome.RETIRED, _status(410, label="gone"), "410 Gone"),
    Rule(Outcome.REJECTED, _status(451, label="unavailable for legal reasons"), "451"),
    Rule(Outcome.TIMEOUT, _status(408, label="request timeout"), "408"),
)
TEXT_RULES: Final[tuple[Rule, ...]] = (
    # Message text, read only where no code decided.
    Rule(Outcome.RISK_CONTROL, _text(*RISK_TEXT), "risk-control text"),
    Rule(Outcome.PAUSED, _text(*PAUSED_TEXT), "paused text"),
    Rule(Outcome.QUOTA_EXHAUSTED, _text(*QUOTA_TEXT), "quota text"),
    Rule(Outcome.OVERLOADED, _text(*OVERLOAD_TEXT), "overload / no channel text"),
    Rule(Outcome.AUTH_FAILED, _text(*AUTH_TEXT), "bad key text"),
    Rule(Outcome.REJECTED, _on(_client_fault, _text(*MODERATION_TEXT)), "moderation text"),
)
STATUS_RULES: Final[tuple[Rule, ...]] = (
    # The HTTP status alone.
    Rule(Outcome.AUTH_FAILED, _status(403, label="forbidden"), "403"),
    Rule(Outcome.BAD_RESPONSE, lambda s: "route not found" if s.status == 404 else None, "404"),
    Rule(Outcome.RATE_LIMITED, _status(429, label="too many requests"), "429"),
    Rule(Outcome.OVERLOADED, _status(503, label="service unavailable"), "503"),
    Rule(Outcome.SERVER_ERROR, _status_range(500, 600, "server error"), "other 5xx"),
    Rule(Outcome.REJECTED, _status_range(400, 500, "client error"), "other 4xx"),
)
RULES: Final[tuple[Rule, ...]] = (*CODE_RULES, *STRONG_STATUS_RULES, *TEXT_RULES, *STATUS_RULES)


def apply_rules(signals: Signals, rules: tuple[Rule, ...] = RULES) -> tuple[Rule, str] | None:
    """The first rule that matches, and the label it gives the detail."""
    for rule in rules:
        label = rule.match(signals)
        if label is not None:
            return rule, label
    return None


# --------------------------------------------------------------------------- classify

_CF_PAGE_MARKS: Final = (
    "<title>just a moment...</title>",
    "_cf_chl_opt",
    "/cdn-cgi/challenge-platform/",
)


def _signals(status: int, headers: Mapping[str, str], body: Body) -> Signals:
    cf_header = headers.get("cf-mitigated", "").strip().lower() == "challenge"
    cf_page = body.kind is BodyKind.HTML and any(m in body.text for m in _CF_PAGE_MARKS)
    return Signals(status, body.error or ErrorInfo(), body.text, cf_header, cf_page)


def _short(label: str) -> str:
    label = " ".join(label.split())
    return label if len(label) <= _MAX_LABEL else label[: _MAX_LABEL - 1] + "…"


@dataclass(frozen=True, slots=True)
class _Timing:
    retry_after_s: float | None
    deprecation: datetime | None
    sunset: datetime | None


def _timing(headers: Mapping[str, str], body: Body, now: datetime) -> _Timing:
    retry = retry_after_s(headers, now)
    if retry is None and body.error is not None:
        retry = body.error.retry_delay_s
    deprecation = (
        parse_deprecation(headers["deprecation"], now) if "deprecation" in headers else None
    )
    sunset = parse_sunset(headers["sunset"]) if "sunset" in headers else None
    return _Timing(retry, deprecation, sunset or body.sunset)


@dataclass(frozen=True, slots=True)
class _Decided:
    outcome: Outcome
    detail: str
    rule: Rule | None = None  # None: decided outside the table (transport, good answers, shape)


def _by_rules(signals: Signals, prefix: str, rules: tuple[Rule, ...] = RULES) -> _Decided | None:
    found = apply_rules(signals, rules)
    if found is None:
        return None
    rule, label = found
    return _Decided(rule.outcome, f"{prefix} {_short(label)}", rule)


def _good(
    status: int,
    body: Body,
    signals: Signals,
    latency_ms: float | None,
    slow_ms: float | None,
    sunset: datetime | None,
    now: datetime,
    expect_json: bool,
) -> _Decided:
    if (wall := _by_rules(signals, str(status), (CLOUDFLARE_RULE,))) is not None:
        return wall
    if body.error is not None and not body.job:
        # Judge the error as if it had come with its own status (0 when it names none).
        embedded = Signals(body.error.status or 0, body.error, signals.text)
        label = _short(body.error.label or "unrecognised error")
        prefix = f"{status} error in body:"
        return _by_rules(embedded, prefix) or _Decided(Outcome.BAD_RESPONSE, f"{prefix} {label}")
    if body.kind is BodyKind.BAD_JSON and status != 204:  # 204 has no body whatever it says
        return _Decided(Outcome.BAD_RESPONSE, f"{status} unparseable json")
    if body.kind is BodyKind.HTML and expect_json:
        return _Decided(Outcome.BAD_RESPONSE, f"{status} html instead of json")
    # A 2xx can still carry a reverse channel's failure as plain words.
    if (found := _by_rules(signals, str(status), TEXT_RULES)) is not None:
        return found
    if sunset is not None and sunset < now:
        return _Decided(Outcome.RETIRED, f"{status} sunset passed {sunset:%Y-%m-%d}")
    if slow_ms is not None and latency_ms is not None and latency_ms > slow_ms:
        return _Decided(Outcome.SLOW, f"{status} slow: {latency_ms:.0f} ms > {slow_ms:.0f} ms")
    return _Decided(Outcome.OK, f"{status} ok")


def _transport(exchange: Exchange) -> tuple[Outcome, str]:
    what = exchange.error_text.strip()
    if exchange.transport_error is TransportError.TIMEOUT:
        if exchange.latency_ms is not None:
            return Outcome.TIMEOUT, f"timeout after {exchange.latency_ms:.0f} ms"
        return Outcome.TIMEOUT, "timeout"
    if exchange.transport_error is TransportError.CONNECT:
        return Outcome.CONNECT_ERROR, f"connect error: {what}" if what else "connect error"
    return Outcome.BAD_RESPONSE, f"protocol error: {what}" if what else "protocol error"


def classify(
    exchange: Exchange,
    *,
    slow_ms: float | None = None,
    now: datetime | None = None,
    expect_json: bool = True,
    secrets: Iterable[str] = (),
) -> Verdict:
    """The outcome of one exchange, with a short redacted detail and the hints it carried.

    ``slow_ms``: a good answer slower than this is ``slow``. ``now``: for HTTP-dates and
    ``Sunset`` (defaults to the clock). ``expect_json=False`` is for plain URL checks, where an
    HTML page on 200 is the right answer. ``secrets`` are removed from the detail on top of the
    generic credential patterns.
    """
    return explain(exchange, slow_ms=slow_ms, now=now, expect_json=expect_json, secrets=secrets)[0]


def explain(
    exchange: Exchange,
    *,
    slow_ms: float | None = None,
    now: datetime | None = None,
    expect_json: bool = True,
    secrets: Iterable[str] = (),
) -> tuple[Verdict, Rule | None]:
    """``classify``, plus the rule of ``RULES`` that decided (None when no rule was needed)."""
    now = now or datetime.now(UTC)
    secrets = tuple(secrets)
    if exchange.transport_error is not None:
        outcome, detail = _transport(exchange)
        return Verdict(outcome, redact(detail[:200], secrets)), None
    if exchange.status is None:  # breaks Exchange's contract; still a fact, not a crash
        return Verdict(Outcome.BAD_RESPONSE, "no HTTP status"), None
    status = exchange.status
    headers = {k.lower(): v for k, v in exchange.headers.items()}
    body = read_body(exchange.body, headers.get("content-type", ""))
    signals = _signals(status, headers, body)
    timing = _timing(headers, body, now)
    if 200 <= status < 300:
        decided = _good(
            status, body, signals, exchange.latency_ms, slow_ms, timing.sunset, now, expect_json
        )
    else:
        decided = _by_rules(signals, str(status)) or _Decided(
            Outcome.BAD_RESPONSE, f"{status} unexpected status"
        )
    error = body.error or ErrorInfo()
    verdict = Verdict(
        outcome=decided.outcome,
        detail=redact(decided.detail, secrets),
        error_type=error.type or error.google_status,
        error_code=error.code or next(iter(error.reasons), None),
        retry_after_s=timing.retry_after_s,
        deprecation=timing.deprecation,
        sunset=timing.sunset,
    )
    return verdict, decided.rule


# --------------------------------------------------------------------------- failed jobs

_RISK_JOB_MARKS: Final = ("sentinel", "captcha", "unusual_activity", "风控", "异常行为")
_MODERATION_JOB_TEXT: Final = (
    "moderation",
    "safety",
    "unsafe",
    "sensitive",
    "content policy",
    "realistic human",
    "违规",
)


def classify_job_failure(error_code: str | None, error_message: str | None) -> Outcome:
    """The outcome of a job that was accepted and ended ``failed`` (a 200 on retrieve).

    Moderation is the caller's fault (``rejected``); an anti-bot block on a reverse channel says
    the channel is under risk control; anything else is the channel's ``job_failed``. The code
    decides when there is one; the message only when there is none.
    """
    code = (error_code or "").strip().lower()
    if code:
        if any(m in code for m in RISK_MARKS):
            return Outcome.RISK_CONTROL
        moderation = any(m in code for m in MODERATION_MARKS)
        return Outcome.REJECTED if moderation else Outcome.JOB_FAILED
    text = (error_message or "").lower()
    if any(m in text for m in _RISK_JOB_MARKS):
        return Outcome.RISK_CONTROL
    if any(m in text for m in _MODERATION_JOB_TEXT):
        return Outcome.REJECTED
    return Outcome.JOB_FAILED
