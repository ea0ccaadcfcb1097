"""A working week at the desk (5 Dec trial), tried as the residents' committee's staff, the property company's, the
grid worker and a supervisor, through the real bot: each test is one realistic scenario, asserting what staff would
expect to read on their cards and what the residents are told. The clock is set and one sweep tick run at a time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from linli_e2e import (
    CARD_BUTTONS,
    JUWEIHUI,
    LEVEL_CHATS,
    LI,
    SIGNED_BUTTONS,
    UNIT_CHATS,
    WAIT,
    WANG,
    ZHANG,
    Bot,
    Clock,
    button_labels,
    community_with,
    events,
    open_case,
    press,
    registered,
    running_desk,
    say_in,
    ticket,
)

from bot import jobs
from bot.emulator import BotApiEmulator, SentMessage
from handlers import texts
from storage.models import Rating, TicketEventKind, TicketStatus

WUYE = UNIT_CHATS["wuye"]
WORKER = 6103  # the grid worker of A03
LEAK = "9号楼2单元楼道水管漏水，地上全是水"


def now_text(desk: Bot, chat: int, message: SentMessage) -> str:
    return (desk.emulator.message(chat, message.message_id) or message).text


async def ask_info(desk: Bot, user: int, chat: int, card: SentMessage, number: str, question: str) -> None:
    cursor = desk.emulator.cursor()
    await press(desk, user, chat, card, texts.BTN_NEED_INFO)
    prompt = await desk.emulator.wait_for(chat, texts.staff_ask_info(number), after=cursor, timeout=WAIT)
    await say_in(desk, user, chat, question, reply_to=prompt, expect=texts.staff_info_asked(number))
    await desk.barrier()


async def resolve(desk: Bot, user: int, chat: int, card: SentMessage, number: str, result: str) -> None:
    cursor = desk.emulator.cursor()
    await press(desk, user, chat, card, texts.BTN_RESOLVE)
    prompt = await desk.emulator.wait_for(chat, texts.staff_ask_result(number), after=cursor, timeout=WAIT)
    await say_in(desk, user, chat, result, reply_to=prompt, expect=texts.staff_resolved(number))
    await desk.barrier()


# 1 ----------------------------------------------------------------------------------------------------------------


async def test_more_info_answered_in_two_messages_both_reach_the_card(desk: Bot) -> None:
    """Monday: 李干事 signs a noise case and asks which flat; 王阿姨 answers in two messages. Both reach the card
    (the first resumes the clock), she is thanked, and neither becomes a new case."""
    emu = desk.emulator
    person = await registered(desk, 2101)
    number, _, card = await open_case(desk, person)
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    await ask_info(desk, LI, JUWEIHUI, card, number, "请问楼上是几单元几楼？")
    assert button_labels(desk, JUWEIHUI, card) == [texts.BTN_ESCALATE]
    cursor = await person.send("2单元")
    first = await emu.wait_for(JUWEIHUI, "2单元", after=cursor, timeout=WAIT)
    assert first.reply_to_message_id == card.message_id and "恢复计时" in first.text
    await desk.barrier()
    cursor = await person.send("15楼，1502，晚上十点以后还在敲")
    second = await emu.wait_for(JUWEIHUI, "1502", after=cursor, timeout=WAIT)
    assert second.reply_to_message_id == card.message_id
    await desk.barrier()
    assert len(await desk.tickets(person.id)) == 1  # no second case
    assert (await ticket(desk, number)).status == TicketStatus.SIGNED
    assert button_labels(desk, JUWEIHUI, card) == SIGNED_BUTTONS
    said = [m.text for m in person.replies(cursor)]
    assert said and not any("确认提交" in s for s in said), said
    desk.clock.advance(minutes=11)  # past ANSWER_WINDOW_MINUTES: such words are no answer any more
    late = await person.say("15楼那家还在敲")
    assert late.text == texts.NOT_UNDERSTOOD


# 2 ----------------------------------------------------------------------------------------------------------------


async def test_reassigned_to_the_property_company_then_closed_with_a_reply(desk: Bot) -> None:
    """A leak filed as the committee's goes to 物业 by 转派; 王经理 signs, replies and closes. The resident hears
    of the move and the result with the property company's name; the committee's card is retired."""
    emu = desk.emulator
    person = await registered(desk, 2102)
    number, _, card = await open_case(desk, person, "楼上邻居家天天半夜吵闹，9号楼")
    wuye = desk.deps.community.unit("wuye")
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_REASSIGN)
    cursor = emu.cursor()
    await press(desk, ZHANG, JUWEIHUI, card, wuye.name)
    moved = await emu.wait_for(WUYE, number, after=cursor, timeout=WAIT)
    assert [b.text for b in moved.buttons] == CARD_BUTTONS
    told = [m.text for m in person.replies(cursor)]
    assert texts.resident_reassigned(number, wuye.name) in told, told
    assert button_labels(desk, JUWEIHUI, card) == []
    await press(desk, WANG, WUYE, moved, texts.BTN_SIGN)
    cursor = emu.cursor()
    await say_in(desk, WANG, WUYE, "您好，物业今晚七点上门了解情况。", reply_to=moved, expect=texts.STAFF_RELAYED)
    answer = await person.reply(after=cursor)
    assert answer.text == texts.resident_staff_reply(number, wuye.name, "您好，物业今晚七点上门了解情况。")
    cursor = emu.cursor()
    result = "已上门沟通，邻居承诺晚十点后不再发出噪音。"
    await resolve(desk, WANG, WUYE, moved, number, result)
    assert texts.resident_resolved(number, wuye.name, result) in [m.text for m in person.replies(cursor)]
    assert "已办结" in now_text(desk, WUYE, moved) or texts.STATUS["resolved"] in now_text(desk, WUYE, moved)
    assert button_labels(desk, WUYE, moved) == []


# 3 ----------------------------------------------------------------------------------------------------------------


async def _unsatisfied(desk: Bot) -> tuple[str, SentMessage, object, SentMessage]:
    """A noise case signed, closed and rated 不满意: (number, card, the resident, the thanks that asks why)."""
    emu, clock = desk.emulator, desk.clock
    person = await registered(desk, 2103)
    number, _, card = await open_case(desk, person)
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_SIGN)
    await resolve(desk, ZHANG, JUWEIHUI, card, number, "已电话提醒楼上住户。")
    clock.advance(minutes=61)
    cursor = emu.cursor()
    await jobs.followup_tick(desk.app)
    rating = await person.reply(after=cursor)
    pressed = await person.press(rating, texts.BTN_RATE["u"])
    thanks = await pressed.edit()
    await desk.barrier()
    t = await ticket(desk, number)
    assert (t.status, t.rating, t.escalation_level) == (TicketStatus.REOPENED, Rating.UNSATISFIED, "community")
    assert button_labels(desk, JUWEIHUI, card) == CARD_BUTTONS
    return number, card, person, thanks


async def test_unsatisfied_words_in_reply_to_the_thanks_reach_the_desk(desk: Bot) -> None:
    """She rates 不满意 and, as the thanks invites, answers it saying why: the words land under the case's card."""
    emu = desk.emulator
    number, _, person, thanks = await _unsatisfied(desk)
    cursor = emu.cursor()
    await emu.reply(person.id, thanks.message_id, "根本没人来看过，今天晚上还在砸墙")
    await desk.barrier()
    said = [m for m in emu.messages_after(JUWEIHUI, cursor) + emu.messages_after(LEVEL_CHATS["community"], cursor)
            if "砸墙" in (m.text or "")]
    assert said and number in said[0].text
    assert len(await desk.tickets(person.id)) == 1


