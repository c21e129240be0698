"""What ``edit``, ``multiedit`` and ``write`` share: target, load, ask, commit.

A target path is joined to the workspace root and resolved (symlinks
followed), so it names the file ``view`` recorded. Nothing is refused for
lying outside the workspace: the ``write`` permission request then names the
file instead of the root, and the user decides. After the permission is
granted the file is written only if it is still as loaded (same stamp, or
still absent), since a request may wait a long time; the write is then
recorded in the file history and as a read.

Source: Crush ``internal/agent/tools/edit.go`` (``loadExistingFile``,
``commitFileChange``), ``write.go``, ``fsext.PathOrPrefix``; docs/agent.md 2.2
and 2.3.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import attrs
import trio

from ._freshness import edit_refusal, file_stamp
from ._input import InputError
from ._match import to_lf
from ._types import PermissionAsk, ToolContext

#: Permission bits of a file the tools create (before the umask), as upstream.
NEW_FILE_MODE = 0o644


@attrs.frozen
class Loaded:
    """An existing file as an edit tool read it.

    Attributes:
        path: the file (absolute, resolved).
        disk: its text exactly as on disk.
        text: the same with CRLF turned into LF (what edits match against).
        crlf: True when the file used CRLF (written back with CRLF).
        stamp: ``(mtime_ns, size)`` when read.
    """

    path: Path
    disk: str
    text: str
    crlf: bool
    stamp: tuple[int, int]


def resolve_target(root: Path, given: str) -> Path:
    """Join ``given`` to ``root`` and resolve symlinks; blocking.

    Raises:
        InputError: ``given`` is empty or holds a NUL byte.
    """
    if not given:
        raise InputError("file_path is required")
    if "\x00" in given:
        raise InputError("file_path contains a NUL byte")
    return Path(os.path.realpath(root / given))


def permission_path(root: Path, path: Path) -> str:
    """Return the path a write request names: the root if ``path`` is inside it."""
    return str(root) if path.is_relative_to(root) else str(path)


def shown_name(root: Path, path: Path) -> str:
    """Return ``path`` as diffs name it: relative to the root when inside it."""
    text = str(path)
    return text.removeprefix(str(root)) if path.is_relative_to(root) else text


def stat_file(path: Path) -> os.stat_result | None:
    """Return ``path``'s stat result, or None when absent; blocking.

    Raises:
        InputError: ``path`` is a directory or not a regular file, or stat
            failed for another reason.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"failed to access file: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"path is a directory, not a file: {path}")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"path is not a regular file: {path}")
    return info


def read_text(path: Path, *, strict: bool = True) -> str:
    """Return ``path``'s UTF-8 text; blocking.

    Args:
        path: the file.
        strict: when False, undecodable bytes become U+FFFD instead of an error.

    Raises:
        InputError: reading failed, or (``strict``) the file is not UTF-8.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"failed to read file: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8", "strict" if strict else "replace")
    except UnicodeDecodeError:
        raise InputError(f"file is not valid UTF-8 text: {path}") from None


async def load_for_edit(ctx: ToolContext, path: Path) -> Loaded:
    """Load an existing file an edit may change (read-before-edit checked).

    Raises:
        InputError: the file is missing, a directory, not regular, not UTF-8,
            never read in this session, or modified since it was last read.
    """
    info = await trio.to_thread.run_sync(stat_file, path)
    if info is None:
        raise InputError(f"file not found: {path}")
    refusal = await edit_refusal(ctx, path, info)
    if refusal is not None:
        raise InputError(refusal)
    disk = await trio.to_thread.run_sync(read_text, path)
    text, crlf = to_lf(disk)
    return Loaded(path, disk, text, crlf, file_stamp(info))


async def ask_write(
    ctx: ToolContext, tool_name: str, path: Path, description: str, old: str, new: str
) -> bool:
    """Ask the ``write`` permission for changing ``path`` from ``old`` to ``new``.

    The params are ``{file_path, old_content, new_content}`` with empty
    contents left out, as upstream (``omitempty``).
    """
    params: dict[str, str] = {"file_path": str(path)}
    if old:
        params["old_content"] = old
    if new:
        params["new_content"] = new
    where = permission_path(ctx.root, path)
    return await ctx.allowed(
        PermissionAsk(tool_name, "write", where, description, params)
    )


async def commit(
    ctx: ToolContext, path: Path, old: str, new: str, expected: tuple[int, int] | None
) -> None:
    """Write ``new`` to ``path``, then record the history version and a read.

    Args:
        ctx: the call's context.
        path: the file.
        old: the text on disk before (``""`` when creating).
        new: the text to write, line endings as they should be on disk.
        expected: the stamp the file had when loaded; None when it must not
            exist (created exclusively).

    Raises:
        InputError: the file changed (or appeared) since it was loaded, or
            writing failed.
    """
    await trio.to_thread.run_sync(_write, path, new.encode(), expected)
    if ctx.history is not None:
        await ctx.history.record_write(ctx.session_id, path, old, new)
    await ctx.reads.record_read(ctx.session_id, path)


def _write(path: Path, data: bytes, expected: tuple[int, int] | None) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"failed to create parent directories: {exc.strerror or exc}"
        ) from None
    try:
        fd = os.open(path, _open_flags(path, expected), NEW_FILE_MODE)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
    except (FileExistsError, FileNotFoundError, _ChangedError):
        raise InputError(
            f"file {path} changed on disk while waiting for permission; read it again"
        ) from None
    except OSError as exc:
        raise InputError(f"failed to write file: {exc.strerror or exc}") from None


class _ChangedError(Exception):
    """The file is no longer as it was loaded."""


def _open_flags(path: Path, expected: tuple[int, int] | None) -> int:
    """Create exclusively, or truncate a file whose stamp is still ``expected``."""
    if expected is None:
        return os.O_WRONLY | os.O_CREAT | os.O_EXCL
    if file_stamp(path.stat()) != expected:
        raise _ChangedError
    return os.O_WRONLY | os.O_TRUNC
