"""The daemon's log file: rotated, private, and free of secrets (issue 11)."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

from crushd.config import forget_secrets, remember_secrets
from crushd.logs import LOG_BACKUPS, LOG_MAX_BYTES, SecretFilter, setup_logging

SECRET = "sk-log-0123456789-abcdef-LOG1"


@pytest.fixture
def crushd_logger() -> Iterator[logging.Logger]:
    """Give the ``crushd`` logger back with its old handlers and level afterwards."""
    logger = logging.getLogger("crushd")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    for handler in logger.handlers[:]:
        if handler not in handlers:
            logger.removeHandler(handler)
            handler.close()
    logger.setLevel(level)


@pytest.fixture
def known_secret() -> Iterator[str]:
    """``SECRET`` is a known secret for the test's duration."""
    remember_secrets("test-logs", [SECRET])
    yield SECRET
    forget_secrets("test-logs")


def _file_handler(logger: logging.Logger) -> RotatingFileHandler:
    found = [h for h in logger.handlers if isinstance(h, RotatingFileHandler)]
    assert len(found) == 1
    return found[0]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_log_file_rotates_at_10_mib_keeping_3(
    tmp_path: Path, crushd_logger: logging.Logger
) -> None:
    """The file handler rotates at 10 MiB and keeps 3 older files, all 0600."""
    assert (LOG_MAX_BYTES, LOG_BACKUPS) == (10 * 1024 * 1024, 3)
    log_file = tmp_path / "server-x" / "crushd.log"
    setup_logging(log_file)
    handler = _file_handler(crushd_logger)
    assert (handler.maxBytes, handler.backupCount) == (LOG_MAX_BYTES, LOG_BACKUPS)
    handler.maxBytes = 200  # the same rollover, without writing 40 MiB
    for number in range(100):
        logging.getLogger("crushd.test").warning("record %03d %s", number, "x" * 40)
    names = sorted(p.name for p in log_file.parent.iterdir())
    assert names == ["crushd.log", "crushd.log.1", "crushd.log.2", "crushd.log.3"]
    for path in log_file.parent.iterdir():
        assert _mode(path) == 0o600
        assert path.stat().st_size <= 200
    assert "record 099" in log_file.read_text(encoding="utf-8")


def test_log_folder_and_file_are_private(
    tmp_path: Path, crushd_logger: logging.Logger
) -> None:
    """An existing 0755 folder and 0644 file are made 0700 and 0600."""
    folder = tmp_path / "server-x"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    log_file = folder / "crushd.log"
    log_file.write_text("")
    log_file.chmod(0o644)
    setup_logging(log_file)
    assert _mode(folder) == 0o700
    assert _mode(log_file) == 0o600
    previous = os.umask(0)  # a permissive umask does not widen a new file
    try:
        log_file.unlink()
        _file_handler(crushd_logger).doRollover()
    finally:
        os.umask(previous)
    assert _mode(log_file) == 0o600


def test_log_lines_never_hold_a_known_secret(
    tmp_path: Path, crushd_logger: logging.Logger, known_secret: str
) -> None:
    """Messages, arguments and tracebacks are masked before they are written."""
    log_file = tmp_path / "crushd.log"
    setup_logging(log_file, "debug")
    test_log = logging.getLogger("crushd.test")
    test_log.info("key=%s", known_secret)
    test_log.warning("url https://u:%s@h/x?token=tok-0123456789", "pw-0123456789")
    try:
        raise ValueError(f"bad {known_secret}")
    except ValueError:
        test_log.exception("failed")
    text = log_file.read_text(encoding="utf-8")
    assert known_secret not in text
    assert "pw-0123456789" not in text
    assert "tok-0123456789" not in text
    assert "key=••••LOG1" in text
    assert "ValueError: bad ••••LOG1" in text


def test_secret_filter_keeps_every_record(known_secret: str) -> None:
    """The filter masks in place, never drops, and survives a bad format."""
    secret_filter = SecretFilter()
    record = logging.LogRecord("crushd.x", logging.INFO, "f", 1, "%s", (SECRET,), None)
    assert secret_filter.filter(record)
    assert record.getMessage() == "••••LOG1"
    bad = logging.LogRecord("crushd.x", logging.INFO, "f", 1, "%d", ("x",), None)
    assert secret_filter.filter(bad)


def test_json_log_format_is_one_object_per_line(
    tmp_path: Path, crushd_logger: logging.Logger, known_secret: str
) -> None:
    """``--log-format json``: each record one JSON line, extras kept, secrets masked."""
    log_file = tmp_path / "crushd.log"
    setup_logging(log_file, "info", "json")
    test_log = logging.getLogger("crushd.test")
    extra = {"route": "/v1/workspaces/<workspace_id>", "status": 404}
    test_log.info("two\nlines key=%s", known_secret, extra=extra | {"duration_ms": 1.5})
    try:
        raise ValueError(f"bad {known_secret}")
    except ValueError:
        test_log.exception("failed")
    text = log_file.read_text(encoding="utf-8")
    assert known_secret not in text
    first, second = (json.loads(line) for line in text.splitlines())
    assert first["message"] == "two\nlines key=••••LOG1"
    assert (first["level"], first["logger"], first["pid"]) == (
        "INFO",
        "crushd.test",
        os.getpid(),
    )
    assert (first["route"], first["status"], first["duration_ms"]) == (
        "/v1/workspaces/<workspace_id>",
        404,
        1.5,
    )
    assert first["time"].endswith("Z")
    assert "route" not in second
    assert (second["level"], second["message"]) == ("ERROR", "failed")
    assert "ValueError: bad ••••LOG1" in second["exc_info"]


def test_unknown_log_format_is_refused(
    tmp_path: Path, crushd_logger: logging.Logger
) -> None:
    """An unknown format is a ValueError and adds no handler."""
    before = list(crushd_logger.handlers)
    with pytest.raises(ValueError, match="unknown log format: xml"):
        setup_logging(tmp_path / "crushd.log", "info", "xml")
    assert crushd_logger.handlers == before
