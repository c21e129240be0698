"""Start-up of ``crushd.cli``: the collector pause around imports, ``make run``."""

from __future__ import annotations

import gc
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
import trio.testing

from crushd.cli import build_parser, collector_paused, settings_from_args
from crushd.registry._claims import arm_timer


@pytest.fixture
def collector_state() -> Iterator[None]:
    """Restore the collector's state whatever a test leaves behind."""
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector_state")
def test_collector_is_off_inside_and_back_on_after() -> None:
    """An enabled collector is paused in the block and enabled again after it."""
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_state")
def test_collector_is_restored_when_the_block_raises() -> None:
    """An exception leaving the block still turns the collector back on."""
    gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_state")
def test_collector_left_off_when_it_was_off() -> None:
    """A collector someone else disabled stays disabled after the block."""
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_python_m_crushd_leaves_the_collector_on() -> None:
    """``python -m crushd`` re-enables the collector it paused for the cli import."""
    code = (
        "import sys, gc, runpy\n"
        "import crushd.cli\n"
        "crushd.cli.main = lambda: print(gc.isenabled())\n"
        "runpy.run_module('crushd', run_name='__main__')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True"


def _make_run_argv() -> list[str]:
    """The ``crushd`` arguments of the Makefile's ``run`` recipe, without $(ARGS)."""
    makefile = Path(__file__).resolve().parent.parent / "Makefile"
    lines = makefile.read_text().splitlines()
    recipe = lines[lines.index("run: $(STAMP)") + 1].split()
    assert recipe[:2] == ["$(BIN)/crushd", "serve"], recipe
    return [word for word in recipe[1:] if word != "$(ARGS)"]


def test_make_run_has_no_idle_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """``make run`` is a foreground daemon: its idle linger never ends, even
    with CRUSH_SERVER_IDLE_TIMEOUT set; ``make run ARGS=--idle-timeout 5`` wins."""
    monkeypatch.setenv("CRUSH_SERVER_IDLE_TIMEOUT", "1")
    argv = _make_run_argv()
    settings = settings_from_args(build_parser().parse_args(argv))
    assert settings.idle_timeout_seconds == math.inf
    again = build_parser().parse_args([*argv, "--idle-timeout", "5"])
    assert settings_from_args(again).idle_timeout_seconds == 5


async def test_an_infinite_idle_linger_never_fires(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The registry's timer with ``inf`` seconds waits forever (no overflow)."""
    fired: list[trio.CancelScope] = []
    async with trio.open_nursery() as nursery:
        scope = arm_timer(nursery, math.inf, fired.append)
        await trio.sleep(10**9)
        scope.cancel()
    assert fired == []
