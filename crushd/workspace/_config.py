"""The config service of one workspace: its effective config and mutations.

It holds the last good load of the layered configuration, answers reads with
redacted copies (decision B.22) and writes scope files (0: the global data
config, 1: ``<data_dir>/crush.json``). Publishing ``config_changed`` and the
reload of every affected workspace belong to the caller, which knows all
workspaces (``Workspace.reload_config``).
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Mapping
from pathlib import Path

from crushd.config import (
    ConfigSources,
    LoadedConfig,
    Mutation,
    forget_secrets,
    load_config,
    redact,
    remember_environ,
    remember_secrets,
    remove_key,
    secrets_in_document,
    set_key,
    update_file,
)
from crushd.errors import BadRequest, CrushdError
from crushd.proto import SCOPE_GLOBAL, SCOPE_WORKSPACE

log = logging.getLogger("crushd.workspace.config")

#: ``recent_models.<type>`` keeps this many entries, newest first.
RECENT_MODELS_MAX = 5
#: ``config/model`` accepts these ``model_type`` values.
MODEL_TYPES = ("large", "small")


class ConfigService:
    """One workspace's configuration.

    Args:
        sources: the machine-wide layer files.
        path: the workspace's canonical path.
        loaded: the first load (``ConfigService.open`` makes it).
        environ: resolves ``$VAR`` values (the daemon's environment).

    Source: Crush config store (``internal/config``), backend ``config.go``.
    """

    def __init__(
        self,
        sources: ConfigSources,
        path: Path,
        loaded: LoadedConfig,
        environ: Mapping[str, str],
    ) -> None:
        self._sources = sources
        self._path = path
        self._environ = environ
        # The secrets of this config are masked in everything the daemon
        # sends while the service lives (crushd.config known secrets).
        self._secrets_source = f"config:{id(self)}"
        weakref.finalize(self, forget_secrets, self._secrets_source)
        self.current = loaded

    @property
    def environ(self) -> Mapping[str, str]:
        """The environment ``$VAR`` values resolve from (the daemon's)."""
        return self._environ

    @property
    def current(self) -> LoadedConfig:
        """The last good load; its secrets are known to the scrubbers."""
        return self._current

    @current.setter
    def current(self, loaded: LoadedConfig) -> None:
        remember_secrets(self._secrets_source, secrets_in_document(loaded.document))
        self._current = loaded

    @classmethod
    async def open(
        cls,
        sources: ConfigSources,
        path: Path,
        data_dir: str = "",
        environ: Mapping[str, str] | None = None,
    ) -> ConfigService:
        """Load the configuration of the workspace at ``path``.

        Raises:
            ConfigInvalid: a layer file is broken; the message names it (500).
        """
        env = os.environ if environ is None else environ
        loaded = await _load(sources, path, data_dir, env)
        return cls(sources, path, loaded, env)

    @property
    def data_dir(self) -> Path:
        """The workspace's data directory (fixed for its lifetime)."""
        return self.current.data_dir

    def effective(self) -> dict[str, object]:
        """Return the effective configuration, redacted."""
        return self.current.redacted()

    def providers(self) -> list[dict[str, object]]:
        """Return the configured providers with their models, redacted, by id.

        The shape is the catwalk provider entry (``GET /providers``):
        ``id``, ``name``, ``api_key``, ``api_endpoint``, ``type``, ``models``,
        ``default_headers``; empty fields are left out. Every model carries
        the six catwalk keys clients decode (prices, ``can_reason``,
        ``supports_attachments``). The enabled providers of crushd's embedded
        catalog that the config does not name follow (their key shown as the
        ``$VARIABLE`` it comes from). No remote catalog.
        """
        from crushd.agent.providers import catalog_provider_entries

        providers = self.current.document.get("providers")
        if not isinstance(providers, dict):
            providers = {}
        configured = [_provider_entry(str(k), v) for k, v in sorted(providers.items())]
        return configured + catalog_provider_entries(self.current.config, self._environ)

    def depends_on(self, path: Path) -> bool:
        """True when a change to ``path`` changes this configuration."""
        return self.current.depends_on(path)

    def scope_file(self, scope: int) -> Path:
        """Return the file written for ``scope``.

        Raises:
            BadRequest: not 0 (global) or 1 (workspace) (400).
        """
        if scope == SCOPE_GLOBAL:
            return self.current.global_file
        if scope == SCOPE_WORKSPACE:
            return self.current.workspace_file
        raise BadRequest(f"invalid config scope {scope}")

    async def reload(self) -> bool:
        """Load again from disk; keep the last good config if that fails.

        Returns:
            Whether the new load succeeded.
        """
        try:
            loaded = await _load(
                self._sources, self._path, str(self.data_dir), self._environ
            )
        except CrushdError as exc:
            log.warning("config reload failed, keeping the last good one: %s", exc)
            return False
        self.current = loaded
        return True

    # ------------------------------------------------------------------ writes

    async def mutate(self, scope: int, mutation: Mutation) -> Path:
        """Apply ``mutation`` to the scope file under its lock; return the file.

        Raises:
            BadRequest: bad scope, a key of more than 64 parts, or a result
                the daemon could not read back: nested deeper than 64 levels,
                NaN/Infinity, over 1 MiB, or a wrong type (400).
            ConfigLocked: the file's lock stayed taken for 5 s (503).
            ConfigInvalid, InternalError: the file is broken or unwritable (500).

        Cancellation: the file is either unchanged or fully written.
        """
        path = self.scope_file(scope)
        await update_file(path, mutation)
        log.info("config %s changed", path)
        return path

    async def set(self, scope: int, key: str, value: object) -> Path:
        """Write ``value`` at the dotted ``key`` (``config/set``); see ``mutate``."""
        return await self.mutate(scope, lambda doc: set_key(doc, key, value))

    async def remove(self, scope: int, key: str) -> Path:
        """Delete the dotted ``key`` (``config/remove``); see ``mutate``."""
        return await self.mutate(scope, lambda doc: _remove(doc, key))

    async def set_model(
        self, scope: int, model_type: str, model: dict[str, object]
    ) -> Path:
        """Pick ``model`` as ``models.<type>`` and push it on ``recent_models``.

        Raises:
            BadRequest: ``model_type`` is not ``large``/``small`` (400); as
                ``mutate`` otherwise.
        """
        if model_type not in MODEL_TYPES:
            raise BadRequest(f"unknown model type {model_type!r}")
        return await self.mutate(scope, lambda doc: _pick_model(doc, model_type, model))

    async def set_provider_key(
        self, scope: int, provider_id: str, kind: str, api_key: object
    ) -> Path:
        """Store a provider credential (``config/provider-key``).

        ``kind`` ``string``: ``api_key`` is the key text, written to
        ``providers.<id>.api_key``. ``kind`` ``oauth``: ``api_key`` is the
        token object, stored as ``oauth`` with its ``access_token`` as
        ``api_key``.

        Raises:
            BadRequest: no provider id, an unknown kind
                (``unsupported api key kind "<kind>"``) or a payload of the
                wrong shape (``decode api key <kind>: ...``) (400).
        """
        if not provider_id:
            raise BadRequest("provider_id is required")
        values = _credential(kind, api_key)
        base = f"providers.{provider_id}"
        return await self.mutate(scope, lambda doc: _set_all(doc, base, values))


async def _load(
    sources: ConfigSources, path: Path, data_dir: str, environ: Mapping[str, str]
) -> LoadedConfig:
    """``load_config``, after remembering the environment's secrets.

    A failing script's error may quote them, and that error goes to the
    client and the log.
    """
    remember_environ(environ)
    return await load_config(sources, path, data_dir=data_dir, environ=environ)


def _remove(document: dict[str, object], key: str) -> None:
    remove_key(document, key)


def _set_all(document: dict[str, object], base: str, values: dict[str, object]) -> None:
    for name, value in values.items():
        set_key(document, f"{base}.{name}", value)


def _credential(kind: str, api_key: object) -> dict[str, object]:
    if kind == "string":
        if not isinstance(api_key, str):
            raise BadRequest("decode api key string: expected a JSON string")
        return {"api_key": api_key}
    if kind == "oauth":
        if not isinstance(api_key, dict) or not isinstance(
            api_key.get("access_token"), str
        ):
            raise BadRequest("decode api key oauth: expected a token object")
        return {"api_key": api_key["access_token"], "oauth": api_key}
    raise BadRequest(f'unsupported api key kind "{kind}"')


def _pick_model(document: dict[str, object], kind: str, model: object) -> None:
    set_key(document, f"models.{kind}", model)
    recent = document.get("recent_models")
    recent = recent if isinstance(recent, dict) else {}
    earlier = recent.get(kind)
    earlier = earlier if isinstance(earlier, list) else []
    rest = [m for m in earlier if _model_id(m) != _model_id(model)]
    set_key(document, f"recent_models.{kind}", [model, *rest][:RECENT_MODELS_MAX])


def _model_id(model: object) -> tuple[object, object] | None:
    return (
        (model.get("provider"), model.get("model")) if isinstance(model, dict) else None
    )


def _models_of(data: dict[str, object]) -> list[dict[str, object]]:
    models = data.get("models")
    if not isinstance(models, list):
        return []
    return [m for m in models if isinstance(m, dict)]


def _provider_entry(provider_id: str, provider: object) -> dict[str, object]:
    from crushd.agent.providers import with_catwalk_keys

    data = provider if isinstance(provider, dict) else {}
    entry = {
        "name": data.get("name") or provider_id,
        "id": data.get("id") or provider_id,
        "api_key": data.get("api_key"),
        "api_endpoint": data.get("base_url"),
        "type": data.get("type"),
        "models": [with_catwalk_keys(m) for m in _models_of(data)],
        "default_headers": data.get("extra_headers"),
    }
    result = redact({k: v for k, v in entry.items() if v or k == "models"})
    assert isinstance(result, dict)
    return result
