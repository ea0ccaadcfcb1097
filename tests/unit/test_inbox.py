"""The inbox's rows on both engines: accepted once, handed out head of chat first, leased, marked, given up, purged;
on PostgreSQL two claimers at once never take the same row or two rows of one chat."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from services import inbox
from services.inbox import Incoming
from storage.db import Database
from storage.models import InboxStatus, InboxUpdate

T0 = datetime(2026, 3, 17, 2, 0, tzinfo=UTC)


def row(update_id: int, chat: int, text: str = "hi") -> Incoming:
    return Incoming(update_id, chat, {"update_id": update_id, "message": {"text": text, "chat": {"id": chat}}})


async def accept(db: Database, *rows: Incoming, now: datetime = T0) -> list[int]:
    async with db.transaction() as s:
        return await inbox.accept(s, list(rows), now)


async def claim(db: Database, limit: int = 10, now: datetime = T0, worker: str = "w1") -> list[int]:
    async with db.transaction() as s:
        return [c.update_id for c in await inbox.claim_batch(s, now, limit, worker)]


async def done(db: Database, *ids: int, now: datetime = T0) -> int:
    async with db.transaction() as s:
        return await inbox.mark_done(s, list(ids), now)


async def rows_of(db: Database) -> dict[int, InboxUpdate]:
    async with db.session() as s:
        return {r.update_id: r for r in (await s.exec(select(InboxUpdate))).all()}


async def test_an_update_is_accepted_once_and_a_repeat_changes_nothing(any_db: Database) -> None:
    assert await accept(any_db, row(1, 10), row(2, 10)) == [1, 2]
    assert await claim(any_db) == [1]
    assert await accept(any_db, row(1, 10, "changed"), row(3, 11)) == [3]  # 1 again: nothing, not even its text
    stored = await rows_of(any_db)
    assert stored[1].payload["message"]["text"] == "hi"
    assert stored[1].status is InboxStatus.PENDING and stored[1].attempts == 1  # its claim untouched
    assert await accept(any_db, row(4, 12), row(4, 12)) == [4]  # twice in one batch


async def test_an_unreadable_update_is_kept_as_skipped_and_never_handed_out(any_db: Database) -> None:
    assert await accept(any_db, Incoming(7, 0, {"update_id": 7, "message": 1.5}, readable=False)) == [7]
    assert await claim(any_db) == []
    stored = (await rows_of(any_db))[7]
    assert stored.status is InboxStatus.SKIPPED and stored.payload == {}
    assert await accept(any_db, Incoming(7, 0, {}, readable=False)) == []


async def test_one_chat_in_order_other_chats_in_parallel(any_db: Database) -> None:
    await accept(any_db, row(1, 10), row(2, 10), row(3, 11), row(4, 10), row(5, 12))
    assert await claim(any_db) == [1, 3, 5]  # each chat's oldest, nothing behind a claimed row
    assert await claim(any_db) == []
    assert await done(any_db, 1) == 1
    assert await claim(any_db) == [2]
    await done(any_db, 2, 3)
    assert await claim(any_db, limit=1) == [4]


async def test_an_update_arriving_late_for_its_chat_waits_for_none(any_db: Database) -> None:
    """Out of order: 9 came first and is claimed; 8 arrives later and is not held up by 9 (8 is older)."""
    await accept(any_db, row(9, 10))
    assert await claim(any_db) == [9]
    await accept(any_db, row(8, 10))
    assert await claim(any_db) == [8]  # the chat's oldest pending row: nothing pending before it


async def test_a_lease_that_runs_out_is_taken_again_then_given_up(any_db: Database) -> None:
    await accept(any_db, row(1, 10), row(2, 10))
    now = T0
    for attempt in range(1, inbox.MAX_ATTEMPTS + 1):
        assert await claim(any_db, now=now, worker=f"w{attempt}") == [1]
        assert await claim(any_db, now=now + inbox.LEASE - timedelta(seconds=1)) == []  # still leased
        now += inbox.LEASE
    stored = (await rows_of(any_db))[1]
    assert stored.attempts == inbox.MAX_ATTEMPTS and stored.claimed_by == f"w{inbox.MAX_ATTEMPTS}"
    assert await claim(any_db, now=now) == [2]  # the sixth claim gives 1 up; its chat goes on
    assert (await rows_of(any_db))[1].status is InboxStatus.FAILED


async def test_a_row_given_up_frees_its_chat_and_every_other_head_is_claimed_once(any_db: Database) -> None:
    await accept(any_db, row(1, 10))
    now = T0
    for _ in range(inbox.MAX_ATTEMPTS):
        assert await claim(any_db, now=now) == [1]
        now += inbox.LEASE
    await accept(any_db, row(2, 11), row(3, 10), row(4, 12))
    async with any_db.transaction() as s:
        claims = await inbox.claim_batch(s, now, 10, "w9")
    assert [c.update_id for c in claims] == [2, 4, 3]  # 1 given up, then its chat's next row: each once
    assert [c.attempts for c in claims] == [1, 1, 1]
    stored = await rows_of(any_db)
    assert stored[1].status is InboxStatus.FAILED and stored[1].attempts == inbox.MAX_ATTEMPTS
    assert stored[1].lease_until is None and stored[1].done_at is not None and stored[1].error == inbox.GIVEN_UP
    assert all(stored[i].claimed_by == "w9" and stored[i].attempts == 1 for i in (2, 3, 4))
    async with any_db.transaction() as s:
        assert await inbox.claim_batch(s, now, 1, "w9") == []  # all leased
        assert await inbox.claim_batch(s, now, 0, "w9") == []


async def test_renew_keeps_a_lease_and_release_frees_it_at_once(any_db: Database) -> None:
    await accept(any_db, row(1, 10), row(2, 11))
    assert await claim(any_db, worker="w1") == [1, 2]
    later = T0 + inbox.LEASE - timedelta(seconds=1)
    async with any_db.transaction() as s:
        assert await inbox.renew(s, [1, 2], later, "w2") == 0  # not w2's
        assert await inbox.renew(s, [1], later, "w1") == 1
    assert await claim(any_db, now=T0 + inbox.LEASE) == [2]  # 2's lease ran out, 1's was renewed
    async with any_db.transaction() as s:
        assert await inbox.release(s, [1], "w1") == 1
    assert await claim(any_db, now=T0 + inbox.LEASE, worker="w3") == [1]
    assert (await rows_of(any_db))[1].attempts == 1  # the released claim did not count


async def test_done_drops_the_payload_notes_errors_and_purge_forgets_old_rows(any_db: Database) -> None:
    await accept(any_db, row(1, 10), row(2, 11), row(3, 12))
    await claim(any_db)
    async with any_db.transaction() as s:
        assert await inbox.mark_done(s, [1, 2], T0, {2: "ValueError: boom"}) == 2
        assert await inbox.mark_done(s, [1], T0) == 0  # once
    stored = await rows_of(any_db)
    assert stored[1].status is InboxStatus.DONE and stored[1].payload == {} and stored[1].error is None
    assert stored[2].error == "ValueError: boom"
    async with any_db.session() as s:
        lag = await inbox.lag(s, T0 + timedelta(seconds=30))
    assert (lag.pending, lag.oldest_seconds) == (1, 30.0)
    async with any_db.transaction() as s:
        assert await inbox.purge(s, T0 + inbox.KEEP - timedelta(seconds=1)) == 0
        assert await inbox.purge(s, T0 + inbox.KEEP + timedelta(seconds=1)) == 2  # not the pending one
    assert set(await rows_of(any_db)) == {3}
    async with any_db.session() as s:
        assert await inbox.counts(s) == {"pending": 1}


async def test_two_claimers_at_once_take_disjoint_rows_on_postgresql(pg_db: Database) -> None:
    await accept(pg_db, *(row(i, 100 + i % 20) for i in range(1, 201)))
    taken: list[list[int]] = []

    async def worker(name: str) -> None:
        mine: list[int] = []
        while True:
            async with pg_db.transaction() as s:
                got = [c.update_id for c in await inbox.claim_batch(s, T0, 7, name)]
            if not got:
                async with pg_db.session() as s:
                    if not (await inbox.lag(s, T0)).pending:
                        break
                await asyncio.sleep(0.01)
                continue
            mine += got
            await asyncio.sleep(0.005)  # handling
            async with pg_db.transaction() as s:
                await inbox.mark_done(s, got, T0)
        taken.append(mine)

    await asyncio.gather(*(worker(f"w{i}") for i in range(4)))
    everything = [i for mine in taken for i in mine]
    assert sorted(everything) == list(range(1, 201))  # each exactly once
    for mine in taken:  # and one chat's rows in order within each worker
        for chat in range(20):
            ids = [i for i in mine if i % 20 == chat]
            assert ids == sorted(ids)


@pytest.mark.parametrize("chat", [0, -100123456789, 2**40])
async def test_chat_keys_of_every_size(any_db: Database, chat: int) -> None:
    await accept(any_db, row(2**62, chat))
    assert await claim(any_db) == [2**62]


async def test_a_dead_workers_claims_are_freed_at_once_a_live_or_new_ones_kept(any_db: Database) -> None:
    await accept(any_db, row(1, 10), row(2, 11), row(3, 12))
    assert await claim(any_db, 1, worker="dead") == [1]
    assert await claim(any_db, 1, worker="alive") == [2]
    assert await claim(any_db, 1, now=T0 + timedelta(seconds=10), worker="young") == [3]  # claimed just now
    async with any_db.transaction() as s:
        assert await inbox.free_orphans(s, ["alive"], T0 + timedelta(seconds=11)) == 1
    stored = await rows_of(any_db)
    assert stored[1].lease_until is None and stored[1].attempts == 1  # free again, the claim still counted
    assert stored[2].lease_until is not None and stored[3].lease_until is not None
    assert await claim(any_db, now=T0 + timedelta(seconds=11), worker="alive") == [1]


async def test_the_first_commit_inside_the_block_carries_the_mark_and_a_rollback_does_not(any_db: Database) -> None:
    from storage.db import FirstCommit, first_commit

    await accept(any_db, row(1, 10), row(2, 11))
    assert await claim(any_db) == [1, 2]
    for update_id, fails in ((1, True), (2, False)):
        note = FirstCommit(lambda s, i=update_id: inbox.mark_done(s, [i], T0))
        with first_commit(note):
            if fails:
                with pytest.raises(RuntimeError):
                    async with any_db.transaction():
                        raise RuntimeError("the handler's write failed")
                assert not note.done
            async with any_db.transaction() as s:  # the handler's write
                await inbox.accept(s, [row(100 + update_id, 99)], T0)
            assert note.done
            async with any_db.transaction() as s:  # a second one carries nothing
                await inbox.accept(s, [row(200 + update_id, 99)], T0)
    stored = await rows_of(any_db)
    assert stored[1].status is InboxStatus.DONE and stored[2].status is InboxStatus.DONE
    async with any_db.transaction() as s:  # outside the block: nothing carried
        await inbox.accept(s, [row(3, 12)], T0)
    assert (await rows_of(any_db))[3].status is InboxStatus.PENDING


async def test_an_update_with_nul_characters_is_stored_on_both_engines(any_db: Database) -> None:
    from bot.intake import incoming

    raw = {"update_id": 9, "message": {"message_id": 1, "date": 1773712800, "text": "a\x00b",
                                       "chat": {"id": 31, "type": "private"}, "\x00": "\x00"}}
    assert await accept(any_db, incoming(raw)) == [9]
    stored = (await rows_of(any_db))[9]
    assert stored.payload["message"]["text"] == "a\ufffdb" and stored.chat_key == 31
    odd = incoming({"update_id": 10, "message": {"message_id": 1, "date": 1, "chat": {"id": [1], "type": "private"}}})
    assert not odd.readable and odd.chat_key == 0  # a chat id that is no integer: skipped, as an unparseable one
    assert await accept(any_db, odd) == [10]
