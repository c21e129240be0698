"""``crushctl cancel``: stop the running turn of one session, or of every busy one."""

from __future__ import annotations

import argparse

from crushctl import Client

from ._common import Context, joined_workspace
from ._output import print_json


async def cmd_cancel(ctx: Context, args: argparse.Namespace) -> None:
    """Cancel ``--session``'s run, or the runs of every busy session.

    Without ``--session``, ``GET /agent`` says whether anything runs and the
    session list (``is_busy``) says where. Cancelling also drops the
    sessions' queued prompts; an idle session is left as it is.

    Source: docs/protocol.md 2.8, 6.3 ``POST .../cancel``.
    """
    client = ctx.client
    async with joined_workspace(
        client, getattr(args, "cwd", None), spawn=ctx.spawn
    ) as ws:
        targets = [args.session] if args.session else await busy_sessions(client, ws.id)
        for session_id in targets:
            await client.cancel(ws.id, session_id)
    if ctx.json:
        print_json({"cancelled": targets})
    elif targets:
        print("\n".join(f"cancelled session {sid}" for sid in targets))
    else:
        print("nothing to cancel: no session is busy")


async def busy_sessions(client: Client, workspace_id: str) -> list[str]:
    """Return the ids of the workspace's busy top-level sessions (``[]`` when idle)."""
    info = await client.agent_info(workspace_id)
    if not info.is_busy:
        return []
    return [s.id for s in await client.sessions(workspace_id) if s.is_busy]
