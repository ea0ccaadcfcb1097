"""The notice queue's claim path on a real PostgreSQL the test run starts itself.

On PostgreSQL ``services.notices.broadcast.claim_batch`` leases rows with ``SELECT … FOR UPDATE OF notice_deliveries
SKIP LOCKED``, so several senders (processes, machines) can drain one queue at once; SQLite never takes
that path (one writer at a time). Checked here against the real server: two transactions claiming at the
same moment get disjoint rows, several claimers on two engines claim every row exactly once, an expired
lease is claimable again, and what a late mark does once someone else took the lease over.

Each test gets a fresh database (``pg_db`` in ``tests/conftest.py``) on the run's one throwaway cluster;
without PostgreSQL the tests skip and say why.
"""

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import URL
from sqlmodel import select

from services.notices import broadcast as notices
from storage.db import Database
from storage.models import AudienceKind, DeliveryStatus, Notice, NoticeDelivery, NoticeKind, NoticeStatus, Resident

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RESIDENTS = list(range(700_001, 700_241))  # 240
DEADLINE = 60  # seconds: a lock bug must fail the test, not hang the run


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
async def notice_id(pg_db: Database) -> int:
    """A confirmed community notice to every one of RESIDENTS: one pending delivery row each."""
    async with pg_db.transaction() as s:
        conn = await s.connection()
        await conn.execute(Resident.__table__.insert(), [  # type: ignore[attr-defined]
            {"tg_user_id": uid, "name": f"居民{uid}", "created_at": NOW, "updated_at": NOW} for uid in RESIDENTS])
    async with pg_db.transaction() as s:
        notice = await notices.create_draft(s, author_tg_id=9001, kind=NoticeKind.GENERAL, text="周六上午义诊",
                                            audience_kind=AudienceKind.COMMUNITY, now=NOW)
        assert notice.id is not None
        assert await notices.confirm(s, notice.id, NOW) == len(RESIDENTS)
        return notice.id


async def all_ids(db: Database) -> set[int]:
    async with db.session() as s:
        return {i for i in (await s.exec(select(NoticeDelivery.id))).all() if i is not None}


async def row(db: Database, delivery_id: int) -> NoticeDelivery:
    async with db.session() as s:
        found = await s.get(NoticeDelivery, delivery_id)
    assert found is not None
    return found


# --- claiming ---------------------------------------------------------------------------------------


async def test_two_open_transactions_claim_disjoint_rows(pg_db: Database, notice_id: int) -> None:
    """B claims while A's claim is still uncommitted: SKIP LOCKED passes over A's rows instead of waiting."""
    async with pg_db.transaction() as s:  # the notice is 'sending' already, as after a sender's first batch
        first = await notices.claim_batch(s, NOW, 1)
    async with asyncio.timeout(DEADLINE):
        async with pg_db.transaction() as a:
            from_a = await notices.claim_batch(a, NOW, 50)
            async with pg_db.transaction() as b:  # a second connection, A still holding its row locks
                from_b = await notices.claim_batch(b, NOW, 50)
            # B committed while A is open: the rows A holds are not leased yet as far as anyone else knows
            async with pg_db.session() as c:
                leased = (await c.exec(select(NoticeDelivery.id).where(NoticeDelivery.next_try_at > NOW))).all()
    ids_a, ids_b = {c.delivery_id for c in from_a}, {c.delivery_id for c in from_b}
    assert len(ids_a) == len(ids_b) == 50
    assert not ids_a & ids_b
    assert set(leased) == ids_b | {first[0].delivery_id}
    # both leases are committed now: the next claim gets neither
    async with pg_db.transaction() as s:
        rest = await notices.claim_batch(s, NOW, len(RESIDENTS))
    assert {c.delivery_id for c in rest} == await all_ids(pg_db) - ids_a - ids_b - {first[0].delivery_id}
    async with pg_db.session() as s:
        notice = await s.get(Notice, notice_id)
    assert notice is not None and notice.status is NoticeStatus.SENDING


