"""Paths given to tools: resolution, the workspace boundary, the permission gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from crushd.agent.tools import InputError, PermissionAsk
from crushd.agent.tools._paths import (
    OutsideDeniedError,
    resolve_gated,
    resolve_path,
    tree_root,
)

from ._gate import RecordingGate
from .conftest import MakeContext


def test_resolve_path_joins_relative_paths_and_tells_inside(workspace: Path) -> None:
    assert resolve_path(workspace, "", key="path") == (workspace, True)
    assert resolve_path(workspace, "a/../b", key="path") == (workspace / "b", True)
    assert resolve_path(workspace, "..", key="path") == (workspace.parent, False)
    assert resolve_path(workspace, "/", key="path") == (Path("/"), False)


def test_a_sibling_with_the_roots_name_as_prefix_is_outside(workspace: Path) -> None:
    sibling = workspace.parent / (workspace.name + "2")
    assert resolve_path(workspace, str(sibling), key="path") == (sibling, False)


def test_symlinks_are_resolved_before_the_check(workspace: Path) -> None:
    (workspace / "out").symlink_to(workspace.parent)
    (workspace / "in").symlink_to(workspace)
    assert resolve_path(workspace, "out/x", key="p") == (workspace.parent / "x", False)
    assert resolve_path(workspace, "in/x", key="p") == (workspace / "x", True)


def test_tilde_is_the_home_folder(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(workspace.parent))
    assert resolve_path(workspace, "~/f", key="p") == (workspace.parent / "f", False)


def test_nul_byte_is_an_input_error(workspace: Path) -> None:
    with pytest.raises(InputError, match="file_path contains a NUL byte"):
        resolve_path(workspace, "a\x00b", key="file_path")


def test_tree_root_is_the_workspace_inside_and_the_folder_outside(
    workspace: Path,
) -> None:
    (workspace.parent / "f.txt").write_text("")
    assert tree_root(workspace, workspace / "sub") == workspace
    assert tree_root(workspace, workspace.parent) == workspace.parent
    assert tree_root(workspace, workspace.parent / "f.txt") == workspace.parent


def _ask(path: Path) -> PermissionAsk:
    return PermissionAsk("view", "read", str(path), "d", {})


async def test_resolve_gated_asks_only_outside(
    workspace: Path, make_ctx: MakeContext
) -> None:
    gate = RecordingGate(allow=True)
    ctx = make_ctx(permissions=gate)
    assert await resolve_gated(ctx, "x", key="p", ask=_ask) == workspace / "x"
    assert gate.asks == []
    assert await resolve_gated(ctx, "../x", key="p", ask=_ask) == workspace.parent / "x"
    assert gate.asks == [("s1", "call_1", _ask(workspace.parent / "x"))]


async def test_resolve_gated_raises_when_denied(make_ctx: MakeContext) -> None:
    ctx = make_ctx(permissions=RecordingGate(allow=False))
    with pytest.raises(OutsideDeniedError):
        await resolve_gated(ctx, "../x", key="p", ask=_ask)
