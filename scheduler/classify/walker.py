"""Walk a parsed Ruby migration and collect signals: helper calls, SQL, model writes, class-level modifiers.

tree-sitter queries find the nodes (in C); Python only looks at the calls, so the cost grows with the
number of calls, not with the size of the tree. Only `up`/`change` (and class methods they call) count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from itertools import repeat
from operator import attrgetter
from typing import NamedTuple

import tree_sitter_ruby
from tree_sitter import Language, Node, Parser, Query, QueryCursor, Range

from scheduler.classify import catalog
from scheduler.classify.catalog import Helper
from scheduler.classify.sql import classify_sql
from scheduler.natures import Nature

_LANGUAGE = Language(tree_sitter_ruby.language())
_PARSER = Parser(_LANGUAGE)
# Comment and blank lines before the code (a licence or rationale header): the tree is the same without their
# `comment` nodes, which nothing reads, so `_AFTER_HEADER` parses from the first line of code (the nodes keep
# their rows and bytes in the whole source) and tree-sitter does not lex the header. A file with a syntax
# error is parsed whole again to place it: without the header, error recovery may build another tree.
_HEADER = re.compile(rb"(?:[ \t]*(?:#[^\n]*)?\n)*")
_AFTER_HEADER = Parser(_LANGUAGE)
_NO_END = 0xFFFFFFFF  # a range that runs to the end of the source


def _field_id(name: str) -> int:
    """The id of the grammar's field `name`."""
    found = _LANGUAGE.field_id_for_name(name)
    if found is None:
        raise LookupError(f"the Ruby grammar has no field {name!r}")
    return found


# The fields of a call, read for each call: by id, a little cheaper than by name.
_METHOD, _RECEIVER, _ARGUMENTS = map(_field_id, ("method", "receiver", "arguments"))


# One capture per node kind: each pattern costs compile time at start-up (assignments are split in Python).
_QUERY = Query(
    _LANGUAGE,
    "(class) @class (method) @method (call) @call (heredoc_beginning) @hb (heredoc_body) @body"
    " (return) @return (assignment) @assignment",
)
_CONDITIONALS = frozenset(
    {"if", "unless", "if_modifier", "unless_modifier", "case", "conditional", "while", "until", "rescue"}
)
_ENTRY_METHODS = ("up", "change")
_BLOCKS = frozenset({"block", "do_block"})
# Where a value only feeds another expression: an argument, a condition, an operand, an interpolation.
_VALUE_PARENTS = frozenset({"argument_list", "pair", "interpolation", "element_reference", "array", "hash"})
_PASS_THROUGH = frozenset({"parenthesized_statements", "binary", "unary", "conditional"})
_CONDITION_OWNERS = frozenset({"if", "unless", "while", "until", "if_modifier", "unless_modifier", "elsif"})
# Inline index and constraint definitions of a `create_table` block (`t.index`, `t.references`, …).
_INLINE_INDEX_METHODS = frozenset(
    {"index", "references", "belongs_to", "foreign_key", "check_constraint", "unique_constraint"}
)
_NOT_SET = frozenset({"false", "nil"})
# Real migrations nest about 15 levels; ancestor look-ups make deeper trees cost O(depth^2) per call.
MAX_DEPTH = 100
_CHEAP_SQL_KINDS = frozenset({"CREATE INDEX", "VALIDATE CONSTRAINT", "ALTER TABLE … ADD CONSTRAINT"})
# Arel statement managers: `manager.to_sql` renders this DML.
_AREL_DML = {
    "Arel::UpdateManager": "UPDATE",
    "Arel::DeleteManager": "DELETE",
    "Arel::InsertManager": "INSERT",
}


class Signal(NamedTuple):
    """One thing found in `up`/`change` that points to natures (none: a neutral but notable call).

    A named tuple, like `_Where`: immutable and three times cheaper to build than a frozen dataclass."""

    line: int
    signal: str
    natures: tuple[Nature, ...]
    why: str
    table: str | None = None
    conditional: bool = False
    cheap_on_new_table: bool = False
    creates_table: bool = False
    empties_table: bool = False
    table_unresolved: bool = False
    in_lock_retries: bool = False
    tableless: bool = False  # the job system only: no database table touched


