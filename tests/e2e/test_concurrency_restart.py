"""Racing presses and a killed bot process: nothing overdrawn, nothing confirmed lost.

The restart test runs the bot exactly as deployed (``python -m bot run`` with settings from the
environment) as a child process against the in-process emulator, and kills it with SIGKILL.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from linli_e2e import STAFF_CHAT_ID, WAIT, Bot, Clock, Person, Spawn, bot_processes, running_bot, ticket_number
from sqlalchemy import func
from sqlmodel import col, select

from bot.emulator import BotApiEmulator, Limits
from handlers import texts
from services.points import ledger as points
from storage.db import Database
from storage.models import Draft, PointsEntry, Ticket

NOISE = "楼上天天装修，吵死了，9号楼"
PARKING = "小区门口乱停车"


# -- two redemptions at once ------


async def shop_confirmation(bot: Bot, person: Person, balance: int, item_code: str):
    """The resident's 确认兑换 message for `item_code`, with `balance` points on the ledger."""
    grid = bot.deps.community.grid("A03")
    await person.say("/start g-A03", texts.bound_grid(grid.name, grid.worker_name))  # no barrier: may be concurrent
    resident = await bot.resident(person.id)
    async with bot.db.transaction() as s:
        await points.award(s, resident_id=resident.id, delta=balance, reason="志愿服务", now=bot.clock.now())
    item = bot.deps.community.shop_item(item_code)
    shop = await person.say(texts.MENU_SERVICES)
    shop = await person.click(shop, texts.SERVICE_BUTTONS["svc.shop"])
    return item, await person.click(shop, f"{texts.BTN_REDEEM} {item.name}", lambda m: bool(m.buttons))


async def redemptions(bot: Bot, user_id: int) -> list[PointsEntry]:
    resident = await bot.resident(user_id)
    async with bot.db.session() as s:
        stmt = select(PointsEntry).where(PointsEntry.resident_id == resident.id, PointsEntry.reason == points.REDEEM)
        return list((await s.exec(stmt)).all())


@pytest.mark.parametrize("concurrent_updates", [None, 8], ids=["as-shipped", "8-concurrent-updates"])
async def test_two_redemptions_at_once_only_one_succeeds(
    emulator: BotApiEmulator, tmp_path: Path, clock: Clock, concurrent_updates: int | None
) -> None:
    async with running_bot(emulator, tmp_path / "linli.db", clock, concurrent_updates=concurrent_updates) as bot:
        person = bot.person(3001, "王阿姨")
        item, ask = await shop_confirmation(bot, person, 25, "soap")  # 25 points: one soap (20), not two
        assert ask.text == texts.redeem_ask(item.name, item.cost, 25)
        # a second purchase asked for before the first is confirmed: two different requests
        shop = await person.say(texts.MENU_SERVICES)
        shop = await person.click(shop, texts.SERVICE_BUTTONS["svc.shop"])
        ask2 = await person.click(shop, f"{texts.BTN_REDEEM} {item.name}", lambda m: bool(m.buttons))
        first = await person.press(ask, texts.BTN_REDEEM_YES)
        second = await person.press(ask2, texts.BTN_REDEEM_YES)  # injected back to back, before any answer
        # with concurrent updates a /help barrier proves nothing: wait for both presses to be answered
        await asyncio.gather(first.answer(), second.answer())
        one = await first.reply()
        other = await person.reply(after=one)
        await bot.barrier()
        assert len(person.replies(first.cursor)) == 2
        outcomes = sorted([one.text, other.text])

        assert outcomes == sorted([
            texts.redeemed(item.name, 25 - item.cost),
            texts.REDEEM_REFUSED["insufficient"].format(name=item.name, cost=item.cost, balance=25 - item.cost),
        ])
        assert await bot.balance(3001) == 25 - item.cost >= 0
        assert len(await redemptions(bot, 3001)) == 1


async def test_many_residents_racing_for_the_last_items(emulator: BotApiEmulator, tmp_path: Path,
                                                        clock: Clock) -> None:
    """Stock is shared: 20 bags of rice, 24 residents pressing 确认兑换 at once, 8 updates in flight."""
    async with running_bot(emulator, tmp_path / "linli.db", clock, concurrent_updates=8) as bot:
        item = bot.deps.community.shop_item("rice")
        people = [bot.person(3100 + i, f"居民{i}") for i in range(item.stock + 4)]
        asks = [(await shop_confirmation(bot, p, item.cost, "rice"))[1] for p in people]
        presses = [await p.press(ask, texts.BTN_REDEEM_YES) for p, ask in zip(people, asks, strict=True)]
        replies = [m.text for m in await asyncio.gather(*(p.reply() for p in presses))]
        async with bot.db.session() as s:
            taken = (await s.exec(select(func.count()).where(PointsEntry.reason == points.REDEEM,
                                                              col(PointsEntry.ref).startswith("rice")))).one()
        assert taken == item.stock
        balances = [await bot.balance(p.id) for p in people]  # who wins the race is up to the scheduler
        assert sorted(balances) == [0] * item.stock + [item.cost] * (len(people) - item.stock)
        sold_out = texts.REDEEM_REFUSED["out_of_stock"].format(name=item.name)
        assert replies.count(sold_out) == len(people) - item.stock
        assert replies.count(texts.redeemed(item.name, 0)) == item.stock


async def test_double_tap_on_confirm_redeems_once(bot: Bot) -> None:
    person = bot.person(3002, "王阿姨")
    _, ask = await shop_confirmation(bot, person, 100, "soap")
    first = await person.press(ask, texts.BTN_REDEEM_YES)
    second = await person.press(ask, texts.BTN_REDEEM_YES)
    await asyncio.gather(first.answer(), second.answer())
    await bot.barrier()
    assert len(await redemptions(bot, 3002)) == 1


