"""Tests for crushd/registry/_paths.py: workspace keys and client-id checks."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from crushd.errors import InvalidClientID, PathNotAbsolute, PathRequired
from crushd.registry import resolve_workspace_key, validate_client_id


def test_resolve_workspace_key_absolute_and_symlink(tmp_path: Path) -> None:
    """An existing directory resolves to its real path, symlinks included."""
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    assert resolve_workspace_key(str(real)) == os.path.realpath(real)
    assert resolve_workspace_key(str(link)) == os.path.realpath(real)


def test_resolve_workspace_key_non_existent_fallback(tmp_path: Path) -> None:
    """A missing path falls back to the cleaned absolute path."""
    missing = tmp_path / "does" / "not" / "exist"
    assert resolve_workspace_key(str(missing)) == str(missing)
    messy = f"{tmp_path}/does/./not//x/../exist"
    assert resolve_workspace_key(messy) == str(missing)


def test_resolve_workspace_key_relative_path_rejected() -> None:
    """A relative path is refused with 400 ``path must be absolute``."""
    with pytest.raises(PathNotAbsolute) as info:
        resolve_workspace_key("project")
    assert info.value.status == 400
    assert info.value.message == "path must be absolute"


def test_resolve_workspace_key_empty_path_rejected() -> None:
    """An empty path is refused with 400 ``path is required``."""
    with pytest.raises(PathRequired):
        resolve_workspace_key("")


def test_validate_client_id_rejects_empty_and_malformed() -> None:
    """Empty and non-UUID ids are InvalidClientID; a valid id is returned as is."""
    with pytest.raises(InvalidClientID) as empty:
        validate_client_id("")
    assert empty.value.message == "invalid client_id"
    with pytest.raises(InvalidClientID) as bad:
        validate_client_id("not-a-uuid")
    assert bad.value.message.startswith("invalid client_id: ")
    client_id = str(uuid.uuid4())
    assert validate_client_id(client_id) == client_id


@pytest.mark.parametrize(
    "spelling",
    [
        "{0f8fad5b-d9cb-469f-a165-70867728950e}",
        "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
        "0f8fad5bd9cb469fa16570867728950e",
        "0F8FAD5B-D9CB-469F-A165-70867728950E",
    ],
)
def test_validate_client_id_keeps_other_spellings(spelling: str) -> None:
    """Every accepted UUID spelling is returned unchanged (it is the claim key)."""
    assert validate_client_id(spelling) == spelling
