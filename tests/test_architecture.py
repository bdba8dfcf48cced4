"""The layering of docs/architecture.md, read from the source with `ast`: domain packages
never import the application layer, the report or the CLI, and no openwfm modules import
each other in a cycle (imports inside functions and under TYPE_CHECKING count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import openwfm

SRC = Path(openwfm.__file__).parent
DOMAIN = ("forecast", "staffing", "scheduling", "simulation", "capacity", "intraday", "io",
          "scenario", "quality", "selfservice")
UPPER = ("app", "report", "cli", "pipeline", "api", "web", "server")


def modules() -> dict[str, Path]:
    """Module name -> file, for every module of the openwfm package."""
    out = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imported(name: str, path: Path) -> set[str]:
    """Every module name `path` imports, anywhere in the file (absolute names)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join([*base, *([node.module] if node.module else [])])
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def graph() -> dict[str, set[str]]:
    """Module -> the openwfm modules it imports, without its own parent packages (Python
    imports those first anyway; `from openwfm.staffing import erlang` inside
    ``openwfm.staffing.chat`` is not a cycle)."""
    mods = modules()
    out = {}
    for name, path in mods.items():
        parents = {name.rsplit(".", k)[0] for k in range(1, name.count(".") + 1)}
        out[name] = {m for m in imported(name, path) if m in mods and m != name} - parents
    return out


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative).

    >>> cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}})
    [['a', 'b']]
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_domain_packages_do_not_import_the_layers_above() -> None:
    bad = []
    for name, deps in graph().items():
        layer = name.split(".")[1] if "." in name else ""
        if layer not in DOMAIN:
            continue
        bad += [f"{name} imports {d}" for d in sorted(deps) if d.split(".")[1] in UPPER]
    assert bad == []


def test_no_import_cycles_among_openwfm_modules() -> None:
    assert cycles(graph()) == []


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    # the scan finds function-local and TYPE_CHECKING imports, relative ones resolved
    f = tmp_path / "m.py"
    f.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                 "    from openwfm.report import Section\n"
                 "def g():\n    from .sibling import x\n    import openwfm.app.stages\n")
    got = imported("openwfm.forecast.m", f)
    assert {"openwfm.report", "openwfm.forecast.sibling", "openwfm.app.stages"} <= got
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def test_import_openwfm_stays_cheap_and_plan_is_lazy() -> None:
    import subprocess
    import sys

    code = ("import sys, openwfm; heavy = [m for m in ('pandas', 'numpy', 'openwfm.app') "
            "if m in sys.modules]; print(heavy); print(openwfm.plan.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "openwfm.app.planning"
