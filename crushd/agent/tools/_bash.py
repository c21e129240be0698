"""The ``bash`` tool: run a shell command in the workspace.

Each call is a fresh ``bash -c`` in its own process group (``_procgroup``),
started as a job of the workspace's ``JobTable``: the call waits for it, and
hands it over as a background job when ``run_in_background`` is set (after a
1 s fast-failure check) or when it runs longer than ``auto_background_after``
seconds. Banned commands are refused; anything but a read-only command asks
the ``execute`` permission first (``_shellparse``). Cancelling the call stops
the command's whole group before the cancellation goes on.

Source: Crush ``internal/agent/tools/bash.go`` (parameters, permission
params, output form, metadata); docs/agent.md 2.2 and 2.3.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import attrs
import trio

from ._input import InputError, JSONObject, parse_input, prop, schema
from ._jobs import Job, JobError, JobTable, RingBuffer
from ._procgroup import open_group, run_group, shell_env
from ._shellout import MAX_OUTPUT_CHARS, NO_OUTPUT, format_output
from ._shellparse import check_command
from ._shellrules import BANNED_COMMANDS
from ._types import PermissionAsk, ToolCall, ToolContext, ToolResult

#: Seconds a command runs before it becomes a background job, by default.
DEFAULT_AUTO_BACKGROUND_SECONDS = 60
#: Seconds an explicit background command is watched for a quick failure.
FAST_FAIL_SECONDS = 1.0

BASH_DESCRIPTION = f"""\
Run a shell command with bash in the workspace (or in `working_dir`) and \
return its output. Every call starts a fresh shell: `cd` and variables do not \
carry over, so give absolute paths or set `working_dir`. stdin is empty and \
there is no terminal; pagers and editors are turned off.

- stdout and stderr come back, each cut to {MAX_OUTPUT_CHARS} characters \
(middle removed), with a note for a non-zero exit code.
- A command still running after `auto_background_after` seconds (default \
{DEFAULT_AUTO_BACKGROUND_SECONDS}) becomes a background job; \
`run_in_background` starts one at once (servers, watchers). Read a job with \
`job_output` and stop it with `job_kill`.
- Commands that only read (ls, pwd, git status/log/diff...) run at once; any \
other command waits for the user's permission.
- These commands are refused: {", ".join(sorted(BANNED_COMMANDS))}; so are \
global or system package installs. Use the fetch tool for URLs."""

BASH_PARAMETERS = schema(
    {
        "description": prop("string", "What the command does, in about 30 characters"),
        "command": prop("string", "The command to run"),
        "working_dir": prop("string", "Folder to run in (default: the workspace)"),
        "run_in_background": prop("boolean", "True to start it as a background job"),
        "auto_background_after": prop(
            "integer",
            "Seconds before a running command becomes a background job "
            f"(default {DEFAULT_AUTO_BACKGROUND_SECONDS})",
        ),
    },
    required=("description", "command"),
)


@attrs.frozen
class _Request:
    args: JSONObject
    command: str
    description: str
    cwd: Path
    background: bool
    wait: float
    session_id: str
    started: float = attrs.field(factory=time.time)


class BashTool:
    """``bash``: run a command, ask permission unless it is read-only."""

    def __init__(self) -> None:
        self.name = "bash"
        self.description = BASH_DESCRIPTION
        self.parameters = BASH_PARAMETERS
        self.parallel = False

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Run the command; return its output, a job id, or an error result."""
        try:
            req = _request(call.input, ctx.root, ctx.session_id)
        except InputError as exc:
            return exc.result()
        check = check_command(req.command)
        if check.banned is not None:
            return ToolResult(check.banned, is_error=True)
        if not check.read_only and not await ctx.allowed(_ask(req)):
            return ctx.denied()
        if ctx.jobs is None:
            if req.background:
                return ToolResult("background jobs are not available", is_error=True)
            return await _run_here(req)
        return await _run_as_job(ctx.jobs, req)


