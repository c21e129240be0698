"""Layer locations from the environment, project walk, data_dir resolution."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from crushd.config import (
    SYSTEM_CONFIG_FILE,
    ConfigSources,
    project_boundary,
    project_dirs,
    project_layers,
    resolve_data_dir,
)

from ._support import Machine


def test_sources_prefer_crush_variables() -> None:
    """$CRUSH_GLOBAL_CONFIG / $CRUSH_GLOBAL_DATA beat the XDG folders."""
    sources = ConfigSources.from_environ(
        {
            "CRUSH_GLOBAL_CONFIG": "/c",
            "CRUSH_GLOBAL_DATA": "/d",
            "XDG_CONFIG_HOME": "/x",
            "XDG_DATA_HOME": "/y",
        }
    )
    assert sources.global_file == Path("/c/crush.json")
    assert sources.global_script == Path("/c/crushrc")
    assert sources.global_data_file == Path("/d/crush.json")
    assert sources.system_file == SYSTEM_CONFIG_FILE


def test_sources_use_xdg_folders() -> None:
    """Without the crush variables the XDG folders get a ``crush`` subfolder."""
    sources = ConfigSources.from_environ(
        {"XDG_CONFIG_HOME": "/x", "XDG_DATA_HOME": "/y"}
    )
    assert sources.global_file == Path("/x/crush/crush.json")
    assert sources.global_data_file == Path("/y/crush/crush.json")


def test_sources_fall_back_to_home() -> None:
    """With nothing set the files are under ~/.config and ~/.local/share."""
    sources = ConfigSources.from_environ({"HOME": "/h"})
    assert sources.global_file == Path("/h/.config/crush/crush.json")
    assert sources.global_data_file == Path("/h/.local/share/crush/crush.json")


def test_sources_global_layers_order() -> None:
    """The machine layers are /etc, user config, crushrc, data config."""
    sources = ConfigSources.from_environ({"HOME": "/h"}, system_file=Path("/e.json"))
    layers = sources.global_layers()
    assert [layer.path for layer in layers] == [
        Path("/e.json"),
        sources.global_file,
        sources.global_script,
        sources.global_data_file,
    ]
    assert [layer.script for layer in layers] == [False, False, True, False]


def test_project_boundary_is_git_root_or_path(machine: Machine, tmp_path: Path) -> None:
    """The boundary is the folder holding .git (dir or file), else the path."""
    assert project_boundary(machine.workspace) == machine.repo
    linked = tmp_path / "linked" / "deep"
    linked.mkdir(parents=True)
    (linked.parent / ".git").write_text("gitdir: elsewhere\n")
    assert project_boundary(linked) == linked.parent
    alone = tmp_path / "alone"
    alone.mkdir()
    assert project_boundary(alone) == alone


def test_project_dirs_run_from_root_to_path(machine: Machine) -> None:
    """Project dirs go from the git root down to the workspace path."""
    assert project_dirs(machine.workspace) == [machine.repo, machine.workspace]


def test_project_layers_per_directory_order(machine: Machine) -> None:
    """Within a folder: crush.json < .crush.json < crushrc < .crushrc."""
    names = [(layer.path.name, layer.script) for layer in project_layers(machine.repo)]
    assert names == [
        ("crush.json", False),
        (".crush.json", False),
        ("crushrc", True),
        (".crushrc", True),
    ]


@pytest.mark.parametrize(
    ("explicit", "configured", "expected"),
    [
        ("/abs", "/other", "/abs"),
        ("rel", "/other", "WS/rel"),
        ("", "/other", "/other"),
        ("", "conf", "WS/conf"),
        ("", "", "WS/.crush"),
    ],
)
def test_resolve_data_dir_order(
    machine: Machine, explicit: str, configured: str, expected: str
) -> None:
    """Explicit beats configured beats the default; relative values join the path."""
    got = resolve_data_dir(explicit, configured, machine.workspace)
    assert got == Path(expected.replace("WS", str(machine.workspace)))


def test_resolve_data_dir_expands_home(
    machine: Machine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``~`` in a data directory expands to the home folder."""
    monkeypatch.setenv("HOME", str(machine.root / "home"))
    got = resolve_data_dir("~/d", "", machine.workspace)
    assert got == machine.root / "home" / "d"


def test_resolve_data_dir_skips_untrusted_crush_folder(
    machine: Machine, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``.crush`` others may write is not picked; the workspace's own is."""
    planted = machine.repo / ".crush"
    planted.mkdir()
    planted.chmod(0o777)
    with caplog.at_level(logging.WARNING, logger="crushd.config"):
        chosen = resolve_data_dir("", "", machine.workspace)
    assert chosen == machine.workspace / ".crush"
    assert f"skipping untrusted {planted}: writable by group or others" in caplog.text


def test_project_file_names_come_from_trust() -> None:
    """Config and the trust survey agree on the project layer file names."""
    from crushd.config import PROJECT_FILE_NAMES
    from crushd.trust import PROJECT_CONFIG_NAMES

    assert PROJECT_FILE_NAMES == PROJECT_CONFIG_NAMES
