"""A confirmed case is never invisible to its resident or its desk, whatever Telegram or the process does.

5xx answers and dropped connections on the number and on the card, a kill -9 right after the commit, a kill -9
with fifty cards waiting, an update that does not parse: after each, every resident is told their number and
every card is posted (at most the one message that was in flight twice), and the next resident is answered.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from linli_e2e import (
    STAFF_CHAT_ID,
    WAIT,
    Bot,
    Spawn,
    bot_processes,
    registered,
)
from sqlmodel import func, select

from bot.emulator import BotApiEmulator, Limits
from handlers import texts
from services import outbox
from services.cases import intake
from services.community.model import load_community
from services.people.residents import get_or_create_resident
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, Ticket

RETRY_WAIT = 30.0  # backoff 2 s, 4 s, 8 s …: a few retries fit well within this


def told(emulator: BotApiEmulator, user_id: int, number: str) -> int:
    """How many times the resident got their case's number."""
    return sum(1 for m in emulator.messages_to(user_id) if number in m.body and m.body.startswith("✅ 已受理"))


def cards(emulator: BotApiEmulator, chat_id: int, number: str) -> int:
    """How many messages in the desk chat carry the case (its own card, or a combined one)."""
    return sum(1 for m in emulator.messages_to(chat_id) if number in m.body and m.buttons)


async def confirm(bot: Bot, user_id: int, fault: Callable[[], object],
                  text: str = "9号楼门口垃圾堆了好几天没人清") -> None:
    """A resident's complaint up to its preview, then ``fault`` set on the emulator, then 确认提交. The resident
    lives in 9号楼 (so no other message but the owed ones follows the press)."""
    person = bot.person(user_id, "王阿姨")
    ask = await person.say("/start", texts.ASK_BUILDING)
    age = await person.click(ask, "9号楼", texts.ASK_AGE)
    await person.press(age, texts.BTN_SKIP)
    draft = await person.say(text, lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    await bot.barrier()
    fault()
    await person.press(draft, texts.BTN_CONFIRM)


async def number_of(bot: Bot, user_id: int) -> str:
    async with asyncio.timeout(WAIT):
        while not (found := await bot.tickets(user_id)):  # noqa: ASYNC110 (polling a database another task or process writes)
            await asyncio.sleep(0.05)
    return found[0].number


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_on_the_number_and_the_card_are_retried_once_through(bot: Bot, status: int) -> None:
    await confirm(bot, 2401, lambda: (bot.emulator.fail("editMessageText", status, times=2),  # the number (an edit
                                      bot.emulator.fail("sendMessage", status, times=2)))  # of the draft), the card
    number = await number_of(bot, 2401)
    async with asyncio.timeout(RETRY_WAIT):
        await bot.barrier()
    assert told(bot.emulator, 2401, number) == 1
    assert cards(bot.emulator, STAFF_CHAT_ID, number) == 1


async def test_a_dropped_connection_before_telegram_took_it_is_retried_once_through(bot: Bot) -> None:
    await confirm(bot, 2402, lambda: (bot.emulator.drop("editMessageText", times=2),
                                      bot.emulator.drop("sendMessage", times=2)))
    number = await number_of(bot, 2402)
    async with asyncio.timeout(RETRY_WAIT):
        await bot.barrier()
    assert told(bot.emulator, 2402, number) == 1
    assert cards(bot.emulator, STAFF_CHAT_ID, number) == 1


async def test_an_answer_lost_after_telegram_took_it_repeats_the_message_at_most_once(bot: Bot) -> None:
    # delivered, but the bot never hears so: the number (an edit of the draft) and the card (a new message)
    await confirm(bot, 2403, lambda: (bot.emulator.drop("editMessageText", times=1, after_recording=True),
                                      bot.emulator.drop("sendMessage", times=1, after_recording=True)))
    number = await number_of(bot, 2403)
    async with asyncio.timeout(RETRY_WAIT):
        await bot.barrier()
    # the number is an edit of the draft: done again it changes nothing, so the resident sees it once (it used to be
    # a new message, which came twice); the card went first and may come twice: the in-flight bound
    assert told(bot.emulator, 2403, number) == 1
    assert 1 <= cards(bot.emulator, STAFF_CHAT_ID, number) <= 2
    async with bot.db.session() as s:
        left = (await s.exec(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.status != OutboxStatus.SENT))).one()
    assert left == 0


