"""The agent benchmark: scripted model answers streamed to many watchers.

One run starts a scripted OpenAI-compatible server (``_scripted_llm``, its
own process), a fresh daemon whose global ``crush.json`` points a provider
(upstream's shape, ``openai-compat``) at it, one workspace with the agent
initialised, and ``watchers`` event streams on that workspace spread over
``options.workers`` watcher processes (``_agent_worker``). Then three phases:

1. **latency**: ``sessions`` sessions are prompted at once; each answer is
   ``deltas`` text deltas at ``rate`` per second. Measured: each ``POST
   /agent`` (the three prompts, plus probes sent ``probes_per_s`` times a
   second during the first 60 % of the answers: a prompt queued on a busy
   session, each followed by ``prompts/clear`` so no extra run starts, and
   by a ``GET /v1/health`` timed the same way as a reference; meanwhile
   ``_wake_probe`` notes how late a process that only sleeps wakes up on
   this machine, a second reference);
   delta-to-client latency (the scripted server notes the wall-clock time
   it writes each delta; a watcher notes when an update first holds that
   delta; every delta x every watcher); daemon CPU per 1,000 deltas.
2. **sustained**: one session, the answer written as fast as the daemon
   reads it, all watchers attached: deltas / (last watcher holds the whole
   text - first delta written). Then the limit: a bare ``openai`` SDK loop
   (``_sdk_loop``) parses the same scripted stream, same formula.
3. **burst**: the fan-out burst (``_streams.burst``'s clients and publish,
   ``burst_clients`` x ``burst_events``) in a second workspace of the same
   daemon, ``bursts`` times alone (after one untimed warm-up burst), then
   ``bursts`` times while ``sessions``
   answers stream at ``rate`` to the watchers (the ratio of the medians is
   the target), then ``bursts`` control bursts beside a synthetic load as
   large as the watchers' and scripted server's (``_agent_burst``), then
   ``bursts`` alone again (``burst_after_over_alone``: the machine's drift
   over the phase, a reference); the CPU shares of a core the daemon and the
   other load had meanwhile.

Every watcher's text (the last update and the ``run_complete``) must equal
the full answer in every phase; ``lost_watchers`` counts those that did not.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

import attrs

from stress.bench._agent_burst import (
    BurstTarget,
    bursts,
    control_bursts,
    medians,
    no_load,
)
from stress.bench._agent_driver import Agent, Run, ScriptedLLM, WakeProbe, Watchers
from stress.bench._procs import REPO, BenchError, Daemon, cpu_seconds
from stress.bench._script import full_answer, prompt_for
from stress.bench._streams import Options, percentile, split
from stress.bench._wire import expect


@attrs.frozen
class Sizes:
    """The benchmark's sizes (``QUICK`` only proves the harness works)."""

    deltas: int = 2000
    rate: float = 200.0
    sessions: int = 3
    watchers: int = 50
    probes_per_s: float = 10.0
    burst_clients: int = 50
    burst_events: int = 10_000
    bursts: int = 5


FULL = Sizes()
QUICK = Sizes(
    deltas=40,
    rate=200.0,
    watchers=4,
    probes_per_s=20.0,
    burst_clients=5,
    burst_events=300,
    bursts=1,
)


def delta_latencies(steps: list[list[float]], writes: list[float]) -> list[float]:
    """Per delta: first time an update held it minus when it was written."""
    latencies: list[float] = []
    k = 0
    for covered, seen in steps:
        while k < min(int(covered), len(writes)):
            latencies.append(seen - writes[k])
            k += 1
    return latencies


def lost(records: list[dict[str, Any]], runs: list[Run]) -> int:
    """Streams whose last text or ``run_complete`` text is not the full answer."""
    bad = 0
    for record in records:
        for run in runs:
            answer = full_answer(run.deltas)
            texts = (
                record["last_text"][run.session_id],
                record["final_text"][run.session_id],
            )
            if (
                texts != (answer, answer)
                or run.run_id in record["missing_run_complete"]
            ):
                bad += 1
                break
    return bad


def _run_seconds(sizes: Sizes) -> float:
    return sizes.deltas / sizes.rate


