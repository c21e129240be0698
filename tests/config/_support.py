"""A fake machine for config tests: every layer file lives under a temp dir."""

from __future__ import annotations

import json
from pathlib import Path

import attrs

from crushd.config import ConfigSources
from crushd.trust import project_scripts, trust_scripts


@attrs.frozen
class Machine:
    """Layer paths under ``root``: /etc, the user config and data, a git repo."""

    root: Path

    @property
    def sources(self) -> ConfigSources:
        return ConfigSources.from_environ(
            {
                "HOME": str(self.root / "home"),
                "XDG_CONFIG_HOME": str(self.root / "config"),
                "XDG_DATA_HOME": str(self.root / "data"),
            },
            system_file=self.root / "etc" / "crush.json",
        )

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    @property
    def workspace(self) -> Path:
        """The workspace path: a folder inside the repo."""
        return self.repo / "sub"

    @property
    def data_dir(self) -> Path:
        return self.workspace / ".crush"

    def trust_project_scripts(self) -> None:
        """Trust every project script now on disk, as ``crushctl trust`` would."""
        scripts = project_scripts(self.workspace)
        found = {script.path: script.sha256 for script in scripts if script.sha256}
        trust_scripts(self.sources.trust_file, found)

    def layer_paths(self) -> dict[str, Path]:
        """Every layer's file, lowest priority first."""
        sources = self.sources
        return {
            "system": sources.system_file,
            "global": sources.global_file,
            "global_script": sources.global_script,
            "global_data": sources.global_data_file,
            "repo_json": self.repo / "crush.json",
            "repo_rc": self.repo / ".crushrc",
            "sub_json": self.workspace / "crush.json",
            "sub_dot_json": self.workspace / ".crush.json",
            "sub_rc": self.workspace / "crushrc",
            "sub_dot_rc": self.workspace / ".crushrc",
            "workspace": self.data_dir / "crush.json",
        }


def make_machine(root: Path) -> Machine:
    machine = Machine(root)
    (machine.repo / ".git").mkdir(parents=True)
    machine.workspace.mkdir()
    return machine


def write_layer(path: Path, document: object) -> None:
    """Write ``document`` as the layer at ``path`` (a script for ``*rc`` files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document)
    if path.name.endswith("rc"):
        path.write_text(f"cat <<'JSON'\n{text}\nJSON\n")
    else:
        path.write_text(text)
