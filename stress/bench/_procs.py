"""The processes a benchmark drives: one daemon and its client workers.

CPU time and RSS come from ``/proc/<pid>`` (Linux only): ``utime + stime``
of ``/proc/<pid>/stat`` counts every thread of the process (the SQLite worker
threads included), ``VmRSS`` of ``/proc/<pid>/status`` is the resident set.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from stress._env import isolated_env
from stress.bench._wire import Connection, HTTPError, expect

REPO = Path(__file__).resolve().parents[2]
_TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """A benchmark run went wrong (lost events, a daemon that did not start...)."""


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds used so far by process ``pid``."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[11]) / _TICKS, int(fields[12]) / _TICKS


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid``."""
    return sum(cpu_times(pid))


def rss_kib(pid: int) -> int:
    """Resident set size of process ``pid`` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for pid {pid}")


def raise_open_file_limit(wanted: int = 65536) -> int:
    """Raise the soft RLIMIT_NOFILE (children inherit it); return the new value."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return max(soft, target)


def health_ok(path: str) -> bool:
    """One ``GET /v1/health`` attempt; False while nothing listens yet."""
    try:
        conn = Connection(path, timeout=5.0)
    except (FileNotFoundError, ConnectionRefusedError):
        return False
    try:
        status, _ = conn.request("GET", "/v1/health")
    except (OSError, HTTPError):
        return False
    finally:
        conn.close()
    return 200 <= status < 300


def bytecode_env(base: dict[str, str], extra: dict[str, str] | None) -> dict[str, str]:
    """``base`` plus ``extra``; with ``PYTHONPYCACHEPREFIX`` in ``extra``,
    bytecode is written there even if ``PYTHONDONTWRITEBYTECODE`` is set.

    Some machines (this one) set ``PYTHONDONTWRITEBYTECODE=1``, so an editable
    checkout recompiles crushd on every start while an installed package
    ships compiled files; the spawn benchmark keeps its own bytecode cache so
    it measures what an installed daemon does (the bare ``import trio`` it is
    compared with runs under the same cache).
    """
    env = {**base, **(extra or {})}
    if "PYTHONPYCACHEPREFIX" in env:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


