"""Dependencies point inwards (ARCHITECTURE.md): read from the source with `ast`, nothing is imported.

- `scheduler/` never imports `bot/` or `handlers/`.
- The domain imports no adapter, use case, worker module or outside-system client library, and reads
  no clock (`now` is a parameter).
- Outside `scheduler/adapters/` (and the composition root) nothing imports a client library, nor an
  adapter: use cases and their helpers reach outside systems through the ports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEDULER = ROOT / "scheduler"
DOMAIN = (
    "scheduler/classify",
    "scheduler/policy",
    "scheduler/simulate",
    "scheduler/plan.py",
    "scheduler/lifecycle.py",
)
OUTER_LAYERS = ("bot", "handlers")
NOT_FOR_THE_DOMAIN = (
    "scheduler.adapters",
    "scheduler.service",
    "scheduler.jobs",
    "scheduler.bootstrap",
    "scheduler.ports",
    "redis",
    "rq",
    "gitlab",
    "psycopg",
    "requests",
    "urllib3",
    "urllib.request",
    "http",
    "socket",
    "subprocess",
    "slack_sdk",
    "slack_bolt",
    "flask",
    "prometheus_client",
    "structlog",
    "logging",
)
CLIENT_LIBRARIES = (
    "redis",
    "rq",
    "gitlab",
    "psycopg",
    "requests",
    "urllib3",
    "urllib.request",
    "slack_sdk",
    "slack_bolt",
)
ADAPTER_HOMES = ("scheduler/adapters/", "scheduler/bootstrap.py")  # the composition root builds the RQ queue
WALL_CLOCK = frozenset({"now", "utcnow", "today"})
TIME_FUNCTIONS = frozenset({"time", "monotonic", "perf_counter", "time_ns", "process_time"})


def _python_files(*relative: str) -> list[Path]:
    files: list[Path] = []
    for rel in relative:
        path = ROOT / rel
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else [])
    return files


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every import, relative ones resolved against the file's package."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _module(path).split(".")[: None if path.name == "__init__.py" else -1]
                base = ".".join([*package[: len(package) - node.level + 1], base]).strip(".")
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _within(name: str, prefixes: tuple[str, ...]) -> str | None:
    return next((p for p in prefixes if name == p or name.startswith(p + ".")), None)


def _clock_reads(path: Path) -> Iterator[tuple[int, str]]:
    """Calls such as `datetime.now()`, `date.today()`, `time.time()`, `monotonic()` (from `time`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    time_modules = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    time_modules &= {"time"}
    from_time = {
        a.asname or a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module == "time"
        for a in n.names
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else ""
            if func.attr in WALL_CLOCK or (owner in time_modules and func.attr in TIME_FUNCTIONS):
                yield node.lineno, ast.unparse(func)
        elif isinstance(func, ast.Name) and func.id in from_time:
            yield node.lineno, func.id


def test_the_domain_list_names_existing_code() -> None:
    missing = [rel for rel in DOMAIN if not (ROOT / rel).exists()]
    assert missing == []


@pytest.mark.parametrize("path", _python_files("scheduler"), ids=_module)
def test_scheduler_never_imports_bot_or_handlers(path: Path) -> None:
    found = [(line, name) for line, name in _imports(path) if _within(name, OUTER_LAYERS)]
    assert found == [], f"{_module(path)} imports an outer layer"


@pytest.mark.parametrize("path", _python_files(*DOMAIN), ids=_module)
def test_the_domain_imports_no_adapter_use_case_or_client_library(path: Path) -> None:
    found = [(line, name) for line, name in _imports(path) if _within(name, NOT_FOR_THE_DOMAIN)]
    assert found == [], f"{_module(path)} reaches outside the domain"


NOT_ADAPTERS = [
    p for p in _python_files("scheduler") if not str(p.relative_to(ROOT)).startswith(ADAPTER_HOMES)
]


@pytest.mark.parametrize("path", NOT_ADAPTERS, ids=_module)
def test_only_adapters_import_client_libraries(path: Path) -> None:
    found = [(line, name) for line, name in _imports(path) if _within(name, CLIENT_LIBRARIES)]
    assert found == [], f"{_module(path)} talks to an outside system itself"


@pytest.mark.parametrize("path", NOT_ADAPTERS, ids=_module)
def test_only_the_composition_root_imports_adapters(path: Path) -> None:
    found = [(line, name) for line, name in _imports(path) if _within(name, ("scheduler.adapters",))]
    assert found == [], f"{_module(path)} uses an adapter, not a port"


@pytest.mark.parametrize("path", _python_files(*DOMAIN), ids=_module)
def test_the_domain_reads_no_clock(path: Path) -> None:
    assert list(_clock_reads(path)) == [], f"{_module(path)} reads the clock"


def test_the_rules_catch_what_they_forbid(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import redis\nfrom bot.settings import Settings\nfrom datetime import datetime\n"
        "x = datetime.now()\nimport time\ny = time.monotonic()\nfrom time import perf_counter\n"
        "z = perf_counter()\nfrom datetime import time as t\nw = t(3)\n",
        encoding="utf-8",
    )
    names = [name for _, name in _imports(sample)]
    assert _within("redis", NOT_FOR_THE_DOMAIN) and "redis" in names
    assert any(_within(n, OUTER_LAYERS) for n in names)
    assert [call for _, call in _clock_reads(sample)] == ["datetime.now", "time.monotonic", "perf_counter"]
