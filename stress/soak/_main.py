"""The soak driver: daemon, client processes, fault schedule, checks, report."""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import trio

from crushctl import Client, CrushctlError

from .._env import isolated_env
from . import _faults
from ._daemon import CREATE_GRACE, DETACH_GRACE, Daemon
from ._verify import verify
from ._worker import ready_file

REPO = Path(__file__).resolve().parents[2]
PROJECTS = 3
#: Tolerances of the leak check (see the package docstring).
FD_TOLERANCE = 3
RSS_TOLERANCE_KIB = 16 * 1024
RSS_BASELINE_TOLERANCE_KIB = 48 * 1024
MONITOR_SECONDS = 2.0
#: Seconds a client may take to start handling SIGTERM before it is stopped.
READY_SECONDS = 15.0
#: What the daemon logs when its send timeout drops a stalled reader.
STALLED = "closing a connection whose peer stopped reading"


async def wait_ready(process: trio.Process, ready: Path) -> None:
    """Wait until a client handles SIGTERM, at most ``READY_SECONDS``.

    A client started by a fault just before the end may still be importing;
    SIGTERM would then kill it before it could write its summary.
    """
    with trio.move_on_after(READY_SECONDS):
        # Another process touches the file: polled, no event to wait on.
        while not ready.exists() and process.returncode is None:  # noqa: ASYNC110, ASYNC240
            await trio.sleep(0.05)


