"""Generic database fixtures: a real, migrated SQLite file per test under pytest's tmp_path."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database


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
