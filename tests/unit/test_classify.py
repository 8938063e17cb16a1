"""classify: every real body and header of the upstream-protocols reference, one row each."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sorawatch.domain.classify import RULES, classify, classify_job_failure, explain
from sorawatch.domain.observation import Exchange, TransportError, Verdict
from sorawatch.domain.outcome import Outcome

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SLOW_MS = 8000.0

JSON_CT = {"content-type": "application/json"}
HTML_CT = {"content-type": "text/html; charset=UTF-8"}
SSE_CT = {"content-type": "text/event-stream"}


def ex(
    status: int,
    body: object = b"",
    headers: Mapping[str, str] | None = None,
    latency_ms: float = 350.0,
) -> Exchange:
    """An exchange; a dict or list body is sent as JSON with a JSON content type."""
    all_headers = dict(headers or {})
    if isinstance(body, dict | list):
        raw = json.dumps(body, ensure_ascii=False).encode()
        all_headers.setdefault("content-type", "application/json")
    elif isinstance(body, str):
        raw = body.encode()
    else:
        assert isinstance(body, bytes)
        raw = body
    return Exchange(
        "POST", "https://api.example.test/v1/videos", status, all_headers, raw, latency_ms
    )


def openai_error(
    message: str, type_: str | None, code: str | None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def google_error(
    code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, object] = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = details
    return {"error": error}


def sse(*events: object) -> str:
    lines = [f"data: {json.dumps(e, ensure_ascii=False)}\n\n" for e in events]
    return "".join(lines) + "data: [DONE]\n\n"


def chat_chunk(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "sora-2",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
    }


VIDEO = {
    "id": "video_69b131ea03548190925a6a06febf993b",
    "object": "video",
    "model": "sora-2",
    "status": "queued",
    "progress": 0,
    "created_at": 1764000000,
    "completed_at": None,
    "expires_at": None,
    "prompt": "a cat on a skateboard",
    "remixed_from_video_id": None,
    "seconds": "4",
    "size": "720x1280",
    "error": None,
}
FAILED_VIDEO = VIDEO | {
    "status": "failed",
    "progress": 0,
    "error": {"code": "moderation_blocked", "message": "Your request was blocked."},
}
CF_PAGE = (
    '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
    '<meta http-equiv="refresh" content="390"></head><body><script>'
    "(function(){window._cf_chl_opt={cvId: '3',cZone: 'sora.chatgpt.com',cType: 'managed'};"
    "var a=document.createElement('script');a.src='/cdn-cgi/challenge-platform/h/g/orchestrate/"
    "chl_page/v1?ray=8f1b2c3d4e5f6a7b';document.getElementsByTagName('head')[0].appendChild(a);"
    "}());</script></body></html>"
)
CF_HEADERS = {
    "cf-mitigated": "challenge",
    "server": "cloudflare",
    "cf-ray": "8f1b2c3d4e5f6a7b-SJC",
    "content-type": "text/html; charset=UTF-8",
}
SENTINEL = openai_error(
    "Hmmm something didn't look right with your request. Please try again later or visit "
    "https://help.openai.com if this issue persists.",
    "invalid_request_error",
    "sentinel_block",
)
NO_TOKENS = (
    "No available tokens for video generation. All tokens are either disabled, cooling down, "
    "Sora2 quota exhausted, don't support Sora2, or expired."
)
SATURATED = "当前分组上游负载已饱和，请稍后再试"
PAUSED_BODY = openai_error(
    "This channel is temporarily paused by the provider (渠道已暂停)",
    "service_unavailable_error",
    "channel_paused",
)
GOOGLE_KEY_INVALID = google_error(
    400,
    "INVALID_ARGUMENT",
    "API key not valid. Please pass a valid API key.",
    [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        }
    ],
)


def google_429(quota_id: str) -> dict[str, Any]:
    return google_error(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_requests",
                        "quotaId": quota_id,
                        "quotaDimensions": {"model": "veo-3.1-generate-preview"},
                        "quotaValue": "10",
                    }
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "19s"},
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED"},
        ],
    )


# (exchange, expected outcome, a fragment the detail must contain)
CASES = [
    # ---- no HTTP answer
    pytest.param(
        Exchange(
            "GET", "https://u", None, latency_ms=15000.0, transport_error=TransportError.TIMEOUT
        ),
        Outcome.TIMEOUT,
        "timeout after 15000 ms",
        id="transport-timeout",
    ),
    pytest.param(
        Exchange(
            "GET",
            "https://u",
            None,
            transport_error=TransportError.CONNECT,
            error_text="ConnectError: [Errno 111] Connection refused",
        ),
        Outcome.CONNECT_ERROR,
        "Connection refused",
        id="transport-connect-refused",
    ),
    pytest.param(
        Exchange("GET", "https://u", None, transport_error=TransportError.PROTOCOL),
        Outcome.BAD_RESPONSE,
        "protocol error",
        id="transport-protocol",
    ),
    # ---- good answers
    pytest.param(ex(200, VIDEO), Outcome.OK, "200 ok", id="openai-video-queued"),
    pytest.param(
        ex(200, VIDEO, latency_ms=9100.0), Outcome.SLOW, "9100 ms", id="openai-video-slow"
    ),
    pytest.param(
        ex(200, FAILED_VIDEO), Outcome.OK, "200 ok", id="openai-failed-job-is-a-good-answer"
    ),
    pytest.param(
        ex(200, {"data": [VIDEO], "object": "list", "has_more": False, "last_id": VIDEO["id"]}),
        Outcome.OK,
        "200 ok",
        id="openai-video-list",
    ),
    pytest.param(
        ex(
            200,
            {
                "name": "models/veo-3.1-generate-preview/operations/abc123",
                "done": True,
                "error": {"code": 3, "message": "Unsupported aspect ratio"},
            },
        ),
        Outcome.OK,
        "200 ok",
        id="google-operation-failed-is-a-good-answer",
    ),
    pytest.param(
        ex(
            200,
            {
                "name": "models/veo-3.1-generate-preview/operations/abc123",
                "done": True,
                "response": {
                    "generateVideoResponse": {
                        "raiMediaFilteredCount": 1,
                        "raiMediaFilteredReasons": ["Unable to generate: person detected"],
                    }
                },
            },
        ),
        Outcome.OK,
        "200 ok",
        id="google-operation-safety-block",
    ),
    pytest.param(
        ex(
            200,
            {
                "code": "success",
                "message": "",
                "data": {"id": "task_abc", "task_id": "task_abc", "status": "queued"},
            },
        ),
        Outcome.OK,
        "200 ok",
        id="newapi-flat-success",
    ),
    pytest.param(
        ex(
            202,
            {"id": "job_1", "polling_url": "https://o/api/v1/videos/job_1", "status": "pending"},
        ),
        Outcome.OK,
        "202 ok",
        id="openrouter-202-pending",
    ),
    pytest.param(
        ex(200, b"\x00\x00\x00\x18ftypmp42", {"content-type": "video/mp4"}),
        Outcome.OK,
        "200 ok",
        id="video-bytes",
    ),
    pytest.param(
        ex(200, VIDEO, {"deprecation": "@1767225600", "sunset": "Thu, 31 Dec 2026 23:59:59 GMT"}),
        Outcome.OK,
        "200 ok",
        id="deprecated-but-sunset-ahead",
    ),
    pytest.param(
        ex(200, VIDEO, {"sunset": "Wed, 31 Dec 2025 23:59:59 GMT"}),
        Outcome.RETIRED,
        "sunset passed 2025-12-31",
        id="sunset-passed-on-good-answer",
    ),
    # ---- not the JSON expected on 2xx
    pytest.param(
        ex(200, "<!doctype html><html><body>Welcome</body></html>", HTML_CT),
        Outcome.BAD_RESPONSE,
        "html instead of json",
        id="html-page-on-200",
    ),
    pytest.param(
        ex(200, '{"id": "video_1", "status": "que', JSON_CT),
        Outcome.BAD_RESPONSE,
        "unparseable json",
        id="truncated-json-on-200",
    ),
    pytest.param(
        ex(200, b"", JSON_CT), Outcome.BAD_RESPONSE, "unparseable json", id="empty-json-on-200"
    ),
    pytest.param(ex(204, b"", JSON_CT), Outcome.OK, "204 ok", id="no-content-204"),
    pytest.param(
        ex(200, {"code": 10000, "message": "Success", "data": {"task_id": "7392"}}),
        Outcome.OK,
        "200 ok",
        id="volcengine-visual-success-code-10000",
    ),
    pytest.param(
        ex(
            200,
            VIDEO
            | {
                "status": "failed",
                "error": {"code": "generation_failed", "message": "疑似存在异常行为"},
            },
        ),
        Outcome.OK,
        "200 ok",
        id="failed-job-words-are-the-job-s-not-the-answer-s",
    ),
    pytest.param(
        ex(500, FAILED_VIDEO | {"error": {"code": "server_is_overloaded", "message": "busy"}}),
        Outcome.OVERLOADED,
        "500 server_is_overloaded",
        id="job-shaped-error-on-5xx-still-counts",
    ),
    pytest.param(
        ex(200, {"error": {"message": "something odd", "type": "weird_error"}}),
        Outcome.BAD_RESPONSE,
        "error in body: weird_error",
        id="unknown-error-inside-200",
    ),
    pytest.param(
        ex(
            200,
            {
                "message": "视频生成失败: 视频URL为空",
                "type": "server_error",
                "code": "generation_failed",
                "status_code": 502,
            },
        ),
        Outcome.SERVER_ERROR,
        "error in body: generation_failed",
        id="flow2api-flat-error-inside-200-with-status",
    ),
    # ---- Cloudflare
    pytest.param(
        ex(403, CF_PAGE, CF_HEADERS),
        Outcome.RISK_CONTROL,
        "403 cf-mitigated: challenge",
        id="cloudflare-403-challenge",
    ),
    pytest.param(
        ex(429, CF_PAGE, CF_HEADERS),
        Outcome.RISK_CONTROL,
        "429 cf-mitigated: challenge",
        id="cloudflare-429-challenge",
    ),
    pytest.param(
        ex(503, CF_PAGE, HTML_CT),
        Outcome.RISK_CONTROL,
        "cloudflare challenge page",
        id="cloudflare-503-page-without-header",
    ),
    pytest.param(
        ex(200, CF_PAGE, HTML_CT),
        Outcome.RISK_CONTROL,
        "cloudflare challenge page",
        id="cloudflare-page-on-200",
    ),
    # ---- other anti-bot / risk control
    pytest.param(
        ex(400, SENTINEL), Outcome.RISK_CONTROL, "sentinel_block", id="sora2api-400-sentinel"
    ),
    pytest.param(
        ex(200, sse(SENTINEL), SSE_CT),
        Outcome.RISK_CONTROL,
        "error in body: sentinel_block",
        id="sora2api-sentinel-inside-200-sse",
    ),
    pytest.param(
        ex(200, SENTINEL),
        Outcome.RISK_CONTROL,
        "error in body: sentinel_block",
        id="sora2api-sentinel-inside-200-json",
    ),
    pytest.param(
        ex(200, sse(chat_chunk("❌ " + NO_TOKENS)), SSE_CT),
        Outcome.RISK_CONTROL,
        "no available tokens",
        id="sora2api-no-tokens-in-sse-chat-chunk",
    ),
    pytest.param(
        ex(503, openai_error(NO_TOKENS, "server_error", None)),
        Outcome.RISK_CONTROL,
        "no available tokens",
        id="sora2api-no-tokens-503",
    ),
    pytest.param(
        ex(
            400,
            openai_error("Unable to process request", "invalid_request_error", "invalid_request"),
        ),
        Outcome.RISK_CONTROL,
        "unable to process request",
        id="sora2api-pow-failed",
    ),
    pytest.param(
        ex(500, openai_error("Failed to get sentinel token", "server_error", None)),
        Outcome.RISK_CONTROL,
        "failed to get sentinel token",
        id="sora2api-sentinel-token-text",
    ),
    pytest.param(
        ex(
            403,
            "403 Forbidden - Access denied when fetching oai-did",
            {"content-type": "text/plain"},
        ),
        Outcome.RISK_CONTROL,
        "oai-did",
        id="sora2api-oai-did-403",
    ),
    pytest.param(
        ex(
            403,
            google_error(
                403,
                "PERMISSION_DENIED",
                "The caller does not have permission",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "PUBLIC_ERROR_UNUSUAL_ACTIVITY",
                        "domain": "aisandbox-pa.googleapis.com",
                    }
                ],
            ),
        ),
        Outcome.RISK_CONTROL,
        "PUBLIC_ERROR_UNUSUAL_ACTIVITY",
        id="flow2api-unusual-activity-beats-permission",
    ),
    pytest.param(
        ex(403, openai_error("reCAPTCHA evaluation failed", "upstream_error", None)),
        Outcome.RISK_CONTROL,
        "captcha",
        id="flow2api-recaptcha-text",
    ),
    pytest.param(
        ex(
            500,
            {
                "code": -2001,
                "message": "[请求jimeng失败]: ret=4013 生成失败，疑似存在异常行为，请重新尝试",
                "data": None,
            },
        ),
        Outcome.RISK_CONTROL,
        "疑似存在异常行为",
        id="jimeng-4013-abnormal-behaviour",
    ),
    pytest.param(
        ex(200, {"ret": "4013", "errmsg": "生成失败，疑似存在异常行为，请重新尝试", "data": None}),
        Outcome.RISK_CONTROL,
        "疑似存在异常行为",
        id="jimeng-web-ret-4013-in-200",
    ),
    pytest.param(
        ex(200, sse(chat_chunk("生成失败：账号触发风控，请稍后再试")), SSE_CT),
        Outcome.RISK_CONTROL,
        "风控",
        id="reverse-fengkong-in-200-chat",
    ),
    # ---- rate limits
    pytest.param(
        ex(
            429,
            openai_error(
                "Rate limit reached for requests in organization org-x on requests per min (RPM).",
                "requests",
                "rate_limit_exceeded",
            ),
            {"retry-after": "20", "x-ratelimit-reset-requests": "6m0s"},
        ),
        Outcome.RATE_LIMITED,
        "429 rate_limit_exceeded",
        id="openai-429-rate-limit-exceeded",
    ),
    pytest.param(
        ex(429, openai_error("Please slow down.", "rate_limit_error", "slow_down")),
        Outcome.RATE_LIMITED,
        "429 slow_down",
        id="openai-429-slow-down",
    ),
    pytest.param(
        ex(429, openai_error("Rate limit reached for tokens", "tokens", None)),
        Outcome.RATE_LIMITED,
        "429 tokens",
        id="openai-429-type-tokens-no-code",
    ),
    pytest.param(ex(429), Outcome.RATE_LIMITED, "429 too many requests", id="plain-429"),
    pytest.param(
        ex(429, google_429("GenerateRequestsPerMinutePerProjectPerModel")),
        Outcome.RATE_LIMITED,
        "429 RESOURCE_EXHAUSTED",
        id="google-429-per-minute",
    ),
    # ---- quota
    pytest.param(
        ex(
            429,
            openai_error(
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                "insufficient_quota",
            ),
        ),
        Outcome.QUOTA_EXHAUSTED,
        "429 insufficient_quota",
        id="openai-429-insufficient-quota",
    ),
    pytest.param(
        ex(
            429,
            openai_error(
                "Your credit balance is too low.", "insufficient_quota", "credit_balance_exhausted"
            ),
        ),
        Outcome.QUOTA_EXHAUSTED,
        "credit_balance_exhausted",
        id="openai-429-credit-balance-exhausted",
    ),
    pytest.param(
        ex(
            429,
            openai_error(
                "Spend limit reached.", "insufficient_quota", "organization_spend_limit_exceeded"
            ),
        ),
        Outcome.QUOTA_EXHAUSTED,
        "organization_spend_limit_exceeded",
        id="openai-429-org-spend-limit",
    ),
    pytest.param(
        ex(429, openai_error("Project spend limit reached.", None, "project_spend_limit_exceeded")),
        Outcome.QUOTA_EXHAUSTED,
        "project_spend_limit_exceeded",
        id="openai-429-project-spend-limit",
    ),
    pytest.param(
        ex(
            429,
            openai_error(
                f"{SATURATED} (request id: 20251124120000123456789)",
                "insufficient_quota",
                "insufficient_user_quota",
            ),
        ),
        Outcome.QUOTA_EXHAUSTED,
        "insufficient_user_quota",
        id="newapi-saturated-text-with-insufficient-quota-type",
    ),
    pytest.param(
        ex(429, google_429("GenerateRequestsPerDayPerProjectPerModel")),
        Outcome.QUOTA_EXHAUSTED,
        "PerDay",
        id="google-429-per-day-quota",
    ),
    pytest.param(
        ex(402, {"detail": "Payment Required"}), Outcome.QUOTA_EXHAUSTED, "402", id="http-402"
    ),
    # ---- overload
    pytest.param(
        ex(
            429,
            openai_error(
                f"{SATURATED} (request id: 20251124120000123456789)", "new_api_error", None
            ),
        ),
        Outcome.OVERLOADED,
        "负载已饱和",
        id="newapi-saturated-text-without-quota-code",
    ),
    pytest.param(
        ex(429, {"code": "do_request_failed", "message": SATURATED, "data": None}),
        Outcome.OVERLOADED,
        "负载已饱和",
        id="newapi-task-flat-saturated",
    ),
    pytest.param(
        ex(
            404,
            {
                "code": "fail_to_fetch_task",
                "message": json.dumps(
                    openai_error(
                        "The model `sora-2` does not exist or you do not have access to it.",
                        "invalid_request_error",
                        "model_not_found",
                    )
                ),
                "data": None,
            },
        ),
        Outcome.RETIRED,
        "404 model_not_found",
        id="newapi-fail-to-fetch-task-relays-upstream-model-not-found",
    ),
    pytest.param(
        ex(
            400,
            {
                "code": "fail_to_fetch_task",
                "message": json.dumps(SENTINEL),
                "data": None,
            },
        ),
        Outcome.RISK_CONTROL,
        "sentinel_block",
        id="newapi-fail-to-fetch-task-relays-upstream-sentinel-block",
    ),
    pytest.param(
        ex(
            429,
            {
                "description": "当前分组负载已饱和，请稍后再试，或升级账户以提升服务质量。",
                "type": "upstream_error",
                "code": 4,
            },
        ),
        Outcome.OVERLOADED,
        "负载已饱和",
        id="newapi-midjourney-saturated",
    ),
    pytest.param(
        ex(
            503,
            openai_error(
                "Our servers are currently overloaded. Please try again later.",
                "service_unavailable_error",
                "server_is_overloaded",
            ),
            {"retry-after": "7"},
        ),
        Outcome.OVERLOADED,
        "503 server_is_overloaded",
        id="openai-503-server-is-overloaded",
    ),
    pytest.param(
        ex(
            503,
            google_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        ),
        Outcome.OVERLOADED,
        "503 UNAVAILABLE",
        id="google-503-unavailable",
    ),
    pytest.param(
        ex(
            503,
            openai_error(
                "当前分组 default 下对于模型 sora-2 无可用渠道 (request id: 2025112412)",
                "new_api_error",
                None,
            ),
        ),
        Outcome.OVERLOADED,
        "无可用渠道",
        id="newapi-503-no-channel",
    ),
    pytest.param(
        ex(
            503,
            openai_error(
                "当前分组 vip 下对于模型 sora-2-pro 无可用渠道", "new_api_error", "model_not_found"
            ),
        ),
        Outcome.OVERLOADED,
        "无可用渠道",
        id="newapi-503-no-channel-model-not-found-is-not-retired",
    ),
    pytest.param(
        ex(503, "Service Unavailable", {"content-type": "text/plain"}),
        Outcome.OVERLOADED,
        "503",
        id="plain-503",
    ),
    # ---- paused
    pytest.param(
        ex(503, PAUSED_BODY), Outcome.PAUSED, "503 channel_paused", id="sim-503-channel-paused"
    ),
    pytest.param(
        ex(500, openai_error("model paused", "server_error", "model_paused")),
        Outcome.PAUSED,
        "model_paused",
        id="model-paused-code",
    ),
    pytest.param(
        ex(500, {"code": -1, "message": "该接口已暂停使用", "data": None}),
        Outcome.PAUSED,
        "暂停",
        id="paused-chinese-text-no-known-code",
    ),
    pytest.param(
        ex(500, "This interface is temporarily paused", {"content-type": "text/plain"}),
        Outcome.PAUSED,
        "temporarily paused",
        id="paused-english-text",
    ),
    # ---- auth
    pytest.param(
        ex(
            401,
            openai_error(
                "Incorrect API key provided: sk-proj-abcdefghijklmnop1234. You can find your API "
                "key at https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
            ),
        ),
        Outcome.AUTH_FAILED,
        "401 invalid_api_key",
        id="openai-401-invalid-api-key",
    ),
    pytest.param(
        ex(
            403,
            openai_error(
                "Country, region, or territory not supported",
                "request_forbidden",
                "unsupported_country_region_territory",
            ),
        ),
        Outcome.AUTH_FAILED,
        "unsupported_country_region_territory",
        id="openai-403-unsupported-region",
    ),
    pytest.param(
        ex(
            403,
            openai_error("You are not allowed to sample from this model", "permission_error", None),
        ),
        Outcome.AUTH_FAILED,
        "permission_error",
        id="oneapi-403-permission-error",
    ),
    pytest.param(
        ex(
            401,
            openai_error(
                "Your account has been deactivated.", "invalid_request_error", "account_deactivated"
            ),
        ),
        Outcome.AUTH_FAILED,
        "account_deactivated",
        id="openai-401-account-deactivated",
    ),
    pytest.param(ex(401), Outcome.AUTH_FAILED, "401 unauthorized", id="plain-401"),
    pytest.param(
        ex(400, GOOGLE_KEY_INVALID),
        Outcome.AUTH_FAILED,
        "API_KEY_INVALID",
        id="google-400-api-key-invalid",
    ),
    pytest.param(
        ex(
            400,
            google_error(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."
            ),
        ),
        Outcome.AUTH_FAILED,
        "api key not valid",
        id="google-400-api-key-text-without-errorinfo",
    ),
    pytest.param(
        ex(403, google_error(403, "PERMISSION_DENIED", "Permission denied on resource project x.")),
        Outcome.AUTH_FAILED,
        "PERMISSION_DENIED",
        id="google-403-permission-denied",
    ),
    pytest.param(
        ex(
            400,
            google_error(
                400,
                "FAILED_PRECONDITION",
                "Gemini API free tier is not available in your country. "
                "Please enable billing on your project in Google AI Studio.",
            ),
        ),
        Outcome.AUTH_FAILED,
        "FAILED_PRECONDITION",
        id="google-400-failed-precondition",
    ),
    # ---- retired
    pytest.param(
        ex(
            404,
            openai_error(
                "The model `sora-2` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
            ),
        ),
        Outcome.RETIRED,
        "404 model_not_found",
        id="openai-404-model-not-found",
    ),
    pytest.param(
        ex(
            404,
            google_error(
                404,
                "NOT_FOUND",
                "models/veo-3.1-generate-preview is not found for API version v1beta, or is not "
                "supported for predictLongRunning.",
            ),
        ),
        Outcome.RETIRED,
        "is not found for api version",
        id="google-404-not-found-for-api-version",
    ),
    pytest.param(
        ex(
            404,
            google_error(
                404, "NOT_FOUND", "Model veo-3.1-fast-generate-preview is no longer available."
            ),
        ),
        Outcome.RETIRED,
        "is no longer available",
        id="google-404-no-longer-available",
    ),
    pytest.param(
        ex(
            404,
            google_error(
                404,
                "NOT_FOUND",
                "Publisher Model `projects/p/locations/us-central1/publishers/google/models/"
                "veo-3.0-generate-001` was not found or your project does not have access to it. "
                "Please ensure you are using a valid model version.",
            ),
        ),
        Outcome.RETIRED,
        "or your project does not have access",
        id="vertex-404-publisher-model-not-found",
    ),
    pytest.param(
        ex(
            410,
            {
                "error": "model_unavailable",
                "reason": "deprecated",
                "message": "This model has been deprecated and is no longer available.",
                "sunset_date": "2026-04-27",
                "replacement": "krea-2",
                "migration_url": "https://docs.krea.ai/developers/deprecations",
            },
        ),
        Outcome.RETIRED,
        "410 model_unavailable",
        id="krea-410-gone",
    ),
    pytest.param(
        ex(404, openai_error("Invalid URL (POST /v1/videos)", "invalid_request_error", None)),
        Outcome.BAD_RESPONSE,
        "404 route not found",
        id="openai-404-invalid-url",
    ),
    pytest.param(
        ex(
            404,
            openai_error(
                "Invalid URL (GET /v1/videos/video_1)", "invalid_request_error", None, None
            ),
        ),
        Outcome.BAD_RESPONSE,
        "route not found",
        id="newapi-404-invalid-url",
    ),
    # ---- server errors
    pytest.param(
        ex(
            500,
            openai_error(
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                None,
            ),
        ),
        Outcome.SERVER_ERROR,
        "500 server_error",
        id="openai-500-server-error",
    ),
    pytest.param(
        ex(
            502,
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            HTML_CT,
        ),
        Outcome.SERVER_ERROR,
        "502",
        id="nginx-502-html",
    ),
    pytest.param(
        ex(500, google_error(500, "INTERNAL", "An internal error has occurred.")),
        Outcome.SERVER_ERROR,
        "500 INTERNAL",
        id="google-500-internal",
    ),
    pytest.param(
        ex(
            504,
            google_error(
                504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."
            ),
        ),
        Outcome.SERVER_ERROR,
        "DEADLINE_EXCEEDED",
        id="google-504-deadline-exceeded",
    ),
    pytest.param(ex(408), Outcome.TIMEOUT, "408", id="http-408"),
    # ---- rejected: the caller's fault
    pytest.param(
        ex(
            400,
            openai_error(
                "Invalid type for 'seconds': expected one of '4', '8', or '12', "
                "but got an integer instead.",
                "invalid_request_error",
                "invalid_type",
                "seconds",
            ),
        ),
        Outcome.REJECTED,
        "400 invalid_type",
        id="openai-400-seconds-invalid-type",
    ),
    pytest.param(
        ex(
            400,
            openai_error(
                "Invalid type for 'input_reference': expected a file, but got a string instead.",
                "invalid_request_error",
                "invalid_type",
                "input_reference",
            ),
        ),
        Outcome.REJECTED,
        "invalid_type",
        id="openai-400-input-reference-invalid-type",
    ),
    pytest.param(
        ex(
            400,
            openai_error(
                "Invalid value: '4k'. Supported values are: '720x1280'…",
                "invalid_request_error",
                "invalid_value",
                "size",
            ),
        ),
        Outcome.REJECTED,
        "invalid_value",
        id="openai-400-invalid-value",
    ),
    pytest.param(
        ex(
            400,
            {
                "error": {
                    "message": "Your request was rejected as a result of our safety system.",
                    "type": "image_generation_user_error",
                    "param": None,
                    "code": "moderation_blocked",
                    "moderation_details": {"moderation_stage": "input"},
                }
            },
        ),
        Outcome.REJECTED,
        "moderation_blocked",
        id="openai-400-moderation-blocked",
    ),
    pytest.param(
        ex(400, google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")),
        Outcome.REJECTED,
        "INVALID_ARGUMENT",
        id="google-400-invalid-argument",
    ),
    pytest.param(
        ex(
            400,
            {"error": {"code": "invalid_request", "message": "duration must be between 3 and 10"}},
        ),
        Outcome.REJECTED,
        "invalid_request",
        id="gemini-interactions-invalid-request",
    ),
    pytest.param(
        ex(451, {"code": "video_unsafe", "msg": "The generated video was flagged as unsafe."}),
        Outcome.REJECTED,
        "451",
        id="cqtai-451-video-unsafe",
    ),
    pytest.param(
        ex(
            400,
            {
                "error": {
                    "code": "InputImageSensitiveContentDetected.PrivacyInformation",
                    "message": "The request failed because the input image may contain "
                    "real person. Request id: 0217",
                    "type": "BadRequest",
                }
            },
        ),
        Outcome.REJECTED,
        "InputImageSensitiveContentDetected",
        id="seedance-input-image-sensitive",
    ),
    pytest.param(
        ex(409, openai_error("Conflict", "invalid_request_error", None)),
        Outcome.REJECTED,
        "409",
        id="http-409",
    ),
    pytest.param(
        ex(422, {"detail": [{"loc": ["body", "prompt"], "msg": "field required"}]}),
        Outcome.REJECTED,
        "422",
        id="http-422",
    ),
    pytest.param(ex(451), Outcome.REJECTED, "451 unavailable for legal reasons", id="plain-451"),
    pytest.param(
        ex(400, openai_error("Upload may depict a realistic human.", "upstream_error", None)),
        Outcome.REJECTED,
        "realistic human",
        id="sora2api-realistic-human-text",
    ),
    # ---- only words to go by
    pytest.param(
        ex(
            400,
            {
                "code": "fail_to_submit",
                "message": "You exceeded your current quota, "
                "please check your plan and billing details.",
                "data": None,
            },
        ),
        Outcome.QUOTA_EXHAUSTED,
        "exceeded your current quota",
        id="relay-quota-text-unknown-code",
    ),
    pytest.param(
        ex(
            500,
            {"code": "-1", "message": "upstream: API key not valid. Please pass a valid API key."},
        ),
        Outcome.AUTH_FAILED,
        "api key not valid",
        id="relay-bad-key-text-unknown-code",
    ),
    pytest.param(
        ex(403, {"detail": "Forbidden"}), Outcome.AUTH_FAILED, "403 forbidden", id="plain-403"
    ),
    # ---- nothing we know
    pytest.param(
        ex(302, "", {"location": "https://login.example.test/"}),
        Outcome.BAD_RESPONSE,
        "302",
        id="redirect-to-login",
    ),
]


@pytest.mark.parametrize(("exchange", "outcome", "detail"), CASES)
def test_classify_table(exchange: Exchange, outcome: Outcome, detail: str) -> None:
    verdict = classify(exchange, slow_ms=SLOW_MS, now=NOW)
    assert verdict.outcome is outcome, verdict
    assert detail.lower() in verdict.detail.lower(), verdict.detail


def test_table_covers_every_outcome() -> None:
    seen = {p.values[1] for p in CASES} | {o for *_, o in JOB_FAILURES}
    assert seen == set(Outcome)


def test_every_rule_is_exercised_by_the_table() -> None:
    exchanges = [case.values[0] for case in CASES]
    assert all(isinstance(e, Exchange) for e in exchanges)
    deciding = {
        explain(e, slow_ms=SLOW_MS, now=NOW)[1] for e in exchanges if isinstance(e, Exchange)
    }
    unused = [rule.why for rule in RULES if rule not in deciding]
    assert unused == [], unused


# ---- hints carried by the answer


def test_retry_after_seconds_header() -> None:
    v = classify(ex(429, headers={"retry-after": "20"}), now=NOW)
    assert v.retry_after_s == 20.0


def test_retry_after_ms_wins_over_retry_after() -> None:
    v = classify(ex(429, headers={"retry-after": "2", "retry-after-ms": "1500"}), now=NOW)
    assert v.retry_after_s == 1.5


def test_retry_after_http_date() -> None:
    when = "Tue, 24 Nov 2026 12:01:30 GMT"
    v = classify(ex(503, headers={"retry-after": when}), now=NOW)
    assert v.retry_after_s == 90.0


def test_retry_after_http_date_in_the_past_is_zero() -> None:
    v = classify(ex(503, headers={"retry-after": "Mon, 23 Nov 2026 12:00:00 GMT"}), now=NOW)
    assert v.retry_after_s == 0.0


def test_google_retry_info_delay() -> None:
    v = classify(ex(429, google_429("GenerateRequestsPerMinutePerProjectPerModel")), now=NOW)
    assert v.retry_after_s == 19.0
    assert (v.error_type, v.error_code) == ("RESOURCE_EXHAUSTED", "RATE_LIMIT_EXCEEDED")


def test_header_retry_after_wins_over_body_retry_info() -> None:
    body = google_429("GenerateRequestsPerMinutePerProjectPerModel")
    v = classify(ex(429, body, {"retry-after": "3"}), now=NOW)
    assert v.retry_after_s == 3.0


def test_garbage_retry_after_is_ignored() -> None:
    assert classify(ex(429, headers={"retry-after": "soon"}), now=NOW).retry_after_s is None


def test_deprecation_rfc9745_and_sunset() -> None:
    v = classify(
        ex(200, VIDEO, {"deprecation": "@1767225600", "sunset": "Thu, 31 Dec 2026 23:59:59 GMT"}),
        now=NOW,
    )
    assert v.deprecation == datetime(2026, 1, 1, tzinfo=UTC)
    assert v.sunset == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_legacy_deprecation_true_means_now() -> None:
    v = classify(ex(200, VIDEO, {"deprecation": "true"}), now=NOW)
    assert v.deprecation == NOW
    assert v.outcome is Outcome.OK


def test_deprecation_is_read_on_error_answers_too() -> None:
    v = classify(ex(429, headers={"deprecation": "@1767225600"}), now=NOW)
    assert v.deprecation == datetime(2026, 1, 1, tzinfo=UTC)


def test_shutdown_date_in_body_is_a_sunset() -> None:
    model = {"id": "sora-2", "object": "model", "owned_by": "openai", "shutdown_date": "2026-09-24"}
    v = classify(ex(200, model), now=NOW)
    assert v.sunset == datetime(2026, 9, 24, tzinfo=UTC)
    assert v.outcome is Outcome.RETIRED
    early = classify(ex(200, model), now=datetime(2026, 9, 1, tzinfo=UTC))
    assert early.outcome is Outcome.OK


def test_error_type_and_code_are_filled() -> None:
    body = openai_error(f"{SATURATED}", "insufficient_quota", "insufficient_user_quota")
    v = classify(ex(429, body), now=NOW)
    assert (v.error_type, v.error_code) == ("insufficient_quota", "insufficient_user_quota")


def test_slow_needs_a_threshold() -> None:
    assert classify(ex(200, VIDEO, latency_ms=60_000.0), now=NOW).outcome is Outcome.OK


def test_html_on_200_is_fine_for_a_plain_url_check() -> None:
    page = ex(200, "<!doctype html><html><body>Status</body></html>", HTML_CT)
    assert classify(page, now=NOW, expect_json=False).outcome is Outcome.OK


# ---- secrets


def test_detail_never_carries_a_key() -> None:
    exchange = Exchange(
        "GET",
        "https://u",
        None,
        transport_error=TransportError.CONNECT,
        error_text="ConnectError for https://user:hunter2@relay.test/v1?key=AIzaSyD-abcdefghijklmnop",
    )
    detail = classify(exchange, now=NOW, secrets=["hunter2"]).detail
    assert "hunter2" not in detail
    assert "AIzaSyD-abcdefghijklmnop" not in detail


def test_detail_masks_a_key_shaped_code() -> None:
    body = openai_error("bad key", None, "sk-proj-abcdefghijklmnopqrstu")
    v = classify(ex(401, body), now=NOW)
    assert "abcdefghijklmnopqrstu" not in v.detail


# ---- failed jobs

JOB_FAILURES = [
    ("moderation_blocked", "Your request was blocked by our moderation system.", Outcome.REJECTED),
    ("content_policy_violation", None, Outcome.REJECTED),
    ("raiMediaFiltered", "Unable to generate: person detected", Outcome.REJECTED),
    ("prompt_unsafe", None, Outcome.REJECTED),
    ("InputImageSensitiveContentDetected.PrivacyInformation", None, Outcome.REJECTED),
    (None, "Upload may depict a realistic human.", Outcome.REJECTED),
    (None, "The output video may contain sensitive information.", Outcome.REJECTED),
    ("sentinel_block", None, Outcome.RISK_CONTROL),
    (None, "生成失败，疑似存在异常行为，请重新尝试", Outcome.RISK_CONTROL),
    ("generation_failed", "视频生成失败: 视频URL为空", Outcome.JOB_FAILED),
    ("internal_error", "safety of the world is not at stake: the code decides", Outcome.JOB_FAILED),
    (None, "生成已取消: 客户端连接已断开", Outcome.JOB_FAILED),
    (None, None, Outcome.JOB_FAILED),
]


@pytest.mark.parametrize(
    ("code", "message", "outcome"),
    [pytest.param(c, m, o, id=f"{c or 'no-code'}-{o.value}") for c, m, o in JOB_FAILURES],
)
def test_classify_job_failure(code: str | None, message: str | None, outcome: Outcome) -> None:
    assert classify_job_failure(code, message) is outcome


# ---- properties

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "error",
                    "code",
                    "type",
                    "message",
                    "status",
                    "details",
                    "reason",
                    "violations",
                    "quotaId",
                    "retryDelay",
                    "status_code",
                    "done",
                    "id",
                    "object",
                    "choices",
                    "delta",
                    "content",
                    "data",
                    "msg",
                    "description",
                    "shutdown_date",
                    "retryAfter",
                ]
            )
            | st.text(max_size=8),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)
_header_names = st.sampled_from(
    [
        "content-type",
        "retry-after",
        "retry-after-ms",
        "deprecation",
        "sunset",
        "cf-mitigated",
        "x-other",
    ]
)


@st.composite
def _bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "sse"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    doc = draw(_json)
    text = json.dumps(doc, allow_nan=True)
    return (f"data: {text}\n\n" if kind == "sse" else text).encode()


@settings(max_examples=400, deadline=None)
@given(
    status=st.integers(min_value=-5, max_value=1000),
    headers=st.dictionaries(_header_names, st.text(max_size=40), max_size=5),
    body=_bodies(),
    latency=st.none() | st.floats(allow_nan=True, allow_infinity=True),
)
def test_classify_never_raises(
    status: int, headers: dict[str, str], body: bytes, latency: float | None
) -> None:
    exchange = Exchange("GET", "https://u", status, headers, body, latency)
    verdict = classify(exchange, slow_ms=SLOW_MS, now=NOW)
    assert isinstance(verdict, Verdict)
    assert isinstance(verdict.outcome, Outcome)
    assert verdict.detail


@settings(max_examples=200, deadline=None)
@given(code=st.none() | st.text(max_size=30), message=st.none() | st.text(max_size=60))
def test_classify_job_failure_never_raises(code: str | None, message: str | None) -> None:
    assert classify_job_failure(code, message) in {
        Outcome.REJECTED,
        Outcome.RISK_CONTROL,
        Outcome.JOB_FAILED,
    }


def test_sunset_exactly_now_is_not_passed() -> None:
    when = NOW.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert classify(ex(200, VIDEO, {"sunset": when}), now=NOW).outcome is Outcome.OK
    later = NOW + timedelta(seconds=1)
    assert classify(ex(200, VIDEO, {"sunset": when}), now=later).outcome is Outcome.RETIRED
