"""The alert service over a store with history: where it starts, what it assumes, and that a
failed commit loses nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tests.webdata import NOW, config, seed

from sorawatch.alerts.config import AlertsConfig, NotifierConfig
from sorawatch.alerts.lease import Lease
from sorawatch.alerts.service import AlertService
from sorawatch.config import Config
from sorawatch.domain.incident import StatusChange
from sorawatch.domain.status import Status
from sorawatch.errors import StoreError
from sorawatch.store.base import OutboxMessage
from sorawatch.store.memory import MemoryStore
from sorawatch.store.sql import SqlStore


def with_alerts() -> Config:
    hook = NotifierConfig.model_validate({"url": "json://127.0.0.1:9/hook"})
    return config().model_copy(update={"alerts": AlertsConfig(notifiers={"hook": hook})})


async def test_the_first_start_takes_history_as_known_and_alerts_only_what_follows() -> None:
    store = MemoryStore()
    await seed(store)  # beta suspended for the last hour, gamma in maintenance, alpha fine
    clock = [NOW]
    service = AlertService(with_alerts(), store, now=lambda: clock[0])
    await service.start()
    assert await service.step() == []  # history is not news
    assert service.cursor == (await store.change_log(0, 10_000))[-1].id

    later = NOW + timedelta(minutes=1)
    await store.record_change(
        StatusChange("beta", later, Status.SUSPENDED, Status.OPERATIONAL, "ok"), None
    )
    await store.record_change(
        StatusChange("gamma", later, Status.MAINTENANCE, Status.OPERATIONAL, "ok"), None
    )
    clock[0] = later + timedelta(seconds=31)  # past the group wait
    made = await service.step()
    # beta was known bad: its recovery is news; gamma's maintenance ending is not
    assert [m.title for m in made] == ["✅ Beta reverse recovered: suspended → operational"]


class FailingCommit(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.fail = False

    async def commit_alerts(
        self,
        cursor: int,
        state: str,
        messages: list[OutboxMessage],  # type: ignore[override]
    ) -> None:
        if self.fail:
            raise StoreError("disk full")
        await super().commit_alerts(cursor, state, messages)


async def test_a_failed_commit_is_redone_by_the_next_step() -> None:
    store = FailingCommit()
    clock = [NOW]
    service = AlertService(with_alerts(), store, now=lambda: clock[0])
    await service.start()
    await store.record_change(
        StatusChange("alpha", NOW, Status.OPERATIONAL, Status.SUSPENDED, "paused"), None
    )
    clock[0] = NOW + timedelta(seconds=31)
    store.fail = True
    with pytest.raises(StoreError):
        await service.step()
    assert await store.messages() == [] and service.cursor == 0
    store.fail = False
    made = await service.step()
    assert [m.channels for m in made] == [("alpha",)]
    assert len(await store.messages()) == 1


async def test_prune_keeps_the_configured_history() -> None:
    store = MemoryStore()
    clock = [NOW]
    service = AlertService(with_alerts(), store, now=lambda: clock[0])
    old = OutboxMessage("a" * 24, "hook", "all", "problem", "critical", "t", "b", ("alpha",), NOW)
    await store.commit_alerts(0, "{}", [old])
    (stored,) = await store.pending_messages()
    assert stored.seq is not None
    await store.record_attempt(stored.seq, NOW, error=None)
    clock[0] = NOW + timedelta(days=89)
    assert await service.prune() == 0
    clock[0] = NOW + timedelta(days=91)  # delivery.keep is 90 days by default
    assert await service.prune() == 1


async def test_one_process_alerts_and_another_takes_over_where_it_stopped(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = SqlStore(url), SqlStore(url)  # two processes on one database
    await first.open()
    await second.open()
    clock = [NOW]

    def service(store: SqlStore, name: str) -> AlertService:
        lease = Lease(store, holder=name, ttl_s=30, now=lambda: clock[0])
        return AlertService(with_alerts(), store, now=lambda: clock[0], lease=lease)

    a, b = service(first, "a"), service(second, "b")
    try:
        assert await a.leading() and not await b.leading()
        await first.record_change(
            StatusChange("alpha", NOW, Status.OPERATIONAL, Status.SUSPENDED, "paused"), None
        )
        clock[0] += timedelta(seconds=31)
        assert await a.leading()
        assert len(await a.step()) == 1

        clock[0] += timedelta(seconds=31)  # a stopped renewing: b takes over from a's cursor
        assert await b.leading() and not await a.leading()
        await second.record_change(
            StatusChange("alpha", clock[0], Status.SUSPENDED, Status.OPERATIONAL, "ok"), None
        )
        clock[0] += timedelta(seconds=31)
        made = await b.step()
        assert [m.kind for m in made] == ["recovery"]  # nothing of a's sent again
        assert len(await second.messages()) == 2
    finally:
        await first.close()
        await second.close()
