"""Grid workers (网格员) working their grid's cases from their private chat, as the desk does in its groups.

A grid worker is one by the community file (``worker_tg_id``) or by ``/grant <id> gridworker A03``: either way they
get the case cards of their grid privately, once, with the buttons; a reply to the card or to a 需补充/办结 prompt
there reaches the resident as it would from the group; /queue /case /note work there on their grids' cases. A grid
worker's own complaint is not theirs to handle: they get no card of it, and its buttons are refused to them.

The case is a noise complaint from grid A03 (``open_case``), handled by 居委会 in its unit's chat.
"""

from __future__ import annotations

from pathlib import Path

from linli_e2e import (
    CARD_BUTTONS,
    JUWEIHUI,
    NOISE,
    SIGNED_BUTTONS,
    WAIT,
    Bot,
    Clock,
    button_labels,
    community_with,
    data_of,
    events,
    open_case,
    press,
    registered,
    running_desk,
    ticket,
)

from bot.emulator import BotApiEmulator, SentMessage
from handlers import texts
from storage.models import TicketEventKind, TicketStatus

WORKER, OTHER_WORKER, FILE_WORKER = 4201, 4202, 4203
UNIT = "金桂社区居民委员会"  # 居委会, which takes noise complaints


def cards_in(bot: Bot, chat_id: int, number: str, after: int = 0) -> list[SentMessage]:
    return [m for m in bot.emulator.messages_after(chat_id, after)
            if number in (m.text or m.caption or "") and m.method in ("sendMessage", "sendPhoto")
            and "直接回复本消息即可答复居民" in (m.text or m.caption or "")]


async def granted_worker(desk: Bot, user_id: int = WORKER, grid: str = "A03") -> None:
    desk.person(user_id, "赵网格")
    await desk.grant(user_id, "gridworker", grid)


async def private_card(desk: Bot, number: str, worker: int = WORKER) -> SentMessage:
    await desk.barrier()
    found = cards_in(desk, worker, number)
    assert len(found) == 1, [m.text for m in desk.emulator.messages_after(worker, 0)]
    return found[0]


async def reply_privately(desk: Bot, user_id: int, to: SentMessage, text: str, expect: str | None = None
                          ) -> SentMessage:
    cursor = desk.emulator.cursor()
    await desk.emulator.send_text(user_id, text, reply_to=to.message_id)
    return await desk.emulator.wait_for(user_id, expect, after=cursor, timeout=WAIT)


# --- 1. the card reaches a granted worker ---------------------------------------------------------------------


async def test_a_granted_grid_worker_gets_the_card_privately_and_signs_it_there(desk: Bot) -> None:
    await granted_worker(desk)
    await granted_worker(desk, OTHER_WORKER, "A04")
    person = await registered(desk, 2301)
    number, _, unit_card = await open_case(desk, person)
    card = await private_card(desk, number)
    assert button_labels(desk, WORKER, card) == CARD_BUTTONS
    assert cards_in(desk, OTHER_WORKER, number) == []  # another grid's worker sees nothing of it
    assert (await press(desk, WORKER, WORKER, card, texts.BTN_SIGN)).text == texts.STAFF_SIGNED
    assert (await ticket(desk, number)).status is TicketStatus.SIGNED
    assert button_labels(desk, WORKER, card) == SIGNED_BUTTONS  # the private card is redrawn
    assert button_labels(desk, JUWEIHUI, unit_card) == SIGNED_BUTTONS