@pytest.mark.xfail(strict=True, reason="words typed (not as a reply) right after 不满意 start a new complaint draft "
                   "(asks for the place) instead of reaching the reopened case: resident-side routing, "
                   "handlers/resident/*")
async def test_unsatisfied_words_typed_plainly_after_the_rating_reach_the_desk(desk: Bot) -> None:
    emu = desk.emulator
    _, _, person, _ = await _unsatisfied(desk)
    cursor = await person.send("根本没人来看过，今天晚上还在砸墙")
    await desk.barrier()
    assert [m for m in emu.messages_after(JUWEIHUI, cursor) if "砸墙" in (m.text or "")], \
        [m.text for m in person.replies(cursor)]


# 4 ----------------------------------------------------------------------------------------------------------------


async def test_an_overdue_case_goes_yellow_then_red_and_the_board_agrees(desk: Bot) -> None:
    emu, clock = desk.emulator, desk.clock
    person = await registered(desk, 2104)
    number, _, card = await open_case(desk, person)
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_SIGN)
    t = await ticket(desk, number)
    clock.value = t.created_at + (t.due_at - t.created_at) * 0.8
    report = await jobs.sweep_tick(desk.app)
    assert [r.kind.value for r in report.reminders] == ["yellow"]
    await desk.barrier()
    assert "🟡" in now_text(desk, JUWEIHUI, card)
    board = await say_in(desk, ZHANG, JUWEIHUI, "/board")
    assert "🟡1" in board.text
    clock.value = t.due_at + timedelta(minutes=5)
    cursor = emu.cursor()
    report = await jobs.sweep_tick(desk.app)
    assert [e.level for e in report.escalations] == ["grid"]
    up = await emu.wait_for(LEVEL_CHATS["grid"], number, after=cursor, timeout=WAIT)
    await desk.barrier()
    assert "🔴" in up.text and "🔴" in now_text(desk, JUWEIHUI, card)
    board = await say_in(desk, ZHANG, JUWEIHUI, "/board")
    assert "🔴1" in board.text
    queue = await say_in(desk, ZHANG, JUWEIHUI, "/queue")
    assert "已超时" in queue.text


