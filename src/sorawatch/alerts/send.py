"""Sending through Apprise: one named notifier, one message, an error text or None.

Apprise's ``notify`` is blocking and reports failures only through its log, so each send runs in
a worker thread and the log records of that thread become the error text (secrets of the URL
masked). A timeout bounds the wait; the thread finishes on its own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from sorawatch.alerts.config import NotifierConfig, load_apprise
from sorawatch.domain.redact import redact

_TYPES = {"critical": "failure", "warning": "warning", "info": "info", "recovery": "success"}


class Sender(Protocol):
    async def send(
        self, notifier: str, title: str, body: str, severity: str, alert_id: str = ""
    ) -> str | None:
        """Send one message; None when the notifier took it, else why not."""


class _ThreadLog(logging.Handler):
    """Collects Apprise's warnings per thread, so concurrent sends keep their own errors."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.lines: dict[int, list[str]] = {}
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._guard:
            if record.thread is not None and record.thread in self.lines:
                self.lines[record.thread].append(record.getMessage())

    def start(self) -> None:
        with self._guard:
            self.lines[threading.get_ident()] = []

    def stop(self) -> list[str]:
        with self._guard:
            return self.lines.pop(threading.get_ident(), [])


_LOG = _ThreadLog()
logging.getLogger("apprise").addHandler(_LOG)


def url_secrets(url: str) -> list[str]:
    """Parts of an Apprise URL that may be credentials: password, user, path, query values."""
    parts = urlsplit(url)
    out = [url]
    if parts.password:
        out.append(unquote(parts.password))
    if parts.username:
        out.append(unquote(parts.username))
    out += [unquote(p) for p in parts.path.split("/") if p]
    out += [unquote(v) for _, v in parse_qsl(parts.query) if v]
    return out


# Apprise's generic webhooks take extra request headers as ``+Name=value`` URL arguments.
_WEBHOOK_SCHEMES = frozenset({"json", "jsons", "xml", "xmls", "form", "forms"})
ID_HEADER = "X-Sorawatch-Alert-Id"


def with_id_header(url: str, alert_id: str) -> str:
    """A generic webhook URL that also sends the alert id as a header, so a receiver can drop
    a resend without reading the body (other schemes carry the id in the text only)."""
    scheme = url.split("://", 1)[0].lower()
    if not alert_id or scheme not in _WEBHOOK_SCHEMES:
        return url
    return f"{url}{'&' if '?' in url else '?'}+{ID_HEADER}={alert_id}"


class AppriseSender:
    def __init__(self, notifiers: Mapping[str, NotifierConfig], timeout_s: float = 30.0) -> None:
        self.urls = {name: n.url.get_secret_value() for name, n in notifiers.items()}
        self.timeout_s = timeout_s

    async def send(
        self, notifier: str, title: str, body: str, severity: str, alert_id: str = ""
    ) -> str | None:
        url = self.urls.get(notifier)
        if url is None:
            return f"no notifier named {notifier!r} in the config"
        url = with_id_header(url, alert_id)
        try:
            async with asyncio.timeout(self.timeout_s):
                error = await asyncio.to_thread(self._send, url, title, body, severity)
        except TimeoutError:
            return f"no answer within {self.timeout_s:g} s"
        return None if error is None else redact(error, url_secrets(url))[:500]

    @staticmethod
    def _send(url: str, title: str, body: str, severity: str) -> str | None:
        apprise = load_apprise()
        # The plugin itself, not an Apprise() wrapper: that one sends from a pool thread, and
        # the error text is collected from the log records of this thread.
        target = apprise.Apprise.instantiate(url, suppress_exceptions=True)
        if target is None:
            return "Apprise cannot use this URL"
        _LOG.start()
        try:
            ok = bool(
                target.notify(
                    body=body,
                    title=title,
                    notify_type=apprise.NotifyType(_TYPES[severity]),
                    # Plain text: Apprise escapes it and keeps the line breaks in HTML mail.
                    body_format=apprise.NotifyFormat.TEXT,
                )
            )
        except Exception as exc:  # a plugin bug must not stop the deliverer
            ok = False
            _LOG.lines.get(threading.get_ident(), []).append(f"{type(exc).__name__}: {exc}")
        finally:
            lines = _LOG.stop()
        if ok:
            return None
        return "; ".join(dict.fromkeys(lines)) or "the notifier refused the message"
