"""Statement kinds of raw SQL found in `execute` strings and heredocs, and the natures they point to."""

from __future__ import annotations

import re
from dataclasses import dataclass

from scheduler.natures import Nature

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_INTERPOLATION = re.compile(r"#\{[^{}]*\}")
_WORD = re.compile(r"[A-Za-z_]+")
_QUOTED = re.compile(r"'(?:[^']|'')*'")
_TABLE = re.compile(
    r"\b(?:ON(?:\s+ONLY)?|UPDATE(?:\s+ONLY)?|DELETE\s+FROM(?:\s+ONLY)?|INSERT\s+INTO|ALTER\s+TABLE"
    r"(?:\s+IF\s+EXISTS)?(?:\s+ONLY)?|TRUNCATE(?:\s+TABLE)?(?:\s+ONLY)?|DROP\s+TABLE(?:\s+IF\s+EXISTS)?"
    r"|CREATE\s+TABLE(?:\s+IF\s+NOT\s+EXISTS)?|REINDEX\s+TABLE(?:\s+CONCURRENTLY)?)\s+"
    r"\"?([A-Za-z_][\w.]*)",
    re.I,
)
_TABLE_LIST = re.compile(
    r"^\s*(?:LOCK(?:\s+TABLE)?|TRUNCATE(?:\s+TABLE)?)(?:\s+ONLY)?\s+(.*?)(?:\s+IN\s+|\s+RESTART|\s+CONTINUE"
    r"|\s+CASCADE|\s+RESTRICT|\s+NOWAIT|\s*$)",
    re.I | re.S,
)
_CREATE_QUALIFIERS = frozenset({"OR", "REPLACE", "UNIQUE", "CONSTRAINT", "TEMP", "TEMPORARY", "UNLOGGED"})
_DML_INSIDE = re.compile(r"\b(UPDATE|DELETE|INSERT|MERGE)\b", re.I)
_SPECIAL = re.compile(r"[';$]")
_DOLLAR_TAG = re.compile(r"\$\w*\$")


@dataclass(frozen=True, slots=True)
class SqlStatement:
    """One statement: its kind (e.g. `CREATE INDEX`), nature (None: harmless), tables named, and why."""

    kind: str
    nature: Nature | None
    tables: tuple[str, ...]
    why: str = "raw SQL"


def _alter_table(words: list[str]) -> tuple[str, Nature]:
    joined = " ".join(words)
    if " DROP " in f" {joined} ":
        return "ALTER TABLE … DROP", Nature.DDL_CLEANUP
    if "VALIDATE CONSTRAINT" in joined:
        return "VALIDATE CONSTRAINT", Nature.INDEX_AND_CONSTRAINT
    if "ADD CONSTRAINT" in joined or "ADD FOREIGN KEY" in joined or "ADD CHECK" in joined:
        return "ALTER TABLE … ADD CONSTRAINT", Nature.INDEX_AND_CONSTRAINT
    if "PARTITION" in joined:
        return "ALTER TABLE … PARTITION", Nature.DDL_CLEANUP
    return "ALTER TABLE", Nature.DDL_CLEANUP


