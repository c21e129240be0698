"""Loading the effective configuration of one workspace, layer by layer."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import attrs
import trio

from crushd.proto import redact
from crushd.trust import check_trusted_file

from ._document import deep_merge, resolve_variables
from ._layers import read_layer
from ._model import Config, JSONObject, structure_config
from ._sources import CONFIG_FILE_NAME, ConfigSources, Layer, project_layers
from ._sources import resolve_data_dir as _resolve_data_dir

#: Top-level keys whose strings keep their ``$VAR`` text (shell commands).
UNRESOLVED_KEYS = frozenset({"hooks"})

log = logging.getLogger("crushd.config")


@attrs.frozen
class LoadedConfig:
    """The result of one load: the document, its typed view, and its files.

    Attributes:
        document: the merged document with ``$VAR`` values resolved and
            ``options.data_directory`` set to ``data_dir`` (secrets in clear:
            never send it; use ``redacted()``).
        config: the typed view of ``document``.
        data_dir: the workspace's absolute data directory.
        consulted: every file the load looked at, existing or not (a write
            to any of them changes this workspace's config).
        read: the files that existed and were read, lowest priority first.
        global_file: the scope-0 file (the global data config).
        workspace_file: the scope-1 file (``<data_dir>/crush.json``).
    """

    document: JSONObject
    config: Config
    data_dir: Path
    consulted: frozenset[Path]
    read: tuple[Path, ...]
    global_file: Path
    workspace_file: Path

    def redacted(self) -> JSONObject:
        """Return the document with every secret masked (decision B.22)."""
        result = redact(self.document)
        assert isinstance(result, dict)
        return result

    def depends_on(self, path: Path) -> bool:
        """True when a change to ``path`` changes this configuration."""
        return path in self.consulted


async def load_config(
    sources: ConfigSources,
    path: Path,
    *,
    data_dir: str = "",
    environ: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """Load the effective configuration of the workspace at ``path``.

    ``$VAR`` values resolve from ``environ`` everywhere but under
    ``UNRESOLVED_KEYS`` (``hooks``: shell commands expand their own).

    Layers, lowest priority first: the machine-wide ones (``sources``), the
    project files from the git worktree root down to ``path``, then the
    workspace file ``<data_dir>/crush.json``. The data directory is resolved
    from ``data_dir``, then the merged ``options.data_directory`` of the
    layers below the workspace file (see ``resolve_data_dir``).

    A layer file another uid controls (it, or the folder really holding it,
    fails the ownership rule of ``crushd.trust``) is skipped with a warning
    ``skipping untrusted <file>: <reason>``; the other layers still load.
    This holds for every layer: ``/etc/crush`` files may be root's, the
    user's own files must be the daemon user's.

    Args:
        sources: the machine-wide layer files.
        path: the workspace's canonical (absolute) path.
        data_dir: the creator's ``data_dir``; ``""`` means not given.
        environ: resolves ``$VAR`` values; ``None`` means ``os.environ``.

    Raises:
        ConfigInvalid: a layer has bad JSON, a wrong type, or its script
            failed; the message names the file (500).

    Cancellation: nothing is left behind (a running script is killed).

    Source: Crush ``config.Load`` (docs/protocol.md 7.1).
    """
    env = os.environ if environ is None else environ
    layers = sources.global_layers() + project_layers(path)
    document, read = await _merge_layers(layers, {}, [], sources.trust_file)
    configured = _data_directory(_resolve(document, env))
    resolved_dir = _resolve_data_dir(data_dir, configured, path)
    workspace_file = resolved_dir / CONFIG_FILE_NAME
    document, read = await _merge_layers(
        [Layer(workspace_file)], document, read, sources.trust_file
    )
    resolved = _resolve(document, env)
    # As upstream, the effective config states the data directory in use.
    resolved = deep_merge(resolved, {"options": {"data_directory": str(resolved_dir)}})
    return LoadedConfig(
        document=resolved,
        config=structure_config(resolved),
        data_dir=resolved_dir,
        consulted=frozenset(layer.path for layer in layers) | {workspace_file},
        read=tuple(read),
        global_file=sources.global_data_file,
        workspace_file=workspace_file,
    )


async def _merge_layers(
    layers: list[Layer], document: JSONObject, read: list[Path], trust_file: Path
) -> tuple[JSONObject, list[Path]]:
    for layer in await trio.to_thread.run_sync(_trusted_layers, layers):
        found = await read_layer(layer, trust_file)
        if found is not None:
            document = deep_merge(document, found)
            read = [*read, layer.path]
    return document, read


def _trusted_layers(layers: list[Layer]) -> list[Layer]:
    # Another uid's file (or one in a folder another uid controls) is never
    # read: it could run code as the daemon's user or redirect its data.
    kept = []
    for layer in layers:
        reason = check_trusted_file(layer.path)
        if reason is None:
            kept.append(layer)
        elif os.path.lexists(layer.path):
            log.warning("skipping untrusted %s: %s", layer.path, reason)
    return kept


def _resolve(document: JSONObject, env: Mapping[str, str]) -> JSONObject:
    # Hook commands are shell text: their $VARs belong to the shell that runs
    # them later, not to the daemon's environment now.
    resolved = {
        key: value if key in UNRESOLVED_KEYS else resolve_variables(value, env)
        for key, value in document.items()
    }
    return resolved


def _data_directory(document: object) -> str:
    options = document.get("options") if isinstance(document, dict) else None
    value = options.get("data_directory") if isinstance(options, dict) else None
    return value if isinstance(value, str) else ""


async def load_global_config(
    sources: ConfigSources, *, environ: Mapping[str, str] | None = None
) -> LoadedConfig:
    """Load the daemon's own configuration (``GET /v1/config``).

    As upstream, the working directory is the global data config's folder.

    Raises:
        ConfigInvalid: as ``load_config`` (500).
    """
    folder = sources.global_data_file.parent
    return await load_config(sources, folder, data_dir=str(folder), environ=environ)
