"""Loading: layer precedence, deep merge, ``$VAR`` values, bad files, data_dir."""

from __future__ import annotations

import itertools
import json
import logging
import os
from pathlib import Path

import pytest

from crushd.config import LoadedConfig, load_config, load_global_config
from crushd.errors import ConfigInvalid

from ._support import Machine, write_layer

LAYERS = (
    "system",
    "global",
    "global_script",
    "global_data",
    "repo_json",
    "repo_rc",
    "sub_json",
    "sub_dot_json",
    "sub_rc",
    "sub_dot_rc",
    "workspace",
)
PAIRS = list(itertools.combinations(LAYERS, 2))
NOBODY = 65534


def _user_part(loaded: LoadedConfig) -> dict[str, object]:
    """The document without the ``options.data_directory`` the load adds."""
    document = json.loads(json.dumps(loaded.document))
    options = document.get("options", {})
    assert options.pop("data_directory") == str(loaded.data_dir)
    if not options:
        del document["options"]
    return dict(document)


@pytest.mark.parametrize(("low", "high"), PAIRS, ids=[f"{a}<{b}" for a, b in PAIRS])
async def test_load_higher_layer_wins_and_objects_merge(
    machine: Machine, low: str, high: str
) -> None:
    """For every pair of layers the higher one wins a shared key; others merge."""
    paths = machine.layer_paths()
    write_layer(paths[low], {"options": {"initialize_as": low, "tui": {"a": low}}})
    write_layer(paths[high], {"options": {"initialize_as": high, "tui": {"b": 1}}})
    machine.trust_project_scripts()  # project scripts run only when trusted
    loaded = await load_config(machine.sources, machine.workspace, environ={})
    options = _user_part(loaded)["options"]
    assert options == {"initialize_as": high, "tui": {"a": low, "b": 1}}
    assert loaded.config.options.initialize_as == high
    assert loaded.read == (paths[low], paths[high])


async def test_load_replaces_arrays(machine: Machine) -> None:
    """Arrays from a higher layer replace the lower layer's, never concatenate."""
    paths = machine.layer_paths()
    write_layer(paths["global"], {"options": {"disabled_tools": ["a", "b"]}})
    write_layer(paths["workspace"], {"options": {"disabled_tools": ["c"]}})
    loaded = await load_config(machine.sources, machine.workspace, environ={})
    assert loaded.config.options.disabled_tools == ["c"]


async def test_load_with_no_files_is_empty(machine: Machine) -> None:
    """No layer files at all gives an empty document and the default model."""
    loaded = await load_config(machine.sources, machine.workspace, environ={})
    assert _user_part(loaded) == {}
    assert loaded.read == ()
    assert loaded.config.options.tui.compact_mode is False
    assert loaded.data_dir == machine.workspace / ".crush"


async def test_load_consulted_lists_every_layer_file(machine: Machine) -> None:
    """Every layer path counts as a dependency, whether or not it exists."""
    loaded = await load_config(machine.sources, machine.workspace, environ={})
    for path in machine.layer_paths().values():
        assert loaded.depends_on(path)
    assert not loaded.depends_on(machine.root / "elsewhere.json")
    assert loaded.global_file == machine.sources.global_data_file
    assert loaded.workspace_file == machine.data_dir / "crush.json"


async def test_load_stops_project_walk_at_the_git_root(machine: Machine) -> None:
    """A crush.json above the git worktree root is not a project layer."""
    write_layer(machine.root / "crush.json", {"options": {"debug": True}})
    loaded = await load_config(machine.sources, machine.workspace, environ={})
    assert _user_part(loaded) == {}


async def test_load_without_git_reads_only_the_workspace_folder(
    tmp_path: Path, machine: Machine
) -> None:
    """Outside a git repo the project boundary is the workspace folder itself."""
    plain = tmp_path / "plain" / "inner"
    plain.mkdir(parents=True)
    write_layer(plain.parent / "crush.json", {"options": {"debug": True}})
    write_layer(plain / "crush.json", {"options": {"debug_lsp": True}})
    loaded = await load_config(machine.sources, plain, environ={})
    assert _user_part(loaded) == {"options": {"debug_lsp": True}}


