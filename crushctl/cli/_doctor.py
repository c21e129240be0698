"""``crushctl doctor``: explain why crushd is (not) reachable, without changing it.

Each check prints one line ``ok|warn|FAIL  <what>  <detail>``; the command exits 1
when any check fails. Nothing is started, stopped or removed: a stale socket or
an old daemon is only reported, with what the next ordinary command would do
about it (``ensure_server``, docs/protocol.md 8.4). With ``--cwd DIR`` it also
reports what crushd skips for that project: files and folders another uid
controls, and project scripts the user has not trusted (``crushctl trust``).
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import attrs
import trio

from crushctl import (
    READY_TIMEOUT_ENV,
    Client,
    CrushctlError,
    client_version,
    ready_timeout_seconds,
)
from crushctl._client import TOKEN_ENV, read_token
from crushctl._launch import parse_duration_seconds
from crushd.proto import Host, VersionInfo, server_dir
from crushd.trust import (
    ProjectScript,
    TrustListError,
    load_trust_list,
    project_scripts,
    skipped_entries,
    trust_list_path,
)

from ._common import Context, workspace_path
from ._output import print_json, print_table

#: A dial that takes longer than this counts as "not answering" (seconds).
DIAL_TIMEOUT_SECONDS = 1.0

Level = Literal["ok", "warn", "fail"]


@attrs.frozen
class Finding:
    """One check's outcome.

    Attributes:
        check: what was checked (``socket``, ``daemon``, ``version`` ...).
        level: ``ok``, ``warn`` (works, but look) or ``fail`` (broken).
        detail: a sentence saying what was found and what to do.
    """

    check: str
    level: Level
    detail: str


async def cmd_doctor(ctx: Context, args: argparse.Namespace) -> None:
    """Run every check, print the findings; fail when any check failed.

    Raises:
        CrushctlError: ``N check(s) failed`` after printing (exit status 1).
    """
    findings = await diagnose(ctx.client)
    if cwd := getattr(args, "cwd", None):
        path, trust_file = workspace_path(cwd), trust_list_path()
        findings += await trio.to_thread.run_sync(project_findings, path, trust_file)
    if ctx.json:
        print_json([attrs.asdict(finding) for finding in findings])
    else:
        rows = [(_MARKS[f.level], f.check, f.detail) for f in findings]
        print_table(("", "CHECK", "DETAIL"), rows)
    failed = sum(finding.level == "fail" for finding in findings)
    if failed:
        raise CrushctlError(f"{failed} check(s) failed")


_MARKS: dict[Level, str] = {"ok": "ok", "warn": "warn", "fail": "FAIL"}


async def diagnose(client: Client) -> list[Finding]:
    """Return the findings for ``client``'s host, in the order they are checked.

    Local checks (socket folder and file, token, logs, spawn lock, settings)
    never touch the daemon; the daemon checks only read (health, version,
    workspaces).

    Cancellation: safe; nothing is changed.
    """
    host = client.host
    findings = [Finding("host", "ok", host.url)]
    if host.scheme == "unix":
        findings += _socket_folder(Path(host.address))
        findings.append(await _socket_file(Path(host.address)))
    elif host.scheme == "tcp":
        findings.append(_token(host))
    findings += await _daemon(client)
    findings += _local_files(server_dir(host))
    findings.append(_ready_timeout())
    return findings


# -- the unix socket ------------------------------------------------------------


def _socket_folder(path: Path) -> Iterator[Finding]:
    folder = path.parent
    try:
        found = os.stat(folder)
    except FileNotFoundError:
        yield Finding("socket folder", "ok", f"{folder} does not exist yet")
        return
    except OSError as exc:
        yield Finding("socket folder", "fail", f"cannot stat {folder}: {exc}")
        return
    yield _folder_verdict(folder, found)


def _folder_verdict(folder: Path, found: os.stat_result) -> Finding:
    loose = found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    sticky = found.st_mode & stat.S_ISVTX
    if loose and not sticky:
        mode = f"{stat.S_IMODE(found.st_mode):o}"
        detail = f"{folder} is writable by others (mode {mode}); crushd refuses it"
        return Finding("socket folder", "fail", detail + ": chmod go-w it")
    return Finding("socket folder", "ok", str(folder))


async def _socket_file(path: Path) -> Finding:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return Finding("socket", "ok", f"{path} absent: the next command starts crushd")
    except OSError as exc:
        return Finding("socket", "fail", f"cannot stat {path}: {exc}")
    if not stat.S_ISSOCK(found.st_mode):
        return Finding("socket", "fail", f"{path} is not a socket; move it away")
    return await _dial_verdict(path, found)


async def _dial_verdict(path: Path, found: os.stat_result) -> Finding:
    mode = stat.S_IMODE(found.st_mode)
    problem = await _dial(path)
    if problem == "refused":
        detail = f"{path} is stale (nobody listening): the next command replaces it"
        return Finding("socket", "warn", detail)
    if problem:
        return Finding("socket", "fail", f"{path}: {problem}")
    if mode & 0o077:
        return Finding("socket", "warn", f"{path} has mode {mode:o} (expected 600)")
    return Finding("socket", "ok", f"{path} accepts connections (mode {mode:o})")


async def _dial(path: Path) -> str:
    """Return ``""`` when the socket accepts, ``refused``, or the problem."""
    with trio.move_on_after(DIAL_TIMEOUT_SECONDS):
        try:
            stream = await trio.open_unix_socket(os.fspath(path))
        except ConnectionRefusedError:
            return "refused"
        except OSError as exc:
            return f"cannot connect: {exc.strerror or exc}"
        await stream.aclose()
        return ""
    return f"no answer within {DIAL_TIMEOUT_SECONDS:g} s (daemon hung or starting)"


# -- tcp ------------------------------------------------------------------------


def _token(host: Host) -> Finding:
    if os.environ.get(TOKEN_ENV, "").strip():
        return Finding("token", "ok", f"from ${TOKEN_ENV}")
    if read_token(host, environ={}) is not None:  # {}: the token file only
        return Finding("token", "ok", "read from the daemon's token file")
    detail = f"no ${TOKEN_ENV} and no readable token file: tcp requests get 401"
    return Finding("token", "fail", detail)


# -- the daemon ------------------------------------------------------------------


async def _daemon(client: Client) -> list[Finding]:
    try:
        await client.health()
        version = await client.version()
        workspaces = await client.workspaces()
    except CrushctlError as exc:
        return [Finding("daemon", "warn", f"not reachable: {exc.message}")]
    busy = f"{len(workspaces)} live workspace(s)"
    return [Finding("daemon", "ok", f"healthy, {busy}"), _version(version)]


def _version(info: VersionInfo) -> Finding:
    own = client_version()
    running = f"crushd {info.version} ({info.go_version}, {info.platform})"
    if info.version == own and info.build_id == own:
        return Finding("version", "ok", running)
    detail = f"{running}, crushctl is {own}: replaced when idle by the next command"
    return Finding("version", "warn", detail)


# -- files beside the daemon -----------------------------------------------------


def _local_files(folder: Path) -> list[Finding]:
    checks: list[Callable[[Path], Finding]] = [_logs, _spawn_lock]
    return [check(folder) for check in checks]


def _logs(folder: Path) -> Finding:
    stderr_log = folder / "stderr.log"
    last = _last_line(stderr_log)
    if last and any(word in last.lower() for word in ("error", "traceback")):
        return Finding("logs", "warn", f"{stderr_log} ends with: {last}")
    return Finding("logs", "ok", f"{folder / 'crushd.log'}")


def _last_line(path: Path, tail_bytes: int = 4096) -> str:
    try:
        with path.open("rb") as file:
            file.seek(max(0, file.seek(0, os.SEEK_END) - tail_bytes))
            lines = file.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def _spawn_lock(folder: Path) -> Finding:
    path = folder / "start.lock"
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return Finding("spawn lock", "ok", "free (never taken)")
    except OSError as exc:
        return Finding("spawn lock", "fail", f"cannot open {path}: {exc}")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            return Finding("spawn lock", "fail", f"cannot lock {path}: {exc}")
        return Finding("spawn lock", "warn", f"{path} is held: a client is starting")
    finally:
        os.close(fd)  # closing drops a lock we took
    return Finding("spawn lock", "ok", "free")


def _ready_timeout() -> Finding:
    text = os.environ.get(READY_TIMEOUT_ENV, "").strip()
    seconds = ready_timeout_seconds()
    if not text:
        return Finding("ready timeout", "ok", f"{seconds:g} s (default)")
    try:
        parsed = parse_duration_seconds(text)
    except ValueError:
        parsed = -1.0
    if parsed <= 0:
        detail = f"${READY_TIMEOUT_ENV}={text!r} is not a duration; using {seconds:g} s"
        return Finding("ready timeout", "warn", detail)
    return Finding("ready timeout", "ok", f"{seconds:g} s (${READY_TIMEOUT_ENV})")


# -- the project (--cwd) ----------------------------------------------------------


def project_findings(path: Path, trust_file: Path) -> list[Finding]:
    """Return what crushd skips for the project at ``path``; blocking, read-only.

    One ``warn`` per entry of ``crushd.trust.skipped_entries`` (another uid
    controls it), then one per project script: ``warn`` when it is skipped
    (not in the trust list at ``trust_file``, edited since, or unusable),
    ``ok`` when trusted. A single ``ok`` says when nothing is skipped.
    """
    skipped = skipped_entries(path)
    findings = [
        Finding("skipped", "warn", f"{entry.path} is not used: {entry.reason}")
        for entry in skipped
    ]
    ignored = {entry.path for entry in skipped}
    findings += _script_findings(path, trust_file, ignored)
    return findings or [Finding("project", "ok", f"nothing skipped for {path}")]


def _script_findings(path: Path, trust_file: Path, ignored: set[Path]) -> list[Finding]:
    scripts = [s for s in project_scripts(path) if s.path not in ignored]
    if not scripts:
        return []
    try:
        listed = load_trust_list(trust_file)
    except TrustListError as exc:
        return [Finding("trust list", "warn", f"{exc}: no project script runs")]
    return [_script_finding(script, listed, path) for script in scripts]


def _script_finding(
    script: ProjectScript, listed: dict[Path, str], path: Path
) -> Finding:
    if script.sha256 is None:
        return Finding(
            "project script", "warn", f"{script.path} is skipped: {script.problem}"
        )
    known = listed.get(script.path)
    if known == script.sha256:
        return Finding("project script", "ok", f"{script.path} is trusted")
    why = "not in your trust list" if known is None else "edited since it was trusted"
    detail = (
        f"{script.path} is skipped ({why}; sha256 {script.sha256}):"
        f" review it, then run `crushctl trust --cwd {path}`"
    )
    return Finding("project script", "warn", detail)
