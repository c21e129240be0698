"""Paths a tool is given: joined to the workspace root and kept inside it.

Until permissions exist (the next issue), a tool may read or list only inside
the workspace folder. The check runs on the fully resolved path, so a symlink
inside the folder that points out of it is refused too (docs/agent.md 2.2).
"""

from __future__ import annotations

import os
from pathlib import Path

from ._input import InputError


def resolve_inside(root: Path, given: str, *, verb: str, key: str) -> Path:
    """Resolve ``given`` against ``root`` and refuse it when it leaves ``root``.

    Blocking (it follows symlinks on disk): call it from a worker thread.

    Args:
        root: the workspace folder.
        given: the path from the model, absolute or relative to ``root``;
            ``""`` means ``root`` itself.
        verb: what the tool would do there, for the message ("reading").
        key: the parameter's name, for the message.

    Returns:
        The absolute path with every symlink resolved (it need not exist).

    Raises:
        InputError: the path holds a NUL byte, or it resolves outside ``root``.
    """
    if "\x00" in given:
        raise InputError(f"{key} contains a NUL byte")
    real_root = root.resolve()
    joined = real_root / given if given else real_root
    real = Path(os.path.realpath(joined))
    if real != real_root and not real.is_relative_to(real_root):
        shown = f"{joined}" if real == joined else f"{joined} (resolves to {real})"
        raise InputError(
            f"{shown} is outside the workspace ({real_root}); {verb} outside it "
            "needs permission, which is not available yet"
        )
    return real
