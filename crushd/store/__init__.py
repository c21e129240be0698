"""SQLite storage: the data-dir lock, one shared database per data directory, tables.

``StorePool`` hands out one ``Database`` per data directory (reference counted,
guarded by ``crush.lock``); ``SessionStore``, ``MessageStore`` and ``FileStore``
read and write its tables as ``crushd.proto`` models; ``ReadFileStore`` keeps
the file tracker's ``read_files``. See docs/architecture.md section 5
and docs/protocol.md 7.3-7.5.
"""

from typing import TYPE_CHECKING

from crushd import _lazy

from ._lock import (
    LOCK_FILE_NAME,
    SKIP_LOCK_ENV,
    DataDirLock,
    OwnerInfo,
    read_owner,
    skip_lock_from_env,
)
from ._pool import DATA_DIR_MODE, PoolStatistics, StorePool, prepare_data_dir
from ._private import PRIVATE_FILE_MODE

if TYPE_CHECKING:
    from ._database import (
        CLOSE_TIMEOUT_SECONDS,
        DATABASE_FILE_NAME,
        PRAGMAS,
        SIDE_FILE_SUFFIXES,
        Database,
        open_connection,
        secure_database_files,
        transaction,
    )
    from ._files import INITIAL_VERSION, FileStore
    from ._messages import MESSAGE_NOT_FOUND, MessageStore
    from ._migrations import MIGRATIONS, SCHEMA_VERSION, migrate, user_version
    from ._read_files import ReadFileStore
    from ._sessions import SessionStore

# sqlite3 and the table stores are imported when the first database opens.
_LAZY = _lazy.exports(
    {
        "._database": (
            "CLOSE_TIMEOUT_SECONDS",
            "DATABASE_FILE_NAME",
            "PRAGMAS",
            "PRIVATE_FILE_MODE",
            "SIDE_FILE_SUFFIXES",
            "Database",
            "open_connection",
            "secure_database_files",
            "transaction",
        ),
        "._files": ("INITIAL_VERSION", "FileStore"),
        "._messages": ("MESSAGE_NOT_FOUND", "MessageStore"),
        "._migrations": ("MIGRATIONS", "SCHEMA_VERSION", "migrate", "user_version"),
        "._read_files": ("ReadFileStore",),
        "._sessions": ("SessionStore",),
    }
)


def __getattr__(name: str) -> object:
    """Import a store submodule the first time one of its names is read."""
    return _lazy.load(__name__, _LAZY, name)


__all__ = [
    "CLOSE_TIMEOUT_SECONDS",
    "DATABASE_FILE_NAME",
    "DATA_DIR_MODE",
    "INITIAL_VERSION",
    "LOCK_FILE_NAME",
    "MESSAGE_NOT_FOUND",
    "MIGRATIONS",
    "PRAGMAS",
    "PRIVATE_FILE_MODE",
    "SCHEMA_VERSION",
    "SIDE_FILE_SUFFIXES",
    "SKIP_LOCK_ENV",
    "DataDirLock",
    "Database",
    "FileStore",
    "MessageStore",
    "OwnerInfo",
    "PoolStatistics",
    "ReadFileStore",
    "SessionStore",
    "StorePool",
    "migrate",
    "open_connection",
    "prepare_data_dir",
    "read_owner",
    "secure_database_files",
    "skip_lock_from_env",
    "transaction",
    "user_version",
]
