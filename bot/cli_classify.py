"""`pdm-bot classify`: read migration files and directories, print their natures (table or JSON)."""

from __future__ import annotations

from pathlib import Path

import click

from bot.classify_cache import default_folder
from bot.classify_files import classify_outcomes
from bot.classify_output import write_json
from bot.cli_support import ExitCode, guarded
from scheduler.classify.result import SizeClass
from scheduler.errors import InputError
from scheduler.natures import Nature

_COLUMNS = ("VERSION", "NAME", "PRIMARY", "DATABASE", "TABLES", "DECLARED", "CONFIDENCE", "EVIDENCE")


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


def warn(message: str) -> None:
    """One line on stderr that does not change the exit code."""
    click.echo(f"pdm-bot: warning: {message}", err=True)


def classification_table(rows: list[tuple[str, ...]]) -> str:
    """Aligned columns, one row per file; the last column is not padded."""
    rows = [_COLUMNS, *rows]
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
@click.option(
    "--cache",
    "use_cache",
    is_flag=True,
    help="Reuse the results of files classified before (by content hash), in $XDG_CACHE_HOME/pdm-bot.",
)
@click.option("--cache-dir", "cache_dir", help="Cache directory (implies --cache).")
@guarded
def classify(
    paths: tuple[str, ...],
    as_json: bool,
    fail_on: tuple[str, ...],
    table_sizes: str | None,
    use_cache: bool,
    cache_dir: str | None,
) -> None:
    """Classify post-deploy migrations by nature: files, or directories searched for *.rb.

    \b
    Example:
        pdm-bot classify db/post_migrate --fail-on unknown --fail-on ddl_cleanup
    """
    sizes = load_table_sizes(table_sizes) if table_sizes else {}
    cache = Path(cache_dir) if cache_dir else default_folder() if use_cache else None
    results = classify_outcomes(paths, sizes, as_json=as_json, cache=cache, warn=warn)
    if as_json:
        write_json(results.json)
    elif results.rows:
        click.echo(classification_table(results.rows))
    else:
        click.echo("no *.rb migration files found", err=True)
    flagged = sum(primary in fail_on for primary in results.primaries)
    if flagged:
        click.echo(f"{flagged} file(s) with a primary nature in --fail-on: {', '.join(fail_on)}", err=True)
        raise SystemExit(ExitCode.FOUND)
