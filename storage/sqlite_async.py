"""SQLite under asyncio in fewer thread round trips: aiosqlite's connection with a cursor that does a statement's
whole work in one trip to the connection's thread.

aiosqlite runs every call on the connection's own thread and hands the answer back through the event loop. Through
SQLAlchemy a plain statement was four such round trips (make the cursor, execute, fetch the rows, close the cursor)
and a transaction three more (its BEGIN, the commit, and the pool's rollback when the connection goes back). Each
costs the event loop a wake-up and two thread switches; with fifty residents at once on a two-core machine they were
a large share of the bot's time per update. Here a statement is one trip (execute, fetch every row, close), the
BEGIN rides with the transaction's first statement, the commit is one trip, and a commit or rollback with no
transaction open (the pool's reset of a connection already committed) is none.

Nothing else changes: the same sqlite3 connection on its own thread, the same statements in the same order, the
BEGIN sent right before the statement that needs it (SQLAlchemy sends it there anyway: a session connects lazily).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.engine import URL

_BEGINS = frozenset({"BEGIN", "BEGIN DEFERRED", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"})
_Outcome = tuple[Any, int, Any, list[Any], bool]  # description, rowcount, lastrowid, rows, a transaction is open


class Connection(aiosqlite.Connection):
    """aiosqlite's connection (its thread, its queue) with :class:`Cursor` for cursors, a BEGIN held back until
    the statement that follows it, and commit/rollback skipped when the thread last saw no transaction open."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int = 64) -> None:
        super().__init__(connector, iter_chunk_size)
        self._thread.daemon = True  # as SQLAlchemy sets for aiosqlite's own connections
        self._begin: str | None = None  # a BEGIN not sent yet: it goes with the next statement
        self._open = False  # a transaction was open after the last trip (True when unsure)

    def cursor(self) -> Cursor:  # type: ignore[override]
        return Cursor(self)

    async def run(self, sql: str, parameters: Any, *, many: bool = False) -> _Outcome:
        """One statement in one trip: the BEGIN owed first (if any), then the statement, every row, the cursor
        closed."""
        begin, self._begin = self._begin, None
        conn = self._conn

        def work() -> _Outcome:
            if begin is not None:
                conn.execute(begin).close()
            cur = conn.cursor()
            try:
                if many:
                    cur.executemany(sql, parameters)
                else:
                    cur.execute(sql, parameters)
                description = cur.description
                rows = cur.fetchall() if description is not None else []
                return description, cur.rowcount, cur.lastrowid, rows, conn.in_transaction
            finally:
                cur.close()

        self._open = True  # until the thread says otherwise (a statement that failed may have left one open)
        outcome: _Outcome = await self._execute(work)
        self._open = outcome[4]
        return outcome

    def hold_begin(self, sql: str) -> bool:
        """Keep a BEGIN for the next statement; False (send it now) if one is pending or open already, where SQLite
        must answer it with its error as before."""
        if self._begin is not None or self._open:
            return False
        self._begin = sql
        return True

    async def commit(self) -> None:
        self._begin = None  # a BEGIN never sent began nothing
        if not self._open:
            return
        await self._execute(self._conn.commit)
        self._open = False

    async def rollback(self) -> None:
        self._begin = None
        if not self._open:
            return
        await self._execute(self._conn.rollback)
        self._open = False


class Cursor:
    """The cursor SQLAlchemy's aiosqlite adapter drives: ``execute`` does the trip and keeps the rows, the fetches
    and ``close`` just hand them out (no trip)."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: Any = None
        self._rows: deque[Any] = deque()

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None) -> Cursor:
        if not parameters and sql in _BEGINS and self._connection.hold_begin(sql):
            self._set((None, -1, None, [], True))
            return self
        self._set(await self._connection.run(sql, () if parameters is None else parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Cursor:
        self._set(await self._connection.run(sql, parameters, many=True))
        return self

    def _set(self, outcome: _Outcome) -> None:
        self.description, self.rowcount, self.lastrowid, rows, _ = outcome
        self._rows = deque(rows)

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        n = min(size or self.arraysize, len(self._rows))
        return [self._rows.popleft() for _ in range(n)]

    async def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()


def creator(url: URL) -> Callable[[], Any]:
    """``create_async_engine(..., async_creator=creator(url))``: connections as aiosqlite makes them for ``url``
    (the same arguments SQLAlchemy's dialect derives from it), of :class:`Connection`."""
    dialect = url.get_dialect()()
    args, kwargs = dialect.create_connect_args(url)
    database, *rest = args

    async def connect() -> Connection:
        def connector() -> sqlite3.Connection:
            return sqlite3.connect(database, *rest, **kwargs)

        return await Connection(connector)

    return connect


__all__ = ["Connection", "Cursor", "creator"]
