"""``crushctl config get|set|unset`` and the watch line of config_changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from crushctl import CrushctlError
from crushctl.cli import main_async
from crushctl.cli._config import lookup, parse_value
from crushctl.cli._watch import event_line
from crushd.proto import Event

HOST = "unix:///tmp/crushctl-test.sock"
CONFIG = {"options": {"debug": True, "initialize_as": "AGENTS.md"}}


class Fake:
    """crushd's config routes; records mutation bodies."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == "/v1/workspaces":
            return httpx.Response(200, json={"id": "w1", "path": "/p"})
        if request.method == "GET" and path == "/v1/workspaces/w1/config":
            return httpx.Response(200, json=CONFIG)
        if request.method == "POST":
            self.posts.append((path, json.loads(request.content)))
        return httpx.Response(200)


async def run(fake: Fake, *argv: str) -> int:
    return await main_async(
        ["--host", HOST, *argv], transport=httpx.MockTransport(fake)
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("12", 12), ('{"a": [1]}', {"a": [1]}), ("hello", "hello")],
)
def test_parse_value_json_else_string(text: str, value: object) -> None:
    """VALUE is parsed as JSON, falling back to the text itself."""
    assert parse_value(text) == value


async def test_get_whole_config_and_one_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """get prints the config as JSON, a string key as plain text, others as JSON."""
    fake = Fake()
    assert await run(fake, "config", "get", "--cwd", str(tmp_path)) == 0
    assert json.loads(capsys.readouterr().out) == CONFIG
    assert await run(fake, "config", "get", "options.initialize_as") == 0
    assert capsys.readouterr().out == "AGENTS.md\n"
    assert await run(fake, "--json", "config", "get", "options.initialize_as") == 0
    assert capsys.readouterr().out.strip() == '"AGENTS.md"'
    assert await run(fake, "config", "get", "options.debug") == 0
    assert capsys.readouterr().out.strip() == "true"


async def test_get_missing_key_fails(capsys: pytest.CaptureFixture[str]) -> None:
    """A key that is not set exits 1 with a message."""
    assert await run(Fake(), "config", "get", "options.nope.deeper") == 1
    assert (
        capsys.readouterr().err == "crushctl: config key not set: options.nope.deeper\n"
    )


async def test_set_and_unset_choose_the_scope(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """set/unset write scope 1 by default and scope 0 with --global."""
    fake = Fake()
    assert await run(fake, "config", "set", "options.debug", "true") == 0
    assert capsys.readouterr().out == "set options.debug = true (workspace config)\n"
    assert await run(fake, "config", "set", "--global", "a.b", "text") == 0
    assert capsys.readouterr().out == 'set a.b = "text" (global config)\n'
    assert await run(fake, "--json", "config", "unset", "--global", "a.b") == 0
    assert json.loads(capsys.readouterr().out) == {
        "action": "unset",
        "key": "a.b",
        "scope": 0,
    }
    assert await run(fake, "--json", "config", "set", "k", "1") == 0
    assert json.loads(capsys.readouterr().out)["value"] == 1
    assert [p for p, _ in fake.posts if p.endswith("/config/set")] == [
        "/v1/workspaces/w1/config/set"
    ] * 3
    assert fake.posts[0][1] == {"scope": 1, "key": "options.debug", "value": True}
    assert fake.posts[1][1] == {"scope": 0, "key": "a.b", "value": "text"}
    assert fake.posts[2] == (
        "/v1/workspaces/w1/config/remove",
        {"scope": 0, "key": "a.b"},
    )


def test_lookup_walks_dotted_keys() -> None:
    """lookup follows each part; a scalar in the way means not set."""
    assert lookup({"a": {"b": 1}}, "a.b") == 1
    with pytest.raises(CrushctlError, match=r"not set: a\.b\.c"):
        lookup({"a": {"b": 1}}, "a.b.c")


def test_watch_line_for_config_changed() -> None:
    """watch prints config_changed with the workspace and how to refetch."""
    event = Event("config_changed", "updated", {"workspace_id": "w1"}, id=7)
    assert event_line(event) == (
        "#7 config_changed updated workspace=w1 (crushctl config get)"
    )


async def test_set_never_echoes_a_secret(capsys: pytest.CaptureFixture[str]) -> None:
    """``config set`` prints a key's value masked, as the daemon would show it."""
    fake = Fake()
    key = "sk-echoed-0123456789-abcd"
    assert await run(fake, "config", "set", "providers.x.api_key", key) == 0
    assert await run(fake, "--json", "config", "set", "providers.x.api_key", key) == 0
    headers = '{"Authorization": "Bearer 0123456789abcdef-xyz"}'
    assert await run(fake, "config", "set", "providers.x.extra_headers", headers) == 0
    out = capsys.readouterr().out
    assert key not in out
    assert "0123456789abcdef" not in out
    assert 'set providers.x.api_key = "••••abcd" (workspace config)' in out
    assert fake.posts[0][1]["value"] == key  # the daemon gets the real value
