"""``crushctl permissions``, ``grant``, ``deny``: pending requests and decisions.

Any client may decide any request; the first decision wins and every later
one hears ``resolved: false`` (docs/protocol.md 2.6). Parameters are shown
with their secrets masked.
"""

from __future__ import annotations

import argparse

from crushctl import (
    Client,
    CrushctlError,
)
from crushd.proto import (
    PERMISSION_ALLOW,
    PERMISSION_ALLOW_SESSION,
    PERMISSION_DENY,
    PermissionRequest,
)

from ._answer import add_answer_command
from ._common import Context, joined_workspace
from ._output import plain, print_json, print_table
from ._prompt_lines import permission_text, shown_params
from ._render import clip
from ._shell import add_shell_command

_DONE = {
    PERMISSION_ALLOW: "approved",
    PERMISSION_ALLOW_SESSION: "approved for the session",
    PERMISSION_DENY: "denied",
}


def _cwd(args: argparse.Namespace) -> str | None:
    return getattr(args, "cwd", None)


def request_json(request: PermissionRequest) -> object:
    """Return a request as JSON data with its parameters' secrets masked."""
    data = plain(request)
    assert isinstance(data, dict)
    return {**data, "params": shown_params(request.params)}


async def cmd_permissions(ctx: Context, args: argparse.Namespace) -> None:
    """List the workspace's pending permission requests, oldest first.

    Source: docs/protocol.md C.5 ``GET /workspaces/{id}/permissions``.
    """
    async with joined_workspace(ctx.client, _cwd(args), spawn=ctx.spawn) as ws:
        pending = await ctx.client.pending_permissions(ws.id)
    if ctx.json:
        print_json([request_json(request) for request in pending])
    elif not pending:
        print("no pending permission requests")
    else:
        rows = [[r.id, r.session_id, permission_text(r)] for r in pending]
        print_table(["ID", "SESSION", "REQUEST"], rows)


async def find_request(
    client: Client, workspace_id: str, wanted: str
) -> PermissionRequest:
    """Return the pending request whose id is (or uniquely starts with) ``wanted``.

    An id that matches nothing comes back as a bare request with that id: the
    daemon then answers ``resolved: false`` (decided already, or unknown).

    Raises:
        CrushctlError: ``wanted`` is the start of several pending ids.
    """
    pending = await client.pending_permissions(workspace_id)
    exact = [r for r in pending if r.id == wanted]
    matches = exact or [r for r in pending if wanted and r.id.startswith(wanted)]
    if len(matches) > 1:
        raise CrushctlError(f"{wanted!r} matches several requests; give more of the id")
    return matches[0] if matches else PermissionRequest(id=wanted)


async def cmd_grant(ctx: Context, args: argparse.Namespace) -> None:
    """Approve (``--session``: for the rest of the session) or deny request ``ID``.

    Raises:
        CrushctlError: the request was already resolved or is unknown
            (``resolved: false``; exit status 1), or the call failed.

    Source: docs/protocol.md 2.6 ``permissions/grant``; docs/agent.md 3.4.
    """
    action = args.action
    if action == PERMISSION_ALLOW and args.session:
        action = PERMISSION_ALLOW_SESSION
    client = ctx.client
    async with joined_workspace(client, _cwd(args), spawn=ctx.spawn) as ws:
        request = await find_request(client, ws.id, args.id)
        resolved = await client.grant_permission(ws.id, request, action)
    if ctx.json:
        print_json({"id": request.id, "action": action, "resolved": resolved})
    elif resolved:
        print(f"{_DONE[action]}: {_shown(request)}")
    if not resolved:
        raise CrushctlError(f"permission {request.id} already resolved")


def _shown(request: PermissionRequest) -> str:
    if not request.tool_name:
        return request.id
    return f"{clip(permission_text(request))} [{request.id}]"


def add_permission_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: list[argparse.ArgumentParser],
    cwd: argparse.ArgumentParser,
) -> None:
    """Add ``permissions``, ``grant`` and ``deny`` under ``commands``.

    Args:
        commands: the top-level sub-command table.
        common: parent parsers every command takes (``--host``, ``--json``).
        cwd: a parent parser adding ``--cwd``.
    """
    parents = [*common, cwd]
    text = "list the workspace's pending permission requests"
    listing = commands.add_parser(
        "permissions", help=text, description=text, parents=parents
    )
    listing.set_defaults(handler=cmd_permissions, spawns=False)
    for name, action, text in (
        ("grant", PERMISSION_ALLOW, "approve a pending permission request"),
        ("deny", PERMISSION_DENY, "deny a pending permission request"),
    ):
        sub = commands.add_parser(name, help=text, description=text, parents=parents)
        sub.set_defaults(handler=cmd_grant, spawns=False, action=action)
        sub.add_argument("id", metavar="ID", help="the request id (or its start)")
        if action == PERMISSION_ALLOW:
            sub.add_argument(
                "--session",
                action="store_true",
                help="also approve this tool and action for the rest of the session",
            )
        else:
            sub.set_defaults(session=False)
    add_answer_command(commands, parents)
    add_shell_command(commands, parents)
