"""Alert deliveries and maintenance windows on the web: ``/api/v1/alerts``,
``/api/v1/maintenance``, the Statuspage scheduled maintenances and the pages, over a seeded
memory and SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.webdata import BASE_SECRET, CONFIG, INCIDENT_FIELDS, NOW, SECRET, seed

from sorawatch.config import Config, parse_config
from sorawatch.errors import StoreError
from sorawatch.store.base import DeliveryState, MaintenanceWindow, OutboxMessage, Store
from sorawatch.web import WebService
from sorawatch.web.maintenance import last_occurrence


@pytest.fixture(params=["memory", "sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The memory store and one SQL backend (overrides conftest's four for these tests)."""
    return "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'sw.db'}"


NOTIFIER_SECRET = "notifierpass9876"
ALERT_FIELDS = {
    "seq",
    "alert_id",
    "notifier",
    "route",
    "kind",
    "severity",
    "title",
    "body",
    "channels",
    "created_at",
    "state",
    "attempts",
    "next_attempt_at",
    "last_error",
    "delivered_at",
}
MAINTENANCE_FIELDS = INCIDENT_FIELDS | {"scheduled_for", "scheduled_until", "components"}

# NOW is Tuesday 2026-11-24 12:00 UTC.
WINDOWS_YAML = f"""
alerts:
  notifiers:
    ops: {{url: "json://bot:{NOTIFIER_SECRET}@hooks.example.test/notify"}}
maintenance:
  - name: veo-upgrade
    groups: [Veo]
    start: "2026-11-24T11:00:00Z"
    duration: 2h
    reason: "Veo model upgrade"
  - name: weekly-restart
    channels: [alpha]
    start: "2026-11-01T03:00:00Z"
    duration: 1h
    every: 7d
    reason: "weekly relay restart"
"""


def config() -> Config:
    return parse_config(CONFIG + WINDOWS_YAML, "web-test.yaml", env={})


@dataclass
class Site:
    client: httpx.AsyncClient
    web: WebService
    store: Store
    clock: list[datetime]  # the app's "now": set clock[0] to move time
    windows: dict[str, MaintenanceWindow]  # the stored ones, by name


async def seed_windows(store: Store) -> dict[str, MaintenanceWindow]:
    stored = {}
    for w in (
        MaintenanceWindow(
            "beta-migration",
            NOW + timedelta(days=1),
            NOW + timedelta(days=1, hours=3),
            channels=("beta",),
            reason=f"moving beta off the old key {SECRET}",
        ),
        MaintenanceWindow(
            "old-window",
            NOW - timedelta(days=5),
            NOW - timedelta(days=5, hours=-1),
            channels=("alpha",),
            reason="done long ago",
        ),
        MaintenanceWindow(
            "called-off",
            NOW + timedelta(days=2),
            NOW + timedelta(days=2, hours=1),
            groups=("Sora",),
        ),
        MaintenanceWindow(
            "far-future",
            NOW + timedelta(days=30),
            NOW + timedelta(days=30, hours=1),
            channels=("check",),
        ),
    ):
        stored[w.name] = await store.add_window(w)
    called_off = stored["called-off"].id
    assert called_off is not None
    stored["called-off"] = await store.end_window(called_off, NOW - timedelta(hours=1))
    return stored


def message(alert_id: str, minutes_ago: int, **extra: Any) -> OutboxMessage:
    fields: dict[str, Any] = {
        "route": "all",
        "kind": "problem",
        "severity": "critical",
        "title": f"{alert_id}: Beta reverse is suspended",
        "body": "503 channel_paused",
        "channels": ("beta",),
        "created_at": NOW - timedelta(minutes=minutes_ago),
    } | extra
    return OutboxMessage(alert_id, "ops", **fields)


async def seed_alerts(store: Store) -> dict[str, int]:
    """Five messages: al-1 delivered, al-2 given up on, the others pending. The seqs by id."""
    await store.commit_alerts(
        1,
        "{}",
        [
            message("al-1", 50, kind="recovery", severity="info"),
            # evidence that slipped through unredacted must still not reach the public API
            message("al-2", 40, body=f"401 Incorrect API key provided: {SECRET}"),
            message("al-3", 30),
            message("al-4", 20),
            message("al-5", 10),
        ],
    )
    seqs = {m.alert_id: m.seq for m in await store.messages()}
    assert all(s is not None for s in seqs.values())
    await store.record_attempt(seqs["al-1"] or 0, NOW - timedelta(minutes=49), error=None)
    await store.record_attempt(
        seqs["al-2"] or 0,
        NOW - timedelta(minutes=39),
        error=f"HTTP 500 from json://bot:{NOTIFIER_SECRET}@hooks.example.test/notify",
        give_up=True,
    )
    await store.record_attempt(
        seqs["al-3"] or 0,
        NOW - timedelta(minutes=29),
        error="connection refused",
        next_attempt_at=NOW + timedelta(minutes=1),
    )
    return {k: v for k, v in seqs.items() if v is not None}


