"""crushctl checks who answers on a unix socket before sending it a byte (issue 11 C).

The refusal is seen without a second user by asking for a uid we are not;
the real other-uid squatter runs in ``tests/e2e/test_security.py``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from crushctl import Client
from crushctl._exceptions import UntrustedServerError
from crushctl._peer import check_socket_file, check_socket_folder, unix_transport
from crushd.proto import parse_host

NOBODY = 65534
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root to chown files to uid 65534"
)


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="crushctl-peer-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def _record(listener: trio.SocketListener, received: list[bytes]) -> None:
    """Accept one connection and keep every byte it sends until it closes."""
    stream = await listener.accept()
    async with stream:
        while data := await stream.receive_some():
            received.append(data)
    received.append(b"<closed>")


async def test_client_refuses_a_server_of_another_uid_before_sending_a_byte(
    sock_dir: Path,
) -> None:
    """Found: a squatter on the socket path received requests (API keys).
    Now the server's SO_PEERCRED uid is checked first and the connection closed
    unused."""
    path = sock_dir / "s.sock"
    sock = trio.socket.socket(trio.socket.AF_UNIX)
    await sock.bind(os.fspath(path))
    sock.listen()
    listener = trio.SocketListener(sock)
    host = parse_host(f"unix://{path}")
    received: list[bytes] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_record, listener, received)
        transport = unix_transport(host, uid=os.geteuid() + 1)
        async with Client(host, transport=transport) as client:
            with pytest.raises(UntrustedServerError) as info:
                await client.set_config("w1", "providers.x.api_key", "sk-secret")
    await listener.aclose()
    assert received == [b"<closed>"]
    assert f"belongs to uid {os.geteuid()}" in info.value.message
    assert "nothing was sent" in info.value.message


def test_check_socket_folder_passes_ours_and_missing(sock_dir: Path) -> None:
    """Our folder, and a folder that does not exist, pass."""
    host = parse_host(f"unix://{sock_dir}/s.sock")
    check_socket_folder(host, sock_dir)
    check_socket_folder(host, sock_dir / "missing")


@needs_root
def test_check_socket_folder_refuses_another_uids_folder(sock_dir: Path) -> None:
    """A squatted private folder (``/tmp/crush-<uid>`` made by someone else)."""
    folder = sock_dir / "crush-0"
    folder.mkdir()
    os.chown(folder, NOBODY, NOBODY)
    host = parse_host(f"unix://{folder}/s.sock")
    with pytest.raises(UntrustedServerError, match=f"belongs to uid {NOBODY}"):
        check_socket_folder(host, folder)


@needs_root
def test_check_socket_folder_refuses_another_uids_symlink(sock_dir: Path) -> None:
    """A symlink another uid placed, even to a folder of ours, is refused."""
    (sock_dir / "real").mkdir()
    link = sock_dir / "crush-0"
    link.symlink_to(sock_dir / "real")
    os.chown(link, NOBODY, NOBODY, follow_symlinks=False)
    host = parse_host(f"unix://{link}/s.sock")
    with pytest.raises(UntrustedServerError, match="the symlink"):
        check_socket_folder(host, link)


@needs_root
def test_check_socket_file_refuses_another_uids_file(sock_dir: Path) -> None:
    """crushctl neither uses nor removes another uid's socket file."""
    path = sock_dir / "s.sock"
    path.write_text("")
    host = parse_host(f"unix://{path}")
    check_socket_file(host, path)
    os.chown(path, NOBODY, NOBODY)
    with pytest.raises(UntrustedServerError, match="the socket file"):
        check_socket_file(host, path)
