"""Who controls a file: the ownership rule every trusted path must pass.

A folder or file is *trusted* when the daemon's uid (or root, for system files
such as ``/etc/crush``) owns it and neither its group nor others may write it.
That makes a root-owned sticky folder such as ``/tmp`` untrusted: anyone may
create entries in it, so it is never a project boundary or a data directory.
The rule is git's ``safe.directory`` idea, applied to every file crushd reads
code or configuration from, or writes the user's data into.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "UntrustedPathError",
    "check_trusted",
    "check_trusted_file",
    "first_untrusted_ancestor",
    "trusted_ancestors",
    "untrusted_below",
    "untrusted_reason",
]

_LOOSE_BITS = stat.S_IWGRP | stat.S_IWOTH


class UntrustedPathError(OSError):
    """A path exists but another uid controls it; the message says why."""


def untrusted_reason(st: os.stat_result, uid: int | None = None) -> str | None:
    """Return why a file with status ``st`` is not trusted, or ``None``.

    Args:
        st: the file's ``stat`` (or ``fstat``/``lstat``) result.
        uid: the trusting user; ``None`` means this process's effective uid.

    Returns:
        ``"owned by uid N"``, ``"writable by group or others"``, or ``None``
        when the owner is ``uid`` or root and no group/other write bit is set.
    """
    me = os.geteuid() if uid is None else uid
    if st.st_uid not in (me, 0):
        return f"owned by uid {st.st_uid}"
    if st.st_mode & _LOOSE_BITS:
        return "writable by group or others"
    return None


def check_trusted(path: Path, uid: int | None = None) -> str | None:
    """Return why ``path`` is not trusted, ``None`` when it is (or is absent).

    Symlinks are followed: what counts is the file whose content is used.
    Blocking (one ``stat``).

    Args:
        path: any file or folder.
        uid: the trusting user; ``None`` means this process's effective uid.

    Returns:
        ``None`` when ``path`` does not exist or is trusted; otherwise the
        reason, e.g. ``"owned by uid 1001"``.
    """
    try:
        st = path.stat()
    except OSError:
        return None
    return untrusted_reason(st, uid)


def check_trusted_file(path: Path, uid: int | None = None) -> str | None:
    """Return why a file crushd would read is not trusted, ``None`` when it is.

    Both the file and the folder really holding it (symlinks resolved) must
    pass: whoever controls that folder could swap the file after any check.
    Blocking (a few ``stat`` calls).

    Returns:
        ``None`` when trusted or absent; otherwise the file's reason, or
        ``"its folder is <reason>"`` for its folder.
    """
    folder = Path(os.path.realpath(path)).parent
    reason = check_trusted(folder, uid)
    if reason is not None:
        return f"its folder is {reason}"
    return check_trusted(path, uid)


def trusted_ancestors(path: Path, uid: int | None = None) -> Iterator[Path]:
    """Yield ``path`` and its parents, up to the first folder not trusted.

    The first untrusted folder (another uid's, or group/other-writable like
    ``/tmp``) ends the walk and is not yielded; nothing above it is either.
    A folder that does not exist is yielded (it cannot hold anything).
    Blocking (one ``stat`` per level).
    """
    for folder in (path, *path.parents):
        if check_trusted(folder, uid) is not None:
            return
        yield folder


def first_untrusted_ancestor(
    path: Path, uid: int | None = None
) -> tuple[Path, str] | None:
    """Return the folder that ends ``trusted_ancestors(path)``, with its reason.

    Returns:
        ``(folder, reason)`` for the nearest of ``path`` and its parents that
        is not trusted, or ``None`` when every one up to ``/`` is trusted.
        Blocking (one ``stat`` per level).
    """
    for folder in (path, *path.parents):
        reason = check_trusted(folder, uid)
        if reason is not None:
            return folder, reason
    return None


def untrusted_below(
    base: Path, relative: str, uid: int | None = None
) -> tuple[Path, str] | None:
    """Return the first untrusted entry on the way from ``base`` to ``base/relative``.

    ``base`` itself is not checked (the caller already trusts it). For
    ``relative="a/b"`` the checks are ``base/a`` then ``base/a/b``: another
    uid owning ``a`` could swap ``b`` whatever ``b``'s own owner. Entries that
    do not exist pass. Blocking.

    Returns:
        ``(entry, reason)`` for the first untrusted one, or ``None``.
    """
    entry = base
    for part in Path(relative).parts:
        entry = entry / part
        reason = check_trusted(entry, uid)
        if reason is not None:
            return entry, reason
    return None
