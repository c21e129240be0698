"""Redaction of secrets (decision B.22)."""

from __future__ import annotations

import json
from typing import Any

from crushd.config import MASK, looks_secret, mask, redact, redact_env_list

SECRET = "sk-live-abcdefghijklmnop-WXYZ"


def test_mask_keeps_last_four() -> None:
    """A secret becomes ``••••`` + its last 4 characters; short ones hide fully."""
    assert mask(SECRET) == MASK + "WXYZ"
    assert mask("abcd") == MASK
    assert mask("") == ""


def test_looks_secret_names() -> None:
    """KEY, TOKEN, SECRET and PASSWORD names look secret, case-insensitively."""
    assert all(
        map(looks_secret, ["api_key", "GH_TOKEN", "client_secret", "DB_Password"])
    )
    assert not looks_secret("PATH")


def test_redact_a_whole_config_hides_every_secret() -> None:
    """API keys, OAuth tokens, header values and secret env entries are masked."""
    document: Any = {
        "providers": {
            "p": {
                "api_key": SECRET,
                "base_url": "https://api.example",
                "extra_headers": {"X-Auth": SECRET + "1"},
                "oauth": {"access_token": SECRET + "2", "expires_in": 30},
                "models": [{"id": "m", "max_tokens": 100}],
            }
        },
        "mcp": {"m": {"env": {"GITHUB_TOKEN": SECRET + "3", "PATH": "/bin"}}},
        "env": {"OPENAI_API_KEY": SECRET + "4", "HOME": "/h"},
        "options": {"debug": True},
    }
    redacted: Any = redact(document)
    text = json.dumps(redacted)
    assert SECRET not in text
    assert isinstance(redacted, dict)
    provider = redacted["providers"]["p"]
    assert provider["api_key"] == MASK + "WXYZ"
    assert provider["extra_headers"] == {"X-Auth": MASK + "XYZ1"}
    assert provider["oauth"] == {"access_token": MASK + "XYZ2", "expires_in": 30}
    assert provider["base_url"] == "https://api.example"
    assert provider["models"] == [{"id": "m", "max_tokens": 100}]
    assert redacted["env"] == {"OPENAI_API_KEY": MASK + "XYZ4", "HOME": "/h"}
    assert redacted["mcp"]["m"]["env"]["PATH"] == "/bin"
    assert document["providers"]["p"]["api_key"] == SECRET


def test_redact_env_list() -> None:
    """``K=V`` entries with secret-looking names get their value masked."""
    assert redact_env_list(["A_TOKEN=" + SECRET, "PATH=/bin", "odd"]) == [
        "A_TOKEN=" + MASK + "WXYZ",
        "PATH=/bin",
        "odd",
    ]


def test_redact_lists_mask_only_inside_secret_objects() -> None:
    """Strings in plain lists stay; strings in a headers list are masked."""
    assert redact(["plain", {"headers": ["Bearer abcdefgh"]}]) == [
        "plain",
        {"headers": [MASK + "efgh"]},
    ]
