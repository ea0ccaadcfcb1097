"""Generic database fixtures: a real, migrated SQLite file per test under pytest's tmp_path.

Also makes `tests/pg.py` (the throwaway PostgreSQL server) importable as `linli_tests_pg`: tests/ is no
package, and pytest's sys.path depends on its import mode, so modules import that name instead of a path.
"""

import importlib.util
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

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
