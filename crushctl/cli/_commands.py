"""One-shot commands: version, workspaces, clients, shutdown (status: ``_status``)."""

from __future__ import annotations

import argparse

from crushctl import (
    BadRequestError,
    Client,
    CrushctlError,
    client_version,
)
from crushd.proto import ClientInfo, Workspace

from ._common import Context, joined_workspace
from ._output import format_time, plain, print_json, print_pairs, print_table

#: The ``POST /v1/control`` command of ``shutdown --force`` (docs/protocol.md 2.1).
FORCE_COMMAND = "shutdown_force"
_CLIENT_HEADERS = ("CLIENT", "STREAMS", "STATE", "SESSION", "LAST SEEN", "USER AGENT")
_WORKSPACE_HEADERS = ("ID", "PATH", "DATA DIR", "FLAGS")


def _cwd(args: argparse.Namespace) -> str | None:
    return getattr(args, "cwd", None)


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
        print_clients(roster, ctx.client.client_id)


def print_clients(roster: list[ClientInfo], own_id: str, *, indent: str = "") -> None:
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
        await _force_shutdown(ctx.client)
    else:
        await ctx.client.shutdown(if_idle=args.if_idle)
    if ctx.json:
        print_json({"shutting_down": True})
    else:
        print("crushd is shutting down")


async def _force_shutdown(client: Client) -> None:
    try:
        await client.control(FORCE_COMMAND)
    except BadRequestError as exc:  # a crushd from before shutdown_force
        raise CrushctlError(
            f"this crushd does not know shutdown --force ({exc.message}); "
            "stop it with SIGTERM, or with crushctl shutdown once it is idle"
        ) from exc
