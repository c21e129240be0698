"""One-shot commands: status, version, workspaces, sessions, clients, shutdown."""

from __future__ import annotations

import argparse

from crushctl import Client, NotFoundError, client_version
from crushd.proto import ClientInfo, Session, VersionInfo, Workspace

from ._common import Context, joined_workspace
from ._output import format_time, plain, print_json, print_pairs, print_table

_CLIENT_HEADERS = ("CLIENT", "STREAMS", "STATE", "SESSION", "LAST SEEN", "USER AGENT")
_SESSION_HEADERS = ("ID", "TITLE", "MESSAGES", "BUSY", "CLIENTS", "UPDATED")
_WORKSPACE_HEADERS = ("ID", "PATH", "DATA DIR", "FLAGS")


def _cwd(args: argparse.Namespace) -> str | None:
    return getattr(args, "cwd", None)


# -- status ---------------------------------------------------------------------


async def cmd_status(ctx: Context, args: argparse.Namespace) -> None:
    """Print health, version, and every workspace with its clients."""
    client = ctx.client
    await client.health()
    version = await client.version()
    rosters = [(ws, await _roster(client, ws.id)) for ws in await client.workspaces()]
    live = [(ws, roster) for ws, roster in rosters if roster is not None]
    if ctx.json:
        print_json(_status_json(client, version, live))
        return
    _print_status(client, version, live)


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
    live: list[tuple[Workspace, list[ClientInfo]]],
) -> None:
    rows = [
        ("host", client.host.url),
        ("status", "healthy"),
        ("version", f"{version.version} ({version.go_version}, {version.platform})"),
        ("workspaces", str(len(live))),
    ]
    print_pairs([(f"{key}:", value) for key, value in rows])
    for workspace, roster in live:
        print()
        print(f"workspace {workspace.id}  {workspace.path}")
        _print_clients(roster, client.client_id, indent="  ")


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


# -- sessions -------------------------------------------------------------------


async def cmd_sessions(ctx: Context, args: argparse.Namespace) -> None:
    """Print the top-level sessions of the workspace for ``--cwd``."""
    async with joined_workspace(ctx.client, _cwd(args), spawn=ctx.spawn) as ws:
        sessions = await ctx.client.sessions(ws.id)
    if ctx.json:
        print_json(sessions)
    elif not sessions:
        print("no sessions")
    else:
        print_table(_SESSION_HEADERS, [_session_row(s) for s in sessions])


async def cmd_session_new(ctx: Context, args: argparse.Namespace) -> None:
    """Create a session titled ``TITLE`` in the workspace for ``--cwd``."""
    async with joined_workspace(ctx.client, _cwd(args), spawn=ctx.spawn) as ws:
        session = await ctx.client.create_session(ws.id, args.title)
    if ctx.json:
        print_json(session)
    else:
        print(f"created session {session.id}: {session.title}")


def _session_row(session: Session) -> tuple[str, ...]:
    return (
        session.id,
        session.title,
        str(session.message_count),
        "yes" if session.is_busy else "no",
        str(session.attached_clients),
        format_time(session.updated_at),
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
    """Ask the daemon to shut down (it refuses with 409 while hosting workspaces)."""
    await ctx.client.shutdown(if_idle=args.if_idle)
    if ctx.json:
        print_json({"shutting_down": True})
    else:
        print("crushd is shutting down")
