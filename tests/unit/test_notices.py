"""Notices: audience and mute rules, confirm materialising rows once, claim/mark/retry, crash resume."""

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from services import SHANGHAI
from services import notices as n
from services.residents import get_or_create_resident
from storage.db import Database
from storage.models import AudienceKind, DeliveryStatus, NoticeDelivery, NoticeKind, NoticeStatus

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
# tg id -> (grid, building)
PEOPLE = {101: ("A03", "9号楼"), 102: ("A03", "9号楼"), 103: ("A03", "10号楼"), 104: ("A04", "13号楼"),
          105: (None, None)}


async def populate(db: Database) -> None:
    from storage.models import Grid

    async with db.transaction() as s:
        for code in ("A03", "A04"):
            s.add(Grid(code=code, name=code))
        await s.flush()
        for tg, (grid, building) in PEOPLE.items():
            r = await get_or_create_resident(s, tg_user_id=tg, name=f"居民{tg}", now=NOW)
            r.grid_code, r.building = grid, building
            s.add(r)


async def draft(db: Database, kind: NoticeKind = NoticeKind.GENERAL, audience: AudienceKind = AudienceKind.GRID,
                value: str = "A03") -> int:
    async with db.transaction() as s:
        notice = await n.create_draft(s, author_tg_id=1, kind=kind, text="明天下午开会", audience_kind=audience,
                                      audience_value=value, now=NOW)
        assert notice.id is not None
        return notice.id


async def rows(db: Database, notice_id: int) -> dict[int, NoticeDelivery]:
    async with db.session() as s:
        found = (await s.exec(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice_id))).all()
        return {r.tg_user_id: r for r in found}


async def test_recipients_by_audience_and_mute(db: Database) -> None:
    await populate(db)
    async with db.transaction() as s:
        assert await n.mute(s, 102, NOW)
        assert not await n.mute(s, 102, NOW)
    cases = [
        (NoticeKind.GENERAL, AudienceKind.GRID, "A03", [101, 103]),
        (NoticeKind.GENERAL, AudienceKind.GRID, "A03,A04", [101, 103, 104]),
        (NoticeKind.GENERAL, AudienceKind.BUILDING, "9号楼", [101]),
        (NoticeKind.GENERAL, AudienceKind.COMMUNITY, "", [101, 103, 104, 105]),
        (NoticeKind.OUTAGE, AudienceKind.BUILDING, "9号楼", [101, 102]),  # urgent reaches the muted
        (NoticeKind.FRAUD, AudienceKind.COMMUNITY, "", [101, 102, 103, 104, 105]),
    ]
    for kind, audience, value, expected in cases:
        notice_id = await draft(db, kind, audience, value)
        async with db.session() as s:
            notice = await s.get(n.Notice, notice_id)
            assert await n.recipients(s, notice) == expected, (kind, audience, value)
    async with db.transaction() as s:
        assert await n.unmute(s, 102)
        assert not await n.unmute(s, 102)
    notice_id = await draft(db, value="A03")
    async with db.session() as s:
        assert await n.recipients(s, await s.get(n.Notice, notice_id)) == [101, 102, 103]


async def test_confirm_materialises_once_and_cancel(db: Database) -> None:
    await populate(db)
    notice_id = await draft(db)
    async with db.session() as s:
        assert await n.claim_batch(s, NOW, 10) == []  # a draft sends nothing
    async with db.transaction() as s:
        assert await n.confirm(s, notice_id, NOW) == 3
    async with db.transaction() as s:
        assert await n.confirm(s, notice_id, NOW) is None
        assert not await n.cancel(s, notice_id, NOW)
    assert set(await rows(db, notice_id)) == {101, 102, 103}
    other = await draft(db)
    async with db.transaction() as s:
        assert await n.cancel(s, other, NOW)
        assert await n.confirm(s, other, NOW) is None
    assert await rows(db, other) == {}


