"""The provider configuration that points crushd at the replay server.

Upstream's shape (``providers.<id>`` with ``type``, ``base_url``, ``api_key``
and catwalk ``models[]``; ``models.large`` / ``models.small``), with the two
recorded models set up as upstream's recording test set them: context window
200 000 tokens, default max tokens 10 000, not reasoning models
(docs/agent.md section 7.8, per-scenario setup).
"""

from __future__ import annotations

import json
from pathlib import Path

from ._scenario import Scenario

#: The provider id the configuration uses.
PROVIDER_ID = "replay"
#: The key the configuration carries (the replay server accepts any).
API_KEY = "replay-key"

JSONObject = dict[str, object]


def _model(model_id: str) -> JSONObject:
    return {
        "id": model_id,
        "name": model_id,
        "context_window": 200_000,
        "default_max_tokens": 10_000,
        "can_reason": False,
        "supports_attachments": False,
    }


def provider_config(scenario: Scenario, base_url: str) -> JSONObject:
    """A ``crush.json`` document selecting the scenario's models on ``base_url``.

    Args:
        scenario: the recording (its large and small model names).
        base_url: ``ReplayServer.base_url(scenario.name)``.
    """
    provider = {
        "name": "Replay",
        "type": "openai-compat",
        "base_url": base_url,
        "api_key": API_KEY,
        "models": [_model(scenario.large), _model(scenario.small)],
    }
    return {
        "providers": {PROVIDER_ID: provider},
        "models": {
            "large": {"provider": PROVIDER_ID, "model": scenario.large},
            "small": {"provider": PROVIDER_ID, "model": scenario.small},
        },
    }


def write_provider_config(folder: Path, scenario: Scenario, base_url: str) -> Path:
    """Write ``<folder>/crush.json`` (a ``CRUSH_GLOBAL_CONFIG`` folder); return it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "crush.json"
    document = provider_config(scenario, base_url)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path
