"""Which format a pasted status-page URL speaks (status-page-formats.md §5, detection order).

Known hosts first, then the bare ``incidents.json`` array of Google's dashboards, then
``/api/v2/summary.json`` (Statuspage, or incident.io when its ids are ULIDs or ``/proxy/<host>``
answers). A JSON 200 on a lookalike path is not proof, so each step checks the shape it expects.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from sorawatch.statuspages import gcloud, incidentio, statuspage
from sorawatch.statuspages.base import JsonGetter, PayloadError, ReadFailure, as_obj

Kind = Literal["statuspage", "incidentio", "gcloud"]
GCLOUD_HOSTS = frozenset({"status.cloud.google.com"})


async def detect(http: JsonGetter, url: str) -> Kind:
    """The kind of page at ``url``; raises ``ReadFailure`` when it cannot tell (yet)."""
    parts = urlsplit(url)
    if parts.hostname in GCLOUD_HOSTS:
        return "gcloud"
    bare_feed = parts.path.endswith("incidents.json") and "/api/v2/" not in parts.path
    if bare_feed and isinstance(await http.get_json(gcloud.incidents_url(url)), list):
        return "gcloud"
    try:
        summary = statuspage.parse_summary(
            await http.get_json(f"{statuspage.api_base(url)}/api/v2/summary.json")
        )
        if not summary.components and summary.indicator is None:
            raise PayloadError("summary.json answered, but with neither components nor a status")
    except ReadFailure:
        # Last resort: a Google-style dashboard served from another host (a mirror, a simulator).
        if not bare_feed and await _is_bare_feed(http, url):
            return "gcloud"
        raise
    if incidentio.looks_like_incidentio(summary.ids):
        return "incidentio"
    try:
        proxy = as_obj(await http.get_json(incidentio.proxy_url(url)), "proxy")
    except ReadFailure:
        return "statuspage"
    return "incidentio" if isinstance(proxy.get("summary"), dict) else "statuspage"


async def _is_bare_feed(http: JsonGetter, url: str) -> bool:
    try:
        return isinstance(await http.get_json(gcloud.incidents_url(url)), list)
    except ReadFailure:
        return False
