"""Tests for ``--host`` parsing and per-host paths (docs/protocol.md 8.1-8.3)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

from crushd.proto import (
    MAX_SOCKET_PATH_BYTES,
    Host,
    cache_dir,
    default_host,
    default_socket_path,
    parse_host,
    server_dir,
)

SOCKET_NAME = f"crush-{os.getuid()}.sock"
PRIVATE = f"crush-{os.getuid()}"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test without the variables these functions read."""
    for name in ("XDG_RUNTIME_DIR", "CRUSH_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("url", "scheme", "address"),
    [
        (
            "unix:///run/user/1000/crush-1000.sock",
            "unix",
            "/run/user/1000/crush-1000.sock",
        ),
        ("unix://relative/x.sock", "unix", "relative/x.sock"),
        ("tcp://127.0.0.1:7777", "tcp", "127.0.0.1:7777"),
        ("tcp://127.0.0.1:7777/base/path", "tcp", "127.0.0.1:7777"),
        ("tcp://[::1]:80", "tcp", "[::1]:80"),
        ("fd://3", "fd", "3"),
    ],
)
def test_parse_host_splits_scheme_and_address(
    url: str, scheme: str, address: str
) -> None:
    """A valid URL keeps its text and yields its scheme and address."""
    assert parse_host(url) == Host(url=url, scheme=scheme, address=address)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/tmp/crush.sock",
        "unix:/tmp/crush.sock",
        "unix://",
        "http://127.0.0.1:80",
        "npipe:////./pipe/crush.sock",
        "fd://",
        "fd://three",
        "fd://-1",
    ],
)
def test_parse_host_rejects_invalid_values(url: str) -> None:
    """Anything else is ``invalid host format: <value>``."""
    with pytest.raises(ValueError, match=f"^invalid host format: {url}$"):
        parse_host(url)


def test_host_safe_name_replaces_unsafe_characters() -> None:
    """The documented example: every char outside ``[A-Za-z0-9._-]`` becomes ``_``."""
    host = parse_host("unix:///tmp/crush-1000.sock")
    assert host.safe_name == "unix____tmp_crush-1000.sock"


def test_host_safe_name_of_tcp_host() -> None:
    """Colons and dots in a tcp URL: colons change, dots stay."""
    assert parse_host("tcp://127.0.0.1:7777").safe_name == "tcp___127.0.0.1_7777"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("tcp://127.0.0.1:7777", ("127.0.0.1", 7777)),
        ("tcp://localhost:0", ("localhost", 0)),
        ("tcp://[::1]:8080/x", ("::1", 8080)),
    ],
)
def test_host_tcp_host_port(url: str, expected: tuple[str, int]) -> None:
    """A tcp host yields ``(host, port)``, IPv6 brackets removed."""
    assert parse_host(url).tcp_host_port == expected


@pytest.mark.parametrize("url", ["tcp://127.0.0.1", "tcp://host:", "tcp://host:http"])
def test_host_tcp_host_port_rejects_missing_or_bad_port(url: str) -> None:
    """A tcp host without a numeric port is ``invalid host format``."""
    with pytest.raises(ValueError, match=r"^invalid host format: "):
        _ = parse_host(url).tcp_host_port


def test_host_tcp_host_port_rejects_other_schemes() -> None:
    """Asking a unix host for a tcp address is a ValueError."""
    with pytest.raises(ValueError, match=r"^not a tcp host: unix:///x\.sock$"):
        _ = parse_host("unix:///x.sock").tcp_host_port


def test_default_socket_path_uses_xdg_runtime_dir(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ``XDG_RUNTIME_DIR`` set the socket is ``<dir>/crush-<uid>.sock``."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/4242")
    assert default_socket_path() == Path("/run/user/4242") / SOCKET_NAME


