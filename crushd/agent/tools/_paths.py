"""Paths a tool is given: joined to the workspace root, resolved, and gated.

A tool reads inside the workspace folder freely; a path outside it (after
every symlink is resolved, so a link inside the folder that points out of it
counts as outside) is read only when the user allows it: the tool asks with
its own action (``read`` or ``list``) and gets the denied result otherwise.
Source: Crush ``internal/agent/tools/view.go`` and ``ls.go`` (the permission
request for a path outside the working directory); docs/agent.md 2.2.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

import trio

from ._input import InputError
from ._types import PermissionAsk, ToolContext


class OutsideDeniedError(Exception):
    """The user refused a read outside the workspace: answer ``ctx.denied()``."""


def resolve_path(root: Path, given: str, *, key: str) -> tuple[Path, bool]:
    """Resolve ``given`` against ``root`` and tell whether it stays inside.

    Blocking (it follows symlinks on disk): call it from a worker thread.

    Args:
        root: the workspace folder.
        given: the path from the model, absolute or relative to ``root``;
            ``""`` means ``root`` itself and a leading ``~`` the home
            folder (as upstream's ``ls`` expands it).
        key: the parameter's name, for the message.

    Returns:
        ``(path, inside)``: the absolute path with every symlink resolved (it
        need not exist), and True when it is ``root`` or below it.

    Raises:
        InputError: the path holds a NUL byte.
    """
    if "\x00" in given:
        raise InputError(f"{key} contains a NUL byte")
    real_root = root.resolve()
    joined = real_root / os.path.expanduser(given) if given else real_root
    real = Path(os.path.realpath(joined))
    return real, real == real_root or real.is_relative_to(real_root)


def tree_root(root: Path, path: Path) -> Path:
    """Return the folder whose ignore rules apply to ``path``.

    Blocking (checks whether ``path`` is a folder): call it from a worker
    thread. That is the workspace for a path inside it; for a path outside,
    the folder itself (or a file's folder), as upstream lists it.
    """
    real_root = root.resolve()
    if path == real_root or path.is_relative_to(real_root):
        return real_root
    return path if path.is_dir() else path.parent


async def resolve_gated(
    ctx: ToolContext,
    given: str,
    *,
    key: str,
    ask: Callable[[Path], PermissionAsk],
) -> Path:
    """Resolve ``given`` and, when it is outside the workspace, ask permission.

    Args:
        ctx: the call's context (its root and permission gate).
        given: the path parameter (``""`` = the workspace root).
        key: the parameter's name, for messages.
        ask: builds the request from the resolved path (only called for a
            path outside the workspace).

    Returns:
        The resolved path (see ``resolve_path``).

    Raises:
        InputError: the path holds a NUL byte.
        OutsideDeniedError: the path is outside and the user denied the request.
    """
    work = functools.partial(resolve_path, ctx.root, given, key=key)
    path, inside = await trio.to_thread.run_sync(work)
    if not inside and not await ctx.allowed(ask(path)):
        raise OutsideDeniedError
    return path
