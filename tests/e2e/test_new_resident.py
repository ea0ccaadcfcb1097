"""Two things a new resident tripped over, through the real bot: a 确认 typed instead of pressed left the draft's
buttons to press again (the number came as a message of its own); and a neighbour whose complaint joined a case
was told at 办结 that they would be asked to rate it, and never was (only the case's author was asked)."""

from __future__ import annotations

import pytest
from linli_e2e import (
    JUWEIHUI,
    LEVEL_CHATS,
    NOISE,
    WAIT,
    Bot,
    Person,
    first_data,
    open_case,
    registered,
    ticket,
    ticket_number,
)
from sqlalchemy import event
from sqlmodel import col, select

from bot import jobs
from bot.emulator import SentMessage
from handlers import texts
from services.cases import lifecycle
from storage.models import Rating, Resident, Ticket, TicketEvent, TicketEventKind, TicketFollower, TicketStatus

S = TicketStatus


def has_confirm(m: SentMessage) -> bool:
    return any(b.text == texts.BTN_CONFIRM for b in m.buttons)


# -- 1. a yes typed to 确认提交吗？ ------


@pytest.mark.parametrize("yes", ["确认", "中", "好的", "1"])
async def test_a_typed_yes_turns_the_draft_into_its_number_and_its_button_is_gone(desk: Bot, yes: str) -> None:
    """As the button does: the draft message is edited (through the outbox) into the number, which takes its
    buttons away; no second message carries the number; the old 确认 pressed anyway opens nothing and says so."""
    person = await registered(desk, 2401)
    draft = await person.say("3号楼2单元楼道灯不亮了", has_confirm)
    labels = {b.text for b in draft.buttons}
    cursor = await person.send(yes)
    receipt = await desk.emulator.wait_for_edit(2401, draft.message_id, "LL-", after=cursor, timeout=WAIT)
    number = ticket_number(receipt.text)
    assert not labels & {b.text for b in receipt.buttons}  # 确认提交 · 换一类 · 取消 are gone
    await desk.barrier()
    assert [m.text for m in person.replies(cursor) if number in m.body] == []  # the edit is the one receipt
    assert [m.message_id for m in desk.emulator.messages_to(2401) if number in m.body] == [draft.message_id]
    [t] = await desk.tickets(2401)
    assert t.number == number and t.text == "3号楼2单元楼道灯不亮了"

    # a client that still shows the old keyboard presses 确认 again: told politely it is in, no second case
    stale = await person.press(draft, "", forge_data=first_data(draft, texts.BTN_CONFIRM))
    answer = await stale.answer()
    assert (answer.text, answer.show_alert) == (texts.draft_already_sent(number), True)
    await desk.barrier()
    assert len(await desk.tickets()) == 1 and await desk.draft(2401) is None


async def test_a_first_contact_s_typed_yes_edits_its_draft_and_each_step_writes_once(desk: Bot) -> None:
    """Someone who never pressed /start writes a complaint, then 好的: the draft is edited into the number as for
    anyone else. The draft is written once by the update, and the message showing it noted after, behind (a hint
    outside the update's one write transaction)."""
    person = desk.person(2403, "新来的")
    writes: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) and " drafts" in statement:
            writes.append(statement)

    sync_engine = desk.db.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", seen)
    try:
        draft = await person.say("5号楼门口的路灯不亮了", has_confirm)
        await desk.barrier()
    finally:
        event.remove(sync_engine, "before_cursor_execute", seen)
    assert len(writes) == 2 and "shown_message_id=" not in writes[0] and "SET shown_message_id=" in writes[1], writes
    cursor = await person.send("好的")
    receipt = await desk.emulator.wait_for_edit(2403, draft.message_id, "LL-", after=cursor, timeout=WAIT)
    await desk.barrier()
    [t] = await desk.tickets(2403)
    assert t.number == ticket_number(receipt.text) and t.text == "5号楼门口的路灯不亮了"
    assert [m.message_id for m in desk.emulator.messages_to(2403) if t.number in m.body] == [draft.message_id]


async def test_a_typed_yes_edits_the_draft_shown_last(desk: Bot) -> None:
    """More words show the draft again: the yes turns that last message into the number; the earlier one's 确认,
    pressed later, is told the case is in and opens nothing."""
    person = await registered(desk, 2402)
    first = await person.say("3号楼2单元楼道灯不亮了", has_confirm)
    last = await person.say("好几天了，晚上很黑", has_confirm)
    cursor = await person.send("确认")
    receipt = await desk.emulator.wait_for_edit(2402, last.message_id, "LL-", after=cursor, timeout=WAIT)
    number = ticket_number(receipt.text)
    answer = await (await person.press(first, texts.BTN_CONFIRM)).answer()
    assert (answer.text, answer.show_alert) == (texts.draft_already_sent(number), True)
    await desk.barrier()
    [t] = await desk.tickets(2402)
    assert t.number == number and "好几天了" in t.text
    assert desk.emulator.message(2402, first.message_id).buttons == []  # its keyboard removed with the answer


