"""``crushctl shell``: run a bang shell command in the workspace folder.

The daemon runs it with the workspace's environment and stores the result in
the session as a ``shell_command`` message (docs/protocol.md 2.8). The output
is printed with secrets masked (``crushd.proto.mask_in_text``).
"""

from __future__ import annotations

import argparse
import shutil
import sys

from crushctl import Client, CrushctlError
from crushd.proto import mask_in_text

from ._common import Context, joined_workspace
from ._output import print_json


async def shell_session(client: Client, workspace_id: str, wanted: str) -> str:
    """Return ``wanted`` (checked), else the latest session, else a new one.

    Raises:
        NotFoundError: 404, ``wanted`` names no session.
    """
    if wanted:
        return (await client.session(workspace_id, wanted)).id
    sessions = await client.sessions(workspace_id)  # most recent first
    if sessions:
        return sessions[0].id
    return (await client.create_session(workspace_id, "shell")).id


def term_width() -> int:
    """Return stdout's terminal width in columns; 0 when it is no terminal."""
    if not sys.stdout.isatty():
        return 0
    return shutil.get_terminal_size().columns


async def cmd_shell(ctx: Context, args: argparse.Namespace) -> None:
    """Run ``COMMAND`` through the workspace's shell route; print its output.

    Raises:
        CrushctlError: no command, the call failed, or the command exited with
            a non-zero status (exit status 1, the status is printed).

    Source: docs/protocol.md 2.8 ``POST .../shell``.
    """
    command = " ".join(args.command).strip()
    if not command:
        raise CrushctlError("no command given")
    client = ctx.client
    async with joined_workspace(
        client, getattr(args, "cwd", None), spawn=ctx.spawn
    ) as ws:
        session_id = await shell_session(client, ws.id, args.session)
        result = await client.shell(ws.id, session_id, command, term_width=term_width())
    output = mask_in_text(result.output)
    if ctx.json:
        print_json(
            {"session_id": session_id, "output": output, "exit_code": result.exit_code}
        )
    elif output:
        print(output, end="" if output.endswith("\n") else "\n", flush=True)
    if result.exit_code:
        raise CrushctlError(f"the command exited with status {result.exit_code}")


def add_shell_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    """Add ``shell`` under ``commands`` (``parents``: common options and --cwd)."""
    text = "run a shell command in the workspace folder (stored in a session)"
    sub = commands.add_parser("shell", help=text, description=text, parents=parents)
    sub.set_defaults(handler=cmd_shell, spawns=True)
    sub.add_argument(
        "--session", metavar="ID", default="", help="the session (default: the latest)"
    )
    sub.add_argument(
        "command", metavar="COMMAND", nargs=argparse.REMAINDER, help="the command line"
    )
