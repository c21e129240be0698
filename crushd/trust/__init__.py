"""Trust: which files another user could control, so crushd never uses them.

A leaf shared by the daemon and crushctl (both must agree on what is trusted).
See ``docs/operations.md`` ("Security model").
"""

from __future__ import annotations

from ._ownership import (
    UntrustedPathError,
    check_trusted,
    check_trusted_file,
    first_untrusted_ancestor,
    trusted_ancestors,
    untrusted_below,
    untrusted_reason,
)
from ._project import (
    DATA_DIR_NAME,
    PROJECT_CONFIG_NAMES,
    PROJECT_SKILL_DIRS,
    find_worktree_root,
    project_boundary,
    project_dirs,
)
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
from ._survey import Skipped, skipped_entries

__all__ = [
    "DATA_DIR_NAME",
    "MAX_SCRIPT_BYTES",
    "PROJECT_CONFIG_NAMES",
    "PROJECT_SKILL_DIRS",
    "SCRIPT_NAMES",
    "ProjectScript",
    "ScriptReadError",
    "Skipped",
    "TrustListError",
    "UntrustedPathError",
    "check_trusted",
    "check_trusted_file",
    "find_worktree_root",
    "first_untrusted_ancestor",
    "load_trust_list",
    "project_boundary",
    "project_dirs",
    "project_scripts",
    "read_script",
    "revoke_scripts",
    "script_sha256",
    "script_trusted",
    "skipped_entries",
    "trust_list_path",
    "trust_scripts",
    "trusted_ancestors",
    "untrusted_below",
    "untrusted_reason",
]
