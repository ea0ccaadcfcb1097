"""SQLite under asyncio without a thread trip per statement: aiosqlite's connection, but statements run on the
event loop's own thread, and only a wait goes to the connection's thread.

SQLite answers the bot's statements in 5-150 µs; aiosqlite's hand-off to its thread and back through the event loop
cost about 100 µs of CPU each, plus a loop wake-up, and through SQLAlchemy a statement was four of them (cursor,
execute, fetch, close) and a transaction three more. So here:

- a statement runs where it is awaited, whole (the BEGIN owed first, the statement, every row, the cursor closed);
  commit and rollback too, and a commit or rollback with no transaction open (the pool's reset) costs nothing;
- nothing waits on the loop's thread: the connection's busy timeout is 0 there, and a statement SQLite refuses
  because another connection holds the lock (another process, or a session here writing outside the write turn)
  is run again on the connection's thread with the configured busy timeout, while the loop serves everyone else;
- long reads (a report over a month of cases, an export) would stop every resident's answer while they run: inside
  :func:`offloaded` statements go to the connection's thread as before (and several run side by side).

Nothing else changes: the same sqlite3 connection, the same statements in the same order, the BEGIN sent right
before the statement that needs it (SQLAlchemy sends it there anyway: a session connects lazily).
"""

from __future__ import annotations

import functools
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

import aiosqlite
from sqlalchemy.engine import URL

P = ParamSpec("P")
R = TypeVar("R")
_OFFLOAD: ContextVar[bool] = ContextVar("linli_sqlite_offload", default=False)


@contextmanager
def offloaded() -> Iterator[None]:
    """Within this block (and tasks started in it) SQLite statements run on their connections' threads: for reads
    long enough to hold up everyone else's answers if they ran on the event loop's thread."""
    token = _OFFLOAD.set(True)
    try:
        yield
    finally:
        _OFFLOAD.reset(token)


def offloading(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """An async function whose SQLite statements all run :func:`offloaded` (a report, an export)."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with offloaded():
            return await fn(*args, **kwargs)

    return wrapper


def offloading_now() -> bool:
    """Whether statements started here go to their connections' threads (inside :func:`offloaded`)."""
    return _OFFLOAD.get()


def _busy(error: sqlite3.OperationalError) -> bool:
    """SQLite refused for a lock another connection holds (SQLITE_BUSY / SQLITE_LOCKED), which waiting may cure."""
    return getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or (
        "locked" in str(error))


_BEGINS = frozenset({"BEGIN", "BEGIN DEFERRED", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"})
_Outcome = tuple[Any, int, Any, list[Any], bool]  # description, rowcount, lastrowid, rows, a transaction is open


class Connection(aiosqlite.Connection):
    """aiosqlite's connection (its thread, its queue) with :class:`Cursor` for cursors, a BEGIN held back until
    the statement that follows it, and commit/rollback skipped when the thread last saw no transaction open."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int = 64, *,
                 inline: bool = True) -> None:
        super().__init__(connector, iter_chunk_size)
        self._thread.daemon = True  # as SQLAlchemy sets for aiosqlite's own connections
        self._begin: str | None = None  # a BEGIN not sent yet: it goes with the next statement
        self._open = False  # a transaction was open after the last statement (True when unsure)
        self.inline = inline  # False: every statement on the connection's thread, as aiosqlite does
        self.busy_timeout_ms = 5000  # how long a statement refused for a lock waits, on the connection's thread

    def cursor(self) -> Cursor:  # type: ignore[override]
        return Cursor(self)

    async def run(self, sql: str, parameters: Any, *, many: bool = False) -> _Outcome:
        """One statement, whole: the BEGIN owed first (if any), then the statement, every row, the cursor closed;
        here, or on the connection's thread when offloaded or when it must wait for a lock."""
        begin, self._begin = self._begin, None
        conn = self._conn
        if many:
            parameters = list(parameters)  # run again after a refusal: an iterator would be used up

        def work() -> _Outcome:
            nonlocal begin
            if begin is not None:
                conn.execute(begin).close()
                begin = None
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

        self._open = True  # until SQLite says otherwise (a statement that failed may have left one open)
        outcome: _Outcome = await self._do(work)
        self._open = outcome[4]
        return outcome

    async def _do(self, work: Callable[[], Any]) -> Any:
        """``work`` here with no waiting; on the connection's thread, waiting for locks, when offloaded or refused."""
        if self.inline and not _OFFLOAD.get():
            try:
                return work()
            except sqlite3.OperationalError as error:
                if not _busy(error):
                    raise
        return await self._execute(self._waiting, work)

    def _waiting(self, work: Callable[[], Any]) -> Any:
        """On the connection's thread: ``work`` with the busy timeout, which the loop's thread must never spend."""
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}").close()
        try:
            return work()
        finally:
            conn.execute("PRAGMA busy_timeout=0").close()

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
        await self._do(self._conn.commit)
        self._open = False

    async def rollback(self) -> None:
        self._begin = None
        if not self._open:
            return
        await self._do(self._conn.rollback)
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


def creator(url: URL, *, inline: bool = True) -> Callable[[], Any]:
    """``create_async_engine(..., async_creator=creator(url))``: connections as aiosqlite makes them for ``url``
    (the same arguments SQLAlchemy's dialect derives from it), of :class:`Connection`. The sqlite3 connection is
    used from the loop's thread and its own, one at a time (a connection belongs to one session at a time), and
    starts with no busy timeout: waits are for its thread."""
    dialect = url.get_dialect()()
    args, kwargs = dialect.create_connect_args(url)
    database, *rest = args

    async def connect() -> Connection:
        def connector() -> sqlite3.Connection:
            conn = sqlite3.connect(database, *rest, **{**kwargs, "check_same_thread": False})
            conn.execute("PRAGMA busy_timeout=0").close()
            return conn

        return await Connection(connector, inline=inline)

    return connect


__all__ = ["Connection", "Cursor", "creator", "offloaded", "offloading", "offloading_now"]
