"""The workspace config service and project flag, without HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crushd.config import ConfigSources
from crushd.errors import InternalError
from crushd.workspace import ConfigService
from crushd.workspace._project import mark_initialized, needs_init


@pytest.fixture
def sources(tmp_path: Path) -> ConfigSources:
    return ConfigSources.from_environ(
        {"HOME": str(tmp_path / "home")}, system_file=tmp_path / "etc.json"
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


async def test_reload_failure_keeps_last_good_config(
    sources: ConfigSources, project: Path
) -> None:
    """A broken file at reload time leaves the previous config in place."""
    file = project / "crush.json"
    file.write_text(json.dumps({"options": {"debug": True}}))
    service = await ConfigService.open(sources, project, environ={})
    file.write_text("{broken")
    assert await service.reload() is False
    assert service.current.config.options.debug is True
    file.write_text(json.dumps({"options": {"debug": False}}))
    assert await service.reload() is True
    assert service.current.config.options.debug is False


async def test_recent_models_keep_five_newest(
    sources: ConfigSources, project: Path
) -> None:
    """recent_models keeps at most five entries, newest first, no duplicates."""
    service = await ConfigService.open(sources, project, environ={})
    for name in "abcdefa":
        await service.set_model(1, "small", {"provider": "p", "model": name})
    await service.reload()
    recent = service.current.config.recent_models["small"]
    assert [m.model for m in recent] == ["a", "f", "e", "d", "c"]


async def test_providers_empty_object_is_empty_list(
    sources: ConfigSources, project: Path
) -> None:
    """An empty providers object lists no providers."""
    (project / "crush.json").write_text(json.dumps({"providers": {}}))
    service = await ConfigService.open(sources, project, environ={})
    assert service.providers() == []


def test_needs_init_unlistable_folder_is_500(tmp_path: Path) -> None:
    """A workspace path that cannot be listed is a 500."""
    missing = tmp_path / "missing"
    with pytest.raises(InternalError, match="failed to check project"):
        needs_init(missing, tmp_path / "data")


def test_mark_initialized_unwritable_data_dir_is_500(tmp_path: Path) -> None:
    """A data directory that cannot be created is a 500."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InternalError, match="failed to mark project initialized"):
        mark_initialized(blocker / "data")
