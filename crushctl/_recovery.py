"""What a client keeps to recover its workspace, and how it says goodbye."""

from __future__ import annotations

import os
from collections.abc import Sequence

import attrs

from crushd.proto import Workspace

from ._client import Client
from ._exceptions import NotFoundError
from ._spawn import create_workspace_respawning


def _path_text(path: str | os.PathLike[str]) -> str:
    return os.fspath(path)


def _env_tuple(env: Sequence[str]) -> tuple[str, ...]:
    return tuple(env)


@attrs.frozen
class WorkspaceSpec:
    """The arguments a workspace was created with, cached to create it again.

    A daemon that was restarted (or tore the workspace down) answers 404 for
    the old id; the watcher then creates the workspace anew from this spec and
    follows the new id. Keep the caller's own arguments rather than the
    daemon's answer: the answer redacts secret-looking ``env`` values
    (decision B.22).

    Attributes:
        path: the project directory (absolute).
        data_dir: the data directory; ``None`` means ``<path>/.crush``.
        yolo: skip permission prompts.
        debug: debug logging for the workspace.
        env: ``KEY=VALUE`` entries for tool and shell environments.

    Source: docs/protocol.md 5.7 step 2 (the Go client's cached create snapshot).
    """

    path: str = attrs.field(converter=_path_text)
    data_dir: str | None = None
    yolo: bool = False
    debug: bool = False
    env: tuple[str, ...] = attrs.field(default=(), converter=_env_tuple)

    @classmethod
    def of(cls, workspace: Workspace) -> WorkspaceSpec:
        """Return the spec a daemon's ``workspace`` answer describes.

        A fallback for callers that kept no spec: redacted ``env`` values come
        back redacted.
        """
        return cls(
            path=workspace.path,
            data_dir=workspace.data_dir or None,
            yolo=workspace.yolo,
            debug=workspace.debug,
            env=workspace.env,
        )

    async def create(self, client: Client, *, spawn: bool = False) -> Workspace:
        """Create (or join) the workspace with these arguments.

        Args:
            client: the client that creates it (its ``client_id`` gets the hold).
            spawn: on a 503 (daemon leaving), start a new daemon and retry
                (``create_workspace_respawning``).

        Returns:
            The workspace (a new id unless a live one was joined).

        Raises:
            CrushctlError: as ``create_workspace_respawning``.

        Cancellation:
            As ``Client.create_workspace``.
        """
        return await create_workspace_respawning(
            client,
            self.path,
            spawn=spawn,
            data_dir=self.data_dir,
            yolo=self.yolo,
            debug=self.debug,
            env=self.env,
        )


async def retire_or_release(client: Client, workspace_id: str) -> None:
    """Say goodbye: retire the client, or release ``workspace_id`` on an old daemon.

    Sends ``DELETE /v1/clients/{client_id}`` (every claim of this client goes
    at once, its streams end); a daemon without that route (404) gets
    ``DELETE /v1/workspaces/{id}?client_id=`` instead.

    Args:
        client: the client leaving.
        workspace_id: the workspace to release on a daemon that cannot retire.

    Raises:
        CrushctlError: either request failed (callers leaving anyway usually
            ignore it: the daemon's graces clean up).

    Cancellation:
        If cancelled after sending, the client may be retired anyway; run it
        under a bounded shielded scope on exit paths.

    Source: docs/protocol.md 5.7 step 4.
    """
    try:
        await client.retire()
    except NotFoundError:
        await client.delete_workspace(workspace_id)
