"""Project scripts and the user's trust list: a project crushrc runs only if trusted.

Upstream Crush runs a project's ``crushrc``/``.crushrc`` on every open, so
opening a cloned repository would run its code. crushd asks first, as direnv
does: the user's trust list, ``trusted.json`` beside the global data config
(mode 0600), maps a script's absolute path to the sha256 of the content the
user approved. A script runs only when both match, so an edited script is
untrusted again. The list itself is believed only when it is trusted (ours or
root's, not group/other-writable, not a symlink).

The daemon and ``crushctl trust`` share this module, so both compute the same
list path from an environment and the same hash from the same bytes.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs

from ._ownership import UntrustedPathError, check_trusted, untrusted_reason
from ._project import PROJECT_CONFIG_NAMES, project_dirs

__all__ = [
    "MAX_SCRIPT_BYTES",
    "SCRIPT_NAMES",
    "ProjectScript",
    "ScriptReadError",
    "TrustListError",
    "load_trust_list",
    "project_scripts",
    "read_script",
    "revoke_scripts",
    "script_sha256",
    "script_trusted",
    "trust_list_path",
    "trust_scripts",
]

#: Project script names per folder, lowest priority first.
SCRIPT_NAMES = tuple(name for name in PROJECT_CONFIG_NAMES if name.endswith("rc"))
#: A project script larger than this is never run (it is passed to ``sh -c``,
#: and Linux caps one argument at 128 KiB).
MAX_SCRIPT_BYTES = 64 * 1024
_TRUST_FILE_NAME = "trusted.json"
_MAX_LIST_BYTES = 4 * 1024 * 1024
_VERSION = 1
_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC


class ScriptReadError(OSError):
    """A script exists but cannot be run (not a regular file, too large, binary)."""


class TrustListError(OSError):
    """The trust list cannot be used: untrusted, unreadable, or not a trust list."""


@attrs.frozen
class ProjectScript:
    """One project script as found on disk.

    Attributes:
        path: the script's absolute path.
        sha256: the hex sha256 of its content; ``None`` when it cannot be used.
        problem: why it can never run (``"owned by uid 1001"``, ``"larger
            than 65536 bytes"``); ``None`` when it could run once trusted.
    """

    path: Path
    sha256: str | None
    problem: str | None = None


def trust_list_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return the trust list's path for ``environ`` (``None``: ``os.environ``).

    ``$CRUSH_GLOBAL_DATA/trusted.json``, else ``$XDG_DATA_HOME/crush/``, else
    ``$HOME/.local/share/crush/``: the folder of the global data config, as
    ``crushd.config.ConfigSources.from_environ`` resolves it.
    """
    env = os.environ if environ is None else environ
    if value := env.get("CRUSH_GLOBAL_DATA"):
        return Path(value) / _TRUST_FILE_NAME
    if value := env.get("XDG_DATA_HOME"):
        return Path(value) / "crush" / _TRUST_FILE_NAME
    home = Path(env.get("HOME") or Path.home())
    return home / ".local" / "share" / "crush" / _TRUST_FILE_NAME


def script_sha256(content: bytes) -> str:
    """Return the lowercase hex sha256 of a script's ``content``."""
    return hashlib.sha256(content).hexdigest()


def read_script(path: Path) -> bytes:
    """Return a script's content, read once: hash and run these very bytes.

    Symlinks are followed; the file opened is then checked with ``fstat``, so
    no FIFO or device can block the read. Blocking (one small read).

    Raises:
        FileNotFoundError: there is no script.
        UntrustedPathError: another uid owns it, or group/others may write it.
        ScriptReadError: not a regular file, over ``MAX_SCRIPT_BYTES``, or
            holding a NUL byte (not a shell script).
        OSError: it cannot be opened or read.
    """
    fd = os.open(path, _READ_FLAGS)
    try:
        reason, content = _read_regular(fd, MAX_SCRIPT_BYTES)
    finally:
        os.close(fd)
    if reason is not None:
        raise UntrustedPathError(reason)
    if b"\0" in content:
        raise ScriptReadError("holds a NUL byte: not a shell script")
    return content


def _read_regular(fd: int, limit: int) -> tuple[str | None, bytes]:
    """Return why the open file is untrusted (or ``None``) and its content."""
    found = os.fstat(fd)
    if not stat.S_ISREG(found.st_mode):
        raise ScriptReadError("not a regular file")
    chunks = []
    size = 0
    while size <= limit and (chunk := os.read(fd, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise ScriptReadError(f"larger than {limit} bytes")
    return untrusted_reason(found), b"".join(chunks)


def project_scripts(path: Path) -> list[ProjectScript]:
    """Return the scripts of the project at ``path`` (absolute), lowest priority first.

    The folders are ``project_dirs(path)`` (trusted ones only); each may hold
    ``crushrc`` and ``.crushrc``. Blocking (reads each script).
    """
    return [
        _survey(folder / name)
        for folder in project_dirs(path)
        for name in SCRIPT_NAMES
        if os.path.lexists(folder / name)
    ]


def _survey(path: Path) -> ProjectScript:
    try:
        content = read_script(path)
    except (ScriptReadError, UntrustedPathError) as exc:
        return ProjectScript(path, None, str(exc))
    except OSError as exc:
        return ProjectScript(path, None, exc.strerror or str(exc))
    return ProjectScript(path, script_sha256(content))


def load_trust_list(trust_file: Path) -> dict[Path, str]:
    """Return the trust list: each trusted script's path and content sha256.

    Blocking (one small read).

    Returns:
        ``{path: sha256}``; empty when ``trust_file`` does not exist.

    Raises:
        TrustListError: the file is a symlink, not ours (or root's), writable
            by group or others, unreadable, or not a trust list.
    """
    try:
        fd = os.open(trust_file, _READ_FLAGS | os.O_NOFOLLOW)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise _list_error(trust_file, exc) from None
    try:
        reason, text = _read_regular(fd, _MAX_LIST_BYTES)
    except OSError as exc:
        raise _list_error(trust_file, exc) from None
    finally:
        os.close(fd)
    if reason is not None:
        raise TrustListError(f"trust list {trust_file} is not trusted: {reason}")
    return _parse(trust_file, text)


def _list_error(trust_file: Path, exc: OSError) -> TrustListError:
    detail = "is a symlink" if exc.errno == errno.ELOOP else exc.strerror or str(exc)
    return TrustListError(f"trust list {trust_file}: {detail}")


def _parse(trust_file: Path, text: bytes) -> dict[Path, str]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise TrustListError(f"trust list {trust_file}: not JSON: {exc}") from None
    scripts = document.get("scripts") if isinstance(document, dict) else None
    if not isinstance(scripts, dict) or not all(
        Path(key).is_absolute() and isinstance(value, str)
        for key, value in scripts.items()
    ):
        problem = 'expected {"scripts": {"/absolute/path": "sha256"}}'
        raise TrustListError(f"trust list {trust_file}: {problem}")
    return {Path(key): value for key, value in scripts.items()}


def script_trusted(trust_file: Path, path: Path, content: bytes) -> bool:
    """True when the list at ``trust_file`` trusts ``content`` at ``path``.

    Raises:
        TrustListError: as ``load_trust_list``.
    """
    return load_trust_list(trust_file).get(path) == script_sha256(content)


def trust_scripts(trust_file: Path, scripts: Mapping[Path, str]) -> None:
    """Add ``scripts`` (``{path: sha256}``) to the list, replacing their old hashes.

    The list is rewritten atomically (a 0600 temp file renamed over it); its
    folder is created 0700 when missing. Two concurrent writers may lose one
    addition (last rename wins), never corrupt the file. Blocking.

    Raises:
        TrustListError: the current list cannot be used (see
            ``load_trust_list``), or its folder is not trusted or not writable.
    """
    _save(trust_file, {**load_trust_list(trust_file), **scripts})


def revoke_scripts(trust_file: Path, paths: Iterable[Path]) -> list[Path]:
    """Remove the entries for ``paths``, whatever their hash; return those removed.

    Raises:
        TrustListError: as ``trust_scripts``.
    """
    scripts = load_trust_list(trust_file)
    removed = [path for path in dict.fromkeys(paths) if path in scripts]
    if removed:
        _save(trust_file, {p: h for p, h in scripts.items() if p not in removed})
    return removed


def _save(trust_file: Path, scripts: Mapping[Path, str]) -> None:
    folder = trust_file.parent
    document = {"version": _VERSION, "scripts": {str(p): scripts[p] for p in scripts}}
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if reason := check_trusted(folder):
            raise TrustListError(f"trust list folder {folder} is not trusted: {reason}")
        _replace(trust_file, text.encode())
    except TrustListError:
        raise
    except OSError as exc:
        raise _list_error(trust_file, exc) from None


def _replace(target: Path, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".trusted.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:  # mkstemp creates it 0600
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    folder_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder_fd)
    finally:
        os.close(folder_fd)
