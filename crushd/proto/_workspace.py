"""Workspace wire model (docs/protocol.md 2.2): the create body and the response."""

from __future__ import annotations

import attrs

from ._json import OMITEMPTY


@attrs.frozen
class SkillState:
    """One skill-discovery entry: ``state`` 0 = normal, 1 = error."""

    name: str
    path: str
    state: int = 0
    error: str = attrs.field(default="", metadata=OMITEMPTY)


@attrs.frozen
class Workspace:
    """A workspace as sent on create and answered by the workspace routes.

    On input ``path`` and ``client_id`` are required (checked by the registry so
    the errors are the upstream ones); ``id`` and ``config`` are ignored. On
    output ``client_id`` is empty (omitted) and ``path`` echoes the creator's
    spelling, not the resolved key.
    """

    id: str = ""
    path: str = ""
    yolo: bool = attrs.field(default=False, metadata=OMITEMPTY)
    debug: bool = attrs.field(default=False, metadata=OMITEMPTY)
    data_dir: str = attrs.field(default="", metadata=OMITEMPTY)
    version: str = attrs.field(default="", metadata=OMITEMPTY)
    client_id: str = attrs.field(default="", metadata=OMITEMPTY)
    config: dict[str, object] | None = attrs.field(default=None, metadata=OMITEMPTY)
    env: list[str] = attrs.field(factory=list, metadata=OMITEMPTY)
    channels: list[str] = attrs.field(factory=list, metadata=OMITEMPTY)
    skills: list[SkillState] = attrs.field(factory=list, metadata=OMITEMPTY)


@attrs.frozen
class CurrentSessionRequest:
    """``POST /workspaces/{id}/current-session`` body; ``""`` clears the selection."""

    session_id: str = ""
