"""A SIGKILLed writer loses nothing it reported committed."""

from __future__ import annotations

import asyncio
import secrets
import signal
import sys
import textwrap
from collections import Counter

import pytest

from sorawatch.domain.status import Status
from sorawatch.store import open_store

BATCH = 50
REPORTED_BEFORE_KILL = 15

# The child records an open incident, then writes batches of observations forever, printing
# each batch number once ``add_observations`` has returned (i.e. committed).
CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import UTC, datetime, timedelta
    from sorawatch.domain.incident import Incident, StatusChange
    from sorawatch.domain.observation import Observation
    from sorawatch.domain.outcome import Outcome, Source
    from sorawatch.domain.status import Status
    from sorawatch.store import open_store

    async def main(url, channel, size):
        store = open_store(url)
        await store.open()
        t0 = datetime(2025, 1, 1, tzinfo=UTC)
        down = Status.SUSPENDED
        await store.record_change(
            StatusChange(channel, t0, Status.OPERATIONAL, down, "connect errors"),
            Incident("inc-" + channel, channel, t0, down, down, "connect errors"),
        )
        print("incident", flush=True)
        batch = 0
        while True:
            await store.add_observations([
                Observation(channel, Source.LIGHT, t0 + timedelta(seconds=batch * size + i),
                            Outcome.CONNECT_ERROR, detail=f"batch-{batch}")
                for i in range(size)
            ])
            print(batch, flush=True)
            batch += 1

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


async def run_and_kill(url: str, channel: str) -> list[int]:
    """Start the writer, SIGKILL it mid-stream; the batches it reported committed."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, url, channel, str(BATCH), stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while len(lines) < REPORTED_BEFORE_KILL + 1:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
            assert line, "the writer exited early"
            lines.append(line.decode().strip())
    finally:
        proc.send_signal(signal.SIGKILL)
        rest, _ = await proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    lines.extend(rest.decode().split())  # printed before the kill, so committed too
    assert lines[0] == "incident"
    return [int(n) for n in lines[1:]]


@pytest.mark.parametrize(
    "store_url",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
    indirect=True,
)
async def test_sigkill_loses_no_reported_commit(store_url: str) -> None:
    channel = f"ch-{secrets.token_hex(3)}"

    committed = await run_and_kill(store_url, channel)

    store = open_store(store_url)
    await store.open()
    try:
        stored = await store.observations(channel_id=channel, limit=1_000_000)
        per_batch = Counter(o.detail for o in stored)
        assert committed == list(range(len(committed)))
        in_flight = f"batch-{len(committed)}"  # may have committed just before the kill
        assert set(per_batch) - {in_flight} == {f"batch-{n}" for n in committed}
        assert set(per_batch.values()) == {BATCH}, "a torn batch"
        [incident] = await store.incidents(channel_id=channel, open_only=True)
        assert incident.id == f"inc-{channel}"
        [snapshot] = [s for s in await store.snapshots() if s.channel_id == channel]
        assert snapshot.status is Status.SUSPENDED
        assert snapshot.open_incident == incident
        assert snapshot.last_observations[-1] == stored[-1]
    finally:
        await store.close()