async def test_an_update_that_does_not_parse_is_skipped_and_polling_goes_on(bot: Bot) -> None:
    from bot.updates import Skipped

    before = Skipped.count
    bad = bot.emulator.inject_raw_update({"message": {"message_id": 1, "from": 1.5, "chat": "?", "text": "x"}})
    person = await registered(bot, 2404)  # the next resident, after it
    reply = await person.say("下次理发是哪天")
    assert "爱心义剪" in reply.text
    await bot.emulator.wait_for_updates_consumed(timeout=5)  # the offset moved past it (the poll after the reply)
    assert bot.emulator.pending_updates == 0 and bad > 0
    assert Skipped.count == before + 1  # one line and one count, however often the update is asked for


# -- killed processes ------


@pytest.fixture
async def spawn(emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[Spawn]:
    emulator.set_limits(Limits.off())
    emulator.group(STAFF_CHAT_ID, "金桂社区工作人员群")
    async with bot_processes(emulator, tmp_path, ["-m", "bot", "run"]) as start:
        yield start


async def rows(db_file: Path) -> tuple[list[Ticket], int]:
    db = Database(f"sqlite+aiosqlite:///{db_file}")
    try:
        async with db.session() as s:
            tickets = list((await s.exec(select(Ticket).order_by(Ticket.id))).all())
            return tickets, await outbox.pending(s)
    finally:
        await db.dispose()


async def test_kill_9_right_after_the_commit_loses_neither_the_number_nor_the_card(
        emulator: BotApiEmulator, tmp_path: Path, spawn: Spawn) -> None:
    emulator.user(2405, "王阿姨")
    first = await spawn("first")
    cursor = emulator.cursor()
    await emulator.send_text(2405, "/start g-A03")
    await emulator.wait_for(2405, "第三网格", after=cursor, timeout=WAIT)
    draft = await emulator.send_text(2405, "9号楼门口垃圾堆了好几天没人清")
    confirmation = await emulator.wait_for(2405, lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons),
                                           after=cursor, timeout=WAIT)
    assert draft
    emulator.fail("sendMessage", 500, times=1000)  # nothing owed goes out before the kill
    emulator.fail("editMessageReplyMarkup", 500, times=1000)
    emulator.fail("editMessageText", 500, times=1000)  # the number comes as an edit of the draft
    await emulator.press(2405, confirmation.message_id,
                         next(b for b in confirmation.buttons if b.text == texts.BTN_CONFIRM).callback_data)
    async with asyncio.timeout(WAIT):
        while not (await rows(tmp_path / "linli.db"))[0]:  # noqa: ASYNC110 (polling a database another task or process writes)
            await asyncio.sleep(0.05)
    await emulator.wait_for_updates_consumed(timeout=WAIT)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    [ticket], pending = await rows(tmp_path / "linli.db")
    assert pending >= 2 and told(emulator, 2405, ticket.number) == 0  # the number and the card wait
    emulator.clear_faults()
    await spawn("second")
    async with asyncio.timeout(RETRY_WAIT):
        await emulator.wait_for(2405, ticket.number, after=cursor, timeout=RETRY_WAIT)
        await emulator.wait_for(STAFF_CHAT_ID, ticket.number, after=cursor, timeout=RETRY_WAIT)
        while (await rows(tmp_path / "linli.db"))[1]:  # noqa: ASYNC110 (polling a database another task or process writes)
            await asyncio.sleep(0.1)
    assert told(emulator, 2405, ticket.number) == 1
    assert cards(emulator, STAFF_CHAT_ID, ticket.number) == 1


BACKLOG = 50
PROBLEMS = [("repair", "楼道灯坏了好几天"), ("sanitation", "门口垃圾堆满没人清"), ("parking", "车库门口有车乱停堵路"),
            ("property", "物业费乱收费"), ("utilities", "家里停水了")]


