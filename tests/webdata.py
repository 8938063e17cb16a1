"""A small, fixed history for the web tests: four channels, ten days, incidents with evidence
(one carrying a channel's key, which must never come out), probe latencies and a canary."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sorawatch.budget import BudgetLimits
from sorawatch.config import Config, parse_config
from sorawatch.domain.incident import Incident, StatusChange
from sorawatch.domain.observation import Evidence, Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status
from sorawatch.store.base import CanaryState, Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SECRET = "sk-alphasecret1234567890"
BASE_SECRET = "hunter2pass"

CONFIG = f"""
web: {{listen: "127.0.0.1:0", title: "Test status", public_url: "https://status.example.test"}}
channels:
  - id: alpha
    name: "Alpha relay"
    group: Sora
    description: "Sora 2 through a relay"
    model: sora-2
    access: relay
    protocol: openai-videos
    base_url: "https://relay.example.test/v1"
    api_key: "{SECRET}"
    price: {{per_second: 0.10}}
    probes: {{light: {{every: 60s}}, canary: {{every: 6h, budget_usd_per_day: 2}}}}
  - id: beta
    name: "Beta reverse"
    group: Sora
    model: sora-2
    access: reverse
    protocol: openai-videos
    base_url: "https://user:{BASE_SECRET}@reverse.example.test/v1"
    api_key: "sk-betakey0987654321"
    price: {{per_second: 0.012}}
  - id: gamma
    name: "Gamma Veo"
    group: Veo
    model: veo-3.1-generate-preview
    access: official
    protocol: gemini-veo
    base_url: "https://generativelanguage.example.test/v1beta"
    api_key: "AIzaSyTestTestTestTest"
    price: {{per_second: 0.40}}
  - id: check
    name: "Plain check"
    group: Other
    model: none
    access: relay
    protocol: http
    base_url: "https://health.example.test"
    check: {{}}
"""


def config() -> Config:
    return parse_config(CONFIG, "web-test.yaml", env={})


def _ev(at: datetime, outcome: Outcome, status: int, detail: str) -> Evidence:
    return Evidence(at, Source.LIGHT, outcome, status, detail)


async def seed(store: Store, now: datetime = NOW) -> None:
    """Ten days of history ending at ``now``."""
    t0 = now - timedelta(days=10)

    async def change(
        cid: str, at: datetime, old: Status, new: Status, reason: str, inc: Incident | None
    ) -> None:
        await store.record_change(StatusChange(cid, at, old, new, reason), inc)

    for cid in ("alpha", "beta", "gamma", "check"):
        await change(cid, t0, Status.UNKNOWN, Status.OPERATIONAL, "first good probe", None)

    # alpha: a 2-hour suspension three days ago whose evidence echoed the key.
    start, end = now - timedelta(days=3), now - timedelta(days=3) + timedelta(hours=2)
    cause = f"401 invalid_api_key: Incorrect API key provided: {SECRET}"
    inc = Incident(
        "inc-alpha-1",
        "alpha",
        start,
        Status.SUSPENDED,
        Status.SUSPENDED,
        cause,
        evidence=(_ev(start, Outcome.AUTH_FAILED, 401, cause),),
    )
    await change("alpha", start, Status.OPERATIONAL, Status.SUSPENDED, cause, inc)
    await change(
        "alpha", end, Status.SUSPENDED, Status.OPERATIONAL, "recovered", replace(inc, ended_at=end)
    )

    # beta: risk control two days ago, suspended for the last hour (still open).
    rc = now - timedelta(days=2)
    rc_cause = "3 consecutive risk_control (403 cf-mitigated: challenge)"
    inc_b = Incident(
        "inc-beta-1",
        "beta",
        rc,
        Status.RISK_CONTROL,
        Status.RISK_CONTROL,
        rc_cause,
        evidence=(_ev(rc, Outcome.RISK_CONTROL, 403, "403 cf-mitigated: challenge"),),
    )
    await change("beta", rc, Status.OPERATIONAL, Status.RISK_CONTROL, rc_cause, inc_b)
    down = now - timedelta(hours=1)
    inc_b2 = replace(inc_b, status=Status.SUSPENDED, worst=Status.SUSPENDED)
    await change("beta", down, Status.RISK_CONTROL, Status.SUSPENDED, "503 channel_paused", inc_b2)

    # gamma: under the vendor's maintenance for the last 30 minutes.
    await change(
        "gamma",
        now - timedelta(minutes=30),
        Status.OPERATIONAL,
        Status.MAINTENANCE,
        "vendor status page: under maintenance",
        None,
    )

    # Probe answers over the last 3 hours: alpha fast, beta slow and failing.
    obs = []
    for i in range(180):
        at = now - timedelta(minutes=180 - i)
        obs.append(Observation("alpha", Source.LIGHT, at, Outcome.OK, 200, 150.0 + i % 50))
        failing = i % 3 == 0
        obs.append(
            Observation(
                "beta",
                Source.LIGHT,
                at,
                Outcome.RISK_CONTROL if failing else Outcome.OK,
                403 if failing else 200,
                900.0 + i * 3,
                detail="403 cf-mitigated: challenge" if failing else "200 ok",
            )
        )
    await store.add_observations(obs)

    # alpha's canary: one completed job today.
    run = await store.reserve_canary(
        "alpha", now - timedelta(hours=2), 0.4, BudgetLimits(channel_usd=2.0)
    )
    await store.finish_canary(
        replace(
            run,
            final_state=CanaryState.COMPLETED,
            outcome=Outcome.OK,
            total_ms=95_000.0,
            accept_ms=400.0,
            finished_at=now - timedelta(hours=2) + timedelta(seconds=95),
        )
    )


# The fields every Statuspage v2 incident (and scheduled maintenance) carries.
INCIDENT_FIELDS = frozenset(
    {
        "id",
        "name",
        "status",
        "impact",
        "created_at",
        "updated_at",
        "started_at",
        "monitoring_at",
        "resolved_at",
        "shortlink",
        "page_id",
        "incident_updates",
    }
)
