"""LineReader: one read in flight, lines handed out in order, EOF remembered."""

from __future__ import annotations

import io
from typing import TextIO, cast

import pytest
import trio
import trio.testing

from crushctl.cli._terminal import LineReader


async def test_two_prompts_take_turns_and_eof_ends_both(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two concurrent asks each get their own line, in order, never the same
    one; after the input ends every ask answers None at once."""
    got: list[str | None] = []
    async with trio.open_nursery() as nursery:
        reader = LineReader(nursery, io.StringIO("first\nsecond\r\n"))

        async def ask(prompt: str) -> None:
            got.append(await reader.ask(prompt))

        async with trio.open_nursery() as asks:
            asks.start_soon(ask, "A? ")
            asks.start_soon(ask, "B? ")
        assert sorted(filter(None, got)) == ["first", "second"]
        assert await reader.ask("C? ") is None
        assert await reader.ask("D? ") is None
    err = capsys.readouterr().err
    assert err.count("? ") == 3  # D is not shown: the input had ended


async def test_a_cancelled_ask_leaves_its_line_to_the_next(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An ask cancelled while its read is in flight: the next ask gets that
    line (no second reader), and end_prompt closes the open prompt line."""
    gate = trio.Event()

    class Slow:
        def readline(self) -> str:
            trio.from_thread.run(gate.wait)
            return "late\n"

    async with trio.open_nursery() as nursery:
        reader = LineReader(nursery, cast(TextIO, Slow()))
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as first:
                first.start_soon(reader.ask, "first? ")
                await trio.testing.wait_all_tasks_blocked()
                scope.cancel()  # the prompt closes while the read waits
        reader.end_prompt()
        gate.set()
        assert await reader.ask("again? ") == "late"
    assert capsys.readouterr().err == "first? \nagain? "