def test_default_socket_path_without_xdg_uses_temp_dir(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without ``XDG_RUNTIME_DIR`` the socket lives in a private temp subfolder."""
    monkeypatch.setattr(tempfile, "tempdir", "/var/tmp/short")
    assert default_socket_path() == Path("/var/tmp/short") / PRIVATE / SOCKET_NAME


def test_default_socket_path_is_never_directly_in_the_shared_temp_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 11 C: the fallback was ``/tmp/crush-<uid>.sock``, a name anyone could
    squat; it is now inside ``/tmp/crush-<uid>/``, a folder the daemon owns."""
    monkeypatch.setattr(tempfile, "tempdir", "/tmp")
    path = default_socket_path()
    assert path.parent == Path("/tmp") / PRIVATE
    assert path.parent != Path(tempfile.gettempdir())


def test_default_socket_path_treats_empty_xdg_as_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An empty ``XDG_RUNTIME_DIR`` counts as unset."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", "")
    monkeypatch.setattr(tempfile, "tempdir", "/var/tmp/short")
    assert default_socket_path() == Path("/var/tmp/short") / PRIVATE / SOCKET_NAME


def _dir_for_path_bytes(total: int) -> str:
    """Return a directory whose socket path is exactly ``total`` bytes long."""
    base = "/" + "d" * (total - len(SOCKET_NAME) - 2)
    assert len(os.fsencode(Path(base) / SOCKET_NAME)) == total
    return base


def test_default_socket_path_keeps_a_path_of_exactly_104_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A path of exactly ``MAX_SOCKET_PATH_BYTES`` bytes is still used."""
    base = _dir_for_path_bytes(MAX_SOCKET_PATH_BYTES)
    monkeypatch.setenv("XDG_RUNTIME_DIR", base)
    assert default_socket_path() == Path(base) / SOCKET_NAME


@pytest.mark.parametrize("env", ["XDG_RUNTIME_DIR", "TMPDIR"])
def test_default_socket_path_falls_back_to_tmp_past_104_bytes(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    """One byte over the limit falls back to ``/tmp/crush-<uid>/<name>``."""
    base = _dir_for_path_bytes(MAX_SOCKET_PATH_BYTES + 1)
    monkeypatch.setattr(tempfile, "tempdir", base)  # too long as well
    if env == "XDG_RUNTIME_DIR":
        monkeypatch.setenv(env, base)
    assert default_socket_path() == Path("/tmp") / PRIVATE / SOCKET_NAME


def test_default_socket_path_counts_bytes_not_characters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A non-ASCII folder is measured in UTF-8 bytes, as ``sun_path`` is."""
    chars = (MAX_SOCKET_PATH_BYTES - len(SOCKET_NAME) - 2) // 2 + 1
    base = "/" + "é" * chars
    assert len(base) + 1 + len(SOCKET_NAME) <= MAX_SOCKET_PATH_BYTES
    monkeypatch.setenv("XDG_RUNTIME_DIR", base)
    monkeypatch.setattr(tempfile, "tempdir", "/tmp")
    assert default_socket_path() == Path("/tmp") / PRIVATE / SOCKET_NAME


def test_default_host_is_unix_url_of_default_socket_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``default_host()`` is ``unix://`` plus the default socket path."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/4242")
    host = default_host()
    assert host.url == f"unix:///run/user/4242/{SOCKET_NAME}"
    assert (host.scheme, host.address) == ("unix", f"/run/user/4242/{SOCKET_NAME}")


def test_cache_dir_honours_crush_cache_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``CRUSH_CACHE_DIR`` is used as is, over ``XDG_CACHE_HOME``."""
    monkeypatch.setenv("CRUSH_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "c"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CACHE_HOME is Linux-only")
def test_cache_dir_honours_xdg_cache_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without ``CRUSH_CACHE_DIR`` the folder is ``$XDG_CACHE_HOME/crush``."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "crush"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CACHE_HOME is Linux-only")
def test_cache_dir_treats_empty_crush_cache_dir_as_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An empty ``CRUSH_CACHE_DIR`` falls through to the user cache folder."""
    monkeypatch.setenv("CRUSH_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "crush"


def test_server_dir_is_cache_server_safe_host(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``server_dir`` is ``<cache>/server-<safeHost>`` and does not create it."""
    monkeypatch.setenv("CRUSH_CACHE_DIR", str(tmp_path))
    host = parse_host("unix:///tmp/crush-1000.sock")
    assert server_dir(host) == tmp_path / "server-unix____tmp_crush-1000.sock"
    assert not server_dir(host).exists()
