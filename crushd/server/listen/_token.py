"""The daemon's bearer token file: created once, private, shared by racing starts.

Source: docs/protocol.md C.6 (token file ``$XDG_STATE_HOME/crushd/token``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

__all__ = ["MIN_TOKEN_CHARS", "TOKEN_BYTES", "TokenFileError", "load_token"]

#: Random bytes in a generated token (``secrets.token_urlsafe``: 43 characters).
TOKEN_BYTES = 32
#: A token file with fewer characters is refused: too easy to guess.
MIN_TOKEN_CHARS = 16
_LOOSE_BITS = stat.S_IRWXG | stat.S_IRWXO


class TokenFileError(OSError):
    """The token file cannot be created or is not private; the message says why.

    Raised at startup only (no HTTP status); the daemon exits 1.
    """


def load_token(path: Path) -> str:
    """Return the daemon's bearer token, creating the file on first use.

    A missing file is created atomically with ``secrets.token_urlsafe(32)``
    (43 characters, 32 random bytes), mode 0600, in a folder created 0700.
    Two daemons starting at once end up with the same token: the file is
    written under a temporary name and linked into place, and the loser reads
    the winner's file. An existing file is reused, after checking that it is
    a regular file owned by this user with no group/other permission bits,
    in a folder of this user's with no group/other permission bits either,
    holding at least ``MIN_TOKEN_CHARS`` characters.

    Blocking file I/O; call it at startup.

    Args:
        path: the token file (``Settings.token_file``).

    Returns:
        The token, without surrounding whitespace.

    Raises:
        TokenFileError: the folder or file cannot be created or read; the
            file or its folder is open to group or others (``chmod 600`` /
            ``chmod 700`` it) or owned by another user; the file is not a
            regular file, or holds fewer than ``MIN_TOKEN_CHARS`` characters.

    Source: docs/protocol.md C.6 (token file ``$XDG_STATE_HOME/crushd/token``).
    """
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create_token_file(path)
        return _read_private_token(path)
    except TokenFileError:
        raise
    except OSError as error:
        raise TokenFileError(f"cannot use token file {path}: {error}") from error


def _create_token_file(path: Path) -> None:
    """Create ``path`` with a fresh token unless it exists (atomic)."""
    if path.exists():
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(TOKEN_BYTES) + "\n")
        with contextlib.suppress(FileExistsError):  # another daemon won: use its
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _read_private_token(path: Path) -> str:
    """Read the token after checking its folder and file are private and ours."""
    _require_private(path.parent, os.stat(path.parent), _LOOSE_BITS)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as file:
        found = os.fstat(file.fileno())
        _require_private(path, found, _LOOSE_BITS)
        data = file.read()
    token = data.decode("ascii", errors="replace").strip()
    if not token:
        raise TokenFileError(f"token file {path} is empty; delete it to get a new one")
    if len(token) < MIN_TOKEN_CHARS:
        raise TokenFileError(
            f"token in {path} is shorter than {MIN_TOKEN_CHARS} characters (too"
            " easy to guess); delete the file to get a new one"
        )
    return token


def _require_private(path: Path, found: os.stat_result, loose_bits: int) -> None:
    if found.st_uid != os.geteuid():
        raise TokenFileError(f"refusing {path}: owned by uid {found.st_uid}")
    if found.st_mode & loose_bits:
        mode = stat.S_IMODE(found.st_mode)
        fix = 700 if stat.S_ISDIR(found.st_mode) else 600
        raise TokenFileError(
            f"refusing {path}: open to group or others (mode {mode:o}; chmod {fix} it)"
        )
