"""The emulator's native polls: sendPoll and stopPoll as python-telegram-bot sends them, a user's answers arriving
as poll_answer and poll updates, and Telegram's refusals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, Update
from telegram.error import BadRequest
from telegram.ext import Application, ApplicationBuilder, ContextTypes, PollAnswerHandler, PollHandler

from bot.emulator import BotApiEmulator

TOKEN = "123456:TEST-TOKEN"
RESIDENT, OTHER = 1001, 1002


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN) as emulator:
        emulator.user(RESIDENT, "王阿姨")
        emulator.user(OTHER, "李大爷")
        yield emulator


def make_bot(emu: BotApiEmulator) -> Bot:
    return Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url)


async def test_send_poll_is_recorded_with_its_options(emu: BotApiEmulator) -> None:
    async with make_bot(emu) as bot:
        sent = await bot.send_poll(RESIDENT, "空地做什么？", ["健身器材", "停车位"], is_anonymous=False)
    assert sent.poll is not None and sent.poll.question == "空地做什么？" and not sent.poll.is_anonymous
    assert [o.text for o in sent.poll.options] == ["健身器材", "停车位"]
    recorded = emu.last_to(RESIDENT)
    assert recorded.method == "sendPoll" and recorded.poll["id"] == sent.poll.id and recorded.body == ""
    assert emu.poll_of(RESIDENT, sent.message_id)["total_voter_count"] == 0


@pytest.mark.parametrize(("question", "options", "error"), [
    ("", ["甲", "乙"], "question must be non-empty"),
    ("问" * 301, ["甲", "乙"], "question length"),
    ("问题", ["甲"], "at least 2 option"),
    ("问题", [str(i) for i in range(13)], "more than 12 options"),
    ("问题", ["甲", "乙" * 101], "options length"),
])
async def test_bad_polls_are_refused_as_telegram_does(emu: BotApiEmulator, question: str, options: list[str],
                                                      error: str) -> None:
    async with make_bot(emu) as bot:
        with pytest.raises(BadRequest, match=error):
            await bot.send_poll(RESIDENT, question, options)
    assert emu.messages_to(RESIDENT) == []


async def test_answers_reach_the_bot_and_stop_poll_closes_it(emu: BotApiEmulator) -> None:
    answers: list[tuple[int, tuple[int, ...], tuple[str, ...]]] = []
    states: list[tuple[int, ...]] = []
    all_seen = asyncio.Event()

    def check() -> None:
        if len(answers) >= 3 and len(states) >= 3:
            all_seen.set()

    async def on_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        a = update.poll_answer
        answers.append((a.user.id, a.option_ids, a.option_persistent_ids))
        check()

    async def on_poll(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        states.append(tuple(o.voter_count for o in update.poll.options))
        check()

    app: Application = ApplicationBuilder().token(TOKEN).base_url(emu.base_url).build()
    app.add_handlers([PollAnswerHandler(on_answer), PollHandler(on_poll)])
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
        try:
            sent = await app.bot.send_poll(RESIDENT, "空地做什么？", ["健身器材", "停车位"], is_anonymous=False)
            poll_id = await emu.answer_poll(RESIDENT, RESIDENT, sent.message_id, [1])
            assert poll_id == sent.poll.id
            await emu.answer_poll(RESIDENT, RESIDENT, sent.message_id, [0])  # changed the vote
            await emu.answer_poll(RESIDENT, RESIDENT, sent.message_id, [])  # retracted it
            async with asyncio.timeout(5):
                await all_seen.wait()
            with pytest.raises(ValueError, match="one answer"):
                await emu.answer_poll(RESIDENT, RESIDENT, sent.message_id, [0, 1])
            with pytest.raises(ValueError, match="no such option"):
                await emu.answer_poll(RESIDENT, RESIDENT, sent.message_id, [5])
            stopped = await app.bot.stop_poll(RESIDENT, sent.message_id)
            assert stopped.is_closed
            with pytest.raises(BadRequest, match="already been closed"):
                await app.bot.stop_poll(RESIDENT, sent.message_id)
            with pytest.raises(ValueError, match="closed"):
                await emu.answer_poll(RESIDENT, RESIDENT, sent.message_id, [0])
        finally:
            await app.updater.stop()
            await app.stop()
    assert answers == [(RESIDENT, (1,), ("1",)), (RESIDENT, (0,), ("0",)), (RESIDENT, (), ())]
    assert states[:3] == [(0, 1), (1, 0), (0, 0)]


async def test_anonymous_polls_send_counts_only(emu: BotApiEmulator) -> None:
    async with make_bot(emu) as bot:
        sent = await bot.send_poll(RESIDENT, "问题", ["甲", "乙"])  # anonymous by default
        before = emu.pending_updates
        await emu.answer_poll(RESIDENT, RESIDENT, sent.message_id, [0])
        updates = await bot.get_updates(offset=0, timeout=0, allowed_updates=Update.ALL_TYPES)
    kinds = [u.poll_answer is not None for u in updates[before:]]
    assert kinds == [False] and updates[-1].poll.options[0].voter_count == 1


async def test_stop_poll_on_a_message_without_a_poll(emu: BotApiEmulator) -> None:
    async with make_bot(emu) as bot:
        plain = await bot.send_message(RESIDENT, "不是投票")
        with pytest.raises(BadRequest, match="poll to stop not found"):
            await bot.stop_poll(RESIDENT, plain.message_id)
        with pytest.raises(BadRequest, match="not found"):
            await bot.stop_poll(RESIDENT, 999)