async def test_concurrent_first_claims_of_a_confirmed_notice(pg_db: Database, notice_id: int) -> None:
    """Two claimers at once on a notice still 'confirmed': both flip it to 'sending' in claim_batch, so the
    second waits on the notice row until the first commits, then goes on; still no row twice, no deadlock."""
    a_claimed = asyncio.Event()
    b_started = asyncio.Event()

    async def a() -> list[notices.Claim]:
        async with pg_db.transaction() as s:
            got = await notices.claim_batch(s, NOW, 30)
            a_claimed.set()
            await b_started.wait()
            await asyncio.sleep(0.2)  # B is now in claim_batch, past its SELECT, waiting on the notice row
        return got

    async def b() -> list[notices.Claim]:
        await a_claimed.wait()
        async with pg_db.transaction() as s:
            b_started.set()
            return await notices.claim_batch(s, NOW, 30)

    async with asyncio.timeout(DEADLINE):
        from_a, from_b = await asyncio.gather(a(), b())
    ids_a, ids_b = {c.delivery_id for c in from_a}, {c.delivery_id for c in from_b}
    assert len(ids_a) == len(ids_b) == 30
    assert not ids_a & ids_b
    async with pg_db.session() as s:
        p = await notices.progress(s, notice_id)
    assert p is not None and p.status is NoticeStatus.SENDING and p.pending == len(RESIDENTS)


async def test_claimers_on_two_engines_claim_every_row_exactly_once(
    pg_url: URL, pg_db: Database, notice_id: int
) -> None:
    """Six claimers (three per engine, as two processes) drain the queue together; each holds its batch's
    transaction open a moment so the others claim past its locked rows; then every row was claimed once."""
    other = Database(pg_url)
    claimed: list[int] = []
    per_claimer: list[int] = []

    async def claimer(db: Database, limit: int) -> None:
        mine = 0
        while True:
            async with db.transaction() as s:
                batch = await notices.claim_batch(s, NOW, limit)
                await asyncio.sleep(0.01)  # locks held while the others claim
            if not batch:
                break
            claimed.extend(c.delivery_id for c in batch)
            mine += len(batch)
            ids = [c.delivery_id for c in batch]
            if db is other:  # as the sender marks: a plain connection, one UPDATE per group
                async with db.engine.connect() as conn, conn.begin():
                    assert await notices.mark_sent_many(conn, ids, NOW) == len(batch)
            else:
                async with db.transaction() as s:
                    assert await notices.mark_sent_many(s, ids, NOW) == len(batch)
        per_claimer.append(mine)

    try:
        async with asyncio.timeout(DEADLINE):
            await asyncio.gather(*(claimer(db, limit) for db in (pg_db, other) for limit in (7, 11, 13)))
    finally:
        await other.dispose()
    copies = Counter(claimed)
    assert set(copies) == await all_ids(pg_db)
    assert max(copies.values()) == 1, [i for i, n in copies.items() if n > 1]
    assert len([n for n in per_claimer if n]) >= 2  # the work was shared, not done by one claimer
    async with pg_db.transaction() as s:
        p = await notices.progress(s, notice_id)
        assert await notices.finish(s, NOW) == [notice_id]
    assert p is not None and (p.sent, p.pending) == (len(RESIDENTS), 0)


# --- leases -----------------------------------------------------------------------------------------


async def test_an_expired_lease_is_claimable_again(pg_db: Database, notice_id: int) -> None:
    async with pg_db.transaction() as s:
        crashed = await notices.claim_batch(s, NOW, 5)  # a sender claimed these, then died
    async with pg_db.transaction() as s:
        assert [c.delivery_id for c in await notices.claim_batch(s, NOW, 5)] != [c.delivery_id for c in crashed]
        assert await notices.mark_sent(s, crashed[0].delivery_id, NOW)  # this one it had sent and marked
    async with pg_db.transaction() as s:
        before = await notices.claim_batch(s, NOW + notices.LEASE - timedelta(seconds=1), len(RESIDENTS))
    assert not {c.delivery_id for c in before} & {c.delivery_id for c in crashed}
    async with pg_db.transaction() as s:
        again = await notices.claim_batch(s, NOW + notices.LEASE, 10)
    resumed = {c.delivery_id: c for c in again if c.delivery_id in {x.delivery_id for x in crashed}}
    assert set(resumed) == {c.delivery_id for c in crashed[1:]}  # the sent one never again
    assert all(c.attempts == 2 and c.lease_until == NOW + 2 * notices.LEASE for c in resumed.values())


