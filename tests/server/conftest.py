"""Fixtures for in-process server tests: a real registry and store behind the app."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import trio
from quart.typing import TestClientProtocol
from quart_trio import QuartTrio

from crushd.config import ConfigSources
from crushd.registry import Registry, RegistrySettings
from crushd.server import ServerContext, bind_unix, create_app, serve_app
from crushd.store import StorePool
from crushd.workspace import Workspace, WorkspaceOpener


@attrs.define
class Harness:
    """A registry, the app over it, and its test client."""

    registry: Registry[Workspace]
    app: QuartTrio
    client: TestClientProtocol
    idle_calls: list[float]

    async def json(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send ``body`` as JSON (or raw text); return (status, JSON or None)."""
        kwargs: dict[str, Any] = {}
        if isinstance(body, str | bytes):
            kwargs["data"] = body
        elif body is not None:
            kwargs["json"] = body
        response = await self.client.open(path, method=method, **kwargs)
        data = await response.get_data()
        import json

        return response.status_code, json.loads(data) if data else None


@pytest.fixture(autouse=True)
def isolated_skills(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the global skills folder at a temp dir: the real home is never scanned."""
    path = tmp_path / "global-skills"
    monkeypatch.setenv("CRUSH_SKILLS_DIR", str(path))
    return path


@pytest.fixture
def settings() -> RegistrySettings:
    return RegistrySettings(
        create_grace_seconds=30, detach_grace_seconds=10, idle_timeout_seconds=600
    )


@pytest.fixture
def config_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment whose config folders are all under ``tmp_path/machine``.

    The real user and system config files are never read or written.
    """
    root = tmp_path / "machine"
    env = {
        "HOME": str(root / "home"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "XDG_DATA_HOME": str(root / "data"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("CRUSH_GLOBAL_CONFIG", "CRUSH_GLOBAL_DATA"):
        monkeypatch.delenv(name, raising=False)
    return env


@pytest.fixture
def config_sources(tmp_path: Path, config_env: dict[str, str]) -> ConfigSources:
    """The machine-wide config layers of ``config_env`` (``/etc`` under tmp)."""
    system = tmp_path / "machine" / "etc" / "crush.json"
    return ConfigSources.from_environ(config_env, system_file=system)


@pytest.fixture
async def harness(
    nursery: trio.Nursery, settings: RegistrySettings, config_sources: ConfigSources
) -> AsyncIterator[Harness]:
    pool = StorePool("test")
    idle_calls: list[float] = []
    opener = WorkspaceOpener(pool, 4096, config_sources=config_sources)
    registry = Registry(
        opener,
        settings,
        on_idle=lambda: idle_calls.append(trio.current_time()),
    )
    await nursery.start(registry.serve)
    context = ServerContext(
        registry,
        heartbeat_seconds=15,
        config_sources=config_sources,
        traffic=opener.traffic,
    )
    app = create_app(context)
    yield Harness(registry, app, app.test_client(), idle_calls)
    registry.close()
    await pool.aclose()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


@contextlib.asynccontextmanager
async def serve_harness(
    harness: Harness, nursery: trio.Nursery, send_timeout_seconds: float
) -> AsyncIterator[Path]:
    """Serve the harness app on a real unix socket; yields the socket path."""
    folder = Path(tempfile.mkdtemp(prefix="crushd-t-", dir="/tmp"))
    path = folder / "s.sock"
    stop = trio.Event()
    await nursery.start(
        lambda task_status: serve_app(
            harness.app,
            [bind_unix(path)],
            shutdown_trigger=stop.wait,
            task_status=task_status,
            graceful_timeout_seconds=2.0,
            keep_alive_seconds=5.0,
            send_timeout_seconds=send_timeout_seconds,
            max_connections=512,
            max_unauthenticated=64,
        )
    )
    try:
        yield path
    finally:
        harness.registry.close()
        stop.set()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def server(harness: Harness, nursery: trio.Nursery) -> AsyncIterator[Path]:
    """Serve the harness app on a real unix socket; yields the socket path."""
    async with serve_harness(harness, nursery, send_timeout_seconds=2) as path:
        yield path


def uds_http(path: Path, read_timeout: float | None = None) -> httpx.AsyncClient:
    """An HTTP client over the unix socket at ``path`` (``server``'s).

    Connecting, writing and pooling time out after 5 seconds; reading after
    ``read_timeout`` seconds (``None``: never, for event streams).
    """
    transport = httpx.AsyncHTTPTransport(uds=str(path))
    timeout = httpx.Timeout(5, read=read_timeout)
    return httpx.AsyncClient(
        transport=transport, base_url="http://crushd", timeout=timeout
    )
