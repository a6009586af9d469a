"""From walker facts to a Result: natures, primary, confidence, evidence and how it was resolved."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from scheduler.classify.result import Confidence, Database, Evidence, Result, SizeClass
from scheduler.classify.walker import Facts, Signal
from scheduler.natures import Nature, by_restrictiveness

_DECLARATION = re.compile(r"^[ \t]*#[ \t]*pdm:[ \t]*nature[ \t]*=[ \t]*(\S*)", re.M)
_FILE_NAME = re.compile(r"^(\d+)_?(.*?)(?:\.rb)?$")
_SCHEMAS = {"gitlab_ci": Database.CI, "gitlab_sec": Database.SEC}


@dataclass(frozen=True, slots=True)
class Declaration:
    """A `# pdm: nature=<value>` magic comment."""

    line: int
    value: str

    @property
    def nature(self) -> Nature | None:
        """The declared nature, or None when the value is not a nature."""
        return Nature(self.value) if self.value in Nature._value2member_map_ else None


def find_declaration(text: str) -> Declaration | None:
    """The first `# pdm: nature=…` comment of the file."""
    match = _DECLARATION.search(text)
    if match is None:
        return None
    return Declaration(line=text.count("\n", 0, match.start()) + 1, value=match.group(1))


def split_file_name(path: str) -> tuple[str | None, str | None]:
    """`(version, name)` from `…/20260105101500_add_index.rb`; version None without leading digits."""
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    match = _FILE_NAME.match(base)
    if match is None:
        return None, base.removesuffix(".rb") or None
    return match.group(1), match.group(2) or None


def failed(path: str, reason: str, *, line: int = 1) -> Result:
    """An `unknown` classification carrying the reason it could not be classified."""
    version, name = split_file_name(path)
    return Result(
        path=path,
        version=version,
        name=name,
        primary_nature=Nature.UNKNOWN,
        natures=[Nature.UNKNOWN],
        confidence=Confidence.LOW,
        evidence=[Evidence(line=line, signal="error", nature=Nature.UNKNOWN, note=reason)],
        resolution=f"unknown: {reason}",
        error=reason,
    )


def _database_of_schema(schema: str) -> Database | None:
    """`gitlab_ci` → ci, `gitlab_sec` → sec, `gitlab_main*` → main; other schemas (shared, …) say nothing."""
    if schema in _SCHEMAS:
        return _SCHEMAS[schema]
    return Database.MAIN if schema.startswith("gitlab_main") else None


def _documented_database(
    tables: list[str], table_schemas: Mapping[str, str]
) -> tuple[Database, bool, Evidence | None]:
    """An undeclared migration's database from the `gitlab_schema` GitLab documents for its tables."""
    found = {t: _database_of_schema(table_schemas[t]) for t in tables if t in table_schemas}
    databases = {d for d in found.values() if d is not None}
    if len(databases) != 1:
        if len(databases) > 1:
            listed = ", ".join(f"{t}: {table_schemas[t]}" for t in found)
            note = f"no restrict_gitlab_migration; db/docs put the tables in several databases ({listed})"
            return Database.MAIN, True, Evidence(line=1, signal="db/docs gitlab_schema", note=note)
        return Database.MAIN, True, None
    (database,) = databases
    listed = ", ".join(f"{t}: {table_schemas[t]}" for t, d in found.items() if d is not None)
    note = f"no restrict_gitlab_migration; inferred from db/docs gitlab_schema ({listed})"
    return database, False, Evidence(line=1, signal="db/docs gitlab_schema", note=note)


def _database(
    facts: Facts, tables: list[str], table_schemas: Mapping[str, str] | None
) -> tuple[Database, bool, Evidence | None]:
    if facts.schema is None or facts.schema_line is None:
        if table_schemas:
            return _documented_database(tables, table_schemas)
        return Database.MAIN, True, None
    database = _SCHEMAS.get(facts.schema, Database.MAIN)
    assumed = database is Database.MAIN and not facts.schema.startswith("gitlab_main")
    note = f"gitlab_schema {facts.schema}" + (" (not main/ci/sec: main assumed)" if assumed else "")
    return (
        database,
        assumed,
        Evidence(line=facts.schema_line, signal="restrict_gitlab_migration", note=note),
    )


