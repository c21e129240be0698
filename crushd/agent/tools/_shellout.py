"""How a command's output is shown to the model: truncation and the error note.

Source: Crush ``internal/agent/tools/bash.go`` (``TruncateOutput``,
``formatOutput``, 30 000 characters, ``no output``); docs/agent.md 2.2.
crushd keeps no spill file of the cut middle.
"""

from __future__ import annotations

#: Most characters of one output stream the model sees.
MAX_OUTPUT_CHARS = 30_000
#: The result text of a command that printed nothing.
NO_OUTPUT = "no output"


def truncate_output(content: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Return ``content``, or its head and tail with the middle replaced.

    Args:
        content: the text.
        limit: most characters kept; half from each end.

    Returns:
        ``content`` when it fits, else the head, a blank line, ``... [N lines
        truncated] ...``, a blank line and the tail, where N counts the line
        breaks cut out.
    """
    if len(content) <= limit:
        return content
    half = limit // 2
    head, tail = content[:half], content[-half:]
    cut = content.count("\n") - head.count("\n") - tail.count("\n")
    return f"{head}\n\n... [{max(cut, 0)} lines truncated] ...\n\n{tail}"


def format_output(stdout: str, stderr: str, exit_code: int | None) -> str:
    """Return what the model reads for a finished command.

    Args:
        stdout: the command's standard output (truncated here).
        stderr: its error output (truncated here).
        exit_code: the exit status, None when the command was stopped.

    Returns:
        stdout, then stderr, then ``Exit code N`` (non-zero status) or
        ``Command was aborted before completion`` (stopped); ``""`` when all
        are empty.
    """
    stdout, stderr = truncate_output(stdout), truncate_output(stderr)
    note = ""
    if exit_code is None:
        note = "Command was aborted before completion"
    elif exit_code != 0:
        note = f"Exit code {exit_code}"
    message = "\n".join(part for part in (stderr, note) if part)
    if stdout and stderr:
        stdout += "\n"
    return f"{stdout}\n{message}" if message else stdout
