"""A synthetic CPU load: burner processes taking a set share of a core.

The agent benchmark's control bursts run beside it: a load that takes the
same CPU as the watchers and the scripted server took while the answers
streamed, but asks nothing of the daemon. The burst figure beside it is what
the machine allows with that much of it busy elsewhere, whatever the daemon
does (stress/RESULTS.md, "The control bursts").

Each process burns ``SHARE`` of one core in periods of ``PERIOD_SECONDS``
(busy for ``SHARE`` of the period, asleep for the rest) until it is killed.
"""

from __future__ import annotations

import subprocess
import sys
import time

from stress.bench._procs import REPO, cpu_seconds

#: One busy-then-asleep cycle, seconds: short next to a 0.3-1 s burst.
PERIOD_SECONDS = 0.01


def burn(share: float) -> None:
    """Keep ``share`` (0-1) of one core busy, forever (the process's job)."""
    busy = max(0.0, min(share, 1.0)) * PERIOD_SECONDS
    while True:
        start = time.perf_counter()
        while time.perf_counter() - start < busy:
            pass
        time.sleep(PERIOD_SECONDS - busy)


class CpuLoad:
    """``processes`` burners sharing ``share`` of a core between them.

    The processes start at once; ``close`` kills them (use it with
    ``contextlib.closing``). ``cpu_seconds`` tells what they used so far
    (user + system).
    """

    def __init__(self, share: float, processes: int = 2) -> None:
        self.share = share
        each = share / processes
        code = f"from stress.bench._cpu_load import burn; burn({each!r})"
        command = [sys.executable, "-c", code]
        self.processes = [subprocess.Popen(command, cwd=REPO) for _ in range(processes)]

    def cpu_seconds(self) -> float:
        """CPU seconds the burners used so far, together."""
        return sum(cpu_seconds(process.pid) for process in self.processes)

    def close(self) -> None:
        """Kill the burners and reap them."""
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait()
