"""The layout rules: no import cycle (TYPE_CHECKING and function-local imports included),
and no vendor error code compared above the transports."""

from __future__ import annotations

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
