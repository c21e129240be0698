"""``crushctl trust``: let a project's crushrc scripts run, or stop them.

crushd runs a project's ``crushrc``/``.crushrc`` only when the user's trust
list holds its path and the sha256 of its content (``crushd.trust``). This
command shows the project's scripts with their hashes and state, then trusts
every current one (or, with ``--revoke``, removes them; with ``--list``,
changes nothing). It reads and writes local files only: no daemon is asked,
none is started. A script another uid controls is never trusted.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import attrs
import trio

from crushctl import CrushctlError
from crushd.trust import (
    SCRIPT_NAMES,
    ProjectScript,
    TrustListError,
    check_trusted,
    load_trust_list,
    project_dirs,
    project_scripts,
    revoke_scripts,
    trust_list_path,
    trust_scripts,
)

from ._common import Context, workspace_path
from ._output import print_json, print_table

Mode = Literal["trust", "revoke", "list"]
State = Literal["trusted", "untrusted", "edited", "refused"]

_HEADERS = ("STATE", "SHA256", "PATH")


@attrs.frozen
class ScriptRow:
    """One project script and where it stands after the command.

    Attributes:
        path: the script's absolute path.
        sha256: the hex sha256 of its content; ``None`` when it cannot be
            read (or no longer exists, after ``--revoke``).
        state: ``trusted``; ``untrusted`` (not listed); ``edited`` (listed
            with another hash: changed since it was trusted); ``refused``
            (can never be trusted, ``problem`` says why).
        changed: this command trusted or revoked it.
        problem: why a ``refused`` script cannot run, else ``None``.
    """

    path: Path
    sha256: str | None
    state: State
    changed: bool = False
    problem: str | None = None


async def cmd_trust(ctx: Context, args: argparse.Namespace) -> None:
    """Show the project's scripts and trust, revoke or only list them.

    Raises:
        CrushctlError: ``--cwd`` is not a trusted folder, the trust list
            cannot be used, or some script cannot be trusted (after printing;
            exit status 1).
    """
    path = workspace_path(getattr(args, "cwd", None))
    mode: Mode = "revoke" if args.revoke else "list" if args.list else "trust"
    trust_file = trust_list_path()
    rows = await trio.to_thread.run_sync(apply_trust, path, trust_file, mode)
    if ctx.json:
        print_json(_json(path, trust_file, rows))
    else:
        _print(path, trust_file, rows, mode)
    refused = [row for row in rows if row.state == "refused" and mode == "trust"]
    if refused:
        raise CrushctlError(f"{len(refused)} script(s) cannot be trusted")


def apply_trust(path: Path, trust_file: Path, mode: Mode) -> list[ScriptRow]:
    """Trust, revoke or list the scripts of the project at ``path``; blocking.

    Args:
        path: the project folder (absolute).
        trust_file: the user's trust list.
        mode: ``trust`` every current script that may be trusted, ``revoke``
            every entry for the project's script paths, or ``list`` only.

    Returns:
        One row per script, root first; after ``revoke``, also a row for each
        entry removed whose script no longer exists.

    Raises:
        CrushctlError: ``path`` is not a folder or not trusted, or the trust
            list cannot be read or written.
    """
    folders = _project_folders(path)
    try:
        listed = load_trust_list(trust_file)
        scripts = project_scripts(path)
        if mode == "trust":
            return _trust(trust_file, listed, scripts)
        if mode == "revoke":
            return _revoke(trust_file, listed, scripts, folders)
    except TrustListError as exc:
        raise CrushctlError(str(exc)) from None
    return [_row(script, listed) for script in scripts]


def _project_folders(path: Path) -> list[Path]:
    if not path.is_dir():
        raise CrushctlError(f"{path}: not a directory")
    folders = project_dirs(path)
    if not folders:
        reason = check_trusted(path) or "not trusted"
        detail = f"{path} is {reason}: crushd reads no project file there"
        raise CrushctlError(detail)
    return folders


def _row(script: ProjectScript, listed: Mapping[Path, str]) -> ScriptRow:
    if script.sha256 is None:
        return ScriptRow(script.path, None, "refused", problem=script.problem)
    known = listed.get(script.path)
    state: State = "untrusted" if known is None else "edited"
    if known == script.sha256:
        state = "trusted"
    return ScriptRow(script.path, script.sha256, state)


def _trust(
    trust_file: Path, listed: Mapping[Path, str], scripts: list[ProjectScript]
) -> list[ScriptRow]:
    before = [_row(script, listed) for script in scripts]
    new = {r.path: r.sha256 for r in before if r.sha256 and r.state != "trusted"}
    if new:
        trust_scripts(trust_file, new)
    return [
        attrs.evolve(row, state="trusted", changed=True) if row.path in new else row
        for row in before
    ]


def _revoke(
    trust_file: Path,
    listed: Mapping[Path, str],
    scripts: list[ProjectScript],
    folders: list[Path],
) -> list[ScriptRow]:
    candidates = [folder / name for folder in folders for name in SCRIPT_NAMES]
    removed = set(revoke_scripts(trust_file, candidates))
    rows = {
        s.path: attrs.evolve(_row(s, {}), changed=s.path in removed) for s in scripts
    }
    gone = [
        ScriptRow(p, None, "untrusted", changed=True) for p in removed - rows.keys()
    ]
    return sorted([*rows.values(), *gone], key=lambda row: candidates.index(row.path))


def _json(path: Path, trust_file: Path, rows: list[ScriptRow]) -> dict[str, object]:
    return {
        "path": str(path),
        "trust_file": str(trust_file),
        "scripts": [
            {**attrs.asdict(row, recurse=False), "path": str(row.path)} for row in rows
        ],
    }


def _print(path: Path, trust_file: Path, rows: list[ScriptRow], mode: Mode) -> None:
    if not rows:
        print(f"no project scripts ({', '.join(SCRIPT_NAMES)}) for {path}")
        return
    print_table(_HEADERS, [_cells(row) for row in rows])
    for row in rows:
        if row.state == "refused":
            print(f"{row.path}: {row.problem}: another user could change it,")
            print("  so crushd never runs it and crushctl trust never trusts it")
    changed = sum(row.changed for row in rows)
    if changed and mode != "list":
        verb = "revoked" if mode == "revoke" else "trusted"
        print(f"{verb} {changed} script(s) in {trust_file}")


def _cells(row: ScriptRow) -> tuple[str, str, str]:
    state: str = row.state
    if row.changed:
        state = "trusted (now)" if row.state == "trusted" else "revoked"
    return (state, row.sha256 or "-", str(row.path))
