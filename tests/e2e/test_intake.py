"""Every case reaches a person, with what came with it: photos and voice on the card, words and photos added
later (补充说明), cases recorded for people who phoned or came in (代录), places and grids read right."""

from __future__ import annotations

from pathlib import Path

import pytest
from linli_e2e import (
    CARD_BUTTONS,
    JUWEIHUI,
    UNIT_CHATS,
    ZHANG,
    Bot,
    Clock,
    community_with,
    open_case,
    press,
    registered,
    running_desk,
    ticket_number,
)
from sqlmodel import select

from bot.emulator import BotApiEmulator
from handlers import texts
from storage.models import Channel, Resident, Ticket, TicketStatus

WUYE = UNIT_CHATS["wuye"]


async def test_the_card_carries_the_first_photo_and_the_rest_as_an_album_under_it(desk: Bot) -> None:
    person = await registered(desk, 2201)
    await desk.emulator.send_album(2201, 3, caption="9号楼楼道灯坏了三天了")
    await desk.barrier()
    confirmation = [m for m in desk.emulator.messages_to(2201)
                    if any(b.text == texts.BTN_CONFIRM for b in m.buttons)][-1]
    assert len((await desk.draft(2201)).photos) == 3  # the album's three photos joined the caption's draft
    cursor = desk.emulator.cursor()
    receipt = await person.confirm(confirmation)
    number = ticket_number(receipt.text)
    card = await desk.emulator.wait_for(WUYE, lambda m: m.method == "sendPhoto" and number in m.body, after=cursor,
                                        timeout=10)
    assert card.buttons  # the card is the photo, with its buttons
    album = await desk.emulator.wait_for(WUYE, lambda m: m.media_group_id is not None, after=cursor, timeout=10)
    assert album.reply_to_message_id == card.message_id
    await desk.barrier()
    group = [m for m in desk.emulator.messages_after(WUYE, cursor) if m.media_group_id == album.media_group_id]
    assert len(group) == 2
    [t] = await desk.tickets(2201)
    assert len(t.photos) == 3


async def test_a_voice_message_opens_a_draft_and_is_heard_under_the_card(desk: Bot) -> None:
    person = await registered(desk, 2202)
    cursor = desk.emulator.cursor()
    await desk.emulator.send_voice(2202, duration=42)
    said = await person.reply(after=cursor)
    assert said.text == texts.VOICE_DRAFT
    draft = await person.reply(after=said)  # 其他 by default; the place asked when unknown
    if draft.text == texts.ASK_LOCATION:
        draft = await person.say("9号楼2单元")
    assert texts.voice_label(42) in draft.text and any(b.text == texts.BTN_RECATEGORIZE for b in draft.buttons)
    cursor = desk.emulator.cursor()
    receipt = await person.confirm(draft)
    number = ticket_number(receipt.text)
    card = await desk.emulator.wait_for(JUWEIHUI, number, after=cursor, timeout=10)  # 其他 → the committee
    voice = await desk.emulator.wait_for(JUWEIHUI, lambda m: m.voice is not None, after=cursor, timeout=10)
    assert voice.reply_to_message_id == card.message_id
    [t] = await desk.tickets(2202)
    assert (t.category, [a["kind"] for a in t.attachments]) == ("other", ["voice"])


async def test_a_file_sent_alone_opens_a_draft_said_as_a_file_not_a_voice_message(desk: Bot) -> None:
    """A document alone (the console's /doc): the bot says it got a file, not a voice message, and the file goes
    under the card."""
    person = await registered(desk, 2290)
    cursor = desk.emulator.cursor()
    await desk.emulator.send_document(2290, "楼道漏水照片说明.pdf")
    said = await person.reply(after=cursor)
    assert said.text == texts.FILE_DRAFT
    assert "语音" not in said.text
    draft = await person.reply(after=said)
    if draft.text == texts.ASK_LOCATION:
        draft = await person.say("9号楼2单元")
    assert texts.file_label("楼道漏水照片说明.pdf") in draft.text
    cursor = desk.emulator.cursor()
    receipt = await person.confirm(draft)
    number = ticket_number(receipt.text)
    card = await desk.emulator.wait_for(JUWEIHUI, number, after=cursor, timeout=10)
    document = await desk.emulator.wait_for(JUWEIHUI, lambda m: m.method == "sendDocument", after=cursor, timeout=10)
    assert document.reply_to_message_id == card.message_id
    [t] = await desk.tickets(2290)
    assert [a["kind"] for a in t.attachments] == ["document"]


async def test_a_voice_message_of_over_ten_minutes_is_refused_politely(desk: Bot) -> None:
    person = await registered(desk, 2203)
    before = await desk.counts()
    cursor = desk.emulator.cursor()
    await desk.emulator.send_voice(2203, duration=601)
    assert (await person.reply(after=cursor)).text == texts.VOICE_TOO_LONG
    await desk.barrier()
    assert await desk.counts() == before and await desk.draft(2203) is None


