"""督办 and ``/history`` through the real bot: a supervisor presses the unit on a case (the card shows it, /board
and /supervisions count it), the unit answers on time by replying, a second 督办 goes overdue and is answered late,
the report counts both; supervisors read but the card's buttons refuse them; every act on the case, refusals
included, is in its history, a page at a time."""

from __future__ import annotations

from datetime import timedelta

from linli_e2e import (
    JUWEIHUI,
    LI,
    OTHER_GROUP,
    STAFF_CHAT_ID,
    UNIT_CHATS,
    WAIT,
    WANG,
    ZHANG,
    Bot,
    data_of,
    events,
    open_case,
    press,
    registered,
    say_in,
    ticket,
)
from sqlmodel import select

from bot.emulator import SentMessage
from handlers import texts
from storage.models import AuditEntry, Supervision, TicketEventKind, TicketStatus

SUPERVISOR, UNIT_SUPERVISOR = 5201, 5202
REASON = "超期未回复居民，请说明原因"


async def said(bot: Bot, user: int, chat: int, text: str, *, reply_to: SentMessage | None = None) -> str:
    """What the bot answers ``text`` in ``chat`` (everything owed is sent before this returns)."""
    cursor = bot.emulator.cursor()
    await bot.emulator.send_text(user, text, chat, reply_to=reply_to.message_id if reply_to else None)
    answer = await bot.emulator.wait_for(chat, None, after=cursor, timeout=WAIT)
    await bot.barrier()
    return answer.text or ""


async def supervisions(bot: Bot) -> list[Supervision]:
    async with bot.db.session() as s:
        return list((await s.exec(select(Supervision).order_by(Supervision.id))).all())