def _kind(words: list[str]) -> tuple[str, Nature | None]:
    """Statement kind and nature from the upper-cased leading words of one statement."""
    first = words[0]
    head = " ".join(words[:6])
    if first == "CREATE":
        obj = next((w for w in words[1:] if w not in _CREATE_QUALIFIERS), "")
        if obj == "INDEX":
            return "CREATE INDEX", Nature.INDEX_AND_CONSTRAINT
        if obj in ("FUNCTION", "PROCEDURE"):
            return "CREATE FUNCTION", Nature.DDL_CLEANUP
        if obj == "TABLE":
            if "PARTITION OF" in " ".join(words):
                return "CREATE TABLE … PARTITION OF", Nature.DDL_CLEANUP
            if "AS" in words and "SELECT" in words:
                return "CREATE TABLE … AS SELECT", Nature.DATA_MIGRATION
            return "CREATE TABLE", None
        return f"CREATE {obj}".strip(), Nature.DDL_CLEANUP
    if first == "DROP":
        if head.startswith("DROP INDEX CONCURRENTLY"):
            return "DROP INDEX CONCURRENTLY", Nature.INDEX_AND_CONSTRAINT
        return f"DROP {words[1] if len(words) > 1 else ''}".strip(), Nature.DDL_CLEANUP
    if first == "ALTER":
        if len(words) > 1 and words[1] == "TABLE":
            return _alter_table(words)
        return f"ALTER {words[1] if len(words) > 1 else ''}".strip(), Nature.DDL_CLEANUP
    simple: dict[str, tuple[str, Nature | None]] = {
        "UPDATE": ("UPDATE", Nature.DATA_MIGRATION),
        "DELETE": ("DELETE", Nature.DATA_MIGRATION),
        "INSERT": ("INSERT", Nature.DATA_MIGRATION),
        "MERGE": ("MERGE", Nature.DATA_MIGRATION),
        "COPY": ("COPY", Nature.DATA_MIGRATION),
        "TRUNCATE": ("TRUNCATE", Nature.DDL_CLEANUP),
        "LOCK": ("LOCK TABLE", Nature.DDL_CLEANUP),
        "REINDEX": ("REINDEX", Nature.INDEX_AND_CONSTRAINT),
        "COMMENT": ("COMMENT ON", Nature.DDL_CLEANUP),
        "SET": ("SET", None),
        "RESET": ("RESET", None),
    }
    if first in simple:
        return simple[first]
    return first, Nature.UNKNOWN


_WHY = {
    "LOCK TABLE": "explicit table lock (held until the transaction ends)",
    "CREATE TABLE": "creates a new, empty table",
    "CREATE TABLE … PARTITION OF": "creates a partition: locks the partitioned table",
    "CREATE TABLE … AS SELECT": "creates a table filled with copied rows",
}


def _why(nature: Nature | None) -> str:
    return "SQL statement not recognised" if nature is Nature.UNKNOWN else "raw SQL"


def classify_sql(text: str) -> list[SqlStatement]:
    """Split `text` into statements and classify each; interpolations `#{…}` are placeholders.

    `WITH` statements are data migrations when they contain DML; a bare `SELECT` may call functions with
    side effects and anything unrecognised (`ANALYZE`, `VACUUM`, `DO` blocks…) is `unknown`.
    """
    cleaned = _COMMENT.sub(" ", _INTERPOLATION.sub("x", text))
    statements: list[SqlStatement] = []
    for chunk in _split(cleaned):
        words = [w.upper() for w in _WORD.findall(_QUOTED.sub("''", chunk)[:400])]
        if not words:
            continue
        kind: str
        nature: Nature | None
        if words[0] == "WITH":
            found = _DML_INSIDE.search(_QUOTED.sub("''", chunk))
            kind, nature = (
                (found.group(1).upper(), Nature.DATA_MIGRATION) if found else ("SELECT", Nature.UNKNOWN)
            )
        else:
            kind, nature = _kind(words)
        if kind in ("LOCK TABLE", "TRUNCATE"):
            listed = _TABLE_LIST.match(chunk)
            names = listed.group(1).split(",") if listed else []
            tables = tuple(dict.fromkeys(n.strip().strip('"').lower() for n in names if n.strip()))
        else:
            tables = tuple(dict.fromkeys(m.group(1).lower() for m in _TABLE.finditer(chunk)))
        statements.append(SqlStatement(kind, nature, tables, _WHY.get(kind, _why(nature))))
    return statements


def _split(text: str) -> list[str]:
    """Split on `;` outside single quotes and dollar-quoted bodies (function definitions).

    Jumps from one `'`, `$` or `;` to the next (and from a quote to its end), not one character at a time.
    """
    parts: list[str] = []
    start = 0
    i = 0
    while True:
        found = _SPECIAL.search(text, i)
        if found is None:
            break
        i = found.start()
        ch = text[i]
        if ch == ";":
            parts.append(text[start:i])
            start = i + 1
            i += 1
            continue
        quote = "'"
        if ch == "$":
            end = text.find("$", i + 1)
            tag = text[i : end + 1] if end != -1 else ""
            if not (tag and _DOLLAR_TAG.fullmatch(tag)):
                i += 1
                continue
            quote = tag
        closing = text.find(quote, i + len(quote))
        if closing == -1:
            break
        i = closing + len(quote)
    parts.append(text[start:])
    return parts