# 5 ----------------------------------------------------------------------------------------------------------------


async def test_a_place_corrected_after_staff_signed_redraws_the_card(desk: Bot) -> None:
    """王阿姨 files a leak at 9号楼, 王经理 signs it, then she writes 不对 是4号楼: the card says 4号楼, still signed,
    the desk is told; the case is not refiled."""
    emu = desk.emulator
    person = await registered(desk, 2105)
    number, _, card = await open_case(desk, person, LEAK, WUYE)
    await press(desk, WANG, WUYE, card, texts.BTN_SIGN)
    cursor = await person.send("不对 是4号楼")
    await desk.barrier()
    t = await ticket(desk, number)
    said = [m.text for m in person.replies(cursor)]
    assert "4号楼" in (t.location or ""), (t.location, said)
    assert t.status == TicketStatus.SIGNED
    text = now_text(desk, WUYE, card)
    assert "4号楼" in text and "9号楼2单元楼道" not in text.split("地点")[-1].split("\n")[0], text
    assert button_labels(desk, WUYE, card) == SIGNED_BUTTONS
    told = [m.text for m in emu.messages_after(WUYE, cursor) if m.method == "sendMessage"]
    assert told == [f"📍 居民 王阿姨 更正了 {number} 的地点：9号楼2单元楼道 → 4号楼楼道\n工单卡片已按新地点更新。"]
    assert len(await desk.tickets(person.id)) == 1


# 6 ----------------------------------------------------------------------------------------------------------------


async def test_a_joined_case_closed_tells_both_residents(desk: Bot) -> None:
    emu = desk.emulator
    author = await registered(desk, 2106, "王阿姨")
    number, _, card = await open_case(desk, author, "9号楼电梯坏了", WUYE)
    neighbour = await registered(desk, 2107, "李大爷")
    confirmation = await neighbour.say("9号楼的电梯又坏了，好几天了",
                                       lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    joined = await neighbour.confirm(confirmation)
    assert number in joined.text
    await desk.barrier()
    await press(desk, WANG, WUYE, card, texts.BTN_SIGN)
    cursor = emu.cursor()
    result = "电梯维保单位已更换门机板，电梯恢复运行。"
    await resolve(desk, WANG, WUYE, card, number, result)
    a = [m.text for m in author.replies(cursor)]
    n = [m.text for m in neighbour.replies(cursor)]
    assert any(result in s for s in a), a
    assert any(result in s for s in n), n
    detail = (await neighbour.say(f"/tickets {number}")).text
    assert "困了好几次" not in detail


# 7 ----------------------------------------------------------------------------------------------------------------


async def test_unreachable_close_counted_apart_in_report_and_rates(desk: Bot) -> None:
    emu, clock = desk.emulator, desk.clock
    person = await registered(desk, 2108)
    number, _, card = await open_case(desk, person)
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    await ask_info(desk, LI, JUWEIHUI, card, number, "请问是几单元几楼？")
    asked = (await ticket(desk, number)).paused_at
    clock.value = asked + timedelta(days=10)  # still March: /rates' 30 days and the month hold it
    cursor = emu.cursor()
    await jobs.sweep_tick(desk.app)
    told = await emu.wait_for(JUWEIHUI, texts.staff_info_unanswered(number, asked), after=cursor, timeout=WAIT)
    await desk.barrier()
    await press(desk, LI, JUWEIHUI, told, texts.BTN_CLOSE_UNREACHABLE)
    t = await ticket(desk, number)
    assert (t.status, t.rating) == (TicketStatus.RESOLVED, Rating.UNREACHABLE)
    assert button_labels(desk, JUWEIHUI, card) == []
    report = (await say_in(desk, LI, JUWEIHUI, "/report month")).text
    await desk.barrier()
    rates = (await say_in(desk, LI, JUWEIHUI, "/rates")).text
    await desk.barrier()
    assert "无法联系办结 1" in report
    # the same case counted the same way in both: signed in time, never rated, closed without anyone to ask
    assert "响应率（按时签收）：100.0%（1/1）" in rates and "· 响应率 100.0%（1/1）" in report
    assert "满意率：—（0/0）" in rates and "· 满意率 —（0/0）" in report
    assert "未评价：0 件" in rates and "· 未评价 —（0/0）" in report


# 8 ----------------------------------------------------------------------------------------------------------------


async def test_the_grid_workers_own_grid(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> None:
    path = community_with(tmp_path, workers={"A03": WORKER})
    async with running_desk(emulator, tmp_path, clock, community_file=path) as desk:
        desk.person(WORKER, "李秀英")
        person = await registered(desk, 2109)
        number, _, _ = await open_case(desk, person)
        queue = await say_in(desk, WORKER, WORKER, "/queue")
        assert number in queue.text
        shown = await say_in(desk, WORKER, WORKER, f"/case {number}")
        assert number in shown.text
        cursor = emulator.cursor()
        note = await say_in(desk, WORKER, WORKER, f"/note {number} 已电话联系楼上住户")
        assert note.text == texts.STAFF_NOTE_SAVED
        await desk.barrier()
        assert not [m for m in person.replies(cursor) if "已电话联系" in m.text]
        notes = await events(desk, number, TicketEventKind.NOTE)
        assert [e.note for e in notes] == ["已电话联系楼上住户"]


# 9 ----------------------------------------------------------------------------------------------------------------


async def test_a_signed_case_withdrawn_by_its_resident_after_escalation(desk: Bot) -> None:
    """A case escalated to the grid level, then withdrawn by the resident: the unit's card and the level's card both
    lose their buttons and read 已撤回; the desk is told once under the card."""
    emu = desk.emulator
    person = await registered(desk, 2110)
    number, _, card = await open_case(desk, person)
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_SIGN)
    cursor = emu.cursor()
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_ESCALATE)
    up = await emu.wait_for(LEVEL_CHATS["grid"], number, after=cursor, timeout=WAIT)
    ask = await person.say("算了不投诉了", lambda m: any(b.text == texts.BTN_WITHDRAW_YES for b in m.buttons))
    cursor = emu.cursor()
    await person.click(ask, texts.BTN_WITHDRAW_YES)
    await desk.barrier()
    assert (await ticket(desk, number)).status == TicketStatus.WITHDRAWN
    for chat, message in ((JUWEIHUI, card), (LEVEL_CHATS["grid"], up)):
        assert texts.STATUS["withdrawn"] in now_text(desk, chat, message), chat
        assert button_labels(desk, chat, message) == [], chat
    told = [m.text for m in emu.messages_after(JUWEIHUI, cursor) if m.method == "sendMessage"]
    assert told == [texts.staff_withdrawn(number)]


