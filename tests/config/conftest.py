"""Fixtures for config tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._support import Machine, make_machine


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    """A fake machine with a git repo and a workspace folder inside it."""
    return make_machine(tmp_path)
