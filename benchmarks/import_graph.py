"""The import graph of the ``synthfilter`` package: circles, imports that run back up, module sizes.

    python benchmarks/import_graph.py [--json]

Reads every module under ``synthfilter/`` with :mod:`ast` (nothing is imported) and draws an arrow
from a module to every ``synthfilter`` module it imports, at the top of the file or inside a function
(a lazy import is still a dependency: it only moves the moment it runs; only the ``if __name__ ==
"__main__":`` block of a command is left out), and from a package face to every
module its ``lazy_face`` table names. ``from .pkg import name`` points at ``pkg.name`` when that is a module,
else at the package ``pkg`` (its ``__init__``).

* **circles**: groups of modules that reach each other along the arrows (strongly connected
  components of more than one module, or a module importing itself);
* **upward imports**: an arrow from a module inside a subpackage ``P`` to a module outside ``P`` that
  sits in one of ``P``'s parent packages and itself reaches back into ``P`` (``tag.py`` may import
  ``detect/``; ``detect/x.py`` may not import ``tag.py``). The package face, ``synthfilter/__init__.py``,
  counts as a parent module: ``collapse/`` may use it (the face does not import ``collapse``), ``quota/``
  may not (the face imports ``quota``);
* **package circles**: circles between the top-level parts (``quota``, ``detect``, ``tag``, ...), the
  graph with every module folded into the part it belongs to;
* **long modules**: modules over ``MAX_LINES`` lines.

Prints a summary (``--json``: the whole report as JSON). Exit status 1 when any of the four is not empty.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "synthfilter"
MAX_LINES = 400


def module_names(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    """Dotted name -> file of every module of ``package`` (a package is named by its ``__init__``)."""
    names = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_package(name: str, files: dict[str, Path]) -> bool:
    return files[name].name == "__init__.py"


def _resolve(current: str, files: dict[str, Path], level: int, module: str | None) -> str:
    """The absolute name of ``from <level dots><module> import ...`` written in module ``current``."""
    if level == 0:
        return module or ""
    base = current.split(".") if _is_package(current, files) else current.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _target(name: str, files: dict[str, Path]) -> str | None:
    """The ``synthfilter`` module that ``name`` is or lives in (``synthfilter.quota.plan.Plan`` -> ``...plan``)."""
    while name and name not in files:
        name = name.rpartition(".")[0]
    return name or None


def _is_main_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and isinstance(test, ast.Compare) and getattr(test.left, "id", None) == "__name__" \
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)


def _nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except those under ``if __name__ == "__main__":`` (a command entry point runs as
    ``python -m``, never when the module is imported)."""
    out, todo = [], [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        todo.extend(child for child in ast.iter_child_nodes(node) if not _is_main_block(child))
    return out


def imports(files: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {imported synthfilter module: first line of the import}."""
    graph: dict[str, dict[str, int]] = {}
    for name, path in files.items():
        arrows: dict[str, int] = {}
        for node in _nodes(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(name, files, node.level, node.module)
                for alias in node.names:
                    full = f"{source}.{alias.name}"
                    targets.append(full if full in files else source)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_face" and len(node.args) > 1 \
                    and isinstance(node.args[1], ast.Dict):  # a lazy package face: its table names the modules
                for key in node.args[1].keys:
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        level = len(key.value) - len(key.value.lstrip("."))
                        targets.append(_resolve(name, files, level, key.value.lstrip(".") or None))
            for target in targets:
                module = _target(target, files) if target.split(".")[0] == PACKAGE else None
                if module and module != name or (module == name and target in files and target != name):
                    arrows.setdefault(module, node.lineno)
        graph[name] = arrows
    return graph


def circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted, largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(start: str) -> None:
        work = [(start, iter(sorted(graph.get(start, {}))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found, key=lambda c: (-len(c), c))


def _reach(graph: dict[str, dict[str, int]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), {}):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _package_of(module: str, files: dict[str, Path]) -> str:
    return module if _is_package(module, files) else module.rpartition(".")[0]


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def upward_imports(graph: dict[str, dict[str, int]], files: dict[str, Path]) -> list[dict]:
    """Arrows from a module in a subpackage to a module of a parent package that reaches back into it."""
    found = []
    for module, arrows in sorted(graph.items()):
        own = _package_of(module, files)
        for target, line in sorted(arrows.items()):
            home = _package_of(target, files)
            if not own.startswith(home + "."):
                continue  # same package, a child package or a sibling: not upward (circles catch the rest)
            sub = home + "." + own[len(home) + 1:].split(".")[0]  # the child of ``home`` that holds ``module``
            back = sorted(m for m in _reach(graph, target) | {target} if _inside(m, sub))
            if back:
                found.append({"module": module, "imports": target, "line": line,
                              "why": f"{target} reaches back into {sub} ({back[0]})"})
    return found


def package_graph(graph: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """The graph with every module folded into its top-level part (``synthfilter.quota.plan`` -> ``quota``);
    the package face is left out (it imports every part by design)."""
    def part(module: str) -> str:
        return module.split(".")[1] if "." in module else "__init__"

    folded: dict[str, dict[str, int]] = defaultdict(dict)
    for module, arrows in graph.items():
        if module == PACKAGE:
            continue
        for target in arrows:
            if target != PACKAGE and part(target) != part(module):
                folded[part(module)].setdefault(part(target), 1)
        folded.setdefault(part(module), {})
    return dict(folded)


def long_modules(files: dict[str, Path], limit: int = MAX_LINES) -> dict[str, int]:
    sizes = {name: len(path.read_text().splitlines()) for name, path in files.items()}
    return {name: n for name, n in sorted(sizes.items(), key=lambda kv: -kv[1]) if n > limit}


def report(root: Path = ROOT) -> dict:
    """Everything the module docstring lists, as one dictionary."""
    files = module_names(root)
    graph = imports(files)
    sizes = {name: len(path.read_text().splitlines()) for name, path in files.items()}
    return {"modules": len(files), "arrows": sum(len(a) for a in graph.values()),
            "circles": circles(graph), "upward_imports": upward_imports(graph, files),
            "package_circles": circles(package_graph(graph)), "long_modules": long_modules(files),
            "largest_module": max(sizes.items(), key=lambda kv: kv[1]), "max_lines": MAX_LINES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    args = parser.parse_args(argv)
    rep = report()
    if args.json:
        print(json.dumps(rep, indent=2))
    else:
        print(f"{rep['modules']} modules, {rep['arrows']} import arrows")
        print(f"circles: {len(rep['circles'])}")
        for circle in rep["circles"]:
            print("  " + " <-> ".join(circle))
        print(f"upward imports: {len(rep['upward_imports'])}")
        for up in rep["upward_imports"]:
            print(f"  {up['module']}:{up['line']} imports {up['imports']}: {up['why']}")
        print(f"package circles: {len(rep['package_circles'])}")
        for circle in rep["package_circles"]:
            print("  " + " <-> ".join(circle))
        print(f"modules over {MAX_LINES} lines: {len(rep['long_modules'])}"
              + "".join(f"\n  {m}: {n}" for m, n in rep["long_modules"].items()))
        print(f"largest module: {rep['largest_module'][0]} ({rep['largest_module'][1]} lines)")
    return int(any(rep[k] for k in ("circles", "upward_imports", "package_circles", "long_modules")))


if __name__ == "__main__":
    sys.exit(main())
