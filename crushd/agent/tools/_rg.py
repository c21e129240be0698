"""Running ``rg`` (ripgrep) for ``glob`` and ``grep``.

``rg`` comes from the ``ripgrep`` wheel, installed next to the interpreter;
a system ``rg`` on ``PATH`` is the second choice, and the tools fall back to
a pure-Python walk when there is none (docs/agent.md 5.2). Each run is its own
process group, killed as a whole when the caller's scope is cancelled (a
timeout or the turn's cancel), so no search outlives its tool call.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

import attrs
import trio

#: The most output one ``rg`` run may produce before it is stopped, bytes.
MAX_RG_OUTPUT_BYTES = 16 * 1024 * 1024


@attrs.frozen
class RgOutput:
    """What one ``rg`` run produced.

    Attributes:
        returncode: the exit status (0 found, 1 nothing found, 2 error;
            negative when killed after ``truncated``).
        stdout: the output, at most ``MAX_RG_OUTPUT_BYTES`` (or the cap given).
        stderr: the error output (at most 64 KiB), decoded.
        truncated: True when the output cap stopped the run early.
    """

    returncode: int
    stdout: bytes
    stderr: str
    truncated: bool


def find_rg() -> str | None:
    """Return the path of the ``rg`` program to use, or None if there is none.

    Looks next to the running interpreter (the venv's ``bin/``), then in the
    install's scripts folder, then on ``PATH``.
    """
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / "rg"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("rg")


async def run_rg(
    rg: str, args: Sequence[str], *, cwd: Path, max_bytes: int = MAX_RG_OUTPUT_BYTES
) -> RgOutput:
    """Run ``rg args`` in ``cwd`` and collect its output.

    Args:
        rg: the program (see ``find_rg``).
        args: its arguments.
        cwd: the folder it runs in.
        max_bytes: stop reading (and kill ``rg``) past this much output.

    Returns:
        The exit status and output (see ``RgOutput``).

    Raises:
        OSError: ``rg`` could not be started.

    Cancellation:
        The whole process group is killed with SIGKILL and reaped before the
        cancellation propagates; nothing keeps running.
    """
    process = await trio.lowlevel.open_process(
        [rg, *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        return await _collect(process, max_bytes)
    finally:
        _kill_group(process)
        with trio.CancelScope(shield=True):
            await process.wait()


async def _collect(process: trio.Process, max_bytes: int) -> RgOutput:
    assert process.stdout is not None
    assert process.stderr is not None
    stderr = bytearray()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_drain, process.stderr, stderr, 64 * 1024)
        stdout = bytearray()
        truncated = await _read_into(process.stdout, stdout, max_bytes)
        if truncated:
            _kill_group(process)
    returncode = await process.wait()
    return RgOutput(
        returncode=returncode,
        stdout=bytes(stdout[:max_bytes]),
        stderr=stderr.decode("utf-8", "replace"),
        truncated=truncated,
    )


async def _read_into(
    stream: trio.abc.ReceiveStream, buffer: bytearray, max_bytes: int
) -> bool:
    """Read ``stream`` to its end into ``buffer``; True if it hit ``max_bytes``."""
    while chunk := await stream.receive_some(65536):
        buffer += chunk
        if len(buffer) > max_bytes:
            return True
    return False


async def _drain(
    stream: trio.abc.ReceiveStream, buffer: bytearray, keep_bytes: int
) -> None:
    """Read ``stream`` to its end, keeping its first ``keep_bytes``."""
    while chunk := await stream.receive_some(65536):
        buffer += chunk[: max(0, keep_bytes - len(buffer))]


def _kill_group(process: trio.Process) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
