"""``crushctl logs [-f] [-n N]``: print (and follow) the daemon's log file.

The file is the one the daemon names in ``GET /v1/config`` (``crushd.log_file``);
when no daemon answers, a unix host's usual file, ``<cache>/server-<safeHost>/
crushd.log``, is read (a daemon that just died is when the log matters most).
No daemon is ever started for this.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import deque
from pathlib import Path
from typing import BinaryIO

import trio

from crushctl import Client, CrushctlError
from crushd.proto import server_dir

from ._common import Context

#: How often ``--follow`` looks for new lines, in seconds.
FOLLOW_POLL_SECONDS = 0.5
#: How long the daemon gets to name its log file, in seconds.
ASK_SECONDS = 2.0


def add_logs_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: list[argparse.ArgumentParser],
) -> None:
    """Add ``logs [-f] [-n N]``."""
    text = "print the daemon's log file"
    sub = commands.add_parser("logs", help=text, description=text, parents=common)
    sub.set_defaults(handler=cmd_logs, spawns=False)
    sub.add_argument(
        "-f", "--follow", action="store_true", help="keep printing new lines"
    )
    sub.add_argument(
        "-n",
        "--lines",
        type=_count,
        metavar="N",
        default=None,
        help="only the last N lines (default: all)",
    )


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a line count: {text}")
    return int(text)


async def cmd_logs(ctx: Context, args: argparse.Namespace) -> None:
    """Print the log file, then follow it with ``-f`` until Ctrl-C.

    Raises:
        CrushctlError: no log file is known or it cannot be read.
    """
    path = await log_file(ctx.client)
    try:
        file = path.open("rb")
    except OSError as exc:
        raise CrushctlError(f"cannot read the log file {path}: {exc}") from exc
    with file:
        _write(_tail(file, args.lines))
        if args.follow:
            await follow(path, file)


async def log_file(client: Client) -> Path:
    """Return the daemon's log file: as it says, else the host's usual one.

    Raises:
        CrushctlError: a tcp host whose daemon does not answer (its log is on
            another machine, or at least not where crushctl can guess).
    """
    with trio.move_on_after(ASK_SECONDS):
        try:
            named = (await client.server_config()).get("crushd", {}).get("log_file")
        except CrushctlError:
            named = None
        if isinstance(named, str) and named:
            return Path(named)
    if client.host.scheme != "unix":
        raise CrushctlError(f"crushd at {client.host.url} did not name its log file")
    return server_dir(client.host) / "crushd.log"


def _tail(file: BinaryIO, lines: int | None) -> bytes:
    if lines is None:
        return file.read()
    return b"".join(deque(file, maxlen=lines)) if lines else b""


def _write(data: bytes) -> None:
    if data:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


async def follow(path: Path, file: BinaryIO) -> None:
    """Print what is appended to ``path`` from ``file``'s position on; never returns.

    A rotated file (a new inode at ``path``) is finished, then the new one is
    printed from its start; a truncated one is read again from its start.

    Cancellation:
        The way it ends (Ctrl-C); a file opened after a rotation is closed.
    """
    current = file
    try:
        while True:
            _write(current.read())
            await trio.sleep(FOLLOW_POLL_SECONDS)
            current = _current(path, current, keep=file)
    finally:
        if current is not file:
            current.close()


def _current(path: Path, file: BinaryIO, *, keep: BinaryIO) -> BinaryIO:
    """Return the file to read next: ``file``, rewound, or the one now at ``path``."""
    try:
        now = path.stat()
        mine = os.fstat(file.fileno())
        if (now.st_ino, now.st_dev) == (mine.st_ino, mine.st_dev):
            if now.st_size < file.tell():
                file.seek(0)
            return file
        fresh = path.open("rb")
    except OSError:
        return file  # rotating right now; look again next time
    _write(file.read())  # what was appended before the rotation
    if file is not keep:
        file.close()
    return fresh
