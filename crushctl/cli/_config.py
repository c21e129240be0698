"""``crushctl config get|set|unset``: read and change the layered crush.json."""

from __future__ import annotations

import argparse
import json

from crushctl import CrushctlError
from crushd.proto import SCOPE_GLOBAL, SCOPE_WORKSPACE, redact

from ._common import Context, joined_workspace
from ._output import print_json

_SCOPE_NAMES = {SCOPE_GLOBAL: "global config", SCOPE_WORKSPACE: "workspace config"}


def parse_value(text: str) -> object:
    """Return ``text`` parsed as JSON, else the text itself as a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def lookup(document: object, key: str) -> object:
    """Return the value at the dotted ``key``.

    Raises:
        CrushctlError: some part of the key is not there.
    """
    value = document
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise CrushctlError(f"config key not set: {key}")
        value = value[part]
    return value


def _scope(args: argparse.Namespace) -> int:
    return SCOPE_GLOBAL if args.global_scope else SCOPE_WORKSPACE


def _cwd(args: argparse.Namespace) -> str | None:
    return getattr(args, "cwd", None)


async def cmd_config_get(ctx: Context, args: argparse.Namespace) -> None:
    """Print the effective config (secrets redacted), or the value at ``KEY``."""
    async with joined_workspace(ctx.client, _cwd(args), spawn=ctx.spawn) as ws:
        document = await ctx.client.config(ws.id)
    value = lookup(document, args.key) if args.key else document
    if ctx.json or not isinstance(value, str):
        print_json(value)
    else:
        print(value)


async def cmd_config_set(ctx: Context, args: argparse.Namespace) -> None:
    """Write ``VALUE`` (JSON, else a string) at ``KEY`` in the chosen scope file."""
    value = parse_value(args.value)
    scope = _scope(args)
    async with joined_workspace(ctx.client, _cwd(args), spawn=ctx.spawn) as ws:
        await ctx.client.set_config(ws.id, args.key, value, scope=scope)
    _report(ctx, "set", args.key, scope, value)


async def cmd_config_unset(ctx: Context, args: argparse.Namespace) -> None:
    """Delete ``KEY`` from the chosen scope file."""
    scope = _scope(args)
    async with joined_workspace(ctx.client, _cwd(args), spawn=ctx.spawn) as ws:
        await ctx.client.remove_config(ws.id, args.key, scope=scope)
    _report(ctx, "unset", args.key, scope)


def _report(ctx: Context, action: str, key: str, scope: int, *value: object) -> None:
    value = tuple(_as_shown(key, v) for v in value)
    if ctx.json:
        result: dict[str, object] = {"action": action, "key": key, "scope": scope}
        if value:
            result["value"] = value[0]
        print_json(result)
        return
    shown = f" = {json.dumps(value[0], ensure_ascii=False)}" if value else ""
    print(f"{action} {key}{shown} ({_SCOPE_NAMES[scope]})")


def _as_shown(key: str, value: object) -> object:
    """Return ``value`` as the daemon would show it at ``key``: secrets masked."""
    parts = key.split(".")
    nested = value
    for part in reversed(parts):
        nested = {part: nested}
    masked = redact(nested)
    for part in parts:
        assert isinstance(masked, dict)
        masked = masked[part]
    return masked


def add_config_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: list[argparse.ArgumentParser],
    cwd: argparse.ArgumentParser,
) -> None:
    """Add ``config get|set|unset`` under ``commands``.

    Args:
        commands: the top-level sub-command table.
        common: parent parsers every command takes (``--host``, ``--json``).
        cwd: a parent parser adding ``--cwd``.
    """
    text = "read or change the workspace's configuration"
    config = commands.add_parser("config", help=text, description=text, parents=common)
    config.set_defaults(spawns=True)
    actions = config.add_subparsers(
        dest="config_command", required=True, metavar="ACTION"
    )
    parents = [*common, cwd]
    get = actions.add_parser("get", help="print the effective config", parents=parents)
    get.set_defaults(handler=cmd_config_get)
    get.add_argument("key", nargs="?", metavar="KEY", help="a dotted key")
    for name, handler, help_text in (
        ("set", cmd_config_set, "write KEY = VALUE (JSON, else a string)"),
        ("unset", cmd_config_unset, "delete KEY"),
    ):
        sub = actions.add_parser(name, help=help_text, parents=parents)
        sub.set_defaults(handler=handler)
        sub.add_argument(
            "--global",
            dest="global_scope",
            action="store_true",
            help="change the global data config (every workspace) instead",
        )
        sub.add_argument("key", metavar="KEY", help="a dotted key, e.g. options.debug")
        if name == "set":
            sub.add_argument("value", metavar="VALUE", help="a JSON value or text")
