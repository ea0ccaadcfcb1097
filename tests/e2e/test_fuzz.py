"""Hypothesis drives the real bot through the emulator with what no tidy resident sends: any Unicode text (control
characters, NUL, right-to-left marks, emoji), huge texts, random and forged button data, and update JSON of any
shape straight into getUpdates.

For every example: no exception reaches the error handler (nothing logged at ERROR, no error report in the staff
chat), and nothing is half-written (every case has its events, every draft holds words, a photo or a file, and a
draft waiting for 确认 has its category). After each run, an ordinary resident still gets their case opened.

One bot serves all the examples of a test (hence the function-scoped fixture health check is off); the examples
are few so the file runs in well under a minute, and derandomized in CI (``tests/conftest.py``'s profile).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from linli_e2e import STAFF_CHAT_ID, WAIT, Bot, Clock, running_bot, ticket_number
from sqlalchemy import exists
from sqlalchemy.engine import URL
from sqlmodel import col, select

from bot.emulator import BotApiEmulator
from handlers import texts
from handlers.callbacks import pack
from services.cases.drafts import DraftStage
from storage.models import Draft, Ticket, TicketEvent

FUZZER = 6001
NEIGHBOUR = 6002
ERROR_REPORT = texts.staff_error(0, "").split("0")[0]


def one_bot(examples: int) -> settings:
    """``examples`` for one bot that serves them all (the profile's derandomize and database still apply)."""
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# -- strategies ------

any_char = st.characters(exclude_categories=("Cs",))  # every code point a UTF-8 JSON string can carry
odd = st.sampled_from(["\x00", "\u202e", "\u200f", "\u200b", "\ufeff", "\u0301", "\r\n", "\t", "👨‍👩‍👧", "🏳️‍🌈",
                       "١٢٣", "שלום", "مرحبا", "楼道灯坏了", "9号楼", "确认", "/start", "/start g-A03",
                       "LL-20260317-0001",
                       "救命", "𠀀", "\U0010fffd", "ﾃｽﾄ", "ⅫⅣ", "%s%n", "{0}", "<b>", "\\", "'", '"'])
any_text = st.one_of(
    st.text(any_char, min_size=1, max_size=60),
    st.lists(st.one_of(odd, st.text(any_char, max_size=5)), min_size=1, max_size=12).map("".join),
)
huge_text = st.builds(lambda chunk, n: (chunk * n)[: 10_000 + n * 7], st.text(any_char, min_size=1, max_size=40)
                      | odd, st.integers(300, 2_000))

ACTIONS = ["ok", "rc", "cat", "x", "tk", "wd", "wdy", "svc", "buy", "buyy", "bld", "bldn", "rcc", "rck", "rcx",
           "tsp", "tspx", "rs", "rsn", "age", "fw", "rt", "sg", "rj", "ni", "rv", "es", "zz", ""]
arg = st.text(st.characters(codec="ascii", exclude_characters="|"), max_size=20) | st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="|"), max_size=6)


def callback_data(secret: bytes) -> st.SearchStrategy[str]:
    def signed(action: str, a: str) -> str | None:
        try:
            return pack(secret, action, a)
        except ValueError:  # longer than Telegram's 64 bytes: not a button the bot could have made
            return None

    good = st.builds(signed, st.sampled_from(ACTIONS), arg).filter(lambda d: d is not None)
    return st.one_of(
        st.text(any_char, max_size=70),  # anything at all
        good,  # signed with the bot's key: buttons the bot never drew, with any argument
        st.builds(lambda d, k: d[:k], good, st.integers(0, 40)),  # truncated
        st.builds(lambda action, a: pack(b"not the key", action, a[:10]), st.sampled_from(ACTIONS), arg),  # forged
        st.builds(lambda d, c: d[:-1] + c, good, st.characters(codec="ascii")),  # one character of the signature
    )  # type: ignore[return-value]


KNOWN_CHATS = [FUZZER, NEIGHBOUR, STAFF_CHAT_ID]
scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=False),
                   st.text(any_char, max_size=12))
KEYS = ["message", "chat", "from", "text", "id", "type", "date", "message_id", "data", "entities", "photo",
        "caption", "media_group_id", "reply_to_message", "callback_query", "first_name", "is_bot", "offset",
        "length", "file_id", "location", "latitude", "longitude", "voice", "duration", "document", "contact"]
