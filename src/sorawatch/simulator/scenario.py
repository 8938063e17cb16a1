"""Scenario files: which fake channels and status pages exist, and what happens to them when.

A scenario is YAML validated completely at load (unknown keys are errors, every problem names
its key path) and raises ``ScenarioError``. Times are offsets from the simulator's start
(``at: 30s``); with ``loop`` the whole timeline repeats with that period. A timeline entry holds
until the next one; before the first, a channel is ``ok``.

Faults and the parameters they read (every fault also takes ``rate``, the share of requests
hit, and ``routes``, e.g. ``[create]``, to hit only some routes):

- ``slow`` (``latency_ms``, default 5000 extra), ``timeout`` (``hold_s``, default 60: the
  request is held, then answered normally unless the client left), ``cloudflare`` (``status``
  403|429|503), ``rate_limited`` / ``overloaded`` / ``paused`` (``retry_after_s``),
  ``quota_exhausted`` (``code``), ``sunset`` / ``gone`` (``date``), ``malformed`` (``mode``
  truncated|wrong_shape); ``sentinel_block``, ``no_tokens``, ``risk_control_cn``,
  ``server_error``, ``auth_failed``, ``retired`` take none.
- ``job_failures``: ``rate`` is the share of jobs created meanwhile that will fail.
- ``moderation``: image generations are refused by the safety system (``openai-images``:
  400 ``moderation_blocked``); protocols without moderation answer normally.
- ``connection_refused``: on a channel's own port the listener is shut while it is in force
  (``rate`` cannot apply there); on the shared port, where a connection cannot be refused, the
  hit requests get a plain-text 502 instead.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sorawatch.configtypes import parse_duration, parse_seconds
from sorawatch.errors import ScenarioError

FaultName = Literal[
    "ok",
    "slow",
    "rate_limited",
    "cloudflare",
    "sentinel_block",
    "no_tokens",
    "risk_control_cn",
    "overloaded",
    "server_error",
    "quota_exhausted",
    "auth_failed",
    "paused",
    "retired",
    "gone",
    "sunset",
    "timeout",
    "connection_refused",
    "malformed",
    "job_failures",
    "moderation",
]
FAULTS: tuple[str, ...] = FaultName.__args__  # type: ignore[attr-defined]

ComponentStatus = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]

# Fault parameters beyond ``rate`` and ``routes``, and which faults read them; a parameter on a
# fault that ignores it is an error, so a typo never silently does nothing.
_PARAMS: dict[str, frozenset[str]] = {
    "latency_ms": frozenset({"slow"}),
    "status": frozenset({"cloudflare"}),
    "code": frozenset({"quota_exhausted"}),
    "retry_after_s": frozenset({"rate_limited", "overloaded", "paused"}),
    "hold_s": frozenset({"timeout"}),
    "date": frozenset({"sunset", "gone"}),
    "mode": frozenset({"malformed"}),
}
QUOTA_CODES = (
    "insufficient_quota",
    "credit_balance_exhausted",
    "organization_spend_limit_exceeded",
    "project_spend_limit_exceeded",
    "organization_usage_limit_exceeded",
)


def _utc_datetime(value: object) -> object:
    """A date or datetime, naive ones read as UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"expected a date like 2026-09-24, got {value!r}") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


Seconds = Annotated[float, BeforeValidator(parse_seconds)]
PositiveSeconds = Annotated[float, BeforeValidator(parse_duration)]
UtcDateTime = Annotated[datetime, BeforeValidator(_utc_datetime)]
ChannelId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fault(_Strict):
    """One fault with its parameters: what a channel does while it is in force."""

    fault: FaultName = "ok"
    rate: float = Field(default=1.0, ge=0.0, le=1.0, description="fraction of requests hit")
    routes: tuple[str, ...] = Field(default=(), description="route names; empty = every route")
    latency_ms: float | None = Field(default=None, ge=0)
    status: Literal[403, 429, 503] | None = None
    code: Literal[QUOTA_CODES] | None = None  # type: ignore[valid-type]
    retry_after_s: float | None = Field(default=None, gt=0)
    hold_s: float | None = Field(default=None, ge=0)
    date: UtcDateTime | None = None
    mode: Literal["truncated", "wrong_shape"] | None = None

    @model_validator(mode="after")
    def _params_fit(self) -> Fault:
        for param, faults in _PARAMS.items():
            if getattr(self, param) is not None and self.fault not in faults:
                raise ValueError(f"{param} does not apply to fault {self.fault!r}")
        return self

    @property
    def is_ok(self) -> bool:
        return self.fault == "ok"

    def hits_route(self, route: str | None) -> bool:
        return not self.routes or (route is not None and route in self.routes)


