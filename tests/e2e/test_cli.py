"""The CLI end to end, as a user runs it: real processes, the simulator on loopback."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from pathlib import Path

import pytest
from tests.helpers import CLI, channel_yaml, cli, config_yaml, running_sim, start_run

from sorawatch.simulator import Simulator
from sorawatch.store import open_store

SCENARIO = """
name: cli-test
channels:
  alpha: {protocol: openai-videos, models: [sora-2], latency_ms: 1}
  beta: {protocol: openai-videos, models: [sora-2], latency_ms: 1}
"""


def write_config(tmp_path: Path, sim: Simulator, every: str = "1s") -> Path:
    path = tmp_path / "sorawatch.yaml"
    db = f"sqlite:///{tmp_path / 'sw.db'}"
    chans = [channel_yaml(sim, "alpha", every=every), channel_yaml(sim, "beta", every=every)]
    path.write_text(config_yaml(sim, db, chans), encoding="utf-8")
    return path


async def test_check_all_operational_exits_0_with_stable_json(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim:
        cfg = write_config(tmp_path, sim)
        code, out, err = await cli("check", "-c", str(cfg), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"checked_at", "channels"}
    assert [c["id"] for c in doc["channels"]] == ["alpha", "beta"]
    for c in doc["channels"]:
        assert set(c) == {
            "id",
            "name",
            "status",
            "outcome",
            "http_status",
            "latency_ms",
            "detail",
            "sunset",
            "evidence",
        }
        assert (c["status"], c["outcome"], c["http_status"]) == ("operational", "ok", 200)
        assert c["sunset"] is None
        assert [e["request"].split()[0] for e in c["evidence"]] == ["GET", "GET"]
        assert "sk-test" not in json.dumps(c)


async def test_check_a_failing_channel_exits_1(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim:
        cfg = write_config(tmp_path, sim)
        sim.set_fault("beta", "retired")
        code, out, _ = await cli("check", "-c", str(cfg), "--format", "json")
        assert code == 1
        beta = json.loads(out)["channels"][1]
        assert (beta["status"], beta["outcome"], beta["http_status"]) == ("retired", "retired", 404)
        code, out, _ = await cli("check", "-c", str(cfg), "--channel", "alpha")
        assert code == 0
        assert "alpha channel" in out and "beta channel" not in out
        assert "🟢" in out


async def test_check_unknown_channel_is_a_usage_error(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim:
        cfg = write_config(tmp_path, sim)
        code, _, err = await cli("check", "-c", str(cfg), "--channel", "gamma")
    assert code == 2
    assert "gamma" in err and "Traceback" not in err


async def test_config_validate_reports_key_paths_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "channels:\n"
        "  - {id: a, name: A, model: m, access: relay, protocol: openai-videos,\n"
        "     base_url: 'http://x', probes: {light: {every: never}}, colour: red}\n",
        encoding="utf-8",
    )
    code, _, err = await cli("config", "validate", str(bad))
    assert code == 2
    assert "channels[0].probes.light.every" in err
    assert "channels[0].colour: unknown key" in err
    assert "Traceback" not in err
    code, _, err = await cli("check", "-c", str(bad))
    assert code == 2


async def test_config_validate_accepts_the_shipped_configs() -> None:
    root = Path(__file__).resolve().parents[2]
    for path in (root / "sorawatch.example.yaml", root / "src" / "sorawatch" / "demo.yaml"):
        code, out, err = await cli("config", "validate", str(path))
        assert code == 0, err
        assert "ok" in out


async def test_unreachable_store_is_one_line_exit_3(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim:
        cfg = tmp_path / "pg.yaml"
        cfg.write_text(
            config_yaml(
                sim, "postgresql://postgres@127.0.0.1:9/nothing", [channel_yaml(sim, "alpha")]
            ),
            encoding="utf-8",
        )
        code, _, err = await cli("history", "-c", str(cfg))
    assert code == 3
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


async def wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.2)


async def test_run_then_kill_9_then_resume_keeps_history_and_incident(tmp_path: Path) -> None:
    async with running_sim(tmp_path, SCENARIO) as sim:
        cfg = write_config(tmp_path, sim, every="0.2s")
        db_url = f"sqlite:///{tmp_path / 'sw.db'}"
        sim.set_fault("beta", "overloaded")
        proc = await start_run(cfg)
        store = open_store(db_url)

        async def incident_open() -> bool:
            try:
                await store.open()
                return bool(await store.incidents("beta", open_only=True))
            except Exception:
                return False

        await wait_for(incident_open)
        opened = (await store.incidents("beta", open_only=True))[0]
        before = len(await store.observations("alpha", limit=100_000))
        proc.send_signal(signal.SIGKILL)
        await proc.wait()

        sim.set_fault("beta", None)
        proc = await start_run(cfg)

        async def incident_closed() -> bool:
            found = await store.incidents("beta")
            return bool(found) and not found[0].is_open

        await wait_for(incident_closed)
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err.decode()
        assert "Traceback" not in err.decode()
        assert [i.id for i in await store.incidents("beta")] == [opened.id]
        assert len(await store.observations("alpha", limit=100_000)) > before
        await store.close()

        code, out_h, _ = await cli("history", "-c", str(cfg), "--format", "json", "--since", "1h")
        assert code == 0
        doc = json.loads(out_h)
        beta = next(c for c in doc["channels"] if c["id"] == "beta")
        # from unknown, the first confirmed state is the fault; then the recovery
        assert [s["status"] for s in beta["timeline"]] == ["degraded", "operational"]
        assert beta["incidents"][0]["id"] == opened.id
        assert set(beta["uptime"]) == {"24h", "7d", "30d", "90d"}

        code, out_csv, _ = await cli("export", "-c", str(cfg), "--format", "csv")
        assert code == 0
        header, *rows = out_csv.strip().splitlines()
        assert header.startswith("channel_id,record,start,end,status")
        assert any(r.startswith("beta,incident,") for r in rows)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(60)
async def test_simulate_serves_until_interrupted() -> None:
    import httpx

    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        "simulate",
        "--scenario",
        "healthy",
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert f"127.0.0.1:{port}" in line.decode()
    async with httpx.AsyncClient() as client:
        resp = await client.get(f"http://127.0.0.1:{port}/_sim/state")
    assert resp.status_code == 200
    proc.send_signal(signal.SIGINT)
    await asyncio.wait_for(proc.wait(), 20)
    assert proc.returncode == 0


async def test_run_on_postgresql_then_history(tmp_path: Path) -> None:
    import uuid

    import asyncpg

    name = f"sorawatch_e2e_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        async with running_sim(tmp_path, SCENARIO) as sim:
            cfg = tmp_path / "pg.yaml"
            chans = [channel_yaml(sim, "alpha", every="0.2s")]
            cfg.write_text(
                config_yaml(sim, f"postgresql://postgres@127.0.0.1:5432/{name}", chans),
                encoding="utf-8",
            )
            proc = await start_run(cfg)
            store = open_store(f"postgresql://postgres@127.0.0.1:5432/{name}")

            async def some_history() -> bool:
                try:
                    await store.open()
                    return len(await store.observations("alpha")) >= 3
                except Exception:
                    return False

            await wait_for(some_history)
            await store.close()
            proc.send_signal(signal.SIGINT)
            _, err = await asyncio.wait_for(proc.communicate(), 20)
            assert proc.returncode == 0, err.decode()
            code, out, _ = await cli("history", "-c", str(cfg), "--format", "json")
        assert code == 0
        alpha = json.loads(out)["channels"][0]
        assert alpha["status"] == "operational"
        assert alpha["timeline"][0]["status"] == "operational"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
