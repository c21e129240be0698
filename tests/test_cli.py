"""Tests for ``crushd.cli`` and ``crushd.logs``.

``crushd.cli``: flags and environment -> ``Settings``, ``--version``, and a start-up
that fails cleanly on a live socket. ``crushd.logs``: one-line records in a 0700
folder. No daemon is started: ``serve`` fails before ``trio.run``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from crushd import __version__
from crushd.cli import ENV_SECONDS, build_parser, main, serve, settings_from_args
from crushd.logs import setup_logging
from crushd.proto import default_host, parse_host
from crushd.settings import (
    DEFAULT_HEARTBEAT_SECONDS,
    DEFAULT_REPLAY_WINDOW_FRAMES,
    DEFAULT_SEND_TIMEOUT_SECONDS,
    Settings,
)

ENV_NAMES = list(ENV_SECONDS.values())
RECORD = re.compile(
    r"^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(?P<level>[A-Z]+)"
    r" logger=(?P<logger>\S+) pid=(?P<pid>\d+) msg=(?P<msg>.*)$"
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No timing variables leak in; caches and sockets resolve under tmp_path."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRUSH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/4242")


@pytest.fixture
def crushd_logger() -> Iterator[logging.Logger]:
    """Give the ``crushd`` logger back with its old handlers and level afterwards."""
    logger = logging.getLogger("crushd")
    handlers, level = list(logger.handlers), logger.level
    try:
        yield logger
    finally:
        for handler in logger.handlers[:]:
            if handler not in handlers:
                logger.removeHandler(handler)
                handler.close()
        logger.setLevel(level)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A private folder under /tmp short enough for a unix socket path."""
    path = Path(tempfile.mkdtemp(dir="/tmp"))  # short: sun_path is 104 bytes
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def parse(*argv: str) -> Settings:
    """Parse ``crushd serve <argv>`` into settings."""
    return settings_from_args(build_parser().parse_args(["serve", *argv]))


def test_main_version_prints_crushd_version(capsys: pytest.CaptureFixture[str]) -> None:
    """``crushd --version`` prints ``crushd <version>`` and exits 0."""
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"crushd {__version__}\n"


def test_main_without_command_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``crushd`` alone names the missing command and exits 2."""
    with pytest.raises(SystemExit) as caught:
        main([])
    assert caught.value.code == 2
    assert "command" in capsys.readouterr().err


def test_settings_from_args_defaults() -> None:
    """With no flags and no env every setting is its default, on the default host."""
    settings = parse()
    assert settings == Settings(hosts=(default_host(),))
    assert settings.heartbeat_seconds == DEFAULT_HEARTBEAT_SECONDS
    assert settings.replay_window_frames == DEFAULT_REPLAY_WINDOW_FRAMES
    assert settings.send_timeout_seconds == DEFAULT_SEND_TIMEOUT_SECONDS
    assert settings.log_level == "info"


def test_settings_from_args_reads_env_when_no_flag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The three timing variables are used when their flags are absent."""
    monkeypatch.setenv("CRUSH_SERVER_CREATE_GRACE", "1.5")
    monkeypatch.setenv("CRUSH_SERVER_DETACH_GRACE", "0")
    monkeypatch.setenv("CRUSH_SERVER_IDLE_TIMEOUT", "120")
    settings = parse()
    assert settings.create_grace_seconds == 1.5
    assert settings.detach_grace_seconds == 0.0
    assert settings.idle_timeout_seconds == 120.0


def test_settings_from_args_flags_override_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A flag wins over its variable, including an explicit 0."""
    for name in ENV_NAMES:
        monkeypatch.setenv(name, "99")
    settings = parse(
        "--create-grace", "2", "--detach-grace", "0", "--idle-timeout", "3"
    )
    assert settings.create_grace_seconds == 2.0
    assert settings.detach_grace_seconds == 0.0
    assert settings.idle_timeout_seconds == 3.0


def test_settings_from_args_invalid_env_gives_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A negative or non-numeric variable is ignored."""
    monkeypatch.setenv("CRUSH_SERVER_DETACH_GRACE", "-4")
    monkeypatch.setenv("CRUSH_SERVER_IDLE_TIMEOUT", "soon")
    settings = parse()
    assert settings.detach_grace_seconds == Settings().detach_grace_seconds
    assert settings.idle_timeout_seconds == Settings().idle_timeout_seconds


