"""The embedded catalog and the configuration merged over it."""

from __future__ import annotations

import json
from pathlib import Path

import crushd.agent.providers as providers_pkg
from crushd.agent.providers import (
    CATWALK_MODEL_DEFAULTS,
    catalog_provider_entries,
    enabled_providers,
    load_catalog,
    model_from_json,
    with_catwalk_keys,
)
from crushd.config import structure_config

CATALOG_FILE = Path(providers_pkg.__file__).with_name("catalog.json")
LOCAL = {"type": "openai-compat", "base_url": "http://127.0.0.1:9/v1"}


def test_catalog_file_is_dated_and_complete() -> None:
    """Every provider and model carries the fields the resolver reads."""
    data = json.loads(CATALOG_FILE.read_text())
    assert data["updated"]
    ids = [p["id"] for p in data["providers"]]
    assert ids == ["anthropic", "openai", "gemini", "openrouter", "deepseek"]
    for provider in data["providers"]:
        model_ids = {m["id"] for m in provider["models"]}
        assert provider["default_large_model_id"] in model_ids
        assert provider["default_small_model_id"] in model_ids
        for model in provider["models"]:
            assert set(CATWALK_MODEL_DEFAULTS) <= set(model)
            assert model["context_window"] > 0
            assert model["default_max_tokens"] > 0
    assert sum(len(p["models"]) for p in data["providers"]) >= 12


def test_load_catalog_parses_every_model() -> None:
    """The loaded catalog mirrors the file."""
    catalog = load_catalog()
    openai = catalog.get("openai")
    assert openai is not None
    assert openai.api_key_env == "OPENAI_API_KEY"
    assert catalog.get("nope") is None
    gpt5 = next(m for m in openai.models if m.id == "gpt-5")
    assert gpt5.can_reason
    assert "medium" in gpt5.reasoning_levels


def test_known_provider_enabled_only_with_a_non_empty_key() -> None:
    """A catalog provider is enabled by its key variable, not by existing."""
    config = structure_config({})
    assert enabled_providers(config, {}) == {}
    assert enabled_providers(config, {"OPENAI_API_KEY": ""}) == {}
    environ = {"OPENAI_API_KEY": "sk-x", "DEEPSEEK_API_KEY": "d"}
    found = enabled_providers(config, environ)
    assert list(found) == ["openai", "deepseek"]
    assert found["openai"].api_key == "sk-x"
    assert "sk-x" not in repr(found["openai"])


def test_configured_key_and_disable_override_the_environment() -> None:
    """A configured key enables a known provider; ``disable`` removes it."""
    config = structure_config({"providers": {"openai": {"api_key": "sk-cfg"}}})
    assert enabled_providers(config, {})["openai"].api_key == "sk-cfg"
    off = structure_config({"providers": {"openai": {"disable": True}}})
    assert enabled_providers(off, {"OPENAI_API_KEY": "x"}) == {}


def test_configured_model_overrides_catalog_keys_one_by_one() -> None:
    """Naming a known model to change one value keeps its other facts."""
    config = structure_config(
        {
            "providers": {
                "openai": {
                    "base_url": "http://proxy/v1",
                    "extra_headers": {"X-A": "1", "X-Empty": ""},
                    "models": [
                        {"id": "gpt-5", "default_max_tokens": 1000},
                        {"id": "mine"},
                    ],
                }
            }
        }
    )
    openai = enabled_providers(config, {"OPENAI_API_KEY": "k"})["openai"]
    assert openai.base_url == "http://proxy/v1"
    assert dict(openai.extra_headers) == {"X-A": "1"}
    assert [m.id for m in openai.models][:2] == ["gpt-5", "mine"]
    gpt5 = openai.models[0]
    assert gpt5.default_max_tokens == 1000
    assert gpt5.cost_per_1m_in == 1.25
    assert openai.model("gpt-4.1") is not None


def test_custom_provider_needs_base_url_models_and_a_known_type() -> None:
    """Providers outside the catalog are skipped when unusable."""
    config = structure_config(
        {
            "providers": {
                "local": {**LOCAL, "models": [{"id": "m1"}]},
                "untyped": {"base_url": "http://x/v1", "models": [{"id": "m"}]},
                "nourl": {"type": "openai-compat", "models": [{"id": "m"}]},
                "nomodels": {**LOCAL},
                "weird": {**LOCAL, "type": "bedrock", "models": [{"id": "m"}]},
                "off": {**LOCAL, "disable": True, "models": [{"id": "m"}]},
            }
        }
    )
    found = enabled_providers(config, {})
    assert sorted(found) == ["local", "untyped"]
    assert found["untyped"].type == "openai-compat"
    assert found["local"].api_key == ""
    assert found["local"].model("m1") is not None


def test_model_from_json_is_lenient() -> None:
    """Wrong-typed fields count as missing; no id means no model."""
    assert model_from_json({"name": "x"}) is None
    assert model_from_json("gpt") is None
    model = model_from_json(
        {"id": "m", "context_window": "big", "can_reason": 1, "cost_per_1m_in": 2}
    )
    assert model is not None
    assert model.name == "m"
    assert model.context_window == 0
    assert model.can_reason is False
    assert model.cost_per_1m_in == 2.0


def test_provider_model_objects_always_carry_the_six_catwalk_keys() -> None:
    """A configured model object missing prices gets 0/false for them."""
    filled = with_catwalk_keys({"id": "m", "cost_per_1m_in": 3})
    assert filled["cost_per_1m_in"] == 3
    for key in (
        "cost_per_1m_out",
        "cost_per_1m_in_cached",
        "cost_per_1m_out_cached",
        "can_reason",
        "supports_attachments",
    ):
        assert key in filled


def test_catalog_entries_list_enabled_unconfigured_providers_without_keys() -> None:
    """The providers route can add enabled catalog providers, key not shown."""
    config = structure_config({"providers": {"openai": {"api_key": "sk-cfg"}}})
    environ = {"OPENAI_API_KEY": "sk-env", "GEMINI_API_KEY": "g-secret"}
    entries = catalog_provider_entries(config, environ)
    assert [e["id"] for e in entries] == ["gemini"]
    assert entries[0]["api_key"] == "$GEMINI_API_KEY"
    assert "g-secret" not in json.dumps(entries)
    models = entries[0]["models"]
    assert isinstance(models, list)
    assert set(CATWALK_MODEL_DEFAULTS) <= set(models[0])
