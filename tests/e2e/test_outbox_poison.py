"""One bad outbox row never stops the sender: a row whose handling raises (a bug, a row the code cannot read, a
record that cannot be written) is marked with its error logged, and the rows behind it, in its chat and in
others, are delivered. Nothing is sent twice, nothing is retried forever, across restarts either."""

from __future__ import annotations

import asyncio
import logging

import pytest
from linli_e2e import STAFF_CHAT_ID, WAIT, Bot
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import col, select

from bot import sender
from handlers import owed
from services import outbox
from storage.models import OutboxKind, OutboxMessage, OutboxStatus

RESIDENT = 4301


async def owe(bot: Bot, *rows: OutboxMessage) -> list[int]:
    bot.emulator.user(RESIDENT, "居民")
    async with bot.db.transaction() as s:
        for row in rows:
            s.add(row)
        await s.flush()
        ids = [r.id for r in rows]
    bot.deps.wake_sender()
    return ids  # type: ignore[return-value]


def message(chat_id: int, text: str) -> OutboxMessage:
    return outbox.new_row(chat_id=chat_id, now=outbox.wall_now(), text=text)


async def settled(bot: Bot) -> dict[int, OutboxMessage]:
    """Every row once none is pending (the sender went through the whole queue)."""
    async with asyncio.timeout(WAIT):
        while True:
            async with bot.db.session() as s:
                rows = (await s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
            if rows and all(r.status is not OutboxStatus.PENDING for r in rows):
                return {r.id: r for r in rows}  # type: ignore[misc]
            await asyncio.sleep(0.05)


def bodies(bot: Bot, chat_id: int) -> list[str]:
    return [m.body for m in bot.emulator.messages_to(chat_id)]


async def test_a_row_the_code_cannot_read_fails_at_once_and_the_rest_of_the_queue_goes_on(
        bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """A 议事会 poll written without its options (by an older version, by hand) raises KeyError on every try:
    failed on the first, logged, and the staff chat's next messages (and a resident's) still go, in order."""
    bad = outbox.new_row(chat_id=STAFF_CHAT_ID, now=outbox.wall_now(), kind=OutboxKind.MESSAGE,
                         payload={"poll": {"question": "3号楼加装电梯，您同意吗？", "topic": 3}})
    with caplog.at_level(logging.ERROR, logger="bot.sender"):
        ids = await owe(bot, bad, message(STAFF_CHAT_ID, "【测试】第一条"), message(STAFF_CHAT_ID, "【测试】第二条"),
                        message(RESIDENT, "您的工单已办结"))
        rows = await settled(bot)
    assert rows[ids[0]].status is OutboxStatus.FAILED and rows[ids[0]].attempts == 1
    assert "KeyError" in (rows[ids[0]].error or "")
    assert [rows[i].status for i in ids[1:]] == [OutboxStatus.SENT] * 3
    assert bodies(bot, STAFF_CHAT_ID)[-2:] == ["【测试】第一条", "【测试】第二条"]
    assert bodies(bot, RESIDENT) == ["您的工单已办结"]
    assert any("could not be handled" in r.getMessage() for r in caplog.records)


async def test_a_row_sent_but_never_recordable_is_marked_once_and_never_sent_again(
        bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Telegram took the message but recording where it went always fails (the trial's UNIQUE ticket_posts): the
    row is marked sent with the error, goes out once, and the messages behind it are sent and recorded."""
    real_send, real_record = owed.send, owed.record
    poisoned: list[owed.Delivered] = []

    async def send(bot_, d, claims, pace, **kw):  # type: ignore[no-untyped-def]
        done = await real_send(bot_, d, claims, pace, **kw)
        if claims[0].text == "【测试】记不下":
            poisoned.append(done)
        return done

    async def record(s, delivered, now):  # type: ignore[no-untyped-def]
        if any(delivered is p for p in poisoned):  # message ids are per chat: this very delivery
            raise IntegrityError("INSERT INTO ticket_posts …", {}, Exception("UNIQUE constraint failed"))
        await real_record(s, delivered, now)

    monkeypatch.setattr(owed, "send", send)
    monkeypatch.setattr(owed, "record", record)
    with caplog.at_level(logging.ERROR, logger="bot.sender"):
        ids = await owe(bot, message(STAFF_CHAT_ID, "【测试】记不下"), message(STAFF_CHAT_ID, "【测试】后面的"),
                        message(RESIDENT, "您的工单已受理"))
        rows = await settled(bot)
    assert rows[ids[0]].status is OutboxStatus.SENT and "IntegrityError" in (rows[ids[0]].error or "")
    assert [rows[i].status for i in ids[1:]] == [OutboxStatus.SENT] * 2
    assert all(rows[i].error is None for i in ids[1:])
    await sender.run_once(bot.app)  # another round (as after a restart): nothing goes again
    assert bodies(bot, STAFF_CHAT_ID).count("【测试】记不下") == 1
    assert bodies(bot, STAFF_CHAT_ID)[-1] == "【测试】后面的"
    assert any("could not be recorded" in r.getMessage() for r in caplog.records)


async def test_a_row_whose_error_looks_passing_is_retried_up_to_its_bound_then_failed(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database "busy" on every try of one row: retried with backoff, failed after MAX_ATTEMPTS; the chat's
    next message then goes. (Bound and backoff made short here; the logic is the real one.)"""
    real_send = owed.send

    async def send(bot_, d, claims, pace, **kw):  # type: ignore[no-untyped-def]
        if claims[0].text == "【测试】总是忙":
            raise OperationalError("UPDATE …", {}, Exception("database is locked"))
        return await real_send(bot_, d, claims, pace, **kw)

    monkeypatch.setattr(owed, "send", send)
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 3)
    monkeypatch.setattr(outbox, "BACKOFF_FIRST", 0.05)
    monkeypatch.setattr(sender, "POLL", 0.05)
    ids = await owe(bot, message(STAFF_CHAT_ID, "【测试】总是忙"), message(STAFF_CHAT_ID, "【测试】之后"))
    rows = await settled(bot)
    assert rows[ids[0]].status is OutboxStatus.FAILED and rows[ids[0]].attempts == 3
    assert "database is locked" in (rows[ids[0]].error or "")
    assert rows[ids[1]].status is OutboxStatus.SENT
    assert bodies(bot, STAFF_CHAT_ID)[-1] == "【测试】之后"


async def test_a_row_claimed_past_its_bound_without_an_outcome_is_given_up_unsent(bot: Bot) -> None:
    """A row whose handling killed the process on every try (each restart claimed it again): once claimed more than
    MAX_ATTEMPTS times it is failed without another send, and the chat's queue goes on."""
    stuck = message(STAFF_CHAT_ID, "【测试】每次都崩")
    stuck.attempts = outbox.MAX_ATTEMPTS
    ids = await owe(bot, stuck, message(STAFF_CHAT_ID, "【测试】下一条"))
    rows = await settled(bot)
    assert rows[ids[0]].status is OutboxStatus.FAILED
    assert "【测试】每次都崩" not in bodies(bot, STAFF_CHAT_ID)
    assert rows[ids[1]].status is OutboxStatus.SENT


PROBLEMS = [("repair", "楼道灯坏了好几天"), ("sanitation", "门口垃圾堆满没人清"), ("parking", "车库门口有车乱停堵路")]


async def test_a_bad_card_in_a_combined_backlog_fails_alone_and_every_other_case_is_posted(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eighteen cards waiting for the staff chat are combined; the combined send raises because of one of them:
    they go again one at a time, that one fails, the seventeen others reach the chat."""
    from services.cases import intake
    from services.people.residents import get_or_create_resident

    numbers: dict[int, str] = {}
    now = bot.clock.now()
    async with bot.db.transaction() as s:
        for i in range(18):
            bot.emulator.user(4400 + i, f"居民{i}")
            r = await get_or_create_resident(s, tg_user_id=4400 + i, name=f"居民{i}", now=now)
            category, problem = PROBLEMS[i // 6]
            case = intake.Intake(category=category, text=f"{i % 6 + 1}号楼{problem}", location=f"{i % 6 + 1}号楼")
            opened = await intake.open_case(s, resident=r, intake=case, community=bot.deps.community,
                                            staff_chat_id=STAFF_CHAT_ID, now=now)
            numbers[opened.ticket.id] = opened.ticket.number  # type: ignore[index]
    bad = sorted(numbers)[7]
    real_send = owed.send
    combined: list[int] = []

    async def send(bot_, d, claims, pace, **kw):  # type: ignore[no-untyped-def]
        if claims[0].kind is OutboxKind.CARD and any(c.ticket_id == bad for c in claims):
            combined.append(len(claims))
            raise ValueError("a card the code cannot draw")
        return await real_send(bot_, d, claims, pace, **kw)

    monkeypatch.setattr(owed, "send", send)
    bot.deps.wake_sender()
    rows = await settled(bot)
    cards = [r for r in rows.values() if r.kind is OutboxKind.CARD]
    assert max(combined) > 1  # it was in a combined send first …
    assert [r.ticket_id for r in cards if r.status is OutboxStatus.FAILED] == [bad]  # … then failed alone
    staff = "\n".join(bodies(bot, STAFF_CHAT_ID))
    assert [n for t, n in numbers.items() if t != bad and n not in staff] == []
    assert numbers[bad] not in staff
