"""Points: ledger balance, redemptions, and no overdraft under concurrent redemptions."""

import asyncio
import dataclasses
from datetime import datetime, timedelta

import pytest

from services import SHANGHAI
from services.community.model import SAMPLE_COMMUNITY_FILE, ShopItem, load_community
from services.people.residents import get_or_create_resident
from services.points.ledger import (
    REDEEM,
    Kind,
    RedeemResult,
    RedeemStatus,
    award,
    award_activity,
    balance,
    earned_today,
    recent_entries,
    redeem,
    reverse,
    shop_view,
    stock_left,
)
from storage.db import Database
from storage.models import PointsEntry

COMMUNITY = load_community(SAMPLE_COMMUNITY_FILE)
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI)


async def resident_with(db: Database, points: int, tg_user_id: int = 3001) -> int:
    async with db.transaction() as s:
        resident = await get_or_create_resident(s, tg_user_id=tg_user_id, name="志愿者", now=NOW)
        if points:
            await award(
                s, resident_id=resident.id, delta=points, reason="activity", ref="volunteer_hour", now=NOW
            )
        assert resident.id is not None
        return resident.id


async def balance_of(db: Database, resident_id: int) -> int:
    async with db.session() as s:
        return await balance(s, resident_id)


async def test_balance_is_the_sum_of_the_ledger(db: Database) -> None:
    rid = await resident_with(db, 0)
    assert await balance_of(db, rid) == 0
    async with db.transaction() as s:
        await award(s, resident_id=rid, delta=10, reason="activity", ref="volunteer_hour", now=NOW)
        entry = await award_activity(
            s, resident_id=rid, activity_code="garbage_sorting", community=COMMUNITY, now=NOW
        )
        assert entry is not None and entry.delta == 5
        assert (
            await award_activity(s, resident_id=rid, activity_code="nope", community=COMMUNITY, now=NOW)
            is None
        )
        with pytest.raises(ValueError):
            await award(s, resident_id=rid, delta=-3, reason="activity", now=NOW)
    assert await balance_of(db, rid) == 15
    async with db.session() as s:
        entries = await recent_entries(s, rid)
    assert [e.delta for e in entries] == [5, 10]


async def test_redeem_outcomes(db: Database) -> None:
    rid = await resident_with(db, 25)
    ok = await redeem(db, resident_id=rid, item_code="soap", community=COMMUNITY, now=NOW)
    assert (ok.status, ok.balance_after, ok.item.code) == (RedeemStatus.OK, 5, "soap")
    poor = await redeem(db, resident_id=rid, item_code="towel", community=COMMUNITY, now=NOW)
    assert (poor.status, poor.balance_after) == (RedeemStatus.INSUFFICIENT, 5)
    unknown = await redeem(db, resident_id=rid, item_code="gold", community=COMMUNITY, now=NOW)
    assert (unknown.status, unknown.balance_after, unknown.item) == (RedeemStatus.UNKNOWN_ITEM, 5, None)
    assert await balance_of(db, rid) == 5
    async with db.session() as s:
        assert [(e.delta, e.reason, e.ref) for e in await recent_entries(s, rid, limit=1)] == [
            (-20, REDEEM, "soap")
        ]


async def test_redeem_inside_a_callers_transaction(db: Database) -> None:
    rid = await resident_with(db, 30)
    async with db.transaction() as s:
        result = await redeem(s, resident_id=rid, item_code="towel", community=COMMUNITY, now=NOW)
        assert result.ok and await balance(s, rid) == 0
    assert await balance_of(db, rid) == 0


async def test_out_of_stock_is_derived_from_the_ledger(db: Database) -> None:
    community = dataclasses.replace(COMMUNITY, shop=(ShopItem("rice", "大米", cost=10, stock=1),))
    rid = await resident_with(db, 100)
    assert (await redeem(db, resident_id=rid, item_code="rice", community=community, now=NOW)).ok
    again = await redeem(db, resident_id=rid, item_code="rice", community=community, now=NOW)
    assert (again.status, again.balance_after) == (RedeemStatus.OUT_OF_STOCK, 90)
    async with db.session() as s:
        assert await stock_left(s, community.shop[0]) == 0
        assert await stock_left(s, ShopItem("x", "x", cost=1)) is None


@pytest.mark.parametrize(("attempts", "points", "expected_ok"), [(2, 20, 1), (10, 50, 2), (10, 200, 10)])
async def test_concurrent_redemptions_never_overdraw(
    db: Database, attempts: int, points: int, expected_ok: int
) -> None:
    """Each redemption runs in its own transaction on its own pooled connection, all at once."""
    rid = await resident_with(db, points)
    results = await asyncio.gather(
        *(
            redeem(db, resident_id=rid, item_code="soap", community=COMMUNITY, now=NOW + timedelta(seconds=i))
            for i in range(attempts)
        )
    )
    oks = [r for r in results if r.ok]
    assert len(oks) == expected_ok
    assert all(r.status is RedeemStatus.INSUFFICIENT for r in results if not r.ok)
    final = await balance_of(db, rid)
    assert final == points - 20 * expected_ok >= 0
    assert sorted(r.balance_after for r in oks) == [points - 20 * k for k in range(expected_ok, 0, -1)]


