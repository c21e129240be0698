"""``crushd serve ...`` and ``crushd --version``: flags -> Settings -> daemon.run."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import trio

from crushd import __version__
from crushd.proto import Host, parse_host
from crushd.settings import Settings, listen_fds_hosts, seconds_from_env

log = logging.getLogger("crushd.cli")

#: The settings the environment can set too (flags win): field -> variable
#: (docs/protocol.md 8.5). Their flags are ``--create-grace``,
#: ``--detach-grace`` and ``--idle-timeout``.
ENV_SECONDS = {
    "create_grace_seconds": "CRUSH_SERVER_CREATE_GRACE",
    "detach_grace_seconds": "CRUSH_SERVER_DETACH_GRACE",
    "idle_timeout_seconds": "CRUSH_SERVER_IDLE_TIMEOUT",
}


def setting_default(name: str) -> Any:
    """Return ``Settings``'s default for field ``name``: defaults live there only."""
    return getattr(attrs.fields(Settings), name).default


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text}") from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"seconds must be >= 0: {text}")
    return value


def _positive_seconds(text: str) -> float:
    value = _seconds(text)
    if value <= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"seconds must be > 0 and finite: {text}")
    return value


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer: {text}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """Return the ``crushd`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="crushd",
        description="Share one AI-coding-agent workspace per project directory.",
    )
    parser.add_argument("--version", action="version", version=f"crushd {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the daemon in the foreground")
    serve.add_argument(
        "--host",
        action="append",
        type=_host,
        metavar="URL",
        help="unix:///path, tcp://127.0.0.1:PORT or fd://N; repeatable "
        "(default: the sockets systemd passed in $LISTEN_FDS, else "
        "unix://$XDG_RUNTIME_DIR/crush-<uid>.sock)",
    )
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow tcp hosts that are not loopback addresses (every tcp "
        "request needs the bearer token either way)",
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        dest="allowed_hosts",
        type=_allowed_host,
        metavar="NAME",
        help="also accept NAME (or NAME:PORT) in a tcp request's Host header, "
        "e.g. for a client behind a port forward; repeatable",
    )
    serve.add_argument(
        "--debug-endpoints",
        action="store_true",
        help="serve /v1/debug/... on unix sockets (benchmarks only; never on tcp)",
    )
    _env_seconds(serve, "--create-grace", "create_grace_seconds")
    _env_seconds(serve, "--detach-grace", "detach_grace_seconds")
    _env_seconds(serve, "--idle-timeout", "idle_timeout_seconds")
    serve.add_argument(
        "--replay-window",
        type=_positive_int,
        metavar="N",
        default=setting_default("replay_window_frames"),
        help="events kept per workspace for resume (default %(default)s)",
    )
    serve.add_argument(
        "--heartbeat",
        type=_positive_seconds,
        metavar="S",
        default=setting_default("heartbeat_seconds"),
        help="seconds between : ping frames on idle streams (default %(default)s)",
    )
    serve.add_argument(
        "--send-timeout",
        type=_positive_seconds,
        metavar="S",
        default=setting_default("send_timeout_seconds"),
        help="drop a connection whose socket accepts nothing for S "
        "seconds (default %(default)s)",
    )
    serve.add_argument(
        "--max-connections",
        type=_positive_int,
        metavar="N",
        default=setting_default("max_connections"),
        help="open connections per tcp listener: when full, the oldest one "
        "without the token is closed, else a new one gets 503 (default %(default)s)",
    )
    serve.add_argument(
        "--max-unauthenticated",
        type=_positive_int,
        metavar="N",
        default=setting_default("max_unauthenticated"),
        help="of those, connections that have not yet shown the bearer token; "
        "a new one closes the oldest (default %(default)s)",
    )
    serve.add_argument(
        "--log-level",
        default=setting_default("log_level"),
        choices=["debug", "info", "warning", "error"],
    )
    serve.add_argument(
        "--log-format",
        default=setting_default("log_format"),
        choices=["text", "json"],
        help="log records as text lines or one JSON object per line "
        "(default %(default)s)",
    )
    return parser


def _env_seconds(serve: argparse.ArgumentParser, flag: str, name: str) -> None:
    """Add ``flag`` for setting ``name``, which ``ENV_SECONDS`` can also set."""
    env, default = ENV_SECONDS[name], setting_default(name)
    serve.add_argument(
        flag,
        dest=name,
        type=_seconds,
        metavar="S",
        help=f"seconds (default ${env} or {default:g}); 0 = immediate",
    )


def _host(text: str) -> Host:
    try:
        return parse_host(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _allowed_host(text: str) -> str:
    from crushd.server import parse_allowed_host

    try:
        parse_allowed_host(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Combine parsed flags with the environment (flags win) into ``Settings``.

    Without ``--host``, sockets passed by systemd (``$LISTEN_FDS`` for this
    pid) are the hosts; without those either, the default unix socket.
    """
    timings = {
        name: value
        if (value := getattr(args, name)) is not None
        else seconds_from_env(env, setting_default(name))
        for name, env in ENV_SECONDS.items()
    }
    settings = Settings(
        create_grace_seconds=timings["create_grace_seconds"],
        detach_grace_seconds=timings["detach_grace_seconds"],
        idle_timeout_seconds=timings["idle_timeout_seconds"],
        replay_window_frames=args.replay_window,
        send_timeout_seconds=args.send_timeout,
        heartbeat_seconds=args.heartbeat,
        log_level=args.log_level,
        log_format=args.log_format,
        allow_remote=args.allow_remote,
        allowed_hosts=tuple(args.allowed_hosts or ()),
        debug_endpoints=args.debug_endpoints,
        max_connections=args.max_connections,
        max_unauthenticated=args.max_unauthenticated,
    )
    hosts = tuple(args.host or ()) or listen_fds_hosts()
    return attrs.evolve(settings, hosts=hosts) if hosts else settings


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``crushd`` console script; exits with the status."""
    args = build_parser().parse_args(argv)
    settings = settings_from_args(args)
    for name in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        os.environ.pop(name, None)  # sd_listen_fds: children must not see them
    sys.exit(serve(settings))


def serve(settings: Settings) -> int:
    """Bind, then run the daemon until it shuts down.

    Returns:
        0 after a clean shutdown; 1 when the daemon could not start (a live
        daemon on the socket, a bad socket folder, an unusable log folder, a
        non-loopback tcp host without ``--allow-remote``, an unusable token
        file).
    """
    with collector_paused():
        from crushd.daemon import open_listeners, run
        from crushd.logs import setup_logging

        try:
            setup_logging(settings.log_file, settings.log_level, settings.log_format)
            listeners = open_listeners(settings)
        except OSError as exc:
            print(f"crushd: {exc}", file=sys.stderr)  # noqa: T201 - the user must see why
            log.error("failed to start: %s", exc)
            return 1
    log.info(
        "crushd %s listening on %s",
        __version__,
        " ".join(h.url for h in settings.hosts),
    )
    trio.run(run, settings, listeners)
    return 0


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block, then restore its state.

    Start-up only allocates (modules, classes, the app): importing the server
    ran the collector some 85 times, about 35 ms, and found nothing to free.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
