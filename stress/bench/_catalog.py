"""The benchmarks, their sizes (full and ``--quick``) and their targets.

Targets are the issues' (issue 5 for streams and lifecycle, the agent issue for
``agent``), for a 2-core machine. ``--quick`` sizes only prove the
harness works; their numbers mean nothing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import attrs

from stress.bench import _agent, _lifecycle, _streams
from stress.bench._streams import Options

Metrics = dict[str, float]

_OPS = {">=": operator.ge, "<=": operator.le}


@attrs.frozen
class Target:
    """``metric op value``, e.g. ``p99_ms <= 15``."""

    metric: str
    op: str
    value: float

    def met(self, measured: float) -> bool:
        """Whether ``measured`` meets the target."""
        return bool(_OPS[self.op](measured, self.value))

    def text(self) -> str:
        """The target as shown in the table."""
        return f"{self.op} {self.value:,g}"


@attrs.frozen
class Benchmark:
    """One benchmark: what it measures, how to run it, what it must reach."""

    name: str
    summary: str
    run: Callable[[Options], Metrics]
    targets: tuple[Target, ...] = ()


def _burst(
    clients: int, events: int, quick: tuple[int, int]
) -> Callable[[Options], Metrics]:
    def run(options: Options) -> Metrics:
        c, e = quick if options.quick else (clients, events)
        return _streams.burst(c, e, options)

    return run


def _trickle(options: Options) -> Metrics:
    if options.quick:
        return _streams.trickle(5, 50, 0.4, options)
    return _streams.trickle(100, 200, 10, options)


def _idle(options: Options) -> Metrics:
    return _streams.idle(20 if options.quick else 1000, options)


def _churn(options: Options) -> Metrics:
    if options.quick:
        return _lifecycle.churn(4, 0.5, options)
    return _lifecycle.churn(50, 3.0, options)


def _churn_noop(options: Options) -> Metrics:
    if options.quick:
        return _lifecycle.churn_noop(4, 0.5, options)
    return _lifecycle.churn_noop(50, 3.0, options)


def _resume(options: Options) -> Metrics:
    if options.quick:
        return _lifecycle.resume(200, 2, options)
    return _lifecycle.resume(4000, 5, options)


def _agent_run(options: Options) -> Metrics:
    return _agent.agent(_agent.QUICK if options.quick else _agent.FULL, options)


BENCHMARKS = (
    Benchmark(
        "burst50",
        "fan-out burst, C=50 streams, E=10000 events",
        _burst(50, 10_000, (5, 300)),
        (Target("deliveries_per_s", ">=", 550_000),),
    ),
    Benchmark(
        "burst200",
        "fan-out burst, C=200 streams, E=2000 events",
        _burst(200, 2_000, (10, 100)),
        (Target("deliveries_per_s", ">=", 650_000),),
    ),
    Benchmark(
        "trickle",
        "C=100 streams, 200 events/s for 10 s: publish-to-receive latency",
        _trickle,
        (Target("p99_ms", "<=", 15),),
    ),
    Benchmark(
        "idle",
        "1,000 idle SSE streams: daemon RSS growth per stream",
        _idle,
        (Target("kib_per_stream", "<=", 32),),
    ),
    Benchmark(
        "churn",
        "50 clients looping create+attach+detach+release; last detach to teardown",
        _churn,
        (
            Target("cycles_per_s", ">=", 1000),
            Target("teardown_over_grace_ms", "<=", 20),
        ),
    ),
    Benchmark(
        "churn-noop",
        "the churn clients against hypercorn serving a no-op app (a reference)",
        _churn_noop,
    ),
    Benchmark(
        "spawn",
        "process start to first 2xx /v1/health, vs python -c 'import trio'",
        _lifecycle.spawn,
        (Target("spawn_s", "<=", 0.55),),
    ),
    Benchmark(
        "resume",
        "reconnect with Last-Event-ID 4,000 events behind: time to caught up",
        _resume,
        (Target("catch_up_ms", "<=", 100),),
    ),
    Benchmark(
        "agent",
        "3 scripted answers of 2,000 deltas at 200/s, 50 watchers",
        _agent_run,
        (
            Target("post_p99_ms", "<=", 5),
            Target("delta_p99_ms", "<=", 60),
            Target("sustained_over_sdk", ">=", 0.5),
            Target("lost_total", "<=", 0),
            Target("burst_during_over_alone", ">=", 0.9),
        ),
    ),
)


def select(only: str | None) -> list[Benchmark]:
    """The benchmarks named in ``only`` (comma list, prefixes allowed), or all."""
    if not only:
        return list(BENCHMARKS)
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    chosen = [b for b in BENCHMARKS if any(b.name.startswith(w) for w in wanted)]
    unknown = [w for w in wanted if not any(b.name.startswith(w) for b in BENCHMARKS)]
    if unknown:
        names = ", ".join(b.name for b in BENCHMARKS)
        raise SystemExit(f"unknown benchmark {', '.join(unknown)} (have: {names})")
    return chosen
