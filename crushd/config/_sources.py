"""Where configuration comes from: the layer files, lowest priority first.

docs/protocol.md 7.1: ``/etc/crush/crush.json``; the global user config and the
``crushrc`` script beside it; the global data config (scope 0); the project
files from the git worktree root down to the workspace path; the workspace
config ``<data_dir>/crush.json`` (scope 1).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from crushd.trust import (
    DATA_DIR_NAME,
    PROJECT_CONFIG_NAMES,
    check_trusted,
    project_dirs,
    trust_list_path,
)

log = logging.getLogger("crushd.config")

#: The system-wide config file (lowest priority).
SYSTEM_CONFIG_FILE = Path("/etc/crush/crush.json")
#: The config file name inside the config folders.
CONFIG_FILE_NAME = "crush.json"
#: Project file names per directory, lowest priority first (the trust
#: survey lists the same ones).
PROJECT_FILE_NAMES = PROJECT_CONFIG_NAMES


@attrs.frozen
class Layer:
    """One place a configuration document may come from.

    Attributes:
        path: the file (it may not exist).
        script: the file is a shell script whose stdout is the JSON.
        project: the file comes from the project (not the user's own config);
            a project script runs only when the user trusted it.
    """

    path: Path
    script: bool = False
    project: bool = False


@attrs.frozen
class ConfigSources:
    """The machine-wide layers (everything but the project and workspace files).

    Build it with ``from_environ``; tests pass their own environment so the
    real user files are never read.

    Attributes:
        system_file: ``/etc/crush/crush.json``.
        global_file: the global user config.
        global_script: the ``crushrc`` script beside ``global_file``.
        global_data_file: the global data config, written for scope 0.
        trust_file: the user's trust list of project scripts
            (``trusted.json`` beside ``global_data_file``).

    Source: Crush ``config.GlobalConfig``/``GlobalConfigData`` (docs/protocol.md 7.1).
    """

    system_file: Path
    global_file: Path
    global_script: Path
    global_data_file: Path
    trust_file: Path

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        system_file: Path = SYSTEM_CONFIG_FILE,
    ) -> ConfigSources:
        """Resolve the layer paths from ``environ`` (``None``: ``os.environ``).

        ``$CRUSH_GLOBAL_CONFIG/crush.json``, else ``$XDG_CONFIG_HOME/crush/``,
        else ``$HOME/.config/crush/``; the data config is
        ``$CRUSH_GLOBAL_DATA/crush.json``, else ``$XDG_DATA_HOME/crush/``,
        else ``$HOME/.local/share/crush/``.
        """
        env = os.environ if environ is None else environ
        home = Path(env.get("HOME") or Path.home())
        config_dir = _first(env, "CRUSH_GLOBAL_CONFIG", "XDG_CONFIG_HOME", "crush")
        data_dir = _first(env, "CRUSH_GLOBAL_DATA", "XDG_DATA_HOME", "crush")
        config_dir = config_dir or home / ".config" / "crush"
        data_dir = data_dir or home / ".local" / "share" / "crush"
        return cls(
            system_file=system_file,
            global_file=config_dir / CONFIG_FILE_NAME,
            global_script=config_dir / "crushrc",
            global_data_file=data_dir / CONFIG_FILE_NAME,
            trust_file=trust_list_path(env),
        )

    def global_layers(self) -> list[Layer]:
        """Return the machine-wide layers, lowest priority first."""
        return [
            Layer(self.system_file),
            Layer(self.global_file),
            Layer(self.global_script, script=True),
            Layer(self.global_data_file),
        ]


def _first(env: Mapping[str, str], own: str, xdg: str, leaf: str) -> Path | None:
    if value := env.get(own):
        return Path(value)
    if value := env.get(xdg):
        return Path(value) / leaf
    return None


def project_layers(path: Path) -> list[Layer]:
    """Return the project files for ``path``, lowest priority first.

    Nearer directories win; within one directory ``.crushrc`` > ``crushrc``
    > ``.crush.json`` > ``crush.json``.
    """
    return [
        Layer(directory / name, script=name.endswith("rc"), project=True)
        for directory in project_dirs(path)
        for name in PROJECT_FILE_NAMES
    ]


def resolve_data_dir(explicit: str, configured: str, path: Path) -> Path:
    """Return the absolute data directory of the workspace at ``path``.

    Order: ``explicit`` (the create's ``data_dir``) > ``configured``
    (``options.data_directory``) > the nearest existing, trusted ``.crush``
    folder from ``path`` up to the project boundary > ``<path>/.crush``.
    Relative values resolve against ``path``; ``~`` expands. A ``.crush``
    another uid controls is skipped with a warning (the store then refuses
    ``<path>/.crush`` if that one is untrusted). Blocking (a few ``stat``).

    Source: Crush ``config.Load`` data directory (docs/protocol.md 7.1); the trust
    check is crushd's own.
    """
    for value in (explicit, configured):
        if value:
            chosen = Path(value).expanduser()
            return chosen if chosen.is_absolute() else path / chosen
    for directory in reversed(project_dirs(path)):
        if _trusted_data_dir(directory / DATA_DIR_NAME):
            return directory / DATA_DIR_NAME
    return path / DATA_DIR_NAME


def _trusted_data_dir(candidate: Path) -> bool:
    if not candidate.is_dir():
        return False
    reason = check_trusted(candidate)
    if reason is not None:
        log.warning("skipping untrusted %s: %s", candidate, reason)
    return reason is None
