"""GitLab's database dictionary at a deployed SHA: `db/docs/<table>.yml` of the tables that pending
migrations touch, read through the GitLab port during one pending refresh.

Each file is read at most once per refresh (a 404 means "not documented", not an error), and the reads are
bounded: the first `DOCS_PER_MIGRATION` tables of a migration, `DOCS_PER_REFRESH` files in all. A table past
either limit is classified as undocumented (its size from the policy's `table_sizes` or unknown; it does not
name the database). The first other GitLab error stops the reads for the rest of the refresh: what is left
is classified without docs, and `problem` says why.
"""

from __future__ import annotations

from collections.abc import Sequence

from scheduler.classify.tabledocs import TableDocs, doc_path, read_table_docs
from scheduler.errors import GitLabError, GitLabNotFound
from scheduler.ports import GitLab

DOCS_PER_MIGRATION = 10
DOCS_PER_REFRESH = 200


class DocsAtSha:
    """The documented tables at one SHA, read on demand and remembered."""

    def __init__(self, gitlab: GitLab, sha: str) -> None:
        self._gitlab, self._sha = gitlab, sha
        self._texts: dict[str, str | None] = {}  # table -> its doc file's text; None: not documented
        self.skipped: set[str] = set()  # tables whose docs were not read (past a limit, or after a failure)
        self.problem: str | None = None  # the GitLab error that stopped the reads

    def for_tables(self, tables: Sequence[str]) -> TableDocs:
        """Sizes and schemas documented for the first `DOCS_PER_MIGRATION` readable names of `tables`."""
        named = [(t, p) for t in dict.fromkeys(tables) if (p := doc_path(t)) is not None]
        self.skipped.update(t for t, _ in named[DOCS_PER_MIGRATION:] if t not in self._texts)
        for table, path in named[:DOCS_PER_MIGRATION]:
            if table not in self._texts:
                self._read(table, path)
        return read_table_docs(
            text for t, _ in named[:DOCS_PER_MIGRATION] if (text := self._texts.get(t)) is not None
        )

    def _read(self, table: str, path: str) -> None:
        if self.problem is not None or len(self._texts) >= DOCS_PER_REFRESH:
            self.skipped.add(table)
            return
        try:
            self._texts[table] = self._gitlab.file_text(path, self._sha)
        except GitLabNotFound:
            self._texts[table] = None
        except GitLabError as exc:
            self.problem = str(exc)
            self.skipped.add(table)

    def caveat(self) -> str | None:
        """Why some tables were classified without their docs; None when every doc wanted was read."""
        if not self.skipped:
            return None
        listed = ", ".join(sorted(self.skipped)[:5]) + (" …" if len(self.skipped) > 5 else "")
        why = self.problem or (
            f"read limit: {DOCS_PER_MIGRATION} tables per migration, {DOCS_PER_REFRESH} files per refresh"
        )
        return f"{len(self.skipped)} table(s) classified without db/docs ({listed}): {why}"
