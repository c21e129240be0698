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
from ._scripts import (
    MAX_SCRIPT_BYTES,
    SCRIPT_NAMES,
    ProjectScript,
    ScriptReadError,
    TrustListError,
    load_trust_list,
    project_scripts,
    read_script,
    revoke_scripts,
    script_sha256,
    script_trusted,
    trust_list_path,
    trust_scripts,
)

__all__ = [
    "MAX_SCRIPT_BYTES",
    "SCRIPT_NAMES",
    "ProjectScript",
    "ScriptReadError",
    "TrustListError",
    "UntrustedPathError",
    "check_trusted",
    "find_worktree_root",
    "load_trust_list",
    "project_boundary",
    "project_dirs",
    "project_scripts",
    "read_script",
    "revoke_scripts",
    "script_sha256",
    "script_trusted",
    "trust_list_path",
    "trust_scripts",
    "trusted_ancestors",
    "untrusted_reason",
]
