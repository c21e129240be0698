"""The soak stops its clients only once they handle SIGTERM (stress/soak)."""

from __future__ import annotations

import sys
from pathlib import Path

import trio

from stress._env import isolated_env
from stress.soak._main import REPO, wait_ready
from stress.soak._worker import ready_file


async def test_a_client_stopped_right_after_its_start_still_exits_cleanly(
    tmp_path: Path,
) -> None:
    """A client a late fault restarted is waited for, then ends with status 0."""
    out = tmp_path / "client.jsonl"
    command = [
        sys.executable, "-m", "stress.soak._worker", f"unix://{tmp_path}/none.sock",
        str(out), "1", "noread", str(tmp_path),
    ]  # fmt: skip
    env = isolated_env(tmp_path)
    env["PYTHONPATH"] = str(REPO)
    process = await trio.lowlevel.open_process(command, env=env, cwd=REPO)
    await wait_ready(process, ready_file(out))
    process.terminate()
    with trio.fail_after(20):
        await process.wait()
    assert process.returncode == 0
