"""`pdm-bot classify`: read migration files and directories, print their natures (table or JSON)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import click

from bot.cli_support import ExitCode, emit_json, guarded
from scheduler.classify import classify_source
from scheduler.classify.model import Classification, SizeClass
from scheduler.classify.tabledocs import DOCS_DIR, TableDocs, read_table_docs
from scheduler.errors import InputError
from scheduler.natures import Nature

_COLUMNS = ("VERSION", "NAME", "PRIMARY", "DATABASE", "TABLES", "DECLARED", "CONFIDENCE", "EVIDENCE")


def migration_files(paths: Iterable[str]) -> Iterator[Path]:
    """Each path as given when it is a file; every `*.rb` below it, sorted, when it is a directory."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.rb") if p.is_file())
        elif path.is_file():
            yield path
        else:
            raise InputError(f"{raw}: no such file or directory")


def load_table_sizes(path: str) -> dict[str, SizeClass]:
    """Read a YAML mapping `table: small|medium|large|over_limit`."""
    import yaml  # only this option needs YAML: keep `classify` quick to start

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise InputError(f"{path}: cannot read table sizes ({reason})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: table sizes must be a mapping of table name to size class")
    allowed = ", ".join(s.value for s in SizeClass)
    sizes: dict[str, SizeClass] = {}
    for table, size in data.items():
        if str(size) not in SizeClass._value2member_map_:
            raise InputError(f"{path}: table {table!r} has size {size!r}; expected one of: {allowed}")
        sizes[str(table)] = SizeClass(str(size))
    return sizes


def checkout_docs(path: Path) -> Path | None:
    """The `db/docs` directory of the checkout holding `path`: the nearest ancestor that has one."""
    start = path.resolve()
    for folder in (start, *start.parents) if start.is_dir() else start.parents:
        docs = folder / DOCS_DIR
        if docs.is_dir():
            return docs
    return None


def load_table_docs(docs: Path | None) -> TableDocs:
    """Sizes and schemas documented in `docs/*.yml` (nothing when there is no such directory)."""
    if docs is None:
        return TableDocs()
    return read_table_docs(
        p.read_text(encoding="utf-8", errors="replace") for p in sorted(docs.glob("*.yml"))
    )


def classify_paths(paths: Iterable[str], table_sizes: Mapping[str, SizeClass]) -> list[Classification]:
    """Classify every migration file under `paths` (the CLI's and the benchmark's code path).

    Inside a GitLab checkout, `db/docs/*.yml` give each table's size class and gitlab_schema; the sizes in
    `table_sizes` take precedence over the documented ones.
    """
    results: list[Classification] = []
    by_docs: dict[Path | None, tuple[dict[str, SizeClass], dict[str, str]]] = {}
    for raw in paths:
        docs_dir = checkout_docs(Path(raw))
        if docs_dir not in by_docs:
            docs = load_table_docs(docs_dir)
            by_docs[docs_dir] = (docs.sizes_overridden_by(table_sizes), docs.schemas)
        sizes, schemas = by_docs[docs_dir]
        results += [
            classify_source(f.read_bytes(), str(f), table_sizes=sizes, table_schemas=schemas)
            for f in migration_files([raw])
        ]
    return results


def _summary(result: Classification) -> str:
    if result.error is not None:
        return f"error: {result.error}"
    weighty = [e for e in result.evidence if e.nature is not None]
    cited = list(dict.fromkeys(f"{e.signal.split('(')[0]}@{e.line}" for e in weighty))
    more = f" +{len(cited) - 3} more" if len(cited) > 3 else ""
    text = ", ".join(cited[:3]) + more
    return text or (result.resolution or "")


def _row(result: Classification) -> tuple[str, ...]:
    tables = ", ".join(
        f"{t}({result.table_sizes[t]})" if t in result.table_sizes else t for t in result.tables
    )
    database = f"{result.database}{' (assumed)' if result.database_assumed else ''}"
    return (
        result.version or "-",
        result.name or "-",
        result.primary_nature.value,
        database,
        tables or "-",
        "yes" if result.declared else "no",
        result.confidence.value,
        _summary(result),
    )


def render_table(results: list[Classification]) -> str:
    """Aligned columns, one row per file; the last column is not padded."""
    rows = [_COLUMNS, *(_row(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS) - 1)]
    lines = ["  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per file.")
@click.option(
    "--fail-on",
    "fail_on",
    multiple=True,
    type=click.Choice([n.value for n in Nature]),
    help="Exit 1 when a file's PRIMARY nature is this one (repeatable).",
)
@click.option("--table-sizes", "table_sizes", help="YAML mapping table: small|medium|large|over_limit.")
@guarded
def classify(
    paths: tuple[str, ...], as_json: bool, fail_on: tuple[str, ...], table_sizes: str | None
) -> None:
    """Classify post-deploy migrations by nature: files, or directories searched for *.rb.

    \b
    Example:
        pdm-bot classify db/post_migrate --fail-on unknown --fail-on ddl_cleanup
    """
    sizes = load_table_sizes(table_sizes) if table_sizes else {}
    results = classify_paths(paths, sizes)
    if as_json:
        emit_json([r.model_dump(mode="json") for r in results])
    elif results:
        click.echo(render_table(results))
    else:
        click.echo("no *.rb migration files found", err=True)
    flagged = [r for r in results if r.primary_nature.value in fail_on]
    if flagged:
        click.echo(
            f"{len(flagged)} file(s) with a primary nature in --fail-on: {', '.join(fail_on)}", err=True
        )
        raise SystemExit(ExitCode.FOUND)
