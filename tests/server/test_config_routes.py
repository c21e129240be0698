"""Config, providers and project routes in process: shapes, events, failures."""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from crushd.config import ConfigSources, lock_path
from crushd.logs import setup_logging
from crushd.server import ServerContext, create_app

from .conftest import Harness

SECRET = "sk-test-0123456789-abcdefghij-SEC1"
HEADER_SECRET = "Bearer hdr-0123456789-SEC2"
ENV_SECRET = "env-0123456789-SEC3"
OAUTH_SECRET = "oauth-access-0123456789-SEC4"
CREATOR_SECRET = "creator-0123456789-SEC5"
PULLED_SECRET = "sk-pulled-0123456789-SEC6"
URL_SECRET = "url-pass-0123456789-SEC7"
QUERY_SECRET = "query-tok-0123456789-SEC8"
LIST_SECRET = "listed-0123456789-SEC9"
MCP_HEADER_SECRET = "mcp-hdr-0123456789-SECA"
SECRETS = (
    SECRET,
    HEADER_SECRET,
    ENV_SECRET,
    OAUTH_SECRET,
    CREATOR_SECRET,
    PULLED_SECRET,
    URL_SECRET,
    QUERY_SECRET,
    LIST_SECRET,
    MCP_HEADER_SECRET,
)


def new_id() -> str:
    return str(uuid.uuid4())