def test_settings_from_args_host_is_repeatable_and_ordered() -> None:
    """Each ``--host`` adds a listener, in the order given."""
    settings = parse("--host", "unix:///tmp/a.sock", "--host", "tcp://127.0.0.1:1")
    assert [h.url for h in settings.hosts] == [
        "unix:///tmp/a.sock",
        "tcp://127.0.0.1:1",
    ]


def test_settings_from_args_stream_flags() -> None:
    """Replay window, heartbeat, send timeout and log level are taken from flags."""
    settings = parse(
        "--replay-window",
        "16",
        "--heartbeat",
        "0.5",
        "--send-timeout",
        "1.25",
        "--log-level",
        "debug",
    )
    assert settings.replay_window_frames == 16
    assert settings.heartbeat_seconds == 0.5
    assert settings.send_timeout_seconds == 1.25
    assert settings.log_level == "debug"


def test_settings_from_args_connection_caps() -> None:
    """``--max-connections`` and ``--max-unauthenticated`` (default 512 and 64)."""
    assert (parse().max_connections, parse().max_unauthenticated) == (512, 64)
    settings = parse("--max-connections", "9", "--max-unauthenticated", "3")
    assert (settings.max_connections, settings.max_unauthenticated) == (9, 3)


def test_settings_from_args_log_format(capsys: pytest.CaptureFixture[str]) -> None:
    """``--log-format`` is ``text`` by default, ``json`` on request, else exit 2."""
    assert parse().log_format == "text"
    assert parse("--log-format", "json").log_format == "json"
    with pytest.raises(SystemExit) as exited:
        parse("--log-format", "xml")
    assert exited.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def test_settings_from_args_allow_remote_flag() -> None:
    """``--allow-remote`` is off by default and turned on by the flag."""
    assert not parse().allow_remote
    assert parse("--allow-remote").allow_remote


def test_settings_from_args_allow_host_and_debug_endpoints() -> None:
    """``--allow-host`` repeats into a tuple; ``--debug-endpoints`` is opt-in."""
    assert parse().allowed_hosts == ()
    assert not parse().debug_endpoints
    settings = parse("--allow-host", "box", "--allow-host", "[::1]:9000")
    assert settings.allowed_hosts == ("box", "[::1]:9000")
    assert parse("--debug-endpoints").debug_endpoints


def test_settings_from_args_rejects_bad_allow_host(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A malformed ``--allow-host`` is a usage error naming the value."""
    with pytest.raises(SystemExit):
        parse("--allow-host", "box:99999")
    assert "not a host name or name:port" in capsys.readouterr().err


def test_settings_from_args_adopts_listen_fds_without_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sockets systemd passed to this pid are the hosts unless --host is given."""
    monkeypatch.setenv("LISTEN_FDS", "2")
    monkeypatch.setenv("LISTEN_PID", str(os.getpid()))
    assert [h.url for h in parse().hosts] == ["fd://3", "fd://4"]
    assert [h.url for h in parse("--host", "fd://9").hosts] == ["fd://9"]
    monkeypatch.setenv("LISTEN_PID", str(os.getpid() + 1))
    assert parse().hosts == (default_host(),)


def test_main_forgets_listen_fds_variables(
    short_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    crushd_logger: logging.Logger,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``main`` drops the LISTEN_* variables so processes it starts never see them."""
    for name in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        monkeypatch.setenv(name, "1")
    path = short_dir / "crush.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as live:
        live.bind(os.fspath(path))
        live.listen()
        with pytest.raises(SystemExit):
            main(["serve", "--host", f"unix://{path}"])
    assert not {"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"} & set(os.environ)


def test_serve_refuses_non_loopback_tcp_without_allow_remote(
    crushd_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tcp host on every interface makes serve return 1, naming the flag."""
    assert serve(Settings(hosts=(parse_host("tcp://0.0.0.0:0"),))) == 1
    err = capsys.readouterr().err
    assert err.startswith("crushd: refusing to listen on tcp://0.0.0.0:0")
    assert "--allow-remote" in err


def test_serve_reports_an_unusable_token_file(
    tmp_path: Path, crushd_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tcp daemon whose token file is open to others returns 1, saying so."""
    token_file = tmp_path / "token"
    token_file.write_text("s3cret\n")
    token_file.chmod(0o644)
    settings = Settings(hosts=(parse_host("tcp://127.0.0.1:0"),), token_file=token_file)
    assert serve(settings) == 1
    assert "chmod 600" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--host", "localhost:80"],
        ["--host", "http://x"],
        ["--replay-window", "0"],
        ["--replay-window", "-1"],
        ["--replay-window", "1.5"],
        ["--replay-window", "many"],
        ["--heartbeat", "-1"],
        ["--heartbeat", "0"],
        ["--heartbeat", "nan"],
        ["--heartbeat", "often"],
        ["--send-timeout", "0"],
        ["--send-timeout", "-1"],
        ["--send-timeout", "inf"],
        ["--send-timeout", "nan"],
        ["--create-grace", "-1"],
        ["--detach-grace", "x"],
        ["--idle-timeout", "nan"],
        ["--log-level", "loud"],
        ["--max-connections", "0"],
        ["--max-unauthenticated", "x"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_build_parser_rejects_invalid_flags(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad flag value is an argparse usage error: exit 2 with a message."""
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["serve", *argv])
    assert caught.value.code == 2
    assert f"argument {argv[0]}" in capsys.readouterr().err


def test_build_parser_host_error_quotes_upstream_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bad ``--host`` reports ``invalid host format: <value>``."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--host", "nope"])
    assert "invalid host format: nope" in capsys.readouterr().err


