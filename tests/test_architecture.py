"""Architecture guards (CONTRIBUTING.md rule 2): dependency arrows and exported API.

The arrows are read from the source with ``ast`` (every ``import``, including
those inside functions and ``TYPE_CHECKING`` blocks), so a forbidden import is
caught even when it sits on a code path no other test runs. Dependencies point
one way: ``server -> registry -> workspace -> store``, the workspace also uses
the leaves ``config`` and ``skills``; everything may use ``proto`` and
``errors``; ``crushctl`` sees only ``crushd.proto`` and the trust rules
``crushd.trust`` (both sides must agree on what another uid controls).
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP_PACKAGES = ("crushd", "crushctl")

#: The packages whose ``__all__`` is the public API checked below.
API_PACKAGES = (
    "crushd",
    "crushd.proto",
    "crushd.errors",
    "crushd.trust",
    "crushd.config",
    "crushd.registry",
    "crushd.skills",
    "crushd.workspace",
    "crushd.store",
    "crushd.server",
    "crushd.server.http",
    "crushd.server.listen",
    "crushd.server.patches",
    "crushd.server.routes",
    "crushd.server.streams",
    "crushctl",
    "crushctl.cli",
)


@attrs.frozen
class Rule:
    """Modules under ``source`` must not import anything ``forbids`` matches."""

    source: str
    forbidden: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    why: str = ""

    def applies_to(self, module: str) -> bool:
        return _within(module, self.source)

    def forbids(self, target: str) -> bool:
        if any(_within(target, ok) for ok in self.allowed):
            return False
        return any(_within(target, bad) for bad in self.forbidden)


RULES = (
    Rule(
        "crushd.registry",
        forbidden=("crushd.server", "crushd.store"),
        why="the registry knows no HTTP and no SQL",
    ),
    Rule(
        "crushd.registry",
        forbidden=("crushd.workspace",),
        why="the registry hosts any workspace through its protocol",
    ),
    Rule(
        "crushd.workspace",
        forbidden=("crushd.registry", "crushd.server"),
        why="a workspace does not know who hosts it",
    ),
    Rule(
        "crushd.store",
        forbidden=("crushd.registry", "crushd.server", "crushd.workspace"),
        why="the store is the bottom layer",
    ),
    Rule(
        "crushd.config",
        forbidden=(
            "crushd.registry",
            "crushd.server",
            "crushd.workspace",
            "crushd.store",
        ),
        why="configuration loading is a leaf: files in, a config out",
    ),
    Rule(
        "crushd.skills",
        forbidden=(
            "crushd.registry",
            "crushd.server",
            "crushd.workspace",
            "crushd.store",
            "crushd.config",
        ),
        why="skill discovery is a leaf: folders in, a catalog out",
    ),
    Rule(
        "crushd.proto",
        forbidden=("crushd",),
        allowed=("crushd.proto",),
        why="proto is shared with crushctl and depends on nothing in crushd",
    ),
    Rule(
        "crushd.agent",
        forbidden=(
            "crushd.registry",
            "crushd.server",
            "crushd.workspace",
            "crushd.store",
        ),
        why="the agent reaches the workspace only through its ports",
    ),
    Rule(
        "crushd.trust",
        forbidden=("crushd",),
        allowed=("crushd.trust", "crushd.proto"),
        why="the trust rules are a leaf shared with crushctl",
    ),
    Rule(
        "crushd.server.patches",
        forbidden=("crushd.server", "crushd.registry", "crushd.workspace"),
        allowed=("crushd.server.patches", "crushd.server._ratelimit"),
        why="the hypercorn fixes know nothing of the daemon above them",
    ),
    Rule(
        "crushd.server.http",
        forbidden=("crushd.server",),
        allowed=("crushd.server.http",),
        why="the HTTP plumbing is shared by every route and guard, so it uses none",
    ),
    Rule(
        "crushd.server.streams",
        forbidden=("crushd.server",),
        allowed=("crushd.server.streams", "crushd.server.patches"),
        why="streams are transports: they know the connection, not the routes",
    ),
    Rule(
        "crushd.server.listen",
        forbidden=("crushd.server.routes", "crushd.server.streams"),
        why="who may connect is decided before any route runs",
    ),
    Rule(
        "crushctl",
        forbidden=("crushd",),
        allowed=("crushd.proto", "crushd.trust"),
        why="crushctl may use only the shared wire models and trust rules",
    ),
)


def _within(module: str, package: str) -> bool:
    """Return whether ``module`` is ``package`` or one of its submodules."""
    return module == package or module.startswith(package + ".")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source_files() -> list[Path]:
    return sorted(p for top in TOP_PACKAGES for p in (ROOT / top).rglob("*.py"))


MODULES = {_module_name(path): path for path in _source_files()}
PACKAGE_INITS = sorted(p for p in MODULES.values() if p.name == "__init__.py")


def _base_package(module: str, path: Path, level: int) -> str:
    """Resolve the anchor of a relative import ``level`` dots deep."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return package


def _from_targets(node: ast.ImportFrom, module: str, path: Path) -> Iterator[str]:
    """Name the modules a ``from X import a, b`` statement reaches."""
    base = node.module or ""
    if node.level:
        anchor = _base_package(module, path, node.level)
        base = f"{anchor}.{base}" if base else anchor
    for alias in node.names:
        # ``from crushd import proto`` reaches the submodule, not the package.
        submodule = f"{base}.{alias.name}"
        yield submodule if submodule in MODULES else base