def write_json(path: Path, document: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


def _mkdir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def events(harness: Harness, ws: str, kind: str = "config_changed") -> list[Any]:
    log = harness.registry.get(ws).workspace.log
    frames = [json.loads(f) for f in log.read_ws(0).frames]
    return [f for f in frames if f["type"] == kind]


async def create(harness: Harness, path: Path, **extra: object) -> dict[str, Any]:
    _mkdir(path)
    body = {"path": str(path), "client_id": new_id(), **extra}
    status, answer = await harness.json("POST", "/v1/workspaces", body)
    assert status == 200, answer
    assert isinstance(answer, dict)
    return answer


async def post(harness: Harness, ws: str, route: str, body: object) -> tuple[int, Any]:
    return await harness.json("POST", f"/v1/workspaces/{ws}/{route}", body)


async def get(harness: Harness, ws: str, route: str) -> Any:
    path = f"/v1/workspaces/{ws}" + (f"/{route}" if route else "")
    status, body = await harness.json("GET", path)
    assert status == 200, body
    return body


@pytest.fixture
def two_projects(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "one", tmp_path / "two"


async def test_config_route_merges_global_and_workspace_files(
    harness: Harness, config_sources: ConfigSources, project: Path
) -> None:
    """GET config shows the global data config under the workspace config."""
    write_json(config_sources.global_data_file, {"options": {"debug": True}})
    write_json(project / ".crush" / "crush.json", {"options": {"debug_lsp": True}})
    ws = (await create(harness, project))["id"]
    options = (await get(harness, ws, "config"))["options"]
    assert options["debug"] is True
    assert options["debug_lsp"] is True
    assert options["data_directory"] == str(project / ".crush")
    assert (await get(harness, ws, ""))["debug"] is True


async def test_server_config_is_the_global_config_redacted(
    harness: Harness, config_sources: ConfigSources
) -> None:
    """GET /v1/config merges the machine layers, redacted, with the settings."""
    write_json(config_sources.global_file, {"providers": {"p": {"api_key": SECRET}}})
    write_json(config_sources.global_data_file, {"options": {"debug": True}})
    status, body = await harness.json("GET", "/v1/config")
    assert status == 200
    assert body["providers"] == {"p": {"api_key": "••••SEC1"}}
    assert body["options"]["debug"] is True
    assert isinstance(body["crushd"], dict)
    config_sources.global_file.write_text("[")
    status, body = await harness.json("GET", "/v1/config")
    assert status == 500
    assert str(config_sources.global_file) in body["message"]


async def test_server_config_without_sources_lists_only_settings(
    harness: Harness,
) -> None:
    """A context without config sources answers just the settings."""
    app = create_app(ServerContext(harness.registry, heartbeat_seconds=15))
    response = await app.test_client().get("/v1/config")
    assert await response.get_json() == {"crushd": {}}


async def test_server_config_adds_uptime_and_nulls_infinite_times(
    harness: Harness,
) -> None:
    """uptime_seconds is computed per request; an infinite linger is null (JSON)."""
    facts: dict[str, object] = {
        "pid": 7,
        "started_at": time.time() - 100.0,
        "idle_timeout_seconds": math.inf,
    }
    ctx = ServerContext(harness.registry, heartbeat_seconds=15, server_config=facts)
    response = await create_app(ctx).test_client().get("/v1/config")
    assert b"Infinity" not in await response.get_data()
    crushd = (await response.get_json())["crushd"]
    assert (crushd["pid"], crushd["idle_timeout_seconds"]) == (7, None)
    assert 100.0 <= crushd["uptime_seconds"] < 200.0


async def test_debug_flag_shows_in_the_config(harness: Harness, project: Path) -> None:
    """A workspace created with debug reports options.debug true."""
    ws = (await create(harness, project, debug=True))["id"]
    assert (await get(harness, ws, "config"))["options"]["debug"] is True


async def test_set_scope_workspace_reaches_only_its_workspace(
    harness: Harness, two_projects: tuple[Path, Path]
) -> None:
    """A scope-1 set writes <data_dir>/crush.json and notifies only that workspace."""
    one, two = two_projects
    ws1 = (await create(harness, one))["id"]
    ws2 = (await create(harness, two))["id"]
    body = {"scope": 1, "key": "options.tui.compact_mode", "value": True}
    assert await post(harness, ws1, "config/set", body) == (200, None)
    assert read_json(one / ".crush" / "crush.json") == {
        "options": {"tui": {"compact_mode": True}}
    }
    assert (await get(harness, ws1, "config"))["options"]["tui"]["compact_mode"]
    assert "tui" not in (await get(harness, ws2, "config"))["options"]
    assert [e["payload"] for e in events(harness, ws1)] == [
        {"type": "updated", "payload": {"workspace_id": ws1}}
    ]
    assert events(harness, ws2) == []


async def test_set_scope_global_reaches_every_workspace(
    harness: Harness, config_sources: ConfigSources, two_projects: tuple[Path, Path]
) -> None:
    """A scope-0 set writes the global data config; every workspace reloads once."""
    ws1 = (await create(harness, two_projects[0]))["id"]
    ws2 = (await create(harness, two_projects[1]))["id"]
    body = {"scope": 0, "key": "options.debug", "value": True}
    assert await post(harness, ws1, "config/set", body) == (200, None)
    assert read_json(config_sources.global_data_file) == {"options": {"debug": True}}
    for ws in (ws1, ws2):
        assert (await get(harness, ws, "config"))["options"]["debug"] is True
        assert len(events(harness, ws)) == 1
        assert events(harness, ws)[0]["payload"]["payload"] == {"workspace_id": ws}


async def test_remove_deletes_the_key_and_keeps_the_rest(
    harness: Harness, project: Path
) -> None:
    """config/remove deletes the dotted key; unknown keys in the file survive."""
    file = project / ".crush" / "crush.json"
    write_json(file, {"providers": {"openai": {"api_key": "x"}}, "custom": [1]})
    ws = (await create(harness, project))["id"]
    body = {"scope": 1, "key": "providers.openai"}
    assert await post(harness, ws, "config/remove", body) == (200, None)
    assert read_json(file) == {"providers": {}, "custom": [1]}
    assert len(events(harness, ws)) == 1


async def test_model_sets_choice_and_recent_models(
    harness: Harness, project: Path
) -> None:
    """config/model writes models.<type> and keeps recent_models newest first."""
    ws = (await create(harness, project))["id"]
    for name in ("a", "b", "a"):
        model = {"provider": "openai", "model": name}
        body = {"scope": 1, "model_type": "large", "model": model}
        assert await post(harness, ws, "config/model", body) == (200, None)
    config = await get(harness, ws, "config")
    assert config["models"] == {"large": {"provider": "openai", "model": "a"}}
    assert [m["model"] for m in config["recent_models"]["large"]] == ["a", "b"]
    assert len(events(harness, ws)) == 3


async def test_compact_writes_tui_compact_mode(harness: Harness, project: Path) -> None:
    """config/compact writes options.tui.compact_mode."""
    ws = (await create(harness, project))["id"]
    assert await post(harness, ws, "config/compact", {"scope": 1, "enabled": True}) == (
        200,
        None,
    )
    assert (await get(harness, ws, "config"))["options"]["tui"]["compact_mode"]
    assert len(events(harness, ws)) == 1


async def test_provider_key_string_and_oauth(harness: Harness, project: Path) -> None:
    """provider-key stores a string key, or an OAuth token with its access token."""
    ws = (await create(harness, project))["id"]
    file = project / ".crush" / "crush.json"
    body = {"scope": 1, "provider_id": "openai", "kind": "string", "api_key": SECRET}
    assert await post(harness, ws, "config/provider-key", body) == (200, None)
    assert read_json(file)["providers"]["openai"]["api_key"] == SECRET
    token = {"access_token": OAUTH_SECRET, "refresh_token": "r" * 12, "expires_in": 9}
    body = {"scope": 1, "provider_id": "hyper", "kind": "oauth", "api_key": token}
    assert await post(harness, ws, "config/provider-key", body) == (200, None)
    hyper = read_json(file)["providers"]["hyper"]
    assert hyper == {"api_key": OAUTH_SECRET, "oauth": token}
    shown = (await get(harness, ws, "config"))["providers"]
    assert shown["openai"]["api_key"] == "••••SEC1"
    assert shown["hyper"]["oauth"]["access_token"] == "••••SEC4"
    assert len(events(harness, ws)) == 2


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        (
            "config/provider-key",
            {"scope": 1, "provider_id": "p"},
            'unsupported api key kind ""',
        ),
        (
            "config/provider-key",
            {"scope": 1, "provider_id": "p", "kind": "string", "api_key": 5},
            "decode api key string: expected a JSON string",
        ),
        (
            "config/provider-key",
            {"scope": 1, "provider_id": "p", "kind": "oauth", "api_key": "x"},
            "decode api key oauth: expected a token object",
        ),
        (
            "config/provider-key",
            {"scope": 1, "provider_id": "", "kind": "string", "api_key": "x"},
            "provider_id is required",
        ),
        ("config/set", {"scope": 7, "key": "a", "value": 1}, "invalid config scope 7"),
        ("config/set", {"scope": 1, "key": "a..b", "value": 1}, "invalid config key"),
        (
            "config/model",
            {"scope": 1, "model_type": "huge", "model": {}},
            "unknown model type 'huge'",
        ),
        (
            "config/set",
            {"scope": 1, "key": "options.debug", "value": "yes"},
            "invalid config value:",
        ),
        ("config/set", {"scope": "1", "key": "a"}, "failed to decode request"),
        ("config/compact", "{", "failed to decode request"),
        (
            "config/set",
            {"scope": 1, "key": "options", "value": "x"},
            "$.options: expected a JSON object, got a string",
        ),
        (
            "config/set",
            {"scope": 0, "key": "providers.p", "value": ["x"]},
            "$.providers.p: expected a JSON object, got an array",
        ),
        (
            "config/remove",
            {"scope": 1, "key": ".".join(["a"] * 65)},
            "invalid config key: more than 64 dot-separated parts",
        ),
        ("config/set", '{"scope": 1, "key": "x", "value": NaN}', ""),
    ],
)
async def test_bad_mutation_is_400_and_changes_nothing(
    harness: Harness,
    project: Path,
    config_sources: ConfigSources,
    route: str,
    body: Any,
    message: str,
) -> None:
    """A rejected mutation answers 400, writes no file and publishes nothing."""
    ws = (await create(harness, project))["id"]
    status, answer = await post(harness, ws, route, body)
    assert status == 400
    assert message in answer["message"]
    assert not (project / ".crush" / "crush.json").exists()
    assert not config_sources.global_data_file.exists()
    assert events(harness, ws) == []