@pytest.fixture
async def site(store: Store) -> AsyncIterator[Site]:
    await seed(store)
    windows = await seed_windows(store)
    clock = [NOW]
    web = WebService(config(), store, now=lambda: clock[0])
    await web.cache.rebuild()
    transport = httpx.ASGITransport(app=web.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield Site(c, web, store, clock, windows)
    web.listener._sock.close() if web.listener._sock else None


async def get_json(client: httpx.AsyncClient, path: str) -> Any:
    r = await client.get(path)
    assert r.status_code == 200, (path, r.text)
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def ts(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


# --- /api/v1/alerts --------------------------------------------------------------------------


async def test_alerts_newest_first_with_every_field(site: Site) -> None:
    seqs = await seed_alerts(site.store)
    page = await get_json(site.client, "/api/v1/alerts")
    assert page["next_before"] is None
    rows = page["alerts"]
    assert [a["alert_id"] for a in rows] == ["al-5", "al-4", "al-3", "al-2", "al-1"]
    assert [a["seq"] for a in rows] == sorted(seqs.values(), reverse=True)
    for a in rows:
        assert set(a) == ALERT_FIELDS
    by_id = {a["alert_id"]: a for a in rows}
    assert by_id["al-1"]["state"] == "delivered" and by_id["al-1"]["delivered_at"]
    assert by_id["al-1"]["attempts"] == 1 and by_id["al-1"]["kind"] == "recovery"
    assert by_id["al-3"]["state"] == "pending" and by_id["al-3"]["attempts"] == 1
    assert by_id["al-3"]["next_attempt_at"].startswith("2026-11-24T12:01:00")
    assert by_id["al-3"]["last_error"] == "connection refused"
    assert by_id["al-5"] | {"seq": 0} == {
        "seq": 0,
        "alert_id": "al-5",
        "notifier": "ops",
        "route": "all",
        "kind": "problem",
        "severity": "critical",
        "title": "al-5: Beta reverse is suspended",
        "body": "503 channel_paused",
        "channels": ["beta"],
        "created_at": by_id["al-5"]["created_at"],
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": None,
        "last_error": "",
        "delivered_at": None,
    }
    assert datetime.fromisoformat(by_id["al-5"]["created_at"]) == NOW - timedelta(minutes=10)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param("pending", ["al-5", "al-4", "al-3"], id="pending"),
        pytest.param("delivered", ["al-1"], id="delivered"),
        pytest.param("failed", ["al-2"], id="failed"),
    ],
)
async def test_alerts_filtered_by_state(site: Site, state: str, expected: list[str]) -> None:
    await seed_alerts(site.store)
    page = await get_json(site.client, f"/api/v1/alerts?state={state}")
    assert [a["alert_id"] for a in page["alerts"]] == expected
    assert {a["state"] for a in page["alerts"]} == {state}


async def test_alerts_are_paged_by_seq(site: Site) -> None:
    seqs = await seed_alerts(site.store)
    seen: list[int] = []
    url, pages = "/api/v1/alerts?limit=2", 0
    while url:
        page = await get_json(site.client, url)
        seen += [a["seq"] for a in page["alerts"]]
        pages += 1
        nxt = page["next_before"]
        url = f"/api/v1/alerts?limit=2&before={nxt}" if nxt is not None else ""
    assert pages == 3
    assert seen == sorted(seqs.values(), reverse=True)
    # paging combines with the filter
    first = await get_json(site.client, "/api/v1/alerts?state=pending&limit=1")
    assert [a["alert_id"] for a in first["alerts"]] == ["al-5"]
    rest = await get_json(
        site.client, f"/api/v1/alerts?state=pending&before={first['next_before']}"
    )
    assert [a["alert_id"] for a in rest["alerts"]] == ["al-4", "al-3"]
    assert rest["next_before"] is None


@pytest.mark.parametrize(
    "query",
    ["state=lost", "state=PENDING", "limit=0", "limit=1001", "before=abc", "before=0"],
)
async def test_alerts_bad_query_is_422(site: Site, query: str) -> None:
    r = await site.client.get(f"/api/v1/alerts?{query}")
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][0] == "query"


