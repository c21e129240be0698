"""Reading one layer: a JSON file, or a shell script printing JSON.

Every failure becomes ``ConfigInvalid`` with the upstream text
``failed to initialize config: <file>: <where>: <problem>`` where ``<where>``
is ``line:col`` for bad JSON or a JSON path for a wrong type.

A project script (``crushrc``/``.crushrc`` from the project, not the user's
own) runs only when the user's trust list holds its path and the sha256 of
its content (``crushctl trust``); otherwise it is skipped with a warning and
the other layers still load. Upstream runs every project script on open;
crushd departs on purpose, so that opening a cloned repository runs none of
its code until the user says so.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import cattrs
import trio

from crushd.errors import ConfigInvalid
from crushd.proto import MAX_JSON_DEPTH, json_too_deep
from crushd.trust import TrustListError, read_script, script_sha256, script_trusted

from ._limits import document_problem
from ._model import JSONObject, structure_config
from ._secrets import scrub_secrets
from ._sources import Layer

#: A ``crushrc`` script must print its JSON within this many seconds.
SCRIPT_TIMEOUT_SECONDS = 10.0

_PREFIX = "failed to initialize config"

log = logging.getLogger("crushd.config")


def config_error(path: Path, where: str, problem: str) -> ConfigInvalid:
    """Return the 500 error for a broken layer file (message names the file)."""
    return ConfigInvalid(f"{_PREFIX}: {path}: {where}: {problem}")


def parse_document(path: Path, text: str) -> JSONObject:
    """Parse and validate one layer's JSON text.

    The same bounds as a config write apply (``document_problem``), so a file
    edited by hand into a shape the daemon cannot use names itself in the
    error instead of failing somewhere later.

    Raises:
        ConfigInvalid: not JSON (``line:col``), nested deeper than 64 levels,
            not an object (``$``), or a value of the wrong kind or type (its
            JSON path) (500).
    """
    if json_too_deep(text.encode("utf-8", "surrogatepass")):
        raise config_error(path, "$", f"nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        document = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise config_error(path, f"{exc.lineno}:{exc.colno}", exc.msg) from None
    if not isinstance(document, dict):
        raise config_error(path, "$", "expected a JSON object")
    if problem := document_problem(document):
        where, _, why = problem.rpartition(": ")
        raise config_error(path, where, why)
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
    """Run the user's own ``crushrc`` with ``sh`` in its folder; its stdout is JSON.

    Returns:
        The document, or ``None`` when the script does not exist.

    Raises:
        ConfigInvalid: the script failed (non-zero exit, with its last stderr
            line), ran past ``SCRIPT_TIMEOUT_SECONDS``, or printed bad JSON (500).

    Cancellation: the script is killed.
    """
    if not await trio.Path(path).is_file():
        return None
    return await _run(path, ["/bin/sh", str(path)])


async def run_project_script(path: Path, trust_file: Path | None) -> JSONObject | None:
    """Run a project ``crushrc`` only if the user trusted its exact content.

    The script is read once; those bytes are hashed, checked against the
    trust list and run with ``sh -c`` (``$0`` is the script's path, the
    working directory its folder, stdin ``/dev/null`` as for every script),
    so a file swapped after the check never runs. A script that is missing
    is ``None``; one that is untrusted (not listed, edited since, owned by
    another uid, too large) is skipped: ``None`` and a warning naming the
    file, its sha256 and the ``crushctl trust --cwd DIR`` command.

    Args:
        path: the script's absolute path.
        trust_file: the user's trust list; ``None`` trusts no project script.

    Raises:
        ConfigInvalid: a trusted script failed, as ``run_script`` (500).

    Cancellation: the script is killed.
    """
    content = await trio.to_thread.run_sync(trusted_content, path, trust_file)
    if content is None:
        return None
    return await _run(path, [b"/bin/sh", b"-c", content, os.fsencode(path)])


def trusted_content(path: Path, trust_file: Path | None) -> bytes | None:
    """Return a project script's content when trusted, else log why and ``None``."""
    try:
        content = read_script(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("skipping project script %s: %s", path, exc.strerror or exc)
        return None
    if not _listed(trust_file, path, content):
        log.warning(
            "skipping project script %s (sha256 %s): not in your trust list"
            " (new, or edited since you trusted it); review it, then run"
            " `crushctl trust --cwd %s`",
            path,
            script_sha256(content),
            path.parent,
        )
        return None
    return content


def _listed(trust_file: Path | None, path: Path, content: bytes) -> bool:
    if trust_file is None:
        return False
    try:
        return script_trusted(trust_file, path, content)
    except TrustListError as exc:
        log.warning("%s; no project script is trusted", exc)
        return False


async def _run(path: Path, command: Sequence[str | bytes]) -> JSONObject | None:
    with trio.move_on_after(SCRIPT_TIMEOUT_SECONDS) as scope:
        result = await trio.run_process(
            command,
            cwd=str(path.parent),
            stdin=subprocess.DEVNULL,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    if scope.cancelled_caught:
        raise config_error(path, "run", f"timed out after {SCRIPT_TIMEOUT_SECONDS:g} s")
    if result.returncode != 0:
        # stderr may echo a secret (a key in a failing curl line): masked
        # before it reaches the 500 and the log.
        stderr = scrub_secrets(result.stderr.decode(errors="replace"))
        lines = stderr.strip().splitlines()
        detail = f"exit status {result.returncode}"
        raise config_error(path, "run", f"{detail}: {lines[-1]}" if lines else detail)
    return parse_document(path, result.stdout.decode(errors="replace"))


async def read_layer(layer: Layer, trust_file: Path | None = None) -> JSONObject | None:
    """Read one layer (file or script); ``None`` when it does not exist or is skipped.

    Args:
        layer: the layer to read.
        trust_file: the user's trust list, consulted for project scripts only;
            ``None`` trusts no project script.
    """
    if layer.script and layer.project:
        return await run_project_script(layer.path, trust_file)
    if layer.script:
        return await run_script(layer.path)
    return await trio.to_thread.run_sync(read_json_file, layer.path)
