"""The layout rules: no import cycle (TYPE_CHECKING and function-local imports included),
and no vendor error code compared above the transports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from tools.imports import cycles, import_graph, main

ROOT = Path(__file__).resolve().parent.parent


def test_src_partcopy_has_no_import_cycle(capsys: pytest.CaptureFixture[str]) -> None:
    status = main([])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.strip().endswith("0 cycle(s)")


def test_the_checker_sees_type_checking_and_local_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n"
    )
    (pkg / "b.py").write_text("def f():\n    from . import a\n")
    (pkg / "sub" / "c.py").write_text("from ..b import f\nimport pkg.sub.d\n")
    (pkg / "sub" / "d.py").write_text("from pkg.sub import c\n")
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.a"}
    assert cycles(graph) == [
        ["pkg.a", "pkg.b", "pkg.a"],
        ["pkg.sub.c", "pkg.sub.d", "pkg.sub.c"],
    ]


def test_the_checker_sees_import_module_with_a_literal_name(tmp_path: Path) -> None:
    # The shape issue 19 forbids and that once hid a cycle: a module filled a slot of its
    # importer at import time, and the importer reached it by import_module("...").
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from importlib import import_module\n"
        "SLOT: list[object] = []\n"
        "def runner():\n"
        "    import_module('pkg.b')\n"
        "    return SLOT[0]\n"
    )
    (pkg / "b.py").write_text("from pkg.a import SLOT\nSLOT[:] = [print]\n")
    (pkg / "c.py").write_text(
        "import importlib\ndef f(name):\n    importlib.import_module('pkg.a.nothing')\n"
        "    importlib.import_module(name)\n"
    )
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.c"] == {"pkg.a"}  # a literal resolves to its module; a variable cannot
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.a"]]


def test_no_module_fills_a_registry_of_another_at_import() -> None:
    # Module-level statements that write into a name imported from elsewhere (the old
    # ``PREFIX_RUNNER[:] = [run_prefix]``) make behaviour depend on what was imported first.
    offenders = []
    for path in sorted((ROOT / "src" / "partcopy").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.asname or alias.name
            for node in tree.body
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        for node in tree.body:
            for target in _written(node):
                if target in imported:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} writes {target}")
    assert offenders == []


def _written(node: ast.stmt) -> list[str]:
    """Names a module-level statement mutates: ``X[...] = ``, ``X.append(...)`` and kin."""
    roots: list[ast.expr] = []
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        roots = [t.value for t in targets if isinstance(t, ast.Subscript | ast.Attribute)]
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        if isinstance(func, ast.Attribute):
            roots = [func.value]
    return [r.id for r in roots if isinstance(r, ast.Name)]


VENDOR_CODE = re.compile(r'"(NoSuch\w*|SlowDown|AccessDenied|\w+_not_exists|Throttl\w*)"')


@pytest.mark.parametrize("package", ["engine", "cli", "planners", "scale"])
def test_no_vendor_error_code_is_compared_above_the_transports(package: str) -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "src" / "partcopy" / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if VENDOR_CODE.search(line)
    ]
    assert found == [], "catch the typed errors instead:\n" + "\n".join(found)