def _modifiers(facts: Facts) -> list[Evidence]:
    found: list[Evidence] = []
    if facts.disable_ddl_transaction is not None:
        found.append(Evidence(line=facts.disable_ddl_transaction, signal="disable_ddl_transaction!"))
    if facts.lock_retries is not None:
        found.append(Evidence(line=facts.lock_retries, signal="lock retries"))
    if facts.milestone_line is not None:
        found.append(Evidence(line=facts.milestone_line, signal="milestone", note=facts.milestone))
    if facts.early_return is not None:
        note = "conditional early return: later signals may not run (counted anyway)"
        found.append(Evidence(line=facts.early_return, signal="return", note=note))
    return found


def _is_cheap(signal: Signal, empty: set[str]) -> bool:
    """An index, constraint or column helper on a table created or truncated in this migration."""
    return (
        signal.cheap_on_new_table
        and signal.table in empty
        and not signal.creates_table
        and not signal.empties_table
    )


def counted(signal: Signal, empty: set[str]) -> tuple[Nature, ...]:
    """The natures a signal adds: on an empty table only the index/constraint work counts (cheap)."""
    if _is_cheap(signal, empty):
        return tuple(n for n in signal.natures if n is Nature.INDEX_AND_CONSTRAINT)
    return signal.natures


def _cheap_note(signal: Signal, weight: tuple[Nature, ...]) -> str:
    if weight:
        return f"cheap: {signal.table} is empty (created or truncated in this migration)"
    return f"part of building {signal.table}, created in this migration: not counted"


def _evidence(
    signals: list[Signal], weights: list[tuple[Nature, ...]], empty: set[str], early_return: bool
) -> list[Evidence]:
    found: list[Evidence] = []
    for s, weight in zip(signals, weights, strict=True):
        notes = [s.why]
        if empty and _is_cheap(s, empty):
            notes.append(_cheap_note(s, weight))
        if s.conditional or early_return:
            notes.append("conditional, counted conservatively")
        if s.in_lock_retries:
            notes.append("inside with_lock_retries")
        label = f"{s.signal}({s.table})" if s.table else s.signal
        note = "; ".join(notes)
        found.extend(Evidence(s.line, label, n, note) for n in weight or (None,))
    return found


def _resolution(
    natures: list[Nature],
    signals: list[Signal],
    weights: list[tuple[Nature, ...]],
    empty: set[str],
    facts: Facts,
    decl: Declaration | None,
) -> str:
    parts: list[str] = []
    weighty = [s for s, weight in zip(signals, weights, strict=True) if weight]
    if not natures:
        parts.append(
            "up/change is empty or only neutral: no_op" if facts.has_entry else "no up/change: no_op"
        )
        if facts.down_only:
            parts.append(f"helpers only in down ({', '.join(dict.fromkeys(facts.down_only))}) do not count")
    elif len(natures) == 1:
        parts.append(f"all signals point to {natures[0]}")
    else:

        def cite(n: Nature) -> str:
            first = next(s for s, weight in zip(signals, weights, strict=True) if n in weight)
            return f"{n} ({first.signal}, line {first.line})"

        parts.append(f"{cite(natures[0])} outranks " + ", ".join(cite(n) for n in natures[1:]))
    cheap = [s for s in signals if _is_cheap(s, empty)] if empty else []
    if cheap:
        names = ", ".join(dict.fromkeys(f"{s.signal} on {s.table}" for s in cheap))
        parts.append(f"cheap on tables created or truncated in this migration (empty): {names}")
    if any(s.conditional for s in weighty) or (facts.early_return and weighty):
        parts.append("conditional signals counted conservatively")
    if decl is not None:
        declared = decl.nature
        inferred = natures[0] if natures else Nature.NO_OP
        if declared is None:
            parts.append(f"invalid declaration nature={decl.value!r} (line {decl.line}): unknown")
        elif declared == inferred:
            parts.append(f"declared nature={declared} agrees with inference")
        else:
            parts.append(f"declared nature={declared} overrides inferred {inferred}")
    return "; ".join(parts)


