"""A desk whose unit and escalation chats are all the staff chat (the demo's setup): when many cases run out of
time at once each case's escalation cards are combined into one message, each case once, recorded once, and the
staff chat keeps getting what comes next. Reproduces a trial of ``make run``: nine cases, ``/clock +15d``."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from linli_e2e import LEVEL_CHATS, STAFF_CHAT_ID, UNIT_CHATS, WAIT, Bot, Clock, registered, running_bot, ticket_number
from sqlmodel import select

from bot import jobs
from bot.emulator import BotApiEmulator
from handlers import texts
from storage.models import OutboxMessage, OutboxStatus, TicketPost

COMPLAINTS = [
    "9号楼门口垃圾堆了好几天没人清",
    "楼上天天装修，吵死了，9号楼",
    "3号楼电梯坏了两天了没人修",
    "5号楼楼道灯不亮，晚上很黑",
    "7号楼下水道堵了，味道很大",
    "2号楼门口有人乱停车，堵住消防通道",
    "6号楼楼道里堆满了杂物没人管",
    "8号楼门口垃圾桶满了好几天没人倒",
    "4号楼单元门门禁坏了，谁都能进",
]


def every_chat_the_staff_chat(tmp_path: Path) -> Path:
    """The sample community file with every unit's and every escalation level's chat set to the staff chat."""
    from linli_e2e import community_with_chats

    text = community_with_chats(tmp_path).read_text(encoding="utf-8")
    for chat in (*UNIT_CHATS.values(), *LEVEL_CHATS.values()):
        text = text.replace(f"chat_id = {chat}\n", f"chat_id = {STAFF_CHAT_ID}\n")
    path = tmp_path / "one_chat.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(params=["fallback", "configured"])
async def one_chat(request: pytest.FixtureRequest, emulator: BotApiEmulator, tmp_path: Path,
                   clock: Clock) -> AsyncIterator[Bot]:
    """The bot whose desks are all the staff chat: no unit or level chat set (they fall back to it, as in the
    demo), or each set to it."""
    extra = {"community_file": every_chat_the_staff_chat(tmp_path)} if request.param == "configured" else {}
    async with running_bot(emulator, tmp_path / "linli.db", clock, **extra) as running:
        yield running


async def outbox_rows(bot: Bot) -> Counter[OutboxStatus]:
    async with bot.db.session() as s:
        return Counter(r.status for r in (await s.exec(select(OutboxMessage))).all())


async def open_by_chat(bot: Bot, user_id: int, text: str) -> str:
    person = await registered(bot, user_id, f"居民{user_id % 100}")
    draft = await person.say(text, lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    receipt = await person.confirm(draft)
    return ticket_number(receipt.body)


async def test_escalation_cards_for_one_chat_are_combined_once_each_and_the_queue_goes_on(one_chat: Bot) -> None:
    bot = one_chat
    numbers = [await open_by_chat(bot, 4101 + i, text) for i, text in enumerate(COMPLAINTS)]
    await bot.barrier()
    cursor = bot.emulator.cursor()
    bot.clock.advance(days=15)  # the console's /clock +15d: every case is past its time to sign and to finish
    report = await jobs.sweep_tick(bot.app)
    assert len({e.ticket_id for e in report.escalations}) == len(numbers)
    assert len(report.escalations) > len(numbers)  # more than one escalation card for a case, all to one chat
    async with asyncio.timeout(WAIT):
        while (await outbox_rows(bot))[OutboxStatus.PENDING]:  # noqa: ASYNC110 (the sender's table)
            await asyncio.sleep(0.05)
    assert (await outbox_rows(bot))[OutboxStatus.FAILED] == 0
    combined = [m for m in bot.staff_messages(cursor) if m.body.startswith("🆕 新工单")]
    assert combined, "the backlog was not combined"
    for message in combined:
        listed = Counter(re.findall(r"LL-\d{8}-\d{4}", message.body))
        assert max(listed.values()) == 1, message.body  # each case once per message …
        assert message.body.startswith(f"🆕 新工单 {len(listed)} 件")  # … and counted once
        assert len(message.buttons) <= 2 * len(listed)
    assert {n for m in combined for n in re.findall(r"LL-\d{8}-\d{4}", m.body)} == set(numbers)
    async with bot.db.session() as s:  # each case recorded once under the combined message (replies find it)
        posts = (await s.exec(select(TicketPost).where(TicketPost.chat_id == STAFF_CHAT_ID,
                                                        TicketPost.batch == True))).all()  # noqa: E712
    assert Counter((p.message_id, p.ticket_id) for p in posts).most_common(1)[0][1] == 1
    assert len(posts) == sum(len(set(re.findall(r"LL-\d{8}-\d{4}", m.body))) for m in combined)
    # the staff chat still gets what comes next: a tenth case's card
    bot.clock.advance(minutes=5)
    later = bot.emulator.cursor()
    number = await open_by_chat(bot, 4199, "1号楼门口的垃圾桶满了没人倒")
    card = await bot.emulator.wait_for(STAFF_CHAT_ID, number, after=later, timeout=WAIT)
    assert card.buttons
    await bot.barrier()
    assert (await outbox_rows(bot))[OutboxStatus.FAILED] == 0
    assert timedelta(0) < bot.clock.now() - bot.clock.now().replace(hour=0)  # the clock is still the test's
