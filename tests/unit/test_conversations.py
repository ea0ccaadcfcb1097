"""Conversations in progress: saved, replaced, ended, and forgotten when stale or of another flow."""

from datetime import datetime, timedelta

from services import SHANGHAI
from services.people.conversations import STALE_AFTER, end, load, save
from storage.db import Database

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


async def test_save_load_replace_end(any_db: Database) -> None:
    async with any_db.transaction() as s:
        await save(s, 7, "notice", {"stage": "text", "kind": "outage", "options": [["grid", "A03", "网格 A03"]]}, NOW)
    async with any_db.session() as s:  # a new session, as after a restart
        assert await load(s, 7, "notice", NOW) == {"stage": "text", "kind": "outage",
                                                    "options": [["grid", "A03", "网格 A03"]]}
        assert await load(s, 7, "other", NOW) is None
        assert await load(s, 8, "notice", NOW) is None
    async with any_db.transaction() as s:
        await save(s, 7, "notice", {"stage": "when", "notice": 3}, NOW + timedelta(minutes=1))
    async with any_db.session() as s:
        assert await load(s, 7, "notice", NOW + timedelta(minutes=1)) == {"stage": "when", "notice": 3}
        assert await load(s, 7, "notice", NOW + timedelta(minutes=2) + STALE_AFTER) is None  # abandoned
    async with any_db.transaction() as s:
        await end(s, 7)
        await end(s, 7)  # ending twice is harmless
    async with any_db.session() as s:
        assert await load(s, 7, "notice", NOW) is None
