"""A case whose resident has no Telegram (recorded by staff from a phone call or a visit, imported from a 12345 file):
the desk's reply, question or 办结 on it is recorded and staff are told to phone or visit the resident, with the
name and phone the case holds, never warned that the resident "blocked the bot". The answer staff get by phone to a
需补充 question is written as a reply to the same prompt and the clock runs again. A Telegram resident's case keeps
what it did."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from linli_e2e import (
    JUWEIHUI,
    LI,
    WAIT,
    ZHANG,
    Bot,
    Clock,
    community_with,
    desk_messages,
    events,
    open_case,
    press,
    registered,
    running_desk,
    say_in,
    ticket,
    ticket_number,
)

from bot import jobs
from bot.emulator import BotApiEmulator, SentMessage
from handlers import texts
from services.cases import lifecycle
from services.web import imports
from services.web import intake as web_intake
from storage.models import Channel, Rating, Ticket, TicketEventKind, TicketStatus

NOISE = "楼上邻居天天半夜装修吵得睡不着"


async def _recorded(desk: Bot, who: str = "张大爷 13900001111", text: str = NOISE,
                    place: str = "9号楼") -> tuple[str, SentMessage]:
    """ZHANG records a phoned-in case on one line in the committee's chat: (number, its card there)."""
    cursor = desk.emulator.cursor()
    await desk.emulator.send_text(ZHANG, f"/record 电话｜{who}｜{place}｜{text}", JUWEIHUI)
    told = await desk.emulator.wait_for(ZHANG, "LL-", after=cursor, timeout=WAIT)
    number = ticket_number(told.text)
    card = await desk.emulator.wait_for(JUWEIHUI, lambda m: number in m.text and m.buttons, after=cursor,
                                        timeout=WAIT)
    await desk.barrier()
    return number, card


async def _imported(desk: Bot, tmp_path: Path, name: str = "", phone: str = "") -> tuple[str, SentMessage]:
    """One row of a 12345 file imported (nobody recorded it in Telegram): (number, its card)."""
    path = tmp_path / "12345.csv"
    path.write_text(f"工单编号,诉求内容,诉求地址,来电人,联系电话\nR-1,{NOISE},9号楼,{name},{phone}\n", encoding="utf-8")
    d = desk.deps
    cursor = desk.emulator.cursor()
    summary = await imports.import_file(desk.db, path, channel=Channel.HOTLINE, mapping=imports.Mapping_(),
                                        engine=d.engine, community=d.community, staff_chat_id=d.staff_chat_id,
                                        now=desk.clock.now(), on_added=d.wake_sender)
    [number] = summary.tickets
    card = await desk.emulator.wait_for(JUWEIHUI, lambda m: number in m.text and m.buttons, after=cursor,
                                        timeout=WAIT)
    await desk.barrier()
    return number, card


async def _ask(desk: Bot, number: str, card: SentMessage, question: str) -> tuple[SentMessage, SentMessage]:
    """签收, 需补充 and the question as a reply to the prompt: (the prompt, the desk's answer)."""
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    cursor = desk.emulator.cursor()
    await press(desk, LI, JUWEIHUI, card, texts.BTN_NEED_INFO)
    prompt = await desk.emulator.wait_for(JUWEIHUI, texts.staff_ask_info(number), after=cursor, timeout=WAIT)
    answer = await say_in(desk, LI, JUWEIHUI, question, reply_to=prompt)
    return prompt, answer


async def test_a_reply_to_a_recorded_case_says_whom_to_phone(desk: Bot) -> None:
    number, card = await _recorded(desk)
    cursor = desk.emulator.cursor()
    answer = await say_in(desk, LI, JUWEIHUI, "我们下午三点上门查看。", reply_to=card)
    assert answer.text == texts.staff_relayed_offline("张大爷", "13900001111", recorder_too=True)
    assert "屏蔽" not in answer.text and "张大爷：13900001111" not in answer.text
    assert "张大爷 13900001111" in answer.text  # nothing masked: staff phone them
    assert [e.note for e in await events(desk, number, TicketEventKind.REPLY)] == ["我们下午三点上门查看。"]
    copy = await desk.emulator.wait_for(ZHANG, number, after=cursor, timeout=WAIT)  # the recorder passes it on
    assert copy.text.startswith("📞 代录工单进展，请转告 张大爷") and "我们下午三点上门查看。" in copy.text


async def test_the_recorder_replying_is_not_told_about_a_copy_for_the_recorder(desk: Bot) -> None:
    _, card = await _recorded(desk)
    answer = await say_in(desk, ZHANG, JUWEIHUI, "物业已经联系施工方。", reply_to=card)
    assert answer.text == texts.staff_relayed_offline("张大爷", "13900001111")
    assert texts.OFFLINE_RECORDER_TOO not in answer.text


