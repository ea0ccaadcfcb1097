"""What a staff trial found, through the real bot: /help says each role's own commands (residents keep theirs), a
supervisor's card has no buttons to refuse them, a closed case's card has no traffic light, an imported case without
a name is named by its channel in Chinese, and the 回访 of a recorded case asks the recorder to phone and /rate."""

from __future__ import annotations

from pathlib import Path

from linli_e2e import (
    JUWEIHUI,
    LI,
    OTHER_GROUP,
    WAIT,
    ZHANG,
    Bot,
    open_case,
    press,
    registered,
    say_in,
    ticket,
    ticket_number,
)

from bot import jobs
from bot.emulator import SentMessage
from handlers import texts
from services.web import imports
from storage.models import Channel, TicketStatus
from web import texts as web_texts

SUPERVISOR, UNIT_SUPERVISOR, WORKER = 5201, 5202, 5301
NOISE = "楼上邻居天天半夜装修吵得睡不着"
RESULT = "已与施工方协调，晚上十点后停工。"
LIGHTS = set(texts.COLOUR_MARK.values())


async def _said(desk: Bot, user: int, chat: int, text: str) -> SentMessage:
    answer = await say_in(desk, user, chat, text)
    await desk.barrier()
    return answer


async def _resolve(desk: Bot, number: str, card: SentMessage) -> None:
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    cursor = desk.emulator.cursor()
    await press(desk, LI, JUWEIHUI, card, texts.BTN_RESOLVE)
    prompt = await desk.emulator.wait_for(JUWEIHUI, texts.staff_ask_result(number), after=cursor, timeout=WAIT)
    await say_in(desk, LI, JUWEIHUI, RESULT, reply_to=prompt)
    await desk.barrier()  # the cards are redrawn
    assert (await ticket(desk, number)).status is TicketStatus.RESOLVED


# --- 1. /help by role ----------------------------------------------------------------------------------------


async def test_help_gives_staff_supervisors_and_grid_workers_their_own_commands(desk: Bot) -> None:
    await desk.grant(SUPERVISOR, "supervisor")
    await desk.grant(WORKER, "gridworker", "A03")
    desk.person(SUPERVISOR, "纪工委老陈")
    desk.person(WORKER, "网格员小刘")
    resident = await registered(desk, 2001)

    in_desk = (await _said(desk, ZHANG, JUWEIHUI, "/help")).text
    assert in_desk == texts.HELP_DESK and "/queue" in in_desk and "/rate" in in_desk
    staff = (await _said(desk, ZHANG, ZHANG, "/help")).text
    assert staff == texts.staff_help(desk_chat=False, staff=True, grid_worker=False, supervisor=False, admin=False)
    assert texts.HELP_PRIVATE_STAFF in staff and texts.HELP not in staff
    sup = (await _said(desk, SUPERVISOR, SUPERVISOR, "/help")).text
    assert texts.HELP_SUPERVISOR in sup and "/supervise" in sup and texts.HELP not in sup
    worker = (await _said(desk, WORKER, WORKER, "/help")).text
    assert texts.HELP_GRID_WORKER in worker and "/notice" in worker and texts.HELP not in worker
    # residents keep theirs; a group that is no desk is answered as before
    assert (await _said(desk, resident.id, resident.id, "/help")).text == texts.HELP
    assert (await _said(desk, ZHANG, OTHER_GROUP, "/help")).text == texts.GROUP_ONLY_PRIVATE


async def test_an_admins_help_is_the_union_of_their_roles_and_says_where_the_desks_commands_are(desk: Bot) -> None:
    """An admin (who may act on every case) was shown only /grant /revoke /award /reverse: nothing of the desk."""
    admin_only, admin_staff, admin_worker = 5401, 5402, 5403
    await desk.grant(admin_only, "admin")
    await desk.grant(admin_staff, "admin")
    await desk.grant(admin_staff, "staff", "juweihui")
    await desk.grant(admin_worker, "admin")
    await desk.grant(admin_worker, "gridworker", "A03")
    for who, name in ((admin_only, "管理员老王"), (admin_staff, "管理员兼工作人员"), (admin_worker, "管理员兼网格员")):
        desk.person(who, name)

    alone = (await _said(desk, admin_only, admin_only, "/help")).text
    assert texts.HELP_ADMIN in alone and "工作群里发 /help" in alone and "/report" in alone and "/record" in alone
    assert texts.HELP not in alone
    both = (await _said(desk, admin_staff, admin_staff, "/help")).text
    assert texts.HELP_PRIVATE_STAFF in both and texts.HELP_ADMIN in both
    worker = (await _said(desk, admin_worker, admin_worker, "/help")).text
    assert texts.HELP_GRID_WORKER in worker and "/queue" in worker and texts.HELP_ADMIN in worker
    # in a desk chat: the desk's commands, and the admin's own below them
    in_desk = (await _said(desk, admin_staff, JUWEIHUI, "/help")).text
    assert in_desk.startswith(texts.HELP_DESK) and texts.HELP_ADMIN in in_desk and "/queue" in in_desk
    assert (await _said(desk, ZHANG, JUWEIHUI, "/help")).text == texts.HELP_DESK  # staff alone: as before


# --- 2. a supervisor's card ----------------------------------------------------------------------------------