async def test_load_resolves_variables_from_the_environment(machine: Machine) -> None:
    """``$VAR`` and ``${VAR}`` in string values come from the given environment."""
    provider = {"api_key": "$KEY", "base_url": "https://${HOST}/v1", "name": "$NOPE"}
    write_layer(machine.layer_paths()["global"], {"providers": {"p": provider}})
    env = {"KEY": "sk-123", "HOST": "api.example"}
    loaded = await load_config(machine.sources, machine.workspace, environ=env)
    resolved = loaded.config.providers["p"]
    assert resolved.api_key == "sk-123"
    assert resolved.base_url == "https://api.example/v1"
    assert resolved.name == ""


async def test_load_leaves_hook_commands_unresolved(machine: Machine) -> None:
    """$VAR in hooks stays as written: the hook's shell expands it later."""
    hooks = {"PreToolUse": [{"command": "echo $FILE ${KEY}"}]}
    document = {"hooks": hooks, "env": {"A": "$KEY"}}
    write_layer(machine.layer_paths()["global"], document)
    loaded = await load_config(machine.sources, machine.workspace, environ={"KEY": "k"})
    assert loaded.document["hooks"] == hooks
    assert loaded.document["env"] == {"A": "k"}


async def test_load_keeps_unknown_keys(machine: Machine) -> None:
    """Keys the model does not know stay in the document."""
    document = {"hooks": {"PreToolUse": [{"command": "x"}]}, "options": {"zzz": 1}}
    write_layer(machine.layer_paths()["workspace"], document)
    loaded = await load_config(machine.sources, machine.workspace, environ={})
    assert _user_part(loaded) == document


@pytest.mark.parametrize(
    "layer", [n for n in LAYERS if not n.endswith(("rc", "script"))]
)
async def test_load_bad_json_names_file_and_line(machine: Machine, layer: str) -> None:
    """Bad JSON in a layer fails with the file and line:col in the message."""
    path = machine.layer_paths()[layer]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{\n  "options": {,}\n}')
    with pytest.raises(ConfigInvalid) as caught:
        await load_config(machine.sources, machine.workspace, environ={})
    assert caught.value.message.startswith(f"failed to initialize config: {path}: 2:")
    assert caught.value.status == 500


@pytest.mark.parametrize("layer", LAYERS)
async def test_load_wrong_type_names_file_and_json_path(
    machine: Machine, layer: str
) -> None:
    """A wrong type in any layer fails with the file and the JSON path."""
    path = machine.layer_paths()[layer]
    write_layer(path, {"options": {"tui": {"compact_mode": "yes"}}})
    machine.trust_project_scripts()
    with pytest.raises(ConfigInvalid) as caught:
        await load_config(machine.sources, machine.workspace, environ={})
    assert caught.value.message == (
        f"failed to initialize config: {path}: $.options.tui.compact_mode:"
        " invalid value for type, expected bool"
    )


async def test_load_non_object_document_is_invalid(machine: Machine) -> None:
    """A layer holding a JSON array is rejected at ``$``."""
    path = machine.layer_paths()["global"]
    write_layer(path, [1, 2])
    with pytest.raises(ConfigInvalid, match=r": \$: expected a JSON object$"):
        await load_config(machine.sources, machine.workspace, environ={})


async def test_load_empty_file_is_an_empty_layer(machine: Machine) -> None:
    """An empty (or blank) file counts as ``{}``."""
    path = machine.layer_paths()["global"]
    path.parent.mkdir(parents=True)
    path.write_text("  \n")
    loaded = await load_config(machine.sources, machine.workspace, environ={})
    assert loaded.read == (path,)


async def test_load_unreadable_file_is_invalid(machine: Machine) -> None:
    """A layer path that cannot be read (a folder) fails naming the file."""
    path = machine.layer_paths()["global"]
    path.mkdir(parents=True)
    with pytest.raises(ConfigInvalid, match=f"{path}: read: "):
        await load_config(machine.sources, machine.workspace, environ={})


