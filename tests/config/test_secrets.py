"""Known secret values: masked wherever they turn up in text (issue 11, D)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from crushd.config import (
    MASK,
    MIN_SECRET_CHARS,
    forget_secrets,
    remember_environ,
    remember_secrets,
    scrub_known_secret_bytes,
    scrub_known_secrets,
    scrub_secrets,
    secrets_in_document,
    secrets_in_environ,
)

SECRET = "sk-live-abcdefghijklmnop-WXYZ"


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    """Each test starts and ends with none of its sources known."""
    yield
    for source in ("test", "other", "environ"):
        forget_secrets(source)


def test_scrub_masks_a_known_secret_in_any_text() -> None:
    """A remembered value is masked wherever it sits; other text is untouched."""
    text = f'{{"title_hint":"{SECRET}","n":"x-{SECRET}-y"}}'
    assert scrub_known_secrets(text) == text
    remember_secrets("test", [SECRET])
    assert scrub_known_secrets(text) == (
        f'{{"title_hint":"{MASK}WXYZ","n":"x-{MASK}WXYZ-y"}}'
    )
    assert scrub_known_secrets("nothing here") == "nothing here"
    data = text.encode()
    assert scrub_known_secret_bytes(data) == scrub_known_secrets(text).encode()


def test_scrub_masks_the_json_spelling_of_a_secret() -> None:
    """A secret with a quote or backslash is found in JSON text and stays JSON."""
    odd = 'pa"ss\\word-0123456789'
    remember_secrets("test", [odd])
    encoded = json.dumps({"v": odd, "w": "ok"}, ensure_ascii=False)
    scrubbed = scrub_known_secrets(encoded)
    assert json.loads(scrubbed) == {"v": MASK + "6789", "w": "ok"}


def test_short_values_are_never_known_secrets() -> None:
    """Values under MIN_SECRET_CHARS would mask ordinary words: they are ignored."""
    short = "x" * (MIN_SECRET_CHARS - 1)
    remember_secrets("test", [short, "true"])
    assert scrub_known_secrets(f"{short} true") == f"{short} true"


def test_a_source_is_replaced_and_forgotten_as_a_whole() -> None:
    """Remembering a source again drops its old values; other sources stay."""
    remember_secrets("test", ["first-secret-1"])
    remember_secrets("other", ["other-secret-2"])
    remember_secrets("test", ["second-secret-3"])
    text = "first-secret-1 other-secret-2 second-secret-3"
    assert scrub_known_secrets(text) == f"first-secret-1 {MASK} {MASK}"
    forget_secrets("other")
    forget_secrets("test")
    assert scrub_known_secrets(text) == text


def test_longest_secret_wins() -> None:
    """A secret that contains another is masked whole."""
    remember_secrets("test", ["abcdefgh", "abcdefgh-and-more-0001"])
    assert scrub_known_secrets("[abcdefgh-and-more-0001]") == f"[{MASK}0001]"


def test_secrets_in_environ_uses_the_broad_names_but_not_locations() -> None:
    """Secret-looking names and URL passwords count; PATH and *_SOCK do not."""
    environ = {
        "OPENAI_API_KEY": SECRET,
        "GITHUB_PAT": "ghp-0123456789",
        "SESSION_COOKIE": "cookie-0123456789",
        "DATABASE_URL": "postgres://app:db-password-1@db/x",
        "PATH": "/usr/local/bin:/usr/bin",
        "SSH_AUTH_SOCK": "/run/user/0/ssh-agent.sock",
        "GIT_AUTHOR_NAME": "Ada Lovelace",
    }
    assert secrets_in_environ(environ) == {
        SECRET,
        "ghp-0123456789",
        "cookie-0123456789",
        "db-password-1",
    }


def test_remember_environ_masks_an_env_secret_pulled_anywhere() -> None:
    """``"title_hint": "$OPENAI_API_KEY"``: the env value is masked in any text."""
    remember_environ({"OPENAI_API_KEY": SECRET, "HOME": "/home/someone"})
    answer = json.dumps({"options": {"title_hint": SECRET}, "home": "/home/someone"})
    assert SECRET not in scrub_known_secrets(answer)
    assert "/home/someone" in scrub_known_secrets(answer)


def test_secrets_in_document_takes_secret_keys_and_inline_secrets() -> None:
    """Strings under secret keys, URL passwords and token parameters are found."""
    document = {
        "providers": {
            "p": {
                "api_key": SECRET,
                "oauth": {"access_token": "oauth-0123456789", "expires_in": 3},
                "extra_headers": {
                    "Content-Type": "application/json",
                    "X-Api-Key": "hdr-0123456789",
                },
                "base_url": "https://u:url-password-1@h/?token=tok-0123456789",
            }
        },
    }
    assert secrets_in_document(document) == {
        SECRET,
        "oauth-0123456789",
        "hdr-0123456789",
        "url-password-1",
        "tok-0123456789",
    }


def test_scrub_secrets_masks_known_and_inline_secrets() -> None:
    """For logs and script stderr: known values and inline URL/header secrets."""
    remember_secrets("test", [SECRET])
    line = f"curl -H 'Authorization: Bearer x' https://u:pw-0123456789@h?k={SECRET}"
    scrubbed = scrub_secrets(line)
    assert SECRET not in scrubbed
    assert "pw-0123456789" not in scrubbed
    assert "Bearer x" not in scrubbed