class Daemon:
    """A ``crushd serve --debug-endpoints`` subprocess on a private unix socket.

    ``source`` runs the ``crushd`` package of another checkout (``--source``).
    Use as a context manager: entering waits for the first 2xx ``/v1/health``
    (``ready_seconds`` after spawn); the temp folder (socket, logs, project) is
    removed and the process terminated on exit. ``noop`` runs
    ``stress.bench._noop`` (hypercorn with a no-op app) instead of crushd;
    ``env`` adds variables (see ``bytecode_env``).
    """

    def __init__(
        self,
        *flags: str,
        debug: bool = True,
        source: str | None = None,
        profile: str | None = None,
        noop: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="crushd-bench-", dir="/tmp"))
        self.socket = str(self.root / "d.sock")
        self.project = self.root / "project"
        self.project.mkdir()
        command = [sys.executable, "-m", "crushd", "serve", "--host"]
        command += [f"unix://{self.socket}", "--idle-timeout", "600", *flags]
        if debug:
            command.append("--debug-endpoints")
        if noop:
            command = [sys.executable, "-m", "stress.bench._noop", self.socket]
            source = None
        self.profile = profile
        self.profiler: subprocess.Popen[bytes] | None = None
        self.started = time.monotonic()
        with (self.root / "stderr").open("wb") as stderr:
            self.process = subprocess.Popen(
                command,
                env=bytecode_env(isolated_env(self.root, source), env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                cwd=source or REPO,
            )

    @property
    def pid(self) -> int:
        """The daemon's pid."""
        return self.process.pid

    def wait_ready(self, timeout: float = 20.0, poll_seconds: float = 0.002) -> float:
        """Poll ``/v1/health``; return seconds from spawn to the first 2xx."""
        deadline = self.started + timeout
        while not health_ok(self.socket):
            if self.process.poll() is not None:
                raise BenchError(f"daemon exited: {self.stderr_text()}")
            if time.monotonic() > deadline:
                raise BenchError("daemon did not answer /v1/health")
            time.sleep(poll_seconds)
        return time.monotonic() - self.started

    def stderr_text(self) -> str:
        """What the daemon wrote to stderr."""
        return (self.root / "stderr").read_text(errors="replace")[-2000:]

    def connect(self) -> Connection:
        """A keep-alive connection to the daemon."""
        return Connection(self.socket)

    def create_workspace(self, conn: Connection, client_id: str) -> str:
        """Create/join the project workspace as ``client_id``; return its id."""
        body = {"path": str(self.project), "client_id": client_id}
        return str(expect(*conn.request("POST", "/v1/workspaces", body))["id"])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; remove the temp folder."""
        self._stop_profiler()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def _start_profiler(self) -> None:
        """Sample the daemon with py-spy (collapsed stacks) until ``stop``."""
        assert self.profile is not None
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        out = Path(self.profile) / f"daemon-{self.pid}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        command = [spy, "record", "--pid", str(self.pid), "--rate", "1000"]
        command += ["--format", "raw", "-o", str(out)]
        self.profiler = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        print(f"profiling the daemon into {out}", file=sys.stderr)

    def _stop_profiler(self) -> None:
        if self.profiler is not None:
            self.profiler.send_signal(signal.SIGINT)
            self.profiler.wait(30)
            self.profiler = None

    def __enter__(self) -> Daemon:
        try:
            self.ready_seconds = self.wait_ready()
            if self.profile:
                self._start_profiler()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def publish(conn: Connection, workspace_id: str, count: int, pad: int) -> Any:
    """Publish ``count`` debug events with ``pad`` bytes each; return the ids."""
    target = f"/v1/debug/workspaces/{workspace_id}/publish"
    return expect(*conn.request("POST", target, {"count": count, "payload_bytes": pad}))


def publish_all(
    conn: Connection, workspace_id: str, events: int, batch: int, pad: int
) -> None:
    """Publish ``events`` debug events, ``batch`` per request, pipelined."""
    target = f"/v1/debug/workspaces/{workspace_id}/publish"
    bodies = [
        {"count": min(batch, events - sent), "payload_bytes": pad}
        for sent in range(0, events, batch)
    ]
    for status, body in conn.pipeline([("POST", target, b) for b in bodies]):
        expect(status, body)


def open_raw_stream(path: str, workspace_id: str, client_id: str) -> socket.socket:
    """Open an event stream from the driver itself and wait for its 200."""
    conn = Connection(path)
    target = f"/v1/workspaces/{workspace_id}/events?client_id={client_id}"
    conn.sock.sendall(f"GET {target} HTTP/1.1\r\nHost: crushd\r\n\r\n".encode())
    status, _ = conn.read_head()
    if status != 200:
        raise BenchError(f"event stream answered {status}")
    return conn.sock


class Workers:
    """Client worker processes (``stress.bench._worker``), one job each."""

    #: The module each worker process runs.
    module = "stress.bench._worker"

    def __init__(self, jobs: list[dict[str, Any]]) -> None:
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-m", self.module, json.dumps(job)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=REPO,
            )
            for job in jobs
        ]
        self._buffers = [b""] * len(jobs)

    def _message(self, index: int, deadline: float) -> dict[str, Any]:
        process = self.processes[index]
        assert process.stdout is not None
        fd = process.stdout.fileno()
        while b"\n" not in self._buffers[index]:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise BenchError("a client worker did not answer in time")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise BenchError(f"client worker exited ({process.wait()})")
            self._buffers[index] += chunk
        line, _, self._buffers[index] = self._buffers[index].partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        return message

    def _all(self, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        return [self._message(i, deadline) for i in range(len(self.processes))]

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until every worker has set up (its streams are attached)."""
        self._all(timeout)

    def _send(self, line: str) -> None:
        for process in self.processes:
            assert process.stdin is not None
            try:
                process.stdin.write(line.encode() + b"\n")
                process.stdin.flush()
            except BrokenPipeError:
                pass

    def go(self, **extra: Any) -> None:
        """Tell every worker to start its job (``extra`` is merged into it)."""
        self._send("go " + json.dumps(extra))

    def results(self, timeout: float) -> list[Any]:
        """Each worker's ``result``, in job order."""
        return [message["result"] for message in self._all(timeout)]

    def cpu_seconds(self) -> list[float]:
        """CPU seconds used so far by each worker."""
        return [cpu_seconds(process.pid) for process in self.processes]

    def stop(self) -> None:
        """Tell the workers to close everything; kill stragglers after 10 s."""
        self._send("stop")
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
