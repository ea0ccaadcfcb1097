"""storage.rows.as_read: the instance a Core row gives is the one ``Model(**values)`` gives, without its cost."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect

from storage.db import Database
from storage.models import Draft, Resident
from storage.rows import as_read

NOW = datetime(2026, 3, 17, 2, 0, tzinfo=UTC)
VALUES = {"id": None, "tg_user_id": 5_000_000_000, "name": "吴阿姨", "phone": None, "grid_code": None,
          "building": "3号楼", "unit": None, "age_band": None, "created_at": NOW, "updated_at": NOW,
          "unreachable_at": None}


def test_as_read_is_the_model_with_those_values() -> None:
    r = as_read(Resident, {**VALUES, "id": 7})
    assert type(r) is Resident and r == Resident(**{**VALUES, "id": 7})
    assert (r.id, r.name, r.building, r.created_at) == (7, "吴阿姨", "3号楼", NOW)
    assert r.model_dump() == Resident(**{**VALUES, "id": 7}).model_dump()
    assert inspect(r).transient
    d = as_read(Draft, {"resident_id": 7, "text": "", "category": None, "candidates": [], "location": None,
                        "photos": [], "attachments": [], "stage": "collecting", "created_at": NOW, "updated_at": NOW})
    d.photos = [*d.photos, "p"]
    assert d.photos == ["p"] and d.stage == "collecting"


async def test_as_read_added_to_a_session_is_inserted_as_a_model_would_be(db: Database) -> None:
    async with db.transaction() as s:
        r = as_read(Resident, VALUES)
        s.add(r)
        await s.flush()
        assert r.id is not None
    async with db.session() as s:
        found = await s.get(Resident, r.id)
        assert found is not None and (found.tg_user_id, found.name, found.created_at) == (5_000_000_000, "吴阿姨", NOW)


def test_as_read_works_before_any_model_was_constructed() -> None:
    """The first row of a fresh process: the mappers are configured by as_read (a model's first ``__init__`` would
    have done it), so the instance can become detached (``create_resident``, ``recent_entries``)."""
    code = ("from datetime import UTC, datetime\nfrom sqlalchemy.orm import make_transient_to_detached\n"
            "from storage.models import PointsEntry\nfrom storage.rows import as_read\n"
            "e = as_read(PointsEntry, dict(id=1, resident_id=2, at=datetime.now(UTC), delta=5, reason='activity',"
            " ref=None, actor_tg_id=None, note=None, reverses_id=None))\nmake_transient_to_detached(e)\nprint(e.delta)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[2],
                          timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "5"), done.stderr