async def test_supervision_end_to_end(desk: Bot) -> None:
    emu, clock = desk.emulator, desk.clock
    await desk.grant(SUPERVISOR, "supervisor")
    await desk.grant(UNIT_SUPERVISOR, "supervisor", "wuye")
    sup = desk.person(SUPERVISOR, "纪工委老陈")
    resident = await registered(desk, 2001)
    number, _, card = await open_case(desk, resident)
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_SIGN)
    unit = desk.deps.community.unit("juweihui")

    # bad forms and people who may not: one clear answer each, nothing recorded
    usage = texts.SUPERVISE_USAGE
    assert await said(desk, SUPERVISOR, sup.id, "/supervise") == usage
    assert await said(desk, SUPERVISOR, sup.id, "/supervise LL-2026 原因") == usage
    assert await said(desk, SUPERVISOR, sup.id, f"/supervise {number}") == (
        texts.SUPERVISE_REFUSED["reason_required"] + "\n\n" + usage)
    assert await said(desk, SUPERVISOR, sup.id, f"/supervise {number} {REASON} 2026-03-01 18:00") == (
        texts.SUPERVISE_REFUSED["deadline_passed"] + "\n\n" + usage)
    assert await said(desk, SUPERVISOR, sup.id, "/supervise LL-20260317-0099 原因") == texts.TICKET_NOT_FOUND_STAFF
    assert await said(desk, SUPERVISOR, OTHER_GROUP, f"/supervise {number} {REASON}") == texts.STAFF_NOT_DESK
    assert await said(desk, ZHANG, JUWEIHUI, f"/supervise {number} {REASON}") == texts.SUPERVISE_NO_ROLE
    other = desk.person(UNIT_SUPERVISOR, "物业督办")
    assert await said(desk, UNIT_SUPERVISOR, other.id, f"/supervise {number} {REASON}") == texts.SUPERVISE_NO_ROLE
    assert await supervisions(desk) == []

    # the 督办: recorded, the unit's chat gets the card (with the line) and the 督办 under it; old cards redrawn
    cursor = emu.cursor()
    due = clock.now() + timedelta(days=3)
    assert await said(desk, SUPERVISOR, sup.id, f"/supervise {number} {REASON} 3天") == texts.supervise_done(
        number, unit.name, due)
    [row] = await supervisions(desk)
    assert (row.reason, row.reply_by, row.supervisor_tg_id, row.answered_at) == (REASON, due, SUPERVISOR, None)
    [event] = await events(desk, number, TicketEventKind.SUPERVISED)
    assert (event.actor, event.note, event.meeting_at) == (f"supervisor:{SUPERVISOR}", REASON, due)
    new_card, alert = emu.messages_after(JUWEIHUI, cursor)
    line = texts.supervision_line(REASON, due, False, None, False)
    assert new_card.text.startswith(f"{texts.CARD_HEADER_SUPERVISED} {number}") and line in new_card.text
    assert "督办：超期未回复居民，请说明原因　回复期限 3月20日 10:00　待答复" in new_card.text
    assert alert.text == texts.staff_supervised(number, REASON, due)
    assert alert.reply_to_message_id == new_card.message_id
    assert line in emu.message(JUWEIHUI, card.message_id).text  # the card posted before shows it too
    assert (await ticket(desk, number)).status == TicketStatus.SIGNED  # a 督办 changes nothing of the workflow

    # supervisors read but never act: the card's buttons refuse them, and the refusal is kept
    for label in (texts.BTN_RESOLVE, texts.BTN_ESCALATE):
        answer = await press(desk, SUPERVISOR, JUWEIHUI, new_card, label)
        assert (answer.text, answer.show_alert) == (texts.SUPERVISOR_READ_ONLY, True)
    query = await emu.press(SUPERVISOR, card.message_id, data_of(emu.message(JUWEIHUI, card.message_id),
                                                                  texts.BTN_REASSIGN), chat_id=JUWEIHUI)
    assert (await emu.wait_for_answer(query, timeout=WAIT)).text == texts.SUPERVISOR_READ_ONLY
    assert (await ticket(desk, number)).status == TicketStatus.SIGNED
    async with desk.db.session() as s:
        refused = (await s.exec(select(AuditEntry).where(AuditEntry.tg_user_id == SUPERVISOR,
                                                         AuditEntry.allowed.is_(False)))).all()
    assert {(r.via, r.chat_id, r.ticket_id is not None) for r in refused} >= {
        ("button:sd", JUWEIHUI, True), ("button:se", JUWEIHUI, True), ("button:sr", JUWEIHUI, True)}

    # the board and the list count it; the report too
    assert texts.board_supervisions(1, 0) in await said(desk, ZHANG, JUWEIHUI, "/board")
    listed = await said(desk, ZHANG, JUWEIHUI, "/supervisions")
    assert listed == "\n".join([texts.supervisions_header(1, 0), texts.supervision_item(
        number, unit.name, REASON, due, False)])
    assert await said(desk, WANG, UNIT_CHATS["wuye"], "/supervisions") == texts.SUPERVISIONS_NONE
    assert listed == await said(desk, SUPERVISOR, sup.id, "/supervisions")
    assert await said(desk, resident.id, resident.id, "/supervisions") == texts.REPORT_NO_ROLE
    assert await said(desk, ZHANG, ZHANG, "/supervisions") == texts.SUPERVISIONS_PRIVATE_STAFF  # in their unit's chat

    # the unit answers by replying to the 督办: on time; the supervisor is told, the cards show it
    cursor = emu.cursor()
    answer = "已联系居民，今天下午上门处理"
    assert await said(desk, ZHANG, JUWEIHUI, answer, reply_to=alert) == texts.supervision_answered(number, True)
    told = await sup.reply(after=cursor)
    assert told.text == texts.supervisor_told_answer(number, unit.name, answer, True)
    assert resident.replies(cursor) == []  # an answer to the 督办 is not a reply to the resident
    [row] = await supervisions(desk)
    assert (row.answered_at, row.answered_by, row.answer) == (clock.now(), f"staff:{ZHANG}", answer)
    assert texts.supervision_line(REASON, due, True, True, False) in emu.message(JUWEIHUI, new_card.message_id).text
    assert await said(desk, ZHANG, JUWEIHUI, f"/answer {number} 再答一次") == texts.supervision_nothing_pending(number)

    # a second 督办, due in 2 days, goes overdue: listed and counted, then answered late
    clock.advance(hours=1)
    second_due = clock.now() + timedelta(days=2)
    await said(desk, SUPERVISOR, sup.id, f"/supervise {number} 仍未办结 2天")
    clock.advance(days=3)
    assert texts.board_supervisions(1, 1) in await said(desk, ZHANG, JUWEIHUI, "/board")
    assert texts.supervision_item(number, unit.name, "仍未办结", second_due, True) in await said(
        desk, ZHANG, JUWEIHUI, "/supervisions")
    report = await said(desk, ZHANG, STAFF_CHAT_ID, "/report week")
    assert "· 督办 2，督办按时答复率 50.0%（1/2）" in report  # an overdue 督办 counts as late already
    assert texts.report_overdue_supervisions(1) in report
    assert await said(desk, ZHANG, JUWEIHUI, f"/answer {number}") == (
        texts.SUPERVISE_REFUSED["empty_answer"] + "\n" + texts.ANSWER_CASE_USAGE)
    assert await said(desk, WANG, UNIT_CHATS["wuye"], f"/answer {number} 不是我们的") == texts.STAFF_NOT_HERE
    cursor = emu.cursor()
    assert await said(desk, LI, JUWEIHUI, f"/answer {number} 已办结") == texts.supervision_answered(
        number, False)
    assert (await sup.reply(after=cursor)).text == texts.supervisor_told_answer(number, unit.name, "已办结", False)
    report = await said(desk, ZHANG, STAFF_CHAT_ID, "/report week")
    assert "· 督办 2，督办按时答复率 50.0%（1/2）" in report and texts.report_overdue_supervisions(0) in report

    # /answer naming no case is still the 码上议 desk's
    assert await said(desk, ZHANG, JUWEIHUI, "/answer JY-20260317-0001 已列入计划") == (
        texts.ANSWER_REFUSED["unknown"].format(number="JY-20260317-0001", answer=""))


