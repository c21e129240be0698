"""The ``job_output`` and ``job_kill`` tools: read or stop a background job.

Source: Crush ``internal/agent/tools/job_output.go`` (``wait`` up to
``timeout_seconds``, default 60, at most 600; ``Status: ...`` form; metadata)
and ``job_kill.go``; docs/agent.md 2.2. Neither asks permission.
"""

from __future__ import annotations

import json

import trio

from ._input import InputError, parse_input, prop, schema
from ._jobs import Job, JobTable
from ._shellout import NO_OUTPUT, truncate_output
from ._types import ToolCall, ToolContext, ToolResult

#: Seconds ``wait`` waits when no ``timeout_seconds`` is given.
DEFAULT_WAIT_SECONDS = 60
#: Longest wait, seconds.
MAX_WAIT_SECONDS = 600

JOB_OUTPUT_DESCRIPTION = f"""\
Show the status (running or completed) and the output so far of a background \
job started by `bash`. With `wait` true, wait until the job ends, at most \
`timeout_seconds` (default {DEFAULT_WAIT_SECONDS}, at most {MAX_WAIT_SECONDS}); \
for servers and watchers poll without waiting instead."""

JOB_OUTPUT_PARAMETERS = schema(
    {
        "shell_id": prop("string", "The background job's id"),
        "wait": prop("boolean", "True to wait until the job ends"),
        "timeout_seconds": prop(
            "integer", f"Most seconds to wait (default {DEFAULT_WAIT_SECONDS})"
        ),
    },
    required=("shell_id",),
)

JOB_KILL_DESCRIPTION = """\
Stop a background job started by `bash`: its whole process group gets SIGINT, \
then SIGKILL two seconds later. The job is then forgotten."""

JOB_KILL_PARAMETERS = schema(
    {"shell_id": prop("string", "The background job's id")}, required=("shell_id",)
)


class JobOutputTool:
    """``job_output``: a background job's status and output."""

    def __init__(self) -> None:
        self.name = "job_output"
        self.description = JOB_OUTPUT_DESCRIPTION
        self.parameters = JOB_OUTPUT_PARAMETERS
        self.parallel = False

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Return ``Status: running|completed`` and the output, or an error."""
        try:
            args = parse_input(call.input, self.parameters)
            job = _find(ctx.jobs, str(args["shell_id"]))
        except InputError as exc:
            return exc.result()
        if args.get("wait"):
            with trio.move_on_after(_wait_seconds(args.get("timeout_seconds"))):
                await job.done.wait()
        return _report(job)


def _wait_seconds(given: object) -> int:
    seconds = given if isinstance(given, int) and given > 0 else DEFAULT_WAIT_SECONDS
    return min(seconds, MAX_WAIT_SECONDS)


def _report(job: Job) -> ToolResult:
    done = job.done.is_set()
    parts = [text for text in (job.stdout.text(), job.stderr.text()) if text]
    if done and job.exit_code is None:
        parts.append("Command was aborted before completion")
    elif done and job.exit_code:
        parts.append(f"Exit code {job.exit_code}")
    output = truncate_output("\n".join(parts)) or NO_OUTPUT
    metadata = {
        "shell_id": job.id,
        "command": job.command,
        "description": job.description,
        "done": done,
        "working_directory": job.working_dir.as_posix(),
    }
    status = "completed" if done else "running"
    return ToolResult(f"Status: {status}\n\n{output}", metadata=json.dumps(metadata))


class JobKillTool:
    """``job_kill``: stop a background job and forget it."""

    def __init__(self) -> None:
        self.name = "job_kill"
        self.description = JOB_KILL_DESCRIPTION
        self.parameters = JOB_KILL_PARAMETERS
        self.parallel = False

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Stop the job (waiting until its group is gone); error if unknown."""
        try:
            args = parse_input(call.input, self.parameters)
            job = _find(ctx.jobs, str(args["shell_id"]))
        except InputError as exc:
            return exc.result()
        assert ctx.jobs is not None  # _find checked it
        await ctx.jobs.kill(job.id)
        metadata = {
            "shell_id": job.id,
            "command": job.command,
            "description": job.description,
        }
        return ToolResult(
            f"Background shell {job.id} terminated successfully",
            metadata=json.dumps(metadata),
        )


def _find(jobs: JobTable | None, shell_id: str) -> Job:
    if not shell_id:
        raise InputError("missing shell_id")
    job = jobs.get(shell_id) if jobs is not None else None
    if job is None:
        raise InputError(f"background shell not found: {shell_id}")
    return job
