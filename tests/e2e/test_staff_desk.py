"""The staff desk through the real bot and the Bot API emulator: cards, buttons, relays, jobs, ratings.

The community file is the sample with chat ids added for two units and the three escalation levels, so
each post can be checked in the chat it belongs to. Jobs are run one tick at a time at the test's clock
(the scheduled desk job is removed), never by waiting for the scheduler.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from linli_e2e import (
    CARD_BUTTONS,
    JUWEIHUI,
    LEVEL_CHATS,
    LI,
    OTHER_GROUP,
    SIGNED_BUTTONS,
    STAFF_CHAT_ID,
    UNIT_CHATS,
    WAIT,
    WANG,
    ZHANG,
    Bot,
    button_labels,
    data_of,
    desk_messages,
    events,
    first_data,
    open_case,
    press,
    registered,
    say_in,
    ticket,
)
from sqlmodel import select

from bot import jobs
from handlers import names, texts
from handlers.callbacks import unpack
from services.cases.mediation import record_mediation
from services.cases.tickets import open_ticket
from services.community.model import Category
from storage.models import (
    MediationStage,
    Rating,
    Resident,
    TicketEventKind,
    TicketPost,
    TicketStatus,
)

# -- the whole case ------


async def test_case_from_complaint_to_unsatisfied_rating(desk: Bot) -> None:
    emu, clock = desk.emulator, desk.clock
    person = await registered(desk, 2001)
    number, _, card = await open_case(desk, person)
    unit = desk.deps.community.unit_for(Category.NOISE)

    # the card: in the unit's chat, five signed buttons carrying number.version; the ticket is dispatched
    t = await ticket(desk, number)
    assert [b.text for b in card.buttons] == CARD_BUTTONS
    unpacked = [unpack(desk.deps.callback_secret, b.callback_data) for b in card.buttons]
    assert [c.action for c in unpacked] == ["ss", "sr", "sp", "sd", "se"]
    assert {c.arg for c in unpacked} == {f"{number}.{t.version}"}
    assert t.status == TicketStatus.DISPATCHED and "A03" in card.text and unit.name in card.text
    assert emu.messages_after(STAFF_CHAT_ID, 0) == []  # the unit has its own chat

    # 签收 by two staff at the same moment: one wins, the other is told what happened
    sign = data_of(card, texts.BTN_SIGN)
    first = await emu.press(ZHANG, card.message_id, sign, chat_id=JUWEIHUI)
    second = await emu.press(LI, card.message_id, sign, chat_id=JUWEIHUI)
    won, lost = await emu.wait_for_answer(first, timeout=WAIT), await emu.wait_for_answer(second, timeout=WAIT)
    assert (won.text, won.show_alert) == (texts.STAFF_SIGNED, False)
    assert (lost.text, lost.show_alert) == (texts.staff_conflict(texts.STATUS["signed"]), True)
    t = await ticket(desk, number)
    assert t.status == TicketStatus.SIGNED and t.signed_at == clock.now()
    [signed] = [e for e in await events(desk, number) if e.to_status == TicketStatus.SIGNED]
    assert signed.actor == f"staff:{ZHANG}"
    await desk.barrier()
    assert button_labels(desk, JUWEIHUI, card) == SIGNED_BUTTONS
    assert texts.STATUS["signed"] in emu.message(JUWEIHUI, card.message_id).text

    # a staff reply to the card reaches the resident as the unit's answer, and is recorded
    cursor = emu.cursor()
    ack = await say_in(desk, ZHANG, JUWEIHUI, "您好，我们下午上门查看。", reply_to=card)
    answer = await person.reply(after=cursor)
    assert ack.text == texts.STAFF_RELAYED
    assert answer.text == texts.resident_staff_reply(number, unit.name, "您好，我们下午上门查看。")
    [reply] = await events(desk, number, TicketEventKind.REPLY)
    assert (reply.actor, reply.note) == (f"staff:{ZHANG}", "您好，我们下午上门查看。")

    # the resident answers that message: it comes back under the card
    cursor = emu.cursor()
    await emu.reply(person.id, answer.message_id, "好的，我下午在家")
    back = await emu.wait_for(JUWEIHUI, "好的，我下午在家", after=cursor, timeout=WAIT)
    assert back.reply_to_message_id == card.message_id
    assert (await person.reply(after=cursor)).text == texts.RESIDENT_SENT
    assert [e.actor for e in await events(desk, number, TicketEventKind.REPLY)][-1].startswith("resident:")

    # 需补充: a ForceReply prompt, the question goes to the resident, the clock stops
    due_before = (await ticket(desk, number)).due_at
    cursor = emu.cursor()
    assert (await press(desk, LI, JUWEIHUI, card, texts.BTN_NEED_INFO)).text == texts.STAFF_PROMPTED
    prompt = await emu.wait_for(JUWEIHUI, texts.staff_ask_info(number), after=cursor, timeout=WAIT)
    assert prompt.reply_markup.get("force_reply") is True and prompt.reply_to_message_id == card.message_id
    assert (await ticket(desk, number)).status == TicketStatus.SIGNED  # nothing changes until the question
    cursor = emu.cursor()
    await say_in(desk, LI, JUWEIHUI, "请问是几单元几楼？", reply_to=prompt, expect=texts.staff_info_asked(number))
    question = await person.reply(after=cursor)
    assert question.text == texts.resident_need_info(number, unit.name, "请问是几单元几楼？")
    t = await ticket(desk, number)
    assert (t.status, t.paused_at, t.resume_status) == (TicketStatus.PENDING_INFO, clock.now(), TicketStatus.SIGNED)
    await desk.barrier()
    assert button_labels(desk, JUWEIHUI, card) == [texts.BTN_ESCALATE]

    # five hours later the resident writes (no reply needed while the case waits for them): clock resumes
    clock.advance(hours=5)
    cursor = await person.send("2单元15楼")
    back = await emu.wait_for(JUWEIHUI, "2单元15楼", after=cursor, timeout=WAIT)
    assert back.reply_to_message_id == card.message_id and "恢复计时" in back.text
    assert (await person.reply(after=cursor)).text == texts.RESIDENT_INFO_THANKS
    t = await ticket(desk, number)
    assert (t.status, t.paused_at, t.paused_seconds) == (TicketStatus.SIGNED, None, 5 * 3600)
    assert t.due_at == due_before + timedelta(hours=5)
    await desk.barrier()
    assert button_labels(desk, JUWEIHUI, card) == SIGNED_BUTTONS

    # 办结 needs a result: prompt, reply, the resident is told at once
    cursor = emu.cursor()
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_RESOLVE)
    prompt = await emu.wait_for(JUWEIHUI, texts.staff_ask_result(number), after=cursor, timeout=WAIT)
    result = "已协调楼上住户，装修只在工作日9:00-18:00进行。"
    cursor = emu.cursor()
    await say_in(desk, ZHANG, JUWEIHUI, result, reply_to=prompt, expect=texts.staff_resolved(number))
    told = await person.reply(after=cursor)
    assert told.text == texts.resident_resolved(number, unit.name, result)
    t = await ticket(desk, number)
    assert (t.status, t.result, t.resolved_at) == (TicketStatus.RESOLVED, result, clock.now())
    assert [e.to_status for e in await events(desk, number, TicketEventKind.STATUS_CHANGED)][-2:] == [
        TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED]
    await desk.barrier()
    assert button_labels(desk, JUWEIHUI, card) == []

    # follow-up: nothing before the delay, then one rating request, once
    clock.advance(minutes=59)
    assert await jobs.followup_tick(desk.app) == (0, 0)
    clock.advance(minutes=2)
    cursor = emu.cursor()
    assert await jobs.followup_tick(desk.app) == (1, 0)
    rating = await person.reply(after=cursor)
    assert rating.text == texts.rating_request(number, result)
    assert [b.text for b in rating.buttons] == list(texts.BTN_RATE.values())
    assert await jobs.followup_tick(desk.app) == (0, 0)

    # 不满意: reopened, escalated one level above the grid's level that handled it: the community's chat has the
    # card, the grid level's (the grid worker the resident was unhappy with) none
    cursor = emu.cursor()
    pressed = await person.press(rating, texts.BTN_RATE["u"])
    assert (await pressed.answer()).show_alert is False
    thanks = await pressed.edit()
    assert thanks.text == texts.rating_thanks(number, "u") and thanks.buttons == []
    escalated = await emu.wait_for(LEVEL_CHATS["community"], number, after=cursor, timeout=WAIT)
    level = desk.deps.community.escalation_level("community").name
    assert escalated.text.startswith(texts.card_header_escalated(level, texts.ESCALATION_REASON["unsatisfied"]))
    assert [b.text for b in escalated.buttons] == CARD_BUTTONS  # reopened: to be signed for again
    t = await ticket(desk, number)
    assert (t.status, t.rating, t.escalation_level) == (TicketStatus.REOPENED, Rating.UNSATISFIED, "community")
    assert not [m for m in emu.messages_after(LEVEL_CHATS["grid"], cursor) if number in (m.text or "")]
    await desk.barrier()
    assert button_labels(desk, JUWEIHUI, card) == CARD_BUTTONS  # the unit's card is live again


@pytest.mark.parametrize("desk", [8], indirect=True)
async def test_two_signs_handled_concurrently_one_wins(desk: Bot) -> None:
    emu = desk.emulator
    person = await registered(desk, 2001)
    number, _, card = await open_case(desk, person)
    sign = data_of(card, texts.BTN_SIGN)
    queries = [await emu.press(user, card.message_id, sign, chat_id=JUWEIHUI) for user in (ZHANG, LI)]
    answers = [await emu.wait_for_answer(q, timeout=WAIT) for q in queries]
    assert sorted(a.text for a in answers) == sorted([texts.STAFF_SIGNED, texts.staff_conflict(texts.STATUS["signed"])])
    signed = [e for e in await events(desk, number) if e.to_status == TicketStatus.SIGNED]
    assert len(signed) == 1 and (await ticket(desk, number)).status == TicketStatus.SIGNED


# -- notes, queue, board, rates ------


async def test_notes_stay_internal_and_queue_board_rates_show_the_case(desk: Bot) -> None:
    emu, clock = desk.emulator, desk.clock
    person = await registered(desk, 2001)
    number, _, card = await open_case(desk, person)
    cursor = emu.cursor()

    saved = await say_in(desk, ZHANG, JUWEIHUI, f"/note {number} 居民情绪激动，注意沟通")
    assert saved.text == texts.STAFF_NOTE_SAVED
    saved = await say_in(desk, ZHANG, JUWEIHUI, "/note 已电话联系楼上", reply_to=card)
    assert saved.text == texts.STAFF_NOTE_SAVED
    assert (await say_in(desk, ZHANG, JUWEIHUI, "/note")).text == texts.STAFF_NOTE_USAGE
    await desk.barrier()
    assert person.replies(cursor) == []  # nothing reached the resident
    notes = await events(desk, number, TicketEventKind.NOTE)
    assert [n.note for n in notes] == ["居民情绪激动，注意沟通", "已电话联系楼上"]

    queue = await say_in(desk, ZHANG, JUWEIHUI, "/queue")
    assert number in queue.text and "🟢" in queue.text and "🔴" not in queue.text
    assert (await say_in(desk, ZHANG, UNIT_CHATS["wuye"], "/queue")).text == texts.QUEUE_EMPTY  # not theirs
    assert number in (await say_in(desk, ZHANG, STAFF_CHAT_ID, "/queue")).text  # the staff chat sees all
    assert (await say_in(desk, ZHANG, OTHER_GROUP, "/queue")).text == texts.STAFF_NOT_DESK

    unit = desk.deps.community.unit_for(Category.NOISE)
    board = await say_in(desk, ZHANG, STAFF_CHAT_ID, "/board")
    assert board.text == texts.board([(unit.name, 0, 0, 1)])

    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_SIGN)
    clock.advance(hours=168 * 0.8)  # 80 % of the noise limit used: yellow
    queue = await say_in(desk, ZHANG, JUWEIHUI, "/queue")
    assert f"{texts.COLOUR_MARK['yellow']}\n" + texts.queue_line(
        number, names.complaint_name(desk.deps, "noise"), texts.STATUS["signed"], (await ticket(desk, number)).due_at
    ) in queue.text
    board = await say_in(desk, ZHANG, JUWEIHUI, "/board")
    assert board.text == texts.board([(unit.name, 0, 1, 0)])

    rates = await say_in(desk, ZHANG, STAFF_CHAT_ID, "/rates")
    assert rates.text == texts.rates(desk.deps.community.name, 30, "100.0%（1/1）", "—（0/0）", "—（0/0）",
                                     "0")  # signed in time, the rest still open: the whole community here


# -- the sweep job ------


async def test_sweep_tick_posts_a_yellow_reminder_then_an_escalation_once_each(desk: Bot) -> None:
    emu, clock = desk.emulator, desk.clock
    person = await registered(desk, 2001)
    number, _, card = await open_case(desk, person)
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_SIGN)
    t = await ticket(desk, number)

    clock.value = t.created_at + timedelta(hours=168 * 0.74)
    cursor = emu.cursor()
    assert (await jobs.sweep_tick(desk.app)).empty
    await desk.barrier()  # what a tick owes is sent by the sender: wait until the outbox is empty
    assert desk_messages(desk, cursor) == []

    clock.value = t.created_at + timedelta(hours=168 * 0.76)
    report = await jobs.sweep_tick(desk.app)
    assert [r.kind.value for r in report.reminders] == ["yellow"] and report.escalations == ()
    await desk.barrier()
    [reminder] = desk_messages(desk, cursor)
    assert reminder.chat_id == JUWEIHUI and reminder.reply_to_message_id == card.message_id
    assert reminder.text == texts.staff_reminder(number, "yellow", t.due_at)
    cursor = emu.cursor()
    assert (await jobs.sweep_tick(desk.app)).empty  # the same moment again: nothing new
    await desk.barrier()
    assert desk_messages(desk, cursor) == []

    clock.value = t.due_at + timedelta(minutes=1)
    report = await jobs.sweep_tick(desk.app)
    assert [(e.level, e.reason.value) for e in report.escalations] == [("grid", "breached")]
    escalated = await emu.wait_for(LEVEL_CHATS["grid"], number, after=cursor, timeout=WAIT)
    level = desk.deps.community.escalation_level("grid").name
    assert escalated.text.startswith(texts.card_header_escalated(level, texts.ESCALATION_REASON["breached"]))
    assert "🔴" in escalated.text and [b.text for b in escalated.buttons] == SIGNED_BUTTONS
    await desk.barrier()
    assert f"已升级：{level}" in emu.message(JUWEIHUI, card.message_id).text  # the unit's card shows it
    cursor = emu.cursor()
    assert (await jobs.sweep_tick(desk.app)).empty
    await desk.barrier()
    assert desk_messages(desk, cursor) == []

    # a reply in the escalation chat still reaches the resident: any desk chat may answer
    cursor = emu.cursor()
    await say_in(desk, LI, LEVEL_CHATS["grid"], "网格员已介入。", reply_to=escalated, expect=texts.STAFF_RELAYED)
    assert "网格员已介入。" in (await person.reply(after=cursor)).text


async def test_unsigned_ticket_is_reminded_and_escalated_at_the_sign_limit(desk: Bot) -> None:
    person = await registered(desk, 2001)
    number, _, card = await open_case(desk, person)
    desk.clock.advance(hours=2, minutes=1)
    cursor = desk.emulator.cursor()
    report = await jobs.sweep_tick(desk.app)
    assert [r.kind.value for r in report.reminders] == ["sign_overdue"]
    await desk.emulator.wait_for(LEVEL_CHATS["grid"], number, after=cursor, timeout=WAIT)
    sign_due = (await ticket(desk, number)).sign_due_at
    reminder = await desk.emulator.wait_for(JUWEIHUI, texts.staff_reminder(number, "sign_overdue", sign_due),
                                            after=cursor, timeout=WAIT)
    assert reminder.reply_to_message_id == card.message_id


# -- buttons: reassign, escalate, who may press ------


async def test_reassign_posts_to_the_new_unit_and_retires_the_old_card(desk: Bot) -> None:
    emu = desk.emulator
    person = await registered(desk, 2001)
    number, _, card = await open_case(desk, person)
    answer = await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_REASSIGN)
    assert answer.text == texts.STAFF_CHOOSE_UNIT
    units = button_labels(desk, JUWEIHUI, card)
    wuye = desk.deps.community.unit("wuye")
    assert wuye.name in units and desk.deps.community.unit("juweihui").name not in units
    assert units[-1] == texts.BTN_UNIT_BACK

    cursor = emu.cursor()
    assert (await press(desk, ZHANG, JUWEIHUI, card, wuye.name)).text == texts.staff_reassigned(wuye.name)
    moved = await emu.wait_for(UNIT_CHATS["wuye"], number, after=cursor, timeout=WAIT)
    assert [b.text for b in moved.buttons] == CARD_BUTTONS
    t = await ticket(desk, number)
    assert (t.unit, t.status) == ("wuye", TicketStatus.DISPATCHED)
    [event] = await events(desk, number, TicketEventKind.REASSIGNED)
    assert (event.unit, event.note, event.actor) == ("wuye", texts.REASSIGN_REASON, f"staff:{ZHANG}")
    await desk.barrier()
    assert button_labels(desk, JUWEIHUI, card) == []  # no longer this unit's case
    assert (await press(desk, ZHANG, UNIT_CHATS["wuye"], moved, texts.BTN_SIGN)).text == texts.STAFF_NO_ROLE
    assert (await press(desk, WANG, UNIT_CHATS["wuye"], moved, texts.BTN_SIGN)).text == texts.STAFF_SIGNED

    # the old card's stale data pressed anyway (a modified client): refused, nothing changes
    query = await emu.press(ZHANG, card.message_id, first_data(card, texts.BTN_SIGN), chat_id=JUWEIHUI, forge=True)
    refused = await emu.wait_for_answer(query, timeout=WAIT)
    assert (refused.text, refused.show_alert) == (texts.STAFF_NOT_HERE, True)


async def test_escalate_button_posts_to_the_next_level_and_sign_first_rules(desk: Bot) -> None:
    emu = desk.emulator
    person = await registered(desk, 2001)
    number, _, card = await open_case(desk, person)
    assert (await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_RESOLVE)).text == texts.STAFF_SIGN_FIRST
    assert (await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_NEED_INFO)).text == texts.STAFF_SIGN_FIRST
    cursor = emu.cursor()
    level = desk.deps.community.escalation_level("grid").name
    assert (await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_ESCALATE)).text == texts.staff_escalated(level)
    posted = await emu.wait_for(LEVEL_CHATS["grid"], number, after=cursor, timeout=WAIT)
    assert posted.text.startswith(texts.card_header_escalated(level, texts.ESCALATION_REASON["manual"]))
    [event] = await events(desk, number, TicketEventKind.ESCALATED)
    assert (event.level, event.note, event.actor) == ("grid", "manual", f"staff:{ZHANG}")

    # the card in the unit's chat was drawn before the escalation: its old data is a conflict, not a second move
    query = await emu.press(LI, card.message_id, first_data(card, texts.BTN_ESCALATE), chat_id=JUWEIHUI,
                            forge=True)
    stale = await emu.wait_for_answer(query, timeout=WAIT)
    assert stale.text == texts.staff_conflict(texts.STATUS["dispatched"]) and stale.show_alert
    assert (await ticket(desk, number)).escalation_level == "grid"

    # the same buttons pressed in a group that is no desk are refused
    cursor = emu.cursor()
    await emu.send_text(ZHANG, "/queue", OTHER_GROUP)
    bot_msg = await emu.wait_for(OTHER_GROUP, after=cursor, timeout=WAIT)
    query = await emu.press(ZHANG, bot_msg.message_id, data_of(posted, texts.BTN_SIGN), chat_id=OTHER_GROUP,
                            forge=True)
    assert (await emu.wait_for_answer(query, timeout=WAIT)).text == texts.STAFF_NOT_HERE
    assert (await ticket(desk, number)).status == TicketStatus.DISPATCHED


# -- ratings are the resident's own ------


async def test_rating_presses_by_others_or_forged_are_refused(desk: Bot) -> None:
    emu, clock = desk.emulator, desk.clock
    person = await registered(desk, 2001)
    number, _, card = await open_case(desk, person)
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_SIGN)
    cursor = emu.cursor()
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_RESOLVE)
    prompt = await emu.wait_for(JUWEIHUI, texts.staff_ask_result(number), after=cursor, timeout=WAIT)
    await say_in(desk, ZHANG, JUWEIHUI, "已处理。", reply_to=prompt, expect=texts.staff_resolved(number))
    await desk.barrier()  # the result reaches the resident through the outbox: before the rating request
    clock.advance(hours=2)
    cursor = emu.cursor()
    await jobs.followup_tick(desk.app)
    rating = await person.reply(after=cursor)
    satisfied = data_of(rating, texts.BTN_RATE["s"])

    neighbour = await registered(desk, 2002, "李大爷")
    own = await neighbour.say("/help")
    refused = await (await neighbour.press(own, "", forge_data=satisfied)).answer()
    assert (refused.text, refused.show_alert) == (texts.RATING_NOT_YOURS, True)
    body, sig = satisfied.rsplit("|", 1)
    forged = f"{body.removesuffix('.s')}.u|{sig}"  # 满意 turned into 不满意, signature kept
    refused = await (await person.press(rating, "", forge_data=forged)).answer()
    assert (refused.text, refused.show_alert) == (texts.STALE_BUTTON, True)
    assert (await ticket(desk, number)).status == TicketStatus.RESOLVED

    pressed = await person.press(rating, texts.BTN_RATE["s"])
    assert (await pressed.edit()).text == texts.rating_thanks(number, "s")
    t = await ticket(desk, number)
    assert (t.status, t.rating) == (TicketStatus.CLOSED, Rating.SATISFIED)
    again = await (await person.press(rating, "", forge_data=satisfied)).answer()
    assert again.text == texts.RATING_CLOSED
    cursor = emu.cursor()
    await emu.reply(person.id, rating.message_id, "谢谢")  # about a closed case: told politely
    assert (await person.reply(after=cursor)).text == texts.RESIDENT_TICKET_CLOSED


async def test_posts_are_recorded_for_routing(desk: Bot) -> None:
    person = await registered(desk, 2001)
    number, _, card = await open_case(desk, person)
    t = await ticket(desk, number)
    async with desk.db.session() as s:
        posts = list((await s.exec(select(TicketPost).where(TicketPost.ticket_id == t.id))).all())
    assert [(p.chat_id, p.message_id, p.kind.value) for p in posts] == [(JUWEIHUI, card.message_id, "ticket")]


async def test_meeting_tick_reminds_a_mediation_meeting_once(desk: Bot) -> None:
    person = await registered(desk, 2001)
    now = desk.clock.now()
    async with desk.db.transaction() as s:
        owner = (await s.exec(select(Resident).where(Resident.tg_user_id == person.id))).one()
        case = await open_ticket(s, resident=owner, category="dispute", text="邻居占用楼道堆放杂物，协商不成",
                                 location="9号楼", photos=[], community=desk.deps.community, now=now)
        for stage in (MediationStage.APPLIED, MediationStage.REGISTERED):
            assert (await record_mediation(s, case, stage, actor="staff:1", now=now)).ok
        meeting_at = now + timedelta(hours=3)
        assert (await record_mediation(s, case, MediationStage.MEETING, actor="staff:1", now=now,
                                       meeting_at=meeting_at)).ok
    cursor = desk.emulator.cursor()
    assert await jobs.meeting_tick(desk.app) == 0  # three hours ahead: not yet
    desk.clock.advance(hours=1, minutes=30)
    assert await jobs.meeting_tick(desk.app) == 1  # owed and recorded in one transaction: exactly once
    await desk.barrier()
    [reminder] = desk_messages(desk, cursor)
    assert (reminder.chat_id, reminder.text) == (JUWEIHUI, texts.staff_meeting(case.number, meeting_at))
    desk.clock.advance(minutes=1)
    assert await jobs.meeting_tick(desk.app) == 0
    await desk.barrier()
    assert desk_messages(desk, reminder.seq) == []


async def test_a_desk_chat_the_bot_cannot_reach_is_reported_to_the_staff_chat(desk: Bot) -> None:
    """A reminder owed to a unit's chat that is gone ("chat not found"): the staff chat hears of it."""
    person = await registered(desk, 2001)
    await open_case(desk, person)
    chat = desk.emulator.chats.pop(JUWEIHUI)
    try:
        cursor = desk.emulator.cursor()
        desk.clock.advance(hours=2, minutes=1)  # past the sign-for limit: a reminder under the card
        await jobs.sweep_tick(desk.app)
        warning = await desk.staff_message(str(JUWEIHUI), after=cursor)
        assert warning.text == texts.staff_group_unreachable(JUWEIHUI)
    finally:
        desk.emulator.chats[JUWEIHUI] = chat