async def test_history_pages_every_act_with_who_where_and_refusals(desk: Bot) -> None:
    emu, clock = desk.emulator, desk.clock
    await desk.grant(SUPERVISOR, "supervisor")
    sup = desk.person(SUPERVISOR, "纪工委老陈")
    resident = await registered(desk, 2001)
    number, _, card = await open_case(desk, resident)
    clock.advance(minutes=1)
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_SIGN)
    clock.advance(minutes=1)
    await say_in(desk, ZHANG, JUWEIHUI, "您好，我们下午上门查看。", reply_to=card, expect=texts.STAFF_RELAYED)
    clock.advance(minutes=1)
    await said(desk, ZHANG, JUWEIHUI, f"/note {number} 已电话联系物业")
    clock.advance(minutes=1)
    await press(desk, WANG, JUWEIHUI, card, texts.BTN_RESOLVE)  # staff of another unit: refused
    clock.advance(minutes=1)
    await said(desk, SUPERVISOR, sup.id, f"/supervise {number} {REASON} 3天")
    clock.advance(minutes=1)
    assert await said(desk, resident.id, resident.id, f"/history {number}") == texts.HISTORY_NO_ROLE
    clock.advance(minutes=1)

    # allowed acts are kept with their chat and case, where may_act allowed them
    async with desk.db.session() as s:
        kept = (await s.exec(select(AuditEntry).where(AuditEntry.tg_user_id == ZHANG))).all()
    t = await ticket(desk, number)
    assert [(a.action, a.via, a.chat_id, a.ticket_id, a.allowed) for a in kept] == [
        ("ticket.act", via, JUWEIHUI, t.id, True) for via in ("button:ss", "reply:ticket", "/note")]

    # the desk's view: the newest page, who did what where, in order
    page = await said(desk, ZHANG, JUWEIHUI, f"/history {number}")
    here = "金桂社区居民委员会群"
    assert page.split("\n") == [
        texts.history_header(number, 1, 1, 8),
        "03-17 10:00 居民王阿姨：提交诉求",
        "03-17 10:00 系统：派单",
        f"03-17 10:01 张主任（{here}）：点「签收」，状态 已派单 → 已签收",
        f"03-17 10:02 张主任（{here}）：回复工单卡片，答复居民：您好，我们下午上门查看。",
        f"03-17 10:03 张主任（{here}）：内部备注：已电话联系物业",
        f"03-17 10:04 王经理（{here}）：{texts.HISTORY_REFUSED}点「办结」",
        f"03-17 10:05 督办人员纪工委老陈（私聊）：督办：{REASON}（回复期限 3月20日 10:05）",
        f"03-17 10:06 王阿姨（私聊）：{texts.HISTORY_REFUSED}查看记录",
    ]

    # the supervisor may read it privately; staff of another unit may not, and that is kept too
    assert await said(desk, SUPERVISOR, sup.id, f"/history {number}") == page
    assert await said(desk, WANG, UNIT_CHATS["wuye"], f"/history {number}") == texts.HISTORY_NO_ROLE

    # bad forms
    for bad in ("/history", "/history LL-2026", f"/history {number} first", f"/history {number} 1 2"):
        assert await said(desk, ZHANG, JUWEIHUI, bad) == texts.HISTORY_USAGE
    assert await said(desk, ZHANG, JUWEIHUI, "/history LL-20260317-0099") == texts.TICKET_NOT_FOUND_STAFF
    assert await said(desk, ZHANG, OTHER_GROUP, f"/history {number}") == texts.STAFF_NOT_DESK

    # a longer story is paged: the newest page first, ◀ 较早 turns back in place
    for i in range(12):
        await said(desk, ZHANG, JUWEIHUI, f"/note {number} 跟进第{i + 1}次")
    cursor = emu.cursor()
    await emu.send_text(ZHANG, f"/history {number}", JUWEIHUI)
    last = await emu.wait_for(JUWEIHUI, None, after=cursor, timeout=WAIT)
    assert last.text.split("\n")[0].endswith("第 2/2 页）") and "跟进第12次" in last.text
    assert [b.text for b in last.buttons] == [texts.BTN_HISTORY_OLDER]
    assert len(last.text) < 4096 and len(last.text.split("\n")) <= 13
    query = await emu.press(ZHANG, last.message_id, data_of(last, texts.BTN_HISTORY_OLDER), chat_id=JUWEIHUI)
    await emu.wait_for_answer(query, timeout=WAIT)
    first = await emu.wait_for_edit(JUWEIHUI, last.message_id, after=cursor, timeout=WAIT)
    assert first.text.split("\n")[0].endswith("第 1/2 页）") and "提交诉求" in first.text
    assert [b.text for b in first.buttons] == [texts.BTN_HISTORY_NEWER]
    assert await said(desk, ZHANG, JUWEIHUI, f"/history {number} 1") == first.text


