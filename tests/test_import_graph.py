"""The import graph: no module imports itself back (not even through an import inside a function), and
the layers of docs/ARCHITECTURE.md hold (the core never imports the packages built on it)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path, root: Path) -> str:
    """costmodel/features/layout.py -> costmodel.features.layout; a package's __init__ is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path, modules: set[str]) -> set[str]:
    """The modules of `modules` that a file imports anywhere (top level, functions, conditionals)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from package import module` imports the module; `from module import name`, the module.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import a.b.c` where only a.b is ours
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


PACKAGES = ("looper", "frontend", "codegen", "costmodel", "polybench")

# looper's core: the IR, dependences, schedules, legality, the schedulers and the search. It imports
# nothing but itself; the wiring (api, measure, verify, cli, bench, fuzz) connects it to the rest.
CORE = {f"looper.{name}" for name in ("ir", "expr", "deps", "depwalk", "transforms", "schedule", "legality",
                                      "strides", "counting", "pluto", "ilp", "linalg", "isl_scheduler", "recipe",
                                      "errors", "progress", "argtypes")}


def graph(packages: tuple[str, ...] = PACKAGES, root: Path = ROOT) -> dict[str, list[str]]:
    """Each module of the packages and the modules of the packages it imports anywhere."""
    files = {module_name(p, root): p for package in packages for p in (root / package).rglob("*.py")}
    return {name: sorted(imports(path, root, set(files))) for name, path in files.items()}


def cycles(*packages: str, root: Path = ROOT) -> list[list[str]]:
    """Every import cycle among the modules of the packages (each found once, from its first module)."""
    edges = graph(packages, root)
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in edges[node]:
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def is_core(module: str) -> bool:
    """Part of looper's core (the search package included)."""
    return module in CORE or module == "looper.search" or module.startswith("looper.search.")


def test_no_module_imports_itself_back() -> None:
    assert cycles(*PACKAGES) == []


def test_the_layers_import_downwards_only() -> None:
    allowed = {  # what each layer may import besides itself and looper's core
        "core": set(),
        "frontend": set(),
        "codegen": {"frontend", "polybench.manifest"},  # the harness finds functions; polybench.h's home
        "polybench": {"codegen"},
        "costmodel": {"codegen", "frontend", "polybench"},
    }
    wrong = []
    for module, targets in graph().items():
        layer = "core" if is_core(module) else module.split(".")[0]
        if layer not in allowed:  # looper's wiring may import everything
            continue
        for target in targets:
            if is_core(target) or target.split(".")[0] == layer:
                continue
            if not any(target == a or target.startswith(a + ".") for a in allowed[layer]):
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_the_checker_sees_a_cycle_through_an_import_inside_a_function(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import f\n")
    (package / "b.py").write_text("def f():\n    from pkg import a\n    return a\n")
    (package / "c.py").write_text("from . import a\n")
    assert cycles("pkg", root=tmp_path) == [["pkg.a", "pkg.b", "pkg.a"]]