async def test_concurrent_redemptions_from_two_engines(db_url: str, db: Database) -> None:
    """Two Database objects on the same file (like two bot processes) still cannot overdraw."""
    rid = await resident_with(db, 40)
    other = Database(db_url)
    try:
        results = await asyncio.gather(
            *(
                redeem(target, resident_id=rid, item_code="soap", community=COMMUNITY, now=NOW)
                for target in [db, other] * 5
            )
        )
    finally:
        await other.dispose()
    assert sum(r.ok for r in results) == 2
    assert await balance_of(db, rid) == 0


async def test_concurrent_redemptions_respect_stock(db: Database) -> None:
    community = dataclasses.replace(COMMUNITY, shop=(ShopItem("rice", "大米", cost=10, stock=3),))
    residents = [await resident_with(db, 100, tg_user_id=4000 + i) for i in range(6)]
    results = await asyncio.gather(
        *(redeem(db, resident_id=rid, item_code="rice", community=community, now=NOW) for rid in residents)
    )
    assert sorted(r.status for r in results) == sorted(
        [RedeemStatus.OK] * 3 + [RedeemStatus.OUT_OF_STOCK] * 3
    )
    async with db.session() as s:
        assert await stock_left(s, community.shop[0]) == 0


async def test_plain_deferred_sessions_are_serialised_by_the_lock(db: Database) -> None:
    """Without db.transaction()'s BEGIN IMMEDIATE, redeem's own first write still takes the lock."""
    rid = await resident_with(db, 50)

    async def attempt() -> RedeemResult:
        async with db.session() as s:
            result = await redeem(s, resident_id=rid, item_code="soap", community=COMMUNITY, now=NOW)
            await s.commit()
            return result

    results = await asyncio.gather(*(attempt() for _ in range(10)))
    assert sum(r.ok for r in results) == 2
    assert await balance_of(db, rid) == 10


async def test_one_request_redeems_once_even_pressed_twice_at_once(db: Database) -> None:
    """A double tap on one confirm button carries one request id: one purchase, not two."""
    community = load_community()
    item = community.shop[0]
    async with db.transaction() as s:
        resident = await get_or_create_resident(s, tg_user_id=77001, name="双击", now=NOW)
        await award(s, resident_id=resident.id, delta=item.cost * 3, reason="activity", now=NOW)
    results = await asyncio.gather(*(
        redeem(db, resident_id=resident.id, item_code=item.code, community=community, now=NOW, request="n1")
        for _ in range(2)
    ))
    assert sorted(r.status for r in results) == [RedeemStatus.ALREADY_DONE, RedeemStatus.OK]
    again = await redeem(db, resident_id=resident.id, item_code=item.code, community=community, now=NOW, request="n2")
    assert again.ok
    async with db.session() as s:
        assert await balance(s, resident.id) == item.cost


async def test_the_residents_reads_on_both_engines(any_db: Database) -> None:
    """积分 and 积分超市's reads (statements built once): the balance, the newest lines as ledger rows, the stock
    left (a reversed redemption gives its item back; another item's code with the same start is not counted), the
    day's earnings of a kind; 积分超市's one read of them all (``shop_view``)."""
    community = dataclasses.replace(COMMUNITY, shop=(ShopItem("rice", "大米", cost=10, stock=3),
                                                     ShopItem("rice2", "好大米", cost=10, stock=3)))
    rid = await resident_with(any_db, 100)
    other = await resident_with(any_db, 7, tg_user_id=3002)
    assert (await redeem(any_db, resident_id=rid, item_code="rice", community=community, now=NOW, request="a")).ok
    assert (await redeem(any_db, resident_id=rid, item_code="rice", community=community, now=NOW)).ok
    assert (await redeem(any_db, resident_id=rid, item_code="rice2", community=community, now=NOW)).ok
    later = NOW + timedelta(minutes=1)
    async with any_db.transaction() as s:
        first = (await recent_entries(s, rid, limit=10))[-2]
        assert (first.reason, first.ref) == (REDEEM, "rice#a")
        assert (await reverse(s, entry_id=first.id, actor_tg_id=1, note="退货", now=later)).ok
    async with any_db.session() as s:
        assert await balance(s, rid) == 80 and await balance(s, other) == 7 and await balance(s, 999) == 0
        entries = await recent_entries(s, rid, limit=3)
        assert all(isinstance(e, PointsEntry) for e in entries)
        assert [(e.delta, e.reason, e.ref) for e in entries] == [(10, "reversal", "rice#a"), (-10, REDEEM, "rice2"),
                                                                 (-10, REDEEM, "rice")]
        assert entries[0].at == later and entries[0].reverses_id == first.id and entries[0].note == "退货"
        assert await recent_entries(s, 999) == []
        assert await stock_left(s, community.shop[0]) == 2 and await stock_left(s, community.shop[1]) == 2
        unlimited = ShopItem("soap", "肥皂", cost=20)
        assert await shop_view(s, rid, [community.shop[0], unlimited, community.shop[1]]) == (80, [2, None, 2])
        assert await shop_view(s, other, [unlimited]) == (7, [None])
        assert await shop_view(s, 999, community.shop) == (0, [2, 2])
        assert await earned_today(s, rid, Kind.ACTIVITY, NOW) == 100
        assert await earned_today(s, rid, Kind.ACTIVITY, NOW + timedelta(days=1)) == 0
        assert await earned_today(s, rid, Kind.ORDER, NOW) == 0
