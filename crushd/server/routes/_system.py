"""System routes: health, version, config, control, retirement.

Source: docs/protocol.md 2.1.
"""

from __future__ import annotations

from quart import Response
from quart_trio import QuartTrio

from crushd.errors import UnknownCommand
from crushd.proto import ControlRequest

from ..http import ServerContext, decode_body, empty_response, json_response

#: ``POST /v1/control`` commands; both are idle-gated (docs/protocol.md 2.1).
SHUTDOWN_COMMANDS = ("shutdown", "shutdown_if_idle")


def register_system_routes(app: QuartTrio, ctx: ServerContext) -> None:
    """Add ``/v1/health``, ``/v1/version``, ``/v1/config``, ``/v1/control``, clients."""

    async def health() -> Response:
        return empty_response()

    async def version() -> Response:
        return json_response(ctx.version)

    async def config() -> Response:
        # Decision B.1: the daemon's own layered config, redacted, plus its
        # settings; a broken global config file is a 500 naming it.
        document: dict[str, object] = {}
        if ctx.config_sources is not None:
            from crushd.config import load_global_config  # not needed to start

            document = (await load_global_config(ctx.config_sources)).redacted()
        return json_response({**document, "crushd": ctx.server_config})

    async def control() -> Response:
        body = await decode_body(ControlRequest)
        if body.command not in SHUTDOWN_COMMANDS:
            raise UnknownCommand
        ctx.registry.request_shutdown()
        return empty_response()

    async def retire_client(client_id: str) -> Response:
        ctx.registry.retire(client_id)
        return empty_response()

    app.add_url_rule("/v1/health", "health", health, methods=["GET"])
    app.add_url_rule("/v1/version", "version", version, methods=["GET"])
    app.add_url_rule("/v1/config", "config", config, methods=["GET"])
    app.add_url_rule("/v1/control", "control", control, methods=["POST"])
    app.add_url_rule(
        "/v1/clients/<client_id>", "retire_client", retire_client, methods=["DELETE"]
    )