# 10 ---------------------------------------------------------------------------------------------------------------


async def test_staff_of_another_unit_cannot_work_the_committees_card(desk: Bot) -> None:
    person = await registered(desk, 2111)
    number, _, card = await open_case(desk, person)
    answer = await press(desk, WANG, JUWEIHUI, card, texts.BTN_SIGN)
    assert answer.text == texts.STAFF_NO_ROLE and answer.show_alert
    assert (await ticket(desk, number)).status == TicketStatus.DISPATCHED
    assert button_labels(desk, JUWEIHUI, card) == CARD_BUTTONS


# 11 ---------------------------------------------------------------------------------------------------------------


async def test_a_satisfied_rating_closes_the_card_and_counts_in_rates(desk: Bot) -> None:
    emu, clock = desk.emulator, desk.clock
    person = await registered(desk, 2112)
    number, _, card = await open_case(desk, person)
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    await resolve(desk, LI, JUWEIHUI, card, number, "已与装修户沟通，周末不施工。")
    clock.advance(minutes=61)
    cursor = emu.cursor()
    await jobs.followup_tick(desk.app)
    rating = await person.reply(after=cursor)
    await (await person.press(rating, texts.BTN_RATE["s"])).edit()
    await desk.barrier()
    t = await ticket(desk, number)
    assert t.rating == Rating.SATISFIED
    assert button_labels(desk, JUWEIHUI, card) == []
    rates = (await say_in(desk, LI, JUWEIHUI, "/rates")).text
    assert "满意率：100.0%（1/1）" in rates and "按时办结率：100.0%（1/1）" in rates


# 12 ---------------------------------------------------------------------------------------------------------------


async def test_an_unsigned_case_escalated_at_the_sign_limit_then_signed_redraws_the_levels_card(desk: Bot) -> None:
    emu, clock = desk.emulator, desk.clock
    person = await registered(desk, 2113)
    number, _, card = await open_case(desk, person)
    clock.advance(hours=2, minutes=1)
    cursor = emu.cursor()
    await jobs.sweep_tick(desk.app)
    up = await emu.wait_for(LEVEL_CHATS["grid"], number, after=cursor, timeout=WAIT)
    await desk.barrier()
    assert [b.text for b in up.buttons] == CARD_BUTTONS
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    assert texts.STATUS["signed"] in now_text(desk, LEVEL_CHATS["grid"], up)
    assert button_labels(desk, LEVEL_CHATS["grid"], up) == SIGNED_BUTTONS
    assert button_labels(desk, JUWEIHUI, card) == SIGNED_BUTTONS


