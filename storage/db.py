"""Engine, sessions, transactions and migrations behind one small ``Database`` object.

SQLite notes (the default backend): every connection runs in WAL mode with foreign keys on and a busy
timeout. Python's sqlite3 driver has its own broken notion of when to BEGIN, so SQLAlchemy emits BEGIN
itself (the recipe from SQLAlchemy's SQLite docs). Sessions from :meth:`Database.transaction` begin with
``BEGIN IMMEDIATE``: they take the write lock up front, so two writers queue instead of one failing with
"database is locked" when it upgrades a read snapshot to a write. Anything that must read-then-write
consistently (points, counters) therefore belongs in ``transaction()``. Within one process the writers
queue on an asyncio lock first (:meth:`Database.writing`): SQLite's busy timeout sleeps in growing steps
and, with fifty residents writing at once, let some wait past it; the lock hands the database to the next
writer the moment the last one commits. The busy timeout is left for other processes (the CLI).
"""

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import Context, ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, RowMapping, create_engine, event, exc, util
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.result import IteratorResult
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Executable
from sqlalchemy.util import greenlet_spawn
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import prepared, sqlite_async

DEFAULT_URL = "sqlite+aiosqlite:///var/linli.db"
log = logging.getLogger(__name__)
MIGRATION_LOCK = 0x6C696D67  # PostgreSQL advisory lock held while migrating ("limg")
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_POOL = 8  # SQLite file connections kept (as many again on overflow): a session holds one only while its
# statements run on the loop's thread, so a few serve fifty residents at once; each costs memory (a page cache, a
# thread): 32 of them put the bot over 200 MB
PG_POOL, PG_OVERFLOW = 5, 10  # PostgreSQL connections per process unless given (SQLAlchemy's defaults)
PG_PING_IDLE = 10.0  # seconds a PostgreSQL connection may rest in the pool before a checkout asks the server
PG_STATEMENT_CACHE = 500  # prepared statements kept per PostgreSQL connection (asyncpg; SQLAlchemy's default 100)


@dataclass
class FirstCommit:
    """Something to write with the first transaction that commits inside a :func:`first_commit` block."""

    action: Callable[[AsyncSession], Awaitable[object]]
    done: bool = False


_FIRST_COMMIT: ContextVar[FirstCommit | None] = ContextVar("linli_first_commit", default=None)


@contextmanager
def first_commit(note: FirstCommit) -> Iterator[FirstCommit]:
    """Within this block (and tasks started in it), the first write transaction that commits runs
    ``note.action`` in it, so the action's write (an inbox row marked handled) commits with the caller's change
    or not at all; ``note.done`` says whether it did."""
    token = _FIRST_COMMIT.set(note)
    try:
        yield note
    finally:
        _FIRST_COMMIT.reset(token)


def head_revision() -> str | None:
    """The newest Alembic revision in ``MIGRATIONS_DIR``: what ``migrate()`` brings a database to."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()

# Connection execution option read by the SQLite "begin" hook: DEFERRED (default) or IMMEDIATE.
_SQLITE_BEGIN = "linli_sqlite_begin"

# Async driver -> sync driver for Alembic, which runs synchronously.
_SYNC_DRIVERS = {
    "sqlite+aiosqlite": "sqlite+pysqlite",
    "postgresql+asyncpg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg",
}


def sync_url(url: str | URL) -> URL:
    """The synchronous twin of an async database URL (used for migrations)."""
    parsed = make_url(url)
    driver = _SYNC_DRIVERS.get(parsed.drivername, parsed.drivername)
    return parsed.set(drivername=driver)


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def _install_sqlite_hooks(engine: Engine, busy_timeout_ms: int, *, foreign_keys: bool = True) -> None:
    """Pragmas on every new connection, and SQLAlchemy-controlled BEGIN (see module docstring).

    Migrations run with foreign keys off: Alembic's batch mode rebuilds a table by copying it and dropping the
    old one, which a referenced table (residents, tickets) refuses while they are on; the keys are checked
    once the migration is done."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # stop the driver emitting its own BEGIN
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            driver = getattr(dbapi_conn, "driver_connection", None)
            if isinstance(driver, sqlite_async.Connection):
                driver.busy_timeout_ms = int(busy_timeout_ms)  # spent on its thread, never on the loop's
            else:
                cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
        driver = conn.connection.driver_connection
        if isinstance(driver, sqlite_async.Connection) and driver.hold_begin(f"BEGIN {mode}"):
            return  # sent with the first statement (no statement of its own through SQLAlchemy)
        conn.exec_driver_sql(f"BEGIN {mode}")


