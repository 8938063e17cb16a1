"""Configuration: YAML with ``${ENV}`` secrets, validated completely at load.

Every problem is reported with its key path (``channels[2].probes.light.every: …``) and unknown
keys are errors, so a typo never silently turns a probe off.
"""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sorawatch.alerts.config import AlertsConfig, MaintenanceConfig
from sorawatch.configtypes import AwareDatetime, Duration, Strict
from sorawatch.configtypes import parse_duration as parse_duration  # re-exported
from sorawatch.domain.outcome import AccessKind
from sorawatch.errors import ConfigError

if TYPE_CHECKING:
    from sorawatch.store.base import MaintenanceWindow

_Strict = Strict


class RetentionConfig(_Strict):
    raw: Duration = Field(default=14 * 86400.0, description="how long raw observations are kept")


class StorageConfig(_Strict):
    url: str = "sqlite:///sorawatch.db"
    retention: RetentionConfig = RetentionConfig()

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        if not v.startswith(("sqlite:///", "postgresql://", "postgres://", "memory://")):
            raise ValueError("expected sqlite:///PATH, postgresql://… or memory:// (tests)")
        return v


class StatusPageConfig(_Strict):
    url: str
    kind: Literal["auto", "statuspage", "incidentio", "gcloud"] = "auto"
    every: Duration = 60.0
    timeout: Duration = 10.0

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return v.rstrip("/")


class PriceConfig(_Strict):
    per_second: float | None = Field(default=None, ge=0)
    per_call: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one(self) -> PriceConfig:
        if (self.per_second is None) == (self.per_call is None):
            raise ValueError("give exactly one of per_second or per_call")
        return self

    def cost(self, seconds: float) -> float:
        """Price of one job of ``seconds`` of video."""
        if self.per_call is not None:
            return self.per_call
        return (self.per_second or 0.0) * seconds


class ChannelStatusPageRef(_Strict):
    page: str
    component: str | None = None  # found by name at run time (Statuspage / incident.io)
    product: str | None = None  # Google Cloud product id (never its title)


class LightProbeConfig(_Strict):
    every: Duration = 60.0
    timeout: Duration = 15.0


DEFAULT_CANARY_PROMPT = (
    "A paper boat drifting on a calm pond in soft morning light, static camera, no people."
)


class CanaryProbeConfig(_Strict):
    """A real, paid generation on a schedule, within a daily budget (docs/probes.md)."""

    every: Duration = 6 * 3600.0
    budget_usd_per_day: float = Field(default=2.0, gt=0)
    seconds: int = Field(default=4, ge=1, le=60, description="the shortest the channel allows")
    size: Annotated[str, Field(pattern=r"^\d{2,5}x\d{2,5}$")] = "1280x720"
    prompt: str = Field(default=DEFAULT_CANARY_PROMPT, min_length=1)
    timeout: Duration = Field(default=900.0, description="the whole job, create to download")
    stall_after: Duration = Field(default=600.0, description="no progress for this long")
    slow_after: Duration = Field(default=300.0, description="a job finishing later is slow")
    fail_after: int = Field(default=2, ge=1, le=100, description="failed canaries to degrade")
    recover_after: int = Field(default=1, ge=1, le=100)


class ProbesConfig(_Strict):
    light: LightProbeConfig | None = LightProbeConfig()
    canary: CanaryProbeConfig | None = None  # absent: the channel never gets a paid request


class ThresholdsConfig(_Strict):
    fail_after: int = Field(default=3, ge=1, le=100)
    recover_after: int = Field(default=2, ge=1, le=100)
    slow_ms: float = Field(default=8000.0, gt=0)


class JsonCondition(_Strict):
    """One test on a JSON path of an ``http`` check's answer: exactly one of the four."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True)

    path: str = Field(description="JSONPath subset: $.a.b[0]['c']")
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    not_equals: Any = None
    exists: bool | None = None

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        from sorawatch.providers.http_conditions import parse_path  # late: it imports us

        parse_path(v)
        return v

    @model_validator(mode="after")
    def _one_test(self) -> JsonCondition:
        given = {"equals", "in_", "not_equals", "exists"} & self.model_fields_set
        if len(given) != 1:
            raise ValueError("give exactly one of equals, in, not_equals or exists")
        if given == {"in_"} and self.in_ is None:
            raise ValueError("in: expected a list of values")
        if given == {"exists"} and self.exists is None:
            raise ValueError("exists: expected true or false")
        return self


def _status_list(value: object) -> object:
    return [value] if isinstance(value, int | str) else value


class HttpCheckConfig(_Strict):
    """What a protocol ``http`` channel checks: one request, then these conditions."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True)

    method: Literal["GET", "HEAD", "POST", "OPTIONS"] = "GET"
    url_path: str = Field(default="", description="appended to base_url")
    headers: dict[str, str] = Field(default_factory=dict)
    expect_status: Annotated[tuple[int | str, ...], BeforeValidator(_status_list)] = (200,)
    max_latency_ms: float | None = Field(default=None, gt=0)
    json_: tuple[JsonCondition, ...] = Field(default=(), alias="json")
    body_contains: str | None = None

    @field_validator("url_path")
    @classmethod
    def _relative(cls, v: str) -> str:
        if v and (not v.startswith(("/", "?")) or "://" in v):
            raise ValueError("expected a path starting with / or ? (it is appended to base_url)")
        return v

    @field_validator("expect_status")
    @classmethod
    def _statuses(cls, v: tuple[int | str, ...]) -> tuple[int | str, ...]:
        from sorawatch.providers.http_conditions import parse_status  # late: it imports us

        if not v:
            raise ValueError("expected at least one status")
        for pattern in v:
            parse_status(pattern)
        return v


