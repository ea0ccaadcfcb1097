"""The outbox's rows on both engines: owed in order, each chat's head handed out in priority order, leased, marked
once, retried; on PostgreSQL two claimers at once never take the same row or two rows of one chat."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from services import outbox
from services.outbox import Priority
from storage.db import Database
from storage.models import OutboxKind, OutboxMessage, OutboxStatus

T0 = datetime(2026, 3, 17, 2, 0, tzinfo=UTC)


async def owe(db: Database, *rows: tuple[int, str, int]) -> None:
    """(chat, text, priority) rows owed together, due at T0."""
    async with db.transaction() as s:
        news = [outbox.new_row(chat_id=chat, now=T0, text=text, priority=priority, payload={"t": text})
                for chat, text, priority in rows]
        for r in news:
            r.next_try_at = T0
        await outbox.owe_rows(s, news)


async def claim(db: Database, now: datetime = T0, limit: int = 10) -> list[outbox.Claim]:
    async with db.transaction() as s:
        return await outbox.claim_batch(s, now, limit)


async def stored(db: Database) -> dict[str, OutboxMessage]:
    async with db.session() as s:
        return {r.text or "": r for r in (await s.exec(select(OutboxMessage))).all()}


async def test_each_chats_head_in_priority_order_then_the_next_once_marked(any_db: Database) -> None:
    await owe(any_db, (10, "a1", Priority.DESK), (11, "b1", Priority.BACKGROUND), (10, "a2", Priority.DESK),
              (12, "c1", Priority.REPLY), (10, "a0", Priority.ALERT))
    got = await claim(any_db)
    assert [c.text for c in got] == ["c1", "a0", "b1"]  # the alert overtakes chat 10's older rows
    first = got[0]
    assert (first.kind, first.chat_id, first.ticket_id, first.priority, first.payload, first.attempts) == (
        OutboxKind.MESSAGE, 12, None, Priority.REPLY, {"t": "c1"}, 1)
    rows = await stored(any_db)
    assert rows["a0"].attempts == 1 and rows["a0"].next_try_at == T0 + outbox.LEASE
    assert rows["a1"].attempts == 0 and rows["a1"].next_try_at == T0
    assert await claim(any_db) == []  # leased, and nothing behind a head
    async with any_db.transaction() as s:
        assert await outbox.mark_sent(s, got[1].id, T0, 77)
        assert not await outbox.mark_sent(s, got[1].id, T0, 78)  # once
    assert [c.text for c in await claim(any_db)] == ["a1"]
    assert [c.text for c in await claim(any_db, limit=1)] == []
    rows = await stored(any_db)
    assert rows["a0"].status is OutboxStatus.SENT and rows["a0"].message_id == 77 and rows["a0"].sent_at == T0


async def test_a_lease_that_runs_out_is_claimed_again_and_marks_end_it(any_db: Database) -> None:
    await owe(any_db, (10, "a", Priority.DESK), (11, "b", Priority.DESK), (12, "c", Priority.DESK))
    a, b, c = await claim(any_db)
    assert await claim(any_db, T0 + outbox.LEASE - timedelta(seconds=1)) == []
    again = await claim(any_db, T0 + outbox.LEASE, limit=2)
    assert [(x.text, x.attempts) for x in again] == [("a", 2), ("b", 2)]
    async with any_db.transaction() as s:
        assert await outbox.mark_unreachable(s, a.id, T0, "Forbidden: bot was blocked by the user")
        assert await outbox.mark_failed(s, b.id, T0, "x" * 300)
        due = await outbox.mark_retry(s, c.id, T0, 30.0, "RetryAfter")
        assert not await outbox.mark_failed(s, a.id, T0, "late")
    assert due == T0 + timedelta(seconds=30)
    rows = await stored(any_db)
    assert rows["a"].status is OutboxStatus.UNREACHABLE and rows["a"].error == "Forbidden: bot was blocked by the user"
    assert rows["b"].status is OutboxStatus.FAILED and rows["b"].error == "x" * 255
    assert rows["c"].status is OutboxStatus.PENDING and rows["c"].next_try_at == due and rows["c"].error == "RetryAfter"
    assert await claim(any_db, due - timedelta(seconds=1)) == []
    assert [(x.text, x.attempts) for x in await claim(any_db, due)] == [("c", 2)]


async def test_two_claimers_at_once_take_disjoint_rows_on_postgresql(pg_db: Database) -> None:
    await owe(pg_db, *((100 + i % 20, str(i), Priority.DESK) for i in range(200)))
    taken: list[list[int]] = []

    async def sender() -> None:
        mine: list[int] = []
        while True:
            async with pg_db.transaction() as s:
                got = await outbox.claim_batch(s, T0, 7)
            if not got:
                async with pg_db.session() as s:
                    if not await outbox.pending(s):
                        break
                await asyncio.sleep(0.01)
                continue
            mine += [int(c.text or "") for c in got]
            await asyncio.sleep(0.005)  # sending
            async with pg_db.transaction() as s:
                for c in got:
                    assert await outbox.mark_sent(s, c.id, T0)
        taken.append(mine)

    await asyncio.gather(*(sender() for _ in range(4)))
    assert sorted(i for mine in taken for i in mine) == list(range(200))  # each exactly once
    for mine in taken:  # one chat's rows in order within each sender
        for chat in range(20):
            ids = [i for i in mine if i % 20 == chat]
            assert ids == sorted(ids)


async def test_a_combined_message_counts_once_against_its_group_s_minute(any_db: Database) -> None:
    """What a new leader seeds its pacer with: a desk's backlog of cards combined into one message (its rows share
    the message id) is one send of the group's twenty a minute, not one per card; separate messages count each."""
    await owe(any_db, *[(-100701, f"card{i}", Priority.DESK) for i in range(6)], (-100702, "other", Priority.DESK),
              (5001, "private", Priority.DESK))
    rows = await stored(any_db)
    sent_at = T0 + timedelta(seconds=3)
    async with any_db.transaction() as s:
        for i in range(5):  # five cards in one combined message, the sixth alone
            assert await outbox.mark_sent(s, rows[f"card{i}"].id, sent_at, message_id=40)  # type: ignore[arg-type]
        assert await outbox.mark_sent(s, rows["card5"].id, sent_at, message_id=41)  # type: ignore[arg-type]
        assert await outbox.mark_sent(s, rows["other"].id, sent_at, message_id=40)  # type: ignore[arg-type]
        assert await outbox.mark_sent(s, rows["private"].id, sent_at, message_id=9)  # type: ignore[arg-type]
    async with any_db.session() as s:
        recent = await outbox.recent_group_sends(s, T0)
        assert await outbox.recent_group_sends(s, sent_at + timedelta(seconds=1)) == []
    assert sorted(chat for chat, _ in recent) == [-100702, -100701, -100701]  # message ids are per chat
    assert {at for _, at in recent} == {sent_at}
