"""The agent benchmark's fan-out bursts, and the CPU shares around them.

A burst is ``_streams.burst``'s: ``burst_clients`` streams on a workspace of
their own, ``burst_events`` debug events published back to back; its figure
is deliveries per second. ``_agent.burst_phase`` runs three kinds:

- *alone*: nothing else runs;
- *during*: while the answers stream to the watchers (the target compares
  these with the bursts alone);
- *control*: beside a synthetic CPU load (``_cpu_load``) as large as what the
  watchers and the scripted server took during the *during* bursts, with no
  answer streaming. It asks nothing of the daemon, so its ratio to *alone*
  is what this machine allows with the runs' outside load alone, whatever
  the daemon does (stress/RESULTS.md, "The control bursts").
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable

import attrs

from stress.bench._cpu_load import CpuLoad
from stress.bench._procs import Daemon, Workers, cpu_seconds, publish_all
from stress.bench._streams import _check_burst, split
from stress.bench._wire import Connection

#: A reading of some other processes' CPU seconds so far (0.0 = none).
LoadMeter = Callable[[], float]


@attrs.frozen
class BurstSample:
    """One burst: deliveries/s, and the CPU shares of a core while it ran.

    ``load_share`` is the other load's: the watchers' and the scripted
    server's during the answers, the burners' in a control burst.
    """

    per_s: float
    daemon_share: float
    load_share: float


@attrs.frozen
class BurstTarget:
    """Where bursts go and how big they are.

    Attributes:
        daemon: the daemon.
        conn: the driver's connection (it publishes the events).
        workspace_id: the burst workspace.
        clients: streams per burst (``Sizes.burst_clients``).
        events: events per burst (``Sizes.burst_events``).
    """

    daemon: Daemon
    conn: Connection
    workspace_id: str
    clients: int
    events: int


def no_load() -> float:
    """The ``LoadMeter`` of the bursts alone."""
    return 0.0


def one_burst(target: BurstTarget, clients: Workers, load: LoadMeter) -> BurstSample:
    """One fan-out burst to ``clients`` (as ``_streams.burst``).

    The shares are CPU seconds over the burst's wall seconds (publish to the
    last stream's report): the daemon's, and ``load``'s.
    """
    streams, events = target.clients, target.events
    clients.go()
    time.sleep(0.3)  # every worker is parked in receive
    cpu0 = cpu_seconds(target.daemon.pid), load()
    start = time.monotonic()
    publish_all(target.conn, target.workspace_id, events, min(1000, events), 100)
    results = clients.results(timeout=120)
    wall = time.monotonic() - start
    cpu1 = cpu_seconds(target.daemon.pid), load()
    return BurstSample(
        per_s=streams * events / (_check_burst(results, events) - start),
        daemon_share=(cpu1[0] - cpu0[0]) / wall,
        load_share=(cpu1[1] - cpu0[1]) / wall,
    )


def bursts(target: BurstTarget, count: int, load: LoadMeter) -> list[BurstSample]:
    """``count`` bursts in a row, to one set of client processes.

    The clients start (and attach their streams) before the first burst, so
    no process start-up falls into a burst or takes time from the answers.
    """
    base = {
        "socket": target.daemon.socket,
        "workspace_id": target.workspace_id,
        "mode": "burst",
        "events": target.events,
    }
    jobs = [{**base, "streams": n} for n in split(target.clients, 2)]
    with Workers(jobs) as clients:
        clients.wait_ready()
        return [one_burst(target, clients, load) for _ in range(count)]


def control_bursts(target: BurstTarget, count: int, share: float) -> list[BurstSample]:
    """The bursts beside burners taking ``share`` of a core (nothing streams)."""
    with contextlib.closing(CpuLoad(share)) as load:
        time.sleep(0.3)  # the burners are past their start-up
        return bursts(target, count, load.cpu_seconds)


def medians(samples: list[BurstSample], phase: str) -> dict[str, float]:
    """The medians of ``samples`` as ``burst_<phase>_...`` metrics."""
    return {
        f"burst_{phase}_per_s": statistics.median(s.per_s for s in samples),
        f"burst_{phase}_daemon_cpu_share": statistics.median(
            s.daemon_share for s in samples
        ),
        f"burst_{phase}_load_cpu_share": statistics.median(
            s.load_share for s in samples
        ),
    }
