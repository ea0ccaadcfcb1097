"""Hints written behind (``Database.hint``): a write safe to lose — which message shows a draft — queued by an
update and written after it, with the others queued meanwhile, in one transaction of its own."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text

from services.cases import drafts
from services.people.residents import create_resident
from storage.db import Database, FirstCommit, first_commit

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


async def a_draft(db: Database, tg_user_id: int) -> tuple[int, datetime]:
    async with db.transaction() as s:
        r = await create_resident(s, tg_user_id=tg_user_id, name="王阿姨", now=T0)
        draft = drafts.appended(None, r.id, "楼道灯坏了", T0).draft
        assert await drafts.save(s, draft, seen=None)
    return r.id, draft.updated_at


async def shown(db: Database, resident_id: int) -> int | None:
    async with db.session() as s:
        return (await s.exec(text("SELECT shown_message_id FROM drafts WHERE resident_id = :r"),  # type: ignore[call-overload]
                             params={"r": resident_id})).scalar_one()


async def test_hints_queued_together_are_written_in_one_transaction_after_the_caller(any_db: Database) -> None:
    ids = [await a_draft(any_db, 500 + i) for i in range(3)]
    commits: list[int] = []

    def committed(conn: object) -> None:
        commits.append(1)

    event.listen(any_db.engine.sync_engine, "commit", committed)
    try:
        for message_id, (resident_id, seen) in enumerate(ids, start=70):
            any_db.hint(*drafts.shown_hint(resident_id, message_id, seen=seen))
        assert commits == []  # behind: nothing written while the caller runs on
        await any_db.settle_hints()
    finally:
        event.remove(any_db.engine.sync_engine, "commit", committed)
    assert [await shown(any_db, r) for r, _ in ids] == [70, 71, 72]
    assert len(commits) == 1


async def test_a_hint_is_never_the_first_commit_that_marks_an_update_handled(any_db: Database) -> None:
    resident_id, seen = await a_draft(any_db, 510)
    marked: list[str] = []

    async def mark(session: object) -> None:
        marked.append("the update's mark")

    note = FirstCommit(mark)
    with first_commit(note):
        any_db.hint(*drafts.shown_hint(resident_id, 9, seen=seen))
        await any_db.settle_hints()
        assert not note.done and marked == []  # the hint's transaction carried nothing of the update's
    assert await shown(any_db, resident_id) == 9


async def test_a_hint_that_fails_is_logged_and_the_next_ones_still_go(any_db: Database,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    resident_id, seen = await a_draft(any_db, 520)
    with caplog.at_level(logging.WARNING, logger="storage.db"):
        any_db.hint(text("UPDATE no_such_table SET x = 1"), {})
        await any_db.settle_hints()
    assert "hint(s) not written" in caplog.text
    any_db.hint(*drafts.shown_hint(resident_id, 11, seen=seen))
    await asyncio.wait_for(any_db.settle_hints(), 10)
    assert await shown(any_db, resident_id) == 11


async def test_a_hint_for_a_draft_changed_since_changes_nothing(any_db: Database) -> None:
    resident_id, _ = await a_draft(any_db, 530)
    any_db.hint(*drafts.shown_hint(resident_id, 12, seen=datetime(2026, 12, 1, tzinfo=UTC)))
    await any_db.settle_hints()
    assert await shown(any_db, resident_id) is None