async def owe_backlog(db_file: Path) -> list[str]:
    """Fifty cases confirmed at once, as the bot would have taken them: tickets and their owed rows committed."""
    db = Database(f"sqlite+aiosqlite:///{db_file}")
    await db.migrate_async()
    community = load_community(None)
    numbers = []
    try:
        now = datetime.now(UTC)
        async with db.transaction() as s:
            for i in range(BACKLOG):  # ten buildings × five different problems: no two are duplicates
                r = await get_or_create_resident(s, tg_user_id=5000 + i, name=f"居民{i}", now=now)
                category, problem = PROBLEMS[i // 10]
                case = intake.Intake(category=category, text=f"{i % 10 + 1}号楼{problem}",
                                     location=f"{i % 10 + 1}号楼")
                opened = await intake.open_case(s, resident=r, intake=case, community=community,
                                                staff_chat_id=STAFF_CHAT_ID, now=now)
                assert not opened.linked
                numbers.append(opened.ticket.number)
    finally:
        await db.dispose()
    return numbers


@pytest.mark.slow
async def test_kill_9_with_fifty_cards_waiting_posts_every_card_after_the_restart(
        emulator: BotApiEmulator, tmp_path: Path) -> None:
    """Real group limits this time (20 a minute): the backlog is combined so no case waits a minute; killed in
    the middle, the restarted bot posts the rest and every resident hears their number once (one in flight may
    repeat)."""
    emulator.set_limits(Limits())
    emulator.group(STAFF_CHAT_ID, "金桂社区工作人员群")
    for i in range(BACKLOG):
        emulator.user(5000 + i, f"居民{i}")
    numbers = await owe_backlog(tmp_path / "linli.db")
    async with bot_processes(emulator, tmp_path, ["-m", "bot", "run"]) as start:
        first = await start("first")
        await emulator.wait_for(STAFF_CHAT_ID, lambda m: bool(m.buttons), timeout=WAIT)  # the first card is out
        await asyncio.sleep(1.0)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        posted_before = sum(1 for n in numbers if cards(emulator, STAFF_CHAT_ID, n))
        await start("second")
        async with asyncio.timeout(90):
            while (await rows(tmp_path / "linli.db"))[1]:  # noqa: ASYNC110 (another process's database)
                await asyncio.sleep(0.2)
    assert posted_before < BACKLOG  # the kill really came in the middle
    missing = [n for n in numbers if not cards(emulator, STAFF_CHAT_ID, n)]
    assert missing == []
    posts = [m for m in emulator.messages_to(STAFF_CHAT_ID) if m.buttons]
    assert len(posts) <= BACKLOG // 2  # combined: far fewer messages than cases
    twice = [n for n in numbers if cards(emulator, STAFF_CHAT_ID, n) > 1]
    assert len(twice) <= 10  # a combined message in flight at the kill (one send, up to ten cases) may repeat
    for i, n in enumerate(numbers):
        assert 1 <= told(emulator, 5000 + i, n) <= 2
    assert sum(told(emulator, 5000 + i, n) for i, n in enumerate(numbers)) <= BACKLOG + 1
    # paced to Telegram's limits; the groups' minute is remembered across the restart (from the outbox), the last
    # second of private sends is not: a number resent at once may meet one 429, and is sent after retry_after
    assert emulator.stats.too_many_requests <= 2


async def test_after_the_case_is_saved_a_failing_reply_never_asks_the_resident_to_try_again(bot: Bot) -> None:
    """The button's answer and the draft's edit fail after the commit: the number still comes, no "请稍后再试"."""
    def fault() -> None:
        bot.emulator.fail("answerCallbackQuery", 500, times=5)
        bot.emulator.fail("editMessageReplyMarkup", 500, times=5)

    await confirm(bot, 2406, fault)
    number = await number_of(bot, 2406)
    async with asyncio.timeout(RETRY_WAIT):
        await bot.barrier()
    assert told(bot.emulator, 2406, number) == 1
    assert all(m.body != texts.ERROR for m in bot.emulator.messages_to(2406))
    bot.emulator.clear_faults()


@pytest.mark.slow
async def test_a_graceful_stop_with_a_backlog_finishes_within_ten_seconds(
        emulator: BotApiEmulator, tmp_path: Path) -> None:
    """Fifty cards waiting under Telegram's real limits: SIGTERM ends the process in under ten seconds, and what
    was not sent is sent by the next start."""
    emulator.set_limits(Limits())
    emulator.group(STAFF_CHAT_ID, "金桂社区工作人员群")
    for i in range(BACKLOG):
        emulator.user(5000 + i, f"居民{i}")
    numbers = await owe_backlog(tmp_path / "linli.db")
    async with bot_processes(emulator, tmp_path, ["-m", "bot", "run"]) as start:
        first = await start("first")
        await emulator.wait_for(STAFF_CHAT_ID, lambda m: bool(m.buttons), timeout=WAIT)
        loop = asyncio.get_running_loop()
        began = loop.time()
        first.send_signal(signal.SIGTERM)
        await asyncio.wait_for(first.wait(), 15)
        stopped = loop.time() - began
        await start("second")
        async with asyncio.timeout(90):
            while (await rows(tmp_path / "linli.db"))[1]:  # noqa: ASYNC110 (another process's database)
                await asyncio.sleep(0.2)
    assert stopped < 10.0, f"the stop took {stopped:.1f} s"
    assert [n for n in numbers if not cards(emulator, STAFF_CHAT_ID, n)] == []
