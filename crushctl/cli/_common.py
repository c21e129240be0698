"""What every command gets: the client, the output mode, the workspace for --cwd."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import trio

from crushctl import (
    CLEANUP_SECONDS,
    Client,
    CrushctlError,
    create_workspace_respawning,
)
from crushd.proto import Workspace


@attrs.frozen
class Context:
    """A command's environment.

    Attributes:
        client: the connected client.
        json: print JSON instead of text.
        spawn: a create that meets a leaving daemon (503) may start a new one.
    """

    client: Client
    json: bool
    spawn: bool = False


def workspace_path(cwd: str | None) -> Path:
    """Return ``cwd`` (default: the current directory) absolute and resolved."""
    return Path(cwd or ".").expanduser().resolve()


@contextlib.asynccontextmanager
async def joined_workspace(
    client: Client, cwd: str | None, *, spawn: bool = False
) -> AsyncIterator[Workspace]:
    """Create or join the workspace for ``cwd``; release this client's hold on exit.

    Args:
        client: the connected client.
        cwd: the project directory; ``None`` means the current directory.
        spawn: on a 503 (daemon leaving), start a new daemon and retry
            (``create_workspace_respawning``).

    Raises:
        CrushctlError: the create failed (see ``Client.create_workspace``).

    Cancellation:
        The release runs even if cancelled (bounded, shielded).
    """
    workspace = await create_workspace_respawning(
        client, workspace_path(cwd), spawn=spawn
    )
    try:
        yield workspace
    finally:
        with trio.move_on_after(CLEANUP_SECONDS, shield=True):
            await release_quietly(client, workspace.id)


async def release_quietly(client: Client, workspace_id: str) -> None:
    """Release the hold on ``workspace_id``, ignoring failures.

    Best effort: the command's result is already out, and an unreleased hold
    expires with the daemon's create grace anyway.
    """
    with contextlib.suppress(CrushctlError):
        await client.delete_workspace(workspace_id)
