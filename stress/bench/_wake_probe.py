"""A machine reference: how late a process that only sleeps wakes up.

Every request the daemon answers starts with its thread waking from
``epoll_wait``, and every client's answer with the client waking. On the
benchmark's virtual machine (2 vCPUs on a shared host) such wake-ups are
sometimes 3-20 ms late whatever the woken process does, and how often moves
from minute to minute: a sleeper alone on the idle machine was late in
0.02 % of its wake-ups in one minute and in 1-5 % ten minutes later
(stress/RESULTS.md, "The machine's late wake-ups"). A latency target of a
few milliseconds at p99 sits at that level.

``_agent_driver.WakeProbe`` runs this module beside a benchmark phase: one
process sleeping ``PERIOD_SECONDS`` at a time, noting how much later than
asked it woke, for a set time; its summary goes next to the phase's latency
figures. Run as a script it is the experiment itself::

    python -m stress.bench._wake_probe --seconds 9 --burners 1

(``--burners`` whole cores kept busy by ``_cpu_load`` burners meanwhile).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time

from stress.bench._cpu_load import CpuLoad
from stress.bench._streams import percentile

#: One sleep, seconds: often enough to catch 3 ms stalls, cheap (~1 % CPU).
PERIOD_SECONDS = 0.005
#: A wake-up this much later than asked counts as late, seconds (a normal
#: one is 0.05-0.2 ms late here).
LATE_SECONDS = 0.0015


def sample(seconds: float, period: float = PERIOD_SECONDS) -> list[float]:
    """Sleep ``period`` at a time for ``seconds``: each wake-up's lateness (s)."""
    late: list[float] = []
    end = time.perf_counter() + seconds
    while (start := time.perf_counter()) < end:
        time.sleep(period)
        late.append(time.perf_counter() - start - period)
    return late


def summary(late: list[float]) -> dict[str, float]:
    """The share of late wake-ups, the p99 and worst lateness (ms)."""
    if not late:
        return {"late_share": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    return {
        "late_share": sum(1 for d in late if d > LATE_SECONDS) / len(late),
        "p99_ms": percentile(late, 0.99) * 1e3,
        "max_ms": max(late) * 1e3,
    }


def main(argv: list[str] | None = None) -> int:
    """Sample for ``--seconds`` beside ``--burners`` busy cores; print JSON."""
    parser = argparse.ArgumentParser(prog="python -m stress.bench._wake_probe")
    parser.add_argument("--seconds", type=float, default=9.0)
    parser.add_argument("--burners", type=int, default=0)
    parser.add_argument("--wait", action="store_true", help="start on a stdin line")
    args = parser.parse_args(argv)
    if args.wait:
        sys.stdin.readline()
    with contextlib.ExitStack() as stack:
        if args.burners:
            stack.enter_context(contextlib.closing(CpuLoad(args.burners, args.burners)))
            time.sleep(0.5)  # the burners are running
        print(json.dumps(summary(sample(args.seconds))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