def _request(text: str, root: Path, session_id: str) -> _Request:
    args = parse_input(text, BASH_PARAMETERS)
    command = str(args["command"])
    if not command.strip():
        raise InputError("missing command")
    _check_text(command, "command")
    background = bool(args.get("run_in_background", False))
    after = args.get("auto_background_after", 0)
    wait = (
        after
        if isinstance(after, int) and after > 0
        else DEFAULT_AUTO_BACKGROUND_SECONDS
    )
    return _Request(
        args=args,
        command=command,
        description=str(args["description"]),
        cwd=_working_dir(root, str(args.get("working_dir", ""))),
        background=background,
        wait=FAST_FAIL_SECONDS if background else float(wait),
        session_id=session_id,
    )


def _working_dir(root: Path, given: str) -> Path:
    _check_text(given, "working_dir")
    path = (root / Path(given).expanduser()).resolve() if given else root
    if not path.is_dir():
        raise InputError(f"working directory does not exist: {path}")
    return path


def _check_text(value: str, key: str) -> None:
    """Refuse what no program can be given: NUL bytes, lone surrogates."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{key} is not valid text") from None
    if "\x00" in value:
        raise InputError(f"{key} must not contain NUL characters")


def _ask(req: _Request) -> PermissionAsk:
    params = {
        "description": req.description,
        "command": req.command,
        "working_dir": str(req.args.get("working_dir", "")),
        "run_in_background": req.background,
        "auto_background_after": req.args.get("auto_background_after", 0),
    }
    return PermissionAsk(
        tool_name="bash",
        action="execute",
        path=str(req.cwd),
        description=f"Execute command: {req.command}",
        params=params,
    )


async def _run_as_job(jobs: JobTable, req: _Request) -> ToolResult:
    try:
        job = await jobs.start(req.command, req.cwd, req.description, req.session_id)
    except (JobError, OSError) as exc:
        return ToolResult(f"error starting shell: {exc}", is_error=True)
    try:
        with trio.move_on_after(req.wait):
            await job.done.wait()
    except BaseException:
        await jobs.kill(job.id)  # shielded: the group is gone when this returns
        raise
    if not job.done.is_set():
        jobs.mark_background(job, auto=not req.background)
        return _backgrounded(req, job)
    jobs.remove(job.id)
    return _finished(req, job.stdout.text(), job.stderr.text(), job.exit_code)


async def _run_here(req: _Request) -> ToolResult:
    """Run without a job table (no background jobs): wait for the end."""
    out, err = RingBuffer(), RingBuffer()
    try:
        process = await open_group(req.command, req.cwd, shell_env())
    except OSError as exc:
        return ToolResult(f"error starting shell: {exc}", is_error=True)
    status = await run_group(process, out.write, err.write)
    return _finished(
        req, out.text(), err.text(), status if status >= 0 else 128 - status
    )


def _finished(req: _Request, stdout: str, stderr: str, code: int | None) -> ToolResult:
    output = format_output(stdout, stderr, code)
    metadata = _metadata(req, output=output)
    if not output:
        return ToolResult(NO_OUTPUT, metadata=metadata)
    return ToolResult(f"{output}\n\n<cwd>{req.cwd.as_posix()}</cwd>", metadata=metadata)


def _backgrounded(req: _Request, job: Job) -> ToolResult:
    metadata = _metadata(req, background=True, shell_id=job.id)
    if req.background:
        text = f"Background shell started with ID: {job.id}"
    else:
        text = (
            "Command is taking longer than expected and has been moved to "
            f"background.\n\nBackground shell ID: {job.id}"
        )
    tail = "Use job_output tool to view output or job_kill to terminate."
    return ToolResult(f"{text}\n\n{tail}", metadata=metadata)


def _metadata(
    req: _Request, *, output: str = "", background: bool = False, shell_id: str = ""
) -> str:
    data: dict[str, object] = {
        "start_time": int(req.started * 1000),
        "end_time": int(time.time() * 1000),
        "output": output,
        "description": req.description,
        "working_directory": req.cwd.as_posix(),
    }
    if background or req.background:
        data["background"] = True
    if shell_id:
        data["shell_id"] = shell_id
    return json.dumps(data)
