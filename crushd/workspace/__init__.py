"""One live workspace: its event log and services (sessions, history, skills)."""

from ._config import MODEL_TYPES, RECENT_MODELS_MAX, ConfigService
from ._eventlog import PING_FRAME, Batch, EventLog, EventLogStatistics, WsBatch
from ._project import CONTEXT_FILES, INIT_PROMPT
from ._sessions import SESSION_EVENT, SessionService
from ._skills import SKILLS_EVENT, SkillsService, open_skills
from ._spec import WorkspaceSpec
from ._workspace import CONFIG_CHANGED_EVENT, Workspace, WorkspaceOpener

__all__ = [
    "CONFIG_CHANGED_EVENT",
    "CONTEXT_FILES",
    "INIT_PROMPT",
    "MODEL_TYPES",
    "PING_FRAME",
    "RECENT_MODELS_MAX",
    "SESSION_EVENT",
    "SKILLS_EVENT",
    "Batch",
    "ConfigService",
    "EventLog",
    "EventLogStatistics",
    "SessionService",
    "SkillsService",
    "Workspace",
    "WorkspaceOpener",
    "WorkspaceSpec",
    "WsBatch",
    "open_skills",
]
