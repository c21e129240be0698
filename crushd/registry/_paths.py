"""Input checks shared by registry operations: workspace keys, paths, client ids.

Client ids are checked here only, for the registry and the server alike, with
upstream's two sets of texts (docs/protocol.md 0.6).
"""

from __future__ import annotations

import os

from crushd.errors import (
    ClientIDNotUUID,
    ClientIDRequired,
    InvalidClientID,
    InvalidPath,
    PathNotAbsolute,
    PathRequired,
)
from crushd.proto import parse_client_id

#: Longest path a client may send, in bytes once UTF-8 encoded (Linux PATH_MAX).
MAX_PATH_BYTES = 4096


def check_path(path: str, field: str = "path") -> str:
    r"""Return ``path`` if it can name a file at all, else raise a 400.

    A client's path reaches ``os`` calls, which raise ``ValueError`` for a
    NUL byte and ``UnicodeEncodeError`` for a lone surrogate (JSON allows
    ``"\ud800"``); checking first turns those into a clear 400 instead of a
    500 with a traceback. Nothing touches the file system.

    Args:
        path: the path as sent (any spelling, relative or absolute).
        field: the request field it came from, named in the message.

    Returns:
        ``path`` unchanged.

    Raises:
        InvalidPath: ``path`` holds a NUL byte, an unpaired surrogate, or is
            longer than ``MAX_PATH_BYTES`` bytes as UTF-8 (400).
    """
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidPath(
            f"{field} is not valid Unicode (unpaired surrogate)"
        ) from None
    if b"\0" in encoded:
        raise InvalidPath(f"{field} contains a NUL byte")
    if len(encoded) > MAX_PATH_BYTES:
        raise InvalidPath(f"{field} is longer than {MAX_PATH_BYTES} bytes")
    return path


def resolve_workspace_key(path: str) -> str:
    """Return the canonical dedupe key for a workspace path.

    The path must be absolute (decision B.16) and pass ``check_path``.
    Symlinks are resolved; when that fails (the path does not exist) the
    cleaned absolute path is used instead.

    Raises:
        PathRequired: ``path`` is empty (400).
        InvalidPath: a NUL byte, an unpaired surrogate or over
            ``MAX_PATH_BYTES`` bytes (400).
        PathNotAbsolute: ``path`` is relative (400).

    Source: Crush backend.go ``resolveWorkspaceKey`` (Abs + EvalSymlinks fallback).
    """
    if not path:
        raise PathRequired
    check_path(path)
    if not os.path.isabs(path):
        raise PathNotAbsolute
    try:
        return os.path.realpath(path, strict=True)
    except OSError:
        return os.path.normpath(path)


def validate_client_id(client_id: str) -> str:
    """Return ``client_id`` if it is a UUID in any accepted spelling.

    Raises:
        InvalidClientID: empty (``invalid client_id``) or malformed
            (``invalid client_id: <detail>``); 400.

    Source: Crush backend.go ``validateClientID``.
    """
    try:
        return parse_client_id(client_id)
    except ValueError as exc:
        detail = str(exc)
        raise InvalidClientID(
            f"invalid client_id: {detail}" if detail else None
        ) from None


def validate_query_client_id(client_id: str | None) -> str:
    """Return a ``?client_id=`` query value if it is a UUID in any accepted spelling.

    The routes that take the id as a query parameter (``events``, ``ws``,
    ``current-session``, ``DELETE /workspaces/{id}``) answer upstream's
    handler texts, not ``validate_client_id``'s (docs/protocol.md 0.6).

    Args:
        client_id: the query value; ``None`` or ``""`` when absent.

    Raises:
        ClientIDRequired: absent or empty (``client_id is required``); 400.
        ClientIDNotUUID: malformed (``client_id is not a valid UUID``); 400.
    """
    if not client_id:
        raise ClientIDRequired
    try:
        return parse_client_id(client_id)
    except ValueError:
        raise ClientIDNotUUID from None
