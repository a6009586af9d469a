"""Classify a Ruby post-deploy migration by its nature (pure: bytes in, Result or Classification out).

`classify_migration` never raises on bad input: an empty, binary, non-UTF-8, oversized or unparsable file,
or one without a migration class, comes back `unknown` with `error` set. It gives the plain `Result` (what
`pdm-bot classify` prints, without importing pydantic); `classify_source` the pydantic `Classification`.
Both are re-exported by `scheduler.classify`, which loads this module (and the Ruby parser) on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from scheduler.classify.result import Result, SizeClass
from scheduler.classify.tabledocs import TableDocs
from scheduler.classify.verdict import classify_facts, failed, find_declaration
from scheduler.classify.walker import walk

if TYPE_CHECKING:
    from scheduler.classify.model import Classification

MAX_BYTES = 2 * 1024 * 1024


def classify_migration(
    source: bytes,
    path: str,
    *,
    table_sizes: Mapping[str, SizeClass] | None = None,
    table_schemas: Mapping[str, str] | None = None,
) -> Result:
    """Classify the migration `source` read from `path` (the file name gives version and name).

    `table_sizes` gives the size class of tables; `table_schemas` their `gitlab_schema` (from GitLab's
    `db/docs`), which names the database of a migration that does not declare `restrict_gitlab_migration`.
    """
    if not source.strip():
        return failed(path, "empty file")
    if len(source) > MAX_BYTES:
        return failed(path, f"file is {len(source):,} bytes, larger than any migration (limit {MAX_BYTES:,})")
    if b"\x00" in source:
        return failed(path, "binary file (contains NUL bytes)")
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        return failed(path, f"not UTF-8 text (invalid byte at offset {exc.start})")
    declaration = find_declaration(text) if b"pdm:" in source else None
    return classify_facts(path, walk(source), declaration, table_sizes, table_schemas)


def classify_source(
    source: bytes,
    path: str,
    *,
    table_sizes: Mapping[str, SizeClass] | None = None,
    table_schemas: Mapping[str, str] | None = None,
) -> Classification:
    """`classify_migration`, as the pydantic `Classification` the bot's records, messages and policies use."""
    from scheduler.classify.model import Classification  # pydantic: not needed by `pdm-bot classify`

    result = classify_migration(source, path, table_sizes=table_sizes, table_schemas=table_schemas)
    return Classification.from_result(result)


def classify_documented(
    source: bytes, path: str, docs: TableDocs, table_sizes: Mapping[str, SizeClass]
) -> Classification:
    """`classify_source` with GitLab's documented sizes and schemas (`docs`), the explicit `table_sizes`
    (`--table-sizes`, the policy map) taking precedence over the documented sizes."""
    return classify_source(
        source, path, table_sizes=docs.sizes_overridden_by(table_sizes), table_schemas=docs.schemas
    )
