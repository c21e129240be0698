"""Trust: which files another user could control, so crushd never uses them.

A leaf shared by the daemon and crushctl (both must agree on what is trusted).
See ``docs/operations.md`` ("Security model").
"""

from __future__ import annotations

from ._ownership import (
    UntrustedPathError,
    check_trusted,
    trusted_ancestors,
    untrusted_reason,
)
from ._project import find_worktree_root, project_boundary, project_dirs

__all__ = [
    "UntrustedPathError",
    "check_trusted",
    "find_worktree_root",
    "project_boundary",
    "project_dirs",
    "trusted_ancestors",
    "untrusted_reason",
]