def _install_pg_liveness(engine: Engine) -> None:
    """A checkout asks the server whether the connection lives only when the connection rested in the pool longer
    than ``PG_PING_IDLE``; otherwise it trusts the socket: a server that restarted or died closed it, and asyncpg
    saw that without a trip. ``pool_pre_ping`` instead costs three trips (BEGIN, a ping, ROLLBACK) at every
    checkout, about a third of all the trips an update made. A dead connection found either way is replaced by a
    fresh one before the caller gets it."""

    @event.listens_for(engine, "checkin")
    def _rested(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["linli_checkin"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        driver = getattr(dbapi_conn, "driver_connection", None)
        if driver is not None and hasattr(driver, "is_closed") and driver.is_closed():
            raise exc.DisconnectionError("the server closed the connection")
        rested = record.info.get("linli_checkin")
        if rested is not None and time.monotonic() - rested > PG_PING_IDLE:
            try:
                dbapi_conn.ping()  # the asyncpg adapter's own ping, awaited through SQLAlchemy's greenlet
            except Exception as error:
                raise exc.DisconnectionError(f"ping failed: {error}") from error


def dialect_insert(dialect_name: str) -> Callable[..., Any]:
    """``insert()`` with ``on_conflict_do_*`` for the given dialect (dialect branch, on purpose)."""
    if dialect_name == "sqlite":
        return sqlite.insert
    if dialect_name == "postgresql":
        return postgresql.insert
    raise NotImplementedError(f"upserts are not implemented for {dialect_name!r}")


async def dialect_name(session: AsyncSession) -> str:
    """Name of the dialect behind a session ("sqlite", "postgresql"): its engine's, without a trip through
    SQLAlchemy's greenlet to the connection when the session is bound to one engine (ours always are)."""
    if session.bind is not None:
        return session.bind.dialect.name
    return (await session.connection()).dialect.name


class Database:
    """One database: an async engine plus session factories and the migration entry point."""

    def __init__(self, url: str | URL = DEFAULT_URL, *, echo: bool = False, busy_timeout_ms: int = 5000,
                 pool_size: int | None = None, max_overflow: int | None = None, sqlite_inline: bool = True):
        """``pool_size``/``max_overflow``: PostgreSQL connections this process may hold (SQLAlchemy's defaults, 5 and
        10, unless given: several worker processes share the server's ``max_connections``); their sum is kept open
        once opened, none closed at check-in. ``sqlite_inline``:
        SQLite statements run on the event loop's thread (:mod:`storage.sqlite_async`); False puts every one on
        its connection's thread, as aiosqlite does (for comparison in benchmarks)."""
        self.url = make_url(url)
        self.busy_timeout_ms = busy_timeout_ms
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["async_creator"] = sqlite_async.creator(self.url, inline=sqlite_inline)
            if _is_memory(self.url):
                kwargs["poolclass"] = StaticPool  # one shared in-memory database, not one per connection
            else:
                Path(self.url.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
                # connections are kept, not opened and closed again with every burst (each is a thread)
                kwargs.update(pool_size=SQLITE_POOL, max_overflow=SQLITE_POOL)
        else:
            # every connection kept once opened, up to the same total: overflow connections closed at check-in
            # were opened again at the next burst (a server process forked, authenticated, every statement
            # prepared again), about one per ten updates under load
            kept = PG_POOL if pool_size is None else pool_size
            kept += PG_OVERFLOW if max_overflow is None else max_overflow
            kwargs.update(pool_size=kept, max_overflow=0)
            if self.url.get_driver_name() == "asyncpg":
                kwargs["connect_args"] = {"prepared_statement_cache_size": PG_STATEMENT_CACHE}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _install_sqlite_hooks(self.engine.sync_engine, busy_timeout_ms)
        else:
            _install_pg_liveness(self.engine.sync_engine)
        # one statement, committed on its own (PostgreSQL): no BEGIN and COMMIT/ROLLBACK around it
        self._autocommit = (self.engine.sync_engine.execution_options(isolation_level="AUTOCOMMIT")
                            if not self.is_sqlite else self.engine.sync_engine)
        # SQLite file, statements on the loop's thread: prebuilt Core statements run below SQLAlchemy (reads on a
        # connection of their own, a session's on its connection: :mod:`storage.prepared`)
        self._prepared = (prepared.Statements(self.engine.dialect)
                          if self.is_sqlite and sqlite_inline and not _is_memory(self.url) else None)
        session_class = DirectSession if self._prepared is not None else AsyncSession
        direct = {"statements": self._prepared} if self._prepared is not None else {}
        self._sessions = async_sessionmaker(self.engine, class_=session_class, expire_on_commit=False, **direct)
        writer_opts = {_SQLITE_BEGIN: "IMMEDIATE"} if self.is_sqlite else {}
        self._writers = async_sessionmaker(
            self.engine, class_=session_class, expire_on_commit=False, execution_options=writer_opts, **direct
        )
        self._write_lock: asyncio.Lock | None = None
        self._writer: asyncio.Task[Any] | None = None
        self._hints: list[tuple[Executable, dict[str, Any]]] = []
        self._hinting: asyncio.Task[None] | None = None
        self._reader: sqlite_async.Connection | None = None  # the direct reads' own connection, opened at first use
        self._reader_busy = False

    @property
    def dialect_name(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A plain session for reads (or hand-managed commits)."""
        async with self._sessions() as session:
            yield session

    async def read(self, statement: Executable, params: dict[str, Any] | None = None) -> list[RowMapping]:
        """The rows of one read statement, on a pooled connection of its own, in one trip through SQLAlchemy's
        greenlet (a session costs about twice as much CPU for the same read: the ORM's execution layer, and a trip
        each to connect, execute and close). For the reads every update makes (who speaks, a receipt's case).
        On a SQLite file a statement built once runs below SQLAlchemy, on a connection kept for these reads
        (:meth:`_read_direct`): the same SQL, the same values, a third of the CPU."""
        rows = await self._read_direct(statement, params)
        if rows is not None:
            return rows
        return await greenlet_spawn(self._read, statement, params)

    def _read(self, statement: Executable, params: dict[str, Any] | None) -> list[RowMapping]:
        with self._autocommit.connect() as conn:  # one statement reads one snapshot: no transaction around it
            return list(conn.execute(statement, params).mappings())

    async def _read_direct(self, statement: Executable, params: dict[str, Any] | None) -> list[RowMapping] | None:
        """The rows of a prebuilt read (:mod:`storage.prepared`) on this database's reading connection, or None
        when it is not for here: another backend, a statement not prepared (yet), reads offloaded to threads,
        or the reading connection busy with a read that waits for a lock on its thread (this one then goes the
        usual way). Autocommit: the statement is its own transaction and reads one snapshot, as on a pooled
        connection. The engine's ``before_cursor_execute`` listeners still hear of it (statement counts)."""
        if self._prepared is None or self._reader_busy or sqlite_async.offloading_now():
            return None
        ready = self._prepared.get(statement, params)
        if ready is None or ready.sql.lstrip()[:6].upper() != "SELECT":
            return None
        sql, values = ready.bound(params)
        self._reader_busy = True
        try:
            if self._reader is None:
                self._reader = await sqlite_async.creator(self.url, inline=True)()
            _heard(self.engine, sql, values)
            _description, _count, _last, raw, _open = await self._reader.run(sql, values)
        finally:
            self._reader_busy = False
        return ready.mappings(raw)

    async def write_one(self, statement: Executable, params: Any = None) -> list[RowMapping]:
        """One write statement committed on its own, its returned rows (PostgreSQL: one trip to the server instead
        of BEGIN, the statement, COMMIT; SQLite: a write transaction around it, in this process's turn)."""
        if self.is_sqlite:
            async with self.transaction() as s:
                return list((await s.exec(statement, params=params)).mappings())  # type: ignore[call-overload]
        return await greenlet_spawn(self._write_one, statement, params)

    def _write_one(self, statement: Executable, params: Any) -> list[RowMapping]:
        with self._autocommit.connect() as conn:
            result = conn.execute(statement, params)
            return list(result.mappings()) if result.returns_rows else []

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        """Hold this process's turn to write (SQLite only; PostgreSQL writers run side by side).

        A task that already holds it and asks again has nested two write transactions, which on SQLite would
        wait on itself: that is a bug, said at once instead of after the busy timeout."""
        if not self.is_sqlite:
            yield
            return
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        task = asyncio.current_task()
        if task is not None and self._writer is task:
            raise RuntimeError("a write transaction inside another one: SQLite would wait on itself")
        async with self._write_lock:
            self._writer = task
            try:
                yield
            finally:
                self._writer = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed when the block ends, rolled back if it raises. Inside
        :func:`first_commit`, the first of them also runs that block's action before it commits."""
        note = _FIRST_COMMIT.get()
        async with self.writing(), self._writers() as session:
            ran = False
            async with session.begin():
                yield session
                if note is not None and not note.done:
                    await note.action(session)
                    ran = True
            if ran and note is not None:
                note.done = True

    def hint(self, statement: Executable, params: dict[str, Any]) -> None:
        """A write that is only a hint, safe to lose (which message shows a draft): written behind, in a transaction
        of its own with the hints queued meanwhile, outside the caller's update (whose one write transaction stays
        the only one; a burst of hints costs one commit). Started in a fresh context: never the first commit of the
        update that queued it (:func:`first_commit`). Lost if the process dies first, or logged if it fails."""
        self._hints.append((statement, params))
        if self._hinting is None:
            self._hinting = asyncio.get_running_loop().create_task(self._write_hints(), context=Context())

    async def _write_hints(self) -> None:
        try:
            while self._hints:
                await asyncio.sleep(0)  # the hints of the updates handled in this turn of the loop, together
                batch, self._hints = self._hints, []
                try:
                    async with self.transaction() as session:
                        for statement, params in batch:
                            await session.exec(statement, params=params)  # type: ignore[call-overload]
                except Exception as exc:  # a hint: the caller's work is done and kept whatever happens here
                    log.warning("%d hint(s) not written (%s: %s)", len(batch), type(exc).__name__, exc)
        finally:
            self._hinting = None

    async def settle_hints(self) -> None:
        """Wait until the hints queued so far are written (before closing, and for tests)."""
        while self._hinting is not None:
            await asyncio.shield(self._hinting)

    def migrate(self, revision: str = "head") -> None:
        """Run Alembic ``upgrade`` synchronously; from async code use ``await db.migrate_async()``."""
        from alembic import command
        from alembic.config import Config

        url = sync_url(self.url)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%"))
        if self.is_sqlite and _is_memory(url):
            raise ValueError("an in-memory SQLite database cannot be migrated by a second engine")
        engine = create_engine(url)
        if self.is_sqlite:
            _install_sqlite_hooks(engine, self.busy_timeout_ms, foreign_keys=False)
        try:
            with engine.begin() as connection:
                if not self.is_sqlite:  # workers starting together migrate one after the other
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if self.is_sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left rows pointing nowhere: {broken[:5]}")
        finally:
            engine.dispose()

    async def migrate_async(self, revision: str = "head") -> None:
        await asyncio.to_thread(self.migrate, revision)

    async def dispose(self) -> None:
        await self.settle_hints()
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.close()
        await self.engine.dispose()


class Done(IteratorResult[Any]):
    """The result of a statement run below SQLAlchemy in a session: SQLAlchemy's result over the rows read, with the
    DBAPI's ``rowcount`` as a ``CursorResult`` has it."""

    def __init__(self, ready: prepared.Prepared, raw: list[Any], rowcount: int) -> None:
        super().__init__(prepared.SimpleResultMetaData(ready.keys), iter(ready.rows(raw)))
        self.rowcount = rowcount


class DirectSession(AsyncSession):
    """A session whose prebuilt Core statements (no ORM entity in them) run below SQLAlchemy, on the session's own
    connection in its transaction (:mod:`storage.prepared`). SQLAlchemy's session runs such a statement on that
    connection with nothing else (no flush, no identity map); the ORM's work of its execution path (events, the
    execution context, the cache key, the result's metadata) cost 150-300 µs of CPU a statement, SQLite 5-50.
    Anything else (ORM statements, ``add``, ``get``, a list of parameters, execution options) goes SQLAlchemy's way.
    Errors are SQLAlchemy's (``sqlalchemy.exc.IntegrityError`` …), as the usual path raises them."""

    def __init__(self, *args: Any, statements: prepared.Statements | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._statements = statements
        self._held: tuple[Any, Any] | None = None  # (the session's transaction, its sync Connection)

    async def exec(self, statement: Any, *, params: Any = None, execution_options: Any = None,
                   bind_arguments: Any = None, **kw: Any) -> Any:
        ready = None
        if isinstance(params, list) and len(params) == 1 and isinstance(params[0], dict):
            params = params[0]  # one set of parameters in a list: one execution, as SQLAlchemy takes it too
        if (self._statements is not None and not execution_options and not bind_arguments and not kw
                and (params is None or isinstance(params, dict))
                and not getattr(statement, "_propagate_attrs", {}).get("compile_state_plugin")):
            ready = self._statements.get(statement, params)
        if ready is None:
            return await super().exec(statement, params=params, execution_options=execution_options or util.EMPTY_DICT,
                                      bind_arguments=bind_arguments, **kw)
        sql, values = ready.bound(params)
        conn = await self._connection_now()
        driver = conn.connection.driver_connection
        _heard(self.bind, sql, values, conn)  # type: ignore[arg-type]
        try:
            _description, rowcount, _last, raw, _open = await driver.run(sql, values)
        except sqlite3.Error as error:
            raise exc.DBAPIError.instance(sql, values, error, sqlite3.Error) from error
        return Done(ready, raw, rowcount)

    async def _connection_now(self) -> Any:
        """The session's connection in its transaction (begun as the session begins it: BEGIN IMMEDIATE for a writer),
        fetched through SQLAlchemy once a transaction."""
        tx = self.sync_session.get_transaction()
        held = self._held
        if held is not None and tx is not None and held[0] is tx and tx.is_active and not held[1].closed:
            return held[1]
        conn = (await self.connection()).sync_connection
        self._held = (self.sync_session.get_transaction(), conn)
        return conn


class _Unpooled:
    """What ``before_cursor_execute`` listeners are given for a statement run below SQLAlchemy on a connection of
    no pool (the direct reads'): its ``info`` and execution options, empty."""

    def __init__(self) -> None:
        self.info: dict[str, Any] = {}

    @staticmethod
    def get_execution_options() -> dict[str, Any]:
        return {}


def _heard(engine: AsyncEngine, sql: str, values: tuple[Any, ...], conn: Any = None) -> None:
    """Tell the engine's ``before_cursor_execute`` listeners (tests and benchmarks count statements with them) of
    a statement run below SQLAlchemy."""
    listeners = engine.sync_engine.dispatch.before_cursor_execute
    if listeners:
        stand_in = conn if conn is not None else _Unpooled()
        for listener in listeners:
            listener(stand_in, None, sql, values, None, False)


async def read_rows(source: "Database | AsyncSession", statement: Executable,
                    params: dict[str, Any] | None = None) -> list[RowMapping]:
    """One read statement's rows, in the caller's session (to see what it wrote) or on a connection of its own
    (:meth:`Database.read`): a service that only reads can serve both."""
    if isinstance(source, Database):
        return await source.read(statement, params)
    return list((await source.exec(statement, params=params or {})).mappings())  # type: ignore[call-overload]


offloaded = sqlite_async.offloaded  # long reads (reports, exports) off the event loop's thread
offloading = sqlite_async.offloading

__all__ = ["DEFAULT_URL", "Database", "FirstCommit", "dialect_insert", "dialect_name", "first_commit", "head_revision",
           "offloaded", "offloading", "read_rows", "sync_url"]
