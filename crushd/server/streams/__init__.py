"""The event stream's transports: SSE and WebSocket frames, the direct fan-out."""

from ._direct import ChunkWriter, DirectFollower, DirectWriter, chunk_writer, fanout_for
from ._sse import SSE_HEADERS, sse_frames
from ._websocket import NORMAL_CLOSURE, ws_frames

__all__ = [
    "NORMAL_CLOSURE",
    "SSE_HEADERS",
    "ChunkWriter",
    "DirectFollower",
    "DirectWriter",
    "chunk_writer",
    "fanout_for",
    "sse_frames",
    "ws_frames",
]
