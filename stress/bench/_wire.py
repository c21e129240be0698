"""Raw HTTP/1.1 over a unix socket: just enough for the benchmark clients.

The benchmarks must measure the daemon, not the client library, so requests
are written by hand and responses parsed with ``bytes.find``: no httpx, no
h11. Both a blocking connection (the driver) and a trio one (the client
workers) share one response parser.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import trio

_HEAD_END = b"\r\n\r\n"
# Requests sent ahead; below hypercorn's 1000 requests per connection.
_PIPELINE_DEPTH = 200
_MAX_REQUESTS = 1000
_IDLE_REUSE_SECONDS = 2.0


class HTTPError(Exception):
    """The daemon answered something a benchmark did not expect."""


def request_bytes(method: str, target: str, body: Any = None, **headers: str) -> bytes:
    """Encode one keep-alive request; ``body`` (if not None) is sent as JSON."""
    data = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {target} HTTP/1.1", "Host: crushd"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if body is not None or method in ("POST", "PUT"):
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def split_head(buffer: bytes) -> tuple[int, dict[str, str], bytes] | None:
    """Return ``(status, headers, rest)`` once ``buffer`` holds a whole head."""
    end = buffer.find(_HEAD_END)
    if end < 0:
        return None
    status_line, *header_lines = buffer[:end].decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, buffer[end + 4 :]


def split_body(headers: dict[str, str], rest: bytes) -> tuple[bytes, bytes] | None:
    """Return ``(body, leftover)`` once ``rest`` holds the whole body."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return _split_chunked(rest)
    length = int(headers.get("content-length", "0"))
    if len(rest) < length:
        return None
    return rest[:length], rest[length:]


def _split_chunked(rest: bytes) -> tuple[bytes, bytes] | None:
    parts: list[bytes] = []
    position = 0
    while True:
        line_end = rest.find(b"\r\n", position)
        if line_end < 0:
            return None
        size = int(rest[position:line_end].split(b";")[0], 16)
        start, stop = line_end + 2, line_end + 2 + size
        if len(rest) < stop + 2:
            return None
        if size == 0:
            return b"".join(parts), rest[stop + 2 :]
        parts.append(rest[start:stop])
        position = stop + 2


class Connection:
    """A blocking keep-alive HTTP/1.1 connection to a unix socket."""

    def __init__(self, path: str, timeout: float = 30.0) -> None:
        self.path, self.timeout = path, timeout
        self.sock = self._connect()
        self._buffer = b""
        self._served = 0  # requests sent on this connection
        self._used = time.monotonic()

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            raise
        return sock

    def _reconnect(self) -> None:
        self.sock.close()
        self.sock, self._buffer, self._served = self._connect(), b"", 0

    def request(self, method: str, target: str, body: Any = None) -> tuple[int, Any]:
        """Send one request; return ``(status, JSON body or None)``.

        A connection idle for longer than the daemon keeps it is replaced
        first (the daemon closes idle keep-alive connections after 5 s).
        """
        if time.monotonic() - self._used > _IDLE_REUSE_SECONDS:
            self._reconnect()
        self._used = time.monotonic()
        self._served += 1
        self.sock.sendall(request_bytes(method, target, body))
        return self._answer()

    def read_answer(self) -> tuple[int, Any]:
        """Read the answer to a request sent by hand (``sock.sendall``)."""
        status, headers = self.read_head()
        data = self._read_body(headers)
        return status, json.loads(data) if data else None

    def _answer(self) -> tuple[int, Any]:
        """Read one response; reconnect if the daemon closes after it.

        hypercorn closes a keep-alive connection after
        ``keep_alive_max_requests`` (1000) requests.
        """
        status, headers = self.read_head()
        data = self._read_body(headers)
        if headers.get("connection", "").lower() == "close":
            self._reconnect()
        return status, json.loads(data) if data else None

    def pipeline(self, requests: list[tuple[str, str, Any]]) -> list[tuple[int, Any]]:
        """Send every ``(method, target, body)`` at once, then read each answer.

        HTTP/1.1 pipelining: the daemon always has the next request queued, so
        a benchmark measures the daemon, not this client's round trips.
        """
        answers = []
        for start in range(0, len(requests), _PIPELINE_DEPTH):
            group = requests[start : start + _PIPELINE_DEPTH]
            if self._served + len(group) >= _MAX_REQUESTS:
                self._reconnect()
            self._served += len(group)
            self.sock.sendall(b"".join(request_bytes(*r) for r in group))
            answers += [self._answer() for _ in group]
        return answers

    def read_head(self) -> tuple[int, dict[str, str]]:
        """Read a response head; what follows it stays buffered."""
        while (head := split_head(self._buffer)) is None:
            self._fill()
        status, headers, self._buffer = head
        return status, headers

    def _read_body(self, headers: dict[str, str]) -> bytes:
        while (body := split_body(headers, self._buffer)) is None:
            self._fill()
        data, self._buffer = body
        return data

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise HTTPError("connection closed by the daemon")
        self._buffer += chunk

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()


def expect(status: int, body: Any, want: int = 200) -> Any:
    """Return ``body`` if ``status`` is ``want``, else raise ``HTTPError``."""
    if status != want:
        raise HTTPError(f"status {status}: {body}")
    return body


class AsyncConnection:
    """The trio twin of ``Connection`` (used inside the client workers)."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buffer = b""

    @classmethod
    async def open(cls, path: str) -> AsyncConnection:
        """Connect to the unix socket at ``path``."""
        return cls(await trio.open_unix_socket(path))

    async def request(
        self, method: str, target: str, body: Any = None, **headers: str
    ) -> tuple[int, Any]:
        """Send one request; return ``(status, JSON body or None)``."""
        await self.stream.send_all(request_bytes(method, target, body, **headers))
        status, response_headers = await self.read_head()
        while (parts := split_body(response_headers, self.buffer)) is None:
            await self.fill()
        data, self.buffer = parts
        return status, json.loads(data) if data else None

    async def read_head(self) -> tuple[int, dict[str, str]]:
        """Read a response head; what follows it stays in ``buffer``."""
        while (head := split_head(self.buffer)) is None:
            await self.fill()
        status, headers, self.buffer = head
        return status, headers

    async def fill(self) -> None:
        """Append one ``receive_some`` to ``buffer``; EOF raises ``HTTPError``."""
        chunk = await self.stream.receive_some(65536)
        if not chunk:
            raise HTTPError("connection closed by the daemon")
        self.buffer += chunk

    async def aclose(self) -> None:
        """Close the connection."""
        await self.stream.aclose()


async def open_event_stream(
    path: str, workspace_id: str, client_id: str, last_event_id: int | None = None
) -> AsyncConnection:
    """Open ``GET .../events`` and wait for its 200; body bytes stay in ``buffer``."""
    conn = await AsyncConnection.open(path)
    target = f"/v1/workspaces/{workspace_id}/events?client_id={client_id}"
    headers = {} if last_event_id is None else {"Last_Event_ID": str(last_event_id)}
    await conn.stream.send_all(request_bytes("GET", target, **headers))
    status, _ = await conn.read_head()
    if status != 200:
        await conn.aclose()
        raise HTTPError(f"event stream answered {status}")
    return conn