class ChannelConfig(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    name: str
    group: str = "Default"
    description: str = ""
    model: str
    access: AccessKind
    protocol: str
    base_url: str
    api_key: SecretStr | None = None
    price: PriceConfig | None = None
    status_page: ChannelStatusPageRef | None = None
    probes: ProbesConfig = ProbesConfig()
    thresholds: ThresholdsConfig = ThresholdsConfig()
    check: HttpCheckConfig | None = Field(default=None, validate_default=True)
    sunset: AwareDatetime | None = Field(
        default=None, description="announced retirement; alerts warn ahead of it"
    )

    @field_validator("base_url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return v.rstrip("/")

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, v: str) -> str:
        from sorawatch.providers import PROVIDERS  # late: providers import config types

        if v not in PROVIDERS:
            raise ValueError(f"unknown protocol {v!r}; known: {', '.join(sorted(PROVIDERS))}")
        return v

    @field_validator("probes")
    @classmethod
    def _canary_has_a_price(cls, v: ProbesConfig, info: ValidationInfo) -> ProbesConfig:
        canary = v.canary
        if canary is None or "price" not in info.data:  # price absent: it was itself invalid
            return v
        if info.data.get("protocol") == "http":
            raise ValueError("canary: protocol http has no generation job to run")
        price: PriceConfig | None = info.data["price"]
        if price is None:
            raise ValueError("canary needs the channel's price (per_second or per_call)")
        cost = price.cost(canary.seconds)
        if cost > canary.budget_usd_per_day:
            raise ValueError(
                f"canary: one job costs ${cost:.2f}, more than budget_usd_per_day "
                f"${canary.budget_usd_per_day:.2f}, so it could never run"
            )
        return v

    @field_validator("check")
    @classmethod
    def _check_only_for_http(
        cls, v: HttpCheckConfig | None, info: ValidationInfo
    ) -> HttpCheckConfig | None:
        protocol = info.data.get("protocol")  # absent when the protocol itself was invalid
        if protocol == "http" and v is None:
            raise ValueError("protocol http needs a check (`check: {}` checks base_url for 200)")
        if v is not None and protocol not in (None, "http"):
            raise ValueError(f"only protocol http takes a check, not {protocol}")
        return v

    @property
    def missing_key(self) -> bool:
        """No API key where the protocol needs one (a plain ``http`` check runs without)."""
        return self.api_key is None and self.protocol != "http"

    @property
    def secrets(self) -> list[str]:
        """What must never be shown: the key, and credentials written into base_url."""
        out = [] if self.api_key is None else [self.api_key.get_secret_value()]
        userinfo = urlsplit(self.base_url).password
        if userinfo:
            out.append(userinfo)
        return out


class MonitorConfig(_Strict):
    concurrency: int = Field(default=64, ge=1, le=10_000)
    jitter: float = Field(default=0.1, ge=0, le=0.5, description="fraction of the interval")


_LISTEN = re.compile(r"^(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(?P<port>\d{1,5})$")


class WebConfig(_Strict):
    """The status page and its APIs, served by ``sorawatch run`` (read-only, public)."""

    enabled: bool = True
    listen: str = Field(default="127.0.0.1:8787", description="host:port to serve on")
    public_url: str | None = Field(default=None, description="where users reach this page")
    title: str = Field(default="sorawatch status", min_length=1)
    description: str = ""
    refresh: Duration = Field(default=60.0, description="every card rebuilt at least this often")
    page_refresh: Duration = Field(default=15.0, description="browser auto-refresh interval")
    alerts_api: bool = Field(default=True, description="serve alert deliveries at /api/v1/alerts")

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        m = _LISTEN.match(value)
        if m is None or not 0 <= int(m.group("port")) <= 65535:
            raise ValueError(f"expected host:port such as 127.0.0.1:8787, got {value!r}")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/@]+(/\S*)?$", value):
            raise ValueError(f"expected an http(s) URL without credentials, got {value!r}")
        return None if value is None else value.rstrip("/")

    @property
    def host(self) -> str:
        m = _LISTEN.match(self.listen)
        assert m is not None  # validated above
        return m.group("host").strip("[]")

    @property
    def port(self) -> int:
        m = _LISTEN.match(self.listen)
        assert m is not None
        return int(m.group("port"))


