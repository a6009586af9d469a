"""GitLab's database dictionary (`db/docs/*.yml`): each table's `table_size` and `gitlab_schema` (pure).

Only three top-level scalar keys are read, with a line scan rather than a YAML parser: a checkout has about a
thousand of these files and reading them must not slow a one-file `classify` down. A file without
`table_name`, or with a size that is not a size class, gives nothing for the missing part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from scheduler.classify.result import SizeClass

DOCS_DIR = "db/docs"
_KEY = re.compile(
    r"^(table_name|table_size|gitlab_schema):[ \t]*['\"]?([A-Za-z0-9_.]+)['\"]?[ \t]*(?:#.*)?$", re.M
)
_PLAIN_TABLE = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True)
class TableDocs:
    """Size class and gitlab_schema per table, as GitLab documents them."""

    sizes: dict[str, SizeClass] = field(default_factory=dict)
    schemas: dict[str, str] = field(default_factory=dict)

    def sizes_overridden_by(self, explicit: Mapping[str, SizeClass]) -> dict[str, SizeClass]:
        """The documented sizes, with `explicit` ones (`--table-sizes`, the policy map) taking precedence."""
        return {**self.sizes, **explicit}


def read_table_docs(texts: Iterable[str]) -> TableDocs:
    """Collect the documented size and schema of every table from the texts of `db/docs/*.yml` files."""
    docs = TableDocs()
    for text in texts:
        keys: dict[str, str] = {m.group(1): m.group(2) for m in _KEY.finditer(text)}
        table = keys.get("table_name")
        if table is None:
            continue
        size = keys.get("table_size", "")
        if size in SizeClass._value2member_map_:
            docs.sizes[table] = SizeClass(size)
        if "gitlab_schema" in keys:
            docs.schemas[table] = keys["gitlab_schema"]
    return docs


def doc_path(table: str) -> str | None:
    """The `db/docs` file that documents `table`; None for a name no such file can have (schema-qualified,
    quoted, a path)."""
    return f"{DOCS_DIR}/{table}.yml" if _PLAIN_TABLE.fullmatch(table) else None