async def test_a_worker_both_in_the_file_and_granted_gets_one_card(
        emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> None:
    path = community_with(tmp_path, workers={"A03": FILE_WORKER})
    async with running_desk(emulator, tmp_path, clock, community_file=path) as desk:
        await granted_worker(desk, FILE_WORKER)
        await granted_worker(desk, WORKER)
        person = await registered(desk, 2302)
        number, _, _ = await open_case(desk, person)
        for worker in (FILE_WORKER, WORKER):  # both kinds of worker, each exactly once
            card = await private_card(desk, number, worker)
            assert button_labels(desk, worker, card) == CARD_BUTTONS


async def test_a_granted_grid_worker_gets_the_hotspot_warning(desk: Bot) -> None:
    """Three noise complaints in one building within a day: the warning reaches the granted worker too."""
    await granted_worker(desk)
    for i, words in enumerate(["9号楼楼上装修太吵了", "9号楼半夜有人唱歌，吵得睡不着", "9号楼有人天天半夜打麻将很吵"]):
        await open_case(desk, await registered(desk, 2310 + i), words)
    await desk.barrier()
    warned = [m.text for m in desk.emulator.messages_after(WORKER, 0) if "预警" in (m.text or "")]
    assert len(warned) == 1 and "9号楼" in warned[0], [m.text for m in desk.emulator.messages_after(WORKER, 0)]


# --- 2. answering from the private chat -------------------------------------------------------------------------


async def _signed_privately(desk: Bot, user_id: int = 2303) -> tuple[str, SentMessage]:
    await granted_worker(desk)
    person = await registered(desk, user_id)
    number, _, _ = await open_case(desk, person)
    card = await private_card(desk, number)
    await press(desk, WORKER, WORKER, card, texts.BTN_SIGN)
    return number, card


async def test_a_grid_worker_closes_a_case_from_the_private_prompt(desk: Bot) -> None:
    number, card = await _signed_privately(desk)
    cursor = desk.emulator.cursor()
    answer = await press(desk, WORKER, WORKER, card, texts.BTN_RESOLVE)
    assert answer.text == texts.STAFF_PROMPTED_PRIVATE
    prompt = await desk.emulator.wait_for(WORKER, texts.staff_ask_result(number), after=cursor, timeout=WAIT)
    told = await reply_privately(desk, WORKER, prompt, "已上门协调，装修时间改到白天", texts.staff_resolved(number))
    assert told.text == texts.staff_resolved(number)
    await desk.barrier()
    t = await ticket(desk, number)
    assert t.status is TicketStatus.RESOLVED and t.result == "已上门协调，装修时间改到白天"
    assert await desk.draft(WORKER) is None and await desk.tickets(WORKER) == []  # no junk draft, no case
    assert any(m.text == texts.resident_resolved(number, UNIT, "已上门协调，装修时间改到白天")
               for m in desk.emulator.messages_after(2303, 0))


async def test_a_grid_worker_asks_the_resident_for_more_from_the_private_prompt(desk: Bot) -> None:
    number, card = await _signed_privately(desk, 2304)
    cursor = desk.emulator.cursor()
    await press(desk, WORKER, WORKER, card, texts.BTN_NEED_INFO)
    prompt = await desk.emulator.wait_for(WORKER, texts.staff_ask_info(number), after=cursor, timeout=WAIT)
    told = await reply_privately(desk, WORKER, prompt, "请问是几单元几楼？")
    assert told.text == texts.staff_info_asked(number)
    await desk.barrier()
    assert (await ticket(desk, number)).status is TicketStatus.PENDING_INFO
    assert any(m.text == texts.resident_need_info(number, UNIT, "请问是几单元几楼？")
               for m in desk.emulator.messages_after(2304, 0))
    assert await desk.draft(WORKER) is None


async def test_a_grid_workers_reply_to_the_private_card_reaches_the_resident(desk: Bot) -> None:
    await granted_worker(desk)
    person = await registered(desk, 2305)
    number, _, _ = await open_case(desk, person)
    card = await private_card(desk, number)
    told = await reply_privately(desk, WORKER, card, "您好，我下午过去看看")
    assert told.text == texts.STAFF_RELAYED
    await desk.barrier()
    said = texts.resident_staff_reply(number, UNIT, "您好，我下午过去看看")
    assert any(m.text == said for m in desk.emulator.messages_after(2305, 0))
    assert [e.note for e in await events(desk, number, TicketEventKind.REPLY)] == ["您好，我下午过去看看"]
    assert await desk.draft(WORKER) is None


async def test_the_file_grid_worker_closes_a_case_from_the_private_prompt(
        emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> None:
    """The community file's worker had the card and its buttons already, and met the same dead end."""
    path = community_with(tmp_path, workers={"A03": FILE_WORKER})
    async with running_desk(emulator, tmp_path, clock, community_file=path) as desk:
        desk.person(FILE_WORKER, "李秀英")
        number, _, _ = await open_case(desk, await registered(desk, 2308))
        card = await private_card(desk, number, FILE_WORKER)
        await press(desk, FILE_WORKER, FILE_WORKER, card, texts.BTN_SIGN)
        cursor = desk.emulator.cursor()
        await press(desk, FILE_WORKER, FILE_WORKER, card, texts.BTN_RESOLVE)
        prompt = await desk.emulator.wait_for(FILE_WORKER, texts.staff_ask_result(number), after=cursor, timeout=WAIT)
        told = await reply_privately(desk, FILE_WORKER, prompt, "已处理")
        assert told.text == texts.staff_resolved(number)
        await desk.barrier()
        assert (await ticket(desk, number)).status is TicketStatus.RESOLVED
        assert await desk.draft(FILE_WORKER) is None


async def test_a_residents_reply_about_their_own_case_still_goes_to_the_unit(desk: Bot) -> None:
    """The resident's side is untouched: their reply to the bot's message about their case reaches the unit's
    desk (not only the newest card, which is the grid worker's private copy), and the worker who asked."""
    await granted_worker(desk)
    person = await registered(desk, 2306)
    number, _, _ = await open_case(desk, person)
    card = await private_card(desk, number)
    await reply_privately(desk, WORKER, card, "您好，请问具体是几楼？", texts.STAFF_RELAYED)
    await desk.barrier()
    asked = next(m for m in desk.emulator.messages_after(2306, 0)
                 if m.text == texts.resident_staff_reply(number, UNIT, "您好，请问具体是几楼？"))
    cursor = desk.emulator.cursor()
    await desk.emulator.send_text(2306, "是12楼，每天早上七点就开始", reply_to=asked.message_id)
    await desk.barrier()
    said = texts.staff_resident_said(number, "王阿姨", "是12楼，每天早上七点就开始", False)
    for chat in (JUWEIHUI, WORKER):  # the unit's desk, and the worker who asked, under their card
        assert [m.text for m in desk.emulator.messages_after(chat, cursor)] == [said]
    assert await desk.draft(2306) is None and len(await desk.tickets(2306)) == 1


async def test_a_worker_of_another_grid_replying_to_nothing_of_theirs_is_a_resident(desk: Bot) -> None:
    """A reply by a worker to a bot message that is no case message of their desk goes the resident's way."""
    await granted_worker(desk, OTHER_WORKER, "A04")
    worker = await registered(desk, OTHER_WORKER, "钱网格")
    hello = await worker.say("你好")
    answer = await reply_privately(desk, OTHER_WORKER, hello, NOISE)
    assert texts.STAFF_RELAYED not in (answer.text or "")


# --- 3. the desk commands in private ----------------------------------------------------------------------------


async def test_a_grid_worker_uses_queue_case_and_note_privately_on_their_grid(desk: Bot) -> None:
    await granted_worker(desk)
    await granted_worker(desk, OTHER_WORKER, "A04")
    person = await registered(desk, 2307)
    number, _, _ = await open_case(desk, person)
    worker = desk.person(WORKER)
    queue = await worker.say("/queue")
    assert number in queue.text and "A03" in queue.text
    other = await desk.person(OTHER_WORKER).say("/queue")
    assert other.text == texts.QUEUE_EMPTY  # A04 has no open case
    cursor = desk.emulator.cursor()
    await worker.send(f"/case {number}")
    card = await desk.emulator.wait_for(WORKER, number, after=cursor, timeout=WAIT)
    assert button_labels(desk, WORKER, card) == CARD_BUTTONS
    assert (await desk.person(OTHER_WORKER).say(f"/case {number}")).text == texts.STAFF_NOT_YOUR_GRID
    assert (await worker.say(f"/note {number} 物业说周三前处理")).text == texts.STAFF_NOTE_SAVED
    assert [e.note for e in await events(desk, number, TicketEventKind.NOTE)] == ["物业说周三前处理"]
    assert (await desk.person(OTHER_WORKER).say(f"/note {number} 不是我的")).text == texts.STAFF_NOT_YOUR_GRID
    assert len(await events(desk, number, TicketEventKind.NOTE)) == 1
    # a resident is answered as before; a desk command a grid worker has no private use for says what they can use
    assert (await person.say("/queue")).text == texts.STAFF_COMMAND_PRIVATE
    assert (await worker.say("/board")).text == texts.staff_command_private("/board", grid_worker=True)


# --- 4. a grid worker's own complaint ---------------------------------------------------------------------------


async def test_a_grid_worker_gets_no_card_of_their_own_complaint_and_cannot_work_it(desk: Bot) -> None:
    await granted_worker(desk)
    await granted_worker(desk, OTHER_WORKER)  # a colleague on the same grid
    me = await registered(desk, WORKER, "赵网格")
    number, receipt, unit_card = await open_case(desk, me)
    await desk.barrier()
    assert cards_in(desk, WORKER, number) == []  # only their own receipt, as a resident
    card = await private_card(desk, number, OTHER_WORKER)  # the colleague gets it
    assert button_labels(desk, OTHER_WORKER, card) == CARD_BUTTONS
    assert (await me.say(f"/case {number}")).text == texts.STAFF_OWN_CASE
    assert number not in (await me.say("/queue")).text
    assert (await me.say(f"/note {number} 自己的")).text == texts.STAFF_OWN_CASE
    # the unit card's 签收, replayed from the private chat (a modified client), is refused there
    pressed = await me.press(receipt, "", forge_data=data_of(unit_card, texts.BTN_SIGN))
    assert (await pressed.answer()).text == texts.STAFF_OWN_CASE
    assert (await ticket(desk, number)).status is TicketStatus.DISPATCHED


async def test_the_file_grid_worker_gets_no_live_card_of_their_own_complaint(
        emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> None:
    path = community_with(tmp_path, workers={"A03": FILE_WORKER})
    async with running_desk(emulator, tmp_path, clock, community_file=path) as desk:
        me = await registered(desk, FILE_WORKER, "李秀英")
        number, receipt, unit_card = await open_case(desk, me)
        await desk.barrier()
        assert cards_in(desk, FILE_WORKER, number) == []
        assert (await me.say(f"/case {number}")).text == texts.STAFF_OWN_CASE
        pressed = await me.press(receipt, "", forge_data=data_of(unit_card, texts.BTN_SIGN))
        assert (await pressed.answer()).text == texts.STAFF_OWN_CASE
        assert (await ticket(desk, number)).status is TicketStatus.DISPATCHED
