"""``crushctl status``: health, version, the daemon's process facts, workspaces.

The facts (pid, uptime, socket, log file, data folders) come from
``GET /v1/config``'s ``crushd`` key (docs/protocol.md 2.1); an older daemon
without them shows ``-``.
"""

from __future__ import annotations

import argparse
from typing import Any

from crushctl import Client, CrushctlError, NotFoundError
from crushd.proto import ClientInfo, VersionInfo, Workspace

from ._commands import print_clients
from ._common import Context
from ._output import plain, print_json, print_pairs


async def cmd_status(ctx: Context, args: argparse.Namespace) -> None:
    """Print health, version, the daemon's process facts, and every workspace.

    The facts (pid, uptime, socket, log file, data folders) come from
    ``GET /v1/config``'s ``crushd`` key; an older daemon without them shows ``-``.
    """
    client = ctx.client
    await client.health()
    version = await client.version()
    facts = daemon_facts(client, await _server_settings(client))
    rosters = [(ws, await _roster(client, ws.id)) for ws in await client.workspaces()]
    live = [(ws, roster) for ws, roster in rosters if roster is not None]
    if ctx.json:
        print_json({**_status_json(client, version, live), "daemon": facts})
        return
    _print_status(client, version, facts, live)


async def _server_settings(client: Client) -> dict[str, Any]:
    try:
        settings = (await client.server_config()).get("crushd")
    except CrushctlError:
        return {}  # a broken global config is a 500 here; status still answers
    return settings if isinstance(settings, dict) else {}


def daemon_facts(client: Client, settings: dict[str, Any]) -> dict[str, object]:
    """Return ``pid``, ``uptime_seconds``, ``socket``, ``log_file``, ``data_dirs``.

    Each is ``None`` when the daemon does not say (an older crushd);
    ``socket`` is the unix socket's path, ``None`` for a tcp host.
    """
    dirs = settings.get("data_dirs")
    return {
        "pid": settings.get("pid"),
        "uptime_seconds": settings.get("uptime_seconds"),
        "socket": client.host.address if client.host.scheme == "unix" else None,
        "log_file": settings.get("log_file"),
        "data_dirs": dirs if isinstance(dirs, dict) else None,
    }


async def _roster(client: Client, workspace_id: str) -> list[ClientInfo] | None:
    try:
        return await client.clients(workspace_id)
    except NotFoundError:
        return None  # torn down since it was listed


def _status_json(
    client: Client,
    version: VersionInfo,
    live: list[tuple[Workspace, list[ClientInfo]]],
) -> dict[str, object]:
    return {
        "host": client.host.url,
        "healthy": True,
        "version": plain(version),
        "workspaces": [
            {"id": ws.id, "path": ws.path, "data_dir": ws.data_dir, "clients": plain(r)}
            for ws, r in live
        ],
    }


def _print_status(
    client: Client,
    version: VersionInfo,
    facts: dict[str, object],
    live: list[tuple[Workspace, list[ClientInfo]]],
) -> None:
    rows = [
        ("host", client.host.url),
        ("status", "healthy"),
        ("version", f"{version.version} ({version.go_version}, {version.platform})"),
        ("pid", _text(facts["pid"])),
        ("uptime", format_duration(facts["uptime_seconds"])),
        ("socket", _text(facts["socket"])),
        ("log file", _text(facts["log_file"])),
        *_dir_rows(facts["data_dirs"]),
        ("workspaces", str(len(live))),
    ]
    print_pairs([(f"{key}:", value) for key, value in rows])
    for workspace, roster in live:
        print()
        print(f"workspace {workspace.id}  {workspace.path}")
        print(f"  data dir: {workspace.data_dir or '-'}")
        print_clients(roster, client.client_id, indent="  ")


def _text(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def _dir_rows(dirs: object) -> list[tuple[str, str]]:
    if not isinstance(dirs, dict):
        return [("data dirs", "-")]
    return [(f"{name} dir", _text(path)) for name, path in dirs.items()]


def format_duration(seconds: object) -> str:
    """Return ``seconds`` as ``1d 2h 3m 4s`` (leading zero units left out).

    Anything that is not a number (an older daemon's missing value) is ``-``.
    """
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return "-"
    left = int(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if left >= size or parts:
            parts.append(f"{left // size}{unit}")
            left %= size
    return " ".join([*parts, f"{left}s"])
