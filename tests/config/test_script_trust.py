"""Project scripts run only when the user trusted them (the trust list).

An untrusted project ``crushrc``/``.crushrc`` is skipped with a warning and
the other layers still load; a trusted one runs exactly the bytes that were
hashed. The user's own global ``crushrc`` runs without any trust entry.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from crushd.config import ConfigSources, load_config
from crushd.trust import (
    MAX_SCRIPT_BYTES,
    script_sha256,
    script_trusted,
    trust_list_path,
    trust_scripts,
)

from ._support import Machine, write_layer

NOBODY = 65534
MARKER_SCRIPT = 'touch ran\nprintf \'{"options":{"initialize_as":"script"}}\'\n'


def trust(machine: Machine, path: Path) -> None:
    """Trust the current content of the script at ``path``."""
    digest = script_sha256(path.read_bytes())
    trust_scripts(machine.sources.trust_file, {path: digest})


async def initialize_as(machine: Machine) -> str:
    loaded = await load_config(machine.sources, machine.workspace, environ={})
    return loaded.config.options.initialize_as


@pytest.mark.parametrize(
    "environ",
    [
        {"CRUSH_GLOBAL_DATA": "/d", "XDG_DATA_HOME": "/x", "HOME": "/h"},
        {"XDG_DATA_HOME": "/x", "HOME": "/h"},
        {"HOME": "/h"},
    ],
)
def test_sources_trust_file_agrees_with_crushctl(environ: dict[str, str]) -> None:
    """The daemon's trust list is crushctl's, beside the global data config."""
    sources = ConfigSources.from_environ(environ)
    assert sources.trust_file == trust_list_path(environ)
    assert sources.trust_file == sources.global_data_file.with_name("trusted.json")


async def test_untrusted_project_script_is_skipped_and_the_rest_loads(
    machine: Machine, caplog: pytest.LogCaptureFixture
) -> None:
    """A project script not in the trust list never runs; other layers load."""
    paths = machine.layer_paths()
    write_layer(paths["repo_json"], {"options": {"debug": True}})
    script = paths["sub_dot_rc"]
    script.write_text(MARKER_SCRIPT)
    with caplog.at_level(logging.WARNING, logger="crushd.config"):
        loaded = await load_config(machine.sources, machine.workspace, environ={})
    assert loaded.config.options.debug is True
    assert loaded.config.options.initialize_as != "script"
    assert not (machine.workspace / "ran").exists()
    assert script not in loaded.read
    digest = script_sha256(script.read_bytes())
    assert f"skipping project script {script} (sha256 {digest})" in caplog.text
    assert f"crushctl trust --cwd {machine.workspace}" in caplog.text


async def test_trusted_project_script_runs(machine: Machine) -> None:
    """Once its path and hash are in the list, the project script runs."""
    script = machine.layer_paths()["sub_rc"]
    script.write_text(MARKER_SCRIPT)
    trust(machine, script)
    assert await initialize_as(machine) == "script"
    assert (machine.workspace / "ran").exists()


async def test_edited_project_script_is_untrusted_again(machine: Machine) -> None:
    """Editing a trusted script changes its hash: it is skipped until re-trusted."""
    script = machine.layer_paths()["repo_rc"]
    script.write_text(MARKER_SCRIPT)
    trust(machine, script)
    script.write_text(MARKER_SCRIPT + "echo extra >&2\n")
    assert await initialize_as(machine) != "script"
    assert not (machine.repo / "ran").exists()


async def test_project_script_swapped_after_the_check_never_runs(
    machine: Machine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bytes that were hashed are the bytes that run (no check-then-use race)."""
    script = machine.layer_paths()["sub_rc"]
    script.write_text(MARKER_SCRIPT)
    trust(machine, script)

    def check_then_swap(trust_file: Path, path: Path, content: bytes) -> bool:
        verdict = script_trusted(trust_file, path, content)
        path.write_text("touch swapped\necho '{}'\n")
        return verdict

    monkeypatch.setattr("crushd.config._layers.script_trusted", check_then_swap)
    assert await initialize_as(machine) == "script"
    assert not (machine.workspace / "swapped").exists()


async def test_trusted_project_script_sees_its_path_folder_and_no_stdin(
    machine: Machine,
) -> None:
    """$0 is the script's path, the cwd its folder, stdin /dev/null (as before)."""
    script = machine.layer_paths()["sub_dot_rc"]
    script.write_text(
        "read -r line || line=none\n"
        'printf \'{"options":{"initialize_as":"%s|%s|%s"}}\' "$0" "$PWD" "$line"\n'
    )
    trust(machine, script)
    expected = f"{script}|{machine.workspace}|none"
    assert await initialize_as(machine) == expected


async def test_global_script_runs_without_a_trust_entry(machine: Machine) -> None:
    """The user's own crushrc is theirs: it runs as before, no list needed."""
    write_layer(machine.layer_paths()["global_script"], {"options": {"debug": True}})
    loaded = await load_config(machine.sources, machine.workspace, environ={})
    assert loaded.config.options.debug is True


async def test_untrusted_trust_list_trusts_no_project_script(
    machine: Machine, caplog: pytest.LogCaptureFixture
) -> None:
    """A trust list others may write is not believed; the load still succeeds."""
    script = machine.layer_paths()["sub_rc"]
    script.write_text(MARKER_SCRIPT)
    trust(machine, script)
    machine.sources.trust_file.chmod(0o666)
    with caplog.at_level(logging.WARNING, logger="crushd.config"):
        assert await initialize_as(machine) != "script"
    assert "writable by group or others; no project script is trusted" in caplog.text


async def test_oversized_project_script_is_skipped(
    machine: Machine, caplog: pytest.LogCaptureFixture
) -> None:
    """A project script over MAX_SCRIPT_BYTES is skipped, never half-run."""
    script = machine.layer_paths()["sub_rc"]
    script.write_text(MARKER_SCRIPT + "#" * MAX_SCRIPT_BYTES)
    with caplog.at_level(logging.WARNING, logger="crushd.config"):
        assert await initialize_as(machine) != "script"
    assert f"skipping project script {script}: larger than" in caplog.text


@pytest.mark.skipif(os.geteuid() != 0, reason="chowning to another uid needs root")
async def test_project_script_owned_by_another_uid_never_runs(
    machine: Machine,
) -> None:
    """Another uid's script is skipped even when its hash is in the list."""
    script = machine.layer_paths()["sub_rc"]
    script.write_text(MARKER_SCRIPT)
    trust(machine, script)
    os.chown(script, NOBODY, NOBODY)
    assert await initialize_as(machine) != "script"
