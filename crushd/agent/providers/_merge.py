"""The providers the agent may use: the configuration merged over the catalog.

A catalog provider is enabled when its key resolves to a non-empty value (the
configured ``api_key``, else its key variable in the daemon's environment) and
it is not ``disable``d; the configuration may override its endpoint and key,
add headers, body keys and models. A provider the catalog does not know needs
a ``base_url``, at least one model and a type crushd speaks; its key may be
empty (local servers). Source: Crush ``configureProviders``
(docs/agent.md 4.1, 4.3).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import attrs

from crushd.config import Config, ProviderConfig

from ._catalog import (
    Catalog,
    CatalogProvider,
    ModelInfo,
    load_catalog,
    model_from_json,
    model_to_json,
)

log = logging.getLogger("crushd.agent.providers")

#: The provider types crushd can talk to; a configured provider of another
#: type is skipped. ``openai-compat`` is the default for providers the catalog
#: does not know.
SUPPORTED_TYPES = frozenset(
    {"openai", "openai-compat", "openrouter", "anthropic", "litellm", "ollama", "omlx"}
)
#: The types a provider outside the catalog may have (chat completions only).
CUSTOM_TYPES = SUPPORTED_TYPES - {"anthropic"}
DEFAULT_CUSTOM_TYPE = "openai-compat"


@attrs.frozen
class ProviderInfo:
    """An enabled provider, configuration and catalog merged.

    Attributes:
        id: the provider id.
        name: a display name.
        type: the catwalk type.
        base_url: the API endpoint.
        api_key: the resolved key (may be empty for local servers).
        extra_headers: headers sent with every call (empty values dropped).
        extra_body: JSON keys merged into every request body.
        models: configured models first, then the catalog's.
        known: whether the catalog knows this provider.
    """

    id: str
    name: str
    type: str
    base_url: str
    api_key: str = attrs.field(repr=False)
    extra_headers: Mapping[str, str] = attrs.field(repr=False)
    extra_body: Mapping[str, object]
    models: tuple[ModelInfo, ...]
    known: bool

    def model(self, model_id: str) -> ModelInfo | None:
        """Return the model with ``model_id``, or ``None``."""
        return next((m for m in self.models if m.id == model_id), None)


def enabled_providers(
    config: Config, environ: Mapping[str, str], catalog: Catalog | None = None
) -> dict[str, ProviderInfo]:
    """Return the usable providers by id: catalog order first, then by id.

    Args:
        config: the workspace's typed configuration (values already resolved).
        environ: the daemon's environment (catalog key variables).
        catalog: the catalog; the embedded one when ``None``.
    """
    catalog = catalog or load_catalog()
    found: dict[str, ProviderInfo] = {}
    for known in catalog.providers:
        merged = _known(known, config.providers.get(known.id), environ)
        if merged is not None:
            found[known.id] = merged
    for provider_id in sorted(config.providers):
        if catalog.get(provider_id) is None:
            custom = _custom(provider_id, config.providers[provider_id])
            if custom is not None:
                found[provider_id] = custom
    return found


def _known(
    known: CatalogProvider, cfg: ProviderConfig | None, environ: Mapping[str, str]
) -> ProviderInfo | None:
    cfg = cfg or ProviderConfig()
    key = cfg.api_key or environ.get(known.api_key_env, "")
    if cfg.disable or not key:
        return None
    return ProviderInfo(
        id=known.id,
        name=cfg.name or known.name,
        type=known.type,
        base_url=cfg.base_url or known.api_endpoint,
        api_key=key,
        extra_headers=_headers(cfg.extra_headers),
        extra_body=dict(cfg.extra_body),
        models=_merge_models(cfg.models, known.models),
        known=True,
    )


def _custom(provider_id: str, cfg: ProviderConfig) -> ProviderInfo | None:
    kind = cfg.type or DEFAULT_CUSTOM_TYPE
    models = _merge_models(cfg.models, ())
    problem = _custom_problem(cfg, kind, models)
    if problem:
        if not cfg.disable:
            log.warning("skipping provider %s: %s", provider_id, problem)
        return None
    return ProviderInfo(
        id=provider_id,
        name=cfg.name or provider_id,
        type=kind,
        base_url=cfg.base_url,
        api_key=cfg.api_key,
        extra_headers=_headers(cfg.extra_headers),
        extra_body=dict(cfg.extra_body),
        models=models,
        known=False,
    )


def _custom_problem(
    cfg: ProviderConfig, kind: str, models: tuple[ModelInfo, ...]
) -> str:
    if cfg.disable:
        return "disabled"
    if not cfg.base_url:
        return "no base_url"
    if not models:
        return "no models"
    if kind not in CUSTOM_TYPES:
        return f"type {kind!r} is not supported"
    return ""


def _merge_models(
    configured: list[dict[str, object]], catalog: tuple[ModelInfo, ...]
) -> tuple[ModelInfo, ...]:
    # A configured model overrides the catalog's keys one by one, so naming a
    # known model to change its output cap keeps its prices.
    base = {m.id: model_to_json(m) for m in catalog}
    merged: dict[str, ModelInfo] = {}
    for data in configured:
        model_id = data.get("id")
        over = base.get(model_id, {}) if isinstance(model_id, str) else {}
        info = model_from_json({**over, **data})
        if info is not None and info.id not in merged:
            merged[info.id] = info
    for info in catalog:
        merged.setdefault(info.id, info)
    return tuple(merged.values())


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if v}


def catalog_provider_entries(
    config: Config, environ: Mapping[str, str]
) -> list[dict[str, object]]:
    """Return the enabled catalog providers the configuration does not name.

    Each entry has the shape of the workspace ``providers`` route (a catwalk
    provider): ``id``, ``name``, ``type``, ``api_key`` (the ``$VARIABLE``
    it comes from, never the value), ``api_endpoint``,
    ``default_large_model_id``, ``default_small_model_id`` and ``models``
    with every catwalk key.
    """
    catalog = load_catalog()
    enabled = enabled_providers(config, environ, catalog)
    return [
        _entry(known)
        for known in catalog.providers
        if known.id in enabled and known.id not in config.providers
    ]


def _entry(known: CatalogProvider) -> dict[str, object]:
    return {
        "id": known.id,
        "name": known.name,
        "type": known.type,
        "api_key": f"${known.api_key_env}",
        "api_endpoint": known.api_endpoint,
        "default_large_model_id": known.default_large_model_id,
        "default_small_model_id": known.default_small_model_id,
        "models": [model_to_json(m) for m in known.models],
    }