async def test_claim_mark_retry_and_finish(db: Database) -> None:
    await populate(db)
    notice_id = await draft(db, audience=AudienceKind.COMMUNITY, value="")
    async with db.transaction() as s:
        assert await n.confirm(s, notice_id, NOW) == 5
    async with db.transaction() as s:
        first = await n.claim_batch(s, NOW, 3)
    assert [c.tg_user_id for c in first] == [101, 102, 103]
    async with db.transaction() as s:
        assert [c.tg_user_id for c in await n.claim_batch(s, NOW, 10)] == [104, 105]  # leased ones skipped
        assert await n.claim_batch(s, NOW, 10) == []
        assert (await n.progress(s, notice_id)).status is NoticeStatus.SENDING
    async with db.transaction() as s:
        assert await n.mark_sent(s, first[0].delivery_id, NOW)
        assert not await n.mark_sent(s, first[0].delivery_id, NOW)  # only pending rows change
        assert await n.mark_unreachable(s, first[1].delivery_id, NOW, "Forbidden: bot was blocked by the user")
        due = await n.mark_retry(s, first[2].delivery_id, NOW, 3)
    assert due == NOW + timedelta(seconds=3)
    async with db.transaction() as s:
        assert await n.claim_batch(s, NOW + timedelta(seconds=2), 10) == []
        again = await n.claim_batch(s, NOW + timedelta(seconds=3), 10)
        assert [(c.tg_user_id, c.attempts) for c in again] == [(103, 2)]
        assert await n.finish(s, NOW) == []
        p = await n.progress(s, notice_id)
    assert (p.total, p.sent, p.unreachable, p.failed, p.pending) == (5, 1, 1, 0, 3)
    async with db.transaction() as s:
        await n.mark_sent(s, again[0].delivery_id, NOW)
        for c in (await rows(db, notice_id)).values():
            if c.tg_user_id in (104, 105):
                await n.mark_failed(s, c.id, NOW, "Bad Request: chat not found")
        assert await n.finish(s, NOW) == [notice_id]
        p = await n.progress(s, notice_id)
    assert (p.sent, p.unreachable, p.failed, p.pending, p.finished, p.status) == (2, 1, 2, 0, 5, NoticeStatus.DONE)


async def test_retry_gives_up_after_max_attempts(db: Database) -> None:
    await populate(db)
    notice_id = await draft(db, audience=AudienceKind.BUILDING, value="10号楼")
    async with db.transaction() as s:
        await n.confirm(s, notice_id, NOW)
    at = NOW
    for attempt in range(1, n.MAX_ATTEMPTS + 1):
        async with db.transaction() as s:
            [claim] = await n.claim_batch(s, at, 10)
            assert claim.attempts == attempt
            due = await n.mark_retry(s, claim.delivery_id, at, 1)
        at += timedelta(seconds=1)
    assert due is None
    assert (await rows(db, notice_id))[103].status is DeliveryStatus.FAILED


async def test_reclaim_only_if_untouched(db: Database) -> None:
    await populate(db)
    notice_id = await draft(db, audience=AudienceKind.BUILDING, value="10号楼")
    async with db.transaction() as s:
        await n.confirm(s, notice_id, NOW)
        [claim] = await n.claim_batch(s, NOW, 10)
        due = await n.mark_retry(s, claim.delivery_id, NOW, 2)
    async with db.transaction() as s:
        again = await n.reclaim(s, claim, due, NOW)
        assert again is not None and again.attempts == 2
        assert await n.reclaim(s, claim, due, NOW) is None  # the lease moved next_try_at: nobody else gets it


async def test_resume_after_crash(db: Database) -> None:
    """A sender claimed a batch, sent one, then died: after the lease the rest are claimed again, the sent
    one never."""
    await populate(db)
    notice_id = await draft(db, audience=AudienceKind.COMMUNITY, value="")
    async with db.transaction() as s:
        await n.confirm(s, notice_id, NOW)
        batch = await n.claim_batch(s, NOW, 10)
    async with db.transaction() as s:
        await n.mark_sent(s, batch[0].delivery_id, NOW)
    # crash: nothing else marked
    async with db.transaction() as s:
        assert await n.claim_batch(s, NOW + n.LEASE - timedelta(seconds=1), 10) == []
        resumed = await n.claim_batch(s, NOW + n.LEASE, 10)
    assert sorted(c.tg_user_id for c in resumed) == [102, 103, 104, 105]
    async with db.session() as s:
        total = (await s.exec(select(func.count()).select_from(NoticeDelivery))).one()
    assert total == 5
