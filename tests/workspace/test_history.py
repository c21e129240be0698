"""File history: initial, disk-drift and new versions; one ``file`` event each."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from crushd.agent.tools._types import FileHistory
from crushd.errors import InternalError
from crushd.store import DATABASE_FILE_NAME, Database, FileStore, SessionStore
from crushd.workspace import EventLog
from crushd.workspace._history import FILE_EVENT, FileHistoryService

PATH = Path("/project/src/a.py")


@attrs.define
class Setup:
    history: FileHistoryService
    files: FileStore
    log: EventLog
    sid: str
    db: Database

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        """(inner type, payload) of every ``file`` event so far."""
        found = []
        for frame in self.log.read_ws(0).frames:
            envelope = json.loads(frame)
            if envelope["type"] == FILE_EVENT:
                inner = envelope["payload"]
                found.append((inner["type"], inner["payload"]))
        return found

    async def contents(self, session_id: str = "") -> list[tuple[int, str]]:
        stored = await self.files.history(session_id or self.sid)
        return [(f.version, f.content) for f in stored]


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    db = await Database.open(tmp_path / DATABASE_FILE_NAME)
    session = await SessionStore(db).create("s")
    files, log = FileStore(db), EventLog("ws-1", 4096)
    yield Setup(FileHistoryService(files, log), files, log, session.id, db)
    await db.aclose()


async def test_created_file_gets_an_empty_initial_version(setup: Setup) -> None:
    await setup.history.record_write(setup.sid, PATH, "", "hi\n")
    assert await setup.contents() == [(0, ""), (1, "hi\n")]
    stored = await setup.files.history(setup.sid)
    events = setup.events()
    assert [kind for kind, _ in events] == ["created", "created"]
    assert [payload for _, payload in events] == [
        {
            "id": f.id,
            "session_id": setup.sid,
            "path": str(PATH),
            "content": f.content,
            "version": f.version,
            "created_at": f.created_at,
            "updated_at": f.updated_at,
        }
        for f in stored
    ]


async def test_first_edit_of_an_existing_file_keeps_its_old_content(
    setup: Setup,
) -> None:
    await setup.history.record_write(setup.sid, PATH, "orig\n", "edited\n")
    assert await setup.contents() == [(0, "orig\n"), (1, "edited\n")]


async def test_a_write_matching_the_latest_version_adds_one(setup: Setup) -> None:
    await setup.history.record_write(setup.sid, PATH, "", "one")
    await setup.history.record_write(setup.sid, PATH, "one", "two")
    assert await setup.contents() == [(0, ""), (1, "one"), (2, "two")]
    assert len(setup.events()) == 3


async def test_a_change_made_outside_the_agent_is_recorded_first(
    setup: Setup,
) -> None:
    await setup.history.record_write(setup.sid, PATH, "", "one")
    await setup.history.record_write(setup.sid, PATH, "one, changed by hand", "three")
    assert await setup.contents() == [
        (0, ""),
        (1, "one"),
        (2, "one, changed by hand"),
        (3, "three"),
    ]
    assert len(setup.events()) == 4


async def test_versions_are_numbered_per_session_and_path(setup: Setup) -> None:
    other = await SessionStore(setup.db).create("other")
    await setup.history.record_write(setup.sid, PATH, "", "a")
    await setup.history.record_write(setup.sid, Path("/project/b.py"), "b0", "b1")
    await setup.history.record_write(other.id, PATH, "a", "a2")
    assert await setup.contents(other.id) == [(0, "a"), (1, "a2")]
    assert len(await setup.files.history(setup.sid)) == 4


async def test_it_is_the_tools_file_history(setup: Setup) -> None:
    port: FileHistory = setup.history  # checked by mypy
    assert port is setup.history


async def test_unknown_session_records_and_publishes_nothing(setup: Setup) -> None:
    await setup.history.record_write("nope", PATH, "", "x")
    assert setup.events() == []
    assert await setup.files.history("nope") == []


async def test_a_database_failure_is_logged_not_raised(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    class Failing(FileStore):
        async def create(
            self, session_id: str, path: str, content: str, version: int | None = None
        ) -> Any:
            raise InternalError("database error: disk full")

    history = FileHistoryService(Failing(setup.db), setup.log)
    await history.record_write(setup.sid, PATH, "", "x")
    assert setup.events() == []
    assert "history of /project/src/a.py not recorded" in caplog.text