# 13 ---------------------------------------------------------------------------------------------------------------


async def test_a_staff_reply_after_the_case_is_closed_still_reaches_the_resident(desk: Bot) -> None:
    emu = desk.emulator
    person = await registered(desk, 2114)
    number, _, card = await open_case(desk, person)
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    await resolve(desk, LI, JUWEIHUI, card, number, "已处理。")
    cursor = emu.cursor()
    ack = await say_in(desk, LI, JUWEIHUI, "补充一句：如再有噪音请随时联系我们。", reply_to=card)
    assert ack.text == texts.STAFF_RELAYED
    assert "如再有噪音" in (await person.reply(after=cursor)).text
    assert (await ticket(desk, number)).status == TicketStatus.RESOLVED


# 14 ---------------------------------------------------------------------------------------------------------------


async def test_case_and_note_on_another_units_case_in_a_units_chat(desk: Bot) -> None:
    person = await registered(desk, 2115)
    number, _, _ = await open_case(desk, person, LEAK, WUYE)
    shown = await say_in(desk, ZHANG, JUWEIHUI, f"/case {number}")
    assert shown.text == texts.case_elsewhere(number, desk.deps.community.unit("wuye").name)
    said = await say_in(desk, ZHANG, JUWEIHUI, f"/note {number} 楼下住户也反映过")
    assert said.text != texts.STAFF_NOTE_SAVED, said.text
    assert await events(desk, number, TicketEventKind.NOTE) == []


# 15 ---------------------------------------------------------------------------------------------------------------


@pytest.mark.xfail(strict=True, reason="a Telegram resident who phones in her answer to 需补充 cannot be recorded: the "
                   "card shows only 升级, and a second reply to the prompt is answered "
                   "已经是这个状态了（当前状态：待补充） with the clock still stopped "
                   "(handlers/desk/relays.py _ask_info resumes only offline residents; test_desk_offline_cases.py "
                   "asserts that refusal on purpose: a design choice for the lead, not fixed here)")
async def test_need_info_answered_by_phone_staff_records_the_answer(desk: Bot) -> None:
    """The resident called the office instead of answering: staff answer the 需补充 prompt again with what she said."""
    emu = desk.emulator
    person = await registered(desk, 2116)
    number, _, card = await open_case(desk, person)
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    cursor = emu.cursor()
    await press(desk, LI, JUWEIHUI, card, texts.BTN_NEED_INFO)
    prompt = await emu.wait_for(JUWEIHUI, texts.staff_ask_info(number), after=cursor, timeout=WAIT)
    await say_in(desk, LI, JUWEIHUI, "请问是几单元几楼？", reply_to=prompt, expect=texts.staff_info_asked(number))
    await desk.barrier()
    cursor = emu.cursor()
    said = await say_in(desk, LI, JUWEIHUI, "居民来电：3单元1201", reply_to=prompt)
    await desk.barrier()
    assert said.text == texts.staff_info_answered(number)
    assert (await ticket(desk, number)).status == TicketStatus.SIGNED
    assert button_labels(desk, JUWEIHUI, card) == SIGNED_BUTTONS


# 16 ---------------------------------------------------------------------------------------------------------------


async def test_a_mediation_from_the_units_chat_reaches_the_resident_and_the_history(desk: Bot) -> None:
    emu = desk.emulator
    person = await registered(desk, 2117)
    number, _, card = await open_case(desk, person, "跟楼下邻居因为漏水吵起来了，想找社区调解，9号楼")
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_SIGN)
    assert (await say_in(desk, ZHANG, JUWEIHUI, f"/mediate {number} 申请")).text == texts.mediation_recorded(
        number, "申请", None)
    await say_in(desk, ZHANG, JUWEIHUI, f"/mediate {number} 登记")
    cursor = emu.cursor()
    said = await say_in(desk, ZHANG, JUWEIHUI, f"/mediate {number} 会议 2026-03-20 14:00 社区调解室")
    assert said.text.startswith(f"已记录 {number} 调解进展：会议")
    told = await emu.wait_for(person.id, "调解会议", after=cursor, timeout=WAIT)
    assert "3月20日 14:00" in told.text and "社区调解室" in told.text
    history = (await say_in(desk, ZHANG, JUWEIHUI, f"/history {number}")).text
    assert "调解" in history


# 17 ---------------------------------------------------------------------------------------------------------------


