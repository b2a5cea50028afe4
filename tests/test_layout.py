"""The shape of rnnlib (CONTRIBUTING.md's map): the math imports numpy only, only rnnlib/plots/
imports matplotlib / Pillow / ipywidgets, and there are no import cycles inside the package.

Read from the source files (ast) and checked by importing in a fresh interpreter, so a plotting
import that sneaks into a math module fails here, not on a reader's machine without matplotlib.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rnnlib"
DRAWING = ("matplotlib", "PIL", "ipywidgets")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
MATH = sorted(m for m in MODULES if not m.startswith("rnnlib.plots"))


def _imports(name: str) -> set[str]:
    """Every module named by an import statement of `name`, anywhere in the file (also inside functions)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from . import core`
    return found


def test_the_math_modules_are_listed():
    """A guard for the tests below: they look at the real package, not an empty list."""
    assert {"rnnlib", "rnnlib.core", "rnnlib.containers", "rnnlib._checks", "rnnlib.train"} <= set(MATH)
    assert {"rnnlib.plots.diagrams", "rnnlib.plots.figures"} <= set(MODULES)


def test_importing_every_math_module_loads_no_drawing_library():
    code = (
        "import importlib, json, sys\n"
        f"for name in {MATH!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {DRAWING!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out.splitlines()[-1])
    assert loaded == [], f"importing the math modules of rnnlib loaded {loaded}: move that code to rnnlib/plots/"


def test_the_subprocess_check_can_fail():
    """The same check on a plotting module does see matplotlib (so the test above is not vacuous)."""
    code = ("import sys, rnnlib.plots.diagrams\n"
            "print('matplotlib' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"


@pytest.mark.parametrize("name", MATH)
def test_math_modules_do_not_name_drawing_libraries(name):
    drawing = sorted(m for m in _imports(name) if m.split(".")[0] in DRAWING or m.startswith("rnnlib.plots"))
    assert not drawing, f"{name} imports {drawing}: only rnnlib/plots/ may"


def test_no_import_cycles_inside_rnnlib():
    graph = {}
    for name in MODULES:
        targets = set()
        for imported in _imports(name):
            # `from . import core` names rnnlib.core; `from .core import forward` names rnnlib.core.forward
            while imported and imported not in MODULES:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and not (name == "rnnlib" or imported == "rnnlib"):
                targets.add(imported)
        graph[name] = targets
    state, cycles = {}, []

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)
    assert "rnnlib.core" not in graph["rnnlib._checks"]
