"""Input checks shared by registry operations: workspace keys and client ids."""

from __future__ import annotations

import os

from crushd.errors import InvalidClientID, PathNotAbsolute, PathRequired
from crushd.proto import parse_client_id


def resolve_workspace_key(path: str) -> str:
    """Return the canonical dedupe key for a workspace path.

    The path must be absolute (decision B.16). Symlinks are resolved; when that
    fails (the path does not exist) the cleaned absolute path is used instead.

    Raises:
        PathRequired: ``path`` is empty (400).
        PathNotAbsolute: ``path`` is relative (400).

    Source: Crush backend.go ``resolveWorkspaceKey`` (Abs + EvalSymlinks fallback).
    """
    if not path:
        raise PathRequired
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
