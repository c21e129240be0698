"""crushd.daemon's start-up checks that need no running daemon."""

from __future__ import annotations

import pytest

from crushd.daemon import bind_all
from crushd.proto import parse_host
from crushd.server import ListenerError


@pytest.mark.parametrize(
    "url", ["tcp://0.0.0.0:0", "tcp://192.0.2.7:7777", "tcp://example.com:80"]
)
def test_bind_all_refuses_non_loopback_tcp(url: str) -> None:
    """A TCP host that is not loopback is refused before anything is bound."""
    with pytest.raises(ListenerError, match="only loopback"):
        bind_all((parse_host(url),))


@pytest.mark.parametrize(
    "url", ["tcp://127.0.0.1:0", "tcp://localhost:0", "tcp://[::1]:0"]
)
def test_bind_all_accepts_loopback_tcp(url: str) -> None:
    """Loopback TCP hosts bind (port 0 picks a free port)."""
    try:
        (bound,) = bind_all((parse_host(url),))
    except OSError as exc:  # pragma: no cover - a host without IPv6
        if "::1" in url:
            pytest.skip(f"no IPv6 loopback here: {exc}")
        raise
    bound.close()