def latency_phase(
    agent: Agent, watchers: Watchers, llm: ScriptedLLM, daemon: Daemon, sizes: Sizes
) -> dict[str, float]:
    """Three answers at ``rate``: POST and delta-to-client latency, CPU."""
    probe_seconds = 0.6 * _run_seconds(sizes)
    wake_probe = WakeProbe(probe_seconds)
    runs = [agent.new_run(sizes.deltas, sizes.rate) for _ in range(sizes.sessions)]
    timeout = _run_seconds(sizes) + 60
    watchers.follow([r.job() for r in runs], timeout)
    cpu0 = cpu_seconds(daemon.pid)
    wake_probe.begin()
    start = time.monotonic()
    posts = [agent.prompt(run) for run in runs]
    starts, health = list(posts), []
    probe_until = start + probe_seconds
    step = 1 / sizes.probes_per_s
    due = start + step
    while (now := time.monotonic()) < probe_until:
        if now < due:
            time.sleep(due - now)
            continue
        posts.append(agent.probe(runs[len(posts) % len(runs)].session_id))
        health.append(agent.health())
        due += step
    records = watchers.records(timeout)
    cpu1, elapsed = cpu_seconds(daemon.pid), time.monotonic() - start
    latencies: list[float] = []
    for run in runs:
        writes = llm.writes(run.run_id)
        for record in records:
            latencies += delta_latencies(record["steps"][run.session_id], writes)
    expected = sizes.watchers * sizes.sessions * sizes.deltas
    return {
        "post_p50_ms": statistics.median(posts) * 1e3,
        "post_p99_ms": percentile(posts, 0.99) * 1e3,
        "posts": len(posts),
        "post_start_max_ms": max(starts) * 1e3,
        "post_probe_p99_ms": percentile(posts[len(starts) :] or starts, 0.99) * 1e3,
        "health_p99_ms": percentile(health or [0.0], 0.99) * 1e3,
        "delta_p50_ms": statistics.median(latencies) * 1e3,
        "delta_p99_ms": percentile(latencies, 0.99) * 1e3,
        "delta_max_ms": max(latencies) * 1e3,
        "deliveries_missing": expected - len(latencies),
        "daemon_cpu_ms_per_1000_deltas": (cpu1 - cpu0)
        / (sizes.sessions * sizes.deltas)
        * 1e6,
        "daemon_cpu_share": (cpu1 - cpu0) / elapsed,
        "lost_watchers": lost(records, runs),
    } | wake_probe.result()


