"""Choosing the large and small models with upstream's rules."""

from __future__ import annotations

import pytest

from crushd.agent.providers import (
    ChatMessage,
    default_small_model,
    resolve_models,
)
from crushd.config import SelectedModel, structure_config
from crushd.errors import ModelUnavailable

LOCAL = {
    "type": "openai-compat",
    "base_url": "http://127.0.0.1:9/v1",
    "api_key": "local-key",
    "models": [
        {"id": "qwen", "context_window": 32000, "default_max_tokens": 4000},
        {"id": "llama"},
    ],
}
OPENAI = {"OPENAI_API_KEY": "sk-test"}


def test_defaults_come_from_the_first_enabled_catalog_provider() -> None:
    """Catalog order decides; the provider's default large/small are used."""
    environ = {"DEEPSEEK_API_KEY": "d", **OPENAI}
    models = resolve_models(structure_config({}), environ)
    assert (models.large.provider_id, models.large.model.id) == ("openai", "gpt-5")
    assert models.small.model.id == "gpt-5-mini"
    assert models.large.selected.max_tokens == 128000
    assert models.large.selected.reasoning_effort == "medium"
    assert models.large.api_key == "sk-test"


def test_without_catalog_provider_the_smallest_id_and_its_first_model() -> None:
    """Only custom providers: the smallest id, its first model for both."""
    config = structure_config({"providers": {"zeta": LOCAL, "alpha": LOCAL}})
    models = resolve_models(config, {})
    assert models.large.provider_id == "alpha"
    assert models.large.model.id == "qwen"
    assert models.small.model.id == "qwen"
    assert models.large.selected.max_tokens == 4000


def test_configured_models_override_provider_and_model() -> None:
    """``models.large``/``small`` win; defaults fill max_tokens and effort."""
    config = structure_config(
        {
            "providers": {"local": LOCAL},
            "models": {
                "large": {"provider": "local", "model": "llama", "max_tokens": 77},
                "small": {"provider": "openai", "model": "gpt-4.1-mini"},
            },
        }
    )
    models = resolve_models(config, OPENAI)
    assert (models.large.provider_id, models.large.model.id) == ("local", "llama")
    assert models.large.selected.max_tokens == 77
    assert models.small.model.id == "gpt-4.1-mini"
    assert models.small.selected.max_tokens == 16384


def test_a_model_missing_from_its_provider_falls_back_to_the_default() -> None:
    """An unknown configured model becomes the default selection."""
    config = structure_config(
        {"models": {"large": {"provider": "openai", "model": "gpt-0"}}}
    )
    assert resolve_models(config, OPENAI).large.model.id == "gpt-5"


def test_small_not_configured_with_a_local_provider_is_the_large_model() -> None:
    """Rule 4: a local server is not asked for two different models."""
    config = structure_config(
        {
            "providers": {"local": LOCAL},
            "models": {"large": {"provider": "local", "model": "llama"}},
        }
    )
    models = resolve_models(config, {})
    assert models.small.model.id == "llama"
    assert models.small.provider_id == "local"


def test_small_not_configured_keeps_a_catalog_default() -> None:
    """With a catalog provider enabled, ``small`` stays the catalog's."""
    config = structure_config(
        {
            "providers": {"local": LOCAL},
            "models": {"large": {"provider": "local", "model": "llama"}},
        }
    )
    models = resolve_models(config, OPENAI)
    assert (models.small.provider_id, models.small.model.id) == ("openai", "gpt-5-mini")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "large model not selected"),
        (
            {"models": {"large": {"provider": "gone", "model": "x"}}},
            "large model provider not configured",
        ),
        (
            {
                "models": {
                    "large": {"provider": "gone", "model": "x"},
                    "small": {"provider": "gone", "model": "x"},
                }
            },
            "large model provider not configured",
        ),
    ],
)
def test_unusable_selection_fails_with_upstream_text(
    document: dict[str, object], message: str
) -> None:
    """Missing models and providers are 500s with upstream's messages."""
    with pytest.raises(ModelUnavailable) as info:
        resolve_models(structure_config(document), {})
    assert info.value.message == message
    assert info.value.status == 500


def test_small_model_of_a_disabled_provider_falls_back_to_the_default() -> None:
    """A configured small model whose provider is not enabled is replaced."""
    config = structure_config(
        {
            "providers": {"local": LOCAL},
            "models": {"small": {"provider": "anthropic", "model": "claude"}},
        }
    )
    small = resolve_models(config, {}).small
    assert (small.provider_id, small.model.id) == ("local", "qwen")


def test_reasoning_effort_and_request_options() -> None:
    """Effort: the selection's when listed, else the model's default."""
    config = structure_config(
        {
            "models": {
                "large": {
                    "provider": "openai",
                    "model": "gpt-5",
                    "reasoning_effort": "extreme",
                    "temperature": 0.2,
                }
            }
        }
    )
    large = resolve_models(config, OPENAI).large
    assert large.reasoning_effort == "medium"
    request = large.request((ChatMessage("user", "hi"),), headers={"x-a": "b"})
    assert request.model == "gpt-5"
    assert request.max_tokens == 128000
    assert request.temperature == 0.2
    assert request.top_p is None
    assert request.headers == {"x-a": "b"}


def test_model_without_output_cap_sends_none_and_no_effort() -> None:
    """A local model with no ``default_max_tokens`` leaves the cap out."""
    config = structure_config(
        {"providers": {"local": LOCAL}, "models": {"large": {"model": "llama"}}}
    )
    large = resolve_models(config, {}).large
    assert large.request(()).max_tokens is None
    assert large.reasoning_effort == ""


def test_default_small_model_for_a_catalog_provider() -> None:
    """The provider's catalog small model, with its cap and effort."""
    chosen = default_small_model(structure_config({}), OPENAI, "openai")
    assert chosen == SelectedModel(
        model="gpt-5-mini", provider="openai", max_tokens=128000, reasoning_effort="low"
    )


def test_default_small_model_for_unknown_provider_is_the_large_model() -> None:
    """Unknown or disabled providers get the current large selection."""
    config = structure_config({"providers": {"local": LOCAL}})
    chosen = default_small_model(config, {}, "local")
    assert (chosen.provider, chosen.model) == ("local", "qwen")
    assert default_small_model(config, {}, "anthropic").model == "qwen"
    assert default_small_model(structure_config({}), {}, "x") == SelectedModel()
