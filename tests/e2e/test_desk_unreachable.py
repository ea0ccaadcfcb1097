"""A question the resident never answers: the desk's word about it carries [无法联系，办结], which closes the case as
无法联系 through the usual 办结 (events noting the reason), tells the resident how to go on, redraws the card and
takes the button away. Only staff who may work the case can press it; a second press changes nothing. The clock is
set and one sweep tick run at a time, never by waiting."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from linli_e2e import (
    JUWEIHUI,
    LI,
    WAIT,
    WANG,
    Bot,
    Clock,
    community_with,
    data_of,
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
from handlers.names import unit_name
from services import local
from services.cases.desk import UNREACHABLE
from storage.models import Rating, TicketEvent, TicketEventKind, TicketStatus


async def _unanswered(desk: Bot) -> tuple[str, SentMessage, SentMessage, object]:
    """A signed case asked a question its resident never answers, until the desk is told: (number, card, the
    desk's word with its button, the resident)."""
    emu, clock = desk.emulator, desk.clock
    person = await registered(desk, 2001)
    number, _, card = await open_case(desk, person)
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    cursor = emu.cursor()
    await press(desk, LI, JUWEIHUI, card, texts.BTN_NEED_INFO)
    prompt = await emu.wait_for(JUWEIHUI, texts.staff_ask_info(number), after=cursor, timeout=WAIT)
    await say_in(desk, LI, JUWEIHUI, "请问是几单元几楼？", reply_to=prompt, expect=texts.staff_info_asked(number))
    asked = (await ticket(desk, number)).paused_at
    await desk.barrier()
    clock.value = asked + timedelta(days=30)  # one late sweep: the resident reminded and the desk told
    cursor = emu.cursor()
    report = await jobs.sweep_tick(desk.app)
    assert [c.kind.value for c in report.chases] == ["info_resident", "info_desk"]
    told = await emu.wait_for(JUWEIHUI, texts.staff_info_unanswered(number, asked), after=cursor, timeout=WAIT)
    await desk.barrier()
    return number, card, told, person


async def _event_count(desk: Bot, number: str) -> int:
    return len(await events(desk, number))


async def test_the_desk_closes_an_unanswered_case_as_unreachable(desk: Bot) -> None:
    emu = desk.emulator
    number, card, told, person = await _unanswered(desk)
    assert [b.text for b in told.buttons] == [texts.BTN_CLOSE_UNREACHABLE]
    assert told.reply_to_message_id == card.message_id

    cursor = emu.cursor()
    answer = await press(desk, LI, JUWEIHUI, told, texts.BTN_CLOSE_UNREACHABLE)
    assert answer.text == texts.staff_closed_unreachable(number)
    t = await ticket(desk, number)
    assert (t.status, t.result, t.paused_at) == (TicketStatus.RESOLVED, texts.RESULT_UNREACHABLE, None)
    moves: list[TicketEvent] = [e for e in await events(desk, number, TicketEventKind.STATUS_CHANGED)
                                if e.note == UNREACHABLE]
    assert [(e.from_status, e.to_status) for e in moves] == [
        (TicketStatus.PENDING_INFO, TicketStatus.SIGNED), (TicketStatus.SIGNED, TicketStatus.IN_PROGRESS),
        (TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED)]
    resident = await person.reply(texts.resident_closed_unreachable(number, unit_name(desk.deps, t.unit),
                                                                    desk.deps.rating_window), after=cursor)
    assert "无法联系" in resident.text and "重新发送" in resident.text
    assert emu.message(JUWEIHUI, told.message_id).buttons == []  # the button is gone
    drawn = emu.message(JUWEIHUI, card.message_id)
    assert texts.STATUS[TicketStatus.RESOLVED] in drawn.text and texts.RESULT_UNREACHABLE in drawn.text


async def test_a_second_press_is_answered_and_changes_nothing(desk: Bot) -> None:
    emu = desk.emulator
    number, _, told, person = await _unanswered(desk)
    data = data_of(told, texts.BTN_CLOSE_UNREACHABLE)
    await press(desk, LI, JUWEIHUI, told, texts.BTN_CLOSE_UNREACHABLE)
    before = (await _event_count(desk, number), await ticket(desk, number))
    cursor = emu.cursor()
    # a double tap: the second press arrives after the first removed the button
    query = await emu.press(LI, told.message_id, data, chat_id=JUWEIHUI, forge=True)
    answer = await emu.wait_for_answer(query, timeout=WAIT)
    await desk.barrier()
    assert answer.text == texts.staff_unreachable_stale(number, texts.STATUS[TicketStatus.RESOLVED])
    after = (await _event_count(desk, number), await ticket(desk, number))
    assert after[0] == before[0] and after[1].version == before[1].version
    assert person.replies(cursor) == []  # the resident is not told twice


async def test_staff_of_another_unit_may_not_close_it(desk: Bot) -> None:
    number, _, told, _ = await _unanswered(desk)
    answer = await press(desk, WANG, JUWEIHUI, told, texts.BTN_CLOSE_UNREACHABLE)
    assert answer.text == texts.STAFF_NO_ROLE
    assert (await ticket(desk, number)).status == TicketStatus.PENDING_INFO
    assert [b.text for b in desk.emulator.message(JUWEIHUI, told.message_id).buttons] == [texts.BTN_CLOSE_UNREACHABLE]


async def test_a_resident_who_answers_first_leaves_the_button_stale(desk: Bot) -> None:
    emu = desk.emulator
    number, _, told, person = await _unanswered(desk)
    cursor = emu.cursor()
    await emu.send_text(person.id, "3单元502", person.id)
    assert (await person.reply(after=cursor)).text == texts.RESIDENT_INFO_THANKS
    await desk.barrier()
    answer = await press(desk, LI, JUWEIHUI, told, texts.BTN_CLOSE_UNREACHABLE)
    assert answer.text == texts.staff_unreachable_stale(number, texts.STATUS[TicketStatus.SIGNED])
    assert (await ticket(desk, number)).status == TicketStatus.SIGNED


async def test_the_grids_worker_may_close_it_too(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> None:
    worker = 4003
    path = community_with(tmp_path, workers={"A03": worker})
    async with running_desk(emulator, tmp_path, clock, community_file=path) as desk:
        number, _, told, _ = await _unanswered(desk)
        answer = await press(desk, worker, JUWEIHUI, told, texts.BTN_CLOSE_UNREACHABLE)
        assert answer.text == texts.staff_closed_unreachable(number)
        assert (await ticket(desk, number)).status == TicketStatus.RESOLVED


# --- no 回访 after 无法联系: nobody to ask; counted apart; a late answer reopens it -----------------------------------


async def _closed_unreachable(desk: Bot) -> tuple[str, SentMessage, object]:
    number, card, told, person = await _unanswered(desk)
    await press(desk, LI, JUWEIHUI, told, texts.BTN_CLOSE_UNREACHABLE)
    return number, card, person


async def test_no_rating_request_follows_and_the_figures_count_it_apart(desk: Bot) -> None:
    emu, clock = desk.emulator, desk.clock
    number, _, person = await _closed_unreachable(desk)
    t = await ticket(desk, number)
    assert (t.status, t.rating) == (TicketStatus.RESOLVED, Rating.UNREACHABLE)
    clock.value = clock.now() + desk.deps.followup_delay + timedelta(minutes=5)
    cursor = emu.cursor()
    asked, _ = await jobs.followup_tick(desk.app)
    await desk.barrier()
    assert asked == 0
    assert not [m for m in person.replies(cursor) if "回访" in m.text or m.buttons]  # no rating request
    report = (await say_in(desk, LI, JUWEIHUI, f"/report {local(t.created_at):%Y-%m}")).text  # its month
    await desk.barrier()
    assert "· 满意率 —" in report and "· 未评价 —" in report and "无法联系办结 1" in report
    assert "· 解决率 —" in report  # no resolution: on neither side of 解决率 either
    assert "· 按时办结率 —" in report  # closed before its deadline, never resolved: not judged
    assert texts.REPORT_UNREACHABLE_LEGEND in report  # and the report says so
    clock.value = clock.now() + desk.deps.rating_window
    _, expired = await jobs.followup_tick(desk.app)
    await desk.barrier()
    t = await ticket(desk, number)
    assert expired == 1 and (t.status, t.rating) == (TicketStatus.CLOSED, Rating.UNREACHABLE)  # not 未评价


async def test_the_residents_late_answer_reopens_it_and_a_thank_you_does_not(desk: Bot) -> None:
    emu = desk.emulator
    number, card, person = await _closed_unreachable(desk)
    notice = person.replies(0)[-1]
    assert number in notice.text and "无法联系" in notice.text
    cursor = emu.cursor()
    await emu.send_text(person.id, "好的，知道了", person.id, reply_to=notice.message_id)
    assert (await person.reply(after=cursor)).text == texts.RESIDENT_SENT
    await desk.barrier()
    assert (await ticket(desk, number)).status is TicketStatus.RESOLVED
    cursor = emu.cursor()
    await emu.send_text(person.id, "前几天出差了。是3单元502楼上，晚上还在吵", person.id, reply_to=notice.message_id)
    assert (await person.reply(after=cursor)).text == texts.RESIDENT_REOPENED
    await desk.barrier()
    t = await ticket(desk, number)
    assert t.status is TicketStatus.REOPENED and t.escalation_level is None  # done again, not escalated
    said = "前几天出差了。是3单元502楼上，晚上还在吵"
    await emu.wait_for(JUWEIHUI, texts.staff_resident_reopened(number, "王阿姨", said), after=cursor, timeout=WAIT)
    assert texts.BTN_SIGN in [b.text for b in emu.message(JUWEIHUI, card.message_id).buttons]  # to sign anew