@dataclass
class Facts:
    """Everything the walker learnt from one file."""

    error: str | None = None
    error_line: int = 1
    class_line: int | None = None
    has_entry: bool = False
    signals: list[Signal] = field(default_factory=list)
    down_only: list[str] = field(default_factory=list)
    schema: str | None = None
    schema_line: int | None = None
    disable_ddl_transaction: int | None = None
    lock_retries: int | None = None
    milestone: str | None = None
    milestone_line: int | None = None
    early_return: int | None = None


class _Where(NamedTuple):
    """The blocks and branches around a call, up to its method."""

    conditional: bool = False
    in_lock_retries: bool = False
    in_batch_loop: bool = False
    new_table_block: Node | None = None  # the `create_table` call whose block holds the node


@cache
def _id_query() -> Query:
    """`(identifier) @id`, compiled on first use: a query takes milliseconds to compile and most files never
    need this one."""
    return Query(_LANGUAGE, "(identifier) @id")


def _identifiers(node: Node) -> list[Node]:
    """The identifiers under `node`."""
    return QueryCursor(_id_query()).captures(node).get("id", [])


def _text(node: Node | None) -> str:
    text = None if node is None else node.text  # each `.text` copies the bytes: read it once
    return "" if text is None else text.decode("utf-8", "replace")


def _line(node: Node) -> int:
    return node.start_point[0] + 1


def parse_error_line(root: Node) -> int:
    """Line of the first syntax error under `root` (which has `has_error`)."""
    node = root
    while True:
        broken = next((c for c in node.children if c.has_error or c.is_missing), None)
        if broken is None:
            return _line(node)
        node = broken


_START, _END = attrgetter("start_byte"), attrgetter("end_byte")


def _in_source_order(nodes: list[Node]) -> list[Node]:
    """In source order, the outer of two nodes that start together first (`A.all.select`: select, all)."""
    nodes.sort(key=_END, reverse=True)
    nodes.sort(key=_START)  # stable: nodes starting together stay outer first
    return nodes


def _positional(args: Node | None) -> list[Node]:
    if args is None:
        return []
    return [
        c
        for c in args.named_children
        if c.type not in ("pair", "block_argument", "hash_splat_argument", "comment")
    ]


def _keyword(args: Node | None, name: str) -> Node | None:
    if args is None:
        return None
    for child in args.named_children:
        if child.type == "pair":
            key = child.child_by_field_name("key")
            if key is not None and _text(key).rstrip(":").lstrip(":") == name:
                return child.child_by_field_name("value")
    return None


def _receiver_root(receiver: Node) -> str:
    """The leading constant path of a receiver (`Foo::Bar` of `Foo::Bar.where(x).find`), or ''."""
    node = receiver
    while node.type == "call":
        inner = node.child_by_field_id(_RECEIVER)
        if inner is None:
            return ""
        node = inner
    if node.type in ("constant", "scope_resolution"):
        return _text(node).removeprefix("::")
    return ""