async def test_the_grid_worker_signs_and_closes_from_the_private_card(emulator: BotApiEmulator, tmp_path: Path,
                                                                       clock: Clock) -> None:
    path = community_with(tmp_path, workers={"A03": WORKER})
    async with running_desk(emulator, tmp_path, clock, community_file=path) as desk:
        desk.person(WORKER, "李秀英")
        person = await registered(desk, 2118)
        number, _, card = await open_case(desk, person)
        await desk.barrier()
        private = [m for m in emulator.messages_after(WORKER, 0) if number in (m.text or "") and m.buttons]
        assert len(private) == 1, [m.text for m in emulator.messages_after(WORKER, 0)]
        mine = private[0]
        answer = await press(desk, WORKER, WORKER, mine, texts.BTN_SIGN)
        assert answer.text == texts.STAFF_SIGNED
        assert texts.STATUS["signed"] in now_text(desk, JUWEIHUI, card)  # the unit sees who moved it
        await resolve(desk, WORKER, WORKER, mine, number, "网格员上门调解，装修队已调整施工时间。")
        assert (await ticket(desk, number)).status == TicketStatus.RESOLVED
        assert button_labels(desk, JUWEIHUI, card) == [] and button_labels(desk, WORKER, mine) == []


# 18 ---------------------------------------------------------------------------------------------------------------


async def test_an_emergency_card_asked_for_more_keeps_its_header(emulator: BotApiEmulator, tmp_path: Path,
                                                                  clock: Clock) -> None:
    """A fall reported in a hurry; the committee signs, asks which stairwell; the card keeps 🚨 and its kind while
    waiting and after her answer."""
    path = community_with(tmp_path, workers={"A03": WORKER}, duty=-100800)
    emulator.group(-100800, "社区值班群", bot_is_admin=True)
    async with running_desk(emulator, tmp_path, clock, community_file=path) as desk:
        desk.person(WORKER, "李秀英")
        person = await registered(desk, 2119)
        cursor = emulator.cursor()
        await person.say("快来人啊我爸摔倒了一动不动")
        await desk.barrier()
        [t] = await desk.tickets(person.id)
        header = texts.card_header_sos(texts.EMERGENCY_KIND["medical"])
        card = next(m for m in emulator.messages_after(JUWEIHUI, cursor) if t.number in (m.text or "") and m.buttons)
        await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_SIGN)
        await ask_info(desk, ZHANG, JUWEIHUI, card, t.number, "请问在几号楼几单元？")
        assert now_text(desk, JUWEIHUI, card).startswith(header), now_text(desk, JUWEIHUI, card)
        cursor = await person.send("9号楼3单元一楼楼梯口")
        await desk.barrier()
        assert now_text(desk, JUWEIHUI, card).startswith(header), now_text(desk, JUWEIHUI, card)
        # her answer (taken as the emergency's place) answers the desk too: the clock runs, the desk reads it
        now = await ticket(desk, t.number)
        assert now.status == TicketStatus.SIGNED and now.location.startswith("9号楼3单元")
        told = [m.text for m in emulator.messages_after(JUWEIHUI, cursor)]
        assert texts.staff_sos_place(t.number, now.location) in told, told
        assert now.location in now_text(desk, JUWEIHUI, card)
        assert button_labels(desk, JUWEIHUI, card) == SIGNED_BUTTONS


# 19 ---------------------------------------------------------------------------------------------------------------


async def test_a_joined_case_rated_by_both_residents(desk: Bot) -> None:
    """Both residents of a joined case are asked; the author's 满意 is the case's rating, the neighbour's own
    press is thanked and does not reopen or overwrite it."""
    emu, clock = desk.emulator, desk.clock
    author = await registered(desk, 2120, "王阿姨")
    number, _, card = await open_case(desk, author, "9号楼电梯坏了", WUYE)
    neighbour = await registered(desk, 2121, "李大爷")
    confirmation = await neighbour.say("9号楼的电梯又坏了，好几天了",
                                       lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    assert number in (await neighbour.confirm(confirmation)).text
    await desk.barrier()
    await press(desk, WANG, WUYE, card, texts.BTN_SIGN)
    await resolve(desk, WANG, WUYE, card, number, "电梯已修复。")
    clock.advance(minutes=61)
    cursor = emu.cursor()
    await jobs.followup_tick(desk.app)
    await desk.barrier()
    asked_a = await author.reply(lambda m: bool(m.buttons), after=cursor)
    asked_n = await neighbour.reply(lambda m: bool(m.buttons), after=cursor)
    await (await author.press(asked_a, texts.BTN_RATE["s"])).edit()
    await (await neighbour.press(asked_n, texts.BTN_RATE["s"])).edit()
    await desk.barrier()
    t = await ticket(desk, number)
    assert t.rating == Rating.SATISFIED and t.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
    assert button_labels(desk, WUYE, card) == []


# 20 ---------------------------------------------------------------------------------------------------------------


async def test_a_supervision_of_a_red_case_is_seen_in_the_units_chat(desk: Bot) -> None:
    emu, clock = desk.emulator, desk.clock
    supervisor = 5401
    await desk.grant(supervisor, "supervisor")
    desk.person(supervisor, "纪工委老陈")
    person = await registered(desk, 2122)
    number, _, card = await open_case(desk, person)
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_SIGN)
    t = await ticket(desk, number)
    clock.value = t.due_at + timedelta(hours=1)
    await jobs.sweep_tick(desk.app)
    await desk.barrier()
    cursor = emu.cursor()
    done = await say_in(desk, supervisor, supervisor, f"/supervise {number} 超期未办结，请说明原因")
    assert number in done.text
    await desk.barrier()
    seen = [m.text for m in emu.messages_after(JUWEIHUI, cursor) if number in (m.text or "")]
    assert seen, "the unit's chat was not told of the 督办"
    listed = (await say_in(desk, ZHANG, JUWEIHUI, "/supervisions")).text
    assert number in listed


