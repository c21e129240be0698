"""One-shot commands: status, version, workspaces, clients, shutdown."""

from __future__ import annotations

import argparse
from typing import Any

from crushctl import Client, CrushctlError, NotFoundError, client_version
from crushd.proto import ClientInfo, VersionInfo, Workspace

from ._common import Context, joined_workspace
from ._output import format_time, plain, print_json, print_pairs, print_table

#: The ``POST /v1/control`` command of ``shutdown --force`` (docs/protocol.md 2.1).
FORCE_COMMAND = "shutdown_force"
_CLIENT_HEADERS = ("CLIENT", "STREAMS", "STATE", "SESSION", "LAST SEEN", "USER AGENT")
_WORKSPACE_HEADERS = ("ID", "PATH", "DATA DIR", "FLAGS")


def _cwd(args: argparse.Namespace) -> str | None:
    return getattr(args, "cwd", None)


# -- status ---------------------------------------------------------------------


async def cmd_status(ctx: Context, args: argparse.Namespace) -> None:
    """Print health, version, the daemon's process facts, and every workspace.

    The facts (pid, uptime, socket, log file, data folders) come from
    ``GET /v1/config``'s ``crushd`` key; an older daemon without them shows ``-``.
    """
    client = ctx.client
    await client.health()
    version = await client.version()
    facts = daemon_facts(client, await _server_settings(client))
    rosters = [(ws, await _roster(client, ws.id)) for ws in await client.workspaces()]
    live = [(ws, roster) for ws, roster in rosters if roster is not None]
    if ctx.json:
        print_json({**_status_json(client, version, live), "daemon": facts})
        return
    _print_status(client, version, facts, live)


async def _server_settings(client: Client) -> dict[str, Any]:
    try:
        settings = (await client.server_config()).get("crushd")
    except CrushctlError:
        return {}  # a broken global config is a 500 here; status still answers
    return settings if isinstance(settings, dict) else {}


def daemon_facts(client: Client, settings: dict[str, Any]) -> dict[str, object]:
    """Return ``pid``, ``uptime_seconds``, ``socket``, ``log_file``, ``data_dirs``.

    Each is ``None`` when the daemon does not say (an older crushd);
    ``socket`` is the unix socket's path, ``None`` for a tcp host.
    """
    dirs = settings.get("data_dirs")
    return {
        "pid": settings.get("pid"),
        "uptime_seconds": settings.get("uptime_seconds"),
        "socket": client.host.address if client.host.scheme == "unix" else None,
        "log_file": settings.get("log_file"),
        "data_dirs": dirs if isinstance(dirs, dict) else None,
    }


async def _roster(client: Client, workspace_id: str) -> list[ClientInfo] | None:
    try:
        return await client.clients(workspace_id)
    except NotFoundError:
        return None  # torn down since it was listed


def _status_json(
    client: Client,
    version: VersionInfo,
    live: list[tuple[Workspace, list[ClientInfo]]],
) -> dict[str, object]:
    return {
        "host": client.host.url,
        "healthy": True,
        "version": plain(version),
        "workspaces": [
            {"id": ws.id, "path": ws.path, "data_dir": ws.data_dir, "clients": plain(r)}
            for ws, r in live
        ],
    }


def _print_status(
    client: Client,
    version: VersionInfo,
    facts: dict[str, object],
    live: list[tuple[Workspace, list[ClientInfo]]],
) -> None:
    rows = [
        ("host", client.host.url),
        ("status", "healthy"),
        ("version", f"{version.version} ({version.go_version}, {version.platform})"),
        ("pid", _text(facts["pid"])),
        ("uptime", format_duration(facts["uptime_seconds"])),
        ("socket", _text(facts["socket"])),
        ("log file", _text(facts["log_file"])),
        *_dir_rows(facts["data_dirs"]),
        ("workspaces", str(len(live))),
    ]
    print_pairs([(f"{key}:", value) for key, value in rows])
    for workspace, roster in live:
        print()
        print(f"workspace {workspace.id}  {workspace.path}")
        print(f"  data dir: {workspace.data_dir or '-'}")
        _print_clients(roster, client.client_id, indent="  ")