async def test_alerts_empty_outbox(site: Site) -> None:
    assert await get_json(site.client, "/api/v1/alerts") == {"alerts": [], "next_before": None}


async def test_alerts_redact_keys_and_notifier_credentials(site: Site) -> None:
    await seed_alerts(site.store)
    [failed] = (await get_json(site.client, "/api/v1/alerts?state=failed"))["alerts"]
    assert failed["body"] == "401 Incorrect API key provided: ***"
    assert NOTIFIER_SECRET not in failed["last_error"]
    assert failed["last_error"].startswith("HTTP 500 from ")


# --- /api/v1/maintenance ---------------------------------------------------------------------


async def test_maintenance_lists_config_and_stored_windows(site: Site) -> None:
    rows = await get_json(site.client, "/api/v1/maintenance")
    by_name = {r["name"]: r for r in rows}
    # config windows first, then the stored ones in id order
    assert [r["name"] for r in rows] == [
        "veo-upgrade",
        "weekly-restart",
        "beta-migration",
        "old-window",
        "called-off",
        "far-future",
    ]
    veo = by_name["veo-upgrade"]
    assert veo["id"] is None and veo["source"] == "config" and veo["state"] == "active"
    assert veo["channels"] == ["gamma"] and veo["groups"] == ["Veo"]  # the group, expanded
    assert datetime.fromisoformat(veo["start"]) == NOW - timedelta(hours=1)
    assert datetime.fromisoformat(veo["end"]) == NOW + timedelta(hours=1)
    assert veo["reason"] == "Veo model upgrade" and veo["every_s"] is None
    weekly = by_name["weekly-restart"]
    assert weekly["state"] == "upcoming" and weekly["every_s"] == 7 * 86400
    assert weekly["start"].startswith("2026-11-29T03:00:00")  # the next Sunday occurrence
    beta = by_name["beta-migration"]
    assert beta["source"] == "cli" and beta["id"] == site.windows["beta-migration"].id
    assert beta["state"] == "upcoming" and beta["channels"] == ["beta"]
    assert SECRET not in beta["reason"] and beta["reason"].endswith("old key ***")
    old = by_name["old-window"]
    assert old["state"] == "ended" and old["start"] is None and old["end"] is None
    off = by_name["called-off"]
    assert off["state"] == "ended" and off["ended_at"] is not None
    assert off["channels"] == ["alpha", "beta"]  # group Sora
    assert by_name["far-future"]["state"] == "upcoming"


# --- Statuspage v2 ---------------------------------------------------------------------------


def check_maintenance(m: dict[str, Any], component_ids: set[str]) -> None:
    assert set(m) >= MAINTENANCE_FIELDS
    assert m["impact"] == "maintenance"
    assert m["status"] in {"scheduled", "in_progress", "verifying", "completed"}
    assert m["page_id"] == "sorawatch"
    assert m["shortlink"].startswith("https://status.example.test/")
    assert {c["id"] for c in m["components"]} <= component_ids
    [update] = m["incident_updates"]
    assert update["status"] == m["status"] and update["incident_id"] == m["id"]
    assert set(update) >= {"id", "status", "body", "incident_id", "created_at", "display_at"}
    for affected in update["affected_components"]:
        assert affected["code"] in component_ids
        assert affected["new_status"] == "under_maintenance"