class Soak:
    """The state of one soak run."""

    def __init__(self, root: Path, clients: int, seed: int) -> None:
        self.root = root
        self.clients = clients
        self.seed = seed
        self.rng = random.Random(seed)
        self.daemon = Daemon(root)
        self.projects = [str(root / f"proj{n}") for n in range(PROJECTS)]
        for project in self.projects:
            Path(project).mkdir()
        self.workers: list[trio.Process] = []
        self.outputs: list[Path] = []
        self.all_outputs: list[Path] = []
        self.killed_outputs: set[Path] = set()
        self.noread: trio.Process | None = None
        self.spawned: list[trio.Process] = []  # every client process, for cleanup
        self.ready_files: dict[int, Path] = {}  # pid -> touched once SIGTERM is handled
        self.violations: list[str] = []
        self.faults: Counter[str] = Counter()
        self.daemon_kills = 0
        self.integrity_checks = 0
        self.restarting = False
        self.peak = (0, 0)  # RSS KiB, fds
        self.measures: dict[str, tuple[int, int]] = {}

    def data_dir(self, project: str) -> Path:
        return Path(project) / ".crush"

    def check_files(self, when: str) -> None:
        _faults.check_files(self, when)

    # ------------------------------------------------------------ clients

    async def spawn_worker(self, slot: int, mode: str = "work") -> trio.Process:
        out = self.root / f"client-{slot}-{len(self.all_outputs)}.jsonl"
        command = [
            sys.executable, "-m", "stress.soak._worker", self.daemon.host.url,
            str(out), str(self.rng.randrange(2**32)), mode, *self.projects,
        ]  # fmt: skip
        env = isolated_env(self.root)
        env["PYTHONPATH"] = str(REPO)
        process = await trio.lowlevel.open_process(command, env=env, cwd=REPO)
        self.spawned.append(process)
        self.ready_files[process.pid] = ready_file(out)
        if mode == "work":
            self.all_outputs.append(out)
            if slot < len(self.workers):
                self.workers[slot], self.outputs[slot] = process, out
            else:
                self.workers.append(process)
                self.outputs.append(out)
        return process

    async def stop_clients(self) -> None:
        processes = [*self.workers, *([self.noread] if self.noread else [])]
        for process in processes:
            await wait_ready(process, self.ready_files[process.pid])
            process.terminate()
        for process in processes:
            with trio.move_on_after(20):
                await process.wait()
            if process.returncode is None:
                self.violations.append(f"client pid {process.pid} ignored SIGTERM")
                process.kill()
                await process.wait()
            elif process.returncode != 0:
                self.violations.append(
                    f"client pid {process.pid} exited {process.returncode}"
                )

    # ------------------------------------------------------------ daemon

    async def measure(self, name: str) -> tuple[int, int]:
        """RSS and fds once closed connections are gone (the least fds in 5 s)."""
        best = (self.daemon.rss_kib(), self.daemon.fds())
        for _ in range(10):
            await trio.sleep(0.5)
            now = (self.daemon.rss_kib(), self.daemon.fds())
            best = now if now[1] < best[1] else best
        self.measures[name] = best
        return best

    async def workspaces(self) -> list[str]:
        async with Client(self.daemon.host) as client:
            return [ws.id for ws in await client.workspaces()]

    async def wait_empty(self, when: str) -> None:
        """Every workspace must be torn down once nobody holds it."""
        deadline = trio.current_time() + CREATE_GRACE + DETACH_GRACE + 5.0
        left: list[str] = []
        while trio.current_time() < deadline:
            left = await self.workspaces()
            if not left:
                return
            await trio.sleep(0.1)
        self.violations.append(f"{when}: workspaces leaked: {left}")

    def restarted(self, starts: int) -> bool:
        """Whether a daemon restart began or happened since ``starts`` was read."""
        return self.restarting or self.daemon.starts != starts

    async def monitor(self) -> None:
        """Every few seconds: the daemon is alive, healthy; track its peak."""
        while True:
            await trio.sleep(MONITOR_SECONDS)
            if self.restarting:
                continue
            process = self.daemon.process
            if process is None or process.returncode is not None:
                self.violations.append("daemon died on its own")
                return
            try:
                rss, fds = self.daemon.rss_kib(), self.daemon.fds()
            except OSError:  # killed by a fault this very moment
                continue
            self.peak = (max(self.peak[0], rss), max(self.peak[1], fds))
            starts = self.daemon.starts
            with trio.move_on_after(10) as slow:
                healthy = await self.daemon.healthy()
            if (slow.cancelled_caught or not healthy) and not self.restarted(starts):
                self.violations.append("daemon did not answer /v1/health within 10 s")

    # ---------------------------------------------------------------- run

    async def warmup(self) -> None:
        await _faults.burst(self, 5)
        await self.wait_empty("warm-up")
        await self.measure("baseline (warm, idle)")

    async def faults_until(self, deadline: float) -> None:
        schedule: list[_faults.Fault] = []
        total = max(deadline - trio.current_time(), 1.0)
        interval = min(10.0, max(2.0, total / (len(_faults.FAULTS) + 1)))
        kinds = len(_faults.FAULTS)  # each runs at least once, however short
        while trio.current_time() + interval < deadline or len(self.faults) < kinds:
            await trio.sleep(interval)
            if not schedule:
                schedule = list(_faults.FAULTS)
                self.rng.shuffle(schedule)
            fault = schedule.pop()
            self.restarting = fault is _faults.kill_daemon
            try:
                what = await fault(self)
            finally:
                self.restarting = False
            self.faults[fault.__name__] += 1
            print(f"  [{time.strftime('%H:%M:%S')}] {what}", flush=True)
        await trio.sleep(max(0.0, deadline - trio.current_time()))

    async def run(self, minutes: float) -> None:
        await self.daemon.start()
        await self.warmup()
        for slot in range(self.clients):
            await self.spawn_worker(slot)
        self.noread = await self.spawn_worker(-1, "noread")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.monitor)
            await self.faults_until(trio.current_time() + minutes * 60)
            nursery.cancel_scope.cancel()
        await self.stop_clients()
        await self.finish()

    async def finish(self) -> None:
        await self.wait_empty("after every client left")
        rss1, fds1 = await self.measure("after the clients left")
        await _faults.burst(self, 50)
        await self.wait_empty("after the last burst")
        rss2, fds2 = await self.measure("after one more burst")
        self.check_leaks((rss1, fds1), (rss2, fds2))
        async with Client(self.daemon.host) as client:
            try:
                await client.shutdown(if_idle=True)
            except CrushctlError as exc:
                self.violations.append(f"shutdown_if_idle refused: {exc}")
        status = await self.daemon.wait_exit(10)
        if status != 0:
            self.violations.append(f"daemon exit status {status} (expected 0)")
            await self.daemon.stop()
        if self.daemon.socket_exists():
            self.violations.append("the socket file outlived the daemon")
        self.check_files("after exit")

    def check_leaks(self, first: tuple[int, int], second: tuple[int, int]) -> None:
        if second[1] > first[1] + FD_TOLERANCE:
            self.violations.append(f"fds grew from {first[1]} to {second[1]}")
        if second[0] > first[0] + RSS_TOLERANCE_KIB:
            self.violations.append(f"RSS grew from {first[0]} to {second[0]} KiB")
        # A restarted daemon runs the same code, so the first one's warm idle
        # baseline applies to it too.
        base = self.measures["baseline (warm, idle)"]
        if first[1] > base[1] + FD_TOLERANCE:
            self.violations.append(f"fds {first[1]} vs baseline {base[1]}")
        if first[0] > base[0] + RSS_BASELINE_TOLERANCE_KIB:
            self.violations.append(f"RSS {first[0]} KiB vs baseline {base[0]} KiB")


