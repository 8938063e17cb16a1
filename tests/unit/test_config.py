"""Config loading: every problem reported with its key path; env secrets; unknown keys rejected."""

from __future__ import annotations

import textwrap

import pytest

from sorawatch.config import parse_config, parse_duration
from sorawatch.errors import ConfigError

GOOD = textwrap.dedent(
    """
    storage: {url: "sqlite:///x.db"}
    status_pages:
      openai: {url: "https://status.openai.com", kind: auto}
    channels:
      - id: sora-2-official
        name: "Sora 2 (official relay)"
        group: Sora
        model: sora-2
        access: official
        protocol: openai-videos
        base_url: https://api.openai.com/v1
        api_key: ${OPENAI_API_KEY}
        price: {per_second: 0.10}
        status_page: {page: openai, component: "Video generation"}
        probes: {light: {every: 60s}}
        thresholds: {fail_after: 3, recover_after: 2, slow_ms: 8000}
    """
)


def problems_of(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "t.yaml", env or {})
    return info.value.problems


def test_the_issue_example_loads() -> None:
    cfg = parse_config(GOOD, env={"OPENAI_API_KEY": "sk-test"})
    ch = cfg.channels[0]
    assert ch.probes.light is not None and ch.probes.light.every == 60.0
    assert ch.api_key is not None and ch.api_key.get_secret_value() == "sk-test"
    assert ch.price is not None and ch.price.cost(8) == pytest.approx(0.8)


def test_missing_key_env_makes_the_key_absent_not_an_error() -> None:
    cfg = parse_config(GOOD, env={})
    assert cfg.channels[0].api_key is None


def test_secret_never_shows_in_repr() -> None:
    cfg = parse_config(GOOD, env={"OPENAI_API_KEY": "sk-verysecret"})
    assert "sk-verysecret" not in repr(cfg)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            ("every: 60s", "every: soon"), "channels[0].probes.light.every:", id="duration"
        ),
        pytest.param(
            ("every: 60s", "evry: 60s"), "channels[0].probes.light.evry: unknown key", id="typo"
        ),
        pytest.param(("access: official", "access: pirate"), "channels[0].access:", id="access"),
        pytest.param(
            ("protocol: openai-videos", "protocol: smoke"), "unknown protocol", id="protocol"
        ),
        pytest.param(("id: sora-2-official", "id: Sora 2"), "channels[0].id:", id="id-pattern"),
        pytest.param(
            ("fail_after: 3", "fail_after: 0"), "channels[0].thresholds.fail_after:", id="fail0"
        ),
        pytest.param(
            ("page: openai", "page: nope"), "not defined under status_pages", id="page-ref"
        ),
        pytest.param(
            ("{per_second: 0.10}", "{per_second: 0.1, per_call: 1}"), "exactly one", id="price"
        ),
        pytest.param(("sqlite:///x.db", "mysql://x"), "storage.url:", id="storage"),
        pytest.param(("https://api.openai.com/v1", "ftp://x"), "channels[0].base_url:", id="url"),
    ],
)
def test_each_problem_names_its_key_path(edit: tuple[str, str], expected: str) -> None:
    found = problems_of(GOOD.replace(*edit), {"OPENAI_API_KEY": "k"})
    assert any(expected in p for p in found), found


def test_all_problems_are_reported_at_once() -> None:
    text = GOOD.replace("every: 60s", "every: -1").replace("access: official", "access: x")
    found = problems_of(text)
    assert len(found) == 2, found


def test_env_outside_api_key_must_exist() -> None:
    found = problems_of(GOOD.replace("sqlite:///x.db", "${DB_URL}"))
    assert found == ["storage.url: environment variable DB_URL is not set"]


def test_env_default_is_used() -> None:
    cfg = parse_config(GOOD.replace("sqlite:///x.db", "${DB_URL:-sqlite:///y.db}"), env={})
    assert cfg.storage.url == "sqlite:///y.db"


def test_duplicate_channel_ids() -> None:
    doubled = GOOD + textwrap.indent(GOOD.split("channels:\n", 1)[1], "")
    assert any("used twice" in p for p in problems_of(doubled))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("90s", 90, id="s"),
        pytest.param("5m", 300, id="m"),
        pytest.param("6h", 21600, id="h"),
        pytest.param("1d", 86400, id="d"),
        pytest.param("250ms", 0.25, id="ms"),
        pytest.param(30, 30, id="number"),
    ],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "soon", "-5s", "0s", True])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_not_yaml() -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_config("channels: [", "t.yaml", {})
