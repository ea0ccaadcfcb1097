"""A stream of cards to one desk group, faster than its twenty a minute (a sweep escalating a case a second to the
community level for half a minute), reaches the desk within seconds each, and the group never gets more than
twenty messages in any sixty seconds.

Before: the first twenty cards went one by one and used up the group's minute; every card after them waited for
the oldest send to be a minute old (up to 40 s), which is how tests/e2e/test_worker_faults.py's killed-leader test
ran out of its 60 s with a dozen cards still owed. Now the last ``GROUP_RESERVE`` slots of the minute are spread
out until the minute frees its next slot, and the cards owed meanwhile go out combined into the next message.

Deterministic: the pacer and the outbox's transport clock (``outbox.wall_now``) run on a clock of the test's own,
moved by the test (a card owed every ``every`` seconds) and by the pacer's sleeps, which return at once; the test
waits for the sender to be idle before it moves the clock. The emulator enforces Telegram's limits on that clock
too and records when it accepted each message."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from linli_e2e import LEVEL_CHATS, WAIT, Bot
from sqlmodel import select

from bot import sender
from bot.emulator import Limits
from bot.emulator.limits import RateLimiter
from handlers import cards, texts
from services import outbox
from services.cases import lifecycle
from storage.models import OutboxMessage, OutboxStatus, PostKind, Resident, Ticket

COMMUNITY = LEVEL_CHATS["community"]
CASES = 36  # as many as the killed-leader test's sweep escalates to the community level, about one a second
BOUND = 15.0  # seconds any card may wait for its message: well under the minute it waited before
EPOCH = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)  # the transport clock's origin
NUMBER = re.compile(r"LL-\d{8}-\d{4}")
KINDS = ["repair", "utilities", "noise", "legal", "safety"]


class FakeTime:
    """The pacer's clock and sleep: a sleep moves the clock at once."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds

    def wall(self) -> datetime:
        return EPOCH + timedelta(seconds=self.now)


class Accepted(RateLimiter):
    """The emulator's flood control (Telegram's limits, on the test's clock), noting when it let each message in."""

    def __init__(self, time: FakeTime) -> None:
        super().__init__(Limits(), clock=time.clock)
        self.at: dict[int, list[float]] = {}

    def acquire(self, chat_id: int, *, is_group: bool = False) -> int | None:
        refused = super().acquire(chat_id, is_group=is_group)
        if refused is None:
            self.at.setdefault(chat_id, []).append(self._clock())
        return refused


async def open_cases(bot: Bot, n: int) -> list[Ticket]:
    """``n`` dispatched cases (nothing owed for them yet)."""
    now = bot.clock.now()
    async with bot.db.transaction() as s:
        resident = Resident(tg_user_id=4701, name="老住户", created_at=now, updated_at=now)
        s.add(resident)
        await s.flush()
        return [await lifecycle.open_dispatched(
            s, resident=resident, category=KINDS[i % len(KINDS)], text=f"{i % 30 + 1}号楼的事（{i}）",
            location=f"{i % 30 + 1}号楼", photos=[], community=bot.deps.community, now=now) for i in range(n)]


async def pending(bot: Bot) -> list[OutboxMessage]:
    async with bot.db.session() as s:
        return list((await s.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING))).all())


async def idle(bot: Bot, time: FakeTime) -> None:
    """Until the sender has done all it can at the test's time: no chat's first row due now, none leased (being
    sent). What is left waits for a later time (given back until its chat can take it, the rest behind it)."""
    try:
        async with asyncio.timeout(WAIT):
            while True:
                now = time.wall()
                heads: dict[int, OutboxMessage] = {}
                for r in sorted(await pending(bot), key=lambda r: (r.priority, r.id)):
                    heads.setdefault(r.chat_id, r)
                if all(now < r.next_try_at < now + outbox.LEASE / 2 for r in heads.values()):
                    return
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"the sender not idle within {WAIT} s: {await pending(bot)}") from None


def most_in_a_window(times: list[float], window: float) -> int:
    return max((sum(1 for t in times if start <= t < start + window) for start in times), default=0)


@pytest.mark.parametrize("every", [0.5, 1.0, 2.0])  # faster than the chat's one a second, as fast, slower
async def test_a_stream_of_cards_to_one_group_waits_seconds_each_within_its_twenty_a_minute(
        desk: Bot, monkeypatch: pytest.MonkeyPatch, every: float) -> None:
    bot = desk
    tickets = await open_cases(bot, CASES)
    time = FakeTime()
    pacer = sender.Pacer(clock=time.clock, sleep=time.sleep)  # Telegram's real limits, the shipped reserve
    bot.app.bot_data[sender.PACER_KEY] = pacer
    monkeypatch.setattr(outbox, "wall_now", time.wall)
    accepted = Accepted(time)
    bot.emulator._limiter = accepted  # type: ignore[attr-defined]
    cursor = bot.emulator.cursor()

    owed_at: dict[str, float] = {}
    start = time.now
    for i, ticket in enumerate(tickets):  # the sweep: one case escalated every ``every`` seconds
        time.now = max(time.now, start + i * every)
        async with bot.db.transaction() as s:
            await cards.owe_card(s, bot.deps, ticket, chat_id=COMMUNITY, kind=PostKind.ESCALATION,
                                 header=texts.card_header_escalated("社区", "超时"))
        owed_at[ticket.number] = time.now
        bot.deps.wake_sender()
        await idle(bot, time)
    while await pending(bot) and time.now < start + 5 * sender.GROUP_WINDOW:  # what is left, a second at a time
        time.now += 1.0
        bot.deps.wake_sender()
        await idle(bot, time)

    async with bot.db.session() as s:
        rows = list((await s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == COMMUNITY))).all())
    assert {r.status for r in rows} == {OutboxStatus.SENT} and not any(r.error for r in rows), rows  # no 429
    messages = bot.emulator.messages_after(COMMUNITY, cursor)
    sent_at = accepted.at.get(COMMUNITY, [])
    assert len(sent_at) == len(messages)
    delivered: dict[str, float] = {}
    for message, at in zip(messages, sent_at, strict=True):
        for number in set(NUMBER.findall(message.body)):
            assert number not in delivered, f"{number} sent twice"
            delivered[number] = at
    assert set(delivered) == set(owed_at)  # every case, once
    waits = {n: delivered[n] - owed_at[n] for n in owed_at}
    worst = max(waits, key=waits.__getitem__)
    assert waits[worst] <= BOUND, (worst, round(waits[worst], 1), [(round(t - start, 1)) for t in sent_at])
    assert most_in_a_window(sent_at, sender.GROUP_WINDOW) <= sender.GROUP_BURST  # Telegram's 20 a minute
    alone = sum(1 for m in messages if len(set(NUMBER.findall(m.body))) == 1)
    print(f"every {every} s: {CASES} cards in {len(messages)} messages ({alone} alone), longest wait "
          f"{waits[worst]:.1f} s, mean {sum(waits.values()) / CASES:.1f} s, last sent {sent_at[-1] - start:.1f} s")
    if every >= sender.CHAT_INTERVAL:  # the chat takes each card as it comes: one card each while the minute has room
        assert alone >= sender.GROUP_BURST - pacer.group_reserve, alone
    assert len(messages) < CASES  # … and the rest combined
