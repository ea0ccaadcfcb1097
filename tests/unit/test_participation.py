"""Residents take part: partners, orders (接单 exactly once), wishes, check-ins, proposals and 办复率, 议事会,
民生实事, the three lists, and the ledger's earnings, limits and reversals (races on both engines)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from services import SHANGHAI
from services.community.model import SAMPLE_COMMUNITY_FILE, PointsRule, load_community
from services.participation import activities, council, lists, orders, partners, projects, proposals, wishes
from services.participation.orders import CloseStatus, TakeStatus
from services.people.residents import bind_grid, get_or_create_resident
from services.points import ledger
from services.points.ledger import Kind, RedeemStatus, ReverseStatus
from storage.db import Database
from storage.models import (
    ActivityCheckin,
    Notice,
    NoticeDelivery,
    OrderEvent,
    OrderStatus,
    PartnerStatus,
    PointsEntry,
    Resident,
    TopicStatus,
    WishStatus,
)

COMMUNITY = load_community(SAMPLE_COMMUNITY_FILE)
NOW = datetime(2026, 3, 17, 10, 0, tzinfo=SHANGHAI)


async def person(db: Database, tg: int, name: str = "居民", grid: str | None = "A03") -> Resident:
    async with db.transaction() as s:
        r = await get_or_create_resident(s, tg_user_id=tg, name=name, now=NOW)
        if grid:
            await bind_grid(s, r, grid, community=COMMUNITY, now=NOW)
        return r


async def partner(db: Database, tg: int, services: list[str] = ("plumbing",)) -> int:  # type: ignore[assignment]
    r = await person(db, tg, f"师傅{tg}")
    async with db.transaction() as s:
        applied = await partners.apply(s, resident=r, services=list(services), available="周末", area="上门",
                                       community=COMMUNITY, now=NOW)
        assert applied.status is partners.ApplyStatus.OK
        assert applied.partner is not None and applied.partner.id is not None
        assert await partners.decide(s, applied.partner.id, approve=True, reason=None, by=1, now=NOW)
        return applied.partner.id


async def balance(db: Database, resident_id: int) -> int:
    async with db.session() as s:
        return await ledger.balance(s, resident_id)


async def ledger_sum(db: Database, resident_id: int) -> tuple[int, int]:
    """(sum of the lines, number of lines): what /points must agree with."""
    async with db.session() as s:
        rows = (await s.exec(select(PointsEntry.delta).where(PointsEntry.resident_id == resident_id))).all()
    return sum(rows), len(rows)


# --- partners ---------------------------------------------------------------------------------------------


async def test_partner_application_decision_and_pause(db: Database) -> None:
    r = await person(db, 501, "李师傅")
    async with db.transaction() as s:
        none = await partners.apply(s, resident=r, services=["gold"], available="", area="", community=COMMUNITY,
                                    now=NOW)
        assert none.status is partners.ApplyStatus.NO_SERVICE
        first = await partners.apply(s, resident=r, services=["plumbing", "plumbing", "nope", "haircut"],
                                     available="周末下午", area="9号楼", community=COMMUNITY, now=NOW)
        assert first.status is partners.ApplyStatus.OK and first.partner.services == ["plumbing", "haircut"]
        pid = first.partner.id
        refused = await partners.decide(s, pid, approve=False, reason="资质材料不全", by=7, now=NOW)
        assert refused.status is PartnerStatus.REFUSED and refused.reason == "资质材料不全"
        assert await partners.decide(s, pid, approve=True, reason=None, by=8, now=NOW) is None  # decided already
        again = await partners.apply(s, resident=r, services=["plumbing"], available="周末", area="上门",
                                     community=COMMUNITY, now=NOW)
        assert again.status is partners.ApplyStatus.OK and again.partner.id == pid
        approved = await partners.decide(s, pid, approve=True, reason=None, by=8, now=NOW)
        assert approved.status is PartnerStatus.APPROVED
        assert (await partners.apply(s, resident=r, services=["plumbing"], available="", area="", community=COMMUNITY,
                                     now=NOW)).status is partners.ApplyStatus.ALREADY
        assert [p.id for p, _ in await partners.matching(s, "plumbing")] == [pid]
        assert (await partners.set_paused(s, pid, True, NOW)).status is PartnerStatus.PAUSED
        assert await partners.matching(s, "plumbing") == []
        assert await partners.set_paused(s, pid, True, NOW) is None
        assert (await partners.set_paused(s, pid, False, NOW)).status is PartnerStatus.APPROVED


# --- orders: exactly one 接单, on both engines -------------------------------------------------------------


async def _order(db: Database, resident: Resident, service: str = "plumbing") -> int:
    async with db.transaction() as s:
        order = await orders.place(s, resident=resident, service=service, text="厨房水龙头漏水", when_text="明天下午",
                                   community=COMMUNITY, now=NOW)
        assert order.id is not None and order.place == ""
        return order.id


async def test_concurrent_take_has_exactly_one_winner(any_db: Database) -> None:
    """Five partners press 接单 at once, each in its own transaction: one gets it, four are told it is taken."""
    ids = [await partner(any_db, 600 + i) for i in range(5)]
    resident = await person(any_db, 700, "王阿姨")
    order_id = await _order(any_db, resident)

    async def press(partner_id: int) -> orders.Taken:
        async with any_db.transaction() as s:
            from storage.models import Partner

            p = await s.get(Partner, partner_id)
            return await orders.take(s, order_id, p, actor_tg_id=partner_id, now=NOW)

    results = await asyncio.gather(*(press(i) for i in ids))
    winners = [r for r in results if r.ok]
    assert len(winners) == 1
    assert sorted(r.status for r in results if not r.ok) == [TakeStatus.TAKEN] * 4
    async with any_db.session() as s:
        kinds = (await s.exec(select(OrderEvent.kind).where(OrderEvent.order_id == order_id))).all()
        order = await s.get(orders.ServiceOrder, order_id)
    assert kinds.count("taken") == 1 and order.partner_id == winners[0].partner.id


async def test_concurrent_confirmations_write_points_once(any_db: Database) -> None:
    pid = await partner(any_db, 610)
    resident = await person(any_db, 710)
    order_id = await _order(any_db, resident)
    async with any_db.transaction() as s:
        from storage.models import Partner

        assert (await orders.take(s, order_id, await s.get(Partner, pid), actor_tg_id=610, now=NOW)).ok

    async def confirm(stars: int) -> orders.Closed:
        async with any_db.transaction() as s:
            return await orders.confirm(s, order_id, resident_id=resident.id, rating=stars, community=COMMUNITY,
                                        actor_tg_id=710, now=NOW)

    results = await asyncio.gather(*(confirm(5) for _ in range(4)))
    assert [r.status for r in results].count(CloseStatus.OK) == 1
    assert all(r.status is CloseStatus.ALREADY for r in results if not r.ok)
    async with any_db.session() as s:
        helper = await s.get(Resident, (await s.get(orders.Partner, pid)).resident_id)
    assert await balance(any_db, helper.id) == 10 == (await ledger_sum(any_db, helper.id))[0]
    async with any_db.session() as s:
        line = (await s.exec(select(PointsEntry).where(PointsEntry.resident_id == helper.id))).one()
    assert (line.reason, line.ref, line.actor_tg_id) == ("order", f"order:{order_id}", 710)
    assert line.note == f"点单 #{order_id} 水电维修"


async def test_order_refusals_and_history(db: Database) -> None:
    pid = await partner(db, 620, ["haircut"])
    own = await person(db, 620)  # the partner's own resident row
    other = await person(db, 720)
    async with db.transaction() as s:
        from storage.models import Partner

        p = await s.get(Partner, pid)
        with pytest.raises(ValueError):
            await orders.place(s, resident=other, service="plumbing", text="x" * 501, community=COMMUNITY, now=NOW)
        with pytest.raises(ValueError):
            await orders.place(s, resident=other, service="gold", text="x", community=COMMUNITY, now=NOW)
        mine = await orders.place(s, resident=own, service="haircut", text="理发", community=COMMUNITY, now=NOW)
        assert (await orders.take(s, mine.id, p, actor_tg_id=620, now=NOW)).status is TakeStatus.OWN
        plumbing = await orders.place(s, resident=other, service="plumbing", text="修水管", community=COMMUNITY,
                                      now=NOW)
        assert (await orders.take(s, plumbing.id, p, actor_tg_id=620, now=NOW)).status is TakeStatus.NO_SERVICE
        assert (await orders.take(s, plumbing.id, None, actor_tg_id=1, now=NOW)).status is TakeStatus.NOT_PARTNER
        assigned = await orders.take(s, plumbing.id, p, actor_tg_id=9, now=NOW, assigned=True)  # staff may
        assert assigned.ok
        assert (await orders.confirm(s, plumbing.id, resident_id=own.id, rating=5, community=COMMUNITY,
                                     actor_tg_id=1, now=NOW)).status is CloseStatus.NOT_YOURS
        back = await orders.give_back(s, plumbing.id, partner=p, actor_tg_id=620, now=NOW)
        assert back.ok and back.order.status is OrderStatus.DESK and back.order.partner_id is None
        assert (await orders.confirm(s, plumbing.id, resident_id=other.id, rating=5, community=COMMUNITY,
                                     actor_tg_id=1, now=NOW)).status is CloseStatus.NOT_TAKEN
        assert (await orders.take(s, plumbing.id, p, actor_tg_id=9, now=NOW, assigned=True)).ok
        shown = await orders.no_show(s, plumbing.id, resident_id=other.id, actor_tg_id=720, now=NOW)
        assert shown.ok and shown.partner_id == pid
        cancelled = await orders.cancel(s, mine.id, resident_id=own.id, actor_tg_id=620, now=NOW)
        assert cancelled.ok and cancelled.order.status is OrderStatus.CANCELLED
        assert (await orders.cancel(s, mine.id, resident_id=own.id, actor_tg_id=620, now=NOW)).status \
            is CloseStatus.ALREADY
        record = await orders.record_of(s, pid)
    assert (record.done, record.no_shows, record.given_back) == (0, 1, 1)


async def test_orders_nobody_takes_go_to_the_desk_once(db: Database) -> None:
    resident = await person(db, 730)
    order_id = await _order(db, resident)
    async with db.transaction() as s:
        assert await orders.expire(s, NOW + timedelta(hours=11)) == []
        moved = await orders.expire(s, NOW + timedelta(hours=12))
        assert [o.id for o in moved] == [order_id] and moved[0].status is OrderStatus.DESK
        assert await orders.expire(s, NOW + timedelta(hours=13)) == []
        assert [o.id for o in await orders.open_orders(s)] == [order_id]


# --- the ledger: rules, limits, reversals, redeem racing an award --------------------------------------------


async def test_daily_limit_caps_earnings_per_kind(db: Database) -> None:
    r = await person(db, 740)
    rules = COMMUNITY.points_rules
    async with db.transaction() as s:
        got = [await ledger.earn(s, resident_id=r.id, kind=Kind.ORDER, points=12, rules=rules, now=NOW,
                                 actor_tg_id=1, note="点单") for _ in range(4)]
        assert [e.granted for e in got] == [12, 12, 6, 0] and got[2].capped and got[3].entry is None
        other_kind = await ledger.earn(s, resident_id=r.id, kind=Kind.WISH, points=15, rules=rules, now=NOW,
                                       actor_tg_id=1, note="微心愿")
        assert other_kind.granted == 15
        tomorrow = await ledger.earn(s, resident_id=r.id, kind=Kind.ORDER, points=12, rules=rules,
                                     now=NOW + timedelta(days=1), actor_tg_id=1, note="点单")
        assert tomorrow.granted == 12
        unlimited = dataclasses.replace(rules, order=PointsRule(10, None))
        assert (await ledger.earn(s, resident_id=r.id, kind=Kind.ORDER, points=500, rules=unlimited, now=NOW,
                                  actor_tg_id=1, note="x")).granted == 500
        with pytest.raises(ValueError):
            await ledger.earn(s, resident_id=r.id, kind=Kind.ORDER, points=0, rules=rules, now=NOW, actor_tg_id=1,
                              note="x")
    assert await balance(db, r.id) == 12 + 12 + 6 + 15 + 12 + 500 == (await ledger_sum(db, r.id))[0]


async def test_concurrent_earnings_respect_the_daily_limit(any_db: Database) -> None:
    r = await person(any_db, 745)

    async def one() -> ledger.Earned:
        async with any_db.transaction() as s:
            return await ledger.earn(s, resident_id=r.id, kind=Kind.VOLUNTEER, points=60,
                                     rules=COMMUNITY.points_rules, now=NOW, actor_tg_id=1, note="清洁家园行动")

    results = await asyncio.gather(*(one() for _ in range(5)))
    assert sorted(e.granted for e in results) == [0, 0, 20, 60, 60, 60][1:]
    assert await balance(any_db, r.id) == 200


async def test_redeem_while_awards_are_written(any_db: Database) -> None:
    """Redemptions racing earnings: nothing overdraws, every spend is covered, the ledger sums to the balance."""
    r = await person(any_db, 750)
    async with any_db.transaction() as s:
        await ledger.earn(s, resident_id=r.id, kind=Kind.VOLUNTEER, points=20, rules=COMMUNITY.points_rules,
                          now=NOW, actor_tg_id=1, note="起始")

    async def award(i: int) -> None:
        async with any_db.transaction() as s:
            await ledger.earn(s, resident_id=r.id, kind=Kind.VOLUNTEER, points=20, rules=COMMUNITY.points_rules,
                              now=NOW + timedelta(seconds=i), actor_tg_id=1, note=f"志愿 {i}")

    async def buy(i: int) -> ledger.RedeemResult:
        return await ledger.redeem(any_db, resident_id=r.id, item_code="soap", community=COMMUNITY,
                                   now=NOW + timedelta(seconds=i), request=f"r{i}")

    tasks = [award(i) for i in range(4)] + [buy(i) for i in range(6)]
    results = [x for x in await asyncio.gather(*tasks) if x is not None]
    bought = sum(1 for x in results if x.ok)
    assert all(x.status in (RedeemStatus.OK, RedeemStatus.INSUFFICIENT) for x in results)
    assert 1 <= bought <= 5
    total, _ = await ledger_sum(any_db, r.id)
    assert total == await balance(any_db, r.id) == 20 + 4 * 20 - 20 * bought >= 0
    assert min(x.balance_after for x in results) >= 0


async def test_reversal_is_a_new_line_once_and_never_overdraws(db: Database) -> None:
    r = await person(db, 760)
    async with db.transaction() as s:
        first = await ledger.earn(s, resident_id=r.id, kind=Kind.VOLUNTEER, points=30, rules=COMMUNITY.points_rules,
                                  now=NOW, actor_tg_id=5, note="清洁家园行动")
        wrong = await ledger.earn(s, resident_id=r.id, kind=Kind.VOLUNTEER, points=20, rules=COMMUNITY.points_rules,
                                  now=NOW, actor_tg_id=5, note="记错了")
    undone = None
    async with db.transaction() as s:
        undone = await ledger.reverse(s, entry_id=wrong.entry.id, actor_tg_id=6, note="重复登记", now=NOW)
        assert undone.ok and undone.entry.delta == -20 and undone.balance_after == 30
        assert (await ledger.reverse(s, entry_id=wrong.entry.id, actor_tg_id=6, note="x", now=NOW)).status \
            is ReverseStatus.ALREADY
        assert (await ledger.reverse(s, entry_id=undone.entry.id, actor_tg_id=6, note="x", now=NOW)).status \
            is ReverseStatus.IS_REVERSAL
        assert (await ledger.reverse(s, entry_id=99999, actor_tg_id=6, note="x", now=NOW)).status \
            is ReverseStatus.UNKNOWN
    bought = await ledger.redeem(db, resident_id=r.id, item_code="towel", community=COMMUNITY, now=NOW)
    assert bought.ok and bought.balance_after == 0
    async with db.transaction() as s:
        spent = await ledger.reverse(s, entry_id=first.entry.id, actor_tg_id=6, note="x", now=NOW)
        assert spent.status is ReverseStatus.OVERDRAW
        towel = COMMUNITY.shop_item("towel")
        before = await ledger.stock_left(s, towel)
        line = (await s.exec(select(PointsEntry).where(PointsEntry.reason == ledger.REDEEM))).one()
        refund = await ledger.reverse(s, entry_id=line.id, actor_tg_id=6, note="退货", now=NOW)
        assert refund.ok and refund.balance_after == 30
        assert await ledger.stock_left(s, towel) == before + 1
    assert await balance(db, r.id) == 30 == (await ledger_sum(db, r.id))[0]


# --- wishes --------------------------------------------------------------------------------------------------


async def test_wish_claimed_once_fulfilled_and_confirmed(any_db: Database) -> None:
    poor = await person(any_db, 770, "赵奶奶")
    helpers = [await person(any_db, 771 + i, f"志愿者{i}") for i in range(3)]
    async with any_db.transaction() as s:
        wish = await wishes.post(s, text="想要一个新书包", grid_code="A03", posted_by=770, resident_id=poor.id, now=NOW)
        assert (await wishes.claim(s, wish.id, claimer_id=poor.id, now=NOW)).status is wishes.WishResult.OWN

    async def claim(r: Resident) -> wishes.WishChange:
        async with any_db.transaction() as s:
            return await wishes.claim(s, wish.id, claimer_id=r.id, now=NOW)

    results = await asyncio.gather(*(claim(h) for h in helpers))
    winners = [r for r in results if r.ok]
    assert len(winners) == 1 and [r.status for r in results].count(wishes.WishResult.TAKEN) == 2
    claimer = winners[0].wish.claimer_id
    async with any_db.transaction() as s:
        assert not (await wishes.confirm(s, wish.id, by=1, community=COMMUNITY, now=NOW)).ok  # not fulfilled yet
        loser = next(h for h in helpers if h.id != claimer)
        assert (await wishes.fulfil(s, wish.id, claimer_id=loser.id, now=NOW)).status is wishes.WishResult.NOT_YOURS
        assert (await wishes.fulfil(s, wish.id, claimer_id=claimer, now=NOW)).ok
        done = await wishes.confirm(s, wish.id, by=1, community=COMMUNITY, now=NOW)
        assert done.ok and done.earned.granted == 15 and done.wish.status is WishStatus.CONFIRMED
        assert not (await wishes.confirm(s, wish.id, by=1, community=COMMUNITY, now=NOW)).ok
    assert await balance(any_db, claimer) == 15


# --- activity check-in -----------------------------------------------------------------------------------------


async def test_check_in_once_per_person_by_code_or_word(any_db: Database) -> None:
    r = await person(any_db, 780)
    async with any_db.transaction() as s:
        act = await activities.open_activity(s, title="垃圾分类督导", rule_code="garbage_sorting", grid_code="A03",
                                             by=42, now=NOW)
        assert len(act.word) == 4 and act.word.isdigit() and act.ends_at == datetime(2026, 3, 18, tzinfo=SHANGHAI)
        assert (await activities.by_word(s, act.word, NOW)).id == act.id
        assert await activities.by_word(s, act.word, act.ends_at) is None

    async def scan() -> activities.CheckedIn:
        async with any_db.transaction() as s:
            found = await activities.by_token(s, act.token)
            return await activities.check_in(s, found, resident_id=r.id, actor_tg_id=None, community=COMMUNITY,
                                             now=NOW)

    results = await asyncio.gather(*(scan() for _ in range(4)))
    assert [x.status for x in results].count(activities.CheckinStatus.OK) == 1
    assert await balance(any_db, r.id) == 5
    async with any_db.transaction() as s:
        late = await activities.check_in(s, act, resident_id=r.id, actor_tg_id=None, community=COMMUNITY,
                                         now=act.ends_at)
        assert late.status is activities.CheckinStatus.ENDED
        assert await activities.attendance(s, act.id) == 1
        assert (await s.exec(select(func.count()).select_from(ActivityCheckin))).one() == 1
        line = (await s.exec(select(PointsEntry).where(PointsEntry.resident_id == r.id))).one()
    assert (line.reason, line.ref, line.actor_tg_id, line.note) == ("activity", "garbage_sorting", 42, "垃圾分类督导")


# --- proposals and 办复率 -----------------------------------------------------------------------------------------


def test_reply_figures_counts_on_time_over_received() -> None:
    day = timedelta(days=1)
    rows = [
        (NOW, NOW + 15 * day, NOW + 2 * day),  # on time
        (NOW, NOW + 15 * day, NOW + 20 * day),  # late
        (NOW, NOW + 15 * day, None),  # open, overdue at NOW + 30
        (NOW + 20 * day, NOW + 35 * day, None),  # open, in time
    ]
    f = proposals.reply_figures(rows, NOW + 30 * day)
    assert (f.received, f.answered_on_time, f.answered_late, f.open_overdue, f.open_in_time) == (4, 1, 1, 1, 1)
    assert f.rate == 0.25 and f.mean_reply_days == 11.0 and f.median_reply_days == 11.0
    empty = proposals.reply_figures([], NOW)
    assert empty.rate is None and empty.mean_reply_days is None


async def test_proposal_number_deadline_and_one_answer(db: Database) -> None:
    r = await person(db, 790)
    async with db.transaction() as s:
        with pytest.raises(ValueError):
            await proposals.submit(s, resident=r, text="长" * 5000, community=COMMUNITY, now=NOW)
        p = await proposals.submit(s, resident=r, text="建议在9号楼下加装健身器材", community=COMMUNITY, now=NOW)
        assert p.number == f"JY-20260317-{p.id:04d}" and p.due_at == NOW + timedelta(days=15)
        assert proposals.find_number(f"关于 {p.number} 的答复") == p.number
        first = await proposals.answer(s, p.number, text="已列入计划", by=3001, now=NOW + timedelta(days=3))
        assert first.ok and first.on_time
        second = await proposals.answer(s, p.number, text="另一条", by=3002, now=NOW + timedelta(days=4))
        assert second.status is proposals.AnswerStatus.ALREADY and second.proposal.answer == "已列入计划"
        assert (await proposals.answer(s, "JY-20990101-0001", text="x", by=1, now=NOW)).status \
            is proposals.AnswerStatus.UNKNOWN
        late = await proposals.submit(s, resident=r, text="路灯太暗", community=COMMUNITY, now=NOW)
        await proposals.answer(s, late.number, text="已修", by=3001, now=NOW + timedelta(days=16))
        f = await proposals.figures(s, NOW + timedelta(days=20))
    assert (f.received, f.answered_on_time, f.answered_late, f.rate) == (2, 1, 1, 0.5)


# --- 议事会 ---------------------------------------------------------------------------------------------------------


async def test_council_topic_poll_votes_and_published_outcome(db: Database) -> None:
    a = await person(db, 801)
    await person(db, 802)
    await person(db, 803, grid="A01")
    async with db.transaction() as s:
        p = await proposals.submit(s, resident=a, text="加装健身器材", community=COMMUNITY, now=NOW)
        topic, grouped, unknown = await council.create_topic(s, title="9号楼下空地做什么？", by=3001, now=NOW,
                                                             numbers=[p.number, "JY-20990101-0009"])
        assert grouped == [p.number] and unknown == ["JY-20990101-0009"]
        assert (await council.start_poll(s, topic.id, grid_code="A03", options=["健身器材"], now=NOW)).status \
            is council.PollStatus.BAD_OPTIONS
        assert (await council.start_poll(s, topic.id, grid_code="A05", options=["甲", "乙"], now=NOW)).status \
            is council.PollStatus.NO_RESIDENTS
        started = await council.start_poll(s, topic.id, grid_code="A03", options=["健身器材", "停车位", "健身器材"],
                                           now=NOW)
        assert started.status is council.PollStatus.OK and started.voters == (801, 802)
        assert started.topic.options == ["健身器材", "停车位"]
        assert (await council.start_poll(s, topic.id, grid_code="A03", options=["甲", "乙"], now=NOW)).status \
            is council.PollStatus.NOT_OPEN
        for i, tg in enumerate(started.voters):
            await council.record_poll(s, poll_id=f"poll{i}", topic_id=topic.id, chat_id=tg, message_id=5, now=NOW)
        assert await council.vote(s, poll_id="poll0", tg_user_id=801, option_ids=[1], now=NOW)
        assert await council.vote(s, poll_id="poll0", tg_user_id=801, option_ids=[0], now=NOW)  # changed mind
        assert await council.vote(s, poll_id="poll1", tg_user_id=802, option_ids=[0, 7], now=NOW)
        assert await council.vote(s, poll_id="nope", tg_user_id=802, option_ids=[0], now=NOW) is None
        result = await council.close(s, topic.id, NOW)
        assert result.counts == (("健身器材", 2), ("停车位", 0)) and (result.voters, result.asked) == (2, 2)
        assert await council.close(s, topic.id, NOW) is None
        assert await council.vote(s, poll_id="poll1", tg_user_id=802, option_ids=[1], now=NOW) is None  # closed
        done = await council.publish(s, topic.id, outcome="采纳：安装健身器材", by=3001, now=NOW, text="议事结果")
        assert done.recipients == 2 and done.topic.status is TopicStatus.PUBLISHED
        assert await council.publish(s, topic.id, outcome="again", by=3001, now=NOW, text="x") is None
        assert (await s.exec(select(func.count()).select_from(NoticeDelivery))).one() == 2
        assert (await s.get(Notice, done.notice_id)).kind == "council"


# --- 民生实事 and the three lists ------------------------------------------------------------------------------------


async def test_projects_subscriptions_updates_and_views(db: Database) -> None:
    a, b = await person(db, 811), await person(db, 812)
    async with db.transaction() as s:
        project = await projects.create(s, name="老旧小区加装电梯", unit="和睦街道城建科", budget="120万元",
                                        milestones=["立项", "施工", "验收"], by=3001, now=NOW)
        assert await projects.subscribe(s, project.id, a.id, NOW)
        assert not await projects.subscribe(s, project.id, a.id, NOW)
        assert await projects.subscribe(s, project.id, b.id, NOW)
        assert await projects.unsubscribe(s, project.id, b.id)
        assert await projects.subscribers(s, project.id) == [811]
        assert await projects.add_update(s, project.id, text="x", by=1, now=NOW, milestone=7) is None
        updated, _ = await projects.add_update(s, project.id, text="已完成立项", by=3001, now=NOW, milestone=0)
        assert updated.milestones[0]["done_at"] is not None
        await proposals.submit(s, resident=a, text="电梯口加个雨棚", community=COMMUNITY, now=NOW,
                               project_id=project.id)
        view = (await projects.views(s))[0]
    assert (view.done, view.total, view.subscribers, view.suggestions, view.answered) == (1, 3, 1, 1, 0)
    assert view.last_update.text == "已完成立项"


async def test_three_lists_per_grid_and_monthly_publication(db: Database) -> None:
    pid = await partner(db, 820)
    a = await person(db, 821)
    far = await person(db, 822, grid="A01")
    open_id = await _order(db, a)
    async with db.transaction() as s:
        from storage.models import Partner

        done = await orders.place(s, resident=a, service="plumbing", text="换灯泡", community=COMMUNITY, now=NOW)
        await orders.take(s, done.id, await s.get(Partner, pid), actor_tg_id=820, now=NOW)
        await orders.confirm(s, done.id, resident_id=a.id, rating=4, community=COMMUNITY, actor_tg_id=821, now=NOW)
        await wishes.post(s, text="想要台灯", grid_code="A01", posted_by=822, resident_id=far.id, now=NOW)
        month = lists.month_start(NOW)
        grid = await lists.three_lists(s, "A03", since=month, until=NOW + timedelta(days=1))
        everyone = await lists.three_lists(s, None, since=month, until=NOW + timedelta(days=1))
        assert lists.previous_month_start(NOW) == datetime(2026, 2, 1, tzinfo=SHANGHAI)
        assert lists.previous_month_start(datetime(2026, 1, 5, tzinfo=SHANGHAI)) == datetime(2025, 12, 1,
                                                                                              tzinfo=SHANGHAI)
        await lists.set_monthly(s, "A03", True, NOW)
        assert await lists.due_publications(s, NOW) == []  # switched on this month: first goes out next month
        april = NOW + timedelta(days=20)
        assert await lists.due_publications(s, april) == ["A03"]
        assert await lists.mark_published(s, "A03", april)
        assert not await lists.mark_published(s, "A03", april)
        assert await lists.due_publications(s, april) == []
    assert [o.id for o in grid.open_orders] == [open_id] and grid.open_wishes == []
    assert [o.id for o in grid.done_orders] == [done.id] and len(grid.partners) == 1
    assert len(everyone.open_wishes) == 1
