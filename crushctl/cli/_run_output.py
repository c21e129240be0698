"""What ``crushctl run`` prints: the answer on stdout, tool calls on stderr."""

from __future__ import annotations

import contextlib
import sys

from crushctl import RetrySeen, RunOutput, RunResult, TextChunk, ToolCallSeen

from ._output import notice
from ._render import tool_line
from ._rich import spinner

#: Marks a tool call line on stderr.
TOOL_ARROW = "→"


def retry_line(retry: RetrySeen) -> str:
    """``model call failed (<error>); retry 1 of 3 in 5 s``."""
    return (
        f"model call failed ({retry.error}); "
        f"retry {retry.retry} of {retry.retries} in {retry.delay_seconds:g} s"
    )


class RunPrinter:
    """Print a run's outputs as they come.

    Live (the default): each text chunk on stdout at once, a new line between
    the texts of two steps, one ``→ <tool> <main argument>`` line per tool
    call on stderr, a notice on stderr when a failed model call is retried,
    a final newline. ``quiet``: nothing until the end, then
    only the final text. ``silent``: nothing (``--json`` prints events instead).
    While waiting for the first output (``waiting``), a spinner runs on stderr
    when it is a terminal; any output or prompt stops it first.

    Args:
        quiet: print only the final text.
        silent: print no text at all.
    """

    def __init__(self, *, quiet: bool = False, silent: bool = False) -> None:
        self._quiet = quiet or silent
        self._silent = silent
        self._open_line = False  # stdout's last character is not a newline
        self._spinner: contextlib.ExitStack | None = None

    def waiting(self) -> None:
        """Show ``waiting for the model`` with a spinner (stderr terminal only)."""
        if self._silent or self._spinner is not None:
            return
        self._spinner = contextlib.ExitStack()
        self._spinner.enter_context(spinner("waiting for the model"))

    def stop_waiting(self) -> None:
        """Remove the spinner, if one runs; idempotent."""
        stack, self._spinner = self._spinner, None
        if stack is not None:
            stack.close()

    def show(self, output: RunOutput) -> None:
        """Print one output of ``RunFollower`` (live mode only)."""
        if not self._quiet:
            self.stop_waiting()
        if self._quiet or isinstance(output, RunResult):
            return
        if isinstance(output, ToolCallSeen):
            self.end_line()
            print(
                f"{TOOL_ARROW} {tool_line(output.name, output.input)}", file=sys.stderr
            )
            sys.stderr.flush()
        elif isinstance(output, RetrySeen):
            self.end_line()
            notice(retry_line(output))
        else:
            self._text(output)

    def finish(self, result: RunResult) -> None:
        """Print what ends the output: a newline, or the final text when quiet."""
        self.stop_waiting()
        if self._silent:
            return
        if not self._quiet:
            self.end_line()
        elif result.text.strip():
            print(result.text.strip(), flush=True)

    def _text(self, chunk: TextChunk) -> None:
        if chunk.restarted:
            self.end_line()
            notice("the model call was retried; its answer starts again")
        elif chunk.first:
            self.end_line()
        sys.stdout.write(chunk.text)
        sys.stdout.flush()
        self._open_line = not chunk.text.endswith("\n")

    def end_line(self) -> None:
        """End stdout's open line (before a prompt or notice on stderr)."""
        self.stop_waiting()
        if self._open_line:
            sys.stdout.write("\n")
            sys.stdout.flush()
            self._open_line = False