# -- a restart of the bot process in the middle of a draft ------


@pytest.fixture
async def spawn(emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[Spawn]:
    async with bot_processes(emulator, tmp_path, ["-m", "bot", "run"]) as start:
        yield start


async def tickets_in(db_file: Path) -> list[Ticket]:
    db = Database(f"sqlite+aiosqlite:///{db_file}")
    try:
        async with db.session() as s:
            return list((await s.exec(select(Ticket).order_by(Ticket.id))).all())
    finally:
        await db.dispose()


async def test_a_killed_bot_process_loses_no_draft_and_no_ticket(
    emulator: BotApiEmulator, tmp_path: Path, spawn: Spawn
) -> None:
    emulator.set_limits(Limits.off())
    emulator.group(STAFF_CHAT_ID, "金桂社区工作人员群")
    emulator.user(3003, "王阿姨")
    db_file = tmp_path / "linli.db"

    async def say(text: str, predicate=None):
        cursor = emulator.cursor()
        await emulator.send_text(3003, text)
        return await emulator.wait_for(3003, predicate, after=cursor, timeout=WAIT)

    first_process = await spawn("first")
    await say("/start g-A03", "第三网格")
    confirmation = await say(NOISE)
    cursor = emulator.cursor()
    await emulator.press(3003, confirmation.message_id, confirmation.buttons[0].callback_data)
    first_number = ticket_number((await emulator.wait_for_edit(3003, confirmation.message_id, "LL-", after=cursor,
                                                               timeout=WAIT)).text)

    # a second complaint, shown for confirmation but not confirmed (after the offer to save 9号楼 as home)
    pending = await say(PARKING, lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    assert pending.buttons[0].text == texts.BTN_CONFIRM
    await emulator.wait_for_updates_consumed(timeout=WAIT)  # nothing left for the next process to redo
    first_process.send_signal(signal.SIGKILL)
    assert await first_process.wait() == -signal.SIGKILL

    [ticket] = await tickets_in(db_file)
    assert ticket.number == first_number
    await spawn("second")
    cursor = emulator.cursor()
    await emulator.press(3003, pending.message_id, pending.buttons[0].callback_data)
    # the first number may be edited in once more (it was on its way when the process died): that changes nothing
    opened = await emulator.wait_for_edit(3003, pending.message_id, "LL-", after=cursor, timeout=WAIT)
    assert first_number not in opened.text
    second_number = ticket_number(opened.text)
    staff = await emulator.wait_for(STAFF_CHAT_ID, second_number, after=cursor, timeout=WAIT)

    tickets = await tickets_in(db_file)
    assert [(t.number, t.text) for t in tickets] == [(first_number, NOISE), (second_number, PARKING)]
    assert second_number != first_number and PARKING in staff.text
    db = Database(f"sqlite+aiosqlite:///{db_file}")
    try:
        async with db.session() as s:
            assert (await s.exec(select(func.count()).select_from(Draft))).one() == 0
    finally:
        await db.dispose()


@pytest.fixture
async def paced(emulator: BotApiEmulator, tmp_path: Path, clock) -> AsyncIterator[Bot]:  # type: ignore[no-untyped-def]
    """The bot keeping Telegram's limits itself (30 a second, one a second a chat, 20 a minute a group)."""
    async with running_bot(emulator, tmp_path / "linli.db", clock, paced=True) as running:
        yield running


@pytest.mark.slow
async def test_a_busy_staff_chat_does_not_hold_up_other_residents(paced: Bot) -> None:
    bot = paced
    waiting = [bot.person(3005 + i, f"居民{i}") for i in range(2)]
    pending = [await p.say(PARKING) for p in waiting]  # two drafts awaiting 确认 (the clock stands still)
    busy = bot.person(3004, "王阿姨")
    for building in range(1, 21):  # a group may get 20 messages a minute: this fills the staff chat's budget
        confirmation = await busy.say(f"{building}号楼电梯坏了",
                                      lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
        # 20 buildings: 20 cases, no duplicates. Each press is answered once its case is committed; the numbers
        # (edits of the drafts, owed) come at the sender's pace, one a second into her chat
        await (await busy.press(confirmation, texts.BTN_CONFIRM)).answer()
    assert len(await bot.tickets()) == 20
    before = bot.emulator.cursor()
    presses = [await p.press(c, texts.BTN_CONFIRM) for p, c in zip(waiting, pending, strict=True)]
    other = bot.person(3007, "李大爷")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await other.say("/help")  # a resident who only wants help, queued behind two more tickets
    waited = loop.time() - started
    await asyncio.gather(*(p.answer() for p in presses))
    assert waited < 1.0, f"/help took {waited:.1f}s"
    # the staff chat's minute is used up, so the two new cards wait for it; the two residents' numbers do not
    for person, draft in zip(waiting, pending, strict=True):
        await bot.emulator.wait_for_edit(person.id, draft.message_id, "LL-", after=before, timeout=10)
    # nor does the number of someone who confirms while those cards wait for the staff chat
    late = bot.person(3008, "赵奶奶")
    draft = await late.say(PARKING)
    before = bot.emulator.cursor()
    started = loop.time()
    await (await late.press(draft, texts.BTN_CONFIRM)).answer()
    await bot.emulator.wait_for_edit(late.id, draft.message_id, "LL-", after=before, timeout=10)
    told = loop.time() - started
    assert told < 5, f"the number took {told:.1f}s behind a busy staff chat"