OK = Fault()


class TimelineEntry(Fault):
    at: Seconds

    def to_fault(self) -> Fault:
        return Fault.model_validate(self.model_dump(exclude={"at"}, exclude_none=True))


class ChannelSpec(_Strict):
    protocol: str = "openai-videos"
    models: tuple[str, ...] = Field(default=("sora-2",), min_length=1)
    latency_ms: float = Field(default=0.0, ge=0)
    queue_s: Seconds = 2.0
    generate_s: Seconds = 8.0
    job_failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    expires_s: PositiveSeconds = 3600.0
    poll_after_ms: int = Field(default=1000, ge=0)
    rpm: int = Field(default=60, ge=1, description="advertised x-ratelimit-limit-requests")
    max_jobs: int = Field(default=1000, ge=1, description="oldest jobs are forgotten past this")
    shutdown_date: date | None = None
    own_port: bool = False
    port: int | None = Field(default=None, ge=1, le=65535)
    timeline: tuple[TimelineEntry, ...] = ()

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, v: str) -> str:
        from sorawatch.simulator.protocols import PROTOCOLS

        if v not in PROTOCOLS:
            raise ValueError(f"unknown protocol {v!r}; known: {', '.join(sorted(PROTOCOLS))}")
        return v

    @model_validator(mode="after")
    def _timeline_fits(self) -> ChannelSpec:
        from sorawatch.simulator.protocols import protocol_routes

        routes = protocol_routes(self.protocol)
        last = -1.0
        for i, entry in enumerate(self.timeline):
            if entry.at < last:
                raise ValueError(f"timeline[{i}].at: entries must be in time order")
            last = entry.at
            unknown = [r for r in entry.routes if r not in routes]
            if unknown:
                raise ValueError(
                    f"timeline[{i}].routes: unknown route {unknown[0]!r}; "
                    f"known: {', '.join(routes)}"
                )
        return self

    @property
    def mentions_connection_refused(self) -> bool:
        return any(e.fault == "connection_refused" for e in self.timeline)

    @property
    def needs_own_port(self) -> bool:
        return self.own_port or self.port is not None or self.mentions_connection_refused


class ChannelsTemplate(ChannelSpec):
    """``count`` identical channels named ``prefix0 … prefixN-1`` (for benchmarks)."""

    count: int = Field(ge=1, le=1_000_000)
    prefix: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,40}$")]
    start: int = Field(default=0, ge=0)
    stagger: Seconds = Field(default=0.0, description="channel i runs its timeline i×stagger late")

    @model_validator(mode="after")
    def _no_listeners(self) -> ChannelsTemplate:
        if self.needs_own_port:
            raise ValueError(
                "templated channels cannot have their own port (own_port, port or a "
                "connection_refused fault): that would open one listener per channel"
            )
        return self

    def ids(self) -> list[str]:
        return [f"{self.prefix}{i}" for i in range(self.start, self.start + self.count)]


class Product(_Strict):
    id: str
    title: str
    current_title: str | None = None


class PageEntry(_Strict):
    """One scripted change on a status page."""

    at: Seconds
    components: dict[str, ComponentStatus] = Field(default_factory=dict)
    incident: str | None = Field(default=None, description="open an incident with this name")
    maintenance: str | None = Field(default=None, description="start a maintenance")
    impact: Literal["none", "minor", "major", "critical", "maintenance"] | None = None
    update: str | None = Field(default=None, description="first update text")
    resolve: bool | str = Field(default=False, description="true = all open, or one by name")
    products: tuple[str, ...] = ()
    status_impact: Literal["SERVICE_INFORMATION", "SERVICE_DISRUPTION", "SERVICE_OUTAGE"] = (
        "SERVICE_DISRUPTION"
    )
    severity: Literal["low", "medium", "high"] = "medium"


