"""Fixtures shared by the workspace tests."""

from __future__ import annotations

import pytest

from ._permission_helpers import Harness, make_harness


@pytest.fixture
def harness() -> Harness:
    """A fresh permission service with its recording sink (see ``make_harness``)."""
    return make_harness()
