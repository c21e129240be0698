"""Test-session set-up shared by ``tests/`` and ``stress/``.

Subprocess start-up: the end-to-end tests start a few hundred Python
processes (daemons, ``crushctl``, spawned daemons). A machine that sets
``PYTHONDONTWRITEBYTECODE`` makes each of them compile crushd and crushctl
from source again (about 0.3 s per process, a third of the end-to-end tests'
time). The children of this session therefore write bytecode the normal way:
``__pycache__`` folders beside crushd's sources (ignored by git), while the
installed packages keep the bytecode pip compiled at install time. The test
process itself is unaffected (Python reads the variable at start-up only).
"""

from __future__ import annotations

import os

os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
