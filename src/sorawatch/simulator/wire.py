"""Wire details shared by the fake upstreams: ids, duration strings, error envelopes, Cloudflare.

The texts and header names are the real ones (upstream-protocols.md §1, §4.2, §5), so a client
classifying a simulator answer sees what it would see in the wild.
"""

from __future__ import annotations

import json
import random
from email.utils import formatdate
from typing import Any

from starlette.responses import HTMLResponse, Response

JSON = "application/json"


def hex_id(rng: random.Random, bits: int = 128) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def request_id(rng: random.Random) -> str:
    return f"req_{hex_id(rng)}"


def go_duration(seconds: float) -> str:
    """Seconds as Go prints a duration, the way OpenAI's ``x-ratelimit-reset-*`` headers do:
    ``12ms``, ``1.5s``, ``6m0s``, ``1h2m3s``."""
    ms = max(0, round(seconds * 1000))
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def http_date(unix: float) -> str:
    return formatdate(unix, usegmt=True)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text.encode(), status_code=status, headers=headers, media_type=JSON)


def openai_error(
    status: int,
    message: str,
    type_: str,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """OpenAI's envelope: ``{"error": {"message", "type", "param", "code"}}``."""
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return json_response(body, status, headers)


def invalid_url(method: str, path: str) -> Response:
    return openai_error(404, f"Invalid URL ({method} {path})", "invalid_request_error")


def model_not_found(model: str) -> Response:
    return openai_error(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    )


# --- Cloudflare managed challenge ------------------------------------------------------------

_CF_PAGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>\
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">\
<meta http-equiv="X-UA-Compatible" content="IE=Edge">\
<meta name="robots" content="noindex,nofollow">\
<meta name="viewport" content="width=device-width,initial-scale=1">\
<style>*{box-sizing:border-box;margin:0;padding:0}html{line-height:1.15}</style></head>\
<body><div class="main-wrapper" role="main"><div class="main-content">\
<noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue\
</span></div></noscript></div></div><script>(function(){window._cf_chl_opt={cvId: '3',\
cZone: "%(host)s",cType: 'managed',cRay: '%(ray)s',cH: '%(token)s',\
cUPMDTk: "/?__cf_chl_tk=%(token)s",\
cFPWv: 'b',cITimeS: '%(now)d',md: '%(token)s'};var cpo = document.createElement('script');\
cpo.src = '/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1?ray=%(ray)s';\
window._cf_chl_opt.cOgUHash = location.hash === '' && location.href.indexOf('#') !== -1 ? '#' \
: location.hash;document.getElementsByTagName('head')[0].appendChild(cpo);}());</script>\
</body></html>
"""

_CF_COLOS = ("SJC", "LAX", "HKG", "NRT", "FRA", "AMS", "SIN")


def cloudflare_challenge(rng: random.Random, status: int, host: str, unix: float) -> Response:
    """A Cloudflare managed challenge, as a browser-less client receives it."""
    ray = f"{hex_id(rng, 64)}-{rng.choice(_CF_COLOS)}"
    page = _CF_PAGE % {"host": host, "ray": ray.split("-")[0], "token": hex_id(rng), "now": unix}
    headers = {
        "cf-mitigated": "challenge",
        "server": "cloudflare",
        "cf-ray": ray,
        "cache-control": "private, max-age=0, no-store, no-cache, must-revalidate, "
        "post-check=0, pre-check=0",
        "expires": "Thu, 01 Jan 1970 00:00:01 GMT",
        "x-frame-options": "SAMEORIGIN",
        "referrer-policy": "same-origin",
    }
    return HTMLResponse(page, status_code=status, headers=headers)