class Config(_Strict):
    storage: StorageConfig = StorageConfig()
    monitor: MonitorConfig = MonitorConfig()
    web: WebConfig = WebConfig()
    alerts: AlertsConfig = AlertsConfig()
    maintenance: list[MaintenanceConfig] = Field(default_factory=list)
    status_pages: dict[str, StatusPageConfig] = Field(default_factory=dict)
    channels: list[ChannelConfig] = Field(min_length=1)
    budget_usd_per_day: float | None = Field(
        default=None, gt=0, description="all canaries together, per UTC day; None: no cap"
    )

    @model_validator(mode="after")
    def _references(self) -> Config:
        seen: set[str] = set()
        for ch in self.channels:
            if ch.id in seen:
                raise ValueError(f"channel id {ch.id!r} is used twice")
            seen.add(ch.id)
            if ch.status_page and ch.status_page.page not in self.status_pages:
                raise ValueError(
                    f"channel {ch.id!r}: status_page.page {ch.status_page.page!r} "
                    "is not defined under status_pages"
                )
        return self

    @model_validator(mode="after")
    def _alerts_and_windows_name_known_channels(self) -> Config:
        ids = {ch.id for ch in self.channels}
        groups = {ch.group for ch in self.channels}
        scoped = [
            (f"alerts.routes[{i}]", r.channels, r.groups) for i, r in enumerate(self.alerts.routes)
        ]
        scoped += [
            (f"maintenance[{i}]", w.channels, w.groups) for i, w in enumerate(self.maintenance)
        ]
        for where, channels, in_groups in scoped:
            for cid in channels:
                if cid not in ids:
                    raise ValueError(f"{where}.channels: no channel with id {cid!r}")
            for group in in_groups:
                if group not in groups:
                    raise ValueError(
                        f"{where}.groups: no channel is in group {group!r} "
                        f"(groups: {', '.join(sorted(groups))})"
                    )
        names = [w.name for w in self.maintenance]
        if len(names) != len(set(names)):
            raise ValueError("maintenance: two windows share a name")
        return self

    @model_validator(mode="after")
    def _canaries_fit_the_global_budget(self) -> Config:
        if self.budget_usd_per_day is None:
            return self
        for i, ch in enumerate(self.channels):
            canary = ch.probes.canary
            if canary is None or ch.price is None:
                continue
            cost = ch.price.cost(canary.seconds)
            if cost > self.budget_usd_per_day:
                raise ValueError(
                    f"channels[{i}].probes.canary: one job costs ${cost:.2f}, more than the "
                    f"global budget_usd_per_day ${self.budget_usd_per_day:.2f}"
                )
        return self

    @cached_property
    def _by_id(self) -> dict[str, ChannelConfig]:
        return {ch.id: ch for ch in self.channels}

    @cached_property
    def maintenance_windows(self) -> list[MaintenanceWindow]:
        """The config's maintenance windows in the store's shape (``sorawatch maintenance add``
        stores others)."""
        from sorawatch.alerts.windows import from_config  # late: it imports the store types

        return [from_config(w) for w in self.maintenance]

    def channel(self, channel_id: str) -> ChannelConfig:
        try:
            return self._by_id[channel_id]  # the monitor looks channels up per observation
        except KeyError:
            raise ConfigError(f"no channel with id {channel_id!r}") from None


# --- loading -------------------------------------------------------------------------------

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_KEYS = {"api_key"}


def _loc(parts: tuple[int | str, ...] | list[int | str]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _substitute(node: Any, path: list[int | str], env: dict[str, str], problems: list[str]) -> Any:
    """Replace ``${VAR}``/``${VAR:-default}`` in every string.

    A missing variable in an ``api_key`` makes the key absent (the channel reports ``unknown``);
    anywhere else it is an error naming the key path.
    """
    if isinstance(node, dict):
        return {k: _substitute(v, [*path, k], env, problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, [*path, i], env, problems) for i, v in enumerate(node)]
    if not isinstance(node, str):
        return node
    missing: list[str] = []

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env and env[name] != "":
            return env[name]
        if default is not None:
            return default
        missing.append(name)
        return ""

    value = _ENV.sub(repl, node)
    if missing:
        if path and path[-1] in _SECRET_KEYS:
            return None
        problems.append(f"{_loc(path)}: environment variable {missing[0]} is not set")
    return value


def parse_config(text: str, source: str = "<config>", env: dict[str, str] | None = None) -> Config:
    """Parse and validate YAML text; raise ``ConfigError`` listing every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    problems: list[str] = []
    data = _substitute(raw, [], dict(os.environ if env is None else env), problems)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        already = {p.split(":", 1)[0] for p in problems}  # no second complaint about a missing env
        for err in exc.errors():
            if _loc(err["loc"]) in already:
                continue
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            problems.append(f"{_loc(err['loc'])}: {msg}")
        config = None
    if problems:
        raise ConfigError(f"{source}: {len(problems)} problem(s)", problems)
    assert config is not None
    return config


def load_config(path: str | Path, env: dict[str, str] | None = None) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror or exc}") from exc
    return parse_config(text, str(p), env)
