"""Test-session set-up shared by ``tests/`` and ``stress/``.

Subprocess start-up: the end-to-end tests start a few hundred Python
processes (daemons, ``crushctl``, spawned daemons). A machine that sets
``PYTHONDONTWRITEBYTECODE`` makes each of them compile crushd and crushctl
from source again (about 0.3 s per process). The children of this session
therefore write and reuse their bytecode in a private cache inside the
virtual environment (``PYTHONPYCACHEPREFIX``), never in the source tree and
never in a folder another user could have planted. The test process itself
is unaffected (Python reads both variables at start-up only).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_CACHE = Path(sys.prefix) / "test-pycache"


def _share_bytecode_with_children() -> None:
    if sys.prefix == sys.base_prefix:
        return  # not in a virtual environment: leave the machine's choice
    _CACHE.mkdir(mode=0o700, exist_ok=True)
    os.environ["PYTHONPYCACHEPREFIX"] = str(_CACHE)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


_share_bytecode_with_children()
