"""The event stream's transports: SSE frames, the direct fan-out to parked streams."""

from ._direct import ChunkWriter, DirectFollower, DirectWriter, chunk_writer, fanout_for
from ._sse import SSE_HEADERS, sse_frames

__all__ = [
    "SSE_HEADERS",
    "ChunkWriter",
    "DirectFollower",
    "DirectWriter",
    "chunk_writer",
    "fanout_for",
    "sse_frames",
]