any_json = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4),
                        max_leaves=12)
user_like = st.fixed_dictionaries({"id": st.sampled_from([FUZZER, NEIGHBOUR]) | any_json,
                                   "is_bot": st.booleans() | any_json, "first_name": st.text(any_char, max_size=8)},
                                  optional={"username": st.text(max_size=8), "language_code": st.text(max_size=3)})
chat_like = st.fixed_dictionaries({"id": st.sampled_from(KNOWN_CHATS) | any_json,
                                   "type": st.sampled_from(["private", "group", "supergroup", "channel"]) | any_json})
entity = st.fixed_dictionaries({"type": st.sampled_from(["bot_command", "mention", "url", "bold"]) | any_json,
                                "offset": st.integers(-5, 80), "length": st.integers(-5, 80)})
message_like = st.fixed_dictionaries(
    {"message_id": st.integers(1, 10**6) | any_json, "date": st.integers(0, 2**31) | any_json, "chat": chat_like},
    optional={"from": user_like | any_json, "text": any_text | any_json, "entities": st.lists(entity, max_size=2),
              "caption": any_text, "media_group_id": st.text(max_size=5),
              "photo": st.lists(st.fixed_dictionaries({"file_id": st.text(max_size=6),
                                                       "file_unique_id": st.text(max_size=6),
                                                       "width": st.integers(0, 9), "height": st.integers(0, 9)}),
                                max_size=2),
              "location": st.fixed_dictionaries({"latitude": st.floats(-1000, 1000), "longitude": st.floats(-1000,
                                                                                                             1000)}),
              "voice": st.fixed_dictionaries({"file_id": st.text(max_size=6), "file_unique_id": st.text(max_size=6),
                                              "duration": st.integers(-10, 10**6) | any_json}),
              "contact": st.fixed_dictionaries({"phone_number": st.text(max_size=12),
                                                "first_name": st.text(max_size=6)})})
query_like = st.fixed_dictionaries({"id": st.text(max_size=8) | any_json, "from": user_like,
                                    "chat_instance": st.text(max_size=6)},
                                   optional={"data": st.text(any_char, max_size=70) | any_json,
                                             "message": message_like})
update_like = st.one_of(
    st.fixed_dictionaries({"message": message_like}),
    st.fixed_dictionaries({"edited_message": message_like}),
    st.fixed_dictionaries({"callback_query": query_like}),
    st.dictionaries(st.sampled_from(["message", "edited_message", "callback_query", "my_chat_member", "poll",
                                     "channel_post", "inline_query"]) | st.text(max_size=8), any_json, max_size=2),
)


# -- the watch on errors and rows ------


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        found = [f"{r.name}: {r.getMessage()}" + (f" ({r.exc_info[1]!r})" if r.exc_info else "")
                 for r in self.records]
        self.records.clear()
        return found


@pytest.fixture
def errors() -> Iterator[Errors]:
    watch = Errors()
    root = logging.getLogger()
    root.addHandler(watch)
    try:
        yield watch
    finally:
        root.removeHandler(watch)


async def settled(bot: Bot) -> None:
    """The barrier, and then the error handler: PTB runs it in a task of its own, which the barrier does not wait
    for (the application's private set of such tasks is the only way to know they are done)."""
    await bot.barrier()
    tasks = [t for t in getattr(bot.app, "_Application__create_task_tasks", ()) if not t.done()]
    if tasks:
        await asyncio.wait(tasks, timeout=WAIT)


def error_reports(bot: Bot) -> list[str]:
    return [m.body for m in bot.emulator.messages_to(STAFF_CHAT_ID) if m.body.startswith(ERROR_REPORT)]


async def check(bot: Bot, errors: Errors, what: object, *, failing_api: bool = False) -> None:
    """The properties after one example: nothing escaped, nothing half-written. ``failing_api``: replies the
    emulator failed on purpose reached the error handler, as they should; only the rows are checked."""
    await settled(bot)
    async with bot.db.session() as s:
        bare = (await s.exec(select(Ticket.number).where(~exists().where(col(TicketEvent.ticket_id) == Ticket.id))))
        bare_cases = list(bare.all())
        drafts = list((await s.exec(select(Draft))).all())
    logged, reports = errors.take(), error_reports(bot)[getattr(bot, "reports_seen", 0):]
    bot.reports_seen = getattr(bot, "reports_seen", 0) + len(reports)  # type: ignore[attr-defined]
    if not failing_api:
        assert logged == [], what
        assert reports == [], what
    assert bare_cases == [], what
    for d in drafts:
        assert d.text or d.photos or d.attachments, (what, d)
        assert d.stage != DraftStage.CONFIRMING or d.category, (what, d)