async def test_the_button_and_a_typed_yes_give_the_same_receipt(desk: Bot) -> None:
    pressed_by = await registered(desk, 2403)
    typed_by = await registered(desk, 2404)
    words = "5号楼1单元楼道灯不亮了"
    pressed = await pressed_by.confirm(await pressed_by.say(words, has_confirm))
    shown = await typed_by.say(words.replace("5号楼", "6号楼"), has_confirm)
    cursor = await typed_by.send("好的")
    typed = await desk.emulator.wait_for_edit(2404, shown.message_id, "LL-", after=cursor, timeout=WAIT)
    one, other = ticket_number(pressed.text), ticket_number(typed.text)
    assert typed.text.replace(other, one).replace("6号楼", "5号楼") == pressed.text
    assert [b.text for b in typed.buttons] == [b.text for b in pressed.buttons]


# -- 2. neighbours following a case rate it too ------


async def followed_and_asked(desk: Bot, owner_id: int, neighbour_id: int
                             ) -> tuple[str, Person, Person, SentMessage, SentMessage]:
    """A case, a neighbour's same complaint joined to it, 办结, and the 回访 an hour later: (number, the author,
    the neighbour, the author's rating request, the neighbour's)."""
    owner = await registered(desk, owner_id, "王阿姨")
    number, _, _ = await open_case(desk, owner, NOISE, JUWEIHUI)
    neighbour = await registered(desk, neighbour_id, "赵大爷")
    joined = await neighbour.confirm(await neighbour.say(NOISE, has_confirm), number)
    assert number in joined.text
    async with desk.db.transaction() as s:
        t = (await s.exec(select(Ticket).where(Ticket.number == number))).one()
        assert (await lifecycle.confirm_resolved(s, t, actor="test", now=desk.clock.now())).ok
    desk.clock.advance(hours=2)
    cursor = desk.emulator.cursor()
    assert await jobs.followup_tick(desk.app) == (1, 0)
    first_line = texts.rating_request(number, None).splitlines()[0]
    asked_owner = await owner.reply(first_line, after=cursor)
    asked_neighbour = await neighbour.reply(first_line, after=cursor)
    return number, owner, neighbour, asked_owner, asked_neighbour


async def follower_row(desk: Bot, number: str, tg_user_id: int) -> TicketFollower:
    async with desk.db.session() as s:
        stmt = (select(TicketFollower).join(Ticket, col(Ticket.id) == col(TicketFollower.ticket_id))
                .join(Resident, col(Resident.id) == col(TicketFollower.resident_id))
                .where(Ticket.number == number, Resident.tg_user_id == tg_user_id))
        return (await s.exec(stmt)).one()


async def rated_events(desk: Bot, number: str) -> list[tuple[str, Rating | None]]:
    t = await ticket(desk, number)
    async with desk.db.session() as s:
        stmt = (select(TicketEvent).where(TicketEvent.ticket_id == t.id, TicketEvent.kind == TicketEventKind.RATED)
                .order_by(col(TicketEvent.id)))
        return [(e.actor, e.rating) for e in (await s.exec(stmt)).all()]


