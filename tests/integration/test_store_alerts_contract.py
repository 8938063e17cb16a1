"""The store's alert contract (change log, cursor, outbox, maintenance windows): every backend
(memory, SQLite file and in-memory, PostgreSQL) passes these same tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import OperationalError
from tests.stores import StoreFactory, sql_only

from sorawatch.domain.incident import StatusChange
from sorawatch.domain.observation import Evidence
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status
from sorawatch.errors import StoreError
from sorawatch.store import SqlStore, Store, sql_alerts
from sorawatch.store.base import DeliveryState, MaintenanceWindow, OutboxMessage

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=8))
NAIVE = datetime(2025, 3, 1, 12, 0)
OP, DEG, SUS = Status.OPERATIONAL, Status.DEGRADED, Status.SUSPENDED
PENDING, DELIVERED, FAILED = DeliveryState.PENDING, DeliveryState.DELIVERED, DeliveryState.FAILED


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def is_utc(value: datetime | None) -> bool:
    return value is not None and value.utcoffset() == timedelta(0)


def change(minute: int, old: Status, new: Status, channel_id: str = "a") -> StatusChange:
    return StatusChange(channel_id, T0 + minutes(minute), old, new, reason=f"{old}->{new}")


def msg(alert_id: str = "al-1", notifier: str = "ops", **extra: object) -> OutboxMessage:
    fields: dict[str, object] = {
        "route": "default",
        "kind": "problem",
        "severity": "critical",
        "title": f"{alert_id} is down",
        "body": "connect errors — 连接失败",
        "channels": ("sora-relay", "veo"),
        "created_at": T0,
    } | extra
    return OutboxMessage(alert_id, notifier, **fields)  # type: ignore[arg-type]


def unstored(m: OutboxMessage) -> OutboxMessage:
    return dataclasses.replace(m, seq=None)


def seq_of(m: OutboxMessage) -> int:
    assert m.seq is not None
    return m.seq


def window(name: str = "upgrade", **extra: object) -> MaintenanceWindow:
    fields: dict[str, object] = {"start": T0, "end": T0 + minutes(30)} | extra
    return MaintenanceWindow(name, **fields)  # type: ignore[arg-type]


async def outbox(store: Store, *messages: OutboxMessage) -> list[OutboxMessage]:
    """Commit ``messages``; the stored ones, oldest first."""
    await store.commit_alerts(0, "", messages)
    return list(reversed(await store.messages()))


# change log -------------------------------------------------------------------------------------

# Recorded out of time order on purpose: the log is in the order recorded, not by time.
LOGGED = [
    change(10, OP, DEG),
    change(5, OP, DEG, channel_id="b"),
    change(20, DEG, SUS),
    change(30, SUS, OP),
]


async def test_change_log_ids_grow_in_the_order_recorded(store: Store) -> None:
    for c in LOGGED:
        await store.record_change(c, None)

    log = await store.change_log()

    assert [entry.change for entry in log] == LOGGED
    ids = [entry.id for entry in log]
    assert ids == sorted(set(ids))
    assert ids[0] >= 1


@pytest.mark.parametrize(
    ("after", "limit", "expected"),
    [
        pytest.param(None, 1000, [0, 1, 2, 3], id="from-the-start"),
        pytest.param(0, 1000, [1, 2, 3], id="after-the-first"),
        pytest.param(1, 1, [2], id="after-the-second-one-at-a-time"),
        pytest.param(3, 1000, [], id="after-the-last"),
    ],
)
async def test_change_log_pages_after_an_id(
    store: Store, after: int | None, limit: int, expected: list[int]
) -> None:
    for c in LOGGED:
        await store.record_change(c, None)
    ids = [entry.id for entry in await store.change_log()]

    got = await store.change_log(after_id=0 if after is None else ids[after], limit=limit)

    assert [(entry.id, entry.change) for entry in got] == [(ids[i], LOGGED[i]) for i in expected]


async def test_change_log_keeps_every_field_in_utc(store: Store) -> None:
    evidence = (Evidence(T0.astimezone(CST), Source.LIGHT, Outcome.CONNECT_ERROR, None, "refused"),)
    original = dataclasses.replace(
        change(0, OP, SUS),
        at=T0.astimezone(CST),
        sources=("light", "statuspage"),
        evidence=evidence,
    )
    await store.record_change(original, None)

    [entry] = await store.change_log()

    assert entry.change == original
    assert is_utc(entry.change.at)
    assert all(is_utc(e.at) for e in entry.change.evidence)


# cursor and state --------------------------------------------------------------------------------


async def test_alert_cursor_starts_empty(store: Store) -> None:
    assert await store.alert_cursor() == (0, None)
    assert await store.change_log() == []
    assert await store.pending_messages() == []
    assert await store.messages() == []
    assert await store.windows() == []


@pytest.mark.parametrize(
    "saves",
    [
        pytest.param([(7, '{"open": {"a": "al-1"}}')], id="once"),
        pytest.param([(3, "first"), (9, ""), (12, "最后 — last")], id="overwritten"),
        pytest.param([(2**40, "big")], id="beyond-32-bits"),
    ],
)
async def test_alert_cursor_round_trips_the_last_save(
    store: Store, saves: list[tuple[int, str]]
) -> None:
    for cursor, state in saves:
        await store.commit_alerts(cursor, state, [])

    assert await store.alert_cursor() == saves[-1]


# outbox -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "original",
    [
        pytest.param(msg(), id="defaults"),
        pytest.param(
            msg(
                route="pager",
                kind="recovery",
                severity="info",
                channels=(),
                created_at=T0.astimezone(CST),
                attempts=2,
                next_attempt_at=(T0 + minutes(1)).astimezone(CST),
                last_error="HTTP 502",
            ),
            id="every-field-non-utc",
        ),
    ],
)
async def test_messages_round_trip_every_field(store: Store, original: OutboxMessage) -> None:
    await store.commit_alerts(1, "s", [original])

    [got] = await store.messages()

    assert got.seq is not None
    assert unstored(got) == original
    assert isinstance(got.channels, tuple)
    assert is_utc(got.created_at)
    assert got.next_attempt_at is None or is_utc(got.next_attempt_at)


async def test_a_duplicate_message_keeps_the_stored_one(store: Store) -> None:
    [first] = await outbox(store, msg("al-1", "ops"))
    await store.record_attempt(seq_of(first), T0, error="timeout", next_attempt_at=T0 + minutes(1))

    # A restart re-derives the same alert (and this batch repeats it too): nothing is added.
    await store.commit_alerts(5, "again", [msg("al-1", "ops", title="changed"), msg("al-1", "ops")])

    [kept] = await store.messages()
    assert (kept.seq, kept.title, kept.attempts, kept.last_error) == (
        first.seq,
        "al-1 is down",
        1,
        "timeout",
    )
    assert await store.alert_cursor() == (5, "again")


async def test_one_alert_to_two_notifiers_is_two_messages(store: Store) -> None:
    await store.commit_alerts(
        1, "s", [msg("al-1", "ops"), msg("al-1", "pager"), msg("al-1", "ops")]
    )

    got = await store.pending_messages()

    assert [(m.alert_id, m.notifier) for m in got] == [("al-1", "ops"), ("al-1", "pager")]
    assert seq_of(got[0]) < seq_of(got[1])


async def test_a_naive_time_commits_nothing(store: Store) -> None:
    await store.commit_alerts(1, "before", [msg("al-0")])

    with pytest.raises(ValueError, match="naive datetime"):
        await store.commit_alerts(2, "after", [msg("al-1"), msg("al-2", created_at=NAIVE)])

    assert await store.alert_cursor() == (1, "before")
    assert [m.alert_id for m in await store.messages()] == ["al-0"]


@sql_only
async def test_commit_alerts_is_one_transaction(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.commit_alerts(1, "before", [msg("al-0")])

    async def broken(*_args: object) -> None:
        raise OperationalError("UPDATE alert_state", {}, Exception("disk I/O error"))

    # The messages are inserted, then saving the cursor fails: the insert must roll back too.
    monkeypatch.setattr(sql_alerts, "save_state", broken)
    with pytest.raises(StoreError, match="disk I/O error"):
        await store.commit_alerts(2, "after", [msg("al-1"), msg("al-2")])
    monkeypatch.undo()

    assert await store.alert_cursor() == (1, "before")
    assert [m.alert_id for m in await store.messages()] == ["al-0"]


async def test_pending_messages_are_oldest_first_without_delivered_or_failed(
    store: Store,
) -> None:
    stored = await outbox(store, *(msg(f"al-{i}") for i in range(5)))
    delivered, retried, given_up = stored[1], stored[2], stored[3]
    await store.record_attempt(seq_of(delivered), T0, error=None)
    await store.record_attempt(seq_of(retried), T0, error="502", next_attempt_at=T0 + minutes(1))
    await store.record_attempt(seq_of(given_up), T0, error="502", give_up=True)

    got = await store.pending_messages()

    assert [m.alert_id for m in got] == ["al-0", "al-2", "al-4"]
    assert [m.alert_id for m in await store.pending_messages(limit=2)] == ["al-0", "al-2"]


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        pytest.param(
            [{"error": None}],
            {"state": DELIVERED, "attempts": 1, "delivered_at": T0 + minutes(1)},
            id="delivered-first-time",
        ),
        pytest.param(
            [{"error": "HTTP 503", "next_attempt_at": T0 + minutes(5)}],
            {"state": PENDING, "attempts": 1, "last_error": "HTTP 503"}
            | {"next_attempt_at": T0 + minutes(5)},
            id="retry-later",
        ),
        pytest.param(
            [{"error": "HTTP 503", "next_attempt_at": T0 + minutes(5)}, {"error": None}],
            {"state": DELIVERED, "attempts": 2, "delivered_at": T0 + minutes(2)},
            id="delivered-on-retry-clears-the-error",
        ),
        pytest.param(
            [
                {"error": "HTTP 503", "next_attempt_at": T0 + minutes(5)},
                {"error": "HTTP 401", "give_up": True},
            ],
            {"state": FAILED, "attempts": 2, "last_error": "HTTP 401"},
            id="given-up",
        ),
    ],
)
async def test_record_attempt(
    store: Store, attempts: list[dict[str, object]], expected: dict[str, object]
) -> None:
    [stored] = await outbox(store, msg())

    for i, attempt in enumerate(attempts, start=1):
        await store.record_attempt(seq_of(stored), T0 + minutes(i), **attempt)  # type: ignore[arg-type]

    [got] = await store.messages()
    assert got == dataclasses.replace(stored, **expected)  # type: ignore[arg-type]


async def test_record_attempt_times_come_back_in_utc(store: Store) -> None:
    [a, b] = await outbox(store, msg("al-1"), msg("al-2"))
    later = (T0 + minutes(3)).astimezone(CST)

    await store.record_attempt(seq_of(a), later, error=None)
    await store.record_attempt(seq_of(b), T0, error="502", next_attempt_at=later)

    delivered, retried = reversed(await store.messages())
    assert (delivered.delivered_at, retried.next_attempt_at) == (later, later)
    assert is_utc(delivered.delivered_at) and is_utc(retried.next_attempt_at)


async def test_record_attempt_on_an_unknown_message_is_an_error(store: Store) -> None:
    [stored] = await outbox(store, msg())
    unknown = seq_of(stored) + 100

    with pytest.raises(StoreError, match=f"no outbox message with seq {unknown}"):
        await store.record_attempt(unknown, T0, error=None)

    assert await store.messages() == [stored]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({}, [5, 4, 3, 2, 1, 0], id="newest-first"),
        pytest.param({"limit": 2}, [5, 4], id="limit-keeps-newest"),
        pytest.param({"state": DELIVERED}, [4, 1], id="delivered"),
        pytest.param({"state": PENDING}, [5, 3, 0], id="pending"),
        pytest.param({"state": FAILED}, [2], id="failed"),
        pytest.param({"before_seq": 3}, [2, 1, 0], id="page-before"),
        pytest.param({"before_seq": 5, "limit": 2, "state": PENDING}, [3, 0], id="page-filtered"),
        pytest.param({"before_seq": 0}, [], id="before-the-first"),
    ],
)
async def test_messages_filters_and_pages(
    store: Store, query: dict[str, object], expected: list[int]
) -> None:
    stored = await outbox(store, *(msg(f"al-{i}") for i in range(6)))
    for i in (1, 4):
        await store.record_attempt(seq_of(stored[i]), T0, error=None)
    await store.record_attempt(seq_of(stored[2]), T0, error="gone", give_up=True)
    if "before_seq" in query:  # given as an index into ``stored``
        query = query | {"before_seq": seq_of(stored[query["before_seq"]])}  # type: ignore[index]

    got = await store.messages(**query)  # type: ignore[arg-type]

    assert [m.alert_id for m in got] == [f"al-{i}" for i in expected]


# maintenance windows ----------------------------------------------------------------------------


async def test_windows_are_stored_with_every_field_in_id_order(store: Store) -> None:
    full = window(
        "db upgrade — 数据库",
        start=T0.astimezone(CST),
        end=(T0 + minutes(90)).astimezone(CST),
        channels=("sora-relay",),
        groups=("openai", "relays"),
        every_s=7 * 86400.0,
        reason="weekly vendor maintenance",
    )
    plain = window("plain")

    added = [await store.add_window(w) for w in (full, plain)]

    assert [w.id for w in added] == sorted({w.id for w in added if w.id is not None})
    assert [dataclasses.replace(w, id=None) for w in added] == [full, plain]
    assert await store.windows() == added
    [got, _] = await store.windows()
    assert is_utc(got.start) and is_utc(got.end)
    assert isinstance(got.channels, tuple) and isinstance(got.groups, tuple)


@pytest.mark.parametrize(
    ("ended_at", "end_at", "expected"),
    [
        pytest.param(None, 10, 10, id="open-window-ends"),
        pytest.param(None, -10, -10, id="ended-before-it-started"),
        pytest.param(5, 10, 5, id="ended-earlier-is-kept"),
        pytest.param(15, 10, 10, id="ended-later-is-brought-forward"),
        pytest.param(10, 10, 10, id="same-time"),
    ],
)
async def test_end_window(store: Store, ended_at: int | None, end_at: int, expected: int) -> None:
    ended = None if ended_at is None else T0 + minutes(ended_at)
    other = await store.add_window(window("other"))
    added = await store.add_window(window(ended_at=ended))
    assert added.id is not None

    got = await store.end_window(added.id, (T0 + minutes(end_at)).astimezone(CST))

    assert got == dataclasses.replace(added, ended_at=T0 + minutes(expected))
    assert is_utc(got.ended_at)
    assert await store.windows() == [other, got]


async def test_ending_an_unknown_window_is_an_error(store: Store) -> None:
    added = await store.add_window(window())
    assert added.id is not None

    with pytest.raises(StoreError, match=f"no maintenance window with id {added.id + 100}"):
        await store.end_window(added.id + 100, T0)

    assert await store.windows() == [added]


# failures are data: naive datetimes ---------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda s, seq: s.record_attempt(seq, NAIVE, error=None), id="attempt-at"),
        pytest.param(
            lambda s, seq: s.record_attempt(seq, T0, error="x", next_attempt_at=NAIVE),
            id="attempt-next",
        ),
        pytest.param(
            lambda s, seq: s.commit_alerts(9, "x", [msg("new", next_attempt_at=NAIVE)]),
            id="message-next-attempt",
        ),
        pytest.param(
            lambda s, seq: s.commit_alerts(9, "x", [msg("new", delivered_at=NAIVE)]),
            id="message-delivered",
        ),
        pytest.param(lambda s, seq: s.add_window(window(start=NAIVE)), id="window-start"),
        pytest.param(lambda s, seq: s.add_window(window(end=NAIVE)), id="window-end"),
        pytest.param(lambda s, seq: s.add_window(window(ended_at=NAIVE)), id="window-ended"),
        pytest.param(lambda s, seq: s.end_window(1, NAIVE), id="end-window"),
    ],
)
async def test_naive_datetimes_are_refused_and_change_nothing(
    store: Store, call: Callable[[Store, int], Awaitable[object]]
) -> None:
    [stored] = await outbox(store, msg())
    windows = [await store.add_window(window())]

    with pytest.raises(ValueError, match="naive datetime"):
        await call(store, seq_of(stored))

    assert await store.messages() == [stored]
    assert await store.alert_cursor() == (0, "")
    assert await store.windows() == windows


# SQL only: reopening ----------------------------------------------------------------------------


@sql_only
async def test_alert_data_survives_reopen(store_factory: StoreFactory) -> None:
    first = await store_factory()
    await first.record_change(change(0, OP, DEG), None)
    [logged] = await first.change_log()
    await first.commit_alerts(logged.id, '{"open": ["a"]}', [msg("al-1"), msg("al-2")])
    [one, two] = reversed(await first.messages())
    await first.record_attempt(seq_of(one), T0, error=None)
    added = await first.add_window(window(every_s=3600.0))
    assert added.id is not None
    ended = await first.end_window(added.id, T0 + minutes(10))
    await first.close()

    again = await store_factory()

    assert isinstance(again, SqlStore)
    assert await again.schema_version() == "0004"
    assert await again.change_log() == [logged]
    assert await again.alert_cursor() == (logged.id, '{"open": ["a"]}')
    assert await again.pending_messages() == [two]
    assert [m.state for m in await again.messages()] == [PENDING, DELIVERED]
    assert await again.windows() == [ended]
    # Sequences carry on after the reopen: new rows never reuse an id.
    await again.commit_alerts(logged.id, "", [msg("al-3")])
    [three] = await again.messages(limit=1)
    assert seq_of(three) > seq_of(two)


async def test_prune_deletes_old_finished_messages_and_keeps_pending_ones(store: Store) -> None:
    old = [msg(f"old-{i}", created_at=T0 - minutes(60)) for i in range(3)]
    stored = await outbox(store, *old, msg("new"))
    delivered, failed = stored[0], stored[1]
    await store.record_attempt(seq_of(delivered), T0, error=None)
    await store.record_attempt(seq_of(failed), T0, error="502", give_up=True)

    assert await store.prune_messages(T0 - minutes(30)) == 2

    left = await store.messages()
    assert sorted(m.alert_id for m in left) == ["new", "old-2"]  # old-2 is still pending
    assert await store.prune_messages(T0 - minutes(30)) == 0


@pytest.mark.parametrize(
    ("first", "second", "second_at", "expected"),
    [
        pytest.param("p1", "p1", 10, True, id="ours-renewed"),
        pytest.param("p1", "p2", 10, False, id="held-by-another"),
        pytest.param("p1", "p2", 31, True, id="expired-taken-over"),
    ],
)
async def test_take_lease(
    store: Store, first: str, second: str, second_at: int, expected: bool
) -> None:
    assert await store.take_lease("alerts", first, T0, ttl_s=30)
    at = T0 + timedelta(seconds=second_at)
    assert await store.take_lease("alerts", second, at, ttl_s=30) is expected
    assert await store.take_lease("other", second, at, ttl_s=30)  # leases are independent
    holder = second if expected else first
    assert await store.take_lease("alerts", holder, at + timedelta(seconds=1), ttl_s=30)