async def test_a_mark_after_the_lease_was_taken_over(pg_db: Database, notice_id: int) -> None:
    """Marks are guarded by status, not by lease: the first terminal mark wins, whoever holds the lease.

    Sender A claimed a row, was slow past its lease; B claimed it again. A's message had been accepted, so
    A's late ``mark_sent`` still records it (True) and B's then finds the row sent (False); A can no longer
    reclaim the row for a 429 retry (``reclaim`` checks the lease's due time)."""
    async with pg_db.transaction() as s:
        a = (await notices.claim_batch(s, NOW, len(RESIDENTS)))[0]  # A leased every row; this one is first
    async with pg_db.transaction() as s:
        [b] = await notices.claim_batch(s, NOW + notices.LEASE, 1)
    assert b.delivery_id == a.delivery_id and b.attempts == 2
    async with pg_db.transaction() as s:
        assert await notices.reclaim(s, a, a.lease_until, NOW + notices.LEASE) is None
    async with pg_db.transaction() as s:
        assert await notices.mark_sent(s, a.delivery_id, NOW + notices.LEASE)
    async with pg_db.transaction() as s:
        assert not await notices.mark_sent(s, b.delivery_id, NOW + notices.LEASE)
        assert await notices.mark_sent_many(s, [b.delivery_id], NOW + notices.LEASE) == 0
        assert not await notices.mark_unreachable(s, b.delivery_id, NOW + notices.LEASE, "Forbidden")
    assert (await row(pg_db, a.delivery_id)).status is DeliveryStatus.SENT


async def test_two_marks_at_once_one_wins(pg_db: Database, notice_id: int) -> None:
    """A's mark is uncommitted when B marks the same row: B waits on the row lock, then re-reads it
    (READ COMMITTED), finds it no longer pending and changes nothing."""
    async with pg_db.transaction() as s:
        [claim] = await notices.claim_batch(s, NOW, 1)
    a_marked = asyncio.Event()
    release_a = asyncio.Event()

    async def a() -> bool:
        async with pg_db.transaction() as s:
            done = await notices.mark_sent(s, claim.delivery_id, NOW)
            a_marked.set()
            await release_a.wait()
        return done

    async def b() -> int:
        await a_marked.wait()
        async with pg_db.transaction() as s:
            return await notices.mark_sent_many(s, [claim.delivery_id], NOW)

    async with asyncio.timeout(DEADLINE):
        task_a, task_b = asyncio.create_task(a()), asyncio.create_task(b())
        await a_marked.wait()
        await asyncio.sleep(0.2)
        assert not task_b.done()  # blocked on A's row lock
        release_a.set()
        assert (await task_a, await task_b) == (True, 0)


async def test_withdrawing_a_scheduled_notice_while_a_claim_is_open(pg_db: Database) -> None:
    """A scheduled notice withdrawn while a claimer holds its due rows: the withdrawal waits for the claim and
    then finds the sending started, so it changes nothing. (The interleaving where the withdrawal locks first
    is not forced here; ``cancel`` takes the rows before the notice, as the claim does, for that one.)"""
    async with pg_db.transaction() as s:
        conn = await s.connection()
        await conn.execute(Resident.__table__.insert(), [  # type: ignore[attr-defined]
            {"tg_user_id": uid, "name": f"居民{uid}", "created_at": NOW, "updated_at": NOW} for uid in RESIDENTS[:20]])
        notice = await notices.create_draft(s, author_tg_id=9001, kind=NoticeKind.GENERAL, text="周六停水",
                                            audience_kind=AudienceKind.COMMUNITY, now=NOW,
                                            send_at=NOW + timedelta(hours=1))
        assert notice.id is not None
        assert await notices.confirm(s, notice.id, NOW) == 20
    later = NOW + timedelta(hours=1)  # the send time: a claimer at it, a withdrawal stamped a second before
    claimed = asyncio.Event()

    async def claimer() -> int:
        async with pg_db.transaction() as s:
            got = await notices.claim_batch(s, later, 5)
            claimed.set()
            await asyncio.sleep(0.3)  # hold the row locks while the withdrawal arrives
            return len(got)

    async def withdraw() -> bool:
        await claimed.wait()
        async with pg_db.transaction() as s:
            return await notices.cancel(s, notice.id, later - timedelta(seconds=1))

    async with asyncio.timeout(DEADLINE):
        got, withdrawn = await asyncio.gather(claimer(), withdraw())
    assert got == 5 and not withdrawn
    async with pg_db.session() as s:
        left = (await s.exec(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice.id))).all()
        assert (await s.get(Notice, notice.id)).status is NoticeStatus.SENDING
    assert len(left) == 20  # every row still there: the broadcast goes on whole, not half withdrawn