async def still_answers(bot: Bot) -> None:
    """An ordinary resident after the fuzz: a complaint, 确认, and the case's number."""
    person = bot.person(NEIGHBOUR + 100, "孙阿姨")
    card = await person.say("9号楼楼道灯坏了好几天了", lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    receipt = await person.confirm(card)
    ticket_number(receipt.body)
    await bot.barrier()


@pytest.fixture
async def fuzzed(emulator: BotApiEmulator, tmp_path: Path, clock: Clock, errors: Errors) -> AsyncIterator[Bot]:
    """The bot with flood control on (limits high enough never to drop: its guard sees every update too)."""
    async with running_bot(emulator, tmp_path / "linli.db", clock, flood_messages=10_000, flood_drafts=10_000) as bot:
        bot.person(FUZZER, "模糊测试")
        bot.person(NEIGHBOUR, "邻居")
        yield bot
        await still_answers(bot)
        await check(bot, errors, "the ordinary resident after the fuzz")


# -- the properties ------


@one_bot(60)
@given(text=any_text)
async def test_any_text_is_answered_and_nothing_half_written(fuzzed: Bot, errors: Errors, text: str) -> None:
    cursor = fuzzed.emulator.cursor()
    await fuzzed.emulator.send_text(FUZZER, text)
    await check(fuzzed, errors, text)
    if text.strip() and not text.startswith("/"):
        assert fuzzed.emulator.messages_after(FUZZER, cursor), f"no answer to {text!r}"


@one_bot(6)
@given(text=huge_text)
async def test_huge_texts(fuzzed: Bot, errors: Errors, text: str) -> None:
    cursor = fuzzed.emulator.cursor()
    await fuzzed.emulator.send_text(FUZZER, text)
    await check(fuzzed, errors, text[:80])
    assert fuzzed.emulator.messages_after(FUZZER, cursor), f"no answer to {len(text)} characters"


@one_bot(60)
@given(data=st.data())
async def test_any_button_data(fuzzed: Bot, errors: Errors, data: st.DataObject) -> None:
    person = fuzzed.person(FUZZER)
    if not hasattr(fuzzed, "_fuzz_card"):  # a message of the bot's to press on: a draft's card, with its buttons
        fuzzed._fuzz_card = await person.say("3号楼电梯坏了")  # type: ignore[attr-defined]
    payload = data.draw(callback_data(fuzzed.deps.callback_secret))
    pressed = await person.press(fuzzed._fuzz_card, "", forge_data=payload)  # type: ignore[attr-defined]
    async with asyncio.timeout(WAIT):
        await pressed.answer()  # every press is answered (no spinner left)
    await check(fuzzed, errors, payload)


@one_bot(80)
@given(update=update_like)
@example(update={"callback_query": {"id": "", "from": {"id": FUZZER, "is_bot": False, "first_name": ""},
                                    "chat_instance": "", "data": 1}})  # found: data no string broke unpack
@example(update={"message": {"message_id": 1, "date": 0, "chat": {"id": [FUZZER], "type": "private"},
                             "text": "hi"}})  # found: a chat id no integer failed unhashable inside PTB
@example(update={"message": {"message_id": 1, "date": 0, "chat": {"id": FUZZER, "type": "private"},
                             "from": {"id": FUZZER, "is_bot": False, "first_name": "x"},
                             "text": "9号楼楼道灯坏了\x00"}})  # NUL: PostgreSQL refuses it (the pg test)
async def test_any_update_shape_into_get_updates(fuzzed: Bot, errors: Errors, update: dict[str, Any]) -> None:
    fuzzed.emulator.inject_raw_update(update)
    await check(fuzzed, errors, update)


# -- PostgreSQL keeps no NUL in text: what SQLite stores, asyncpg refuses ------


@pytest.fixture
async def pg_bot(emulator: BotApiEmulator, tmp_path: Path, clock: Clock, pg_url: URL) -> AsyncIterator[Bot]:
    url = pg_url.render_as_string(hide_password=False)
    async with running_bot(emulator, tmp_path / "unused.db", clock, database_url=url) as running:
        yield running


@one_bot(10)
@given(text=st.lists(st.one_of(odd, st.text(any_char, max_size=4)), min_size=1, max_size=8).map("".join))
async def test_any_text_on_postgresql(pg_bot: Bot, errors: Errors, text: str) -> None:
    pg_bot.person(FUZZER, "模糊测试")
    cursor = pg_bot.emulator.cursor()
    await pg_bot.emulator.send_text(FUZZER, "9号楼楼道灯坏了" + text)
    await check(pg_bot, errors, text)
    assert pg_bot.emulator.messages_after(FUZZER, cursor), f"no answer to {text!r}"


# -- a complaint while the Bot API fails at random ------

METHODS = ["sendMessage", "answerCallbackQuery", "editMessageReplyMarkup", "editMessageText"]
fault = st.tuples(st.sampled_from(METHODS), st.sampled_from([500, 502, None, "after"]), st.integers(1, 2))
RETRY_WAIT = 30.0  # the sender's backoff, 2 s then 4 s, with room
PROBLEMS = ["楼道灯坏了好几天", "门口垃圾堆满没人清", "电梯坏了困过人"]  # a new place each time: no duplicates to join


def told(bot: Bot, user_id: int, number: str) -> int:
    return sum(1 for m in bot.emulator.messages_to(user_id) if number in m.body and m.body.startswith("✅ 已受理"))


@pytest.mark.slow
@one_bot(8)
@given(faults=st.lists(fault, min_size=1, max_size=3), data=st.data())
async def test_a_complaint_while_the_bot_api_fails(fuzzed: Bot, errors: Errors, faults: list[tuple[str, object, int]],
                                                  data: st.DataObject) -> None:
    """Faults on the replies, the button's answer and the draft's edits, before or after the 确认: a case is opened
    once or not at all, its number reaches the resident (once, or twice for one lost in flight), nothing is
    half-written. Failed replies do reach the error handler here; that is its job."""
    bot = fuzzed
    user = 7000 + len(bot._people)
    person = bot.person(user, "周阿姨")
    before = data.draw(st.booleans(), "faults before the complaint")

    def inject() -> None:
        for method, how, times in faults:
            if how is None or how == "after":
                bot.emulator.drop(method, times=times, after_recording=how == "after")
            else:
                bot.emulator.fail(method, int(how), times=times)  # type: ignore[call-overload]

    if before:
        inject()
    cursor = await person.send(f"{len(bot._people) % 30 + 1}号楼{PROBLEMS[len(bot._people) % 3]}")
    await settled(bot)
    card = next((m for m in bot.emulator.messages_after(user, cursor) if m.buttons), None)
    if card is not None:
        if not before:
            inject()
        await person.press(card, texts.BTN_CONFIRM)
    bot.emulator.clear_faults()
    async with asyncio.timeout(RETRY_WAIT):
        await settled(bot)
    await check(bot, errors, faults, failing_api=True)
    cases = await bot.tickets(user)
    assert len(cases) <= 1
    if cases:
        assert 1 <= told(bot, user, cases[0].number) <= 2
    if card is not None and not any(method == "answerCallbackQuery" for method, _, _ in faults):
        assert cases, "确认 went through and no case was opened"


async def test_a_double_tap_on_not_yet_resolved_is_no_error(fuzzed: Bot, errors: Errors) -> None:
    """Found by fuzzing: 还没有 (``rsn``) pressed twice before the first edit arrives: the second edit would show the
    same words, Telegram answers 'message is not modified', and that was reported to the staff as an error with an
    apology to the resident."""
    person = fuzzed.person(FUZZER)
    card = await person.say("5号楼电梯坏了")
    data = pack(fuzzed.deps.callback_secret, "rsn", "LL-20260317-0001")
    for _ in range(2):
        pressed = await person.press(card, "", forge_data=data)
        async with asyncio.timeout(WAIT):
            await pressed.answer()
    await check(fuzzed, errors, "rsn twice")
    assert all(m.body != texts.ERROR for m in fuzzed.emulator.messages_to(FUZZER))
