"""A realistic month of cases for trials of the desk's figures: March 2026 in 金桂社区, the clock moved hour by hour,
the desk's tick run as it would be (reminders, escalations, 回访, reports), never a sleep.

Cases come in on working days (more on Mondays), from Telegram residents and recorded from calls; most are signed
within the hour and resolved in a day or three, some are signed late, some resolved late, a few asked 需补充, one
reassigned; residents rate most resolved cases (a few 不满意), others never answer (未评价). Everything goes through
the services with ``now`` set, the same calls the handlers make, and the tick owes the cards and pushes the bot sends.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from linli_e2e import LI, ZHANG, Bot

from bot import jobs
from handlers import cards
from services import SHANGHAI
from services.cases import followup, intake, lifecycle
from services.cases.events import staff_actor
from services.people import residents
from storage.models import Channel, Rating, Ticket, TicketStatus

S = TicketStatus
START = datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)  # a Monday
END = datetime(2026, 3, 31, 18, 0, tzinfo=SHANGHAI)
# (words, place, category): what people in 金桂社区 write about
MATTERS = [
    ("楼上天天装修，电钻声从早到晚", "9号楼", "noise"),
    ("广场舞音响太吵了，晚上九点多还在放", "5号楼", "noise"),
    ("楼道灯坏了好几天，晚上看不见", "2号楼", "repair"),
    ("电梯又坏了，老人上下楼很困难", "14号楼", "repair"),
    ("小区门口乱停车，消防通道被堵了", "金桂路沿街商铺", "parking"),
    ("垃圾桶满了没人清理，味道很大", "17号楼", "sanitation"),
    ("楼下饭店油烟很大，窗户都不敢开", "21号楼", "other"),
    ("邻居家漏水渗到我家天花板了，沟通不了", "10号楼", "dispute"),
    ("家里突然停水了，也没有通知", "6号楼", "utilities"),
    ("物业费收了，绿化没人管，草长得很高", "3号楼", "property"),
]
STAFF = (ZHANG, LI)


@dataclass
class Month:
    """What was made, for the trial to look at: every case, by what happened to it."""

    numbers: list[str] = field(default_factory=list)
    fate: dict[str, str] = field(default_factory=dict)
    residents: list[int] = field(default_factory=list)


Action = Callable[[], Awaitable[None]]


async def seed(desk: Bot, *, until: datetime = END, seed_: int = 12) -> Month:
    """March 2026, hour by hour up to ``until``; returns what was made. The bot's clock ends at ``until``."""
    rng = random.Random(seed_)
    d = desk.deps
    month = Month()
    plans: list[tuple[datetime, int, Action]] = []  # (when, order, what)
    order = 0

    def later(when: datetime, act: Action) -> None:
        nonlocal order
        order += 1
        plans.append((when, order, act))

    async def move(number: str, *steps: tuple[TicketStatus, str | None]) -> None:
        async with d.db.transaction() as s:
            t = await _by_number(s, number)
            for to, words in steps:
                if t.status is S.PENDING_INFO and to is not S.PENDING_INFO:
                    await lifecycle.answer_info(s, t, actor=staff_actor(LI), now=d.now(), note=words)
                    continue
                r = await lifecycle.transition(s, t, to, actor=staff_actor(rng.choice(STAFF)), now=d.now(),
                                               result=words if to is S.RESOLVED else None,
                                               note=words if to is S.PENDING_INFO else None)
                if not r.ok:
                    return
            await cards.owe_refresh(s, d, t)

    async def rate(number: str, rating: Rating) -> None:
        async with d.db.transaction() as s:
            t = await _by_number(s, number)
            if t.status is S.RESOLVED:
                await followup.rate(s, t, rating, "还行" if rating is Rating.BASICALLY_SATISFIED else None, d.now(),
                                    community=d.community)
                await cards.owe_refresh(s, d, t)

    for day in range(30):
        base = START + timedelta(days=day)
        if base.weekday() >= 5 or base > until:
            continue
        for _ in range(3 if base.weekday() == 0 else rng.choice((1, 1, 2, 2))):
            at = base + timedelta(hours=rng.randint(1, 9), minutes=rng.randint(0, 59))
            later(at, _opener(desk, rng, month, later, move, rate))
    plans.sort(key=lambda p: (p[0], p[1]))
    clock_at = START
    while plans and plans[0][0] <= until:
        when, _, act = plans.pop(0)
        clock_at = await _tick_until(desk, clock_at, when)
        desk.clock.value = when
        await act()
        d.wake_sender()
        plans.sort(key=lambda p: (p[0], p[1]))
    await _tick_until(desk, clock_at, until)
    desk.clock.value = until
    await desk.barrier()
    return month