# -- /case and /queue's buttons bring a card back ------


async def test_case_brings_back_the_card_with_its_buttons_where_it_belongs(desk: Bot) -> None:
    person = await registered(desk, 2301)
    number, _, _ = await open_case(desk, person)
    cursor = desk.emulator.cursor()
    await say_in(desk, ZHANG, JUWEIHUI, f"/case {number}", expect=None)
    again = await desk.emulator.wait_for(JUWEIHUI, lambda m: number in m.text and m.buttons, after=cursor, timeout=WAIT)
    assert [b.text for b in again.buttons] == CARD_BUTTONS
    assert (await say_in(desk, WANG, UNIT_CHATS["wuye"], f"/case {number}")).text == texts.case_elsewhere(
        number, desk.deps.community.unit("juweihui").name)  # not theirs: whose it is and where to look
    assert (await say_in(desk, ZHANG, JUWEIHUI, "/case")).text == texts.CASE_USAGE
    assert (await say_in(desk, ZHANG, JUWEIHUI, "/case LL-20260101-0999")).text == texts.TICKET_NOT_FOUND_STAFF


async def test_queue_lists_cases_with_buttons_that_post_their_cards(desk: Bot) -> None:
    person = await registered(desk, 2302)
    number, _, _ = await open_case(desk, person)
    queue = await say_in(desk, ZHANG, JUWEIHUI, "/queue")
    [button] = queue.buttons
    assert button.text == texts.queue_button(texts.COLOUR_MARK["green"], number)
    cursor = desk.emulator.cursor()
    await press(desk, ZHANG, JUWEIHUI, queue, button.text)
    card = await desk.emulator.wait_for(JUWEIHUI, lambda m: number in m.text and m.buttons, after=cursor, timeout=WAIT)
    assert [b.text for b in card.buttons] == CARD_BUTTONS
