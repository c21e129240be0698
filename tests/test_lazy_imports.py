"""The daemon starts without the modules only a workspace needs (``crushd._lazy``).

``crushd.config``, ``crushd.store`` and ``crushd.workspace`` import their heavy
submodules on first use; these tests prove the start-up path stays free of
them and that the lazy names still resolve to the real objects.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from crushd import _lazy

#: Modules the daemon must not import before it listens (they cost start-up).
NOT_AT_STARTUP = (
    "crushd.agent",
    "crushd.agent.providers",
    "crushd.agent.tools",
    "openai",
    "httpx2",
    "pydantic",
    "crushd.config._model",
    "crushd.config._load",
    "crushd.skills",
    "crushd.store._database",
    "crushd.workspace._config",
    "crushd.workspace._sessions",
    "crushd.workspace._skills",
    "sqlite3",
    "yaml",
    "prometheus_client",  # imported on the first GET /v1/metrics
)


def test_daemon_import_leaves_workspace_only_modules_unloaded() -> None:
    """A fresh ``import crushd.daemon, crushd.cli`` loads none of NOT_AT_STARTUP."""
    # Only what these imports add counts: under ``coverage run`` the child
    # process has loaded sqlite3 (coverage's data file) before the test code.
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import crushd.cli, crushd.daemon\n"
        "added = set(sys.modules) - before\n"
        f"print(sorted(m for m in {NOT_AT_STARTUP!r} if m in added))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("package", "name", "module"),
    [
        ("crushd.config", "Config", "crushd.config._model"),
        ("crushd.store", "Database", "crushd.store._database"),
        ("crushd.workspace", "ConfigService", "crushd.workspace._config"),
    ],
)
def test_lazy_name_is_the_submodules_object(
    package: str, name: str, module: str
) -> None:
    """Reading a lazy name returns the defining module's object, then caches it."""
    pkg = __import__(package, fromlist=[name])
    value = getattr(pkg, name)
    assert value is getattr(sys.modules[module], name)
    assert vars(pkg)[name] is value


def test_load_rejects_a_name_not_in_the_table() -> None:
    """An unknown attribute is an AttributeError naming package and attribute."""
    lazy = _lazy.exports({"._model": ("Config",)})
    message = "module 'crushd.config' has no attribute 'nope'"
    with pytest.raises(AttributeError, match=re.escape(message)):
        _lazy.load("crushd.config", lazy, "nope")


def test_exports_inverts_the_table() -> None:
    """``exports`` maps each name to the submodule that defines it."""
    assert _lazy.exports({"._a": ("x", "y"), "._b": ("z",)}) == {
        "x": "._a",
        "y": "._a",
        "z": "._b",
    }


def test_package_getattr_raises_for_unknown_names() -> None:
    """``crushd.store.missing`` is an AttributeError, so hasattr() stays honest."""
    import crushd.store

    assert not hasattr(crushd.store, "missing")


def test_agent_modules_are_imported_in_a_worker_thread() -> None:
    """``import_agent_modules`` runs the agent package's module code off the loop."""
    code = (
        "import sys, threading, trio\n"
        "from crushd.workspace._agent import AGENT_MODULES, import_agent_modules\n"
        "seen = {}\n"
        "class Spy:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        seen.setdefault(name, threading.current_thread().name)\n"
        "sys.meta_path.insert(0, Spy())\n"
        "trio.run(import_agent_modules)\n"
        "main = threading.main_thread().name\n"
        "print(sorted({seen[m] == main for m in AGENT_MODULES}))\n"
        "print(all(m in sys.modules for m in AGENT_MODULES))\n"
        "import gc; print(gc.get_freeze_count() > 10_000)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    # Imported off the loop, then frozen out of the cycle collector's walks.
    assert out.stdout.split() == ["[False]", "True", "True"]
