"""Choosing the large and small models, as upstream Crush does.

1. Defaults: the first enabled catalog provider (catalog order) with its
   default large/small models (its first model when a default is missing);
   without one, the enabled provider with the smallest id and its first model
   for both.
2. A configured ``models.large``/``models.small`` overrides provider and
   model; a model its provider does not list falls back to the default.
3. ``max_tokens`` and ``reasoning_effort`` default to the model's catalog
   values.
4. ``small`` not configured and its provider not in the catalog: ``small`` is
   ``large`` (a local server is not asked for two models at once).

Then the choice must name an enabled provider that lists the model, else
``agent/init`` fails with upstream's texts. Source: Crush
``configureSelectedModels``, coordinator ``buildAgentModels``,
``GetDefaultSmallModel`` (docs/agent.md 4.2).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from crushd.config import Config, SelectedModel
from crushd.errors import ModelUnavailable

from ._catalog import ModelInfo, load_catalog
from ._merge import ProviderInfo, enabled_providers
from ._types import ChatMessage, StreamRequest, ToolSpec

LARGE = "large"
SMALL = "small"


@attrs.frozen
class ResolvedModel:
    """A selected model ready to call.

    Attributes:
        provider_id: the provider's id.
        provider_type: its catwalk type (``openai``, ``openai-compat``...).
        model: the model's catwalk facts.
        selected: the selection with ``max_tokens``/``reasoning_effort``
            defaults filled in.
        base_url: the API endpoint.
        api_key: the key (never shown in ``repr``).
        extra_headers: headers for every call (never shown in ``repr``).
        extra_body: JSON keys merged into every request body.
    """

    provider_id: str
    provider_type: str
    model: ModelInfo
    selected: SelectedModel
    base_url: str
    api_key: str = attrs.field(repr=False)
    extra_headers: Mapping[str, str] = attrs.field(repr=False, factory=dict)
    extra_body: Mapping[str, object] = attrs.field(factory=dict)

    @property
    def reasoning_effort(self) -> str:
        """The effort to send: the selection's when the model lists it.

        Otherwise the model's default, else its first level; ``""`` for a
        model that does not reason. Source: Crush ``effectiveReasoningEffort``.
        """
        levels = self.model.reasoning_levels
        wanted = self.selected.reasoning_effort
        if not self.model.can_reason:
            return ""
        if not levels or wanted in levels:
            return wanted
        default = self.model.default_reasoning_effort
        return default if default in levels else levels[0]

    def request(
        self,
        messages: tuple[ChatMessage, ...],
        tools: tuple[ToolSpec, ...] = (),
        headers: Mapping[str, str] | None = None,
    ) -> StreamRequest:
        """Build a ``StreamRequest`` with this model's per-call options.

        ``max_tokens``: the selection's, else the model's default, else left
        out. ``temperature``/``top_p``: the selection's, else the catalog
        ``options``. Source: Crush coordinator ``run`` (docs/agent.md 4.2).
        """
        max_tokens = self.selected.max_tokens or self.model.default_max_tokens
        return StreamRequest(
            model=self.model.id,
            messages=messages,
            tools=tools,
            max_tokens=max_tokens or None,
            temperature=_option(self.selected.temperature, self.model, "temperature"),
            top_p=_option(self.selected.top_p, self.model, "top_p"),
            reasoning_effort=self.reasoning_effort,
            headers=dict(headers or {}),
        )


@attrs.frozen
class Models:
    """The resolved ``large`` and ``small`` models."""

    large: ResolvedModel
    small: ResolvedModel


def resolve_models(config: Config, environ: Mapping[str, str]) -> Models:
    """Resolve ``models.large`` and ``models.small`` against the providers.

    Args:
        config: the workspace's typed configuration.
        environ: the daemon's environment (catalog key variables).

    Raises:
        ModelUnavailable: ``large model not selected``, ``large model provider
            not configured``, ``large model not found in provider config`` or
            the same for ``small`` (500, upstream's texts).
    """
    providers = enabled_providers(config, environ)
    large, small = select_models(config, providers)
    return Models(
        large=_resolve(LARGE, large, providers), small=_resolve(SMALL, small, providers)
    )


def select_models(
    config: Config, providers: Mapping[str, ProviderInfo]
) -> tuple[SelectedModel | None, SelectedModel | None]:
    """Return the effective ``(large, small)`` selections (rules 1-4 above).

    ``None`` means nothing is selected (no enabled provider, nothing
    configured).
    """
    default_large, default_small = _defaults(providers)
    large = _override(config.models.get(LARGE), default_large, providers)
    small = _override(config.models.get(SMALL), default_small, providers)
    if SMALL not in config.models and not _in_catalog(small):
        small = large
    return large, small


def default_small_model(
    config: Config, environ: Mapping[str, str], provider_id: str
) -> SelectedModel:
    """Return the small model to pair with a large model of ``provider_id``.

    The catalog's default small model of that provider, with its
    ``max_tokens`` and reasoning effort, when the provider is enabled and
    lists it; otherwise the current large selection (an empty one when there
    is none). Source: Crush ``GetDefaultSmallModel``.
    """
    providers = enabled_providers(config, environ)
    large = select_models(config, providers)[0] or SelectedModel()
    known = load_catalog().get(provider_id)
    provider = providers.get(provider_id)
    if known is None or provider is None:
        return large
    model = provider.model(known.default_small_model_id)
    return large if model is None else _selection(provider_id, model)


def _defaults(
    providers: Mapping[str, ProviderInfo],
) -> tuple[SelectedModel | None, SelectedModel | None]:
    for known in load_catalog().providers:
        provider = providers.get(known.id)
        if provider is not None and provider.models:
            large = provider.model(known.default_large_model_id) or provider.models[0]
            small = provider.model(known.default_small_model_id) or provider.models[0]
            return _selection(known.id, large), _selection(known.id, small)
    custom = sorted(
        (p for p in providers.values() if p.models and not p.known), key=_by_id
    )
    if not custom:
        return None, None
    first = _selection(custom[0].id, custom[0].models[0])
    return first, first


def _override(
    configured: SelectedModel | None,
    default: SelectedModel | None,
    providers: Mapping[str, ProviderInfo],
) -> SelectedModel | None:
    if configured is None:
        return default
    base = default or SelectedModel()
    chosen = attrs.evolve(
        configured,
        provider=configured.provider or base.provider,
        model=configured.model or base.model,
    )
    provider = providers.get(chosen.provider)
    model = provider.model(chosen.model) if provider is not None else None
    if model is None:
        # Upstream falls back to the default (and persists the correction);
        # with no default, the unusable choice stays so the error names it.
        return default or chosen
    return attrs.evolve(
        chosen,
        max_tokens=chosen.max_tokens or model.default_max_tokens,
        reasoning_effort=chosen.reasoning_effort or model.default_reasoning_effort,
    )


def _selection(provider_id: str, model: ModelInfo) -> SelectedModel:
    return SelectedModel(
        model=model.id,
        provider=provider_id,
        max_tokens=model.default_max_tokens,
        reasoning_effort=model.default_reasoning_effort,
    )


def _in_catalog(selected: SelectedModel | None) -> bool:
    return selected is not None and load_catalog().get(selected.provider) is not None


def _resolve(
    kind: str, selected: SelectedModel | None, providers: Mapping[str, ProviderInfo]
) -> ResolvedModel:
    if selected is None or not selected.model:
        raise ModelUnavailable(f"{kind} model not selected")
    provider = providers.get(selected.provider)
    if provider is None:
        raise ModelUnavailable(f"{kind} model provider not configured")
    model = provider.model(selected.model)
    if model is None:
        raise ModelUnavailable(f"{kind} model not found in provider config")
    return ResolvedModel(
        provider_id=provider.id,
        provider_type=provider.type,
        model=model,
        selected=selected,
        base_url=provider.base_url,
        api_key=provider.api_key,
        extra_headers=dict(provider.extra_headers),
        extra_body=dict(provider.extra_body),
    )


def _by_id(provider: ProviderInfo) -> str:
    return provider.id


def _option(selected: float | None, model: ModelInfo, key: str) -> float | None:
    if selected is not None:
        return selected
    value = model.options.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
