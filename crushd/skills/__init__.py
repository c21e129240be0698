"""Skill discovery (agentskills.io ``SKILL.md`` folders): folders in, a catalog out.

A leaf package: it reads files and knows nothing of workspaces, the registry,
the store, the server or configuration loading (the caller passes
``options.skills_paths`` in). Discovery is blocking file I/O; async callers use
``scan_skills`` and ``read_skill`` (worker threads, abandoned on cancel).
"""

from ._catalog import (
    SKILL_IO_THREADS,
    STATE_ERROR,
    STATE_NORMAL,
    SkillCatalog,
    discover_skills,
    read_skill,
    scan_skills,
    scan_workspace,
)
from ._parse import (
    MAX_COMPATIBILITY_CHARS,
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
    MAX_SKILL_FILE_BYTES,
    SKILL_FILE,
    InvalidSkillError,
    Skill,
    read_skill_bytes,
    read_skill_file,
    split_front_matter,
)
from ._roots import (
    PROJECT_SKILL_DIRS,
    SKILLS_DIR_ENV,
    SOURCE_PROJECT,
    SOURCE_SYSTEM,
    SOURCE_USER,
    SkillRoot,
    SkillsEnvironment,
    global_skill_dirs,
    skill_roots,
)

__all__ = [
    "MAX_COMPATIBILITY_CHARS",
    "MAX_DESCRIPTION_CHARS",
    "MAX_NAME_CHARS",
    "MAX_SKILL_FILE_BYTES",
    "PROJECT_SKILL_DIRS",
    "SKILLS_DIR_ENV",
    "SKILL_FILE",
    "SKILL_IO_THREADS",
    "SOURCE_PROJECT",
    "SOURCE_SYSTEM",
    "SOURCE_USER",
    "STATE_ERROR",
    "STATE_NORMAL",
    "InvalidSkillError",
    "Skill",
    "SkillCatalog",
    "SkillRoot",
    "SkillsEnvironment",
    "discover_skills",
    "global_skill_dirs",
    "read_skill",
    "read_skill_bytes",
    "read_skill_file",
    "scan_skills",
    "scan_workspace",
    "skill_roots",
    "split_front_matter",
]