def _confidence(primary: Nature, signals: list[Signal], facts: Facts, decl: Declaration | None) -> Confidence:
    if primary is Nature.UNKNOWN:
        return Confidence.LOW
    if decl is not None:
        return Confidence.HIGH
    weighty = [s for s in signals if s.natures]
    if facts.early_return and weighty:
        return Confidence.MEDIUM
    if any(s.conditional or s.table_unresolved for s in weighty):
        return Confidence.MEDIUM
    return Confidence.HIGH


def classify_facts(
    path: str,
    facts: Facts,
    declaration: Declaration | None,
    table_sizes: Mapping[str, SizeClass] | None,
    table_schemas: Mapping[str, str] | None = None,
) -> Result:
    """Turn walker facts (and an optional declaration) into the classification of `path`."""
    if facts.error is not None:
        return failed(path, facts.error, line=facts.error_line)
    created = {s.table for s in facts.signals if s.creates_table and s.table}
    empty = created | {s.table for s in facts.signals if s.empties_table and s.table}
    signals = facts.signals
    # The natures each signal adds: its own unless it is cheap, on a table created or emptied here.
    weights = [counted(s, empty) for s in signals] if empty else [s.natures for s in signals]
    inferred = by_restrictiveness(n for weight in weights for n in weight)
    primary = inferred[0] if inferred else Nature.NO_OP
    natures = list(inferred) or [Nature.NO_OP]
    evidence = _evidence(signals, weights, empty, facts.early_return is not None)
    error = None
    if declaration is not None:
        declared = declaration.nature
        primary = declared if declared is not None else Nature.UNKNOWN
        if declared is None:
            error = (
                f"invalid declared nature {declaration.value!r} (line {declaration.line}); expected one of: "
            )
            error += ", ".join(n.value for n in Nature)
        natures = by_restrictiveness([*inferred, primary])
        evidence.append(
            Evidence(line=declaration.line, signal=f"# pdm: nature={declaration.value}", nature=primary)
        )
    tables = list(dict.fromkeys(s.table for s in signals if s.table))
    database, assumed, schema_evidence = _database(facts, tables, table_schemas)
    extra = [schema_evidence] if schema_evidence is not None else []
    sizes = table_sizes or {}
    version, name = split_file_name(path)
    return Result(
        path=path,
        version=version,
        name=name,
        primary_nature=primary,
        natures=natures,
        database=database,
        database_assumed=assumed,
        tables=tables,
        table_sizes={t: sizes[t] for t in tables if t in sizes},
        declared=declaration is not None and declaration.nature is not None,
        confidence=_confidence(primary, signals, facts, declaration),
        evidence=sorted([*evidence, *extra, *_modifiers(facts)], key=lambda e: e.line),
        resolution=_resolution(inferred, signals, weights, empty, facts, declaration),
        disable_ddl_transaction=facts.disable_ddl_transaction is not None,
        lock_retries=facts.lock_retries is not None,
        milestone=facts.milestone,
        created_tables=sorted(created),
        error=error,
        touches_no_table=_touches_no_table(primary, tables, signals, weights),
    )


def _touches_no_table(
    primary: Nature, tables: list[str], signals: list[Signal], weights: list[tuple[Nature, ...]]
) -> bool:
    """Whether the migration is known to touch no table at all: a no-op, or background scheduling whose
    every counted signal works on the job system only (`sidekiq_remove_jobs`, a cron entry), not a
    migration where no table was found."""
    if primary is Nature.NO_OP:
        return True
    counted = [s for s, weight in zip(signals, weights, strict=True) if weight]
    return (
        primary is Nature.BACKGROUND_SCHEDULING
        and not tables
        and bool(counted)
        and all(s.tableless for s in counted)
    )
