"""Start ``crushd serve`` detached, one spawner at a time, and wait until it answers.

The process side of ``ensure_server`` (docs/protocol.md 8.4 steps 3 and 4): the
cross-process spawn lock, the detached child, the readiness poll and
``CRUSH_SERVER_READY_TIMEOUT``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import trio

from crushd.proto import Host, default_host

from ._client import Client
from ._exceptions import CrushctlError, ServerUnavailable, UntrustedServerError

log = logging.getLogger("crushctl.spawn")

#: The environment variable bounding the readiness poll (a Go-style duration).
READY_TIMEOUT_ENV = "CRUSH_SERVER_READY_TIMEOUT"
#: How long a spawned daemon gets to answer ``/v1/health`` unless overridden.
DEFAULT_READY_TIMEOUT_SECONDS = 10.0
#: The budget of the socket dial and of the health re-probe under the lock.
PROBE_TIMEOUT_SECONDS = 0.2
#: Readiness: one ``/v1/health`` attempt this long, then a pause this long.
READY_POLL_SECONDS = 0.1

_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_MICRO_SIGNS = ("\u00b5s", "\u03bcs")  # Go accepts both
_DURATION_PART = re.compile(
    r"(\d+(?:\.\d*)?|\.\d+)(ns|us|" + "|".join(_MICRO_SIGNS) + "|ms|s|m|h)"
)
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    **dict.fromkeys(_MICRO_SIGNS, 1e-6),
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


class ServerStartError(CrushctlError):
    """The spawned daemon did not become ready.

    The message is ``failed to initialize crush server: <last error> (see
    <dir>/stderr.log and <dir>/crushd.log)``: the daemon's startup errors go to
    ``stderr.log``, its log records to ``crushd.log``.

    Attributes:
        reason: the last readiness error, e.g. ``crushd serve exited with
            status 1`` or ``GET /v1/health: no answer within 0.1 s``.
        log_dir: ``<cache>/server-<safeHost>``, the spawned daemon's folder.

    Source: docs/protocol.md 8.4 step 4 (the upstream message).
    """

    def __init__(self, reason: str, log_dir: Path) -> None:
        logs = f"see {log_dir / 'stderr.log'} and {log_dir / 'crushd.log'}"
        super().__init__(f"failed to initialize crush server: {reason} ({logs})")
        self.reason = reason
        self.log_dir = log_dir


def parse_duration_seconds(text: str) -> float:
    """Parse a Go duration (``10s``, ``500ms``, ``1m30s``) or plain seconds.

    Raises:
        ValueError: anything else (signs, exponents, ``inf`` included).
    """
    text = text.strip()
    if _NUMBER.fullmatch(text):
        return float(text)
    parts = list(_DURATION_PART.finditer(text))
    if not parts or "".join(part[0] for part in parts) != text:
        raise ValueError(f"invalid duration: {text!r}")
    return sum(float(part[1]) * _UNIT_SECONDS[part[2]] for part in parts)


def ready_timeout_seconds(environ: Mapping[str, str] | None = None) -> float:
    """Return the readiness budget from ``CRUSH_SERVER_READY_TIMEOUT``, in seconds.

    Accepts ``10s``, ``500ms``, ``1m`` (Go duration syntax) or plain seconds
    (``2.5``). Unset, invalid, zero or negative means
    ``DEFAULT_READY_TIMEOUT_SECONDS``.

    Args:
        environ: the environment to read; ``None`` means ``os.environ``.

    Source: Crush ``serverReadyTimeout`` (seed 003).
    """
    text = (os.environ if environ is None else environ).get(READY_TIMEOUT_ENV, "")
    try:
        seconds = parse_duration_seconds(text)
    except ValueError:
        return DEFAULT_READY_TIMEOUT_SECONDS
    if seconds <= 0 or not math.isfinite(seconds):
        return DEFAULT_READY_TIMEOUT_SECONDS
    return seconds


class _FlockHandoff:
    """A blocking ``flock`` taken in a worker thread, then handed to the waiter.

    The waiter may give up (cancellation) while the thread still blocks; the
    thread then releases the lock as soon as it gets it, so an abandoned wait
    never keeps other clients out.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._mutex = threading.Lock()
        self._fd: int | None = None
        self._released = False

    def acquire_blocking(self) -> None:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)  # not inheritable
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        with self._mutex:
            if not self._released:
                self._fd = fd
                return
        os.close(fd)

    def release(self) -> None:
        with self._mutex:
            self._released = True
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the last descriptor drops the flock


@contextlib.asynccontextmanager
async def spawn_lock(path: Path) -> AsyncIterator[None]:
    """Hold the exclusive ``flock`` on ``path`` (created 0600) for the block.

    Blocks, with no timeout of its own, in a worker thread. If the lock cannot
    be taken at all (an unwritable folder), the block runs unsynchronised with
    a warning, as upstream does.

    Cancellation:
        Safe while waiting: the worker thread is abandoned and drops the lock
        as soon as it gets it. The lock is released on every exit path.

    Source: Crush ``acquireSpawnLock`` (seed 003).
    """
    handoff = _FlockHandoff(path)
    try:
        try:
            await trio.to_thread.run_sync(
                handoff.acquire_blocking, abandon_on_cancel=True
            )
        except OSError as exc:
            log.warning("no spawn lock %s (%s); starting unsynchronised", path, exc)
        yield
    finally:
        handoff.release()