@pytest.fixture
def held_lock(project: Path) -> Iterator[None]:
    """Another process-like holder of the workspace config's lock."""
    file = project / ".crush" / "crush.json"
    file.parent.mkdir(parents=True)
    fd = os.open(lock_path(file), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    yield
    os.close(fd)


async def test_locked_config_is_503_and_publishes_nothing(
    harness: Harness,
    project: Path,
    held_lock: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the scope file stays locked past the deadline the set fails with 503."""
    # A short real deadline: a mock clock would also fire the create grace.
    monkeypatch.setattr("crushd.config._write.LOCK_TIMEOUT_SECONDS", 0.3)
    ws = (await create(harness, project))["id"]
    body = {"scope": 1, "key": "options.debug", "value": True}
    status, answer = await post(harness, ws, "config/set", body)
    assert status == 503
    assert "crush.json.lock" in answer["message"]
    assert not (project / ".crush" / "crush.json").exists()
    assert events(harness, ws) == []


@pytest.mark.parametrize("route", ["config/import-copilot", "config/refresh-oauth"])
async def test_out_of_scope_config_routes_are_501(
    harness: Harness, project: Path, route: str
) -> None:
    """import-copilot and refresh-oauth answer 501 and publish nothing."""
    ws = (await create(harness, project))["id"]
    body = {"scope": 0, "provider_id": "hyper"}
    assert await post(harness, ws, route, body) == (
        501,
        {"message": "not supported by crushd"},
    )
    assert events(harness, ws) == []


async def test_mutation_on_unknown_workspace_is_404(harness: Harness) -> None:
    """Config routes check the workspace first."""
    status, _ = await post(harness, new_id(), "config/set", {"scope": 1, "key": "a"})
    assert status == 404


async def test_providers_lists_configured_providers(
    harness: Harness, config_sources: ConfigSources, project: Path
) -> None:
    """GET providers gives each configured provider with its models, redacted.

    Every model carries the six catwalk keys clients decode (issue 13).
    """
    ws0 = (await create(harness, project))["id"]
    assert await get(harness, ws0, "providers") == []
    provider = {
        "name": "My AI",
        "base_url": "https://ai.example/v1",
        "type": "openai-compat",
        "api_key": SECRET,
        "extra_headers": {"Authorization": HEADER_SECRET},
        "models": [{"id": "m1", "name": "Model 1"}],
    }
    write_json(
        config_sources.global_file, {"providers": {"mine": provider, "bare": {}}}
    )
    other = await create(harness, project.parent / "other")
    assert await get(harness, other["id"], "providers") == [
        {"name": "bare", "id": "bare", "models": []},
        {
            "name": "My AI",
            "id": "mine",
            "api_key": "••••SEC1",
            "api_endpoint": "https://ai.example/v1",
            "type": "openai-compat",
            "models": [
                {
                    "cost_per_1m_in": 0.0,
                    "cost_per_1m_out": 0.0,
                    "cost_per_1m_in_cached": 0.0,
                    "cost_per_1m_out_cached": 0.0,
                    "can_reason": False,
                    "supports_attachments": False,
                    "id": "m1",
                    "name": "Model 1",
                }
            ],
            "default_headers": {"Authorization": "••••SEC2"},
        },
    ]


async def test_bad_config_file_fails_create_only_for_that_project(
    harness: Harness, tmp_path: Path
) -> None:
    """A broken crush.json makes that create a 500 naming it; others still work."""
    bad = tmp_path / "bad"
    write_json(bad / "crush.json", {"options": {"debug": "nope"}})
    status, body = await harness.json(
        "POST", "/v1/workspaces", {"path": str(bad), "client_id": new_id()}
    )
    assert status == 500
    assert body["message"] == (
        f"failed to initialize config: {bad / 'crush.json'}: $.options.debug:"
        " invalid value for type, expected bool"
    )
    assert harness.registry.workspaces() == []
    await create(harness, tmp_path / "good")


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (".".join(["a"] * 10_000), 1),  # used to be a bare 500, unwritten
        (".".join(["a"] * 500), 1),  # used to be written, bricking creates
        (".".join(["a"] * 40), _nested(40)),  # each part is fine, not the sum
    ],
)
async def test_deep_config_write_is_a_400_and_creates_keep_working(
    harness: Harness,
    config_sources: ConfigSources,
    project: Path,
    tmp_path: Path,
    key: str,
    value: object,
) -> None:
    """A deep global write is refused; every later create (and restart) still works.

    Found in issue 11: one deep key path written to the global data config
    made every workspace create fail with ``internal server error``.
    """
    ws = (await create(harness, project))["id"]
    status, answer = await post(
        harness, ws, "config/set", {"scope": 0, "key": key, "value": value}
    )
    assert status == 400
    assert "64" in answer["message"]
    assert not config_sources.global_data_file.exists()
    assert events(harness, ws) == []
    await create(harness, tmp_path / "next")


async def test_a_layer_too_deep_to_load_names_its_file(
    harness: Harness, config_sources: ConfigSources, tmp_path: Path
) -> None:
    """A hand-written layer nested 500 deep fails create with a 500 naming it."""
    deep = config_sources.global_data_file
    write_json(deep, _nested(500))
    status, body = await harness.json(
        "POST", "/v1/workspaces", {"path": str(tmp_path), "client_id": new_id()}
    )
    assert status == 500
    assert body["message"] == (
        f"failed to initialize config: {deep}: $: nested deeper than 64 levels"
    )
    assert harness.registry.workspaces() == []


async def test_a_reload_too_deep_to_load_keeps_the_last_good_config(
    harness: Harness,
    project: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A layer made too deep after create: the reload keeps the last good config.

    The write itself succeeds and publishes; the warning names the file.
    """
    ws = (await create(harness, project))["id"]
    deep = project / "crush.json"
    write_json(deep, _nested(500))
    body = {"scope": 1, "key": "options.debug", "value": True}
    assert await post(harness, ws, "config/set", body) == (200, None)
    assert len(events(harness, ws)) == 1
    assert "debug" not in (await get(harness, ws, "config"))["options"]
    assert f"{deep}: $: nested deeper than 64 levels" in caplog.text


async def test_project_init_flow(harness: Harness, project: Path) -> None:
    """needs-init is true for a project with files; init writes the flag once."""
    (project / "main.py").write_text("")
    ws = (await create(harness, project))["id"]
    assert await get(harness, ws, "project/needs-init") == {"needs_init": True}
    assert await post(harness, ws, "project/init", None) == (200, None)
    assert read_json(project / ".crush" / "init") == {"initialized": True}
    assert await get(harness, ws, "project/needs-init") == {"needs_init": False}
    assert len(events(harness, ws)) == 1
    prompt = (await get(harness, ws, "project/init-prompt"))["prompt"]
    assert "AGENTS.md" in prompt


@pytest.mark.parametrize(
    ("files", "expected"),
    [((), False), ((".hidden",), False), (("AGENTS.md", "x.py"), False)],
)
async def test_needs_init_false_cases(
    harness: Harness, project: Path, files: tuple[str, ...], expected: bool
) -> None:
    """An empty folder, only hidden files, or a context file need no init."""
    for name in files:
        (project / name).write_text("")
    ws = (await create(harness, project))["id"]
    assert await get(harness, ws, "project/needs-init") == {"needs_init": expected}


# -- redaction across every route -------------------------------------------


def _fill(rule: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        rule = rule.replace(f"<{name}>", value)
    return rule


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """The daemon's log handlers on a file under ``tmp_path``, removed after."""
    path = tmp_path / "logs" / "crushd.log"
    root = logging.getLogger("crushd")
    before, level = list(root.handlers), root.level
    setup_logging(path, "debug")
    yield path
    for handler in root.handlers[len(before) :]:
        handler.close()
    root.handlers[:] = before
    root.setLevel(level)


def _secret_config(config_sources: ConfigSources, project: Path) -> None:
    """Secrets in every carrier issue 11 found: keys, headers, URLs, ``$VAR``."""
    provider = {
        "api_key": "$MY_API_KEY",
        "extra_headers": {"X-Auth": HEADER_SECRET},
        "oauth": {"access_token": OAUTH_SECRET},
        "base_url": f"https://user:{URL_SECRET}@api.example/v1",
        "api_keys": [LIST_SECRET, {"backup": LIST_SECRET}],
    }
    mcp = {
        "url": f"https://mcp.example/sse?token={QUERY_SECRET}&v=2",
        "headers": {"Authorization": f"Bearer {MCP_HEADER_SECRET}"},
        "args": ["-H", f"X-Api-Key: {MCP_HEADER_SECRET}"],
    }
    write_json(
        config_sources.global_file,
        {
            "providers": {"p": provider},
            "mcp": {"m": mcp},
            "env": {"SERVICE_TOKEN": ENV_SECRET},
        },
    )
    # A project layer pulls a daemon secret into a field no rule knows.
    write_json(project / "crush.json", {"options": {"title_hint": "$OPENAI_API_KEY"}})
    # The user's own script fails, printing a secret, when asked to.
    config_sources.global_script.write_text(
        'if [ -f "$PWD/fail" ]; then echo "boom $OPENAI_API_KEY" >&2; exit 1; fi\n'
        "echo '{}'\n"
    )


async def test_no_route_ever_answers_a_configured_secret(
    harness: Harness,
    config_sources: ConfigSources,
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    log_file: Path,
) -> None:
    """Every route's answer, every event and every log line hides the secrets.

    Carriers: secret keys, header objects and header lines, URL userinfo,
    query tokens, lists and objects under a secret key, and a daemon secret
    pulled by a project layer into an arbitrary field with ``$VAR``; read
    back through every route, the event stream (SSE and WebSocket frames),
    a failing script's error and the log file.
    """
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("MY_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_API_KEY", PULLED_SECRET)
    _secret_config(config_sources, project)
    created = await create(harness, project, env=[f"DEPLOY_TOKEN={CREATOR_SECRET}"])
    ws = created["id"]
    title = f"about {PULLED_SECRET}"
    _, session = await post(harness, ws, "sessions", {"title": title})
    ids = {
        "workspace_id": ws,
        "session_id": session["id"],
        "client_id": new_id(),
        "lsp": "x",
    }
    bodies = [json.dumps(created, ensure_ascii=False)]
    for rule in harness.app.url_map.iter_rules():
        not_json = ("/events", "/ws", "/docs/", "/metrics")
        if rule.rule.endswith(not_json) or "control" in rule.rule:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            path = _fill(rule.rule, ids)
            _, body = await harness.json(method, path, {"scope": 1, "key": "k"})
            bodies.append(json.dumps(body, ensure_ascii=False))
    # A failing script's stderr comes back in the create's 500 and the log.
    (config_sources.global_script.parent / "fail").touch()
    status, failed = await harness.json(
        "POST", "/v1/workspaces", {"path": str(tmp_path), "client_id": new_id()}
    )
    assert status == 500
    bodies.append(json.dumps(failed, ensure_ascii=False))
    log = harness.registry.get(ws).workspace.log
    bodies.extend(log.read_ws(0).frames)
    bodies.append(log.read_sse(0).data.decode())
    bodies.extend(record.getMessage() for record in caplog.records)
    for handler in logging.getLogger("crushd").handlers:
        handler.flush()
    bodies.append(_text(log_file))
    text = "\n".join(bodies)
    for secret in SECRETS:
        assert secret not in text
    assert "••••SEC1" in text  # the key was there, redacted
    assert "DEPLOY_TOKEN=••••SEC5" in text
    assert "••••SEC6" in text  # the pulled secret: config, session, events, log
    assert '"title":"about ••••SEC6"' in text  # the session event
    assert "boom ••••SEC6" in failed["message"]


async def test_cancelled_mutation_still_writes_and_publishes_together(
    harness: Harness, project: Path
) -> None:
    """A client leaving mid-mutation never splits the written file from its event."""
    ws = (await create(harness, project))["id"]
    file = project / ".crush" / "crush.json"
    fd = os.open(lock_path(file), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    body = {"scope": 1, "key": "options.debug", "value": True}
    async with trio.open_nursery() as nursery:
        nursery.start_soon(post, harness, ws, "config/set", body)
        await trio.sleep(0.1)  # the request waits for the lock now
        nursery.cancel_scope.cancel()
        os.close(fd)  # the lock frees after the client gave up
    assert read_json(file) == {"options": {"debug": True}}
    assert len(events(harness, ws)) == 1