async def test_statuspage_maintenances(site: Site) -> None:
    components = await get_json(site.client, "/api/v2/components.json")
    component_ids = {c["id"] for c in components["components"] if not c["group"]}
    active = (await get_json(site.client, "/api/v2/scheduled-maintenances/active.json"))[
        "scheduled_maintenances"
    ]
    upcoming = (await get_json(site.client, "/api/v2/scheduled-maintenances/upcoming.json"))[
        "scheduled_maintenances"
    ]
    every = (await get_json(site.client, "/api/v2/scheduled-maintenances.json"))[
        "scheduled_maintenances"
    ]
    for m in [*active, *upcoming, *every]:
        check_maintenance(m, component_ids)

    # gamma's maintenance is our window's, so it is not listed again as the vendor's
    [veo] = active
    assert veo["id"] == "mw-config-veo-upgrade" and veo["name"] == "veo-upgrade"
    assert veo["status"] == "in_progress" and veo["resolved_at"] is None
    assert veo["scheduled_for"] == ts(NOW - timedelta(hours=1))
    assert veo["scheduled_until"] == ts(NOW + timedelta(hours=1))
    assert veo["started_at"] == veo["scheduled_for"]
    assert [c["id"] for c in veo["components"]] == ["gamma"]
    assert veo["components"][0]["status"] == "under_maintenance"
    assert veo["incident_updates"][0]["body"] == "Veo model upgrade"

    beta_id = f"mw-{site.windows['beta-migration'].id}"
    far_id = f"mw-{site.windows['far-future'].id}"
    weekly_start = datetime.fromisoformat("2026-11-29T03:00:00+00:00")
    weekly_id = f"mw-config-weekly-restart-{int(weekly_start.timestamp())}"
    assert [m["id"] for m in upcoming] == [beta_id, weekly_id, far_id]  # soonest first
    assert {m["status"] for m in upcoming} == {"scheduled"}
    assert all(m["started_at"] is None for m in upcoming)
    by_id = {m["id"]: m for m in every}
    assert [c["id"] for c in by_id[beta_id]["components"]] == ["beta"]
    assert [c["id"] for c in by_id[weekly_id]["components"]] == ["alpha"]
    assert by_id[beta_id]["scheduled_until"] == ts(NOW + timedelta(days=1, hours=3))

    old = by_id[f"mw-{site.windows['old-window'].id}"]
    assert old["status"] == "completed"
    assert old["resolved_at"] == old["scheduled_until"] == ts(NOW - timedelta(days=5, hours=-1))
    # a window called off before it began never happened: not published
    assert f"mw-{site.windows['called-off'].id}" not in by_id
    assert len(every) == 5
    starts = [m["scheduled_for"] for m in every]
    assert starts == sorted(starts, reverse=True)  # the most recent first

    summary = await get_json(site.client, "/api/v2/summary.json")
    assert [m["id"] for m in summary["scheduled_maintenances"]] == [
        veo["id"],
        *(m["id"] for m in upcoming),
    ]


async def test_statuspage_vendor_maintenance_stays_when_no_window_covers_it(site: Site) -> None:
    # Before the veo window starts, gamma's maintenance (the vendor's) is listed as its own.
    site.clock[0] = NOW - timedelta(hours=2)
    active = await get_json(site.client, "/api/v2/scheduled-maintenances/active.json")
    [vendor] = active["scheduled_maintenances"]
    assert vendor["id"].startswith("maint-gamma-") and vendor["status"] == "in_progress"
    upcoming = await get_json(site.client, "/api/v2/scheduled-maintenances/upcoming.json")
    assert "mw-config-veo-upgrade" in {m["id"] for m in upcoming["scheduled_maintenances"]}


# --- pages -----------------------------------------------------------------------------------


async def test_overview_shows_active_and_soon_windows(site: Site) -> None:
    html = (await site.client.get("/")).text
    section = html[html.index('<section class="maintenance"') :]
    section = section[: section.index("</section>")]
    assert "veo-upgrade" in section and "Veo model upgrade" in section and "In progress" in section
    assert '<a href="/channels/gamma">Gamma Veo</a>' in section
    assert "2026-11-24 11:00 UTC → 2026-11-24 13:00 UTC" in section
    assert "weekly-restart" in section and "repeats every 7 d" in section
    assert "beta-migration" in section and "Scheduled" in section
    assert "far-future" not in section  # more than 7 days ahead
    assert "old-window" not in section and "called-off" not in section
    # gamma's maintenance is explained by the window, not listed again as the vendor's
    assert "under maintenance since" not in section
    assert section.index("veo-upgrade") < section.index("beta-migration")
    assert section.index("beta-migration") < section.index("weekly-restart")


async def test_channel_page_shows_its_windows(site: Site) -> None:
    alpha = (await site.client.get("/channels/alpha")).text
    assert "weekly-restart" in alpha and "weekly relay restart" in alpha
    assert "old-window" not in alpha and "veo-upgrade" not in alpha
    beta = (await site.client.get("/channels/beta")).text
    assert "beta-migration" in beta and "moving beta off the old key ***" in beta
    gamma = (await site.client.get("/channels/gamma")).text
    assert "veo-upgrade" in gamma and "beta-migration" not in gamma
    check = (await site.client.get("/channels/check")).text
    assert "far-future" in check  # a channel page lists every planned window, however far


