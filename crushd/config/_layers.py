"""Reading one layer: a JSON file, or a shell script printing JSON.

Every failure becomes ``ConfigInvalid`` with the upstream text
``failed to initialize config: <file>: <where>: <problem>`` where ``<where>``
is ``line:col`` for bad JSON or a JSON path for a wrong type.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cattrs
import trio

from crushd.errors import ConfigInvalid

from ._model import JSONObject, structure_config
from ._sources import Layer

#: A ``crushrc`` script must print its JSON within this many seconds.
SCRIPT_TIMEOUT_SECONDS = 10.0

_PREFIX = "failed to initialize config"


def config_error(path: Path, where: str, problem: str) -> ConfigInvalid:
    """Return the 500 error for a broken layer file (message names the file)."""
    return ConfigInvalid(f"{_PREFIX}: {path}: {where}: {problem}")


def parse_document(path: Path, text: str) -> JSONObject:
    """Parse and validate one layer's JSON text.

    Raises:
        ConfigInvalid: not JSON (``line:col``), not an object (``$``), or a
            value of the wrong type (its JSON path) (500).
    """
    try:
        document = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise config_error(path, f"{exc.lineno}:{exc.colno}", exc.msg) from None
    if not isinstance(document, dict):
        raise config_error(path, "$", "expected a JSON object")
    validate(path, document)
    return document


def validate(path: Path, document: JSONObject) -> None:
    """Check ``document`` against the model; see ``parse_document`` for errors."""
    try:
        structure_config(document)
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        first = cattrs.transform_error(exc)[0]
        problem, _, where = first.rpartition(" @ ")
        raise config_error(path, where or "$", problem or first) from None


def read_json_file(path: Path) -> JSONObject | None:
    """Read a JSON layer; ``None`` when the file does not exist.

    Raises:
        ConfigInvalid: unreadable or invalid (500).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise config_error(path, "read", str(exc)) from None
    return parse_document(path, text)


async def run_script(path: Path) -> JSONObject | None:
    """Run a ``crushrc`` script with ``sh`` in its folder; its stdout is JSON.

    Returns:
        The document, or ``None`` when the script does not exist.

    Raises:
        ConfigInvalid: the script failed (non-zero exit, with its last stderr
            line), ran past ``SCRIPT_TIMEOUT_SECONDS``, or printed bad JSON (500).

    Cancellation: the script is killed.
    """
    if not await trio.Path(path).is_file():
        return None
    with trio.move_on_after(SCRIPT_TIMEOUT_SECONDS) as scope:
        result = await trio.run_process(
            ["/bin/sh", str(path)],
            cwd=str(path.parent),
            stdin=subprocess.DEVNULL,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    if scope.cancelled_caught:
        raise config_error(path, "run", f"timed out after {SCRIPT_TIMEOUT_SECONDS:g} s")
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        detail = f"exit status {result.returncode}"
        raise config_error(path, "run", f"{detail}: {lines[-1]}" if lines else detail)
    return parse_document(path, result.stdout.decode(errors="replace"))


async def read_layer(layer: Layer) -> JSONObject | None:
    """Read one layer (file or script); ``None`` when it does not exist."""
    if layer.script:
        return await run_script(layer.path)
    return await trio.to_thread.run_sync(read_json_file, layer.path)