def imports_of(module: str) -> list[tuple[int, str]]:
    """Return ``(line, imported module)`` for every import in ``module``."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.extend((node.lineno, t) for t in _from_targets(node, module, path))
    return sorted(found)


def _violations(module: str) -> list[str]:
    return [
        f"{module}:{line} imports {target} ({rule.why})"
        for line, target in imports_of(module)
        for rule in RULES
        if rule.applies_to(module) and rule.forbids(target)
    ]


def _private_reach(module: str) -> list[str]:
    """List imports of another package's private ``_module``s (CONTRIBUTING rule 1)."""
    bad = []
    for line, target in imports_of(module):
        head, _, last = target.rpartition(".")
        owner = head if last.startswith("_") and not last.startswith("__") else ""
        if owner and owner.split(".")[0] in TOP_PACKAGES and not _within(module, owner):
            bad.append(f"{module}:{line} imports {target}")
    return bad


def _defines_all(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return True
    return False


def _exported() -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name in API_PACKAGES:
        module = importlib.import_module(name)
        pairs.extend((name, item) for item in getattr(module, "__all__", ()))
    return pairs


def test_rules_name_real_packages() -> None:
    """Every package named by a dependency rule exists, so no rule is vacuous."""
    named = {r.source for r in RULES} | {p for r in RULES for p in r.forbidden}
    assert sorted(named - set(MODULES)) == []


def test_module_walk_finds_both_top_packages() -> None:
    """The walk sees crushd and crushctl, including nested subpackages."""
    assert {"crushd", "crushctl", "crushd.server.routes", "crushctl.cli"} <= set(
        MODULES
    )


def test_imports_of_resolves_relative_and_submodule_imports() -> None:
    """Relative imports resolve to absolute names; ``from pkg import sub`` is sub."""
    targets = {t for _, t in imports_of("crushd.server.routes._system")}
    assert "crushd.server.http" in targets
    assert "crushd.errors" in targets


def test_rule_matching_is_by_package_boundary() -> None:
    """A rule on ``crushd`` does not catch ``crushdx``; ``allowed`` wins."""
    rule = Rule("crushctl", forbidden=("crushd",), allowed=("crushd.proto",))
    assert rule.forbids("crushd")
    assert rule.forbids("crushd.errors")
    assert not rule.forbids("crushd.proto._hosts")
    assert not rule.forbids("crushdx")


def test_violations_reports_a_forbidden_lazy_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registry module importing the server inside a function is reported."""
    fake = tmp_path / "_fake.py"
    fake.write_text("def f():\n    from crushd.server import create_app\n")
    monkeypatch.setitem(MODULES, "crushd.registry._fake", fake)
    assert _violations("crushd.registry._fake") == [
        "crushd.registry._fake:2 imports crushd.server"
        " (the registry knows no HTTP and no SQL)"
    ]


def test_violations_reports_crushctl_importing_crushd_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``from crushd import __version__`` in crushctl is an import of ``crushd``."""
    fake = tmp_path / "_fake.py"
    fake.write_text("from crushd import __version__, proto\n")
    monkeypatch.setitem(MODULES, "crushctl._fake", fake)
    assert [v.split(" (")[0] for v in _violations("crushctl._fake")] == [
        "crushctl._fake:1 imports crushd"
    ]


def test_private_reach_reports_another_packages_private_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Importing ``crushd.store._pool`` from the workspace package is reported."""
    fake = tmp_path / "_fake.py"
    fake.write_text("from crushd.store._pool import StorePool\nfrom . import _x\n")
    monkeypatch.setitem(MODULES, "crushd.workspace._fake", fake)
    assert _private_reach("crushd.workspace._fake") == [
        "crushd.workspace._fake:1 imports crushd.store._pool"
    ]


def test_defines_all_needs_a_module_level_assignment(tmp_path: Path) -> None:
    """An ``__all__`` inside a function does not count as the package's API."""
    init = tmp_path / "__init__.py"
    init.write_text("def f():\n    __all__ = []\n")
    assert not _defines_all(init)
    init.write_text("__all__: list[str] = []\n")
    assert _defines_all(init)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_respects_dependency_arrows(module: str) -> None:
    """The module imports nothing its layer may not depend on."""
    assert _violations(module) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_no_foreign_private_module(module: str) -> None:
    """Other packages are used through their ``__init__``, never their ``_modules``."""
    assert _private_reach(module) == []


@pytest.mark.parametrize(
    "init", PACKAGE_INITS, ids=[_module_name(p) for p in PACKAGE_INITS]
)
def test_package_init_defines_all(init: Path) -> None:
    """Each package's ``__init__.py`` declares its API with an explicit ``__all__``."""
    assert _defines_all(init)


@pytest.mark.parametrize("package", API_PACKAGES)
def test_package_all_is_unique_and_present(package: str) -> None:
    """The package's ``__all__`` exists and lists each name once."""
    exported = importlib.import_module(package).__dict__.get("__all__")
    assert isinstance(exported, list | tuple)
    assert len(set(exported)) == len(exported)


@pytest.mark.parametrize(
    ("package", "name"), _exported(), ids=[f"{p}.{n}" for p, n in _exported()]
)
def test_exported_name_exists_and_is_documented(package: str, name: str) -> None:
    """Each exported name exists; exported classes and functions have docstrings."""
    module = importlib.import_module(package)
    assert hasattr(module, name), f"{package}.__all__ lists missing {name}"
    value = getattr(module, name)
    if inspect.isclass(value) or inspect.isroutine(value):
        # __doc__ is looked up on the object itself: a class does not inherit it.
        doc = value.__doc__
        assert doc, f"{package}.{name} has no docstring"
        assert doc.strip()