async def test_a_caption_over_telegram_s_limit_keeps_nothing(desk: Bot) -> None:
    person = await registered(desk, 2204)
    cursor = desk.emulator.cursor()
    await desk.emulator.send_photo(2204, caption="楼道灯坏了" * 300)  # 1,500 characters
    assert (await person.reply(after=cursor)).text == texts.CAPTION_TOO_LONG.format(limit=1024)
    await desk.barrier()
    assert await desk.draft(2204) is None


async def test_more_than_ten_photos_are_refused_one_by_one(desk: Bot) -> None:
    person = await registered(desk, 2205)
    await person.say("9号楼门口垃圾堆成山了")
    await desk.emulator.send_album(2205, 10)
    await desk.barrier()
    cursor = desk.emulator.cursor()
    await desk.emulator.send_photo(2205)
    assert (await person.reply(after=cursor)).text == texts.PHOTOS_TOO_MANY.format(limit=10)
    assert len((await desk.draft(2205)).photos) == 10


async def test_supplementing_an_open_case_relays_words_and_photos_under_its_card(desk: Bot) -> None:
    person = await registered(desk, 2206)
    number, _, card = await open_case(desk, person)
    view = await person.say(number)  # the case's page
    assert [b.text for b in view.buttons] == [texts.BTN_SUPPLEMENT, texts.BTN_WITHDRAW]
    ask = await person.click(view, texts.BTN_SUPPLEMENT, number)
    assert ask.text == texts.supplement_ask(number)
    cursor = desk.emulator.cursor()
    assert (await person.say("每天晚上十点以后还在敲")).text == texts.SUPPLEMENT_ADDED
    words = await desk.emulator.wait_for(JUWEIHUI, "每天晚上十点以后还在敲", after=cursor, timeout=10)
    assert words.reply_to_message_id == card.message_id
    await desk.emulator.send_photo(2206)
    photo = await desk.emulator.wait_for(JUWEIHUI, lambda m: m.method == "sendPhoto", after=cursor, timeout=10)
    assert photo.reply_to_message_id == card.message_id and number in photo.body
    done = await person.press(ask, texts.BTN_SUPPLEMENT_DONE)
    assert (await done.edit()).text == texts.SUPPLEMENT_DONE
    later = await person.say("小区东门口的路灯坏了")  # read as a new complaint again
    assert any(b.text == texts.BTN_CONFIRM for b in later.buttons)
    [t] = await desk.tickets(2206)
    assert len(t.photos) == 1


async def test_record_a_phone_call_step_by_step(desk: Bot) -> None:
    staff = desk.person(ZHANG, "张主任")
    menu = await staff.say("/record")
    assert menu.text == texts.RECORD_ASK_CHANNEL
    who = await staff.click(menu, "电话", texts.RECORD_ASK_WHO)
    assert who.text == texts.RECORD_ASK_WHO
    assert (await staff.say("张大爷 13900001111")).text == texts.RECORD_ASK_PLACE
    assert (await staff.say("12号楼3单元")).text == texts.RECORD_ASK_TEXT
    assert (await staff.say("跳过")).text == texts.RECORD_TEXT_REQUIRED  # the words are required
    preview = await staff.say("楼道灯坏了一个星期了，老人晚上下楼看不见")
    assert preview.buttons[0].text == "设施报修"  # the engine's guess first
    cursor = desk.emulator.cursor()
    told = await staff.click(preview, "设施报修", "LL-")
    number = ticket_number(told.text)
    assert told.text.startswith("✅ 已为 张大爷（13900001111） 登记工单")
    card = await desk.emulator.wait_for(WUYE, number, after=cursor, timeout=10)
    assert "电话，" in card.text and "13900001111" in card.text
    [t] = [t for t in await desk.tickets() if t.number == number]
    assert (t.channel, t.recorded_by, t.contact_name, t.grid_code) == (Channel.PHONE, ZHANG, "张大爷", "A03")
    async with desk.db.session() as s:
        person = await s.get(Resident, t.resident_id)
    assert person.tg_user_id is None and person.phone == "13900001111"


async def test_record_in_one_line_from_a_desk_chat_and_its_progress_goes_to_the_recorder(desk: Bot) -> None:
    cursor = desk.emulator.cursor()
    await desk.emulator.send_text(ZHANG, "/record 来访｜李奶奶｜9号楼｜楼上邻居天天半夜装修吵得睡不着", JUWEIHUI)
    told = await desk.emulator.wait_for(ZHANG, "LL-", after=cursor, timeout=10)
    number = ticket_number(told.text)
    card = await desk.emulator.wait_for(JUWEIHUI, lambda m: number in m.text and m.buttons, after=cursor, timeout=10)
    cursor = desk.emulator.cursor()
    await desk.emulator.press(ZHANG, card.message_id, next(b for b in card.buttons if b.text == texts.BTN_SIGN)
                              .callback_data, chat_id=JUWEIHUI)
    progress = await desk.emulator.wait_for(ZHANG, number, after=cursor, timeout=10)
    assert progress.text.startswith("📞 代录工单进展，请转告 李奶奶")


