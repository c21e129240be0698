"""System routes: health, version, config, control, retirement.

Source: docs/protocol.md 2.1.
"""

from __future__ import annotations

from quart import Response

from crushd.errors import UnknownCommand
from crushd.proto import ControlRequest

from ..http import ServerContext, decode_body, empty_response, json_response

#: ``POST /v1/control`` commands; both are idle-gated (docs/protocol.md 2.1).
SHUTDOWN_COMMANDS = ("shutdown", "shutdown_if_idle")


async def health(ctx: ServerContext) -> Response:
    """``GET /v1/health``: empty 200 while the daemon serves."""
    return empty_response()


async def version(ctx: ServerContext) -> Response:
    """``GET /v1/version``: this build's ``VersionInfo``."""
    return json_response(ctx.version)


async def config(ctx: ServerContext) -> Response:
    """``GET /v1/config``: the daemon's layered config, redacted, plus its settings.

    Decision B.1; a broken global config file is a 500 naming it.
    """
    document: dict[str, object] = {}
    if ctx.config_sources is not None:
        from crushd.config import load_global_config  # not needed to start

        document = (await load_global_config(ctx.config_sources)).redacted()
    return json_response({**document, "crushd": ctx.server_config})


async def control(ctx: ServerContext) -> Response:
    """``POST /v1/control``: a shutdown command; 400 ``UnknownCommand`` otherwise."""
    body = await decode_body(ControlRequest)
    if body.command not in SHUTDOWN_COMMANDS:
        raise UnknownCommand
    ctx.registry.request_shutdown()
    return empty_response()


async def retire_client(ctx: ServerContext, client_id: str) -> Response:
    """``DELETE /v1/clients/{client_id}``: retire the client everywhere."""
    ctx.registry.retire(client_id)
    return empty_response()
