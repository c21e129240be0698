"""Writes: locked, validated, atomic; a failed or killed write changes nothing."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from crushd.config import (
    LOCK_TIMEOUT_SECONDS,
    MAX_CONFIG_FILE_BYTES,
    MAX_CONFIG_NESTING,
    lock_path,
    locked,
    set_key,
    update_file,
    write_atomic,
)
from crushd.errors import BadRequest, ConfigInvalid, ConfigLocked, InternalError
from crushd.proto import json_too_deep

OLD = {"options": {"debug": False}, "unknown": {"kept": [1, 2]}}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "crush.json"
    path.parent.mkdir()
    path.write_text(json.dumps(OLD))
    return path


@pytest.fixture
def held_lock(config_file: Path) -> Iterator[int]:
    """Another holder of ``<file>.lock`` (a separate open file description)."""
    fd = os.open(lock_path(config_file), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    yield fd
    os.close(fd)


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def _mode(path: Path) -> int:
    return path.stat().st_mode


def _write(path: Path, text: str) -> None:
    path.write_text(text)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _set(key: str, value: object):  # type: ignore[no-untyped-def]
    return lambda doc: set_key(doc, key, value)


async def test_update_writes_and_keeps_unknown_keys(config_file: Path) -> None:
    """An update changes the key, keeps every other key and leaves mode 0600."""
    written = await update_file(config_file, _set("options.debug", True))
    on_disk = _json(config_file)
    assert (
        on_disk == written == {"options": {"debug": True}, "unknown": {"kept": [1, 2]}}
    )
    assert _mode(config_file) & 0o777 == 0o600
    assert _names(config_file.parent) == [
        "crush.json",
        "crush.json.lock",
    ]


async def test_update_creates_missing_file_and_folders(tmp_path: Path) -> None:
    """A missing scope file is created (with its folders) from ``{}``."""
    path = tmp_path / "a" / "b" / "crush.json"
    await update_file(path, _set("options.tui.compact_mode", True))
    assert _json(path) == {"options": {"tui": {"compact_mode": True}}}


async def test_update_rejects_wrong_type_and_changes_nothing(config_file: Path) -> None:
    """A value of the wrong type is a 400 naming the path; the file is untouched."""
    before = _bytes(config_file)
    with pytest.raises(BadRequest) as caught:
        await update_file(config_file, _set("options.debug", "yes"))
    assert caught.value.message == (
        f"invalid config value: {config_file}: $.options.debug:"
        " invalid value for type, expected bool"
    )
    assert _bytes(config_file) == before


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


async def test_deep_write_is_refused_with_a_400(config_file: Path) -> None:
    """A value nested 10,000 deep is a 400 (it used to brick every create)."""
    before = _bytes(config_file)
    with pytest.raises(BadRequest) as caught:
        await update_file(config_file, _set("x", _nested(10_000)))
    assert caught.value.message.startswith(f"invalid config value: {config_file}: $.x")
    assert caught.value.message.endswith(
        f": nested deeper than {MAX_CONFIG_NESTING} levels"
    )
    with pytest.raises(BadRequest, match="more than 64 dot-separated parts"):
        await update_file(config_file, _set(".".join(["a"] * 10_000), 1))
    assert _bytes(config_file) == before


async def test_write_nesting_limit_counts_the_whole_document(config_file: Path) -> None:
    """64 levels in all is written; one more is refused."""
    await update_file(config_file, _set("x", _nested(MAX_CONFIG_NESTING - 1)))
    written = _bytes(config_file)
    assert not json_too_deep(written)
    assert json_too_deep(b"[" + written + b"]")  # exactly 64 levels
    with pytest.raises(BadRequest, match="nested deeper than 64 levels"):
        await update_file(config_file, _set("x", _nested(MAX_CONFIG_NESTING)))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [float("-inf")]])
async def test_nan_and_infinity_are_refused(config_file: Path, value: object) -> None:
    """NaN and Infinity are not JSON: a 400, and the file is unchanged."""
    before = _bytes(config_file)
    with pytest.raises(BadRequest, match="NaN and Infinity are not valid JSON"):
        await update_file(config_file, _set("options.extra", value))
    assert _bytes(config_file) == before


@pytest.mark.parametrize(
    ("key", "value", "where", "got"),
    [
        ("options", "x", "$.options", "a string"),
        ("options.tui", [], "$.options.tui", "an array"),
        ("providers.p", "x", "$.providers.p", "a string"),
        ("models.large", 5, "$.models.large", "a number"),
        ("permissions", None, "$.permissions", "null"),
        ("recent_models.large", ["x"], "$.recent_models.large[0]", "a string"),
    ],
)
async def test_a_string_where_an_object_belongs_is_a_400(
    config_file: Path, key: str, value: object, where: str, got: str
) -> None:
    """The model's objects must be objects; the converter alone let them pass."""
    with pytest.raises(BadRequest) as caught:
        await update_file(config_file, _set(key, value))
    assert caught.value.message == (
        f"invalid config value: {config_file}: {where}:"
        f" expected a JSON object, got {got}"
    )
    assert _json(config_file) == OLD


