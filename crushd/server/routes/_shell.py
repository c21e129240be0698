"""The bang shell route: ``POST .../agent/sessions/{sid}/shell``.

A user's own command (``!ls`` in a client) runs in the workspace folder with
the daemon's environment, the workspace's ``K=V`` list and colour settings
(``COLUMNS`` from ``term_width``). The request bounds it: a client that
disconnects cancels the handler, which stops the command's whole process
group. The result is stored as a user message with a ``shell_command`` part
(skipped silently when the session is gone) and answered as
``{"output", "exit_code"}``. No permission is asked: the user typed it.

Source: Crush's shell route (``internal/backend``); docs/protocol.md 2.8.
"""

from __future__ import annotations

from quart import Response

from crushd.errors import BadRequest, InternalError
from crushd.proto import ShellCommandRequest, ShellCommandResponse

from ..http import ServerContext, decode_body, json_response
from ._live import workspace_of

#: Widest ``term_width`` passed on as ``COLUMNS`` (wider values are clamped).
MAX_TERM_WIDTH = 10_000


async def shell(ctx: ServerContext, workspace_id: str, session_id: str) -> Response:
    """Run the body's ``command``; answer its output and exit code (200).

    Raises:
        DecodeError: the body is not ``{"command", "term_width"?}`` (400).
        BadRequest: an empty command, or one holding a NUL character (400).
        InternalError: bash could not be started (500).
    """
    from crushd.workspace import (
        run_shell_command,
        shell_env,
        store_shell_outcome,
    )

    workspace = workspace_of(ctx, workspace_id)
    body = await decode_body(ShellCommandRequest)
    if not body.command.strip():
        raise BadRequest("command is required")
    width = min(max(body.term_width, 0), MAX_TERM_WIDTH)
    env = shell_env(workspace.spec.env, width, workspace.configuration.environ)
    try:
        outcome = await run_shell_command(body.command, workspace.root, env)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    except OSError as exc:
        raise InternalError(f"failed to run command: {exc.strerror or exc}") from None
    await store_shell_outcome(workspace.messages, session_id, outcome)
    return json_response(ShellCommandResponse(outcome.output, outcome.exit_code))
