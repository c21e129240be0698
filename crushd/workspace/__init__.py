"""One live workspace: its event log and services (sessions, messages, skills)."""

from typing import TYPE_CHECKING

from crushd import _lazy
from crushd.proto import WorkspaceSpec

from ._agent import AgentHandle
from ._eventlog import DEFAULT_CAPACITY_BYTES, EventLog, EventLogStatistics
from ._frames import PING_FRAME, Batch, WsBatch, replay_frames
from ._opener import WorkspaceOpener
from ._project import CONTEXT_FILES, INIT_PROMPT
from ._traffic import EventTraffic, TrafficMark
from ._workspace import CONFIG_CHANGED_EVENT, Workspace

if TYPE_CHECKING:
    from ._config import MODEL_TYPES, RECENT_MODELS_MAX, ConfigService
    from ._filetracker import NEVER_READ, FileTracker, rfc3339
    from ._messages import DEBOUNCE_SECONDS, MessageService, with_stop_finish
    from ._sessions import SESSION_EVENT, SessionService
    from ._shell import ShellOutcome, run_shell_command, shell_env, store_shell_outcome
    from ._skills import SKILLS_EVENT, SkillsService, open_skills

# The services (and the config, store and skills packages under them) are
# imported when the first workspace opens, not when the daemon starts.
_LAZY = _lazy.exports(
    {
        "._config": ("MODEL_TYPES", "RECENT_MODELS_MAX", "ConfigService"),
        "._filetracker": ("NEVER_READ", "FileTracker", "rfc3339"),
        "._messages": ("DEBOUNCE_SECONDS", "MessageService", "with_stop_finish"),
        "._sessions": ("SESSION_EVENT", "SessionService"),
        "._shell": (
            "ShellOutcome",
            "run_shell_command",
            "shell_env",
            "store_shell_outcome",
        ),
        "._skills": ("SKILLS_EVENT", "SkillsService", "open_skills"),
    }
)


def __getattr__(name: str) -> object:
    """Import a service submodule the first time one of its names is read."""
    return _lazy.load(__name__, _LAZY, name)


__all__ = [
    "CONFIG_CHANGED_EVENT",
    "CONTEXT_FILES",
    "DEBOUNCE_SECONDS",
    "DEFAULT_CAPACITY_BYTES",
    "INIT_PROMPT",
    "MODEL_TYPES",
    "NEVER_READ",
    "PING_FRAME",
    "RECENT_MODELS_MAX",
    "SESSION_EVENT",
    "SKILLS_EVENT",
    "AgentHandle",
    "Batch",
    "ConfigService",
    "EventLog",
    "EventLogStatistics",
    "EventTraffic",
    "FileTracker",
    "MessageService",
    "SessionService",
    "ShellOutcome",
    "SkillsService",
    "TrafficMark",
    "Workspace",
    "WorkspaceOpener",
    "WorkspaceSpec",
    "WsBatch",
    "open_skills",
    "replay_frames",
    "rfc3339",
    "run_shell_command",
    "shell_env",
    "store_shell_outcome",
    "with_stop_finish",
]
