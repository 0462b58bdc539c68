"""List every import cycle among the modules of ``src/partcopy``; exit 1 if there is one.

``python -m tools.imports [--graph]``. Counts every import statement wherever it stands:
module level, inside ``if TYPE_CHECKING:``, inside functions, and every
``import_module("a.literal.name")`` / ``importlib.import_module(...)`` call whose first
argument is a string literal (a computed name cannot be followed). ``from pkg import name``
counts as importing ``pkg.name`` when that is a module, else ``pkg``. The implicit import
of a parent package's ``__init__`` is not counted (every submodule would "cycle" with it).
Standard library only (``ast``): it never imports the code it checks.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

__all__ = ["cycles", "import_graph", "main"]

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "src" / "partcopy"


def _modules(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``package_dir``."""
    base = package_dir.parent
    found: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_package(name: str, modules: Mapping[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def _resolve_from(module: str, node: ast.ImportFrom, modules: Mapping[str, Path]) -> str:
    """The absolute module a ``from ... import`` statement names (before its names)."""
    if not node.level:
        return node.module or ""
    package = module if _is_package(module, modules) else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _known(name: str, modules: Mapping[str, Path]) -> str:
    """``name`` or its closest enclosing module of ``modules`` (``""`` when none)."""
    while name and name not in modules:  # import a.b.c of a non-module c
        name = name.rpartition(".")[0]
    return name


def _import_module_target(node: ast.Call) -> str | None:
    """The literal module name of an ``import_module("x")`` call, else None."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if called != "import_module" or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def _imports(module: str, tree: ast.AST, modules: Mapping[str, Path]) -> Iterator[str]:
    """Every module of ``modules`` that ``tree`` imports, anywhere in the file."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if name := _known(alias.name, modules):
                    yield name
        elif isinstance(node, ast.Call):
            target = _import_module_target(node)
            if (
                target is not None
                and not target.startswith(".")
                and (name := _known(target, modules))
            ):
                yield name
        elif isinstance(node, ast.ImportFrom):
            target = _resolve_from(module, node, modules)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in modules:
                    yield sub
                elif target in modules:
                    yield target


def import_graph(package_dir: Path = PACKAGE_DIR) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (self-imports dropped)."""
    modules = _modules(package_dir)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = {target for target in _imports(name, tree, modules) if target != name}
    return graph


def _components(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def _path(graph: Mapping[str, set[str]], start: str, members: set[str]) -> list[str]:
    """One concrete cycle through ``start`` inside a component (breadth-first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    chain = [node]
                    while chain[-1] != start:
                        chain.append(previous[chain[-1]])
                    return [*reversed(chain), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return [start]


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One example cycle (``a -> b -> a``) per group of modules importing each other."""
    return [_path(graph, members[0], set(members)) for members in _components(graph)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.imports", description=__doc__)
    parser.add_argument("--graph", action="store_true", help="also print every import edge")
    args = parser.parse_args(argv)
    graph = import_graph()
    if args.graph:
        for name in sorted(graph):
            print(f"{name} -> {', '.join(sorted(graph[name])) or '-'}")
    found = cycles(graph)
    for cycle in found:
        print("cycle: " + " -> ".join(cycle))
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} imports, {len(found)} cycle(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