async def test_every_neighbour_following_a_case_is_asked_once_and_rates_it_apart(desk: Bot) -> None:
    number, owner, neighbour, asked_owner, asked_neighbour = await followed_and_asked(desk, 2411, 2412)
    assert [b.text for b in asked_neighbour.buttons] == [b.text for b in asked_owner.buttons] == list(
        texts.BTN_RATE.values())
    await desk.barrier()
    cursor = desk.emulator.cursor()
    assert await jobs.followup_tick(desk.app) == (0, 0)  # once each
    await desk.barrier()
    assert person_asked(desk, neighbour, number, cursor) == person_asked(desk, owner, number, cursor) == 0

    pressed = await neighbour.press(asked_neighbour, texts.BTN_RATE["s"])
    thanks = await pressed.edit()
    assert thanks.text == texts.follower_rating_thanks(number, "s") and thanks.buttons == []
    t = await ticket(desk, number)
    assert (t.status, t.rating) == (S.RESOLVED, None)  # the case's rating is its author's, still to come
    row = await follower_row(desk, number, 2412)
    assert (row.rating, row.rated_at) == (Rating.SATISFIED, desk.clock.now())

    await owner.press(asked_owner, texts.BTN_RATE["b"])
    await desk.barrier()
    t = await ticket(desk, number)
    assert (t.status, t.rating) == (S.CLOSED, Rating.BASICALLY_SATISFIED)  # not overwritten, nor overwriting
    assert (await follower_row(desk, number, 2412)).rating is Rating.SATISFIED
    assert [r for _, r in await rated_events(desk, number)] == [Rating.SATISFIED, Rating.BASICALLY_SATISFIED]

    # the neighbour's old keyboard pressed again: nothing more is recorded
    again = await neighbour.press(asked_neighbour, "", forge_data=first_data(asked_neighbour, texts.BTN_RATE["u"]))
    assert (await again.answer()).text == texts.RATING_CLOSED
    await desk.barrier()
    assert (await follower_row(desk, number, 2412)).rating is Rating.SATISFIED
    assert (await ticket(desk, number)).status == S.CLOSED


def person_asked(desk: Bot, person: Person, number: str, after: int) -> int:
    head = texts.rating_request(number, None).splitlines()[0]
    return len([m for m in person.replies(after) if m.text.startswith(head)])


async def test_a_neighbour_s_unsatisfied_reopens_and_escalates_as_the_author_s_does(desk: Bot) -> None:
    """The author was satisfied first: the case waits at 已回访 for the neighbour asked, whose 不满意 reopens it,
    one level up, the card to that level's chat; the author's 满意 stays the case's rating."""
    number, owner, neighbour, asked_owner, asked_neighbour = await followed_and_asked(desk, 2413, 2414)
    await owner.press(asked_owner, texts.BTN_RATE["s"])
    await desk.barrier()
    t = await ticket(desk, number)
    assert (t.status, t.rating) == (S.FOLLOWED_UP, Rating.SATISFIED)  # the neighbour has not answered yet
    cursor = desk.emulator.cursor()
    pressed = await neighbour.press(asked_neighbour, texts.BTN_RATE["u"])
    thanks = await pressed.edit()
    assert thanks.text == texts.follower_rating_thanks(number, "u")
    escalated = await desk.emulator.wait_for(LEVEL_CHATS["community"], number, after=cursor, timeout=WAIT)
    level = desk.deps.community.escalation_level("community").name  # one above the grid's level that handled it
    assert escalated.text.startswith(texts.card_header_escalated(level, texts.ESCALATION_REASON["unsatisfied"]))
    t = await ticket(desk, number)
    assert (t.status, t.escalation_level, t.rating) == (S.REOPENED, "community", Rating.SATISFIED)
    assert (await follower_row(desk, number, 2414)).rating is Rating.UNSATISFIED


async def test_a_neighbour_s_unsatisfied_typed_is_taken_as_pressed(desk: Bot) -> None:
    number, _, neighbour, _, _ = await followed_and_asked(desk, 2415, 2416)
    thanks = await neighbour.say("不满意 晚上还在敲")
    assert thanks.text == texts.rating_unsatisfied_heard(number)  # why was said: sent on, not asked again
    t = await ticket(desk, number)
    assert (t.status, t.escalation_level, t.rating) == (S.REOPENED, "community", None)
    row = await follower_row(desk, number, 2416)
    assert (row.rating, row.rating_comment) == (Rating.UNSATISFIED, "不满意 晚上还在敲")


async def test_the_case_closes_with_the_last_answer_or_when_the_window_passes(desk: Bot) -> None:
    number, owner, neighbour, asked_owner, asked_neighbour = await followed_and_asked(desk, 2417, 2418)
    await owner.press(asked_owner, texts.BTN_RATE["s"])
    await neighbour.press(asked_neighbour, texts.BTN_RATE["b"])
    await desk.barrier()
    assert (await ticket(desk, number)).status == S.CLOSED  # the last answer owed closes it

    other, owner2, _, asked_owner2, _ = await followed_and_asked(desk, 2419, 2420)
    await owner2.press(asked_owner2, texts.BTN_RATE["s"])
    await desk.barrier()
    assert (await ticket(desk, other)).status == S.FOLLOWED_UP
    desk.clock.advance(days=3)
    assert await jobs.followup_tick(desk.app) == (0, 1)  # the neighbour never answered: closed all the same
    t = await ticket(desk, other)
    assert (t.status, t.rating) == (S.CLOSED, Rating.SATISFIED)