async def test_a_reply_to_an_imported_case_without_contact_says_to_go_through_the_grid(desk: Bot,
                                                                                       tmp_path: Path) -> None:
    number, card = await _imported(desk, tmp_path)
    answer = await say_in(desk, LI, JUWEIHUI, "已安排网格员上门。", reply_to=card)
    assert answer.text == texts.staff_relayed_offline(None, None)
    assert "屏蔽" not in answer.text and "网格员" in answer.text and "hotline" not in answer.text
    assert [e.note for e in await events(desk, number, TicketEventKind.REPLY)] == ["已安排网格员上门。"]


async def test_a_question_on_an_imported_case_then_the_answer_got_by_phone_resumes_it(desk: Bot,
                                                                                     tmp_path: Path) -> None:
    number, card = await _imported(desk, tmp_path, name="刘先生", phone="13700002222")
    prompt, answer = await _ask(desk, number, card, "请问是几单元几楼？")
    assert answer.text == texts.staff_info_asked_offline(number, "刘先生", "13700002222")
    assert "屏蔽" not in answer.text and "刘先生 13700002222" in answer.text
    t = await ticket(desk, number)
    assert t.status is TicketStatus.PENDING_INFO and t.paused_at is not None

    answer = await say_in(desk, LI, JUWEIHUI, "居民电话说是2单元501楼上。", reply_to=prompt)
    assert answer.text == texts.staff_info_answered(number)
    t = await ticket(desk, number)
    assert (t.status, t.paused_at) == (TicketStatus.SIGNED, None)
    moves = await events(desk, number, TicketEventKind.STATUS_CHANGED)
    assert (moves[-1].from_status, moves[-1].to_status, moves[-1].note) == (
        TicketStatus.PENDING_INFO, TicketStatus.SIGNED, "居民电话说是2单元501楼上。")
    await desk.barrier()
    assert texts.BTN_RESOLVE in [b.text for b in desk.emulator.message(JUWEIHUI, card.message_id).buttons]


async def test_resolving_a_recorded_case_says_to_tell_the_resident_by_phone(desk: Bot) -> None:
    number, card = await _recorded(desk, who="李奶奶 13600003333")
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    cursor = desk.emulator.cursor()
    await press(desk, LI, JUWEIHUI, card, texts.BTN_RESOLVE)
    prompt = await desk.emulator.wait_for(JUWEIHUI, texts.staff_ask_result(number), after=cursor, timeout=WAIT)
    answer = await say_in(desk, LI, JUWEIHUI, "已与施工方协调，晚上十点后停工。", reply_to=prompt)
    assert answer.text == texts.staff_resolved_offline(number, "李奶奶", "13600003333", recorder_too=True)
    assert (await ticket(desk, number)).status is TicketStatus.RESOLVED


async def test_a_telegram_residents_question_still_goes_to_them_and_a_second_reply_is_refused(desk: Bot) -> None:
    person = await registered(desk, 2001)
    number, _, card = await open_case(desk, person)
    prompt, answer = await _ask(desk, number, card, "请问是几单元？")
    assert answer.text == texts.staff_info_asked(number)
    again = await say_in(desk, LI, JUWEIHUI, "2单元", reply_to=prompt)
    assert again.text == texts.staff_refused("same_status", texts.STATUS[TicketStatus.PENDING_INFO])
    assert (await ticket(desk, number)).status is TicketStatus.PENDING_INFO


# --- 回访 by phone: /rate records what the resident said -------------------------------------------------------


async def _resolved(desk: Bot, who: str = "李奶奶 13600003333") -> tuple[str, SentMessage]:
    number, card = await _recorded(desk, who=who)
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    cursor = desk.emulator.cursor()
    await press(desk, LI, JUWEIHUI, card, texts.BTN_RESOLVE)
    prompt = await desk.emulator.wait_for(JUWEIHUI, texts.staff_ask_result(number), after=cursor, timeout=WAIT)
    await say_in(desk, LI, JUWEIHUI, "已与施工方协调，晚上十点后停工。", reply_to=prompt)
    return number, card


async def test_the_rating_got_by_phone_is_recorded_and_counted(desk: Bot) -> None:
    number, _ = await _resolved(desk)
    answer = await say_in(desk, LI, JUWEIHUI, f"/rate {number} 基本满意 说处理得有点慢")
    assert answer.text == texts.staff_rated(number, "基本满意", reopened=False)
    t = await ticket(desk, number)
    assert (t.status, t.rating, t.rating_comment) == (TicketStatus.CLOSED, Rating.BASICALLY_SATISFIED, "说处理得有点慢")
    [rated] = await events(desk, number, TicketEventKind.RATED)
    assert rated.actor == f"staff:{LI}"
    report = (await say_in(desk, LI, JUWEIHUI, "/report week")).text
    await desk.barrier()  # its chart too
    assert "· 满意率 100.0%（1/1）" in report and "· 未评价 0.0%（0/1）" in report
    again = await say_in(desk, LI, JUWEIHUI, f"/rate {number} 满意")  # rated once: refused, nothing changes
    assert again.text == texts.rate_refused(number, texts.STATUS[TicketStatus.CLOSED])


