"""crushctl's entry point: exit codes and one-line errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile

import pytest
import trio

import crushctl.cli._main as cli_main
from crushctl import client_version
from crushctl.cli import build_parser, main


def test_main_not_running_default_host(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --no-spawn and no daemon at the default socket: one line, exit 1."""
    runtime = tempfile.mkdtemp(dir="/tmp")
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    url = f"unix://{runtime}/crush-{os.getuid()}.sock"
    assert main(["--no-spawn", "status"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"crushctl: crushd is not running at {url}; start it with: crushd serve\n"
    )


def test_main_not_running_other_host(capsys: pytest.CaptureFixture[str]) -> None:
    """With --no-spawn and --host pointing nowhere the hint names that host."""
    url = f"unix://{tempfile.mkdtemp(dir='/tmp')}/x.sock"
    assert main(["--host", url, "workspaces", "--no-spawn"]) == 1
    assert capsys.readouterr().err == (
        f"crushctl: crushd is not running at {url}; "
        f"start it with: crushd serve --host {url}\n"
    )


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("nonsense", "invalid host format: nonsense"),
        ("fd://3", "cannot connect to fd://3: use a unix:// or tcp:// host"),
        ("tcp://127.0.0.1:notaport", "Invalid port: 'notaport'"),
        ("unix://", "invalid host format: unix://"),
    ],
)
@pytest.mark.parametrize("where", ["before", "after"])
def test_main_bad_host_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], host: str, message: str, where: str
) -> None:
    """An unusable --host is an argparse error (exit 2), never a traceback."""
    argv = (
        ["--host", host, "version"]
        if where == "before"
        else ["version", "--host", host]
    )
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.endswith(f"error: argument --host: {message}\n")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["sessions", "--cwd", "/no/such/folder"],
        ["run", "--cwd", "/no/such/folder", "hi"],
        ["config", "get", "--cwd", "/no/such/folder"],
        ["sessions", "new", "--cwd", "/dev/null", "T"],
    ],
)
def test_main_cwd_must_be_an_existing_folder(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """A mistyped --cwd exits 2 with a clear error, before any daemon is asked."""
    assert main(["--no-spawn", *argv]) == 2
    err = capsys.readouterr().err
    assert "error: argument --cwd: " in err
    assert err.rstrip().endswith(
        ("no such folder: /no/such/folder", "not a folder: /dev/null")
    )


def test_main_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    """``crushctl --version`` prints crushctl's version and exits 0."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"crushctl {client_version()}\n"


def test_main_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing or unknown command is a usage error (exit 2); --help exits 0."""
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["sessions", "new"]) == 2
    assert "usage: crushctl" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "watch" in capsys.readouterr().out


def test_main_ctrl_c_exits_130_quietly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT during a command exits 130 with nothing printed."""

    async def interrupted(*args: object, **kwargs: object) -> int:
        signal.raise_signal(signal.SIGINT)
        await trio.sleep_forever()
        raise AssertionError("not reached")

    monkeypatch.setattr(cli_main, "main_async", interrupted)
    assert main(["status"]) == 130
    assert capsys.readouterr() == ("", "")


def test_parser_common_options_after_command() -> None:
    """--host and --json work after the command too; --cwd before ``new`` is kept."""
    args = build_parser().parse_args(
        ["sessions", "--cwd", "/tmp", "new", "T", "--json", "--host", "tcp://h:1"]
    )
    assert (args.cwd, args.title, args.json, args.host) == (
        "/tmp",
        "T",
        True,
        "tcp://h:1",
    )


_PIPE_SCRIPT = """
import crushctl.cli._main as cli_main

async def chatty(argv):
    for _ in range(100_000):
        print("line of output")
    return 0

cli_main.main_async = chatty
raise SystemExit(cli_main.main(["status"]))
"""


def test_main_reader_closing_stdout_exits_141_quietly() -> None:
    """A closed stdout pipe (``| head``) ends crushctl with 141 and no traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _PIPE_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.read(10) == b"line of ou"
    proc.stdout.close()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 141
    assert b"Traceback" not in stderr
    assert stderr == b""
