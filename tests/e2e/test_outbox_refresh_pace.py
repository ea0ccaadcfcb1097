"""A case's refresh redraws its cards in several chats. A chat whose twenty a minute are used up (the grid level's
group after a sweep's escalation cards) takes its edits later, as a refresh row of its own that waits for that
chat like any other row; the one sender task never sleeps on it meanwhile, and no chat's rows wait behind it.
Each card is redrawn once, to the case as it is when its edit goes. (A newly elected leader stalled so in
tests/e2e/test_worker_faults.py: up to a minute per edit in the full grid chat, nothing else claimed.)

The pacer runs on a clock of the test's own (its sleeps return at once, and are recorded): deterministic, no
real minute waited."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from linli_e2e import JUWEIHUI, LEVEL_CHATS, UNIT_CHATS, WAIT, Bot, open_case, registered
from sqlalchemy import update
from sqlmodel import col, select

from bot import sender
from handlers import cards, texts
from services import outbox
from services.cases import desk as reports
from services.cases import lifecycle
from services.outbox import Priority
from storage.models import OutboxKind, OutboxMessage, OutboxStatus, PostKind, Ticket, TicketStatus

GRID = LEVEL_CHATS["grid"]
RESIDENT, OTHER = 4501, 4502
NEWS = "【测试】您关注的事有新进展"


class FakeTime:
    """The pacer's clock and sleep: a sleep moves the clock at once and is remembered."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def rows(bot: Bot) -> list[OutboxMessage]:
    async with bot.db.session() as s:
        return list((await s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all())


async def until(bot: Bot, what: str, check: Callable[[list[OutboxMessage]], bool]) -> None:
    try:
        async with asyncio.timeout(WAIT):
            while True:
                if check(await rows(bot)):
                    return
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"{what}: not within {WAIT} s; outbox: {await rows(bot)}") from None


async def test_a_refresh_whose_other_chat_is_full_holds_back_no_other_chat(desk: Bot) -> None:
    bot = desk
    person = await registered(bot, RESIDENT, "王阿姨")
    bot.emulator.user(OTHER, "李大爷")
    number, _, card = await open_case(bot, person)  # its card in the residents' committee's chat
    (ticket,) = [t for t in await bot.tickets() if t.number == number]
    async with bot.db.transaction() as s:  # the case escalated: its card in the grid level's chat too
        await cards.owe_card(s, bot.deps, ticket, chat_id=GRID, header=texts.card_header_escalated("网格", "超时"),
                             kind=PostKind.ESCALATION)
    await bot.barrier()
    escalated = next(m for m in bot.emulator.messages_to(GRID) if number in m.body)

    time = FakeTime()
    pacer = sender.Pacer(clock=time.clock, sleep=time.sleep)  # Telegram's real limits: one sender task
    for _ in range(sender.GROUP_BURST):  # the grid chat's minute used up (as a new leader seeds it from the table)
        pacer.seed(GRID, ago=1.0)
    assert pacer.ready_in(GRID) > sender.DEFER_AFTER and pacer.ready_in(JUWEIHUI) == 0.0
    bot.app.bot_data[sender.PACER_KEY] = pacer
    cursor = bot.emulator.cursor()
    async with bot.db.transaction() as s:  # signed: every card of the case is owed a redraw; then another chat's row
        t = await s.get(Ticket, ticket.id)
        assert t is not None
        assert (await lifecycle.transition(s, t, TicketStatus.SIGNED, actor=f"staff:{3001}", now=bot.clock.now())).ok
        await cards.owe_refresh(s, bot.deps, t)
        await outbox.owe(s, chat_id=OTHER, now=bot.clock.now(), text=NEWS, priority=Priority.BACKGROUND)
    bot.deps.wake_sender()

    def first_done(found: list[OutboxMessage]) -> bool:
        refresh = [r for r in found if r.kind is OutboxKind.REFRESH and r.chat_id == JUWEIHUI]
        news = [r for r in found if r.text == NEWS]
        return bool(refresh) and all(r.status is not OutboxStatus.PENDING for r in refresh + news)

    await until(bot, "the refresh and the message behind it handled", first_done)
    signed = texts.STATUS["signed"]
    assert max(time.slept, default=0.0) <= sender.DEFER_AFTER, time.slept  # the sender never slept on the grid chat
    told = [m for m in bot.emulator.messages_after(OTHER, cursor) if m.body == NEWS]
    assert len(told) == 1  # the next chat's row went …
    grid_card = bot.emulator.message(GRID, escalated.message_id)
    assert grid_card is not None and not grid_card.edited  # … while the grid chat's edit waits for its minute
    unit_card = bot.emulator.message(JUWEIHUI, card.message_id)
    assert unit_card is not None and len(unit_card.history) == 2 and signed in unit_card.body  # its own chat: done
    waiting = [r for r in await rows(bot) if r.status is OutboxStatus.PENDING]
    assert [(r.kind, r.chat_id) for r in waiting] == [(OutboxKind.REFRESH, GRID)]  # owed, not lost

    time.now += sender.GROUP_WINDOW  # the grid chat's minute is over (and the row due: the wall clock did not move)
    async with bot.db.transaction() as s:
        await s.exec(update(OutboxMessage).where(  # type: ignore[call-overload]
            col(OutboxMessage.status) == OutboxStatus.PENDING).values(next_try_at=outbox.wall_now()))
    bot.deps.wake_sender()
    await until(bot, "everything sent", lambda found: all(r.status is OutboxStatus.SENT for r in found))
    grid_card = bot.emulator.message(GRID, escalated.message_id)
    assert grid_card is not None and len(grid_card.history) == 2 and signed in grid_card.body  # redrawn once
    assert grid_card.history[1].seq > told[0].seq  # after the other chat's message, not before it
    assert len(bot.emulator.message(JUWEIHUI, card.message_id).history) == 2  # type: ignore[union-attr]
    assert max(time.slept, default=0.0) <= sender.DEFER_AFTER


