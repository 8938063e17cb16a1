"""redact: known secrets and anything shaped like a credential never survive."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sorawatch.domain.redact import MASK, redact


@pytest.mark.parametrize(
    ("text", "leaked", "kept"),
    [
        pytest.param(
            "Incorrect API key provided: sk-proj-AbC123dEf456GhI789. You can find your key",
            "AbC123dEf456GhI789",
            "Incorrect API key provided: sk-***",
            id="openai-key-in-message",
        ),
        pytest.param(
            "Authorization: Bearer sk-live-0123456789abcdef",
            "0123456789abcdef",
            "Authorization: Bearer ***",
            id="bearer-header",
        ),
        pytest.param(
            "authorization: Basic dXNlcjpodW50ZXIy",
            "dXNlcjpodW50ZXIy",
            "authorization: Basic ***",
            id="basic-header",
        ),
        pytest.param(
            "GET https://generativelanguage.googleapis.com/v1beta/models?key=AIzaSyA-1234567890abcdefghijklmnopqrstu&alt=json",
            "1234567890abcdefghijklmnopqrstu",
            "?key=***&alt=json",
            id="google-key-query-param",
        ),
        pytest.param(
            "x-goog-api-key: AIzaSyA-1234567890abcdefghijklmnopqrstu",
            "1234567890abcdefghijklmnopqrstu",
            "x-goog-api-key: ***",
            id="google-key-header",
        ),
        pytest.param(
            "ConnectError: https://admin:s3cr3tpass@relay.example.test/v1/videos",
            "s3cr3tpass",
            "https://***@relay.example.test/v1/videos",
            id="userinfo-in-url",
        ),
        pytest.param(
            "redirected to https://cdn.test/v.mp4?token=abcdef123456&expires=9",
            "abcdef123456",
            "token=***&expires=9",
            id="token-query-param",
        ),
        pytest.param(
            "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sflKxwRJSMeKKF2QT4 expired",
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
            "session *** expired",
            id="jwt",
        ),
        pytest.param(
            "cookie: __Secure-next-auth.session-token=abc; cf_clearance=xyz",
            "cf_clearance=xyz",
            "cookie: ***",
            id="cookie-header",
        ),
    ],
)
def test_patterns(text: str, leaked: str, kept: str) -> None:
    out = redact(text)
    assert leaked not in out
    assert kept in out


def test_ordinary_text_is_untouched() -> None:
    text = "429 rate_limit_exceeded: Rate limit reached for requests (missing key: prompt)"
    assert redact(text) == text


def test_known_secrets_are_removed_everywhere() -> None:
    out = redact("key hunter22 and again hunter22!", ["hunter22"])
    assert out == f"key {MASK} and again {MASK}!"


def test_longer_secret_wins_over_its_prefix() -> None:
    assert redact("abcd-efgh", ["abcd", "abcd-efgh"]) == MASK


def test_trivially_short_secrets_are_ignored() -> None:
    assert redact("a cat", ["a", "", "  "]) == "a cat"


_secret = st.text(alphabet=st.characters(codec="utf-8"), min_size=4, max_size=20).filter(
    lambda s: s.strip() == s
)


@given(before=st.text(max_size=40), secret=_secret, after=st.text(max_size=40))
def test_a_given_secret_never_survives(before: str, secret: str, after: str) -> None:
    assume(secret not in MASK * 3)
    assert secret not in redact(before + secret + after, [secret])


@given(st.text(max_size=200))
def test_redact_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
