"""``crushctl`` entry point: parse arguments, pick the host, run one command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

import httpx
import trio

from crushctl import Client, CrushctlError, client_version, ensure_server
from crushd.proto import default_host, parse_host

from ._args import existing_dir, host_url
from ._cancel import cmd_cancel
from ._commands import cmd_clients, cmd_shutdown, cmd_version, cmd_workspaces
from ._common import Context
from ._completion import add_completion_command
from ._config import add_config_commands
from ._doctor import cmd_doctor
from ._logs import add_logs_command
from ._output import notice
from ._permissions import add_permission_commands
from ._rich import spinner
from ._run import cmd_run
from ._sessions import add_session_commands
from ._skills import cmd_skills
from ._status import cmd_status
from ._transcript import cmd_messages
from ._trust import cmd_trust
from ._watch import cmd_watch

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Exit status when stdout's reader went away (128 + SIGPIPE), e.g. ``| head``.
EXIT_BROKEN_PIPE = 141

_DESCRIPTION = "Inspect and control a crushd daemon."
_CWD_HELP = "project directory (default: the current directory)"
_RUN_HELP = "send a prompt to the workspace's agent and print the answer live"
_TRUST_HELP = "trust the project's crushrc scripts so crushd runs them (local files)"


def _common_options(*, top: bool) -> argparse.ArgumentParser:
    # Accepted before and after the command; SUPPRESS keeps a sub-command's
    # absent option from overwriting a value given before it.
    default = None if top else argparse.SUPPRESS
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--host",
        default=default,
        type=host_url,
        help=f"unix:///PATH or tcp://HOST:PORT (default: {default_host().url})",
    )
    options.add_argument(
        "--json",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="print JSON (JSON lines for watch) instead of text",
    )
    options.add_argument(
        "--no-spawn",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="never start crushd; fail when it is not running",
    )
    return options


def _add_cwd(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cwd",
        metavar="DIR",
        type=existing_dir,
        default=argparse.SUPPRESS,
        help=_CWD_HELP,
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the ``crushctl`` argument parser.

    Each command sets ``handler`` (an async ``(Context, Namespace) -> None``)
    and ``spawns`` (whether it starts the daemon when none runs).
    """
    parser = argparse.ArgumentParser(
        prog="crushctl", description=_DESCRIPTION, parents=[_common_options(top=True)]
    )
    parser.add_argument(
        "--version", action="version", version=f"crushctl {client_version()}"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = [_common_options(top=False)]

    def command(name: str, handler: object, text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text, parents=common)
        sub.set_defaults(handler=handler, spawns=True)
        return sub

    command("status", cmd_status, "show health, version, workspaces and clients")
    command("version", cmd_version, "show the daemon's and crushctl's versions")
    command("workspaces", cmd_workspaces, "list live workspaces")
    cwd_option = argparse.ArgumentParser(add_help=False)
    _add_cwd(cwd_option)
    add_session_commands(commands, common, cwd_option)
    _add_cwd(command("clients", cmd_clients, "list the clients of the workspace"))
    _add_cwd(command("skills", cmd_skills, "list the workspace's skills and errors"))
    _add_cwd(command("watch", cmd_watch, "print the workspace's events live"))
    _add_run(command("run", cmd_run, _RUN_HELP))
    cancel = command("cancel", cmd_cancel, "cancel the running prompts")
    cancel.set_defaults(spawns=False)  # no daemon, nothing to cancel
    _add_cwd(cancel)
    _add_session(cancel, "the session (default: every busy session)")
    messages = command("messages", cmd_messages, "print a session's messages")
    _add_cwd(messages)
    _add_session(messages, "the session (default: the latest)")
    add_config_commands(commands, common, cwd_option)
    add_permission_commands(commands, common, cwd_option)
    doctor = command("doctor", cmd_doctor, "check why crushd is or is not reachable")
    doctor.set_defaults(spawns=False)  # diagnose what is there; change nothing
    doctor.add_argument(
        "--cwd",
        metavar="DIR",
        type=existing_dir,
        default=None,
        help="also check this project's files",
    )
    _add_trust(command("trust", cmd_trust, _TRUST_HELP))
    shutdown = command("shutdown", cmd_shutdown, "ask the daemon to shut down")
    shutdown.set_defaults(spawns=False)  # starting a daemon to stop it is absurd
    which = shutdown.add_mutually_exclusive_group()
    which.add_argument(
        "--if-idle", action="store_true", help="send shutdown_if_idle instead"
    )
    which.add_argument(
        "--force",
        action="store_true",
        help="stop even while hosting workspaces (streams end, runs are cancelled)",
    )
    add_logs_command(commands, common)
    add_completion_command(commands, common)
    return parser


def _add_session(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--session", metavar="ID", default="", help=text)


def _add_run(run: argparse.ArgumentParser) -> None:
    _add_cwd(run)
    which = run.add_mutually_exclusive_group()
    which.add_argument(
        "--session", metavar="ID", default="", help="prompt this session"
    )
    which.add_argument(
        "--continue",
        dest="latest",
        action="store_true",
        help="prompt the most recently updated session",
    )
    run.add_argument(
        "--model",
        metavar="PROVIDER/MODEL",
        default="",
        help="select the large model first (written to the workspace config)",
    )
    run.add_argument("--quiet", action="store_true", help="print only the final answer")
    run.add_argument(
        "--yolo",
        action="store_true",
        help="approve every permission request of this run's session",
    )
    run.add_argument(
        "prompt", metavar="PROMPT", nargs="*", help="the prompt (default: stdin)"
    )


def _add_trust(trust: argparse.ArgumentParser) -> None:
    trust.set_defaults(spawns=False)  # local files only: no daemon is needed
    _add_cwd(trust)
    choice = trust.add_mutually_exclusive_group()
    choice.add_argument(
        "--revoke", action="store_true", help="remove the project's scripts instead"
    )
    choice.add_argument(
        "--list", action="store_true", help="only show the scripts; change nothing"
    )


def _client(
    args: argparse.Namespace, transport: httpx.AsyncBaseTransport | None
) -> Client:
    host = parse_host(args.host) if args.host else default_host()
    return Client(
        host, transport=transport
    )  # Client reads $CRUSH_TOKEN / the token file


def _may_spawn(
    args: argparse.Namespace, transport: httpx.AsyncBaseTransport | None
) -> bool:
    # An injected transport means the caller provides the daemon (tests).
    return bool(args.spawns) and not args.no_spawn and transport is None


def _fail(message: str) -> int:
    print(f"crushctl: {message}", file=sys.stderr)
    return 1


def _exit_status(exc: SystemExit) -> int:
    return exc.code if isinstance(exc.code, int) else int(exc.code is not None)


async def main_async(
    argv: Sequence[str] | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """Run one ``crushctl`` command; return the exit status.

    Unless ``--no-spawn`` is given, every command but ``shutdown`` first calls
    ``ensure_server`` (unix hosts: start crushd when none runs, replace an idle
    one of another version), and a create that meets a leaving daemon (503)
    is retried on a fresh one.

    Args:
        argv: the arguments after the program name; ``None`` means
            ``sys.argv[1:]``.
        transport: an httpx transport for the client (tests pass an
            ``httpx.MockTransport``); ``None`` uses the host's. With a
            transport nothing is ever spawned.

    Returns:
        0 on success; 1 after printing ``crushctl: <message>`` on stderr (daemon
        not running with ``--no-spawn``, ``failed to initialize crush server``,
        any crushctl error); 2 for usage errors, a bad ``--host`` or a
        ``--cwd`` that is no existing folder included.

    Cancellation:
        Commands that joined a workspace release it (bounded, shielded); watch
        retires the client.
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return _exit_status(exc)
    try:
        client = _client(args, transport)
    except ValueError as exc:
        return _fail(str(exc))
    spawn = _may_spawn(args, transport)
    async with client:
        try:
            if spawn:
                with spinner("waiting for crushd"):
                    await ensure_server(client.host)
            await args.handler(Context(client, args.json, spawn=spawn), args)
        except CrushctlError as exc:
            return _fail(exc.message)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``crushctl`` under ``trio.run``; the console-script entry point.

    Args:
        argv: as for ``main_async``.

    Returns:
        ``main_async``'s status, 130 (quietly) after Ctrl-C, or 141 (quietly)
        when stdout was closed by its reader (``crushctl status | head -1``).
    """
    _show_warnings()
    try:
        return trio.run(main_async, argv)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE


def _silence_stdout() -> None:
    # Python flushes stdout again at exit and would print a second
    # BrokenPipeError; point the descriptor at /dev/null (Python docs, "Note
    # on SIGPIPE").
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _show_warnings() -> None:
    # The library's warnings (e.g. "using crushd X although crushctl is Y") are
    # printed as notices; records below WARNING stay quiet.
    logger = logging.getLogger("crushctl")
    if not any(isinstance(h, _NoticeHandler) for h in logger.handlers):
        logger.addHandler(_NoticeHandler(logging.WARNING))


class _NoticeHandler(logging.Handler):
    """Print each record as ``crushctl: <message>`` on the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        notice(self.format(record))
