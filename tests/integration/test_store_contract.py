"""The store contract: every backend (memory, SQLite, PostgreSQL) passes these same tests."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine
from tests.stores import StoreFactory, sql_only

from sorawatch.budget import BudgetLimits
from sorawatch.domain.incident import Incident, Segment, StatusChange
from sorawatch.domain.observation import Evidence, Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status
from sorawatch.errors import StoreError
from sorawatch.store import (
    LATENCY_BOUNDS_MS,
    CanaryRun,
    CanaryState,
    Resolution,
    Rollup,
    SqlStore,
    Store,
    open_store,
    schema,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=8))


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def obs(
    channel_id: str = "a",
    at: datetime = T0,
    outcome: Outcome = Outcome.OK,
    source: Source = Source.LIGHT,
    latency_ms: float | None = 100.0,
    **extra: object,
) -> Observation:
    return Observation(channel_id, source, at, outcome, latency_ms=latency_ms, **extra)  # type: ignore[arg-type]


def unstored(o: Observation) -> Observation:
    return dataclasses.replace(o, id=None)


def is_utc(value: datetime | None) -> bool:
    return value is not None and value.utcoffset() == timedelta(0)


def change(
    at: datetime, old: Status, new: Status, channel_id: str = "a", **extra: object
) -> StatusChange:
    return StatusChange(channel_id, at, old, new, reason=f"{old}->{new}", **extra)  # type: ignore[arg-type]


# observations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "original",
    [
        pytest.param(
            Observation(
                channel_id="sora-relay",
                source=Source.CANARY,
                at=T0 + timedelta(seconds=1, microseconds=234567),
                outcome=Outcome.RATE_LIMITED,
                http_status=429,
                latency_ms=812.5,
                cost_usd=0.25,
                detail="429 rate_limit_exceeded — 负载已饱和",
                reported=Status.DEGRADED,
                inconclusive=True,
                sunset=datetime(2026, 1, 31, tzinfo=UTC),
            ),
            id="every-field",
        ),
        pytest.param(
            Observation("veo", Source.STATUSPAGE, T0, Outcome.CONNECT_ERROR), id="defaults"
        ),
        pytest.param(
            Observation("veo", Source.TRAFFIC, T0.astimezone(CST), Outcome.OK, 200, 10.0),
            id="non-utc-offset",
        ),
    ],
)
async def test_observation_round_trips_every_field(store: Store, original: Observation) -> None:
    await store.add_observations([original])

    [got] = await store.observations()

    assert got.id is not None
    assert unstored(got) == original
    assert is_utc(got.at)
    assert got.sunset is None or is_utc(got.sunset)


async def test_observations_come_back_oldest_first_with_distinct_ids(store: Store) -> None:
    times = [5, 1, 4, 2, 3, 0]
    await store.add_observations([obs(at=T0 + minutes(m)) for m in times[:3]])
    await store.add_observations([obs(at=T0 + minutes(m)) for m in times[3:]])

    got = await store.observations()

    assert [o.at for o in got] == [T0 + minutes(m) for m in sorted(times)]
    assert len({o.id for o in got}) == len(times)


FILTER_DATA = [("a", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({}, FILTER_DATA, id="everything"),
        pytest.param({"channel_id": "b"}, [("b", 1), ("b", 2)], id="one-channel"),
        pytest.param({"since": T0 + minutes(2)}, [("a", 2), ("b", 2), ("a", 3)], id="since-incl"),
        pytest.param({"until": T0 + minutes(1)}, [("a", 0)], id="until-excl"),
        pytest.param(
            {"channel_id": "a", "since": T0 + minutes(1), "until": T0 + minutes(3)},
            [("a", 1), ("a", 2)],
            id="channel-and-window",
        ),
        pytest.param({"limit": 2}, FILTER_DATA[:2], id="limit-keeps-oldest"),
        pytest.param({"channel_id": "zzz"}, [], id="unknown-channel"),
    ],
)
async def test_observation_filters(
    store: Store, query: dict[str, object], expected: list[tuple[str, int]]
) -> None:
    await store.add_observations([obs(cid, T0 + minutes(m)) for cid, m in FILTER_DATA])

    got = await store.observations(**query)  # type: ignore[arg-type]

    assert [(o.channel_id, o.at) for o in got] == [(c, T0 + minutes(m)) for c, m in expected]


async def test_concurrent_writers_lose_nothing(store: Store) -> None:
    batches = [[obs(at=T0 + timedelta(seconds=10 * b + i)) for i in range(10)] for b in range(20)]

    await asyncio.gather(
        *(store.add_observations(batch) for batch in batches),
        *(store.observations(limit=5) for _ in range(5)),
    )

    got = await store.observations()
    assert len(got) == 200
    assert len({o.id for o in got}) == 200
    [day] = await store.rollups("a", Resolution.DAY, T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert day.count == 200


# rollups --------------------------------------------------------------------------------------


def random_observations(seed: int, n: int, span: timedelta) -> list[Observation]:
    rnd = random.Random(seed)
    outcomes = list(Outcome)
    return [
        obs(
            channel_id=rnd.choice(["a", "b"]),
            at=T0 + span * rnd.random(),
            outcome=rnd.choice(outcomes),
            source=rnd.choice([Source.LIGHT, Source.CANARY]),
            latency_ms=None
            if rnd.random() < 0.1
            else rnd.choice([50.0, 50.5, 70000.0])
            if rnd.random() < 0.1
            else round(rnd.uniform(1, 40000), 3),
            cost_usd=rnd.choice([0.0, 0.1, 0.35]),
        )
        for _ in range(n)
    ]


def floor(at: datetime, resolution: Resolution) -> datetime:
    step = {Resolution.MINUTE: 60, Resolution.HOUR: 3600, Resolution.DAY: 86400}[resolution]
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % step, UTC)


def histogram_slot(latency: float) -> int:
    for i, bound in enumerate(LATENCY_BOUNDS_MS):
        if latency <= bound:
            return i
    return len(LATENCY_BOUNDS_MS)


@pytest.mark.parametrize("resolution", list(Resolution), ids=str)
@pytest.mark.parametrize("source", [None, Source.CANARY], ids=["all-sources", "canary"])
async def test_rollups_match_the_raw_data(
    store: Store, resolution: Resolution, source: Source | None
) -> None:
    data = random_observations(seed=7, n=400, span=timedelta(days=2, hours=5))
    for start in range(0, len(data), 100):
        await store.add_observations(data[start : start + 100])

    got = await store.rollups(
        "a", resolution, T0 - timedelta(days=1), T0 + timedelta(days=4), source
    )

    groups: dict[tuple[datetime, Source], list[Observation]] = defaultdict(list)
    for o in data:
        if o.channel_id == "a" and source in (None, o.source):
            groups[(floor(o.at, resolution), o.source)].append(o)
    assert [(r.bucket, r.source) for r in got] == sorted(groups, key=lambda k: (k[0], k[1].value))
    for rollup in got:
        members = groups[(rollup.bucket, rollup.source)]
        latencies = [o.latency_ms for o in members if o.latency_ms is not None]
        slots = Counter(histogram_slot(v) for v in latencies)
        assert rollup.resolution == resolution
        assert is_utc(rollup.bucket)
        assert rollup.count == len(members)
        assert rollup.outcomes == Counter(o.outcome for o in members)
        assert rollup.good == sum(o.outcome.is_good for o in members)
        assert rollup.latency_count == len(latencies)
        assert rollup.latency_sum_ms == pytest.approx(sum(latencies))
        assert rollup.latency_max_ms == max(latencies, default=0.0)
        assert rollup.latency_buckets == tuple(slots[i] for i in range(len(LATENCY_BOUNDS_MS) + 1))
        assert rollup.cost_usd == pytest.approx(sum(o.cost_usd for o in members))


async def test_rollup_window_is_half_open(store: Store) -> None:
    await store.add_observations([obs(at=T0 + minutes(m)) for m in (0, 1, 2)])

    got = await store.rollups("a", Resolution.MINUTE, T0 + minutes(1), T0 + minutes(2))

    assert [r.bucket for r in got] == [T0 + minutes(1)]


def total(rollups: list[Rollup]) -> tuple[int, float, float]:
    return (
        sum(r.count for r in rollups),
        round(sum(r.latency_sum_ms for r in rollups), 6),
        round(sum(r.cost_usd for r in rollups), 6),
    )


async def test_compact_keeps_totals_and_drops_old_rows(store: Store) -> None:
    now = T0 + timedelta(days=100)
    ages = {  # age → expected to survive in (raw, minute, hour, day)
        timedelta(days=95): (False, False, False, True),
        timedelta(days=10): (False, False, True, True),
        timedelta(days=1): (True, True, True, True),
        timedelta(hours=1): (True, True, True, True),
        timedelta(minutes=1): (True, True, True, True),
    }
    await store.add_observations(
        [obs(at=now - age, latency_ms=10.0 * i) for i, age in enumerate(ages)]
    )
    everything = (now - timedelta(days=400), now + timedelta(days=1))
    before = {res: total(await store.rollups("a", res, *everything)) for res in Resolution}
    assert len(set(before.values())) == 1, "every resolution holds the same totals"

    deleted = await store.compact(now, raw_retention_s=timedelta(days=7).total_seconds())

    kept = {
        name: [age for age, survives in ages.items() if survives[i]]
        for i, name in enumerate(("raw", *Resolution))
    }
    assert [o.at for o in await store.observations()] == sorted(now - a for a in kept["raw"])
    dropped_rollups = 0
    for res in Resolution:
        rows = await store.rollups("a", res, *everything)
        expected = sorted({floor(now - a, res) for a in kept[res]})
        assert [r.bucket for r in rows] == expected
        dropped_rollups += len({floor(now - a, res) for a in ages}) - len(expected)
    day = await store.rollups("a", Resolution.DAY, *everything)
    assert total(day) == before[Resolution.DAY]
    assert deleted == len(ages) - len(kept["raw"]) + dropped_rollups
    assert await store.compact(now, raw_retention_s=timedelta(days=7).total_seconds()) == 0


# status changes, timeline, incidents ------------------------------------------------------------

EVIDENCE = (
    Evidence(T0.astimezone(CST), Source.LIGHT, Outcome.OVERLOADED, 503, "503 server_is_overloaded"),
    Evidence(T0 + minutes(1), Source.STATUSPAGE, Outcome.OK, None, "component major_outage"),
)


async def test_changes_round_trip_in_order(store: Store) -> None:
    first = change(T0, Status.UNKNOWN, Status.OPERATIONAL)
    second = change(
        T0.astimezone(CST) + minutes(5),
        Status.OPERATIONAL,
        Status.DEGRADED,
        sources=("light", "statuspage"),
        evidence=EVIDENCE,
    )
    other = change(T0 + minutes(2), Status.UNKNOWN, Status.SUSPENDED, channel_id="b")
    for c in (second, first, other):
        await store.record_change(c, None)

    got = await store.changes()

    assert got == [first, other, second]
    assert all(is_utc(c.at) for c in got)
    assert all(is_utc(e.at) for c in got for e in c.evidence)
    assert await store.changes(channel_id="b") == [other]
    assert await store.changes(since=T0 + minutes(2)) == [other, second]
    assert await store.changes(limit=1) == [first]


TIMELINE = [
    change(T0, Status.UNKNOWN, Status.OPERATIONAL),
    change(T0 + minutes(10), Status.OPERATIONAL, Status.DEGRADED),
    change(T0 + minutes(20), Status.DEGRADED, Status.OPERATIONAL),
]
OP, DEG = Status.OPERATIONAL, Status.DEGRADED


def seg(start: int, status: Status, end: int | None) -> Segment:
    return Segment(T0 + minutes(start), status, None if end is None else T0 + minutes(end))


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        pytest.param(-5, None, [seg(0, OP, 10), seg(10, DEG, 20), seg(20, OP, None)], id="all"),
        pytest.param(5, None, [seg(5, OP, 10), seg(10, DEG, 20), seg(20, OP, None)], id="clipped"),
        pytest.param(10, None, [seg(10, DEG, 20), seg(20, OP, None)], id="since-at-change"),
        pytest.param(5, 15, [seg(5, OP, 10), seg(10, DEG, 15)], id="window-inside"),
        pytest.param(12, 20, [seg(12, DEG, 20)], id="until-at-change"),
        pytest.param(30, None, [seg(30, OP, None)], id="after-last-change"),
        pytest.param(30, 40, [seg(30, OP, None)], id="current-stays-open"),
        pytest.param(-20, -10, [], id="before-any-change"),
    ],
)
async def test_timeline(
    store: Store, since: int, until: int | None, expected: list[Segment]
) -> None:
    for c in [*TIMELINE, change(T0 + minutes(15), OP, DEG, channel_id="other")]:
        await store.record_change(c, None)

    got = await store.timeline(
        "a", T0 + minutes(since), None if until is None else T0 + minutes(until)
    )

    assert got == expected


@pytest.mark.parametrize(
    ("since", "until"),
    [
        pytest.param(-5, None, id="all"),
        pytest.param(12, None, id="clipped"),
        pytest.param(5, 15, id="window"),
        pytest.param(-20, -10, id="before-any-change"),
        pytest.param(30, 40, id="after"),
    ],
)
async def test_timelines_agree_with_timeline_per_channel(
    store: Store, since: int, until: int | None
) -> None:
    others = [
        change(T0 + minutes(15), OP, DEG, channel_id="other"),
        change(T0 - minutes(30), Status.UNKNOWN, OP, channel_id="quiet"),
        change(T0 + minutes(15), OP, DEG, channel_id="quiet"),
        change(T0 + minutes(15), DEG, Status.SUSPENDED, channel_id="quiet"),  # same instant
    ]
    for c in [*TIMELINE, *others]:
        await store.record_change(c, None)
    start = T0 + minutes(since)
    end = None if until is None else T0 + minutes(until)

    got = await store.timelines(start, end)

    expected = {cid: await store.timeline(cid, start, end) for cid in ("a", "other", "quiet")}
    assert got == {cid: segs for cid, segs in expected.items() if segs}


async def test_rollups_of_every_channel(store: Store) -> None:
    await store.add_observations(
        [obs(at=T0), obs(at=T0, channel_id="b"), obs(at=T0 + minutes(1), channel_id="b")]
    )

    got = await store.rollups(None, Resolution.MINUTE, T0, T0 + minutes(5))

    assert sorted((r.channel_id, r.bucket) for r in got) == [
        ("a", T0),
        ("b", T0),
        ("b", T0 + minutes(1)),
    ]


def incident(
    iid: str, start: int, end: int | None = None, channel_id: str = "a", **extra: object
) -> Incident:
    fields: dict[str, object] = {"status": DEG, "worst": DEG, "cause": "overloaded"} | extra
    return Incident(
        id=iid,
        channel_id=channel_id,
        started_at=T0 + minutes(start),
        ended_at=None if end is None else T0 + minutes(end),
        **fields,  # type: ignore[arg-type]
    )


async def test_incident_opens_updates_and_closes(store: Store) -> None:
    opened = incident("inc-1", 0, evidence=EVIDENCE[:1])
    worse = dataclasses.replace(opened, status=Status.SUSPENDED, worst=Status.SUSPENDED)
    closed = dataclasses.replace(worse, status=OP, ended_at=T0 + minutes(30), evidence=EVIDENCE)
    steps = [
        (change(T0, OP, DEG), opened, [opened]),
        (change(T0 + minutes(5), DEG, Status.SUSPENDED), worse, [worse]),
        (change(T0 + minutes(30), Status.SUSPENDED, OP), closed, []),
    ]
    for status_change, inc, open_now in steps:
        await store.record_change(status_change, inc)

        assert await store.incidents() == [inc]
        assert await store.incidents(open_only=True) == open_now
    [stored] = await store.incidents()
    assert is_utc(stored.started_at)
    assert is_utc(stored.ended_at)
    assert all(is_utc(e.at) for e in stored.evidence)
    assert len(await store.changes()) == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({}, ["open-b", "late", "open-a", "early"], id="newest-first"),
        pytest.param({"open_only": True}, ["open-b", "open-a"], id="open-only"),
        pytest.param({"channel_id": "a"}, ["late", "open-a", "early"], id="one-channel"),
        pytest.param({"since": T0 + minutes(15)}, ["open-b", "late", "open-a"], id="since"),
        pytest.param({"limit": 2}, ["open-b", "late"], id="limit"),
    ],
)
async def test_incident_queries(
    store: Store, query: dict[str, object], expected: list[str]
) -> None:
    for inc in [
        incident("early", 0, 10),
        incident("open-a", 5),
        incident("late", 20, 30),
        incident("open-b", 25, channel_id="b"),
    ]:
        await store.record_change(change(inc.started_at, OP, DEG, inc.channel_id), inc)

    got = await store.incidents(**query)  # type: ignore[arg-type]

    assert [i.id for i in got] == expected


async def test_snapshots_resume_every_channel(store: Store) -> None:
    await store.add_observations([obs("a", T0 + timedelta(seconds=s)) for s in range(25)])
    await store.add_observations([obs("b", T0 + minutes(m)) for m in (3, 1, 2)])
    still_open = incident("inc-a", 0)
    await store.record_change(TIMELINE[0], None)
    await store.record_change(change(T0 + minutes(1), OP, DEG), still_open)
    await store.record_change(
        change(T0, OP, DEG, channel_id="c"), incident("c1", 0, channel_id="c")
    )
    await store.record_change(
        change(T0 + minutes(9), DEG, OP, channel_id="c"), incident("c1", 0, 9, channel_id="c")
    )

    got = {s.channel_id: s for s in await store.snapshots()}

    assert sorted(got) == ["a", "b", "c"]
    a, b, c = got["a"], got["b"], got["c"]
    assert (a.status, a.since, a.open_incident) == (DEG, T0 + minutes(1), still_open)
    assert [o.at for o in a.last_observations] == [T0 + timedelta(seconds=s) for s in range(5, 25)]
    assert (b.status, b.since, b.open_incident) == (Status.UNKNOWN, T0 + minutes(1), None)
    assert [o.at for o in b.last_observations] == [T0 + minutes(m) for m in (1, 2, 3)]
    assert (c.status, c.since, c.open_incident, c.last_observations) == (
        OP,
        T0 + minutes(9),
        None,
        (),
    )


async def test_empty_store(store: Store) -> None:
    assert await store.observations() == []
    assert await store.changes() == []
    assert await store.incidents() == []
    assert await store.snapshots() == []
    assert await store.timeline("a", T0) == []
    assert await store.compact(T0, 3600) == 0
    await store.add_observations([])


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda s: s.add_observations([obs(at=datetime(2025, 1, 1))]), id="observation"
        ),
        pytest.param(lambda s: s.observations(since=datetime(2025, 1, 1)), id="since"),
        pytest.param(
            lambda s: s.record_change(change(datetime(2025, 1, 1), OP, DEG), None), id="change"
        ),
        pytest.param(lambda s: s.compact(datetime(2025, 1, 1), 60), id="compact"),
    ],
)
async def test_naive_datetimes_are_refused(store: Store, call: object) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        await call(store)  # type: ignore[operator]
    assert await store.observations() == []
    assert await store.changes() == []


async def test_size_is_known_for_sql_backends(store: Store) -> None:
    size = await store.size_bytes()

    assert (size is None) == (not isinstance(store, SqlStore))
    assert size is None or size > 0


# canary runs and spend ------------------------------------------------------------------------

CHEAP = BudgetLimits(channel_usd=1.0, global_usd=1.5)


def finished(run: CanaryRun, **changes: object) -> CanaryRun:
    fields: dict[str, object] = {
        "final_state": CanaryState.COMPLETED,
        "outcome": Outcome.OK,
        "job_id": "video_123",
        "accept_ms": 412.5,
        "queue_ms": 2000.0,
        "generate_ms": 8000.0,
        "total_ms": 10412.5,
        "finished_at": run.started_at + timedelta(seconds=10.4125),
        "detail": "accept 412 ms, queue 2.0 s, generate 8.0 s — 完成",
    } | changes
    return dataclasses.replace(run, **fields)  # type: ignore[arg-type]


async def test_a_reserved_run_holds_its_cost_and_finishes_with_every_field(store: Store) -> None:
    run = await store.reserve_canary("a", T0.astimezone(CST), 0.4, CHEAP)

    assert run.id is not None
    assert (run.final_state, run.cost_usd, run.started_at) == (CanaryState.RUNNING, 0.4, T0)
    assert is_utc(run.started_at)
    assert await store.spend(T0, "a") == pytest.approx(0.4)
    done = finished(run, failure_class="moderation", outcome=Outcome.REJECTED)
    await store.finish_canary(done)

    assert await store.canary_runs() == [done]
    [got] = await store.canary_runs()
    assert is_utc(got.started_at) and is_utc(got.finished_at)


async def test_finishing_unbilled_releases_the_reservation(store: Store) -> None:
    run = await store.reserve_canary("a", T0, 0.8, CHEAP)
    assert (
        await store.reserve_canary("a", T0, 0.4, CHEAP)
    ).final_state is CanaryState.SKIPPED_BUDGET

    await store.finish_canary(finished(run, final_state=CanaryState.FAILED, cost_usd=0.0))

    assert await store.spend(T0, "a") == 0.0
    assert (await store.reserve_canary("a", T0, 0.4, CHEAP)).final_state is CanaryState.RUNNING


@pytest.mark.parametrize(
    ("reserved", "channel", "cost", "expected", "why"),
    [
        pytest.param([("a", 0.6)], "a", 0.4, CanaryState.RUNNING, "", id="exactly-the-budget"),
        pytest.param(
            [("a", 0.6)],
            "a",
            0.5,
            CanaryState.SKIPPED_BUDGET,
            "channel canary budget: $0.60 spent today (UTC) + $0.50 would exceed $1.00",
            id="channel-budget",
        ),
        pytest.param(
            [("a", 0.9), ("b", 0.5)],
            "c",
            0.2,
            CanaryState.SKIPPED_BUDGET,
            "global canary budget: $1.40 spent today (UTC) + $0.20 would exceed $1.50",
            id="global-budget",
        ),
        pytest.param([("a", 0.9), ("b", 0.5)], "c", 0.1, CanaryState.RUNNING, "", id="global-fits"),
    ],
)
async def test_budgets_are_checked_per_channel_and_globally(
    store: Store,
    reserved: list[tuple[str, float]],
    channel: str,
    cost: float,
    expected: CanaryState,
    why: str,
) -> None:
    for cid, amount in reserved:
        assert (
            await store.reserve_canary(cid, T0, amount, CHEAP)
        ).final_state is CanaryState.RUNNING

    run = await store.reserve_canary(channel, T0 + minutes(1), cost, CHEAP)

    assert (run.final_state, run.detail) == (expected, why)
    assert run.cost_usd == (cost if expected is CanaryState.RUNNING else 0.0)
    assert (await store.canary_runs(channel_id=channel))[-1] == run  # a skip is recorded too


async def test_budgets_reset_at_the_next_utc_midnight(store: Store) -> None:
    late = datetime(2025, 3, 1, 23, 59, 59, tzinfo=UTC)
    await store.reserve_canary("a", late, 1.0, CHEAP)
    assert (
        await store.reserve_canary("a", late, 0.1, CHEAP)
    ).final_state is CanaryState.SKIPPED_BUDGET

    # 08:00 in UTC+8 on 2 March is still 1 March in UTC: the same budget day
    same_day = datetime(2025, 3, 2, 7, 59, tzinfo=CST)
    assert (
        await store.reserve_canary("a", same_day, 0.1, CHEAP)
    ).final_state is CanaryState.SKIPPED_BUDGET
    next_day = await store.reserve_canary("a", late + timedelta(seconds=1), 1.0, CHEAP)

    assert next_day.final_state is CanaryState.RUNNING
    assert await store.spend(late) == pytest.approx(1.0)
    assert await store.spend(late + timedelta(seconds=1), "a") == pytest.approx(1.0)
    assert await store.spend(late + timedelta(days=2)) == 0.0


async def test_concurrent_reservations_never_overspend(
    store_factory: StoreFactory, store_url: str
) -> None:
    # Several stores on one database stand for several processes (an in-memory SQLite is a
    # database per store, so there they are one).
    first = await store_factory()
    shared = store_url.endswith(":memory:") or store_url == "memory://"
    stores = [first] * 8 if shared else [first, *[await store_factory() for _ in range(7)]]
    limits = BudgetLimits(channel_usd=None, global_usd=1.0)

    runs = await asyncio.gather(
        *(stores[i % 8].reserve_canary(f"ch{i % 10}", T0, 0.01, limits) for i in range(200))
    )

    states = Counter(r.final_state for r in runs)
    assert states == {CanaryState.RUNNING: 100, CanaryState.SKIPPED_BUDGET: 100}
    assert await first.spend(T0) == pytest.approx(1.0)
    assert len({r.id for r in runs}) == 200


CANARY_DATA = [("a", 0), ("b", 1), ("a", 2), ("a", 3)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({}, CANARY_DATA, id="everything-oldest-first"),
        pytest.param({"channel_id": "a"}, [("a", 0), ("a", 2), ("a", 3)], id="one-channel"),
        pytest.param(
            {"since": T0 + minutes(1), "until": T0 + minutes(3)}, CANARY_DATA[1:3], id="window"
        ),
        pytest.param({"limit": 2}, CANARY_DATA[:2], id="limit-keeps-oldest"),
        pytest.param(
            {"newest_first": True, "limit": 2}, [("a", 3), ("a", 2)], id="newest-first-keeps-newest"
        ),
    ],
)
async def test_canary_run_filters(
    store: Store, query: dict[str, object], expected: list[tuple[str, int]]
) -> None:
    for cid, m in CANARY_DATA:
        await store.reserve_canary(cid, T0 + minutes(m), 0.0, CHEAP)

    got = await store.canary_runs(**query)  # type: ignore[arg-type]

    assert [(r.channel_id, r.started_at) for r in got] == [
        (c, T0 + minutes(m)) for c, m in expected
    ]


async def test_finishing_an_unknown_run_is_an_error(store: Store) -> None:
    run = CanaryRun("a", T0, CanaryState.COMPLETED, id=999)

    with pytest.raises(StoreError, match="no canary run with id 999"):
        await store.finish_canary(run)
    with pytest.raises(StoreError, match="no canary run with id None"):
        await store.finish_canary(dataclasses.replace(run, id=None))


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda s: s.reserve_canary("a", datetime(2025, 1, 1), 0.1, CHEAP), id="reserve"
        ),
        pytest.param(lambda s: s.spend(datetime(2025, 1, 1)), id="spend"),
        pytest.param(lambda s: s.canary_runs(since=datetime(2025, 1, 1)), id="runs-since"),
    ],
)
async def test_naive_datetimes_are_refused_by_canary_methods(store: Store, call: object) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        await call(store)  # type: ignore[operator]
    assert await store.canary_runs() == []


@sql_only
async def test_spend_survives_reopen(store_factory: StoreFactory) -> None:
    first = await store_factory()
    running = await first.reserve_canary("a", T0, 0.6, CHEAP)
    await first.finish_canary(finished(running, cost_usd=0.6))
    await first.reserve_canary("a", T0 + minutes(1), 0.3, CHEAP)  # in flight when it stopped
    await first.close()

    again = await store_factory()

    assert await again.spend(T0, "a") == pytest.approx(0.9)
    assert (
        await again.reserve_canary("a", T0, 0.2, CHEAP)
    ).final_state is CanaryState.SKIPPED_BUDGET


# SQL only: migrations and reopening ------------------------------------------------------------


@sql_only
async def test_open_is_idempotent_and_data_survives_reopen(store_factory: StoreFactory) -> None:
    first = await store_factory()
    await first.open()
    await first.add_observations([obs()])
    await first.record_change(change(T0, OP, DEG), incident("inc", 0))
    await first.close()

    again = await store_factory()

    assert isinstance(again, SqlStore)
    assert await again.schema_version() == "0004"
    assert [unstored(o) for o in await again.observations()] == [obs()]
    assert [i.id for i in await again.incidents(open_only=True)] == ["inc"]


@sql_only
async def test_closed_store_refuses_work(store_factory: StoreFactory) -> None:
    store = await store_factory()
    await store.close()

    with pytest.raises(StoreError, match="not open"):
        await store.observations()


# errors at the boundary -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param(
            "postgresql://watcher:hunter2secret@127.0.0.1:1/sorawatch",
            "cannot connect to PostgreSQL at 127.0.0.1:1/sorawatch: ",
            id="postgres-refused",
        ),
        pytest.param(
            "sqlite:///{tmp}/missing-dir/x.db",
            "cannot open SQLite at {tmp}/missing-dir/x.db: no directory {tmp}/missing-dir",
            id="sqlite-missing-dir",
        ),
    ],
)
async def test_unreachable_database_is_one_clear_line(
    url: str, message: str, tmp_path: object
) -> None:
    store = open_store(url.format(tmp=tmp_path))

    with pytest.raises(StoreError) as err:
        await store.open()

    text = str(err.value)
    assert text.startswith(message.format(tmp=tmp_path))
    assert "\n" not in text
    assert "hunter2secret" not in text


@sql_only
async def test_migrated_schema_matches_the_code(store_url: str) -> None:
    store = SqlStore(store_url)
    await store.open()
    await store.close()
    engine = create_async_engine(SqlStore(store_url).url)

    def diff(conn: sa.Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, schema.metadata))

    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()
