"""The embedded model catalog: providers crushd knows without configuration.

``catalog.json`` (next to this module) is written by us and refreshed by hand:
per provider its id, type, key variable, endpoint and default large/small
models; per model the catwalk fields (context window, default output cap,
prices per million tokens, reasoning levels, attachments). Nothing is ever
fetched from the network (docs/agent.md 4.3).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources

import attrs

#: The catwalk model keys every provider model object carries, with the value
#: written when a configured model leaves them out.
CATWALK_MODEL_DEFAULTS: Mapping[str, object] = {
    "cost_per_1m_in": 0.0,
    "cost_per_1m_out": 0.0,
    "cost_per_1m_in_cached": 0.0,
    "cost_per_1m_out_cached": 0.0,
    "can_reason": False,
    "supports_attachments": False,
}


@attrs.frozen
class ModelInfo:
    """A model's catwalk facts.

    Attributes:
        id: the provider's model id.
        name: a display name (the id when none is given).
        context_window: tokens; 0 when unknown (auto-summarize stays off).
        default_max_tokens: the output cap sent when the selection sets none;
            0 sends none.
        cost_per_1m_in: USD per million input tokens.
        cost_per_1m_out: USD per million output tokens.
        cost_per_1m_in_cached: USD per million tokens written to the cache.
        cost_per_1m_out_cached: USD per million tokens read from the cache.
        can_reason: whether the model thinks before answering.
        reasoning_levels: the efforts it accepts (``low``, ``medium``...).
        default_reasoning_effort: the effort used when none is selected.
        supports_attachments: whether it takes images.
        options: catwalk ``options`` (``temperature``, ``top_p``...), as JSON.
    """

    id: str
    name: str = ""
    context_window: int = 0
    default_max_tokens: int = 0
    cost_per_1m_in: float = 0.0
    cost_per_1m_out: float = 0.0
    cost_per_1m_in_cached: float = 0.0
    cost_per_1m_out_cached: float = 0.0
    can_reason: bool = False
    reasoning_levels: tuple[str, ...] = ()
    default_reasoning_effort: str = ""
    supports_attachments: bool = False
    options: Mapping[str, object] = attrs.field(factory=dict)


@attrs.frozen
class CatalogProvider:
    """A provider of the embedded catalog.

    Attributes:
        id: the provider id (``openai``, ``anthropic``...), as in ``providers``.
        name: a display name.
        type: the catwalk type (``openai``, ``openai-compat``, ``anthropic``,
            ``openrouter``).
        api_key_env: the environment variable holding the key; the provider
            is enabled when it is set and not empty.
        api_endpoint: the base URL of its OpenAI-compatible API.
        default_large_model_id: the default ``models.large``.
        default_small_model_id: the default ``models.small``.
        models: its models, in catalog order.
    """

    id: str
    name: str
    type: str
    api_key_env: str
    api_endpoint: str
    default_large_model_id: str
    default_small_model_id: str
    models: tuple[ModelInfo, ...]


@attrs.frozen
class Catalog:
    """The whole embedded catalog; ``providers`` in preference order."""

    updated: str
    providers: tuple[CatalogProvider, ...]

    def get(self, provider_id: str) -> CatalogProvider | None:
        """Return the provider with ``provider_id``, or ``None``."""
        return next((p for p in self.providers if p.id == provider_id), None)


@functools.cache
def load_catalog() -> Catalog:
    """Return the embedded catalog (read once, then cached).

    Raises:
        OSError: the package data file is missing (a broken install).
    """
    text = resources.files(__package__).joinpath("catalog.json").read_text("utf-8")
    data = json.loads(text)
    providers = tuple(_provider(p) for p in data["providers"])
    return Catalog(updated=str(data["updated"]), providers=providers)


def _provider(data: dict[str, object]) -> CatalogProvider:
    models = data.get("models")
    parsed = [model_from_json(m) for m in models] if isinstance(models, list) else []
    return CatalogProvider(
        id=str(data["id"]),
        name=str(data["name"]),
        type=str(data["type"]),
        api_key_env=str(data["api_key_env"]),
        api_endpoint=str(data["api_endpoint"]),
        default_large_model_id=str(data["default_large_model_id"]),
        default_small_model_id=str(data["default_small_model_id"]),
        models=tuple(m for m in parsed if m is not None),
    )


def model_from_json(data: object) -> ModelInfo | None:
    """Read a catwalk model object leniently; ``None`` when it has no id.

    A field of the wrong type counts as missing, so a hand-written model in a
    config file never breaks the agent.
    """
    if not isinstance(data, Mapping) or not _text(data.get("id")):
        return None
    levels = data.get("reasoning_levels")
    options = data.get("options")
    return ModelInfo(
        id=_text(data.get("id")),
        name=_text(data.get("name")) or _text(data.get("id")),
        context_window=_int(data.get("context_window")),
        default_max_tokens=_int(data.get("default_max_tokens")),
        cost_per_1m_in=_float(data.get("cost_per_1m_in")),
        cost_per_1m_out=_float(data.get("cost_per_1m_out")),
        cost_per_1m_in_cached=_float(data.get("cost_per_1m_in_cached")),
        cost_per_1m_out_cached=_float(data.get("cost_per_1m_out_cached")),
        can_reason=data.get("can_reason") is True,
        reasoning_levels=tuple(
            x for x in (levels if isinstance(levels, list) else []) if _text(x)
        ),
        default_reasoning_effort=_text(data.get("default_reasoning_effort")),
        supports_attachments=data.get("supports_attachments") is True,
        options=dict(options) if isinstance(options, Mapping) else {},
    )


def model_to_json(model: ModelInfo) -> dict[str, object]:
    """Return ``model`` as a catwalk model object (every key written)."""
    data = attrs.asdict(model)
    data["reasoning_levels"] = list(model.reasoning_levels)
    data["options"] = dict(model.options)
    return data


def with_catwalk_keys(model: Mapping[str, object]) -> dict[str, object]:
    """Return a copy of a model object with the six catwalk keys present.

    ``cost_per_1m_in``, ``cost_per_1m_out``, both ``_cached`` prices,
    ``can_reason`` and ``supports_attachments`` keep their value when set and
    get ``0``/``false`` otherwise, so clients decoding catwalk models always
    find them.
    """
    return {**CATWALK_MODEL_DEFAULTS, **model}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, int(value))


def _float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value)
