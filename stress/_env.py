"""What every stress driver shares: the daemon's isolated environment, lock probes."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def isolated_env(root: Path, source: str | None = None) -> dict[str, str]:
    """The environment for a daemon whose every folder lives under ``root``.

    Caches, configs, data, state and the runtime dir all point below ``root``
    so a run never reads or writes the user's real crush files.

    Args:
        root: the run's private folder.
        source: a checkout whose ``crushd`` package the daemon imports
            instead of the installed one (``PYTHONPATH``); ``None`` = installed.
    """
    env = dict(os.environ)
    if source:
        env["PYTHONPATH"] = source
    env.update(
        CRUSH_CACHE_DIR=str(root / "cache"),
        XDG_CACHE_HOME=str(root / "xdg-cache"),
        XDG_CONFIG_HOME=str(root / "xdg-config"),
        XDG_DATA_HOME=str(root / "xdg-data"),
        XDG_STATE_HOME=str(root / "xdg-state"),
        XDG_RUNTIME_DIR=str(root),
    )
    return env


def lock_free(data_dir: Path) -> bool:
    """Whether ``data_dir/crush.lock`` can be locked now (nobody holds it).

    A missing lock file counts as free. The probe's own lock is dropped at once.
    """
    path = data_dir / "crush.lock"
    if not path.exists():
        return True
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True
