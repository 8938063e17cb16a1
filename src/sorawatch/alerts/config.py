"""The ``alerts:`` and ``maintenance:`` sections of the config.

Notifiers are Apprise URLs, checked by Apprise itself at load so a typo in a scheme is a config
error with its key path, not a silent alert that never arrives.
"""

from __future__ import annotations

import functools
import re
import warnings
from datetime import datetime, timedelta
from types import ModuleType
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from sorawatch.configtypes import AwareDatetime, Duration, Strict

Severity = Literal["critical", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
_NAME = NAME_PATTERN


@functools.cache
def load_apprise() -> ModuleType:
    """Apprise with its plugins loaded (late: the CLI need not pay for it on every command).

    Its email plugin imports the standard library's deprecated ``imghdr``; that warning is
    about Apprise, not about us, so it is silenced here and only here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        import apprise

        apprise.Apprise.instantiate("json://localhost", suppress_exceptions=True)  # loads them
    return apprise


def apprise_problem(url: str) -> str | None:
    """Why Apprise cannot use ``url`` (None: it can)."""
    apprise = load_apprise()
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if not scheme:
        return "expected an Apprise URL such as json://host/path, mailto://… or slack://…"
    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        return f"Apprise cannot use this {scheme}:// URL (unknown scheme or missing parts)"
    return None


class NotifierConfig(Strict):
    # Apprise URLs carry tokens and passwords: kept secret, never printed or stored in clear.
    url: SecretStr = Field(description="an Apprise URL: json://, mailto://, slack://, ntfy://, …")

    @field_validator("url")
    @classmethod
    def _apprise_can_use_it(cls, v: SecretStr) -> SecretStr:
        problem = apprise_problem(v.get_secret_value())
        if problem:
            raise ValueError(problem)
        return v


class RouteConfig(Strict):
    """Which alerts go to which notifiers, and how they are grouped."""

    name: str = Field(pattern=_NAME)
    notifiers: list[str] = Field(min_length=1)
    channels: list[str] = Field(default_factory=list, description="empty with groups: all")
    groups: list[str] = Field(default_factory=list)
    severities: list[Severity] = Field(default_factory=lambda: list(SEVERITIES), min_length=1)
    group_by: Literal["group", "vendor", "channel"] = "group"
    group_wait: Duration = Field(default=30.0, description="changes this close make one message")
    reminders: bool = True


class FlappingConfig(Strict):
    changes: int = Field(default=4, ge=2, le=1000, description="more changes than this …")
    window: Duration = Field(default=3600.0, description="… within this long is flapping")


class DeliveryConfig(Strict):
    retry_initial: Duration = Field(default=5.0, description="first retry after a failure")
    retry_max: Duration = Field(default=300.0, description="backoff doubles up to this")
    give_up_after: Duration = Field(default=2 * 86400.0, description="then the message fails")
    timeout: Duration = Field(default=30.0, description="one attempt to one notifier")
    keep: Duration = Field(
        default=90 * 86400.0, description="delivered and failed messages are kept this long"
    )


class AlertsConfig(Strict):
    notifiers: dict[str, NotifierConfig] = Field(default_factory=dict)
    routes: list[RouteConfig] = Field(default_factory=list)
    remind_every: Duration | None = Field(default=4 * 3600.0, description="null: no reminders")
    sunset_warning: Duration | None = Field(
        default=14 * 86400.0, description="warn this long before a retirement; null: never"
    )
    flapping: FlappingConfig | None = FlappingConfig()
    delivery: DeliveryConfig = DeliveryConfig()

    @field_validator("notifiers")
    @classmethod
    def _names(cls, v: dict[str, NotifierConfig]) -> dict[str, NotifierConfig]:
        for name in v:
            if not re.match(_NAME, name):
                raise ValueError(f"notifier name {name!r}: use letters, digits, _ . -")
        return v

    @model_validator(mode="after")
    def _routes_name_known_notifiers(self) -> AlertsConfig:
        seen: set[str] = set()
        for i, route in enumerate(self.routes):
            if route.name in seen:
                raise ValueError(f"routes[{i}].name: {route.name!r} is used twice")
            seen.add(route.name)
            for name in route.notifiers:
                if name not in self.notifiers:
                    raise ValueError(
                        f"routes[{i}].notifiers: {name!r} is not defined under alerts.notifiers"
                    )
        return self

    @property
    def effective_routes(self) -> list[RouteConfig]:
        """The configured routes; without any, one route sends everything everywhere."""
        if self.routes or not self.notifiers:
            return self.routes
        return [RouteConfig(name="all", notifiers=list(self.notifiers))]


class MaintenanceConfig(Strict):
    """A planned window from the config (``sorawatch maintenance add`` stores others)."""

    name: str = Field(pattern=_NAME)
    channels: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    start: AwareDatetime
    duration: Duration | None = None
    end: AwareDatetime | None = None
    every: Duration | None = Field(default=None, description="repeat every this long")
    reason: str = ""

    @model_validator(mode="after")
    def _shape(self) -> MaintenanceConfig:
        if not self.channels and not self.groups:
            raise ValueError("name the channels or groups the window covers")
        if (self.duration is None) == (self.end is None):
            raise ValueError("give exactly one of duration and end")
        if self.last <= self.start:
            raise ValueError("end must be after start")
        if self.every is not None and self.every < (self.last - self.start).total_seconds():
            raise ValueError("every must be at least the window's length (they would overlap)")
        return self

    @property
    def last(self) -> datetime:
        """The end of the first occurrence."""
        if self.end is not None:
            return self.end
        assert self.duration is not None
        return self.start + timedelta(seconds=self.duration)