async def test_load_failing_script_names_file_and_stderr(machine: Machine) -> None:
    """A crushrc exiting non-zero fails with the file, status and last stderr line."""
    path = machine.layer_paths()["global_script"]
    path.parent.mkdir(parents=True)
    path.write_text("echo first >&2\necho broken >&2\nexit 3\n")
    with pytest.raises(ConfigInvalid) as caught:
        await load_config(machine.sources, machine.workspace, environ={})
    assert caught.value.message == (
        f"failed to initialize config: {path}: run: exit status 3: broken"
    )


async def test_load_failing_silent_script(machine: Machine) -> None:
    """A script failing without stderr still reports its exit status."""
    path = machine.layer_paths()["sub_rc"]
    path.write_text("exit 1\n")
    machine.trust_project_scripts()
    with pytest.raises(ConfigInvalid, match=f"{path}: run: exit status 1$"):
        await load_config(machine.sources, machine.workspace, environ={})


async def test_load_script_printing_bad_json(machine: Machine) -> None:
    """A script whose stdout is not JSON fails with line:col."""
    path = machine.layer_paths()["sub_dot_rc"]
    path.write_text("echo '{nope'\n")
    machine.trust_project_scripts()
    with pytest.raises(ConfigInvalid, match=f"{path}: 1:2: "):
        await load_config(machine.sources, machine.workspace, environ={})


async def test_load_script_runs_in_its_folder(machine: Machine) -> None:
    """A crushrc runs with its own folder as the working directory."""
    path = machine.layer_paths()["sub_rc"]
    path.write_text('printf \'{"options":{"initialize_as":"%s"}}\' "$PWD"\n')
    machine.trust_project_scripts()
    loaded = await load_config(machine.sources, machine.workspace, environ={})
    assert loaded.config.options.initialize_as == str(machine.workspace)


