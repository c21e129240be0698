"""Tests for crushd/registry/_paths.py: workspace keys and client-id checks."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from crushd.errors import (
    ClientIDNotUUID,
    ClientIDRequired,
    InvalidClientID,
    InvalidPath,
    PathNotAbsolute,
    PathRequired,
)
from crushd.registry import (
    resolve_workspace_key,
    validate_client_id,
    validate_query_client_id,
)
from crushd.registry._paths import MAX_PATH_BYTES, check_path


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


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/tmp/a\0b", "path contains a NUL byte"),
        ("/tmp/\ud800", "path is not valid Unicode (unpaired surrogate)"),
        ("/tmp/x\udc80", "path is not valid Unicode (unpaired surrogate)"),
        ("/" + "a" * MAX_PATH_BYTES, f"path is longer than {MAX_PATH_BYTES} bytes"),
        ("/" + "é" * 2048, f"path is longer than {MAX_PATH_BYTES} bytes"),
    ],
)
def test_bad_path_is_400_not_a_crash(path: str, problem: str) -> None:
    """NUL, lone surrogates and over-long paths are a 400, never ``ValueError``.

    Before the check ``os.path.realpath`` raised ``ValueError`` (NUL) or
    ``UnicodeEncodeError`` (surrogate), which the server answered with a 500
    and a logged traceback.
    """
    with pytest.raises(InvalidPath) as info:
        resolve_workspace_key(path)
    assert (info.value.status, info.value.message) == (400, problem)


def test_check_path_names_the_field_and_allows_the_limit() -> None:
    """The message names the field; exactly ``MAX_PATH_BYTES`` bytes is allowed."""
    longest = "/" + "a" * (MAX_PATH_BYTES - 1)
    assert check_path(longest, "data_dir") == longest
    with pytest.raises(InvalidPath, match=r"^data_dir contains a NUL byte$"):
        check_path("x\0", "data_dir")


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


def test_validate_query_client_id_answers_the_handler_texts() -> None:
    """Absent, empty and non-UUID query values get upstream's handler texts."""
    for missing in (None, ""):
        with pytest.raises(ClientIDRequired) as absent:
            validate_query_client_id(missing)
        assert (absent.value.status, absent.value.message) == (
            400,
            "client_id is required",
        )
    with pytest.raises(ClientIDNotUUID) as bad:
        validate_query_client_id("not-a-uuid")
    assert bad.value.message == "client_id is not a valid UUID"
    spelling = "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e"
    assert validate_query_client_id(spelling) == spelling


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