async def test_a_supervisors_case_card_has_no_handling_buttons_nor_the_reply_hint(desk: Bot) -> None:
    await desk.grant(SUPERVISOR, "supervisor")
    await desk.grant(UNIT_SUPERVISOR, "supervisor", "wuye")
    desk.person(SUPERVISOR, "纪工委老陈")
    desk.person(UNIT_SUPERVISOR, "物业督办")
    number, _, _ = await open_case(desk, await registered(desk, 2001))

    for chat in (JUWEIHUI, SUPERVISOR):  # in the unit's chat and privately
        card = await _said(desk, SUPERVISOR, chat, f"/case {number}")
        assert card.text.startswith(f"{texts.CARD_HEADER_TICKET} {number}"), card.text
        assert card.buttons == []
        assert "答复居民" not in card.text and texts.card_read_only(number) in card.text
    # a unit's supervisor reads only that unit's cases
    assert (await _said(desk, UNIT_SUPERVISOR, UNIT_SUPERVISOR, f"/case {number}")).text == texts.HISTORY_NO_ROLE
    # staff keep their card with its buttons
    cursor = desk.emulator.cursor()
    await desk.emulator.send_text(ZHANG, f"/case {number}", JUWEIHUI)
    card = await desk.emulator.wait_for(JUWEIHUI, lambda m: number in m.text and m.buttons, after=cursor,
                                        timeout=WAIT)
    assert texts.BTN_SIGN in [b.text for b in card.buttons] and "直接回复本消息即可答复居民" in card.text


async def test_a_supervisors_card_follows_the_case_and_a_reply_to_it_goes_nowhere(desk: Bot) -> None:
    """It is no snapshot: redrawn with the desk's cards at every change (still read-only), as theirs are."""
    await desk.grant(SUPERVISOR, "supervisor")
    desk.person(SUPERVISOR, "纪工委老陈")
    resident = await registered(desk, 2001)
    number, _, card = await open_case(desk, resident)
    mine = await _said(desk, SUPERVISOR, SUPERVISOR, f"/case {number}")
    assert texts.STATUS[TicketStatus.DISPATCHED] in mine.text

    await _resolve(desk, number, card)  # 签收, then 办结 with its result
    drawn = desk.emulator.message(SUPERVISOR, mine.message_id)
    assert texts.STATUS[TicketStatus.RESOLVED] in drawn.text and RESULT in drawn.text
    assert len(drawn.history) >= 2  # edited in place, not sent again
    assert drawn.buttons == [] and texts.card_read_only(number) in drawn.text and "答复居民" not in drawn.text

    cursor = desk.emulator.cursor()
    await desk.emulator.send_text(SUPERVISOR, "这个办得不错", SUPERVISOR, reply_to=mine.message_id)
    await desk.barrier()
    assert resident.replies(cursor) == []  # never relayed to the resident as the desk's answer


# --- 3. no traffic light once a case is done -----------------------------------------------------------------


async def test_a_resolved_cases_card_shows_no_traffic_light(desk: Bot) -> None:
    number, _, card = await open_case(desk, await registered(desk, 2001))
    desk.clock.advance(days=30)  # long past its deadline: red while open
    red = await _said(desk, ZHANG, JUWEIHUI, f"/case {number}")
    assert texts.COLOUR_MARK["red"] in red.text
    await _resolve(desk, number, red)
    for message in (card, red):
        text = desk.emulator.message(JUWEIHUI, message.message_id).text
        assert f"状态：{texts.STATUS['resolved']}" in text
        assert not any(light in text for light in LIGHTS), text


# --- 4. an imported case's resident is named in Chinese ------------------------------------------------------


async def test_an_imported_case_without_a_name_is_named_by_its_channel_in_chinese(desk: Bot, tmp_path: Path) -> None:
    path = tmp_path / "12345.csv"
    path.write_text(f"工单编号,诉求内容,诉求地址,来电人,联系电话\nR-1,{NOISE},9号楼,,\n", encoding="utf-8")
    d = desk.deps
    cursor = desk.emulator.cursor()
    summary = await imports.import_file(desk.db, path, channel=Channel.HOTLINE, mapping=imports.Mapping_(),
                                        engine=d.engine, community=d.community, staff_chat_id=d.staff_chat_id,
                                        now=desk.clock.now(), on_added=d.wake_sender)
    [number] = summary.tickets
    card = await desk.emulator.wait_for(JUWEIHUI, lambda m: number in m.text and m.buttons, after=cursor,
                                        timeout=WAIT)
    assert "居民：12345热线来件" in card.text
    assert web_texts.CHANNEL["open311"] == "外部平台"


# --- 5. 回访 of a recorded case: phone the resident, then /rate ---------------------------------------------------


async def test_the_rating_request_of_a_recorded_case_asks_the_recorder_to_phone_and_rate(desk: Bot) -> None:
    cursor = desk.emulator.cursor()
    await desk.emulator.send_text(ZHANG, f"/record 电话｜李奶奶 13600003333｜9号楼｜{NOISE}", JUWEIHUI)
    number = ticket_number((await desk.emulator.wait_for(ZHANG, "LL-", after=cursor, timeout=WAIT)).text)
    card = await desk.emulator.wait_for(JUWEIHUI, lambda m: number in m.text and m.buttons, after=cursor,
                                        timeout=WAIT)
    await desk.barrier()
    await _resolve(desk, number, card)
    desk.clock.advance(days=2)
    cursor = desk.emulator.cursor()
    assert await jobs.followup_tick(desk.app) == (1, 0)
    await desk.barrier()
    [asked] = desk.emulator.messages_after(ZHANG, cursor)
    assert asked.text == texts.recorder_rating_request(number, "李奶奶", "13600003333", RESULT, private_ok=False)
    assert f"/rate {number} 满意|基本满意|不满意" in asked.text and "在工作群里" in asked.text
    assert asked.buttons == []