def server_command(host: Host) -> list[str]:
    """Return the argv that starts the daemon for ``host``.

    ``[sys.executable, "-P", "-m", "crushd", "serve"]``, plus ``--host URL``
    unless ``host`` is the default (the daemon computes that one itself from
    the same environment). ``-P`` keeps the caller's working directory off
    ``sys.path``: a folder named ``crushd`` (or ``trio``, ...) there must not
    replace the installed package (issue 15).
    """
    command = [sys.executable, "-P", "-m", "crushd", "serve"]
    if host.url != default_host().url:
        command += ["--host", host.url]
    return command


def start_server(host: Host, log_dir: Path) -> subprocess.Popen[bytes]:
    """Start ``server_command(host)`` fully detached; do not wait for it.

    The child gets a new session (no controlling terminal; our Ctrl-C and
    SIGHUP do not reach it), stdin from ``/dev/null``, stdout/stderr truncated
    into ``log_dir/stdout.log`` and ``stderr.log``, no inherited descriptors
    (so not the spawn lock) and our environment and working directory.

    Reaping: the child stays ours until we exit. A daemon thread waits on it,
    so a daemon that exits while we still run (a long-lived client) is reaped
    at once instead of lingering as a zombie; when we exit first, init (or the
    nearest subreaper) inherits and reaps it. Merely dropping the ``Popen``
    would not do: CPython's ``Popen.__del__`` only parks a running child on
    ``subprocess._active`` (reaped when a later ``Popen`` is created) and emits
    a ``ResourceWarning``.

    Returns:
        The child; its ``returncode`` is set once it has exited.

    Raises:
        ServerStartError: the log files cannot be opened or the exec failed.
    """
    command = server_command(host)
    try:
        process = _popen_detached(command, log_dir)
    except OSError as exc:
        reason = f"cannot start {shlex.join(command)}: {exc}"
        raise ServerStartError(reason, log_dir) from exc
    threading.Thread(
        target=process.wait, name=f"crushd-reaper-{process.pid}", daemon=True
    ).start()
    log.info("started crushd (pid %d): %s", process.pid, shlex.join(command))
    return process


def _popen_detached(command: list[str], log_dir: Path) -> subprocess.Popen[bytes]:
    with (
        (log_dir / "stdout.log").open("wb") as stdout,
        (log_dir / "stderr.log").open("wb") as stderr,
    ):
        return subprocess.Popen(  # noqa: S603 - our own interpreter, no shell
            command,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            close_fds=True,
            start_new_session=True,
        )


async def health_error(client: Client, timeout_seconds: float) -> str | None:
    """Probe ``GET /v1/health`` once; return why it failed, or ``None`` if 2xx.

    Args:
        client: a client for the daemon's host.
        timeout_seconds: the attempt's whole budget (connect included).

    Raises:
        UntrustedServerError: another uid holds the socket (never retried).

    Cancellation:
        Safe; nothing changes on the daemon.

    Source: Crush ``probeHealth`` (seed 003).
    """
    with trio.move_on_after(timeout_seconds):
        try:
            await client.health()
        except ServerUnavailable as exc:
            return f"cannot connect to {client.host.address}: {exc.__cause__}"
        except UntrustedServerError:
            raise  # waiting longer would not make it ours
        except CrushctlError as exc:
            return exc.message
        return None
    return f"GET /v1/health: no answer within {timeout_seconds:g} s"


async def wait_ready(
    client: Client, process: subprocess.Popen[bytes] | None, log_dir: Path
) -> None:
    """Poll ``/v1/health`` until a 2xx, for at most ``ready_timeout_seconds()``.

    One attempt every ``READY_POLL_SECONDS``, each bounded by the same. Gives up
    early when ``process`` (the daemon we started; ``None`` when we are waiting
    for one we did not start) has exited and the host still does not answer;
    the error then quotes the last line the daemon wrote to ``stderr.log``.

    Raises:
        ServerStartError: no 2xx in time, or the daemon exited; the message
            carries the last error and names the log files.

    Cancellation:
        Safe; the daemon keeps starting on its own.

    Source: Crush ``waitForServerReady`` (seed 003).
    """
    deadline = trio.current_time() + ready_timeout_seconds()
    while True:
        reason = await health_error(client, READY_POLL_SECONDS)
        if reason is None:
            return
        if process is not None and process.returncode is not None:
            raise ServerStartError(_exit_reason(process.returncode, log_dir), log_dir)
        if trio.current_time() >= deadline:
            raise ServerStartError(reason, log_dir)
        await trio.sleep(READY_POLL_SECONDS)


#: How much of the end of ``stderr.log`` is read for its last line, in bytes.
_STDERR_TAIL_BYTES = 4096


def _exit_reason(returncode: int, log_dir: Path) -> str:
    """``crushd serve exited with status N[: <last stderr line>]``."""
    status = f"crushd serve exited with status {returncode}"
    line = last_line(log_dir / "stderr.log")
    return f"{status}: {line}" if line else status


def last_line(path: Path) -> str:
    """Return the last non-blank line of ``path`` (its final 4 KiB), or ``""``.

    An unreadable or missing file is ``""``: the error must not hide the
    daemon's exit behind a second one.
    """
    try:
        with path.open("rb") as file:
            file.seek(max(0, file.seek(0, os.SEEK_END) - _STDERR_TAIL_BYTES))
            tail = file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return lines[-1] if lines else ""