async def test_unsatisfied_by_phone_reopens_and_escalates(desk: Bot) -> None:
    number, _ = await _resolved(desk)
    answer = await say_in(desk, ZHANG, JUWEIHUI, f"/rate {number} 不满意 晚上还在施工")
    assert answer.text == texts.staff_rated(number, "不满意", reopened=True)
    t = await ticket(desk, number)
    assert t.status is TicketStatus.REOPENED and t.escalation_level == "community"  # one above the grid level


async def test_rate_is_refused_for_a_telegram_resident_an_open_case_and_a_bad_form(desk: Bot) -> None:
    person = await registered(desk, 2001)
    number, _, _ = await open_case(desk, person)
    assert (await say_in(desk, LI, JUWEIHUI, f"/rate {number} 满意")).text == texts.RATE_TELEGRAM
    assert (await ticket(desk, number)).rating is None
    recorded, _ = await _recorded(desk, text="广场舞音响太吵了，晚上九点多还在放", place="5号楼")  # not a duplicate
    assert (await say_in(desk, LI, JUWEIHUI, f"/rate {recorded} 满意")).text == texts.rate_refused(
        recorded, texts.STATUS[TicketStatus.DISPATCHED])
    for line in ("/rate", f"/rate {recorded}", f"/rate {recorded} 很好"):
        assert (await say_in(desk, LI, JUWEIHUI, line)).text == texts.RATE_USAGE


# --- 回访 of an imported case: nobody recorded it, so the desk (and the grid's worker) is asked to phone ------------


async def test_an_imported_cases_followup_goes_to_the_desk_and_the_grid_worker(emulator: BotApiEmulator,
                                                                              tmp_path: Path, clock: Clock) -> None:
    worker = 4003
    path = community_with(tmp_path, workers={"A03": worker})
    async with running_desk(emulator, tmp_path, clock, community_file=path) as desk:
        await desk.person(worker, "赵网格员").say("/start")  # the bot may write to them
        cursor = desk.emulator.cursor()
        number, card = await _imported(desk, tmp_path, name="刘先生", phone="13700002222")
        private_card = await desk.emulator.wait_for(worker, number, after=cursor, timeout=WAIT)  # their copy
        await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
        cursor = desk.emulator.cursor()
        await press(desk, LI, JUWEIHUI, card, texts.BTN_RESOLVE)
        prompt = await desk.emulator.wait_for(JUWEIHUI, texts.staff_ask_result(number), after=cursor, timeout=WAIT)
        await say_in(desk, LI, JUWEIHUI, "已与施工方协调，晚上十点后停工。", reply_to=prompt)
        clock.value = clock.now() + desk.deps.followup_delay + timedelta(minutes=1)
        cursor = desk.emulator.cursor()
        asked, _ = await jobs.followup_tick(desk.app)
        await desk.barrier()
        assert asked == 1
        want = texts.desk_rating_request(number, "刘先生", "13700002222", "已与施工方协调，晚上十点后停工。")
        at_desk = await desk.emulator.wait_for(JUWEIHUI, want, after=cursor, timeout=WAIT)
        assert at_desk.reply_to_message_id == card.message_id  # under the case's card
        in_private = await desk.emulator.wait_for(worker, want, after=cursor, timeout=WAIT)
        assert in_private.reply_to_message_id == private_card.message_id
        assert "刘先生 13700002222" in want and f"/rate {number}" in want
        answer = await say_in(desk, LI, JUWEIHUI, f"/rate {number} 满意")
        assert answer.text == texts.staff_rated(number, "满意", reopened=False)
        assert (await ticket(desk, number)).status is TicketStatus.CLOSED


async def test_a_case_filed_on_the_web_is_not_sent_to_the_desk_for_its_followup(desk: Bot) -> None:
    """Its resident rates it on the tracking page: the desk is not asked to phone."""
    d = desk.deps
    form = web_intake.WebForm.of(text="9号楼楼道灯坏了好几天了", location="9号楼", phone="13500001111")
    async with desk.db.transaction() as s:
        filed = await web_intake.file_case(s, form, grid_code="A03", photos=[], engine=d.engine,
                                           community=d.community, staff_chat_id=d.staff_chat_id, now=desk.clock.now())
        ticket_id, number = filed.opened.ticket.id, filed.opened.ticket.number
    d.wake_sender()
    await desk.barrier()
    async with desk.db.transaction() as s:
        t = await s.get(Ticket, ticket_id)
        for step in (TicketStatus.SIGNED, TicketStatus.IN_PROGRESS):
            await lifecycle.transition(s, t, step, actor="staff:1", now=desk.clock.now())
        await lifecycle.transition(s, t, TicketStatus.RESOLVED, actor="staff:1", now=desk.clock.now(), result="已修好")
    desk.clock.value = desk.clock.now() + d.followup_delay + timedelta(minutes=1)
    cursor = desk.emulator.cursor()
    await jobs.followup_tick(desk.app)
    await desk.barrier()
    assert not [m for m in desk_messages(desk, cursor) if "回访" in m.text and number in m.text]