@pytest.mark.parametrize("line", ["/record", "/record 电话", "/record 电话｜张大爷｜9号楼｜",
                                  "/record 微信｜张｜楼道灯坏了"])
async def test_record_without_what_happened_is_answered_with_the_form(desk: Bot, line: str) -> None:
    before = await desk.counts()
    cursor = desk.emulator.cursor()
    await desk.emulator.send_text(ZHANG, line, JUWEIHUI)
    answer = await desk.emulator.wait_for(JUWEIHUI, lambda m: m.seq > cursor, after=cursor, timeout=10)
    assert answer.text == texts.RECORD_USAGE
    await desk.barrier()
    assert await desk.counts() == before


async def test_residents_cannot_record(desk: Bot) -> None:
    person = await registered(desk, 2207)
    assert (await person.say("/record 电话｜张｜9号楼｜楼道灯坏了")).text == texts.RECORD_REFUSED
    async with desk.db.session() as s:
        assert (await s.exec(select(Resident).where(Resident.tg_user_id.is_(None)))).all() == []  # type: ignore


async def test_a_named_building_sets_the_grid_tells_its_worker_and_is_offered_as_home(
        emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> None:
    """A resident with no building names one: the case is in that building's grid, its grid worker gets the card
    privately with the buttons their role allows, and the resident may save the building as their own."""
    path = community_with(tmp_path, workers={"A01": 4101})
    emulator.user(4101, "王丽娟")
    async with running_desk(emulator, tmp_path, clock, community_file=path) as desk:
        await desk.grant(4101, "gridworker", "A01")
        person = desk.person(2208, "孙阿姨")
        await person.say("/start")
        await desk.barrier()
        draft = await person.say("3号楼门口的井盖丢了，晚上很危险", lambda m: any(b.text == texts.BTN_CONFIRM
                                                                          for b in m.buttons))
        cursor = desk.emulator.cursor()
        offer = await person.confirm(draft)  # the number, with the offer to save 3号楼 as home under it
        number = ticket_number(offer.text)
        assert texts.offer_building("3号楼") in offer.text
        card = await desk.emulator.wait_for(4101, number, after=cursor, timeout=10)
        assert "A01 第一网格（网格员 王丽娟）" in card.text and [b.text for b in card.buttons] == CARD_BUTTONS
        [t] = await desk.tickets(2208)
        assert (t.grid_code, t.location) == ("A01", "3号楼门口")
        signed = await press(desk, 4101, 4101, card, texts.BTN_SIGN)  # the grid worker signs from their chat
        assert signed.text == texts.STAFF_SIGNED
        await person.press(offer, texts.BTN_BUILDING_YES)
        await desk.barrier()
        assert (await desk.resident(2208)).building == "3号楼"


@pytest.mark.parametrize("yes", ["确认", "好的", "提交吧", "1"])
async def test_a_yes_typed_to_the_draft_confirms_it_as_the_button_would(desk: Bot, yes: str) -> None:
    """Many residents answer 确认提交吗？ in words: the yes opens the case (it used to be added to the complaint's
    text, or taken for thanks), and the number comes back."""
    person = await registered(desk, 2230)
    draft = await person.say("3号楼2单元楼道灯不亮了", lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    assert "楼道灯" in draft.text
    cursor = await person.send(yes)  # the draft itself becomes the number, as when 确认提交 is pressed
    told = await desk.emulator.wait_for_edit(2230, draft.message_id, "LL-", after=cursor, timeout=10)
    number = ticket_number(told.text)
    [t] = await desk.tickets(2230)
    assert t.number == number and t.text == "3号楼2单元楼道灯不亮了"  # the yes is not part of the complaint
    assert await desk.draft(2230) is None
    again = await person.say("好的")  # no draft waits now: a plain reply, no second case
    assert "LL-" not in again.text
    assert len(await desk.tickets(2230)) == 1


async def test_words_with_more_in_them_still_add_to_the_draft(desk: Bot) -> None:
    person = await registered(desk, 2231)
    await person.say("3号楼2单元楼道灯不亮了", lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    shown = await person.say("好几天了，晚上很黑", lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    assert "好几天了" in shown.text
    assert await desk.tickets(2231) == []


@pytest.mark.parametrize("words", ["俺是低保户 今年的补贴咋还没发", "儿子不给赡养费 俺能告他不"])
async def test_a_matter_about_a_person_is_not_asked_for_a_place(desk: Bot, words: str) -> None:
    """低保 not paid, a son who will not pay for his mother: nothing happens at a place, so none is asked (a
    resident whose home the bot does not know yet); the draft goes straight to 确认."""
    person = await registered(desk, 2230)
    draft = await person.say(words)
    assert texts.ASK_LOCATION not in draft.text
    assert any(b.text == texts.BTN_CONFIRM for b in draft.buttons) and "地点：（未填写）" in draft.text


async def test_a_repair_with_no_place_is_still_asked_where(desk: Bot) -> None:
    person = await registered(desk, 2231)
    assert (await person.say("路灯坏了好几天了 黑咕隆咚的")).text == texts.ASK_LOCATION


async def test_a_question_to_the_bot_is_not_taken_for_the_answer_a_case_waits_for(desk: Bot) -> None:
    """待补充: the desk asked "几单元几楼？". "下次理发是哪天" asks the bot something else: answered, the case still
    waits; "2单元15楼" is the answer: the case runs again."""
    person = await registered(desk, 2232)
    number, _, _ = await open_case(desk, person)
    async with desk.deps.db.transaction() as s:
        [t] = (await s.exec(select(Ticket).where(Ticket.number == number))).all()
        t.resume_status, t.status, t.paused_at = TicketStatus.SIGNED, TicketStatus.PENDING_INFO, desk.clock.now()
        s.add(t)  # as 需补充 leaves a signed case (test_staff_desk walks the buttons)
    assert (await person.say("下次理发是哪天")).text.startswith("✂️")
    [t] = await desk.tickets(2232)
    assert t.status == TicketStatus.PENDING_INFO
    assert (await person.say("2单元15楼")).text == texts.RESIDENT_INFO_THANKS
    [t] = await desk.tickets(2232)
    assert t.status != TicketStatus.PENDING_INFO


async def test_more_words_given_for_a_place_are_kept_as_words(desk: Bot) -> None:
    """Asked where, the resident says more about the matter instead: the words join the complaint (not its place)."""
    person = await registered(desk, 2233)
    assert (await person.say("路灯坏了好几天了 黑咕隆咚的")).text == texts.ASK_LOCATION
    shown = await person.say("晚上回家老人看不清路 前两天还有人摔了一跤")
    assert any(b.text == texts.BTN_CONFIRM for b in shown.buttons) and "地点：（未填写）" in shown.text
    draft = await desk.draft(2233)
    assert draft.location is None and draft.text.endswith("前两天还有人摔了一跤")


@pytest.mark.parametrize("words", ["没人来啊 都两天了", "物业不管", "快点来人", "不清楚啊"])
async def test_a_short_answer_about_the_matter_is_not_taken_for_the_place(desk: Bot, words: str) -> None:
    """Asked where, a short answer that says how long, that nobody comes, or that they cannot say, used to become
    the place ("地点：没人来啊 都两天了"); it joins the words, the place stays unfilled (the desk can ask)."""
    person = await registered(desk, 2236)
    assert (await person.say("路灯坏了 黑咕隆咚的")).text == texts.ASK_LOCATION
    shown = await person.say(words)
    assert any(b.text == texts.BTN_CONFIRM for b in shown.buttons) and "地点：（未填写）" in shown.text
    draft = await desk.draft(2236)
    assert draft.location is None and draft.text.endswith(words)


async def test_a_short_place_the_bot_does_not_know_is_still_the_place(desk: Bot) -> None:
    person = await registered(desk, 2237)
    assert (await person.say("路灯坏了好几天了 黑咕隆咚的")).text == texts.ASK_LOCATION
    shown = await person.say("花坛边上")
    assert "地点：花坛边上" in shown.text


async def test_asking_for_mediation_is_not_asked_for_a_place(desk: Bot) -> None:
    person = await registered(desk, 2234)
    shown = await person.say("我想申请调解 和楼下邻居因为漏水的事闹矛盾")
    assert texts.ASK_LOCATION not in shown.text and any(b.text == texts.BTN_CONFIRM for b in shown.buttons)


async def test_a_yes_or_a_shrug_is_not_taken_for_the_place(desk: Bot) -> None:
    """Asked where, "中" (a yes in dialect) is no place: asked again; "不知道" sends the case on without one."""
    person = await registered(desk, 2235)
    assert (await person.say("路灯坏了好几天了 黑咕隆咚的")).text == texts.ASK_LOCATION
    assert (await person.say("中")).text == texts.ASK_LOCATION
    shown = await person.say("不知道")
    assert any(b.text == texts.BTN_CONFIRM for b in shown.buttons) and "地点：（未填写）" in shown.text
    assert (await desk.draft(2235)).location is None
