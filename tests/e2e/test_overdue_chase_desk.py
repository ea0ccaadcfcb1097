"""Keeping after cases through the real bot: a case nobody handles climbs grid → community → street and the street
is then reminded once per period; a question the resident never answers is chased (the resident reminded, then the
unit's desk told). The clock is advanced and one sweep tick run at a time, never by waiting."""

from __future__ import annotations

from datetime import datetime, timedelta

from linli_e2e import (
    JUWEIHUI,
    LEVEL_CHATS,
    LI,
    WAIT,
    Bot,
    desk_messages,
    events,
    open_case,
    press,
    registered,
    say_in,
    ticket,
)

from bot import jobs
from bot.emulator import SentMessage
from handlers import texts
from storage.models import TicketEventKind, TicketStatus

MINUTE = timedelta(minutes=1)


async def _quiet_tick(desk: Bot) -> None:
    cursor = desk.emulator.cursor()
    assert (await jobs.sweep_tick(desk.app)).empty
    await desk.barrier()
    assert desk_messages(desk, cursor) == []


async def test_an_unhandled_case_climbs_to_the_street_and_the_street_is_reminded_each_period(desk: Bot) -> None:
    emu, clock = desk.emulator, desk.clock
    person = await registered(desk, 2001)
    number, _, _ = await open_case(desk, person)  # nobody ever signs it
    t = await ticket(desk, number)
    limit = t.due_at - t.created_at
    names = {lv: desk.deps.community.escalation_level(lv).name for lv in LEVEL_CHATS}

    async def climbs(at: datetime, level: str, reason: str) -> SentMessage:
        clock.value = at
        cursor = emu.cursor()
        report = await jobs.sweep_tick(desk.app)
        assert [(e.level.value, e.reason.value) for e in report.escalations] == [(level, reason)]
        card = await emu.wait_for(LEVEL_CHATS[level], number, after=cursor, timeout=WAIT)
        assert card.text.startswith(texts.card_header_escalated(names[level], texts.ESCALATION_REASON[reason]))
        await desk.barrier()
        await _quiet_tick(desk)  # the same moment again: nothing new
        return card

    await climbs(t.sign_due_at + MINUTE, "grid", "sign_overdue")
    await climbs(t.due_at + MINUTE, "community", "breached")
    clock.value = t.due_at + limit - MINUTE  # red, but not yet a further limit
    await _quiet_tick(desk)
    street = await climbs(t.due_at + limit + MINUTE, "street", "overdue")
    assert (await ticket(desk, number)).escalation_level == "street"

    # the top: no higher level, so the street's chat is reminded under its card, once each further limit
    for periods in (2, 3):
        clock.value = t.due_at + periods * limit + MINUTE
        cursor = emu.cursor()
        report = await jobs.sweep_tick(desk.app)
        assert report.escalations == () and [r.kind.value for r in report.reminders] == ["overdue"]
        await desk.barrier()
        [reminder] = desk_messages(desk, cursor)
        assert (reminder.chat_id, reminder.reply_to_message_id) == (LEVEL_CHATS["street"], street.message_id)
        assert reminder.text == texts.staff_reminder(number, "overdue", t.due_at)
        await _quiet_tick(desk)
    escalated = [(e.level, e.note) for e in await events(desk, number, TicketEventKind.ESCALATED)]
    assert escalated == [("grid", "sign_overdue"), ("community", "breached"), ("street", "overdue")]
    assert (await ticket(desk, number)).status == TicketStatus.DISPATCHED  # the sweep reminds; it never closes


async def test_a_question_the_resident_never_answers_is_chased_then_left_to_the_desk(desk: Bot) -> None:
    emu, clock = desk.emulator, desk.clock
    person = await registered(desk, 2001)
    number, _, card = await open_case(desk, person)
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    cursor = emu.cursor()
    assert (await press(desk, LI, JUWEIHUI, card, texts.BTN_NEED_INFO)).text == texts.STAFF_PROMPTED
    prompt = await emu.wait_for(JUWEIHUI, texts.staff_ask_info(number), after=cursor, timeout=WAIT)
    await say_in(desk, LI, JUWEIHUI, "请问是几单元几楼？", reply_to=prompt, expect=texts.staff_info_asked(number))
    asked = (await ticket(desk, number)).paused_at
    assert asked is not None
    await desk.barrier()

    clock.value = asked + MINUTE  # the status change armed it: the sweep stores the real moment, says nothing
    await _quiet_tick(desk)
    remind_at = (await ticket(desk, number)).next_check_at
    assert remind_at is not None and remind_at - asked >= timedelta(days=3)  # three working days
    clock.value = remind_at - MINUTE
    await _quiet_tick(desk)

    clock.value = remind_at
    cursor = emu.cursor()
    report = await jobs.sweep_tick(desk.app)
    assert [c.kind.value for c in report.chases] == ["info_resident"]
    reminder = await person.reply(after=cursor)
    assert reminder.text == texts.resident_info_reminder(number, asked)
    await desk.barrier()
    assert desk_messages(desk, cursor) == []  # the desk is not told yet
    await _quiet_tick(desk)

    desk_at = (await ticket(desk, number)).next_check_at
    assert desk_at is not None and desk_at - asked >= timedelta(days=5)
    clock.value = desk_at + timedelta(days=3)  # a late sweep: still told once
    cursor = emu.cursor()
    report = await jobs.sweep_tick(desk.app)
    assert [c.kind.value for c in report.chases] == ["info_desk"]
    told = await emu.wait_for(JUWEIHUI, texts.staff_info_unanswered(number, asked), after=cursor, timeout=WAIT)
    assert told.reply_to_message_id is not None
    await desk.barrier()
    for days in (30, 60):  # then nothing more: the staff decide (call the resident, or close it)
        clock.value = asked + timedelta(days=days)
        await _quiet_tick(desk)
    t = await ticket(desk, number)
    assert (t.status, t.info_chased, t.next_check_at) == (TicketStatus.PENDING_INFO, 2, None)
    chased = [e.note for e in await events(desk, number, TicketEventKind.REMINDED)]
    assert chased == ["info_resident", "info_desk"]

    # the resident answers the reminder itself, at last: the case goes on where it was
    cursor = emu.cursor()
    await emu.send_text(person.id, "3单元502", person.id, reply_to=reminder.message_id)
    assert (await person.reply(after=cursor)).text == texts.RESIDENT_INFO_THANKS
    assert (await ticket(desk, number)).status == TicketStatus.SIGNED
