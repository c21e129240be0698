"""System routes: health, version, config, control, retirement.

Source: docs/protocol.md 2.1.
"""

from __future__ import annotations

import math
import time

from quart import Response

from crushd.errors import UnknownCommand
from crushd.proto import ControlRequest

from ..http import ServerContext, decode_body, empty_response, json_response

#: ``POST /v1/control`` commands; both are idle-gated (docs/protocol.md 2.1).
SHUTDOWN_COMMANDS = ("shutdown", "shutdown_if_idle")
#: crushd's addition: shut down even while hosting workspaces (docs/protocol.md C).
FORCE_COMMAND = "shutdown_force"


async def health(ctx: ServerContext) -> Response:
    """``GET /v1/health``: empty 200 while the daemon serves."""
    return empty_response()


async def version(ctx: ServerContext) -> Response:
    """``GET /v1/version``: this build's ``VersionInfo``."""
    return json_response(ctx.version)


async def config(ctx: ServerContext) -> Response:
    """``GET /v1/config``: the daemon's layered config, redacted, plus its settings.

    Decision B.1; a broken global config file is a 500 naming it. The
    ``crushd`` key also carries the process facts ``crushctl status`` shows
    (docs/protocol.md C): ``pid``, ``started_at`` and ``uptime_seconds``
    (seconds), ``log_file``, ``data_dirs``.
    """
    document: dict[str, object] = {}
    if ctx.config_sources is not None:
        from crushd.config import load_global_config  # not needed to start

        document = (await load_global_config(ctx.config_sources)).redacted()
    return json_response({**document, "crushd": _server_facts(ctx.server_config)})


def _server_facts(server_config: dict[str, object]) -> dict[str, object]:
    """Add ``uptime_seconds`` when the daemon recorded ``started_at`` (Unix s).

    An infinite time (``--idle-timeout inf``, as ``make run`` starts the daemon)
    is ``null``: JSON has no infinity.
    """
    facts = {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in server_config.items()
    }
    started = facts.get("started_at")
    if isinstance(started, float):
        facts["uptime_seconds"] = max(0.0, time.time() - started)
    return facts


async def control(ctx: ServerContext) -> Response:
    """``POST /v1/control``: a shutdown command; 400 ``UnknownCommand`` otherwise.

    ``shutdown`` and ``shutdown_if_idle`` answer 409 ``ServerBusy`` while a
    workspace is live; ``shutdown_force`` never does (the workspaces are torn
    down as for SIGTERM, decision B.19).
    """
    body = await decode_body(ControlRequest)
    force = body.command == FORCE_COMMAND
    if body.command not in SHUTDOWN_COMMANDS and not force:
        raise UnknownCommand
    ctx.registry.request_shutdown(force=force)
    return empty_response()


async def retire_client(ctx: ServerContext, client_id: str) -> Response:
    """``DELETE /v1/clients/{client_id}``: retire the client everywhere."""
    ctx.registry.retire(client_id)
    return empty_response()
