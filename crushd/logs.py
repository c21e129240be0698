"""Logging: one-line structured records to the host's log file, and a tty.

The file rotates at ``LOG_MAX_BYTES`` (10 MiB), keeping ``LOG_BACKUPS`` (3)
older files (``crushd.log.1`` ... ``.3``), so a flood of records costs at most
40 MiB of disk. The folder is 0700 and every file 0600: records name paths,
sessions and clients. No secret reaches a record: every handler masks the
secret values the daemon knows and inline ones (URL passwords, ``token=``
parameters, ``Authorization:`` lines), tracebacks included.

``--log-format json`` writes one JSON object per line instead (``time``,
``level``, ``logger``, ``message``, plus ``route``, ``status`` and
``duration_ms`` when the record has them, and ``exc_info`` for a
traceback), for log shippers; masked the same way.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path

from crushd.config import scrub_secrets

#: The log file is rotated when it would grow past this many bytes (10 MiB).
LOG_MAX_BYTES = 10 * 1024 * 1024
#: How many rotated files are kept beside the current one.
LOG_BACKUPS = 3

_FORMAT = (
    "ts=%(asctime)s level=%(levelname)s logger=%(name)s pid=%(process)d msg=%(message)r"
)


class _UTCFormatter(logging.Formatter):
    def formatTime(  # noqa: N802 - stdlib override
        self, record: logging.LogRecord, datefmt: str | None = None
    ) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        # The message was scrubbed by SecretFilter; this catches tracebacks.
        return scrub_secrets(super().format(record))


#: Record attributes copied into a JSON line when a record has them.
JSON_EXTRAS = ("route", "status", "duration_ms", "method")

#: The ``--log-format`` values.
LOG_FORMATS = ("text", "json")


class JsonFormatter(_UTCFormatter):
    """One JSON object per record, on one line, secrets masked.

    Keys: ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``,
    ``message``, ``pid``; then whichever of ``JSON_EXTRAS`` the record
    carries (``extra=`` of the logging call); ``exc_info`` holds a traceback.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one JSON line (no newline inside)."""
        line: dict[str, object] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub_secrets(record.getMessage()),
            "pid": record.process,
        }
        for key in JSON_EXTRAS:
            if key in record.__dict__:
                line[key] = record.__dict__[key]
        if record.exc_info:
            line["exc_info"] = scrub_secrets(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class SecretFilter(logging.Filter):
    """Mask secrets in a record's message before any handler formats it.

    The message is rendered once (``msg % args``), scrubbed with
    ``crushd.config.scrub_secrets`` and stored back without ``args``; the
    record then stays masked for every later handler too. Never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub ``record``'s message in place; always keep the record."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format is the handler's to report
            return True
        record.msg, record.args = scrub_secrets(message), None
        return True


class _PrivateRotatingFileHandler(RotatingFileHandler):
    """A ``RotatingFileHandler`` whose files are created (and kept) 0600."""

    def _open(self) -> io.TextIOWrapper:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        fd = os.open(self.baseFilename, flags, 0o600)
        os.fchmod(fd, 0o600)  # an older file may have been made 0644
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def setup_logging(log_file: Path, level: str = "info", fmt: str = "text") -> None:
    """Send the ``crushd`` loggers to ``log_file`` (and stderr when it is a tty).

    Records are single lines: ``ts=... level=... logger=... pid=... msg='...'``
    for ``fmt="text"``, one JSON object each for ``fmt="json"``
    (``JsonFormatter``).
    The log folder is made (or set) 0700 and the files 0600; the file rotates
    at ``LOG_MAX_BYTES`` keeping ``LOG_BACKUPS`` older ones. Every handler
    masks secrets (``SecretFilter``).

    Args:
        log_file: where to append records.
        level: a stdlib level name, case-insensitive.
        fmt: ``text`` or ``json`` (``--log-format``).

    Raises:
        ValueError: unknown level name or format.
        OSError: the folder or file cannot be created.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level: {level}")
    if fmt not in LOG_FORMATS:
        raise ValueError(f"unknown log format: {fmt}")
    log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if log_file.parent.stat().st_mode & 0o077:
        log_file.parent.chmod(0o700)
    formatter = JsonFormatter() if fmt == "json" else _UTCFormatter(_FORMAT)
    handlers: list[logging.Handler] = [
        _PrivateRotatingFileHandler(
            log_file, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    ]
    if sys.stderr.isatty():
        handlers.append(logging.StreamHandler(sys.stderr))
    root = logging.getLogger("crushd")
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(SecretFilter())
        root.addHandler(handler)
    root.setLevel(numeric)
