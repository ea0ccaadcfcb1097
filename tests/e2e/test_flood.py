"""Flood control through the emulator: one resident's fifty messages in ten seconds, and everyone else meanwhile.

The bot runs with flood control on (the other e2e tests turn it off, as they turn the emulator's limits off):
eight messages per ten seconds, three complaints confirmed per window.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from linli_e2e import WAIT, Bot, Clock, Person, running_bot
from sqlmodel import select

from bot.emulator import BotApiEmulator
from handlers import texts
from storage.models import Draft, Ticket, TicketEvent

LIMITS = {"flood_messages": 8, "flood_window_seconds": 10, "flood_drafts": 3}


def confirmable(m) -> bool:  # type: ignore[no-untyped-def]
    """A draft shown: one matter (确认提交), or two (another kind typed while the first waited)."""
    return any(b.text in (texts.BTN_CONFIRM, texts.BTN_SUBMIT_TWO) for b in m.buttons)


@pytest.fixture
async def guarded(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> AsyncIterator[Bot]:
    async with running_bot(emulator, tmp_path / "linli.db", clock, **LIMITS) as running:
        yield running


@pytest.fixture
async def guarded_paced(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> AsyncIterator[Bot]:
    """Flood control on, and the bot keeping Telegram's limits itself (one message a second a chat)."""
    async with running_bot(emulator, tmp_path / "linli.db", clock, paced=True, **LIMITS) as running:
        yield running


async def round_trip(person: Person, text: str = "/help") -> float:
    loop = asyncio.get_running_loop()
    began = loop.time()
    await person.say(text)
    return loop.time() - began


async def baseline(person: Person, n: int = 5) -> float:
    return statistics.median([await round_trip(person) for _ in range(n)])


def slow_downs(bot: Bot, user_id: int) -> int:
    return sum(1 for m in bot.emulator.messages_to(user_id) if m.body == texts.FLOOD_SLOW_DOWN)


async def rows_of(bot: Bot, user_id: int) -> tuple[int, int, int]:
    """(cases, drafts, cases without their events) of one resident."""
    resident = await bot.resident(user_id)
    assert resident is not None
    async with bot.db.session() as s:
        cases = list((await s.exec(select(Ticket).where(Ticket.resident_id == resident.id))).all())
        drafts = len((await s.exec(select(Draft).where(Draft.resident_id == resident.id))).all())
        bare = 0
        for t in cases:
            if not (await s.exec(select(TicketEvent).where(TicketEvent.ticket_id == t.id))).first():
                bare += 1
    return len(cases), drafts, bare


async def test_fifty_messages_in_ten_seconds_get_one_slow_down_and_at_most_the_configured_cases(
        guarded: Bot) -> None:
    """A resident types a complaint and confirms it, again and again, then keeps typing: fifty messages within
    ten seconds. The fourth 确认 waits (an alert, the draft kept), the ninth message gets the one slow-down and
    no other message past it is answered; a neighbour writing meanwhile is answered as fast as before."""
    bot = guarded
    other = bot.person(4102, "李大爷")
    normal = await baseline(other)
    flooder = bot.person(4101, "赵大爷")
    loop = asyncio.get_running_loop()
    began = loop.time()
    refused = None
    for building in range(1, 5):  # message, 确认 — a fast hand, and a script could be faster
        card = await flooder.say(f"{building}号楼电梯坏了，困了好几次", confirmable)
        pressed = await flooder.press(card, texts.BTN_CONFIRM)
        answer = await pressed.answer()
        if answer.text == texts.FLOOD_CONFIRM_LATER:
            refused = card
            assert answer.show_alert
    assert refused is not None, "the fourth 确认 in the window should wait"
    cursor = bot.emulator.cursor()
    for i in range(46):  # the rest as fast as a client can send them
        await bot.emulator.send_text(4101, f"{i % 9 + 1}号楼门口垃圾没人清{'！' * (i % 3)}")
    sent_in = loop.time() - began
    during = [await round_trip(other) for _ in range(3)]
    await bot.barrier()
    assert sent_in < 10, f"the fifty messages took {sent_in:.1f}s"
    assert slow_downs(bot, 4101) == 1
    answered = [m for m in flooder.replies(cursor) if confirmable(m)]  # each message let through shows the draft
    assert 1 <= len(answered) <= LIMITS["flood_messages"] - 4  # four of the eight went on the complaints above
    cases, drafts, bare = await rows_of(bot, 4101)
    assert cases == LIMITS["flood_drafts"] and drafts <= 1 and bare == 0
    assert max(during) <= normal + 1.0, f"a neighbour waited {max(during):.2f}s (normally {normal:.2f}s)"
    print(f"\nflood: 50 messages in {sent_in:.2f}s; neighbour /help normally {normal * 1000:.0f} ms, "
          f"during the flood {[round(t * 1000) for t in during]} ms; {len(answered)} answered past the first four")
    # the waiting draft was not lost: after the window, the same 确认 opens it
    bot.clock.advance(seconds=LIMITS["flood_window_seconds"] + 1)
    pressed = await flooder.press(refused, texts.BTN_CONFIRM)
    number = await pressed.edit("LL-")  # the draft edited into the case's number
    assert "LL-" in number.body
    await bot.barrier()
    assert (await rows_of(bot, 4101))[0] == LIMITS["flood_drafts"] + 1


