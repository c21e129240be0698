"""What a workspace is built from: the first creator's request, resolved.

Not a wire model: the registry builds it and the workspace reads it, so it
lives here where both may import it (neither imports the other for it).
"""

from __future__ import annotations

import attrs


@attrs.frozen
class WorkspaceSpec:
    """The flags a workspace is built with; the first creator's win (first-wins).

    Attributes:
        id: the server-minted workspace id (UUIDv4 string).
        path: the path exactly as the creator sent it (echoed in responses).
        key: the canonical path: absolute, symlinks resolved, or the cleaned
            absolute path when it does not exist (the registry's dedupe key).
        data_dir: the requested data directory, ``""`` when not given; the
            config resolves it (``crushd.config.resolve_data_dir``: explicit >
            ``options.data_directory`` > nearest ``.crush`` > ``<key>/.crush``).
        yolo: skip permission prompts for this workspace.
        debug: debug logging for this workspace.
        env: the creator's ``K=V`` list, appended for tools and shells.
        channels: the creator's explicit channel opt-ins (compared on join).
        version: the creator's client version, informational.

    Source: Crush backend.go ``CreateWorkspace`` arguments (proto.Workspace).
    """

    id: str
    path: str
    key: str
    data_dir: str = ""
    yolo: bool = False
    debug: bool = False
    env: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    version: str = ""