def _text(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def _dir_rows(dirs: object) -> list[tuple[str, str]]:
    if not isinstance(dirs, dict):
        return [("data dirs", "-")]
    return [(f"{name} dir", _text(path)) for name, path in dirs.items()]


def format_duration(seconds: object) -> str:
    """Return ``seconds`` as ``1d 2h 3m 4s`` (leading zero units left out).

    Anything that is not a number (an older daemon's missing value) is ``-``.
    """
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return "-"
    left = int(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if left >= size or parts:
            parts.append(f"{left // size}{unit}")
            left %= size
    return " ".join([*parts, f"{left}s"])


# -- version --------------------------------------------------------------------


async def cmd_version(ctx: Context, args: argparse.Namespace) -> None:
    """Print the daemon's version info and crushctl's own version."""
    info = await ctx.client.version()
    if ctx.json:
        print_json({"crushd": plain(info), "crushctl": client_version()})
        return
    rows = [
        ("crushd", info.version),
        ("commit", info.commit),
        ("build", info.build_id),
        ("runtime", info.go_version),
        ("platform", info.platform),
        ("crushctl", client_version()),
    ]
    print_pairs(rows)


# -- workspaces -----------------------------------------------------------------


async def cmd_workspaces(ctx: Context, args: argparse.Namespace) -> None:
    """Print every live workspace."""
    workspaces = await ctx.client.workspaces()
    if ctx.json:
        print_json(workspaces)
    elif not workspaces:
        print("no workspaces")
    else:
        print_table(_WORKSPACE_HEADERS, [_workspace_row(ws) for ws in workspaces])


def _workspace_row(workspace: Workspace) -> tuple[str, ...]:
    flags = [name for name in ("yolo", "debug") if getattr(workspace, name)]
    return (
        workspace.id,
        workspace.path,
        workspace.data_dir or "-",
        ",".join(flags) or "-",
    )


# -- clients --------------------------------------------------------------------


async def cmd_clients(ctx: Context, args: argparse.Namespace) -> None:
    """Print the roster of the workspace for ``--cwd``."""
    async with joined_workspace(ctx.client, _cwd(args), spawn=ctx.spawn) as ws:
        roster = await ctx.client.clients(ws.id)
    if ctx.json:
        print_json(roster)
    else:
        _print_clients(roster, ctx.client.client_id)


def _print_clients(roster: list[ClientInfo], own_id: str, *, indent: str = "") -> None:
    if not roster:
        print(f"{indent}no clients")
        return
    print_table(
        _CLIENT_HEADERS, [_client_row(c, own_id) for c in roster], indent=indent
    )
    if any(info.client_id == own_id for info in roster):
        print(f"{indent}* this crushctl")


def _client_row(info: ClientInfo, own_id: str) -> tuple[str, ...]:
    mark = " *" if info.client_id == own_id else ""
    return (
        info.client_id + mark,
        str(info.streams),
        _client_state(info),
        info.current_session_id or "-",
        format_time(info.last_seen),
        info.user_agent or "-",
    )


def _client_state(info: ClientInfo) -> str:
    states = [
        name
        for name, on in (
            ("streaming", info.streams > 0),
            ("held", info.held),
            ("released", info.released),
        )
        if on
    ]
    return ",".join(states) or "idle"


# -- shutdown -------------------------------------------------------------------


async def cmd_shutdown(ctx: Context, args: argparse.Namespace) -> None:
    """Ask the daemon to shut down.

    Plain and ``--if-idle``: refused with 409 while hosting workspaces (exit
    1). ``--force``: ``shutdown_force``, never refused; live workspaces end as
    for SIGTERM (streams end, runs are cancelled and recorded).
    """
    if args.force:
        await ctx.client.control(FORCE_COMMAND)
    else:
        await ctx.client.shutdown(if_idle=args.if_idle)
    if ctx.json:
        print_json({"shutting_down": True})
    else:
        print("crushd is shutting down")
