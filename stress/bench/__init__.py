"""``python -m stress bench``: the daemon's benchmarks, measured from outside.

Each benchmark starts a real ``crushd serve --debug-endpoints`` subprocess on a
private unix socket and drives it from separate client processes
(``_worker``), publishing through ``POST /v1/debug/workspaces/{id}/publish``.
See ``stress/RESULTS.md`` for the latest figures and how to reproduce them.
"""

from stress.bench._main import main

__all__ = ["main"]