async def test_combined_messages_with_the_same_id_in_two_chats_are_each_redrawn_with_their_own_cases(
        desk: Bot) -> None:
    """Message ids are per chat: a case listed in combined messages in two chats that happen to share an id has
    each redrawn with the cases that message lists (not the other chat's list)."""
    bot = desk
    first, _, _ = await open_case(bot, await registered(bot, RESIDENT, "王阿姨"))
    second, _, _ = await open_case(bot, await registered(bot, OTHER, "李大爷"), "3号楼电梯坏了两天了没人修",
                                   unit_chat=UNIT_CHATS["wuye"])
    community = LEVEL_CHATS["community"]
    grid_msg = await bot.app.bot.send_message(GRID, "（合并卡片）")
    community_msg = await bot.app.bot.send_message(community, "（合并卡片）")
    assert grid_msg.message_id == community_msg.message_id  # each chat counts from one
    tickets = {t.number: t for t in await bot.tickets()}
    a, b = tickets[first], tickets[second]
    assert a.id is not None and b.id is not None
    async with bot.db.transaction() as s:
        await reports.record_post(s, a.id, GRID, grid_msg.message_id, PostKind.ESCALATION, bot.clock.now(),
                                  batch=True)
        await reports.record_post(s, b.id, GRID, grid_msg.message_id, PostKind.ESCALATION, bot.clock.now(),
                                  batch=True)
        await reports.record_post(s, a.id, community, community_msg.message_id, PostKind.ESCALATION,
                                  bot.clock.now(), batch=True)
        t = await s.get(Ticket, a.id)
        assert t is not None
        await cards.owe_refresh(s, bot.deps, t)
    bot.deps.wake_sender()
    await until(bot, "the refresh sent", lambda found: all(r.status is OutboxStatus.SENT for r in found))
    grid_now = bot.emulator.message(GRID, grid_msg.message_id)
    community_now = bot.emulator.message(community, community_msg.message_id)
    assert grid_now is not None and community_now is not None
    assert first in grid_now.body and second in grid_now.body  # the grid chat's message lists both cases
    assert first in community_now.body and second not in community_now.body