def overdue_alerts(messages: list[SentMessage]) -> list[SentMessage]:
    """The 督办-overdue alerts among what a desk chat got (the sweep's 催办 may come too)."""
    return [m for m in messages if m.method == "sendMessage" and (m.text or "").startswith(texts.SUPERVISION_MARK)]


async def test_a_supervision_past_its_deadline_is_told_once_to_the_desk_and_the_supervisor(desk: Bot) -> None:
    from bot import jobs

    emu, clock = desk.emulator, desk.clock
    await desk.grant(SUPERVISOR, "supervisor")
    sup = desk.person(SUPERVISOR, "纪工委老陈")
    resident = await registered(desk, 2011)
    number, _, card = await open_case(desk, resident)
    unit = desk.deps.community.unit("juweihui")
    due = clock.now() + timedelta(days=2)
    await said(desk, SUPERVISOR, sup.id, f"/supervise {number} {REASON} 2天")

    clock.advance(days=1)  # not yet due: nothing told
    cursor = emu.cursor()
    await jobs.desk_tick(desk.app)
    await desk.barrier()
    assert overdue_alerts(emu.messages_after(JUWEIHUI, cursor)) == [] and sup.replies(cursor) == []

    clock.advance(days=1, minutes=1)
    cursor = emu.cursor()
    await jobs.desk_tick(desk.app)
    await desk.barrier()
    [alert] = overdue_alerts(emu.messages_after(JUWEIHUI, cursor))
    assert alert.text == texts.staff_supervision_overdue(number, REASON, due)
    assert [m.text for m in sup.replies(cursor)] == [texts.supervisor_told_overdue(number, unit.name, due)]
    assert texts.supervision_line(REASON, due, False, None, True) in emu.message(JUWEIHUI, card.message_id).text
    notes = await events(desk, number, TicketEventKind.NOTE)
    assert [e.note for e in notes] == [f"督办逾期未答复（督办#{(await supervisions(desk))[0].id}）"]
    assert resident.replies(cursor) == []  # internal: the resident's history never shows it

    cursor = emu.cursor()  # told once: the next ticks say nothing more
    clock.advance(hours=5)
    await jobs.desk_tick(desk.app)
    await desk.barrier()
    assert overdue_alerts(emu.messages_after(JUWEIHUI, cursor)) == []
    assert sup.replies(cursor) == []

    # a reply to the overdue alert is the unit's (late) answer
    cursor = emu.cursor()
    assert await said(desk, ZHANG, JUWEIHUI, "已上门处理完毕", reply_to=alert) == texts.supervision_answered(
        number, False)
    assert (await sup.reply(after=cursor)).text == texts.supervisor_told_answer(number, unit.name, "已上门处理完毕",
                                                                              False)
