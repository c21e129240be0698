"""Redaction of secrets (decision B.22)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crushd.config import (
    MASK,
    looks_secret,
    mask,
    mask_in_text,
    redact,
    redact_env_list,
)

SECRET = "sk-live-abcdefghijklmnop-WXYZ"


def test_mask_keeps_last_four() -> None:
    """A secret becomes ``••••`` + its last 4 characters; short ones hide fully."""
    assert mask(SECRET) == MASK + "WXYZ"
    assert mask("abcd") == MASK
    assert mask("") == ""


def test_short_secrets_show_no_characters() -> None:
    """Only values of 16+ characters keep their last 4; shorter ones are ``••••``."""
    assert mask("a" * 15) == MASK
    assert mask("abcdefghijkl1234") == MASK + "1234"
    assert redact({"api_key": "pw-123456"}) == {"api_key": MASK}


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
    assert redact(["plain", {"headers": ["Bearer abcdefghij"]}]) == [
        "plain",
        {"headers": [MASK + "ghij"]},
    ]


@pytest.mark.parametrize(
    "name",
    [
        "GITHUB_PAT",
        "pat",
        "MY_PAT_VALUE",
        "SESSION_COOKIE",
        "GOOGLE_CREDENTIALS",
        "BASIC_AUTH",
        "Authorization",
        "proxy-authorisation",
        "X-Auth",
        "oauth",
        "db_passphrase",
    ],
)
def test_secret_names_cover_auth_pat_cookie_credential(name: str) -> None:
    """The broader name pattern: AUTH, the word PAT, COOKIE, CREDENTIAL."""
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name", ["PATH", "MANPATH", "PYTHONPATH", "pattern", "compat", "GIT_AUTHOR_NAME"]
)
def test_path_and_author_do_not_look_secret(name: str) -> None:
    """PAT is a whole word only and AUTHOR is not AUTH: PATH is no secret."""
    assert not looks_secret(name)


def test_redact_masks_whole_values_under_secret_keys() -> None:
    """Every string in lists and objects under a secret-named key is masked."""
    document = {
        "api_keys": [SECRET, "short-pw"],
        "credentials": {"user": "bob", "nested": [{"deep": SECRET + "9"}]},
        "auth": {"type": "bearer", "retries": 3, "on": True},
        "max_tokens": 100,
    }
    assert redact(document) == {
        "api_keys": [MASK + "WXYZ", MASK],
        "credentials": {"user": MASK, "nested": [{"deep": MASK + "XYZ9"}]},
        "auth": {"type": MASK, "retries": 3, "on": True},
        "max_tokens": 100,
    }


def test_redact_masks_secret_headers_anywhere() -> None:
    """``Authorization``/``*-Key``/``*-Token`` keys and header lines, anywhere."""
    document = {
        "mcp": {
            "m": {
                "http": {"Authorization": "Bearer " + SECRET, "Accept": "a/b"},
                "args": ["-H", "X-Api-Key: " + SECRET, "-H", "Accept: text/plain"],
            }
        },
        "options": {"x-session-token": SECRET},
    }
    redacted: Any = redact(document)
    assert redacted["mcp"]["m"]["http"] == {
        "Authorization": MASK + "WXYZ",
        "Accept": "a/b",
    }
    assert redacted["mcp"]["m"]["args"] == [
        "-H",
        "X-Api-Key: " + MASK + "WXYZ",
        "-H",
        "Accept: text/plain",
    ]
    assert redacted["options"] == {"x-session-token": MASK + "WXYZ"}


def test_redact_masks_url_userinfo_and_secret_query_parameters() -> None:
    """URL passwords and ``api_key=``/``key=``/``token=`` values hide in any string."""
    document = {
        "providers": {
            "p": {
                "base_url": f"https://user:{SECRET}@api.example/v1?key={SECRET}&x=1",
            }
        },
        "mcp": {"m": {"url": f"https://{SECRET}@example.org/sse?token=abc123456&v=2"}},
        "lsp": {"l": {"command": f"srv --url=wss://h/?api_key={SECRET}#frag"}},
    }
    redacted: Any = redact(document)
    assert redacted["providers"]["p"]["base_url"] == (
        f"https://user:{MASK}WXYZ@api.example/v1?key={MASK}WXYZ&x=1"
    )
    assert redacted["mcp"]["m"]["url"] == (
        f"https://{MASK}WXYZ@example.org/sse?token={MASK}&v=2"
    )
    assert redacted["lsp"]["l"]["command"] == (
        f"srv --url=wss://h/?api_key={MASK}WXYZ#frag"
    )


def test_mask_in_text_leaves_ordinary_text_alone() -> None:
    """Plain URLs, non-secret parameters and ordinary colons are untouched."""
    for text in [
        "https://example.org/a?page=2&sort=asc",
        "ssh git@example.org",
        "note: keep it simple",
        "PATH=/usr/bin:/bin",
    ]:
        assert mask_in_text(text) == text


def test_redact_env_list_masks_url_passwords() -> None:
    """A ``*_URL`` entry keeps its host but not the password in its userinfo."""
    assert redact_env_list([f"DATABASE_URL=postgres://app:{SECRET}@db/x"]) == [
        f"DATABASE_URL=postgres://app:{MASK}WXYZ@db/x"
    ]
    assert redact_env_list(["GITHUB_PAT=" + SECRET]) == ["GITHUB_PAT=" + MASK + "WXYZ"]
