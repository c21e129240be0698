"""``crushctl watch``: print a workspace's events live, one line each."""

from __future__ import annotations

import argparse

from crushctl import (
    Connected,
    Retrying,
    Stopped,
    Stuck,
    WatchItem,
    WorkspaceSpec,
    open_watch,
)
from crushd.proto import Event, Resync

from ._common import Context, workspace_path
from ._event_lines import EventLines
from ._output import notice, print_json_line


async def cmd_watch(ctx: Context, args: argparse.Namespace) -> None:
    """Join the workspace for ``--cwd`` and print its events until interrupted.

    Reconnects (resuming with ``Last-Event-ID``, replacing a crashed daemon
    unless ``--no-spawn``, re-creating a gone workspace) and says so. After a
    deliberate shutdown (docs/protocol.md C.11) it starts no daemon: it says
    so once and waits for one to be started again. On exit the client retires
    (its claims go at once, no detach grace).
    """
    client = ctx.client
    spec = WorkspaceSpec(workspace_path(getattr(args, "cwd", None)))
    workspace = await spec.create(client, spawn=ctx.spawn)
    async with open_watch(
        client, workspace, spec=spec, spawn=ctx.spawn, retire_on_exit=True
    ) as watcher:
        lines = EventLines()
        async for item in watcher:
            _show(item, lines, as_json=ctx.json)


def _show(item: WatchItem, lines: EventLines, *, as_json: bool) -> None:
    if as_json:
        print_json_line(item_json(item))
    elif isinstance(item, Event):
        print(lines.line(item), flush=True)
    else:
        notice(item_notice(item))


def item_json(item: WatchItem) -> dict[str, object]:
    """Return a watch item as one JSON object with a ``type`` discriminator."""
    if isinstance(item, Event):
        return {
            "id": item.id,
            "type": item.type,
            "event_type": item.event_type,
            "payload": item.payload,
        }
    if isinstance(item, Resync):
        return {
            "type": "resync",
            "workspace_id": item.workspace_id,
            "oldest_id": item.oldest_id,
        }
    if isinstance(item, Stuck):
        return {"type": "stuck", "failures": item.failures, "reason": item.reason}
    if isinstance(item, Stopped):
        return {
            "type": "stopped",
            "workspace_id": item.workspace_id,
            "reason": item.reason,
        }
    if isinstance(item, Connected):
        return {
            "type": "connected",
            "workspace_id": item.workspace.id,
            "path": item.workspace.path,
            "resumed_after": item.resumed_after,
            "reconnected": item.reconnected,
            "recreated": item.recreated,
        }
    return {
        "type": "retrying",
        "reason": item.reason,
        "delay_seconds": item.delay_seconds,
        "failures": item.failures,
    }


#: What ``watch`` says once when the daemon shut down on purpose.
STOPPED_NOTICE = "daemon stopped; waiting for it to come back (Ctrl-C to quit)"


def item_notice(item: Connected | Resync | Retrying | Stuck | Stopped) -> str:
    """Return the stderr notice for a marker item."""
    if isinstance(item, Stopped):
        return STOPPED_NOTICE
    if isinstance(item, Resync):
        return f"resync: events before #{item.oldest_id} were missed; refetch state"
    if isinstance(item, Stuck):
        return (
            f"connection looks stuck: {item.failures} attempts failed"
            f" ({item.reason}); still retrying"
        )
    if isinstance(item, Retrying):
        what = "reconnect failed" if item.failures else "connection lost"
        return f"{what} ({item.reason}); retrying in {item.delay_seconds:.2f} s"
    return _connected_notice(item)


def _connected_notice(item: Connected) -> str:
    workspace = item.workspace
    if item.recreated:
        return f"workspace was gone; re-created it as {workspace.id} (events missed)"
    if not item.reconnected:
        return f"watching workspace {workspace.id} ({workspace.path})"
    if item.resumed_after is None:
        return "reconnected"
    return f"reconnected; resuming after event #{item.resumed_after}"


def event_line(event: Event, lines: EventLines | None = None) -> str:
    """Return ``#<id> <type> <event_type> <summary>`` for one event.

    Args:
        event: the event.
        lines: the formatter that remembers earlier messages (a message update
            then shows only what changed); ``None`` formats ``event`` alone.
    """
    return (lines or EventLines()).line(event)
