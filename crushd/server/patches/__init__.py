"""The version-guarded hypercorn fixes ``serve_app`` installs, and what they reach."""

from ._http1 import HTTP2_REFUSAL, install_http1_only
from ._hypercorn_fixes import (
    RAW_SEND_KEY,
    SEND_SLICE_BYTES,
    SendTimeoutConfig,
    ShieldFinalSend,
    has_pending,
    install_send_timeout,
    keep_pending,
    send_timeout_installed,
    write_nowait,
)
from ._internals import CHECKED_H11_VERSIONS, ChunkWriter, chunk_writer
from ._patching import CHECKED_HYPERCORN_VERSIONS, patch_tcp_server

__all__ = [
    "CHECKED_H11_VERSIONS",
    "CHECKED_HYPERCORN_VERSIONS",
    "HTTP2_REFUSAL",
    "RAW_SEND_KEY",
    "SEND_SLICE_BYTES",
    "ChunkWriter",
    "SendTimeoutConfig",
    "ShieldFinalSend",
    "chunk_writer",
    "has_pending",
    "install_http1_only",
    "install_send_timeout",
    "keep_pending",
    "patch_tcp_server",
    "send_timeout_installed",
    "write_nowait",
]