async def test_an_album_counts_once_and_staff_are_not_held_back(guarded: Bot) -> None:
    bot = guarded
    resident = bot.person(4201, "王阿姨")
    cursor = bot.emulator.cursor()
    for _ in range(4):  # four albums of eight photos: 32 updates, four messages
        await bot.emulator.send_album(4201, 8)
    await bot.barrier()
    assert slow_downs(bot, 4201) == 0
    assert len(resident.replies(cursor)) >= 4
    staff = bot.person(4202, "张主任")
    await bot.grant(4202, "staff", "juweihui")
    for _ in range(20):
        await bot.emulator.send_text(4202, "/help")
    await bot.barrier()
    assert slow_downs(bot, 4202) == 0
    help_ = texts.staff_help(desk_chat=False, staff=True, grid_worker=False, supervisor=False, admin=False)
    assert sum(1 for m in staff.replies(0) if m.body == help_) == 20  # staff get their own /help


async def test_an_emergency_goes_on_in_the_middle_of_a_flood(guarded: Bot) -> None:
    bot = guarded
    for _ in range(12):
        await bot.emulator.send_text(4301, "你好")
    await bot.emulator.send_text(4301, "我爸摔倒了起不来")
    await bot.barrier()
    assert slow_downs(bot, 4301) == 1
    async with bot.db.session() as s:
        emergencies = (await s.exec(select(Ticket).where(Ticket.emergency))).all()
    assert len(emergencies) == 1


@pytest.mark.slow
async def test_two_floods_under_real_pacing_do_not_hold_up_a_neighbour(guarded_paced: Bot) -> None:
    """A hundred and twenty updates from two residents at once (more than the bot handles at a time), the bot
    keeping Telegram's one-a-second per chat: a neighbour's /help is still answered within a second of normal."""
    bot = guarded_paced
    neighbours = [bot.person(4410 + i, f"邻居{i}") for i in range(6)]  # one message each: their own chat's pace
    normal = statistics.median([await round_trip(p) for p in neighbours[:3]])  # is no part of the measure
    cursor = bot.emulator.cursor()
    for i in range(60):
        for user in (4401, 4403):
            await bot.emulator.send_text(user, f"{i % 9 + 1}号楼楼道灯坏了")
    seen: object = cursor
    for _ in range(3):  # a chat's burst is three: from here each flooder's next reply waits for its own chat
        seen = await bot.emulator.wait_for(4401, None, after=seen, timeout=WAIT)  # type: ignore[arg-type]
    during = [await round_trip(p) for p in neighbours[3:]]
    async with asyncio.timeout(3 * WAIT):
        await bot.barrier()
    assert slow_downs(bot, 4401) == 1 and slow_downs(bot, 4403) == 1
    assert max(during) <= normal + 1.0, f"a neighbour waited {max(during):.2f}s (normally {normal:.2f}s)"
    print(f"\npaced floods: neighbour /help normally {normal * 1000:.0f} ms, "
          f"during {[round(t * 1000) for t in during]} ms")


async def test_a_typed_yes_meets_the_same_cap_as_the_button(guarded: Bot) -> None:
    """确认 typed instead of pressed counts against the same window: the fourth waits, its draft kept."""
    person = guarded.person(4103, "钱阿姨")
    answers = []
    for building in range(1, 5):
        shown = await person.say(f"{building}号楼楼道灯不亮了", confirmable)
        cursor = await person.send("确认")
        if building < 4:  # the draft itself becomes the number, as when 确认提交 is pressed
            answers.append((await guarded.emulator.wait_for_edit(4103, shown.message_id, "LL-", after=cursor,
                                                                 timeout=WAIT)).text)
        else:
            answers.append((await person.reply(after=cursor)).text)
    assert all("LL-" in a for a in answers[:3])
    assert answers[3] == texts.FLOOD_CONFIRM_LATER
    assert len(await guarded.tickets(4103)) == 3
    assert await guarded.draft(4103) is not None  # kept for later
