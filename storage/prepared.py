"""Prebuilt statements run below SQLAlchemy's execution layer on SQLite: compiled once, bound and read with the
column types' own processors, executed on the sqlite3 connection itself.

Through SQLAlchemy a prebuilt statement on SQLite still costs 150-600 µs of CPU a call on the bot's hot path (a
trip through the greenlet, the pool's checkout and reset, the execution context, the cache key's lookup, the
result's metadata); SQLite itself answers in 5-50 µs. A statement built once at import (module level, bound
parameters) is the same object at every call, so it is compiled here once per dialect and afterwards only its
values are converted (``construct_params`` and the bind processors, as SQLAlchemy's execution context does) and
its rows read back through the result processors of its columns (as SQLAlchemy's result does). The SQL sent and
the values read are SQLAlchemy's own; only the machinery between is left out.

Only plain cases are taken: a statement object seen before (a statement built anew at every call is left to
SQLAlchemy, whose cache serves it better), one set of parameters (``IN`` lists are expanded as SQLAlchemy expands
them, at each call), no Python-side column default to compute, a dialect with positional parameters. Anything else
answers None and goes through SQLAlchemy as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Dialect, RowMapping
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.sql import ClauseElement

KEEP = 512  # statements remembered (prepared, or seen once); prebuilt ones are a few dozen


@dataclass(frozen=True, slots=True)
class Prepared:
    """One statement compiled for one dialect, with what converting its values and rows needs."""

    sql: str
    compiled: Any  # SQLCompiler: construct_params gives every value by name (defaults, required checks)
    binds: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # positional order: name, bind processor
    keys: tuple[str, ...]  # result columns, as SQLAlchemy's mappings name them
    results: tuple[Callable[[Any], Any] | None, ...]  # their result processors
    returns_rows: bool
    expanding: bool = False  # parameters expanded at execution (``IN`` lists): the SQL is made for each call…
    lists: tuple[str, ...] | None = None  # … or, when nothing is rendered as a literal, once for the lists' lengths
    shapes: dict[tuple[int, ...], Any] = field(default_factory=dict)  # lengths -> SQL, binds, expanded names

    def bound(self, params: Mapping[str, Any] | None) -> tuple[str, tuple[Any, ...]]:
        """The SQL to send and its values, converted as SQLAlchemy's execution context converts them."""
        if self.lists is not None:
            shaped = self._shaped(params)
            if shaped is not None:
                return shaped
        if self.expanding:
            state = self.compiled.construct_expanded_state(params or None)
            procs = {**self.compiled._bind_processors, **state.processors}  # the expanded ones' are in the state
            return state.statement, tuple(procs[k](v) if k in procs else v
                                          for k, v in ((k, state.parameters[k]) for k in state.positiontup or ()))
        values = self.compiled.construct_params(params or None)
        return self.sql, tuple(value if bind is None else bind(value)
                               for value, bind in ((values[name], bind) for name, bind in self.binds))

    def _shaped(self, params: Mapping[str, Any] | None) -> tuple[str, tuple[Any, ...]] | None:
        """An ``IN`` list's SQL depends only on how many values it holds: expanded by SQLAlchemy once for each
        length (``construct_expanded_state``), then only the values are put in their places. None: not a plain
        list of plain values (tuples are expanded by SQLAlchemy each time)."""
        assert self.lists is not None
        values = self.compiled.construct_params(params or None, _no_postcompile=True)
        seqs = [values[name] for name in self.lists]
        if not all(isinstance(seq, list | tuple) and not any(isinstance(v, tuple) for v in seq) for seq in seqs):
            return None
        shape = tuple(len(seq) for seq in seqs)
        known = self.shapes.get(shape)
        if known is None:
            if len(self.shapes) >= KEEP:
                return None
            state = self.compiled.construct_expanded_state(params or None)
            procs = {**self.compiled._bind_processors, **state.processors}
            known = self.shapes[shape] = (
                state.statement, tuple((k, procs.get(k)) for k in state.positiontup or ()),
                tuple(tuple(state.parameter_expansion.get(name, ())) for name in self.lists))
        sql, binds, expanded = known
        for names, seq in zip(expanded, seqs, strict=True):
            values.update(zip(names, seq, strict=True))
        return sql, tuple(v if b is None else b(v) for v, b in ((values[k], b) for k, b in binds))

    def rows(self, raw: list[Any]) -> list[tuple[Any, ...]]:
        procs = self.results
        if not any(procs):
            return [tuple(r) for r in raw]
        return [tuple(v if p is None else p(v) for v, p in zip(r, procs, strict=True)) for r in raw]

    def result(self, raw: list[Any]) -> IteratorResult[Any]:
        """The rows as a SQLAlchemy result (``.mappings()``, ``.all()``, ``.one()``, ``.scalar()`` …)."""
        return IteratorResult(SimpleResultMetaData(self.keys), iter(self.rows(raw)))

    def mappings(self, raw: list[Any]) -> list[RowMapping]:
        return list(self.result(raw).mappings())


def _compile(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> Prepared | None:
    """Compiled as SQLAlchemy compiles it for an execution with parameters named ``keys`` (which columns an INSERT
    or UPDATE names depends on them); None where its execution does more than bind and read: values expanded at
    execution, Python-side column defaults to compute (prefetch), no positional parameters."""
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys))
    if (compiled.positiontup is None or getattr(compiled, "insert_prefetch", None)
            or getattr(compiled, "update_prefetch", None)):
        return None
    expanding = bool(compiled.literal_execute_params or compiled.post_compile_params)
    processors = compiled._bind_processors
    binds = tuple((name, processors.get(name)) for name in compiled.positiontup)
    columns = compiled._result_columns or []
    names = tuple(entry[0] for entry in columns)
    results = tuple(entry[3]._cached_result_processor(dialect, None) for entry in columns)
    if len(set(names)) != len(names):
        return None  # two columns of one name: SQLAlchemy's own result decides which one a key means
    lists = None
    if expanding and not compiled.literal_execute_params and all(b.expanding for b in compiled.post_compile_params):
        lists = tuple(compiled.bind_names[b] for b in compiled.post_compile_params)
    return Prepared(compiled.string, compiled, binds, names, results, bool(columns), expanding, lists)


class Statements:
    """Prepared statements by the identity of the statement object and the names of the parameters given, for one
    dialect. A statement is compiled here the second time it is seen so (the first went through SQLAlchemy): one
    built anew at every call never is."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._known: OrderedDict[tuple[int, tuple[str, ...]], tuple[ClauseElement, Prepared | None]] = OrderedDict()
        self._seen: OrderedDict[tuple[int, tuple[str, ...]], ClauseElement] = OrderedDict()

    def get(self, statement: Any, params: Mapping[str, Any] | None = None) -> Prepared | None:
        names = tuple(sorted(params)) if params else ()
        key = (id(statement), names)
        known = self._known.get(key)
        if known is not None and known[0] is statement:
            return known[1]
        if not isinstance(statement, ClauseElement) or (not statement.is_dml and not statement.is_select):
            return None
        if self._seen.get(key) is not statement:  # the first time: remembered (the object kept, so its id stays its)
            self._seen[key] = statement
            while len(self._seen) > KEEP:
                self._seen.popitem(last=False)
            return None
        del self._seen[key]
        try:
            prepared = _compile(statement, self.dialect, names)
        except Exception:  # anything SQLAlchemy compiles only at execution: left to it
            prepared = None
        self._known[key] = (statement, prepared)
        while len(self._known) > KEEP:
            self._known.popitem(last=False)
        return prepared


__all__ = ["Prepared", "SimpleResultMetaData", "Statements"]
