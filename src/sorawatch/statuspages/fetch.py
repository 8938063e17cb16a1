"""Reading live pages over HTTP: conditional GETs, format detection, last-good-on-failure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

import httpx

from sorawatch import statuspages
from sorawatch.statuspages.base import (
    FetchFailure,
    ReadFailure,
    StatusReading,
    decode_json,
    unknown_reading,
)
from sorawatch.statuspages.detect import Kind, detect

KindOrAuto = Literal["auto", "statuspage", "incidentio", "gcloud"]


@dataclass(frozen=True, slots=True)
class _Validated:
    etag: str | None
    last_modified: str | None
    data: object


class ConditionalHttp:
    """GETs JSON with If-None-Match / If-Modified-Since; a 304 yields the last body seen.

    Only bodies that parsed as JSON are remembered, so a 304 always means usable data.
    """

    def __init__(self, client: httpx.AsyncClient, timeout: float) -> None:
        self._client = client
        self._timeout = timeout
        self._seen: dict[str, _Validated] = {}

    async def get_json(self, url: str) -> object:
        known = self._seen.get(url)
        headers = {"Accept": "application/json"}
        if known and known.etag:
            headers["If-None-Match"] = known.etag
        if known and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        try:
            resp = await self._client.get(
                url, headers=headers, timeout=self._timeout, follow_redirects=True
            )
        except httpx.TimeoutException as exc:
            raise FetchFailure(f"GET {url}: timed out") from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise FetchFailure(f"GET {url}: {type(exc).__name__}") from exc
        if resp.status_code == 304 and known is not None:
            return known.data
        if not resp.is_success:
            raise FetchFailure(f"GET {url}: HTTP {resp.status_code}")
        try:
            data = decode_json(resp.content, resp.headers.get("content-type"))
        except ReadFailure as exc:
            raise FetchFailure(f"GET {url}: {exc}") from exc
        etag, modified = resp.headers.get("etag"), resp.headers.get("last-modified")
        if etag or modified:
            self._seen[url] = _Validated(etag, modified, data)
        return data


class StatusPageReader:
    """Reads one vendor page; ``read`` never raises for anything the page or network does.

    On failure it hands back the last good reading marked ``stale`` (or an ``unknown`` reading
    when there never was one), with ``error`` saying what went wrong.
    """

    def __init__(
        self,
        name: str,
        url: str,
        kind: KindOrAuto,
        client: httpx.AsyncClient,
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self._kind: Kind | None = None if kind == "auto" else kind
        self._http = ConditionalHttp(client, timeout)
        self._last_good: StatusReading | None = None

    @property
    def kind(self) -> Kind | None:
        """The page's format: as configured, or as detected (None until detection succeeds)."""
        return self._kind

    @property
    def last_good(self) -> StatusReading | None:
        return self._last_good

    async def read(self, now: datetime) -> StatusReading:
        try:
            if self._kind is None:
                self._kind = await detect(self._http, self.url)
            reading = await statuspages.READERS[self._kind](self._http, self.url, self.name, now)
        except ReadFailure as exc:
            return self._failed(now, str(exc))
        self._last_good = reading
        return reading

    def _failed(self, now: datetime, error: str) -> StatusReading:
        if self._last_good is None:
            return unknown_reading(self.name, now, error)
        return replace(self._last_good, stale=True, error=error)
