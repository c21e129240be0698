"""crushctl logs, completion and the rich terminal output."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import trio
import trio.testing

from crushctl import RunResult, TextChunk
from crushctl.cli import main_async
from crushctl.cli._completion import completion_script
from crushctl.cli._logs import follow
from crushctl.cli._rich import print_rich_table, spinner
from crushctl.cli._run_output import RunPrinter
from crushd.proto import parse_host, server_dir

HOST = "unix:///tmp/crushctl-tools-test.sock"


def config_answer(log_file: Path | None) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("GET", "/v1/config")
        if log_file is None:
            raise httpx.ConnectError("[Errno 2] No such file or directory")
        return httpx.Response(200, json={"crushd": {"log_file": str(log_file)}})

    return httpx.MockTransport(handle)


async def test_logs_prints_the_file_the_daemon_names(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """logs prints the daemon's log file; -n N only its last N lines."""
    log = tmp_path / "crushd.log"
    log.write_bytes(b"one\ntwo\nthree\n")
    transport = config_answer(log)
    assert await main_async(["--host", HOST, "logs"], transport=transport) == 0
    assert capsysbinary.readouterr().out == b"one\ntwo\nthree\n"
    assert (
        await main_async(["--host", HOST, "logs", "-n", "2"], transport=transport) == 0
    )
    assert capsysbinary.readouterr().out == b"two\nthree\n"


async def test_logs_without_a_daemon_reads_the_hosts_usual_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No daemon answers: a unix host's <cache>/server-<safeHost>/crushd.log."""
    monkeypatch.setenv("CRUSH_CACHE_DIR", str(tmp_path))
    usual = server_dir(parse_host(HOST)) / "crushd.log"
    argv = ["--host", HOST, "logs"]
    assert await main_async(argv, transport=config_answer(None)) == 1
    assert capsys.readouterr().err.startswith(
        f"crushctl: cannot read the log file {usual}: "
    )
    usual.parent.mkdir(parents=True)
    usual.write_text("died: port in use\n")
    assert await main_async(argv, transport=config_answer(None)) == 0
    assert capsys.readouterr().out == "died: port in use\n"


async def test_logs_follow_prints_appended_and_rotated_lines(
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    autojump_clock: trio.testing.MockClock,
) -> None:
    """-f prints new lines, the rest of a rotated file, then the new file."""
    log = tmp_path / "crushd.log"
    log.write_bytes(b"old\n")
    with log.open("rb") as file:
        file.read()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(follow, log, file)
            await trio.sleep(1)
            with log.open("ab") as out:
                out.write(b"new\n")
            await trio.sleep(1)
            with log.open("ab") as out:
                out.write(b"last words\n")
            log.rename(tmp_path / "crushd.log.1")
            log.write_bytes(b"fresh\n")
            await trio.sleep(1)
            nursery.cancel_scope.cancel()
    assert capsysbinary.readouterr().out == b"new\nlast words\nfresh\n"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
async def test_completion_scripts_name_every_command(
    shell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """completion SHELL prints shtab's script for crushctl; no daemon is asked."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request expected: {request.url}")

    transport = httpx.MockTransport(refuse)
    assert await main_async(["completion", shell], transport=transport) == 0
    script = capsys.readouterr().out
    assert script == completion_script(shell)
    for word in ("sessions", "rename", "shutdown", "force", "logs", "cwd"):
        assert word in script


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_script_is_valid_bash(tmp_path: Path) -> None:
    """The bash script parses and defines the completion function."""
    script = tmp_path / "crushctl.bash"
    script.write_text(completion_script("bash"))
    done = subprocess.run(
        ["bash", "-c", f"source {script} && complete -p crushctl"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "crushctl" in done.stdout


async def test_completion_unknown_shell_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await main_async(["completion", "tcsh"]) == 2
    assert "invalid choice: 'tcsh'" in capsys.readouterr().err


class Terminal(io.StringIO):
    """A StringIO that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_rich_table_on_a_terminal_without_colour(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a terminal tables are rich's; NO_COLOR keeps escape codes out; cells
    are text, never markup."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    out = Terminal()
    print_rich_table(("ID", "TITLE"), [("s1", "[bold]fix[/bold]")], stream=out)
    text = out.getvalue()
    assert "\x1b[" not in text
    assert "[bold]fix[/bold]" in text
    assert "─" in text  # rich's header rule


def test_spinner_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A spinner draws on a terminal and leaves a pipe untouched."""
    monkeypatch.setenv("TERM", "xterm-256color")
    pipe = io.StringIO()
    with spinner("waiting for crushd", stream=pipe):
        pass
    assert pipe.getvalue() == ""
    tty = Terminal()
    with spinner("waiting for crushd", stream=tty):
        pass
    assert "waiting for crushd" in tty.getvalue()


def test_crushctl_start_up_imports_neither_rich_nor_shtab() -> None:
    """rich and shtab are imported on use only: start-up stays fast."""
    code = (
        "import sys, crushctl.cli\n"
        "crushctl.cli.build_parser()\n"
        "print(sorted(m for m in ('rich', 'shtab') if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert done.stdout.strip() == "[]"


def test_run_spinner_until_the_first_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """crushctl run spins on a terminal while waiting; the first text stops it."""
    monkeypatch.setenv("TERM", "xterm-256color")
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    printer = RunPrinter()
    printer.waiting()
    printer.show(TextChunk("m1", "hello", first=True))
    shown = err.getvalue()
    assert "waiting for the model" in shown
    printer.finish(RunResult(session_id="s1", run_id="r1", message_id="m1"))
    assert err.getvalue() == shown  # nothing drawn after the first output
    assert capsys.readouterr().out == "hello\n"
