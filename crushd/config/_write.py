"""Writing a scope file: locked, validated, atomic.

A write takes an exclusive ``flock`` on ``<file>.lock`` (polled without
blocking, so it is cancellable and runs on trio's clock), reads the file,
applies the change to its raw JSON (keys the model does not know are kept),
validates the result, then replaces the file atomically (temp file in the same
folder, mode 0600, fsync, rename). Any failure leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import trio

from crushd.errors import BadRequest, ConfigInvalid, ConfigLocked, InternalError

from ._layers import parse_document, read_json_file
from ._limits import MAX_CONFIG_FILE_BYTES, document_problem
from ._model import JSONObject

#: How long a write waits for ``<file>.lock``, seconds.
LOCK_TIMEOUT_SECONDS = 5.0
#: How often the lock is retried while another writer holds it, seconds.
LOCK_POLL_SECONDS = 0.02

#: Changes a document in place.
Mutation = Callable[[JSONObject], None]


def lock_path(path: Path) -> Path:
    """Return the lock file of ``path`` (``<file>.lock``)."""
    return path.with_name(path.name + ".lock")


@contextlib.asynccontextmanager
async def locked(
    path: Path, timeout_seconds: float = LOCK_TIMEOUT_SECONDS
) -> AsyncIterator[None]:
    """Hold the exclusive ``flock`` on ``<path>.lock`` for the block.

    Raises:
        ConfigLocked: still locked after ``timeout_seconds`` (503, names it).
        InternalError: the lock file cannot be created (500).
    """
    fd = await trio.to_thread.run_sync(_open_lock, path)
    try:
        with trio.move_on_after(timeout_seconds) as scope:
            await _wait_lock(fd)
        if scope.cancelled_caught:
            raise ConfigLocked(f"timed out locking {lock_path(path)}")
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


async def _wait_lock(fd: int) -> None:
    # flock has nothing to wait on without blocking a thread; poll instead.
    while True:
        if _try_lock(fd):
            return
        await trio.sleep(LOCK_POLL_SECONDS)


def _open_lock(path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return os.open(lock_path(path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise InternalError(f"failed to write config {path}: {exc}") from None


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


async def update_file(
    path: Path,
    mutate: Mutation,
    *,
    timeout_seconds: float | None = None,
) -> JSONObject:
    """Apply ``mutate`` to the JSON file at ``path`` under its lock.

    A missing file counts as ``{}``; folders are created (0700).

    Args:
        path: the scope file.
        mutate: changes the document in place.
        timeout_seconds: the lock deadline; ``None`` means
            ``LOCK_TIMEOUT_SECONDS`` (5 s).

    Returns:
        The document as written.

    Raises:
        ConfigLocked: the lock stayed taken past ``timeout_seconds`` (503).
        ConfigInvalid: the file on disk is invalid (500).
        BadRequest: ``mutate`` rejected the change, or the changed document
            breaks a write limit (``encode_document``) or has a value of the
            wrong type (400).
        InternalError: the file cannot be written (500).

    Cancellation: the file is either the old one or the new one, never a mix.

    Source: Crush config store ``SetConfigField`` (docs/protocol.md 7.1 writes).
    """
    if timeout_seconds is None:
        timeout_seconds = LOCK_TIMEOUT_SECONDS
    async with locked(path, timeout_seconds):
        return await trio.to_thread.run_sync(rewrite, path, mutate)


def rewrite(path: Path, mutate: Mutation) -> JSONObject:
    """Read, change, validate and atomically replace ``path`` (no locking).

    Raises:
        BadRequest: the changed document breaks a limit of ``document_problem``
            (nesting, NaN, an object's place), is over ``MAX_CONFIG_FILE_BYTES``
            or fails the model's types (400); as ``update_file`` otherwise.
    """
    document = read_json_file(path) or {}
    mutate(document)
    text = encode_document(path, document)
    try:
        parse_document(path, text)
    except ConfigInvalid as exc:
        detail = exc.message.removeprefix("failed to initialize config: ")
        raise BadRequest(f"invalid config value: {detail}") from None
    write_atomic(path, text)
    return document


def encode_document(path: Path, document: JSONObject) -> str:
    """Return the file text for ``document`` once it is within the limits.

    Raises:
        BadRequest: ``invalid config value: <file>: <JSON path>: <problem>``
            or ``config file <file> would be N bytes; at most 1048576`` (400).
    """
    problem = document_problem(document)
    if problem:
        raise BadRequest(f"invalid config value: {path}: {problem}")
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    size = len(text.encode())
    if size > MAX_CONFIG_FILE_BYTES:
        raise BadRequest(
            f"config file {path} would be {size} bytes; at most {MAX_CONFIG_FILE_BYTES}"
        )
    return text


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: temp file (0600), fsync, rename.

    Raises:
        InternalError: any I/O error; the old file is untouched and the temp
            file removed (500).
    """
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise InternalError(f"failed to write config {path}: {exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise InternalError(f"failed to write config {path}: {exc}") from None