class StatusPageSpec(_Strict):
    kind: Literal["statuspage", "incidentio", "gcloud"]
    name: str | None = None
    components: dict[str, ComponentStatus] = Field(default_factory=dict)
    groups: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    products: tuple[Product, ...] = ()
    timeline: tuple[PageEntry, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> StatusPageSpec:
        if self.kind == "gcloud":
            self._check_gcloud()
        else:
            self._check_components()
        last = -1.0
        for i, entry in enumerate(self.timeline):
            if entry.at < last:
                raise ValueError(f"timeline[{i}].at: entries must be in time order")
            last = entry.at
        return self

    def _check_gcloud(self) -> None:
        if self.components or self.groups:
            raise ValueError("a gcloud page has products, not components or groups")
        known = {p.id for p in self.products}
        for i, entry in enumerate(self.timeline):
            if entry.components or entry.maintenance:
                raise ValueError(f"timeline[{i}]: a gcloud page has no components or maintenance")
            if entry.incident and not entry.products:
                raise ValueError(f"timeline[{i}].products: an incident needs product ids")
            for pid in entry.products:
                if pid not in known:
                    raise ValueError(f"timeline[{i}].products: unknown product id {pid!r}")

    def _check_components(self) -> None:
        if self.products:
            raise ValueError(f"a {self.kind} page has components, not products")
        if self.groups and self.kind != "statuspage":
            raise ValueError("groups: only a statuspage page has component groups")
        for group, members in self.groups.items():
            for name in members:
                if name not in self.components:
                    raise ValueError(f"groups.{group}: unknown component {name!r}")
        for i, entry in enumerate(self.timeline):
            for name in entry.components:
                if name not in self.components:
                    raise ValueError(f"timeline[{i}].components: unknown component {name!r}")
            if entry.products:
                raise ValueError(f"timeline[{i}].products: only a gcloud page has products")


class Scenario(_Strict):
    name: str
    description: str = ""
    loop: PositiveSeconds | None = None
    channels: dict[ChannelId, ChannelSpec] = Field(default_factory=dict)
    channels_template: ChannelsTemplate | None = None
    status_pages: dict[ChannelId, StatusPageSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _whole(self) -> Scenario:
        if not self.channels and self.channels_template is None and not self.status_pages:
            raise ValueError("a scenario needs channels, channels_template or status_pages")
        if self.channels_template is not None:
            clash = set(self.channels).intersection(self.channels_template.ids())
            if clash:
                raise ValueError(f"channels_template makes ids already in channels: {min(clash)}")
        if self.loop is not None:
            for cid, spec in self.channels.items():
                for i, entry in enumerate(spec.timeline):
                    if entry.at >= self.loop:
                        raise ValueError(
                            f"channels.{cid}.timeline[{i}].at: {entry.at:g}s is not before "
                            f"the loop period {self.loop:g}s"
                        )
        return self

    @cached_property
    def channel_specs(self) -> dict[str, tuple[ChannelSpec, float]]:
        """Every channel id → (spec, timeline delay), templated ones included."""
        out: dict[str, tuple[ChannelSpec, float]] = {
            cid: (spec, 0.0) for cid, spec in self.channels.items()
        }
        tpl = self.channels_template
        if tpl is not None:
            for n, cid in enumerate(tpl.ids()):
                out[cid] = (tpl, n * tpl.stagger)
        return out


# --- loading -------------------------------------------------------------------------------

BUILTIN_SCENARIOS: tuple[str, ...] = ("demo", "healthy", "chaos")


_PATH_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]-]*): (.*)$", re.DOTALL)


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for p in parts:
        if p == "[key]":  # pydantic's marker for a bad mapping key (a channel id)
            out += " (id)"
        else:
            out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _problems(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        where = _loc(tuple(err["loc"]))
        # Validators spanning several keys name the deeper key at the start of their message.
        if m := _PATH_PREFIX.match(msg):
            sub, msg = m.group(1), m.group(2)
            if where == "(top level)":
                where = sub
            else:
                where += sub if sub.startswith("[") else f".{sub}"
        problems.append(f"{where}: {msg}")
    return problems


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Parse and validate YAML text; ``ScenarioError`` lists every problem with its key path."""
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: expected a mapping at the top level")
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = _problems(exc)
        lines = "\n".join(f"  {p}" for p in problems)
        raise ScenarioError(f"{source}: {len(problems)} problem(s)\n{lines}") from exc


def builtin_text(name: str) -> str:
    return (resources.files("sorawatch.simulator") / "scenarios" / f"{name}.yaml").read_text(
        encoding="utf-8"
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A builtin scenario by name (``demo``, ``healthy``, ``chaos``) or a YAML file by path."""
    if isinstance(name_or_path, str) and name_or_path in BUILTIN_SCENARIOS:
        return parse_scenario(builtin_text(name_or_path), f"builtin scenario {name_or_path}")
    path = Path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        known = ", ".join(BUILTIN_SCENARIOS)
        raise ScenarioError(
            f"{path}: cannot read ({exc.strerror or exc}); builtin scenarios are: {known}"
        ) from exc
    return parse_scenario(text, str(path))