async def test_pages_follow_windows_without_a_board_change(site: Site) -> None:
    version = site.web.cache.board().version
    first = (await site.client.get("/", headers={"X-Sorawatch-Partial": "1"})).text
    assert "late-addition" not in first
    # added from the CLI in another process: seen at the next read of the store
    await site.store.add_window(
        MaintenanceWindow(
            "late-addition",
            NOW + timedelta(hours=3),
            NOW + timedelta(hours=4),
            channels=("beta",),
            reason="added later",
        )
    )
    await site.web.cache.maintenance.refresh(force=True)
    page = (await site.client.get("/", headers={"X-Sorawatch-Partial": "1"})).text
    assert "late-addition" in page
    sp = await get_json(site.client, "/api/v2/scheduled-maintenances/upcoming.json")
    assert "late-addition" in {m["name"] for m in sp["scheduled_maintenances"]}

    # time passes: the beta migration starts, the veo upgrade is over
    site.clock[0] = NOW + timedelta(days=1, minutes=5)
    page = (await site.client.get("/", headers={"X-Sorawatch-Partial": "1"})).text
    section = page[page.index('<section class="maintenance"') :]
    section = section[: section.index("</section>")]
    assert "veo-upgrade" not in section
    assert 'beta-migration — <span class="st s-maintenance">In progress' in section
    active = await get_json(site.client, "/api/v2/scheduled-maintenances/active.json")
    assert [m["name"] for m in active["scheduled_maintenances"]][:1] == ["beta-migration"]
    assert site.web.cache.board().version == version  # the board itself never moved


async def test_store_failure_keeps_the_last_windows(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = site.web.cache.maintenance
    await book.refresh(force=True)
    known = book.windows()
    assert len(known) == 6

    async def broken() -> list[MaintenanceWindow]:
        raise StoreError("cannot read from the store: disk I/O error")

    monkeypatch.setattr(site.store, "windows", broken)
    await book.refresh(force=True)
    assert book.windows() == known
    assert (await site.client.get("/api/v1/maintenance")).status_code == 200


async def test_openapi_lists_the_new_endpoints(site: Site) -> None:
    doc = await get_json(site.client, "/api/v1/openapi.json")
    assert "get" in doc["paths"]["/api/v1/alerts"]
    assert "get" in doc["paths"]["/api/v1/maintenance"]
    params = {p["name"] for p in doc["paths"]["/api/v1/alerts"]["get"]["parameters"]}
    assert params == {"state", "limit", "before"}
    schemas = doc["components"]["schemas"]
    assert set(schemas["AlertOut"]["properties"]) == ALERT_FIELDS
    assert schemas["DeliveryState"]["enum"] == [s.value for s in DeliveryState]


async def test_nothing_reveals_a_key_or_credentials(site: Site) -> None:
    await seed_alerts(site.store)
    paths = [
        "/",
        "/channels/alpha",
        "/channels/beta",
        "/api/v1/alerts",
        "/api/v1/alerts?state=failed",
        "/api/v1/maintenance",
        "/api/v2/summary.json",
        "/api/v2/scheduled-maintenances.json",
        "/api/v2/scheduled-maintenances/active.json",
        "/api/v2/scheduled-maintenances/upcoming.json",
    ]
    secrets = (SECRET, BASE_SECRET, NOTIFIER_SECRET, "sk-betakey", "AIzaSyTest", "example.test/v1")
    for path in paths:
        body = (await site.client.get(path)).text
        for secret in secrets:
            assert secret not in body, (path, secret)


# --- the occurrence published for a window that has ended -------------------------------------


def test_last_occurrence() -> None:
    day = timedelta(days=1)
    once = MaintenanceWindow("once", NOW, NOW + timedelta(hours=2))
    assert last_occurrence(once, NOW - day) is None
    assert last_occurrence(once, NOW + day) == (NOW, NOW + timedelta(hours=2))
    weekly = MaintenanceWindow("w", NOW, NOW + timedelta(hours=1), every_s=7 * 86400)
    assert last_occurrence(weekly, NOW + 7 * day) == (NOW, NOW + timedelta(hours=1))
    assert last_occurrence(weekly, NOW + 7 * day + timedelta(seconds=1))[0] == NOW + 7 * day  # type: ignore[index]
    cut = MaintenanceWindow(
        "cut",
        NOW,
        NOW + timedelta(hours=1),
        every_s=86400,
        ended_at=NOW + day + timedelta(minutes=10),
    )
    assert last_occurrence(cut, NOW + 30 * day) == (NOW + day, NOW + day + timedelta(minutes=10))
    never = MaintenanceWindow("never", NOW, NOW + timedelta(hours=1), ended_at=NOW - day)
    assert last_occurrence(never, NOW + day) is None


async def test_the_alerts_api_can_be_turned_off(store: Store) -> None:
    await seed_alerts(store)
    cfg = config()
    off = cfg.model_copy(update={"web": cfg.web.model_copy(update={"alerts_api": False})})
    web = WebService(off, store, now=lambda: NOW)
    try:
        transport = httpx.ASGITransport(app=web.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            r = await c.get("/api/v1/alerts")
            assert r.status_code == 404 and "web.alerts_api" in r.text
    finally:
        await web.listener.close(reserve=False)