# 21 ---------------------------------------------------------------------------------------------------------------


async def test_a_place_corrected_to_another_grid_moves_the_case_to_that_grid(emulator: BotApiEmulator,
                                                                             tmp_path: Path, clock: Clock) -> None:
    """9号楼 is the third grid's, 4号楼 the first's: after 不对 是4号楼 the case, its card and /queue of each grid
    worker follow the building."""
    other = 6101  # the grid worker of A01
    path = community_with(tmp_path, workers={"A03": WORKER, "A01": other})
    async with running_desk(emulator, tmp_path, clock, community_file=path) as desk:
        desk.person(WORKER, "李秀英")
        desk.person(other, "陈建国")
        person = await registered(desk, 2123)
        number, _, card = await open_case(desk, person, LEAK, WUYE)
        await press(desk, WANG, WUYE, card, texts.BTN_SIGN)
        await person.send("不对 是4号楼")
        await desk.barrier()
        t = await ticket(desk, number)
        assert t.grid_code == "A01", (t.grid_code, t.location)
        assert "A01" in now_text(desk, WUYE, card)
        assert number in (await say_in(desk, other, other, "/queue")).text
        assert number not in (await say_in(desk, WORKER, WORKER, "/queue")).text


# 22 ---------------------------------------------------------------------------------------------------------------


async def test_the_report_counts_a_reopened_unsatisfied_case(desk: Bot) -> None:
    """After 不满意 the month's report says 重新办理 1 and 满意率 0/1, and /rates agrees."""
    await _unsatisfied(desk)
    report = (await say_in(desk, ZHANG, JUWEIHUI, "/report month")).text
    await desk.barrier()
    rates = (await say_in(desk, ZHANG, JUWEIHUI, "/rates")).text
    assert "重新办理 1" in report, report
    assert "· 满意率 0.0%（0/1）" in report, report
    assert "满意率：0.0%（0/1）" in rates, rates


# 23 ---------------------------------------------------------------------------------------------------------------


async def test_reassigned_there_and_back_the_first_units_card_is_live_again(desk: Bot) -> None:
    emu = desk.emulator
    person = await registered(desk, 2124)
    number, _, card = await open_case(desk, person)
    wuye = desk.deps.community.unit("wuye")
    committee = desk.deps.community.unit("juweihui")
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_REASSIGN)
    cursor = emu.cursor()
    await press(desk, ZHANG, JUWEIHUI, card, wuye.name)
    moved = await emu.wait_for(WUYE, number, after=cursor, timeout=WAIT)
    await press(desk, WANG, WUYE, moved, texts.BTN_REASSIGN)
    cursor = emu.cursor()
    assert (await press(desk, WANG, WUYE, moved, committee.name)).text == texts.staff_reassigned(committee.name)
    await desk.barrier()
    assert (await ticket(desk, number)).unit == "juweihui"
    assert button_labels(desk, WUYE, moved) == []
    back = [m for m in emu.messages_after(JUWEIHUI, cursor) if number in (m.text or "") and m.buttons]
    live = button_labels(desk, JUWEIHUI, card)
    assert back or live == CARD_BUTTONS, (live, [m.text for m in emu.messages_after(JUWEIHUI, cursor)])
    told = [m.text for m in person.replies(cursor)]
    assert texts.resident_reassigned(number, committee.name) in told, told


# 24 ---------------------------------------------------------------------------------------------------------------


async def test_case_brings_back_a_waiting_case_with_only_escalate(desk: Bot) -> None:
    person = await registered(desk, 2125)
    number, _, card = await open_case(desk, person)
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    await ask_info(desk, LI, JUWEIHUI, card, number, "请问是几单元几楼？")
    shown = await say_in(desk, LI, JUWEIHUI, f"/case {number}")
    assert texts.STATUS["pending_info"] in shown.text
    assert [b.text for b in shown.buttons] == [texts.BTN_ESCALATE]


# 25 ---------------------------------------------------------------------------------------------------------------


