"""Start-up speed helpers of ``crushd.cli``: the collector pause around imports."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from crushd.cli import collector_paused


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
