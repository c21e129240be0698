"""``crushctl sessions [new|show|rename|rm]``: a workspace's sessions.

Every command joins the workspace for ``--cwd`` (default: the current folder),
does its one request and releases the hold. Source: docs/protocol.md 2.3.
"""

from __future__ import annotations

import argparse

from crushd.proto import Session

from ._common import Context, joined_workspace
from ._output import format_time, print_json, print_pairs, print_table

_SESSION_HEADERS = ("ID", "TITLE", "MESSAGES", "BUSY", "CLIENTS", "UPDATED")


def add_session_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: list[argparse.ArgumentParser],
    cwd_option: argparse.ArgumentParser,
) -> None:
    """Add ``sessions`` (list) and its ``new``/``show``/``rename``/``rm`` commands.

    Args:
        commands: the top parser's sub-parsers action.
        common: the parents every command gets (``--host``, ``--json``, ...).
        cwd_option: a parent parser holding ``--cwd``.
    """
    parents = [*common, cwd_option]
    text = "list sessions of the workspace"
    sessions = commands.add_parser(
        "sessions", help=text, description=text, parents=parents
    )
    sessions.set_defaults(handler=cmd_sessions, spawns=True)
    subs = sessions.add_subparsers(dest="sessions_command", metavar="ACTION")

    def action(name: str, handler: object, help_text: str) -> argparse.ArgumentParser:
        sub = subs.add_parser(name, help=help_text, parents=parents)
        sub.set_defaults(handler=handler)
        return sub

    action("new", cmd_session_new, "create a session").add_argument(
        "title", metavar="TITLE", help="the session title"
    )
    action("show", cmd_session_show, "show one session").add_argument(
        "id", metavar="ID"
    )
    rename = action("rename", cmd_session_rename, "change a session's title")
    rename.add_argument("id", metavar="ID")
    rename.add_argument("title", metavar="TITLE", help="the new title")
    action("rm", cmd_session_rm, "delete a session and its messages").add_argument(
        "id", metavar="ID"
    )


def _cwd(args: argparse.Namespace) -> str | None:
    return getattr(args, "cwd", None)


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


async def cmd_session_show(ctx: Context, args: argparse.Namespace) -> None:
    """Print one session's fields.

    Raises:
        NotFoundError: 404 ``session not found`` (exit 1).
    """
    async with joined_workspace(ctx.client, _cwd(args), spawn=ctx.spawn) as ws:
        session = await ctx.client.session(ws.id, args.id)
    if ctx.json:
        print_json(session)
        return
    print_pairs(_session_pairs(session))


async def cmd_session_rename(ctx: Context, args: argparse.Namespace) -> None:
    """Set session ``ID``'s title to ``TITLE`` (only the title is sent).

    Raises:
        NotFoundError: 404 ``session not found`` (exit 1).
    """
    async with joined_workspace(ctx.client, _cwd(args), spawn=ctx.spawn) as ws:
        session = await ctx.client.update_session(ws.id, args.id, title=args.title)
    if ctx.json:
        print_json(session)
    else:
        print(f"renamed session {session.id}: {session.title}")


async def cmd_session_rm(ctx: Context, args: argparse.Namespace) -> None:
    """Delete session ``ID`` with its messages and file history.

    Raises:
        NotFoundError: 404 ``session not found`` (exit 1).
    """
    async with joined_workspace(ctx.client, _cwd(args), spawn=ctx.spawn) as ws:
        await ctx.client.delete_session(ws.id, args.id)
    if ctx.json:
        print_json({"deleted": args.id})
    else:
        print(f"deleted session {args.id}")


def _session_row(session: Session) -> tuple[str, ...]:
    return (
        session.id,
        session.title,
        str(session.message_count),
        "yes" if session.is_busy else "no",
        str(session.attached_clients),
        format_time(session.updated_at),
    )


def _session_pairs(session: Session) -> list[tuple[str, str]]:
    return [
        ("id", session.id),
        ("title", session.title),
        ("parent", session.parent_session_id or "-"),
        ("messages", str(session.message_count)),
        ("busy", "yes" if session.is_busy else "no"),
        ("clients", str(session.attached_clients)),
        ("tokens", f"{session.prompt_tokens} in, {session.completion_tokens} out"),
        ("cost", f"{session.cost:.4f}"),
        ("created", format_time(session.created_at)),
        ("updated", format_time(session.updated_at)),
    ]
