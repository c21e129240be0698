"""Benchmarks over event streams: fan-out burst, trickle latency, idle memory.

Every run starts a fresh daemon, creates one workspace from the driver, and
spreads the streams over ``options.workers`` client processes. Events are
published by the driver through the debug endpoint.
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

import attrs

from stress.bench._procs import (
    BenchError,
    Daemon,
    Workers,
    cpu_seconds,
    cpu_times,
    publish_all,
    rss_kib,
)
from stress.bench._publisher import publish_paced


@attrs.frozen
class Options:
    """Sizes and knobs shared by the benchmarks (``--quick`` shrinks them)."""

    quick: bool = False
    workers: int = 2
    payload_bytes: int = 100
    publish_batch: int = 1000
    source: str | None = None
    profile: str | None = None


def split(total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` near-equal positive shares."""
    parts = max(1, min(parts, total))
    return [total // parts + (i < total % parts) for i in range(parts)]


def stream_jobs(
    daemon: Daemon, workspace_id: str, streams: int, parts: int, **job: Any
) -> list[dict[str, Any]]:
    """One worker job per share of ``streams``."""
    base = {"socket": daemon.socket, "workspace_id": workspace_id, **job}
    return [{**base, "streams": n} for n in split(streams, parts)]


def _check_burst(results: list[Any], events: int) -> float:
    """Return the time the last stream got its last event; raise on any loss."""
    streams = [stream for worker in results for stream in worker]
    bad = [s for s in streams if s["events"] < events or s["resyncs"]]
    if bad:
        raise BenchError(f"{len(bad)} streams lost events or resynced: {bad[0]}")
    return float(max(s["done"] for s in streams))


def burst(clients: int, events: int, options: Options) -> dict[str, float]:
    """C streams, E events published back to back: deliveries/s and CPU/delivery."""
    batch = min(options.publish_batch, events)
    window = str(max(4096, events + batch))
    with Daemon(
        "--replay-window", window, source=options.source, profile=options.profile
    ) as daemon:
        conn = daemon.connect()
        ws = daemon.create_workspace(conn, str(uuid.uuid4()))
        jobs = stream_jobs(daemon, ws, clients, options.workers, mode="burst")
        for job in jobs:
            job["events"] = events
        with Workers(jobs) as workers:
            workers.wait_ready()
            workers.go()
            time.sleep(0.3)  # every worker is parked in receive
            cpu0, clients0 = cpu_times(daemon.pid), workers.cpu_seconds()
            start = time.monotonic()
            publish_all(conn, ws, events, batch, options.payload_bytes)
            published = time.monotonic()
            results = workers.results(timeout=120)
            cpu1, clients1 = cpu_times(daemon.pid), workers.cpu_seconds()
        last = _check_burst(results, events)
    seconds = last - start
    deliveries = clients * events
    client_cpu = max(b - a for a, b in zip(clients0, clients1, strict=True))
    user, system = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    return {
        "deliveries_per_s": deliveries / seconds,
        "daemon_cpu_us_per_delivery": (user + system) / deliveries * 1e6,
        "daemon_system_share": system / max(user + system, 1e-9),
        "seconds": seconds,
        "publish_seconds": published - start,
        "daemon_cpu_share": (user + system) / seconds,
        "busiest_client_cpu_share": client_cpu / seconds,
    }


def daemon_cpu(daemon: Daemon) -> float:
    """CPU seconds the daemon has used so far."""
    return cpu_seconds(daemon.pid)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (sorted or not)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[rank]


def trickle(
    clients: int, rate: float, seconds: float, options: Options
) -> dict[str, float]:
    """C streams, events at a steady rate: publish-to-receive latency."""
    total = round(rate * seconds)
    with Daemon(source=options.source, profile=options.profile) as daemon:
        conn = daemon.connect()
        ws = daemon.create_workspace(conn, str(uuid.uuid4()))
        jobs = stream_jobs(daemon, ws, clients, options.workers, mode="trickle")
        for job in jobs:
            job.update(events=total, timeout_seconds=seconds + 20)
        with Workers(jobs) as workers:
            workers.wait_ready()
            due = time.time() + 0.3  # every worker is parked in receive by then
            workers.go(schedule_start=due, rate=rate)
            time.sleep(max(0.0, due - time.time()))
            cpu0 = daemon_cpu(daemon)
            _, spent = publish_paced(
                daemon.socket, ws, total, rate, options.payload_bytes
            )
            results = workers.results(timeout=seconds + 30)
            cpu1 = daemon_cpu(daemon)
    latencies = [x for worker in results for x in worker["latencies"]]
    lags = [x for worker in results for x in worker["from_schedule"]]
    missing = clients * total - len(latencies)
    if missing:
        raise BenchError(f"{missing} of {clients * total} deliveries never arrived")
    return {
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "max_ms": max(latencies) * 1e3,
        "p99_from_schedule_ms": percentile(lags, 0.99) * 1e3,
        "daemon_cpu_share": (cpu1 - cpu0) / spent,
        "publish_seconds": spent,
    }


def idle(streams: int, options: Options) -> dict[str, float]:
    """RSS growth per idle SSE stream, after a warm-up set of streams."""
    warm = max(10, streams // 100)
    with Daemon(source=options.source, profile=options.profile) as daemon:
        conn = daemon.connect()
        ws = daemon.create_workspace(conn, str(uuid.uuid4()))
        with Workers(stream_jobs(daemon, ws, warm, 1, mode="idle")) as warmers:
            warmers.wait_ready()
            time.sleep(0.5)
            before = rss_kib(daemon.pid)
            jobs = stream_jobs(daemon, ws, streams, options.workers, mode="idle")
            with Workers(jobs) as workers:
                workers.wait_ready(timeout=120)
                time.sleep(1.0)
                after = rss_kib(daemon.pid)
                count = len(daemon_roster(conn, ws))
    if count != warm + streams + 1:
        raise BenchError(f"expected {warm + streams + 1} claims, saw {count}")
    return {
        "kib_per_stream": (after - before) / streams,
        "rss_before_kib": before,
        "rss_after_kib": after,
    }


def daemon_roster(conn: Any, ws: str) -> list[Any]:
    """The workspace's claims (``GET .../clients``)."""
    status, body = conn.request("GET", f"/v1/workspaces/{ws}/clients")
    if status != 200:
        raise BenchError(f"roster answered {status}")
    return list(body)
