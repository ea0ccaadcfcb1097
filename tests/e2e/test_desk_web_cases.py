"""A case a resident filed on the web (服务码 page, no Telegram): the desk's reply to its card is shown on the case's
tracking page, so staff are told that, not warned that the resident "cannot receive messages". A Telegram case's
reply and an offline case with nobody to tell keep what they said before."""

from __future__ import annotations

from linli_e2e import JUWEIHUI, LI, WAIT, Bot, events, open_case, press, registered, say_in, ticket, ticket_number

from bot.emulator import SentMessage
from handlers import texts
from services.web import intake
from storage.models import TicketEventKind


async def _web_case(desk: Bot, text: str = "9号楼楼上天天装修，吵死了") -> tuple[str, SentMessage]:
    """File on the web form as the page does; returns the number and the card in the unit's chat."""
    d = desk.deps
    cursor = desk.emulator.cursor()
    async with desk.db.transaction() as s:
        filed = await intake.file_case(s, intake.WebForm.of(text=text, location="9号楼", phone="13800001111",
                                                            category="noise"),
                                       grid_code="A03", photos=[], engine=d.engine, community=d.community,
                                       staff_chat_id=d.staff_chat_id, now=desk.clock.now())
        number = filed.ticket.number
    d.wake_sender()
    card = await desk.emulator.wait_for(JUWEIHUI, number, after=cursor, timeout=WAIT)
    await desk.barrier()
    return number, card


async def test_a_reply_to_a_web_case_says_it_shows_on_the_tracking_page(desk: Bot) -> None:
    number, card = await _web_case(desk)
    assert ticket_number(card.text) == number
    answer = await say_in(desk, LI, JUWEIHUI, "我们下午三点上门查看。", reply_to=card)
    assert answer.text == texts.STAFF_RELAYED_WEB
    assert "屏蔽" not in answer.text
    replies = await events(desk, number, TicketEventKind.REPLY)
    assert [e.note for e in replies] == ["我们下午三点上门查看。"]  # what the tracking page shows


async def test_a_question_on_a_web_case_says_to_phone_the_resident(desk: Bot) -> None:
    number, card = await _web_case(desk)
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    cursor = desk.emulator.cursor()
    assert (await press(desk, LI, JUWEIHUI, card, texts.BTN_NEED_INFO)).text == texts.STAFF_PROMPTED
    prompt = await desk.emulator.wait_for(JUWEIHUI, texts.staff_ask_info(number), after=cursor, timeout=WAIT)
    answer = await say_in(desk, LI, JUWEIHUI, "请问是几单元？", reply_to=prompt)
    assert answer.text == texts.staff_info_asked_web(number)
    assert (await ticket(desk, number)).paused_at is not None


async def test_a_reply_to_a_telegram_case_is_still_relayed(desk: Bot) -> None:
    person = await registered(desk, 2001)
    number, _, card = await open_case(desk, person)
    cursor = desk.emulator.cursor()
    answer = await say_in(desk, LI, JUWEIHUI, "我们下午三点上门查看。", reply_to=card)
    assert answer.text == texts.STAFF_RELAYED
    told = await person.reply(after=cursor)
    assert "我们下午三点上门查看。" in told.text and number in told.text
