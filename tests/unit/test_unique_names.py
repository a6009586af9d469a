"""No public name is defined twice for two different things (read from the source with `ast`).

Scanned: the top-level classes, functions and assigned names of `scheduler/`, `bot/`, `handlers/` and
the shared test doubles (`tests/fakes.py`, `tests/servers/`); names starting with `_` are private to
their module. Deliberate repeats:
- an RQ entry point of `scheduler/jobs.py` is named after the use case of `scheduler/service/` it
  runs (jobs already queued in Redis name the entry points, docs/jobs.md);
- `SAME_THING`: one idiom per module.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("scheduler", "bot", "handlers", "tests/fakes.py", "tests/servers")
ENTRY_POINTS = "scheduler/jobs.py"
USE_CASES = "scheduler/service/"
SAME_THING = {
    "log": "each module's logger",
    "P": "type parameters of generic helpers",
    "R": "type parameters of generic helpers",
    "T": "type parameters of generic helpers",
}


def _files() -> list[Path]:
    out: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        out.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return out


def _defined(tree: ast.Module) -> list[str]:
    """Public names a module defines at its top level."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [n for n in names if not n.startswith("_")]


def _definitions() -> dict[str, list[str]]:
    where: dict[str, list[str]] = defaultdict(list)
    for path in _files():
        module = path.relative_to(ROOT).as_posix()
        for name in dict.fromkeys(_defined(ast.parse(path.read_text(), filename=module))):
            where[name].append(module)
    return where


def _deliberate(name: str, modules: list[str]) -> bool:
    if name in SAME_THING:
        return True
    return len(modules) == 2 and ENTRY_POINTS in modules and any(m.startswith(USE_CASES) for m in modules)


def test_no_public_name_is_defined_twice() -> None:
    twice = {
        name: modules
        for name, modules in _definitions().items()
        if len(modules) > 1 and not _deliberate(name, modules)
    }
    assert twice == {}


def test_the_scan_sees_the_deliberate_repeats() -> None:
    definitions = _definitions()
    assert sorted(definitions["approve"]) == ["scheduler/jobs.py", "scheduler/service/approvals.py"]
    assert len(definitions["log"]) > 1