async def test_load_script_timeout(
    machine: Machine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crushrc running past the timeout is killed and reported."""
    monkeypatch.setattr("crushd.config._layers.SCRIPT_TIMEOUT_SECONDS", 0.2)
    path = machine.layer_paths()["global_script"]
    path.parent.mkdir(parents=True)
    path.write_text("exec sleep 30\n")
    with pytest.raises(ConfigInvalid, match=f"{path}: run: timed out after 0.2 s"):
        await load_config(machine.sources, machine.workspace, environ={})


async def test_load_data_dir_explicit_wins(machine: Machine) -> None:
    """The creator's data_dir beats options.data_directory; relative is resolved."""
    write_layer(machine.layer_paths()["global"], {"options": {"data_directory": "x"}})
    loaded = await load_config(
        machine.sources, machine.workspace, data_dir="state", environ={}
    )
    assert loaded.data_dir == machine.workspace / "state"
    assert loaded.workspace_file == machine.workspace / "state" / "crush.json"


async def test_load_data_dir_from_options_and_reads_its_file(
    machine: Machine, tmp_path: Path
) -> None:
    """options.data_directory picks the data dir, whose crush.json is then read."""
    target = tmp_path / "elsewhere"
    write_layer(
        machine.layer_paths()["repo_json"],
        {"options": {"data_directory": "$DIR"}},
    )
    write_layer(target / "crush.json", {"options": {"debug": True}})
    loaded = await load_config(
        machine.sources, machine.workspace, environ={"DIR": str(target)}
    )
    assert loaded.data_dir == target
    assert loaded.config.options.debug is True


async def test_load_data_dir_nearest_existing_crush_folder(machine: Machine) -> None:
    """Without settings, the nearest existing .crush up to the git root is used."""
    (machine.repo / ".crush").mkdir()
    loaded = await load_config(machine.sources, machine.workspace, environ={})
    assert loaded.data_dir == machine.repo / ".crush"
    (machine.workspace / ".crush").mkdir()
    loaded = await load_config(machine.sources, machine.workspace, environ={})
    assert loaded.data_dir == machine.workspace / ".crush"


async def test_load_global_config_reads_machine_layers(machine: Machine) -> None:
    """The daemon's own config merges the machine-wide layers."""
    paths = machine.layer_paths()
    write_layer(paths["global"], {"options": {"debug": True}})
    write_layer(paths["global_data"], {"options": {"debug_lsp": True}})
    loaded = await load_global_config(machine.sources, environ={})
    assert _user_part(loaded) == {"options": {"debug": True, "debug_lsp": True}}
    assert json.dumps(loaded.redacted())


@pytest.mark.parametrize("layer", LAYERS)
async def test_load_skips_untrusted_layer_writable_by_others(
    machine: Machine, layer: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A layer file others may write is skipped with a warning; the rest loads."""
    paths = machine.layer_paths()
    write_layer(paths[layer], {"options": {"initialize_as": "planted"}})
    write_layer(paths["global"] if layer != "global" else paths["system"], {})
    machine.trust_project_scripts()
    paths[layer].chmod(0o646)
    with caplog.at_level(logging.WARNING, logger="crushd.config"):
        loaded = await load_config(machine.sources, machine.workspace, environ={})
    assert loaded.config.options.initialize_as != "planted"
    assert paths[layer] not in loaded.read
    assert len(loaded.read) == 1
    assert (
        f"skipping untrusted {paths[layer]}: writable by group or others" in caplog.text
    )


async def test_load_skips_workspace_file_in_untrusted_data_dir(
    machine: Machine, caplog: pytest.LogCaptureFixture
) -> None:
    """A data dir others may write cannot feed the workspace layer either."""
    path = machine.layer_paths()["workspace"]
    write_layer(path, {"options": {"debug": True}})
    path.parent.chmod(0o777)
    with caplog.at_level(logging.WARNING, logger="crushd.config"):
        loaded = await load_config(machine.sources, machine.workspace, environ={})
    assert loaded.config.options.debug is False
    assert "its folder is writable by group or others" in caplog.text


@pytest.mark.skipif(os.geteuid() != 0, reason="chowning to another uid needs root")
@pytest.mark.parametrize("layer", LAYERS)
async def test_load_skips_untrusted_layer_of_another_uid(
    machine: Machine, layer: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A layer file another uid owns is never read (a crushrc never runs)."""
    paths = machine.layer_paths()
    marker = machine.root / "ran"
    write_layer(paths[layer], {"options": {"initialize_as": "planted"}})
    if layer.endswith("rc") or layer == "global_script":
        paths[layer].write_text(f"touch {marker}\necho '{{}}'\n")
    machine.trust_project_scripts()
    os.chown(paths[layer], NOBODY, NOBODY)
    with caplog.at_level(logging.WARNING, logger="crushd.config"):
        loaded = await load_config(machine.sources, machine.workspace, environ={})
    assert loaded.config.options.initialize_as != "planted"
    assert loaded.read == ()
    assert not marker.exists()
    assert f"skipping untrusted {paths[layer]}: owned by uid {NOBODY}" in caplog.text


async def test_load_failing_script_stderr_is_masked(machine: Machine) -> None:
    """A crushrc echoing a URL password or a token on stderr fails with them masked."""
    path = machine.layer_paths()["global_script"]
    path.parent.mkdir(parents=True)
    path.write_text(
        "echo 'curl https://bob:hunter2-very-long-pw@example.com?token=abcdef123456"
        "7890abcdef failed' >&2\nexit 7\n"
    )
    with pytest.raises(ConfigInvalid) as caught:
        await load_config(machine.sources, machine.workspace, environ={})
    message = caught.value.message
    assert message.startswith(
        f"failed to initialize config: {path}: run: exit status 7"
    )
    assert "hunter2" not in message
    assert "abcdef1234567890" not in message
    assert "••••" in message


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("[" * 10_000 + "]" * 10_000, "$", "nested deeper than 64 levels"),
        ('{"options": "x"}', "$.options", "expected a JSON object, got a string"),
        ('{"options": {"debug": NaN}}', "$.options.debug", "NaN and Infinity"),
    ],
)
async def test_hand_edited_layer_out_of_bounds_names_its_file(
    machine: Machine, text: str, where: str, problem: str
) -> None:
    """A layer edited by hand past what a write allows fails naming file and spot."""
    path = machine.layer_paths()["global"]
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(ConfigInvalid) as caught:
        await load_config(machine.sources, machine.workspace, environ={})
    prefix = f"failed to initialize config: {path}: {where}: "
    assert caught.value.message.startswith(prefix)
    assert problem in caught.value.message