async def test_config_file_over_one_mib_is_refused(config_file: Path) -> None:
    """A write that would make the file larger than 1 MiB is a 400."""
    with pytest.raises(BadRequest, match=f"at most {MAX_CONFIG_FILE_BYTES}"):
        await update_file(config_file, _set("big", "x" * MAX_CONFIG_FILE_BYTES))
    assert _json(config_file) == OLD


async def test_update_of_broken_file_is_config_invalid(config_file: Path) -> None:
    """A scope file that is already bad JSON fails with 500 and stays as it was."""
    _write(config_file, "{oops")
    with pytest.raises(ConfigInvalid):
        await update_file(config_file, _set("options.debug", True))
    assert _bytes(config_file) == b"{oops"


async def test_failure_before_rename_leaves_old_file(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the rename fails the old file is intact and no temp file is left."""
    before = _bytes(config_file)

    def broken(src: object, dst: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(InternalError, match="disk on fire"):
        await update_file(config_file, _set("options.debug", True))
    assert _bytes(config_file) == before
    assert _names(config_file.parent) == [
        "crush.json",
        "crush.json.lock",
    ]


def test_write_atomic_reports_unwritable_folder(tmp_path: Path) -> None:
    """A folder that does not exist gives a 500 naming the file."""
    with pytest.raises(InternalError, match="failed to write config"):
        write_atomic(tmp_path / "missing" / "crush.json", "{}")


_KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from crushd.config import rewrite, set_key

def die(fd):  # the data is in the temp file; die before the rename
    os.kill(os.getpid(), signal.SIGKILL)

os.fsync = die
rewrite(Path(sys.argv[1]), lambda doc: set_key(doc, "options.debug", True))
"""


def test_writer_killed_mid_write_leaves_old_file(config_file: Path) -> None:
    """A writer process killed after writing its temp file leaves the old file."""
    before = _bytes(config_file)
    result = subprocess.run(
        [sys.executable, "-c", _KILLED_WRITER, str(config_file)],
        check=False,
        capture_output=True,
    )
    assert result.returncode == -signal.SIGKILL
    assert _bytes(config_file) == before
    leftovers = [p for p in config_file.parent.iterdir() if p.name != "crush.json"]
    assert len(leftovers) == 1  # the dead writer's temp file, never renamed
    assert json.loads(leftovers[0].read_text())["options"]["debug"] is True


async def test_lock_timeout_is_503_naming_the_file(
    config_file: Path, held_lock: int, autojump_clock: trio.testing.MockClock
) -> None:
    """While another holder keeps the lock, a write fails after 5 s with 503."""
    before = _bytes(config_file)
    start = trio.current_time()
    with pytest.raises(ConfigLocked) as caught:
        await update_file(config_file, _set("options.debug", True))
    assert trio.current_time() - start == pytest.approx(LOCK_TIMEOUT_SECONDS, abs=0.1)
    assert caught.value.status == 503
    assert str(lock_path(config_file)) in caught.value.message
    assert _bytes(config_file) == before


async def test_lock_is_taken_once_the_holder_lets_go(
    config_file: Path, held_lock: int, autojump_clock: trio.testing.MockClock
) -> None:
    """A waiting writer proceeds as soon as the other holder releases the lock."""

    async def release_later() -> None:
        await trio.sleep(1)
        fcntl.flock(held_lock, fcntl.LOCK_UN)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(release_later)
        await update_file(config_file, _set("options.debug", True))
    assert _json(config_file)["options"]["debug"] is True


async def test_lock_wait_is_cancellable(
    config_file: Path, held_lock: int, autojump_clock: trio.testing.MockClock
) -> None:
    """Cancelling a writer that waits for the lock ends it without writing."""
    before = _bytes(config_file)
    with trio.move_on_after(1) as scope:
        await update_file(config_file, _set("options.debug", True))
    assert scope.cancelled_caught
    assert _bytes(config_file) == before


async def test_locked_serialises_writers_in_one_process(config_file: Path) -> None:
    """Two holders in one process never overlap."""
    inside: list[int] = []
    overlap: list[bool] = []

    async def hold(n: int) -> None:
        async with locked(config_file):
            inside.append(n)
            overlap.append(len(inside) > 1)
            await trio.sleep(0.01)
            inside.remove(n)

    async with trio.open_nursery() as nursery:
        for n in range(3):
            nursery.start_soon(hold, n)
    assert overlap == [False, False, False]


async def test_locked_reports_unusable_lock_folder(tmp_path: Path) -> None:
    """A lock folder that cannot be created is a 500 naming the file."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InternalError, match="failed to write config"):
        async with locked(blocker / "crush.json"):
            pass  # pragma: no cover