def sdk_rate(llm: ScriptedLLM, deltas: int) -> float:
    """Deltas/s a bare openai SDK loop parses the scripted stream at."""
    tag = str(uuid.uuid4())
    command = [sys.executable, "-m", "stress.bench._sdk_loop", llm.base_url]
    warm_up = prompt_for(str(uuid.uuid4()), 20, 0)
    done = subprocess.run(
        [*command, warm_up, prompt_for(tag, deltas, 0)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    if done.returncode:
        raise BenchError(f"the SDK loop failed: {done.stderr[-2000:]}")
    answer = json.loads(done.stdout)
    if answer["text"] != full_answer(deltas):
        raise BenchError("the SDK loop did not get the full answer")
    return deltas / (float(answer["last"]) - llm.writes(tag)[0])


def sustained_phase(
    agent: Agent, watchers: Watchers, llm: ScriptedLLM, daemon: Daemon, sizes: Sizes
) -> dict[str, float]:
    """One answer as fast as the daemon takes it, then the bare SDK loop."""
    run = agent.new_run(sizes.deltas, 0)
    watchers.follow([run.job()], 120)
    cpu0 = cpu_seconds(daemon.pid)
    agent.prompt(run)
    records = watchers.records(120)
    cpu = cpu_seconds(daemon.pid) - cpu0
    writes = llm.writes(run.run_id)
    ends = [
        steps[-1][1]
        for record in records
        if (steps := record["steps"][run.session_id]) and steps[-1][0] >= run.deltas
    ]
    if len(ends) < len(records):
        raise BenchError(f"{len(records) - len(ends)} watchers never got the answer")
    rate = run.deltas / (max(ends) - writes[0])
    limit = sdk_rate(llm, sizes.deltas)
    return {
        "sustained_deltas_per_s": rate,
        "provider_write_deltas_per_s": run.deltas / max(writes[-1] - writes[0], 1e-9),
        "sustained_daemon_cpu_ms_per_1000_deltas": cpu / run.deltas * 1e6,
        "sdk_parse_deltas_per_s": limit,
        "sustained_over_sdk": rate / limit,
        "lost_watchers_sustained": lost(records, [run]),
    }


def burst_phase(
    agent: Agent, watchers: Watchers, llm: ScriptedLLM, daemon: Daemon, sizes: Sizes
) -> dict[str, float]:
    """Fan-out bursts: alone, beside the answers, the control, alone again.

    One untimed burst first warms the burst workspace up (its log's ring
    fills, the first-use paths run). The second set alone (``burst_after_*``)
    brackets the others: its ratio to the first shows how far the machine
    drifted over the phase (a reference, not part of the target's ratio).
    """
    conn = daemon.connect()
    project = daemon.root / "burst-project"
    project.mkdir()
    body = {"path": str(project), "client_id": str(uuid.uuid4())}
    ws = str(expect(*conn.request("POST", "/v1/workspaces", body))["id"])
    target = BurstTarget(daemon, conn, ws, sizes.burst_clients, sizes.burst_events)

    def outside_load() -> float:
        return sum(watchers.cpu_seconds()) + cpu_seconds(llm.process.pid)

    bursts(target, 1, no_load)  # warm-up, not counted
    alone = bursts(target, sizes.bursts, no_load)
    runs = [agent.new_run(sizes.deltas, sizes.rate) for _ in range(sizes.sessions)]
    timeout = _run_seconds(sizes) + 60
    watchers.follow([r.job() for r in runs], timeout)
    start = time.monotonic()
    for run in runs:
        agent.prompt(run)
    time.sleep(min(1.0, 0.1 * _run_seconds(sizes)))
    during = bursts(target, sizes.bursts, outside_load)
    overlapped = time.monotonic() - start <= _run_seconds(sizes)
    records = watchers.records(timeout)
    if not overlapped and sizes != QUICK:
        raise BenchError("the bursts outlasted the answers: make the answers longer")
    conn.close()  # idle while the answers ended: past the keep-alive timeout
    target = attrs.evolve(target, conn=daemon.connect())
    share = statistics.median(s.load_share for s in during)
    control = control_bursts(target, sizes.bursts, share)
    after = bursts(target, sizes.bursts, no_load)
    target.conn.close()
    metrics = medians(alone, "alone") | medians(during, "during")
    metrics |= medians(control, "control") | medians(after, "after")
    for phase in ("during", "control", "after"):
        metrics[f"burst_{phase}_over_alone"] = (
            metrics[f"burst_{phase}_per_s"] / metrics["burst_alone_per_s"]
        )
    metrics["lost_watchers_burst"] = lost(records, runs)
    return metrics


def agent(sizes: Sizes, options: Options) -> dict[str, float]:
    """One run of the three phases against a fresh daemon and scripted server."""
    window = str(max(4096, sizes.burst_events + 1000))
    with ScriptedLLM() as llm:
        flags = ("--replay-window", window)
        with Daemon(
            *flags, source=options.source, profile=options.profile, env=llm.env()
        ) as daemon:
            driver = Agent(daemon)
            base = {"socket": daemon.socket, "workspace_id": driver.ws}
            jobs = [
                {**base, "streams": n} for n in split(sizes.watchers, options.workers)
            ]
            with Watchers(jobs) as watchers:
                watchers.wait_ready()
                metrics = latency_phase(driver, watchers, llm, daemon, sizes)
                metrics["agent_ready_s"] = driver.ready_seconds
                metrics |= sustained_phase(driver, watchers, llm, daemon, sizes)
                metrics |= burst_phase(driver, watchers, llm, daemon, sizes)
            driver.conn.close()
    missing = metrics["deliveries_missing"]
    lost_any = sum(v for k, v in metrics.items() if k.startswith("lost_watchers"))
    metrics["lost_total"] = lost_any + missing
    return metrics