def test_serve_refuses_a_live_socket(
    short_dir: Path,
    tmp_path: Path,
    crushd_logger: logging.Logger,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A daemon already listening on the path makes serve return 1, saying so."""
    path = short_dir / "crush.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as live:
        live.bind(os.fspath(path))
        live.listen()
        settings = Settings(hosts=(parse_host(f"unix://{path}"),))
        assert serve(settings) == 1
        assert path.exists()  # the other daemon's socket was left alone
    err = capsys.readouterr().err
    assert err.startswith("crushd: ")
    assert str(path) in err
    assert "already listening" in err
    assert settings.log_file.is_relative_to(tmp_path / "cache")
    assert "failed to start" in settings.log_file.read_text(encoding="utf-8")


def test_main_serve_exits_1_on_a_live_socket(
    short_dir: Path, crushd_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    """``crushd serve --host`` on a live socket exits with status 1."""
    path = short_dir / "crush.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as live:
        live.bind(os.fspath(path))
        live.listen()
        with pytest.raises(SystemExit) as caught:
            main(["serve", "--host", f"unix://{path}"])
    assert caught.value.code == 1
    assert "already listening" in capsys.readouterr().err


def test_serve_reports_an_unusable_log_folder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    crushd_logger: logging.Logger,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A cache path that is a file makes serve return 1 before binding."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("CRUSH_CACHE_DIR", str(blocker))
    assert serve(Settings(hosts=(parse_host("fd://999999"),))) == 1
    assert capsys.readouterr().err.startswith("crushd: ")


def test_setup_logging_writes_one_line_records(
    tmp_path: Path, crushd_logger: logging.Logger
) -> None:
    """Records are single ``ts=... level=... logger=... msg=...`` lines."""
    log_file = tmp_path / "server-x" / "crushd.log"
    setup_logging(log_file, "info")
    logging.getLogger("crushd.test").info("hello %s", "world")
    logging.getLogger("crushd.test").warning("two\nlines")
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first, second = (RECORD.match(line) for line in lines)
    assert first is not None
    assert second is not None
    assert (first["level"], first["logger"], first["msg"]) == (
        "INFO",
        "crushd.test",
        "'hello world'",
    )
    assert int(first["pid"]) == os.getpid()
    assert (second["level"], second["msg"]) == ("WARNING", r"'two\nlines'")


def test_setup_logging_creates_private_folder(
    tmp_path: Path, crushd_logger: logging.Logger
) -> None:
    """Missing parent folders are created and the log folder is mode 0700."""
    log_file = tmp_path / "a" / "b" / "crushd.log"
    setup_logging(log_file)
    assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700
    assert log_file.exists()


def test_setup_logging_level_filters_records(
    tmp_path: Path, crushd_logger: logging.Logger
) -> None:
    """Records below the configured level are not written."""
    log_file = tmp_path / "crushd.log"
    setup_logging(log_file, "WARNING")
    logging.getLogger("crushd.x").info("quiet")
    logging.getLogger("crushd.x").error("loud")
    text = log_file.read_text(encoding="utf-8")
    assert "quiet" not in text
    assert "level=ERROR" in text


def test_setup_logging_rejects_unknown_level(
    tmp_path: Path, crushd_logger: logging.Logger
) -> None:
    """An unknown level name is a ValueError and adds no handler."""
    before = list(crushd_logger.handlers)
    with pytest.raises(ValueError, match="unknown log level: loud"):
        setup_logging(tmp_path / "crushd.log", "loud")
    assert crushd_logger.handlers == before
