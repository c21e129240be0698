"""Benchmarks of the lifecycle: claim churn and teardown, spawn, resume."""

from __future__ import annotations

import datetime
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

from stress.bench._procs import (
    BenchError,
    Daemon,
    Workers,
    bytecode_env,
    cpu_seconds,
    open_raw_stream,
    publish,
)
from stress.bench._streams import Options, daemon_roster, split

#: Short graces for churn: a create holds 5 s, a detached claim 0.1 s.
CHURN_CREATE_GRACE = 5.0
CHURN_DETACH_GRACE = 0.1


def _wait_roster(conn: Any, ws: str, size: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len(daemon_roster(conn, ws)) != size:
        if time.monotonic() > deadline:
            raise BenchError(f"roster never shrank to {size}")
        time.sleep(0.01)


def _teardown_logged(daemon: Daemon, workspace_id: str) -> float | None:
    """The wall-clock time of the daemon's "workspace torn down" log line."""
    pattern = re.compile(rf"ts=(\S+) .*workspace torn down id={workspace_id}")
    for log in (daemon.root / "cache").rglob("*.log"):
        if match := pattern.search(log.read_text(errors="replace")):
            stamp = match.group(1).replace("Z", "+00:00")
            return datetime.datetime.fromisoformat(stamp).timestamp()
    return None


def _time_teardown(daemon: Daemon, conn: Any, ws: str, anchor: Any) -> float:
    """Close the last stream; return seconds until the workspace was torn down.

    The moment comes from the daemon's own log line (millisecond stamps), so
    the measurement does not load the daemon; polling ``GET`` every 20 ms
    only tells when to look.
    """
    closed_wall, closed = time.time(), time.monotonic()
    anchor.close()
    while conn.request("GET", f"/v1/workspaces/{ws}")[0] != 404:
        if time.monotonic() - closed > 10:
            raise BenchError("the workspace was never torn down")
        time.sleep(0.02)
    logged = _teardown_logged(daemon, ws)
    if logged is None:
        raise BenchError("no 'workspace torn down' line in the daemon log")
    return logged - closed_wall


def _run_churn(
    daemon: Daemon, clients: int, seconds: float, options: Options
) -> tuple[list[Any], float]:
    """Run the churn clients against ``daemon``; their results and its CPU."""
    job = {"mode": "churn", "socket": daemon.socket, "seconds": seconds}
    job["project"] = str(daemon.project)
    jobs = [{**job, "clients": n} for n in split(clients, options.workers)]
    with Workers(jobs) as workers:
        workers.wait_ready()
        cpu0 = cpu_seconds(daemon.pid)
        workers.go()
        results = workers.results(timeout=seconds + 60)
        cpu1 = cpu_seconds(daemon.pid)
    cycles = sum(r["cycles"] for r in results)
    errors = sum(r["errors"] for r in results)
    if errors or not cycles:
        raise BenchError(f"{errors} churn steps failed, {cycles} cycles done")
    return results, cpu1 - cpu0


def _cycle_metrics(results: list[Any], cpu: float) -> dict[str, float]:
    cycles = sum(r["cycles"] for r in results)
    elapsed = max(r["seconds"] for r in results)
    return {
        "cycles_per_s": cycles / elapsed,
        "daemon_cpu_ms_per_cycle": cpu / cycles * 1e3,
    }


def churn(clients: int, seconds: float, options: Options) -> dict[str, float]:
    """Create+attach+detach+release cycles/s, then last-detach-to-teardown."""
    flags = ["--create-grace", str(CHURN_CREATE_GRACE)]
    flags += ["--detach-grace", str(CHURN_DETACH_GRACE)]
    with Daemon(*flags, source=options.source, profile=options.profile) as daemon:
        conn = daemon.connect()
        anchor_id = str(uuid.uuid4())
        ws = daemon.create_workspace(conn, anchor_id)
        anchor = open_raw_stream(daemon.socket, ws, anchor_id)
        results, cpu = _run_churn(daemon, clients, seconds, options)
        _wait_roster(conn, ws, 1)
        teardown = _time_teardown(daemon, conn, ws, anchor)
    return {
        **_cycle_metrics(results, cpu),
        "teardown_ms": teardown * 1e3,
        "teardown_over_grace_ms": (teardown - CHURN_DETACH_GRACE) * 1e3,
    }


def churn_noop(clients: int, seconds: float, options: Options) -> dict[str, float]:
    """The churn cycle against hypercorn with a no-op app (``_noop``).

    Same clients, same requests, no daemon behind them: the most cycles/s
    any app served by hypercorn's trio worker can reach on this machine.
    """
    with Daemon(noop=True, profile=options.profile) as server:
        results, cpu = _run_churn(server, clients, seconds, options)
    return _cycle_metrics(results, cpu)


def _bare_trio_seconds(env: dict[str, str]) -> float:
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", "import trio"], check=True, env=env)
    return time.monotonic() - start


def _spawn_seconds(options: Options, env: dict[str, str]) -> float:
    with Daemon(
        debug=False, source=options.source, profile=options.profile, env=env
    ) as daemon:
        return daemon.ready_seconds


def spawn(options: Options) -> dict[str, float]:
    """Process start to first 2xx /v1/health, against a bare ``import trio``.

    Three spawns and three bare imports, interleaved, per run (one each with
    ``--quick``); the medians and their ratio. Both use a private bytecode
    cache (``bytecode_env``), filled by one untimed spawn first.
    """
    bare, served = [], []
    with tempfile.TemporaryDirectory(prefix="crushd-bench-pyc-") as cache:
        extra = {"PYTHONPYCACHEPREFIX": cache}
        _spawn_seconds(options, extra)  # warm-up: writes the bytecode cache
        env = bytecode_env(dict(os.environ), extra)
        for _ in range(1 if options.quick else 3):
            bare.append(_bare_trio_seconds(env))
            served.append(_spawn_seconds(options, extra))
    spawn_s, trio_s = statistics.median(served), statistics.median(bare)
    return {"spawn_s": spawn_s, "import_trio_s": trio_s, "ratio": spawn_s / trio_s}


def resume(behind: int, repeats: int, options: Options) -> dict[str, float]:
    """Reconnect ``behind`` events behind the head; time until caught up."""
    window = str(max(4096, behind * 2))
    with Daemon(
        "--replay-window", window, source=options.source, profile=options.profile
    ) as daemon:
        conn = daemon.connect()
        ws = daemon.create_workspace(conn, str(uuid.uuid4()))
        total = behind + behind // 8
        for sent in range(0, total, 500):
            publish(conn, ws, min(500, total - sent), options.payload_bytes)
        job: dict[str, Any] = {"mode": "resume", "socket": daemon.socket}
        job.update(workspace_id=ws, events=behind, repeats=repeats)
        job["last_event_id"] = total - behind
        with Workers([job]) as workers:
            workers.wait_ready()
            workers.go()
            (result,) = workers.results(timeout=60)
    if result["resyncs"]:
        raise BenchError("a resume within the replay window got a resync")
    times = result["seconds"]
    return {
        "catch_up_ms": statistics.median(times) * 1e3,
        "first_ms": times[0] * 1e3,
        "best_ms": min(times) * 1e3,
    }