class _Walker:
    """Collects signals from one migration class."""

    def __init__(self, root: Node) -> None:
        self.facts = Facts()
        captures = QueryCursor(_QUERY).captures(root)
        self.caps = {name: _in_source_order(nodes) for name, nodes in captures.items()}
        bodies = self.caps.get("body", [])
        self.heredocs = {b.start_byte: body for b, body in zip(self.caps.get("hb", []), bodies, strict=False)}
        self.consts: dict[str, Node] = {}
        self.vars: dict[str, Node] = {}
        self.table_attrs: list[tuple[Node, Node]] = []
        for assignment in self.caps.get("assignment", []):
            left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
            if left is None or right is None:
                continue
            if left.type == "constant":
                self.consts[_text(left)] = right
            elif left.type == "identifier":
                self.vars[_text(left)] = right
            elif left.type == "call" and (receiver := left.child_by_field_id(_RECEIVER)) is not None:
                attr = left.child_by_field_id(_METHOD)
                if receiver.type == "self" and attr is not None and attr.type == "identifier":
                    self.table_attrs.append((attr, right))
        self.model_tables: dict[str, str] = {}
        self.created: set[str] = set()

    # ---- entry -------------------------------------------------------------------------------------

    def run(self) -> Facts:
        klass = next(
            (
                c
                for c in self.caps.get("class", [])
                if "Migration" in _text(c.child_by_field_name("superclass"))
            ),
            None,
        )
        if klass is None:
            self.facts.error = "no migration class (a class inheriting from …Migration) in the file"
            return self.facts
        self.facts.class_line = _line(klass)
        self._collect_models(klass)
        body = klass.child_by_field_name("body")
        in_body = {c.id for c in body.named_children} if body is not None else set()  # the class level
        methods = {
            _text(m.child_by_field_name("name")): m for m in self.caps.get("method", []) if m.id in in_body
        }
        reachable = self._reachable(klass, methods)
        self.facts.has_entry = any(name in methods for name in _ENTRY_METHODS)
        ranges = [(methods[n].start_byte, methods[n].end_byte) for n in reachable]
        down = methods.get("down")
        down_start, down_end = (down.start_byte, down.end_byte) if down is not None else (0, 0)
        for call in self.caps.get("call", []):
            start = call.start_byte
            if call.id in in_body:
                self._class_level(call)
                continue
            for begin, end in ranges:  # a loop, not any(…): this runs for every call of the file
                if begin <= start < end:
                    self._call(call)
                    break
            else:
                if down_start <= start < down_end:
                    name = _text(call.child_by_field_id(_METHOD))
                    if name in catalog.CATALOG:
                        self.facts.down_only.append(name)
        for ret in self.caps.get("return", []):
            if any(start <= ret.start_byte < end for start, end in ranges) and self._where(ret).conditional:
                self.facts.early_return = _line(ret)
        return self.facts

    def _collect_models(self, klass: Node) -> None:
        """Nested model classes with `self.table_name = 'x'` map their name to their table."""
        for attr, value in self.table_attrs:
            if _text(attr) != "table_name" or not klass.start_byte <= attr.start_byte < klass.end_byte:
                continue
            owner = self._class_around(attr)
            table = self._literal(value)
            if owner is not None and table is not None:
                self.model_tables[_text(owner.child_by_field_name("name"))] = table

    def _class_around(self, node: Node) -> Node | None:
        """The innermost class holding `node`: the last class in source order whose bytes hold it (cheaper
        than climbing `.parent`, which tree-sitter finds by descending from the root)."""
        start = node.start_byte
        found = None
        for klass in self.caps.get("class", []):
            if klass.start_byte <= start < klass.end_byte:
                found = klass
        return found

    def _reachable(self, klass: Node, methods: dict[str, Node]) -> list[str]:
        """`up`/`change` plus the class's own methods they call, transitively."""
        reachable = [n for n in _ENTRY_METHODS if n in methods]
        extra = set(methods) - {"up", "down", "change"}
        if not extra:
            return reachable
        ids = _identifiers(klass)
        names = [(n.start_byte, _text(n)) for n in ids]
        names += [(c.start_byte, _text(c.child_by_field_id(_METHOD))) for c in self.caps.get("call", [])]
        frontier = list(reachable)
        while frontier:
            current = methods[frontier.pop()]
            for pos, name in names:
                if name in extra and name not in reachable and current.start_byte <= pos < current.end_byte:
                    reachable.append(name)
                    frontier.append(name)
        return reachable

    # ---- class level -------------------------------------------------------------------------------

    def _class_level(self, call: Node) -> None:
        name = _text(call.child_by_field_id(_METHOD))
        args = call.child_by_field_id(_ARGUMENTS)
        if name == "disable_ddl_transaction!":
            self.facts.disable_ddl_transaction = _line(call)
        elif name == "enable_lock_retries!":
            self.facts.lock_retries = _line(call)
        elif name == "milestone":
            first = _positional(args)
            self.facts.milestone = self._literal(first[0]) if first else None
            self.facts.milestone_line = _line(call)
        elif name == "restrict_gitlab_migration":
            value = _keyword(args, "gitlab_schema")
            self.facts.schema = _text(value).lstrip(":") if value is not None else None
            self.facts.schema_line = _line(call)

    # ---- calls in up/change ------------------------------------------------------------------------

    def _call(self, call: Node) -> None:
        name = _text(call.child_by_field_id(_METHOD))
        receiver = call.child_by_field_id(_RECEIVER)
        args = call.child_by_field_id(_ARGUMENTS)
        if name == "with_lock_retries":
            self.facts.lock_retries = self.facts.lock_retries or _line(call)
        if receiver is None or receiver.type == "self":
            if receiver is not None and self._is_assigned(call):
                return  # `self.table_name = …`: an attribute of a model class being defined
            self._bare_call(call, name, args)
            return
        root = _receiver_root(receiver)
        receiver_text = _text(receiver)
        if name in catalog.SQL_METHODS and receiver_text.endswith("connection"):
            self._sql(call, args)
            return
        qualified = catalog.QUALIFIED.get(f"{root}.{name}") if root else None
        if qualified is not None:
            self._add(call, qualified.name, qualified.natures, qualified.why)
        elif root in catalog.FILE_SYSTEM_ROOTS:
            why = "changes files on disk: effect outside the database"
            self._add(call, f"{root}.{name}", (Nature.UNKNOWN,), why)
        elif self._job_system(receiver):
            by_text = receiver_text.startswith(catalog.JOB_SYSTEM_RECEIVERS)
            label = root if root and not by_text else receiver_text[:40]
            why = "touches the job system only (no table)"
            self._add(call, f"{label}.{name}", catalog.BG, why, tableless=True)
        elif name in catalog.ENQUEUE_CALLS:
            self._add(call, f"{receiver_text[:40]}.{name}", catalog.BG, "enqueues a job")
        elif name in catalog.MODEL_WRITES or self._writes_by_block_argument(args):
            table = self._table_of(receiver)
            self._add(call, f".{name}", catalog.DATA, "writes rows inline", table=table)
        elif name in catalog.BATCH_LOOPS:
            why = "batched loop: only its block's writes or enqueues count"
            self._add(call, f".{name}", (), why, table=self._table_of(receiver))
        elif root and root.startswith(catalog.INLINE_JOB_PREFIXES) and name in catalog.COMMAND_METHODS:
            self._add(call, f"{root}.{name}", catalog.DATA, "runs a background migration job's body inline")
        elif root and not self._safe(root) and self._runs_application_code(receiver, name):
            self._add(call, f"{root}.{name}", (Nature.UNKNOWN,), "calls application code: effect unseen")
        elif not root:
            self._call_on_object(call, name, args)

    def _call_on_object(self, call: Node, name: str, args: Node | None) -> None:
        """A call on a local object: an inline index of a new table, or a possible write in a batched loop."""
        if name in catalog.READ_METHODS or name.endswith("?") or name in catalog.BATCH_LOOPS:
            return
        where = self._where(call)
        if where.new_table_block is not None:
            if self._inline_index(name, args):
                table = self._new_table(where.new_table_block)
                why = f"inline {name} of a new table"
                self._add(call, f"t.{name}", catalog.IDX, why, table=table, cheap=True)
        elif where.in_batch_loop:
            why = "call on a row or batch inside a batched loop: may write rows"
            self._add(call, f".{name}", catalog.DATA, why)

    def _inline_index(self, name: str, args: Node | None) -> bool:
        if name in _INLINE_INDEX_METHODS:
            index = _keyword(args, "index")
            return name not in ("references", "belongs_to") or index is None or _text(index) not in _NOT_SET
        return any(
            (value := _keyword(args, key)) is not None and _text(value) not in _NOT_SET
            for key in ("index", "foreign_key", "unique")
        )

    def _new_table(self, create_call: Node) -> str | None:
        first = _positional(create_call.child_by_field_id(_ARGUMENTS))
        return self._table_of(first[0]) if first else None

    def _writes_by_block_argument(self, args: Node | None) -> bool:
        """`relation.each(&:destroy)`: a model write passed as a block argument."""
        if args is None:
            return False
        return any(
            c.type == "block_argument" and _text(c).lstrip("&:") in catalog.MODEL_WRITES
            for c in args.named_children
        )

    def _job_system(self, receiver: Node, depth: int = 0) -> bool:
        """The receiver is the job system: `Sidekiq…`/`Gitlab::Redis…`, a variable holding one, or a block
        parameter yielded by one (`Sidekiq::Queue.new(q).each { |job| job.delete }`)."""
        root = _receiver_root(receiver)
        if _text(receiver).startswith(catalog.JOB_SYSTEM_RECEIVERS):
            return True
        if root:
            return any(root == r or root.startswith(r + "::") for r in catalog.JOB_SYSTEM_ROOTS)
        base = receiver
        while base.type == "call" and (inner := base.child_by_field_id(_RECEIVER)) is not None:
            base = inner
        if base.type != "identifier" or depth > 3:
            return False
        name = _text(base)
        owner = self._block_owner(base, name)
        if owner is not None:
            owner_receiver = owner.child_by_field_id(_RECEIVER)
            return owner_receiver is not None and self._job_system(owner_receiver, depth + 1)
        value = self.vars.get(name)
        return (
            value is not None
            and value.type in ("call", "constant", "scope_resolution")
            and (self._job_system(value, depth + 1))
        )

    def _block_owner(self, node: Node, name: str) -> Node | None:
        """The call whose block declares `name` as a parameter, seen from `node` inside that block."""
        parent = node.parent
        while parent is not None and parent.type != "method":
            if parent.type in _BLOCKS:
                params = parent.child_by_field_name("parameters")
                if params is not None and any(_text(p) == name for p in params.named_children):
                    return parent.parent
            parent = parent.parent
        return None

    def _runs_application_code(self, receiver: Node, name: str) -> bool:
        """A command method, or any non-read method on an object built with `.new` (a service object)."""
        if name in catalog.READ_METHODS or name.endswith("?"):
            return False
        if name in catalog.COMMAND_METHODS:
            return True
        node: Node | None = receiver
        while node is not None and node.type == "call":
            if _text(node.child_by_field_id(_METHOD)) == "new":
                return True
            node = node.child_by_field_id(_RECEIVER)
        return False

    def _safe(self, root: str) -> bool:
        if root in catalog.SAFE_RECEIVERS_EXACT or root in self.model_tables:
            return True
        return any(root == p or root.startswith(p + "::") for p in catalog.SAFE_RECEIVER_PREFIXES)

    def _bare_call(self, call: Node, name: str, args: Node | None) -> None:
        helper = catalog.CATALOG.get(name)
        if helper is not None:
            self._helper(call, helper, args)
        elif name in catalog.SQL_METHODS:
            self._sql(call, args)
        elif name in catalog.BATCH_LOOPS:
            first = _positional(args)
            table = self._table_of(first[0]) if first else None
            self._add(call, name, (), "batched loop: only its block's writes or enqueues count", table=table)
        elif (
            name in catalog.LOOKUPS
            or name in catalog.NEUTRAL_CALLS
            or name.endswith("?")
            or name in self.consts
            or name in ("up", "change")
            or self._local_method(name)
        ):
            return
        elif not name.endswith("!") and self._used_as_value(call):
            self._add(call, name, (), "look-up: its result is only used as an argument or a condition")
        else:
            self._add(call, name, (Nature.UNKNOWN,), "unrecognised helper: may do something unseen")

    def _used_as_value(self, node: Node, depth: int = 0) -> bool:
        """The result of `node` only feeds an argument, a condition, a read, or a variable used that way."""
        child, parent = node, node.parent
        while parent is not None and parent.type in _PASS_THROUGH:
            child, parent = parent, parent.parent
        if parent is None:
            return False
        if parent.type in _VALUE_PARENTS:
            return True
        if parent.type in _CONDITION_OWNERS:
            condition = parent.child_by_field_name("condition")
            return condition is not None and condition.id == child.id
        if parent.type == "call":
            receiver = parent.child_by_field_id(_RECEIVER)
            method = _text(parent.child_by_field_id(_METHOD))
            is_receiver = receiver is not None and receiver.id == child.id
            return is_receiver and (method in catalog.READ_METHODS or method.endswith("?"))
        if parent.type == "assignment" and depth < 2:
            left = parent.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                return self._variable_used_as_value(parent, _text(left), depth)
        return False

    def _variable_used_as_value(self, assignment: Node, name: str, depth: int) -> bool:
        scope = assignment.parent
        while scope is not None and scope.type != "method":
            scope = scope.parent
        if scope is None:
            return False
        uses = [n for n in _identifiers(scope) if _text(n) == name and n.start_byte > assignment.start_byte]
        return all(self._used_as_value(n, depth + 1) for n in uses)

    def _local_method(self, name: str) -> bool:
        return any(_text(m.child_by_field_name("name")) == name for m in self.caps.get("method", []))

    def _helper(self, call: Node, helper: Helper, args: Node | None) -> None:
        positional = _positional(args)
        if helper.table_arg == catalog.EVERY:
            named: list[tuple[str | None, Node | None]] = [(self._table_of(a), a) for a in positional]
            for each, arg in named or [(None, None)]:
                self._add_helper(call, helper, each, arg is not None and each is None)
            return
        table: str | None = None
        unresolved = False
        if isinstance(helper.table_arg, int):
            if len(positional) > helper.table_arg:
                table = self._table_of(positional[helper.table_arg])
                unresolved = table is None
        elif isinstance(helper.table_arg, str):
            keyword = _keyword(args, helper.table_arg)
            table = self._table_of(keyword) if keyword is not None else None
            unresolved = table is None
        if helper.creates_table:
            force = _keyword(args, "force")
            if force is not None and _text(force) not in _NOT_SET:
                why = "create_table with force: drops and re-creates an existing table"
                self._add(call, helper.name, catalog.DDL, why, table=table)
                return
            if table is not None:
                self.created.add(table)
        self._add_helper(call, helper, table, unresolved)

    def _add_helper(self, call: Node, helper: Helper, table: str | None, unresolved: bool) -> None:
        self._add(
            call,
            helper.name,
            helper.natures,
            helper.why,
            table=table,
            cheap=helper.cheap_on_new_table,
            creates=helper.creates_table,
            empties=helper.empties_table,
            unresolved=unresolved,
            tableless=helper.tableless,
        )

    def _sql(self, call: Node, args: Node | None) -> None:
        positional = _positional(args)
        text = self._sql_text(positional[0]) if positional else None
        if text is None:
            dml = self._arel_dml(positional[0]) if positional else None
            if dml is not None:
                self._add(call, f"SQL {dml}", catalog.DATA, f"{dml} rendered by an Arel manager")
            else:
                self._add(call, "execute", (Nature.UNKNOWN,), "SQL built at run time: kind unseen")
            return
        rows_read = self._used_as_value(call)
        for stmt in classify_sql(text):
            if stmt.kind == "SELECT" and rows_read:
                self._add(call, "SQL SELECT", (), "look-up: a SELECT whose rows the migration reads")
                continue
            creates = stmt.kind == "CREATE TABLE"
            for table in stmt.tables[: None if stmt.kind in ("LOCK TABLE", "TRUNCATE") else 1] or [None]:
                if creates and table is not None:
                    self.created.add(table)
                natures = (stmt.nature,) if stmt.nature is not None else ()
                self._add(
                    call,
                    f"SQL {stmt.kind}",
                    natures,
                    stmt.why,
                    table=table,
                    cheap=stmt.kind in _CHEAP_SQL_KINDS,
                    creates=creates,
                    empties=stmt.kind == "TRUNCATE",
                )

    def _is_assigned(self, call: Node) -> bool:
        parent = call.parent
        if parent is None or parent.type != "assignment":
            return False
        left = parent.child_by_field_name("left")
        return left is not None and left.id == call.id

    def _returned_by_local_method(self, name: str) -> Node | None:
        """The last expression of the class's own method `name` (the SQL a `…_sql` helper method returns)."""
        methods = self.caps.get("method", [])
        method = next((m for m in methods if _text(m.child_by_field_name("name")) == name), None)
        body = method.child_by_field_name("body") if method is not None else None
        if body is None:
            return None
        statements = [c for c in body.named_children if c.type not in ("comment", "heredoc_body")]
        return statements[-1] if statements else None

    def _arel_dml(self, node: Node) -> str | None:
        """The DML of `manager.to_sql` when `manager` is (a variable holding) an Arel statement manager."""
        if node.type != "call" or _text(node.child_by_field_id(_METHOD)) != "to_sql":
            return None
        manager = node.child_by_field_id(_RECEIVER)
        if manager is not None and manager.type == "identifier":
            manager = self.vars.get(_text(manager))
        return _AREL_DML.get(_receiver_root(manager)) if manager is not None else None

    def _sql_text(self, node: Node, depth: int = 0) -> str | None:
        """The literal SQL of an `execute` argument, following heredocs, `.squish`, variables, constants."""
        if depth > 4:
            return None
        if node.type == "string":
            return _text(node)[1:-1]
        if node.type == "heredoc_beginning":
            body = self.heredocs.get(node.start_byte)
            return _text(body).rsplit("\n", 1)[0] if body is not None else None
        if node.type == "call":
            inner = node.child_by_field_id(_RECEIVER)
            if inner is None:
                returned = self._returned_by_local_method(_text(node.child_by_field_id(_METHOD)))
                return self._sql_text(returned, depth + 1) if returned is not None else None
            return self._sql_text(inner, depth + 1)
        if node.type in ("parenthesized_statements", "binary", "chained_string"):
            parts = [self._sql_text(c, depth + 1) for c in node.named_children]
            known = [p for p in parts if p is not None]
            return " ".join(known) if known else None
        if node.type == "identifier" and _text(node) in self.vars:
            return self._sql_text(self.vars[_text(node)], depth + 1)
        if node.type == "constant" and _text(node) in self.consts:
            return self._sql_text(self.consts[_text(node)], depth + 1)
        return None

    # ---- helpers -----------------------------------------------------------------------------------

    def _literal(self, node: Node) -> str | None:
        if node.type == "simple_symbol":
            return _text(node)[1:]
        if node.type in ("string", "delimited_symbol") and not any(
            c.type == "interpolation" for c in node.named_children
        ):
            return _text(node).lstrip(":")[1:-1]
        return None

    def _table_of(self, node: Node, depth: int = 0) -> str | None:
        """The table a node names: a symbol, string, constant, model class, batchable model, or the batch
        parameter of a batched loop over one of these."""
        if depth > 4:
            return None
        literal = self._literal(node)
        if literal is not None:
            return literal
        if node.type in ("constant", "scope_resolution"):
            name = _text(node).rsplit("::", 1)[-1]
            if name in self.model_tables:
                return self.model_tables[name]
            if name in self.consts:
                return self._table_of(self.consts[name], depth + 1)
            return None
        if node.type == "identifier":
            name = _text(node)
            owner = self._block_owner(node, name)
            if owner is not None:
                return self._loop_table(owner, depth)
            if name in self.vars:
                return self._table_of(self.vars[name], depth + 1)
            return None
        if node.type == "call":
            method = _text(node.child_by_field_id(_METHOD))
            if method == "define_batchable_model":
                first = _positional(node.child_by_field_id(_ARGUMENTS))
                return self._table_of(first[0], depth + 1) if first else None
            receiver = node.child_by_field_id(_RECEIVER)
            return self._table_of(receiver, depth + 1) if receiver is not None else None
        return None

    def _loop_table(self, owner: Node, depth: int) -> str | None:
        """The table a batched loop (`model.each_batch`, `each_batch('t')`) walks over."""
        if _text(owner.child_by_field_id(_METHOD)) not in catalog.BATCH_LOOPS:
            return None
        receiver = owner.child_by_field_id(_RECEIVER)
        if receiver is not None:
            return self._table_of(receiver, depth + 1)
        first = _positional(owner.child_by_field_id(_ARGUMENTS))
        return self._table_of(first[0], depth + 1) if first else None

    def _where(self, node: Node) -> _Where:
        conditional = lock_retries = batch_loop = False
        new_table: Node | None = None
        parent = node.parent
        while parent is not None and (kind := parent.type) != "method":  # `.type` read once: it costs
            if kind in _CONDITIONALS:
                conditional = True
            elif kind in _BLOCKS and (owner := parent.parent) is not None and owner.type == "call":
                method = _text(owner.child_by_field_id(_METHOD))
                lock_retries = lock_retries or method == "with_lock_retries"
                batch_loop = batch_loop or method in catalog.BATCH_LOOPS
                if method == "create_table" and new_table is None:
                    new_table = owner
            parent = parent.parent
        return _Where(conditional, lock_retries, batch_loop, new_table)

    def _add(
        self,
        call: Node,
        signal: str,
        natures: tuple[Nature, ...],
        why: str,
        *,
        table: str | None = None,
        cheap: bool = False,
        creates: bool = False,
        empties: bool = False,
        unresolved: bool = False,
        tableless: bool = False,
    ) -> None:
        where = self._where(call)
        self.facts.signals.append(  # positional: a third cheaper than by keyword
            Signal(
                _line(call),
                signal,
                natures,
                why,
                table,
                where.conditional,
                cheap,
                creates,
                empties,
                unresolved,
                where.in_lock_retries,
                tableless,
            )
        )


