"""Remove secrets from text before it is stored, logged, shown or exported.

Two layers: the secrets the caller knows (a channel's API key) are removed verbatim, then
anything shaped like a credential is masked, so a key we were never told about (one echoed in an
upstream's error message, a token in a redirect URL) does not leak either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

# Shorter "secrets" would turn ordinary words into masks (a key of "a" would eat every "a");
# no real credential is this short.
MIN_SECRET_LEN = 4

# (pattern, replacement). Order matters: URL user-info before the key=value rule, which would
# otherwise only see half of "user:pass@host".
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # user:pass@ or token@ in a URL's authority
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@?#]+@"), rf"\1{MASK}@"),
    # Authorization: Bearer <token> / Basic <token>
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{4,}"), rf"\1 {MASK}"),
    # OpenAI-style keys: sk-..., sk-proj-..., and reseller clones
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"), f"sk-{MASK}"),
    # Google API keys
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{10,}"), f"AIza{MASK}"),
    # JWTs (web-session tokens of reverse channels)
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"), MASK),
    # key=..., api_key=..., token=... in query strings and form bodies
    (
        re.compile(
            r"(?i)\b((?:x-goog-)?api[_-]?key|key|access[_-]?token|refresh[_-]?token|token|"
            r"secret|password|passwd|signature|sig)=(?!\*\*\*)[^\s&#\"',;}]+"
        ),
        rf"\1={MASK}",
    ),
    # "header: value" dumps of credential headers
    (
        re.compile(
            r"(?i)\b((?:x-goog-|x-)?api-key|authorization|cookie|x-auth-token)(\s*:[ \t]*+)"
            r"(?!\*\*\*|(?:bearer|basic)\s)[^\r\n]+"
        ),
        rf"\1\2{MASK}",
    ),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given ``secrets`` and anything that looks like a credential masked."""
    for secret in sorted({s.strip() for s in secrets}, key=len, reverse=True):
        if len(secret) < MIN_SECRET_LEN:
            continue
        # Repeat: masking one occurrence can splice a new one together from its neighbours.
        while secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
