"""Tests for ``crushd.settings``: env seconds, ``Settings`` paths and redaction."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from crushd.proto import parse_host
from crushd.settings import (
    DEFAULT_CREATE_GRACE_SECONDS,
    DEFAULT_DETACH_GRACE_SECONDS,
    DEFAULT_IDLE_TIMEOUT_SECONDS,
    Settings,
    default_token_file,
    listen_fds_hosts,
    seconds_from_env,
)

NAME = "CRUSH_SERVER_DETACH_GRACE"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5", 5.0),
        ("0.25", 0.25),
        ("0", 0.0),
        (" 2 ", 2.0),
        ("1e1", 10.0),
    ],
)
def test_seconds_from_env_parses_non_negative_floats(raw: str, expected: float) -> None:
    """Integers, floats and 0 (meaning immediate) are read as seconds."""
    assert seconds_from_env(NAME, 7.0, {NAME: raw}) == expected


@pytest.mark.parametrize(
    "raw", ["", "-1", "-0.5", "abc", "10s", "nan", "NaN", "-inf", "0x10"]
)
def test_seconds_from_env_falls_back_on_invalid_or_negative(raw: str) -> None:
    """Empty, negative, non-numeric and NaN values give the default."""
    assert seconds_from_env(NAME, 7.0, {NAME: raw}) == 7.0


def test_seconds_from_env_missing_variable_gives_default() -> None:
    """An unset variable gives the default."""
    assert seconds_from_env(NAME, 7.0, {}) == 7.0


def test_seconds_from_env_reads_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without an explicit mapping the process environment is read."""
    monkeypatch.setenv(NAME, "1.5")
    assert seconds_from_env(NAME, 7.0) == 1.5


def test_timing_defaults_are_decision_b21() -> None:
    """The three env-driven timings default to 30 / 10 / 60 seconds (B.21)."""
    assert (DEFAULT_CREATE_GRACE_SECONDS, DEFAULT_DETACH_GRACE_SECONDS) == (30, 10)
    assert DEFAULT_IDLE_TIMEOUT_SECONDS == 60
    settings = Settings()
    assert (
        settings.create_grace_seconds,
        settings.detach_grace_seconds,
        settings.idle_timeout_seconds,
    ) == (30, 10, 60)


def test_settings_log_file_is_in_first_hosts_server_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``log_file`` is ``<cache>/server-<safeHost>/crushd.log`` of the first host."""
    monkeypatch.setenv("CRUSH_CACHE_DIR", str(tmp_path))
    settings = Settings(
        hosts=(parse_host("unix:///tmp/crush-1000.sock"), parse_host("fd://3"))
    )
    expected = tmp_path / "server-unix____tmp_crush-1000.sock" / "crushd.log"
    assert settings.log_file == expected


def test_settings_default_host_is_the_default_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without hosts the settings listen on the default unix socket."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/4242")
    (host,) = Settings().hosts
    assert host.url.startswith("unix:///run/user/4242/crush-")


def test_settings_redacted_is_json_data_with_host_urls() -> None:
    """``redacted()`` lists host URLs and every setting, and encodes as JSON."""
    settings = Settings(
        hosts=(parse_host("tcp://127.0.0.1:1"), parse_host("fd://4")),
        create_grace_seconds=0.5,
        replay_window_frames=8,
        log_level="debug",
    )
    data = settings.redacted()
    assert data["hosts"] == ["tcp://127.0.0.1:1", "fd://4"]
    assert data["create_grace_seconds"] == 0.5
    assert data["replay_window_frames"] == 8
    assert data["log_level"] == "debug"
    assert set(data) == {
        "hosts",
        "create_grace_seconds",
        "detach_grace_seconds",
        "idle_timeout_seconds",
        "heartbeat_seconds",
        "replay_window_frames",
        "send_timeout_seconds",
        "log_level",
        "log_format",
        "allow_remote",
        "token_file",
        "allowed_hosts",
        "debug_endpoints",
        "max_connections",
        "max_unauthenticated",
    }
    assert json.loads(json.dumps(data)) == data


def test_settings_defaults_are_finite_and_positive() -> None:
    """Every default timing is a finite positive number of seconds."""
    data = Settings(hosts=(parse_host("fd://3"),)).redacted()
    for name, value in data.items():
        if name.endswith("_seconds"):
            assert isinstance(value, float)
            assert math.isfinite(value)
            assert value > 0, name


def test_default_token_file_is_under_xdg_state_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token lives at $XDG_STATE_HOME/crushd/token, the file crushctl reads."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_token_file() == tmp_path / "crushd" / "token"
    assert Settings().token_file == tmp_path / "crushd" / "token"


def test_listen_fds_hosts_adopts_fds_from_three() -> None:
    """LISTEN_FDS=n for our pid names fd://3 .. fd://3+n-1, in order."""
    env = {"LISTEN_FDS": "2", "LISTEN_PID": "77"}
    hosts = listen_fds_hosts(env, pid=77)
    assert [host.url for host in hosts] == ["fd://3", "fd://4"]


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"LISTEN_FDS": "1"},
        {"LISTEN_FDS": "1", "LISTEN_PID": "78"},
        {"LISTEN_FDS": "0", "LISTEN_PID": "77"},
        {"LISTEN_FDS": "x", "LISTEN_PID": "77"},
        {"LISTEN_FDS": "1", "LISTEN_PID": "-77"},
    ],
)
def test_listen_fds_hosts_ignores_sockets_not_for_us(env: dict[str, str]) -> None:
    """Missing, malformed or other-pid variables pass no sockets."""
    assert listen_fds_hosts(env, pid=77) == ()


def test_listen_fds_hosts_reads_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without arguments the real environment and os.getpid() are used."""
    monkeypatch.setenv("LISTEN_FDS", "1")
    monkeypatch.setenv("LISTEN_PID", str(os.getpid()))
    assert [host.url for host in listen_fds_hosts()] == ["fd://3"]


def test_lower_layers_take_settings_values_without_defaults() -> None:
    """serve_app, ConnectionLimits and RegistrySettings have no defaults of their own.

    Defaults live in ``Settings`` only; the daemon passes them down.
    """
    import inspect

    import attrs

    from crushd.registry import RegistrySettings
    from crushd.server import ConnectionLimits, ServerContext, serve_app

    required = {
        name
        for name, param in inspect.signature(serve_app).parameters.items()
        if param.default is inspect.Parameter.empty
    }
    assert {
        "graceful_timeout_seconds",
        "keep_alive_seconds",
        "send_timeout_seconds",
        "max_connections",
        "max_unauthenticated",
    } <= required
    defaults = {
        f.name: f.default
        for cls in (ConnectionLimits, RegistrySettings, ServerContext)
        for f in attrs.fields(cls)
        if cls is not ServerContext or f.name == "heartbeat_seconds"
    }
    assert [
        name for name, value in defaults.items() if value is not attrs.NOTHING
    ] == []
    assert (Settings().max_connections, Settings().max_unauthenticated) == (512, 64)