def _deeper_than(root: Node, limit: int) -> bool:
    """True when the syntax tree nests more than `limit` levels. A subtree of n nodes is at most n - 1 levels
    deep, so only subtrees large enough to go past the limit are entered: a normal migration costs a few
    dozen steps, a pathological one stops at the first path longer than `limit`."""
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if depth + node.descendant_count - 1 > limit:
            stack.extend(zip(node.children, repeat(depth + 1)))
    return False


def parse(source: bytes) -> Node:
    """The syntax tree of `source` (its root), its leading comment lines left out."""
    start = _HEADER.match(source).end()  # type: ignore[union-attr]  # the pattern matches any bytes
    if not start:
        return _PARSER.parse(source).root_node
    row = source.count(b"\n", 0, start)
    _AFTER_HEADER.included_ranges = [Range((row, 0), (_NO_END, _NO_END), start, _NO_END)]
    return _AFTER_HEADER.parse(source).root_node


def walk(source: bytes) -> Facts:
    """Parse `source` and collect the facts of its migration class (an `error` when it has none)."""
    root = parse(source)
    if root.has_error:  # located in the whole source's tree: error recovery may go otherwise after a header
        line = parse_error_line(_PARSER.parse(source).root_node if root.start_byte else root)
        return Facts(error=f"Ruby syntax error near line {line}", error_line=line)
    if _deeper_than(root, MAX_DEPTH):
        return Facts(error=f"code nested more than {MAX_DEPTH} levels deep; too deep to classify")
    return _Walker(root).run()