async def _tick_until(desk: Bot, since: datetime, until: datetime) -> datetime:
    """The desk's tick every three hours from ``since`` to ``until`` (what the minute job would have done)."""
    at = since
    while at + timedelta(hours=3) <= until:
        at += timedelta(hours=3)
        desk.clock.value = at
        await jobs.desk_tick(desk.app)
    return at


async def _by_number(s, number: str) -> Ticket:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    return (await s.exec(select(Ticket).where(Ticket.number == number))).one()


def _opener(desk: Bot, rng: random.Random, month: Month, later, move, rate) -> Action:  # type: ignore[no-untyped-def]
    text, place, category = rng.choice(MATTERS)
    fate = rng.choices(["prompt", "late_sign", "late_done", "open", "overdue", "info", "unsat", "silent"],
                       weights=[40, 8, 8, 6, 6, 5, 5, 12])[0]
    by_phone = rng.random() < 0.25

    async def open_() -> None:
        d = desk.deps
        now = d.now()
        building = place if place.endswith("号楼") else None
        grid = d.community.grid_for_building(place)
        async with d.db.transaction() as s:
            if by_phone:
                person = await residents.offline_resident(s, name="刘阿姨", phone=f"1390000{rng.randint(1000, 9999)}",
                                                          building=building, grid_code=grid.code if grid else None,
                                                          now=now)
                case = intake.Intake(category=category, text=text, location=place, channel=Channel.PHONE,
                                     grid_code=grid.code if grid else None, recorded_by=ZHANG,
                                     contact_name="刘阿姨", contact_phone=person.phone)
            else:
                uid = 40_000 + len(month.residents)
                month.residents.append(uid)
                desk.person(uid, "居民")
                person = await residents.get_or_create_resident(s, tg_user_id=uid, name=f"居民{uid % 1000}", now=now)
                person.grid_code, person.building = (grid.code if grid else None), building
                s.add(person)
                case = intake.Intake(category=category, text=text, location=place,
                                     grid_code=grid.code if grid else None)
            opened = await intake.open_case(s, resident=person, intake=case, community=d.community,
                                            staff_chat_id=d.staff_chat_id, now=now)
            number = opened.ticket.number
        month.numbers.append(number)
        month.fate[number] = fate
        now = desk.clock.now()
        hours = timedelta(hours=1)
        if fate == "open":
            later(now + rng.randint(10, 50) * timedelta(minutes=1), lambda: move(number, (S.SIGNED, None)))
            return
        if fate == "overdue":
            return  # nobody signs it: the sweep warns, then escalates
        sign = now + (rng.randint(30, 72) * hours if fate == "late_sign" else rng.randint(5, 50) * timedelta(minutes=1))
        later(sign, lambda: move(number, (S.SIGNED, None)))
        if fate == "info":
            later(sign + hours, lambda: move(number, (S.PENDING_INFO, "请问具体是几单元？")))
            later(sign + 20 * hours, lambda: move(number, (S.SIGNED, "2单元")))
        done = sign + (rng.randint(8, 15) * 24 * hours if fate == "late_done" else rng.randint(3, 60) * hours)
        later(done, lambda: move(number, (S.IN_PROGRESS, None), (S.RESOLVED, "已处理，请居民查看。")))
        if fate == "silent" or by_phone:
            return  # nobody rates: 未评价 when the window closes
        rating = Rating.UNSATISFIED if fate == "unsat" else rng.choice(
            [Rating.SATISFIED, Rating.SATISFIED, Rating.BASICALLY_SATISFIED])
        later(done + 30 * hours, lambda: rate(number, rating))

    return open_


__all__ = ["END", "START", "Month", "seed"]