def table(soak: Soak, minutes: float, elapsed: float) -> tuple[list[str], list[str]]:
    report = verify(soak.all_outputs, soak.killed_outputs)
    rows = [
        ("minutes", f"{minutes:g} (ran {elapsed:.0f} s)"),
        ("client processes", f"{soak.clients} + 1 never reading"),
        ("client processes started", str(len(soak.all_outputs))),
        ("seed", str(soak.seed)),
        *((f"fault: {name}", str(n)) for name, n in sorted(soak.faults.items())),
        ("daemon SIGKILLs", str(soak.daemon_kills)),
        ("integrity checks", str(soak.integrity_checks)),
        *((f"client {k}", str(v)) for k, v in sorted(report.totals.items())),
        ("stream segments compared", str(report.segments)),
        ("events cross-checked", str(report.events_compared)),
        *(
            (f"RSS KiB / fds: {k}", f"{v[0]} / {v[1]}")
            for k, v in soak.measures.items()
        ),
        ("RSS KiB / fds: peak", f"{soak.peak[0]} / {soak.peak[1]}"),
        ("streams dropped: peer stopped reading", str(soak.daemon.log_count(STALLED))),
        ("daemon log errors (tracebacks)", str(soak.daemon.log_count("Traceback"))),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"  {name:<{width}}  {value}" for name, value in rows]
    violations = [*soak.violations, *report.violations]
    if soak.daemon.log_count("Traceback"):
        violations.append("the daemon logged a traceback (see crushd.log)")
    return lines, violations


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stress soak")
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    """Run the soak; 0 when no violation was seen, else 1."""
    args = parse(argv)
    seed = random.randrange(2**32) if args.seed is None else args.seed
    root = Path(tempfile.mkdtemp(prefix="crushd-soak-", dir="/tmp"))
    soak = Soak(root, args.clients, seed)
    print(f"soak: {args.minutes:g} min, {args.clients} clients, seed {seed}, in {root}")
    started = time.monotonic()
    try:
        trio.run(soak.run, args.minutes)
    finally:
        for process in soak.spawned:
            if process.poll() is None:
                process.kill()
        if soak.daemon.process is not None and soak.daemon.process.returncode is None:
            soak.daemon.process.kill()
    lines, violations = table(soak, args.minutes, time.monotonic() - started)
    print("\n".join(lines))
    for violation in violations:
        print(f"VIOLATION: {violation}")
    print(f"soak: {'FAILED' if violations else 'ok'} ({len(violations)} violations)")
    if not args.keep and not violations:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if violations else 0