async def test_a_staff_reply_on_a_joined_case_reaches_both_residents(desk: Bot) -> None:
    emu = desk.emulator
    author = await registered(desk, 2126, "王阿姨")
    number, _, card = await open_case(desk, author, "9号楼电梯坏了", WUYE)
    neighbour = await registered(desk, 2127, "李大爷")
    confirmation = await neighbour.say("9号楼的电梯又坏了，好几天了",
                                       lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    assert number in (await neighbour.confirm(confirmation)).text
    await desk.barrier()
    await press(desk, WANG, WUYE, card, texts.BTN_SIGN)
    cursor = emu.cursor()
    await say_in(desk, WANG, WUYE, "维保人员下午两点到场。", reply_to=card, expect=texts.STAFF_RELAYED)
    await desk.barrier()
    assert any("维保人员下午两点到场" in m.text for m in author.replies(cursor))
    assert any("维保人员下午两点到场" in m.text for m in neighbour.replies(cursor))


# 26 ---------------------------------------------------------------------------------------------------------------


async def test_a_case_waiting_for_the_resident_is_not_escalated_past_its_old_deadline(desk: Bot) -> None:
    """The clock stops while 待补充: at the deadline the case was given, the sweep escalates nothing."""
    emu, clock = desk.emulator, desk.clock
    person = await registered(desk, 2128)
    number, _, card = await open_case(desk, person)
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    await ask_info(desk, LI, JUWEIHUI, card, number, "请问是几单元几楼？")
    due = (await ticket(desk, number)).due_at
    clock.value = due + timedelta(minutes=5)
    cursor = emu.cursor()
    report = await jobs.sweep_tick(desk.app)
    await desk.barrier()
    assert report.escalations == ()
    assert not [m for m in emu.messages_after(LEVEL_CHATS["grid"], cursor) if number in (m.text or "")]
    assert "🔴" not in now_text(desk, JUWEIHUI, card)


# 27 ---------------------------------------------------------------------------------------------------------------


async def test_a_note_written_as_a_reply_to_the_card_stays_internal(desk: Bot) -> None:
    emu = desk.emulator
    person = await registered(desk, 2129)
    number, _, card = await open_case(desk, person)
    cursor = emu.cursor()
    said = await say_in(desk, ZHANG, JUWEIHUI, "/note 已联系物业查看楼上装修许可", reply_to=card)
    assert said.text == texts.STAFF_NOTE_SAVED
    await desk.barrier()
    assert not [m for m in person.replies(cursor) if "装修许可" in m.text]
    assert [e.note for e in await events(desk, number, TicketEventKind.NOTE)] == ["已联系物业查看楼上装修许可"]


# 28 ---------------------------------------------------------------------------------------------------------------


async def test_escalated_to_the_top_the_escalate_button_says_so(desk: Bot) -> None:
    """升级 pressed level after level: grid, community, street; at the street there is nowhere higher, and staff
    are told so plainly (no card posted again)."""
    emu = desk.emulator
    person = await registered(desk, 2130)
    number, _, card = await open_case(desk, person)
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_SIGN)
    answers = []
    for _ in range(3):
        answers.append((await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_ESCALATE)).text)
    levels = [desk.deps.community.escalation_level(k).name for k in ("grid", "community", "street")]
    assert answers == [texts.staff_escalated(level) for level in levels]
    events_before = len(await events(desk, number))
    cursor = emu.cursor()
    again = await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_ESCALATE)
    assert (again.text, again.show_alert) == (texts.staff_escalated_top(levels[-1]), True)
    assert not [m for m in emu.messages_after(LEVEL_CHATS["street"], cursor) if number in (m.text or "")]
    assert len(await events(desk, number)) == events_before  # no second "escalated" event
    assert (await ticket(desk, number)).escalation_level == "street"


# 29 ---------------------------------------------------------------------------------------------------------------


async def test_the_grid_workers_private_card_turns_yellow_with_the_units(emulator: BotApiEmulator, tmp_path: Path,
                                                                         clock: Clock) -> None:
    path = community_with(tmp_path, workers={"A03": WORKER})
    async with running_desk(emulator, tmp_path, clock, community_file=path) as desk:
        desk.person(WORKER, "李秀英")
        person = await registered(desk, 2131)
        number, _, card = await open_case(desk, person)
        mine = next(m for m in emulator.messages_after(WORKER, 0) if number in (m.text or "") and m.buttons)
        await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_SIGN)
        t = await ticket(desk, number)
        clock.value = t.created_at + (t.due_at - t.created_at) * 0.8
        await jobs.sweep_tick(desk.app)
        await desk.barrier()
        assert "🟡" in now_text(desk, JUWEIHUI, card)
        assert "🟡" in now_text(desk, WORKER, mine), now_text(desk, WORKER, mine)
