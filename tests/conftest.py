"""Database fixtures: a real, migrated SQLite file per test under pytest's tmp_path (``db``), and a fresh
database on one throwaway PostgreSQL cluster per run (``pg_db``; skipped, saying why, without PostgreSQL).

Also makes `tests/pg.py` (the throwaway PostgreSQL server) importable as `linli_tests_pg`: tests/ is no
package, and pytest's sys.path depends on its import mode, so modules import that name instead of a path.
"""

import contextlib
import importlib.util
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from sqlalchemy.engine import URL

from storage.db import Database


def _load_pg_helper() -> None:
    name = "linli_tests_pg"
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / "pg.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_load_pg_helper()

# Hypothesis: derandomized by default, so `make test` and CI run the same examples every time and a failure
# reproduces; HYPOTHESIS_PROFILE=explore draws fresh ones (and more of them) while developing.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db" / "linli.db"


@pytest.fixture
def db_url(db_path: Path) -> str:
    return f"sqlite+aiosqlite:///{db_path}"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A Database on a fresh file, migrated to head with Alembic (WAL, foreign keys on)."""
    database = Database(db_url)
    await database.migrate_async()
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """One PostgreSQL cluster for the whole run (starting one costs about a second); skip if there is none."""
    pg = sys.modules["linli_tests_pg"]
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(pg.postgres_server())
        except pg.PgUnavailable as exc:
            pytest.skip(f"PostgreSQL unavailable: {exc}")
        yield server


@pytest.fixture
async def pg_url(pg_server: Any) -> AsyncIterator[URL]:
    """A fresh, empty database per test, dropped afterwards."""
    pg = sys.modules["linli_tests_pg"]
    try:
        url = await pg.create_database(pg_server)
    except pg.PgUnavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    yield url
    await pg.drop_database(pg_server, url)


@pytest.fixture
async def pg_db(pg_url: URL) -> AsyncIterator[Database]:
    """A Database on the fresh PostgreSQL database, migrated to head with Alembic (as the bot does)."""
    database = Database(pg_url)
    await database.migrate_async()
    yield database
    await database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest) -> Database:
    """The test once on each engine: for code whose SQL differs by dialect (upserts, locks)."""
    return request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")
