"""Logging: one-line structured records to the host's log file, and a tty."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

_FORMAT = (
    "ts=%(asctime)s level=%(levelname)s logger=%(name)s pid=%(process)d msg=%(message)r"
)


class _UTCFormatter(logging.Formatter):
    def formatTime(  # noqa: N802 - stdlib override
        self, record: logging.LogRecord, datefmt: str | None = None
    ) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


def setup_logging(log_file: Path, level: str = "info") -> None:
    """Send the ``crushd`` loggers to ``log_file`` (and stderr when it is a tty).

    Records are single lines: ``ts=... level=... logger=... pid=... msg='...'``.
    The log folder is created with mode 0700.

    Args:
        log_file: where to append records.
        level: a stdlib level name, case-insensitive.

    Raises:
        ValueError: unknown level name.
        OSError: the folder or file cannot be created.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level: {level}")
    log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    formatter = _UTCFormatter(_FORMAT)
    handlers: list[logging.Handler] = [logging.FileHandler(log_file, encoding="utf-8")]
    if sys.stderr.isatty():
        handlers.append(logging.StreamHandler(sys.stderr))
    root = logging.getLogger("crushd")
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(numeric)
