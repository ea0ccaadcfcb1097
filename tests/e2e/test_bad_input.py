"""Everything a resident (or a modified client) can send that is not a tidy complaint.

Each case asserts a clear reply and that the database holds nothing half-written: the rows a
resident's actions can create (tickets, their events, drafts, points, day counters) are counted
before and after.
"""

from __future__ import annotations

import pytest
from linli_e2e import STAFF_CHAT_ID, Bot, Person, ticket_number
from sqlmodel import select

from bot.app import RUNTIME_KEY
from handlers import texts
from handlers.callbacks import _sig, pack, secret_from
from storage.models import Draft, TicketEvent, TicketStatus

NOISE = "楼上天天装修，吵死了，9号楼"
SOS = "我爸摔倒了起不来"
ERROR_REPORT = texts.staff_error(0, "").split("0")[0]  # how the bot's error handler tells the staff


async def registered(bot: Bot, user_id: int, name: str = "王阿姨") -> Person:
    person = bot.person(user_id, name)
    await person.send("/start g-A03")
    await bot.barrier()
    return person


async def opened_ticket(bot: Bot, person: Person, text: str = NOISE) -> str:
    confirmation = await person.say(text)
    number = ticket_number((await person.confirm(confirmation)).text)
    await bot.barrier()  # everything the press owed (the number, an offer to save the building) has gone out
    return number


# -- media and odd messages ------


MEDIA = {  # voice and files are taken now (tests/e2e/test_intake.py): they go under the case's card
    "sticker": lambda emu, uid: emu.send_sticker(uid),
    "location": lambda emu, uid: emu.send_location(uid, 30.2990, 120.1400),  # in the community, with no draft
    "contact": lambda emu, uid: emu.send_contact(uid, "+8613800000000"),
}


@pytest.mark.parametrize("kind", list(MEDIA))
async def test_media_gets_a_clear_reply_and_writes_nothing(bot: Bot, kind: str) -> None:
    person = await registered(bot, 2001)
    before = await bot.counts()
    cursor = bot.emulator.cursor()
    await MEDIA[kind](bot.emulator, 2001)
    reply = await person.reply(after=cursor)
    await bot.barrier()
    assert reply.text == texts.MEDIA_UNSUPPORTED[kind]
    assert len(person.replies(cursor)) == 1
    assert await bot.counts() == before


async def test_a_location_far_outside_the_community_is_refused_politely(bot: Bot) -> None:
    person = await registered(bot, 2001)
    await person.say("路灯坏了")  # a draft that asks where
    before = await bot.counts()
    cursor = bot.emulator.cursor()
    await bot.emulator.send_location(2001, 31.2304, 121.4737)  # Shanghai, far from the sample community
    assert (await person.reply(after=cursor)).text == texts.LOCATION_OUTSIDE
    await bot.barrier()
    assert await bot.counts() == before
    async with bot.db.session() as s:
        draft = (await s.exec(select(Draft))).one()
    assert draft.location is None


@pytest.mark.parametrize("text", ["😀😀😀", "👍", "？？！！", "……"])
async def test_emoji_or_punctuation_only_text(bot: Bot, text: str) -> None:
    person = await registered(bot, 2002)
    before = await bot.counts()
    cursor = await person.send(text)
    reply = await person.reply(after=cursor)
    await bot.barrier()
    assert reply.text == texts.MEDIA_UNSUPPORTED["sticker"]
    assert len(person.replies(cursor)) == 1
    assert await bot.counts() == before


async def test_media_during_a_draft_leaves_the_draft_alone(bot: Bot) -> None:
    person = await registered(bot, 2003)
    await person.say(NOISE)
    draft = await bot.draft(2003)
    for kind in ("sticker", "contact"):
        cursor = bot.emulator.cursor()
        await MEDIA[kind](bot.emulator, 2003)
        assert (await person.reply(after=cursor)).text == texts.MEDIA_UNSUPPORTED[kind]
    after = await bot.draft(2003)
    assert (after.text, after.category, after.stage, after.photos) == (
        draft.text, draft.category, draft.stage, draft.photos)
    for send in (lambda: bot.emulator.send_voice(2003), lambda: bot.emulator.send_document(2003, "材料.pdf")):
        cursor = bot.emulator.cursor()
        await send()  # a voice message or a file joins the draft, and changes nothing else of it
        assert (await person.reply(after=cursor)).text == texts.ATTACHMENT_ADDED
    after = await bot.draft(2003)
    assert (after.text, after.category, after.stage, after.photos) == (
        draft.text, draft.category, draft.stage, draft.photos)
    assert [a["kind"] for a in after.attachments] == ["voice", "document"]


async def test_a_4000_character_complaint_is_answered_and_kept_whole(bot: Bot) -> None:
    person = await registered(bot, 2004)
    text = NOISE + "。" + "每天从早上七点一直敲到晚上十点，电钻声音特别大，" * 170
    assert 4000 < len(text) <= 4096
    cursor = await person.send(text)
    warning = await person.reply(after=cursor)
    confirmation = await person.reply(lambda m: bool(m.buttons), after=cursor)
    assert warning.text == texts.TOO_LONG
    assert len(confirmation.text) < 1000  # a preview, not the whole text, in the confirmation
    opened = await person.confirm(confirmation)
    [ticket] = await bot.tickets(2004)
    assert ticket.number == ticket_number(opened.text)
    assert ticket.text == text  # the full text is kept
    staff = await bot.staff_message(lambda m: ticket.number in m.body, after=0)  # posted in the background
    assert len(staff.text) < 4096


async def test_a_4000_character_message_nobody_understands(bot: Bot) -> None:
    person = await registered(bot, 2005)
    before = await bot.counts()
    cursor = await person.send("啊" * 4050)
    replies = [await person.reply(after=cursor)]
    replies.append(await person.reply(after=replies[0]))
    await bot.barrier()
    assert [m.text for m in replies] == [texts.TOO_LONG, texts.NOT_UNDERSTOOD]
    assert await bot.counts() == before


# -- commands ------


async def test_unknown_command(bot: Bot) -> None:
    person = await registered(bot, 2006)
    before = await bot.counts()
    for command in ("/foo", "/foo bar baz", "/start@other_bot"):
        assert (await person.say(command)).text == texts.UNKNOWN_COMMAND, command
    await bot.barrier()
    assert await bot.counts() == before


async def test_commands_with_junk_arguments_get_polite_answers(bot: Bot) -> None:
    person = await registered(bot, 2007)
    before = await bot.counts()
    assert (await person.say("/tickets xyz")).text == texts.TICKET_NOT_FOUND
    assert (await person.say("/tickets LL-20261399-0001")).text == texts.TICKET_NOT_FOUND  # no 99th day
    assert (await person.say("/help me please")).text == texts.HELP
    assert (await person.say("/points abc")).text.startswith(texts.points(0, []).splitlines()[0])
    assert (await person.say("/services 123")).text == texts.SERVICES_MENU
    await bot.barrier()
    assert await bot.counts() == before


@pytest.mark.parametrize("payload", ["junk", "g-Z99", "g-", "g-A03-extra", "%00"])
async def test_start_with_a_bad_deep_link(bot: Bot, payload: str) -> None:
    person = bot.person(2008, "新居民")
    cursor = await person.send(f"/start {payload}")
    ask = await person.reply(texts.ASK_BUILDING, after=cursor)
    assert [m.text for m in person.replies(cursor)] == [
        texts.welcome("新居民", bot.deps.community.name), texts.BAD_DEEP_LINK, texts.ASK_BUILDING]
    assert ask.buttons
    resident = await bot.resident(2008)
    assert resident.grid_code is None and resident.building is None


async def test_bad_deep_link_does_not_unbind_a_resident(bot: Bot) -> None:
    person = await registered(bot, 2009)
    await person.say("/start g-Z99", texts.ASK_BUILDING)
    assert (await bot.resident(2009)).grid_code == "A03"


# -- forged and stale buttons ------


def forgeries(secret: bytes) -> dict[str, str]:
    other = secret_from(None, "654321:SOMEONE-ELSES-TOKEN")
    long_arg = "9" * 52
    return {
        "unsigned": "ok",
        "no signature": "1|ok|",
        "wrong signature": "1|ok||AAAAAAAA",
        "signed by another bot": pack(other, "ok"),
        "wrong version": f"2|ok||{_sig(secret, '2|ok|')}",
        "extra field": f"1|ok||{_sig(secret, '1|ok|')}|x",
        "65+ bytes": f"1|tk|{long_arg}|{_sig(secret, f'1|tk|{long_arg}')}",
        "unknown action": pack(secret, "zz"),
        "unknown category": pack(secret, "cat", "aliens"),
        "building out of range": pack(secret, "bld", "999"),
        "bad age": pack(secret, "age", "200"),
        "forward non-number": pack(secret, "fw", "abc"),
        "empty": "",
    }


async def test_forged_callback_data_gets_an_alert_and_changes_nothing(bot: Bot) -> None:
    person = await registered(bot, 2010)
    confirmation = await person.say(NOISE)
    draft = await bot.draft(2010)
    before = await bot.counts()
    cases = forgeries(bot.deps.callback_secret)
    assert len(cases["65+ bytes"].encode()) > 64
    for name, data in cases.items():
        pressed = await person.press(confirmation, "", forge_data=data)
        answer = await pressed.answer()
        assert (answer.text, answer.show_alert) == (texts.STALE_BUTTON, True), name
    await bot.barrier()
    assert await bot.counts() == before
    after = await bot.draft(2010)
    assert (after.text, after.category, after.stage) == (draft.text, draft.category, draft.stage)
    keyboard = bot.emulator.message(2010, confirmation.message_id).buttons
    assert [b.text for b in keyboard] == [b.text for b in confirmation.buttons]  # keyboard untouched
    assert (await bot.resident(2010)).age_band is None
    assert not [m for m in bot.staff_messages() if m.body.startswith(ERROR_REPORT)]  # no handler failed


async def test_validly_signed_buttons_for_someone_elses_ticket_reveal_nothing(bot: Bot) -> None:
    """A button copied from another resident's chat is signed but not theirs: ownership is rechecked."""
    owner = await registered(bot, 2011)
    number = await opened_ticket(bot, owner)
    thief = await registered(bot, 2012, "张先生")
    bait = await thief.say("/help")
    secret = bot.deps.callback_secret
    before = await bot.counts()

    answer = await (await thief.press(bait, "", forge_data=pack(secret, "wd", number))).answer()
    assert (answer.text, answer.show_alert) == (texts.TICKET_NOT_FOUND, True)
    shown = await (await thief.press(bait, "", forge_data=pack(secret, "tk", number))).reply()
    assert shown.text == texts.TICKET_NOT_FOUND
    withdrawn = await (await thief.press(bait, "", forge_data=pack(secret, "wdy", number))).reply()
    assert withdrawn.text == texts.WITHDRAW_REFUSED["not_found"]
    unknown = await (await thief.press(bait, "", forge_data=pack(secret, "buyy", "gold"))).answer()
    assert (unknown.text, unknown.show_alert) == (texts.REDEEM_REFUSED["unknown_item"], True)

    await bot.barrier()
    assert await bot.counts() == before
    assert (await bot.tickets(2011))[0].status == TicketStatus.DISPATCHED
    assert all(number not in m.body for m in bot.emulator.messages_to(2012))


async def test_confirm_pressed_twice_opens_one_ticket(bot: Bot) -> None:
    person = await registered(bot, 2013)
    confirmation = await person.say(NOISE)
    first = await person.press(confirmation, texts.BTN_CONFIRM)
    second = await person.press(confirmation, texts.BTN_CONFIRM)  # a double tap: both queued at once
    opened = await first.edit("LL-")
    late = await second.answer()
    await bot.barrier()
    assert (late.text, late.show_alert) == (texts.draft_already_sent(ticket_number(opened.text)), True)
    assert [t.number for t in await bot.tickets()] == [ticket_number(opened.text)]
    assert await bot.count(TicketEvent) == 2  # created + dispatched, once
    assert [m.message_id for m in bot.emulator.messages_to(2013) if "LL-" in m.body] == [confirmation.message_id]


async def test_old_confirmations_of_a_submitted_draft_are_expired(bot: Bot) -> None:
    person = await registered(bot, 2014)
    oldest = await person.say(NOISE)
    older = await person.say("晚上也不停")  # joined: each message shows the draft again, with buttons
    newest = await person.say("已经一个多月了")
    number = ticket_number((await person.confirm(newest)).text)
    before = await bot.counts()
    for stale, label, said in ((oldest, texts.BTN_CONFIRM, texts.draft_already_sent(number)),
                               (older, texts.BTN_RECATEGORIZE, texts.DRAFT_EXPIRED)):
        answer = await (await person.press(stale, label)).answer()
        assert (answer.text, answer.show_alert) == (said, True)
    await bot.barrier()
    assert bot.emulator.message(2014, oldest.message_id).buttons == []  # stale keyboards are removed
    assert bot.emulator.message(2014, older.message_id).buttons == []
    assert await bot.counts() == before and len(await bot.tickets()) == 1


async def test_confirm_after_the_draft_went_stale_is_expired(bot: Bot) -> None:
    person = await registered(bot, 2022)
    confirmation = await person.say(NOISE)
    bot.clock.advance(minutes=31)  # drafts untouched for 30 minutes are abandoned
    answer = await (await person.press(confirmation, texts.BTN_CONFIRM)).answer()
    assert (answer.text, answer.show_alert) == (texts.DRAFT_EXPIRED, True)
    await bot.barrier()
    assert await bot.tickets() == []
    fresh = await person.say("小区门口乱停车")  # the abandoned words do not leak into the next complaint
    assert NOISE not in fresh.text


async def test_old_confirm_does_not_submit_a_newer_draft(bot: Bot) -> None:
    person = await registered(bot, 2015)
    old = await person.say(NOISE)
    bot.clock.advance(minutes=5)  # outside the join window: the next complaint starts a new draft
    await person.say("小区门口乱停车")
    pressed = await person.press(old, texts.BTN_CONFIRM)
    await pressed.answer()
    await bot.barrier()
    assert all(t.text != "小区门口乱停车" for t in await bot.tickets())


async def test_withdraw_confirmed_twice_withdraws_once(bot: Bot) -> None:
    person = await registered(bot, 2016)
    number = await opened_ticket(bot, person)
    ask = await person.click(await person.say(number), texts.BTN_WITHDRAW)
    first = await person.press(ask, texts.BTN_WITHDRAW_YES)
    second = await person.press(ask, texts.BTN_WITHDRAW_YES)
    done = await first.reply()
    refused = await second.reply(lambda m: m.message_id != done.message_id)
    assert done.text == texts.WITHDRAWN.format(number=number)
    assert refused.text == texts.WITHDRAW_REFUSED["already_withdrawn"]
    assert await bot.count(TicketEvent) == 3  # created + dispatched + one withdrawal


# -- groups ------


async def test_commands_in_a_group_point_to_the_private_chat(bot: Bot) -> None:
    group = -100777
    bot.emulator.group(group, "9号楼业主群", bot_is_admin=True)
    bot.person(2017, "业主")
    before = await bot.counts()
    for command in ("/start", "/tickets", "/start@linli_bot g-A03", "/points", "/foo"):
        cursor = bot.emulator.cursor()
        await bot.emulator.send_text(2017, command, chat_id=group)
        reply = await bot.emulator.wait_for(group, after=cursor)
        assert reply.text == texts.GROUP_ONLY_PRIVATE, command
    cursor = bot.emulator.cursor()
    await bot.emulator.send_text(2017, NOISE, chat_id=group)  # chatter in the group: not for the bot
    await bot.emulator.send_photo(2017, chat_id=group)
    await bot.barrier()
    assert bot.emulator.messages_after(group, cursor) == []
    assert await bot.counts() == before
    resident = await bot.resident(2017)
    assert resident is None or resident.grid_code is None


async def test_the_staff_group_is_not_a_resident_chat(bot: Bot) -> None:
    bot.person(2018, "值班员")
    cursor = bot.emulator.cursor()
    await bot.emulator.send_text(2018, "/tickets", chat_id=STAFF_CHAT_ID)
    assert (await bot.staff_message(after=cursor)).text == texts.GROUP_ONLY_PRIVATE


# -- a user who blocked the bot ------


async def test_a_blocked_user_does_not_stop_the_bot_for_others(bot: Bot) -> None:
    gone = await registered(bot, 2019, "已拉黑")
    confirmation = await gone.say(NOISE)
    other = await registered(bot, 2020, "张先生")

    await bot.emulator.send_text(2019, "下次义剪是哪天")
    bot.emulator.block(2019)  # blocked before the bot answers: its reply meets 403
    pressed = await gone.press(confirmation, texts.BTN_CONFIRM)  # a press from the blocked chat too
    reply = await other.say("下次义剪是哪天")
    assert "爱心义剪" in reply.text
    await pressed.answer()
    await bot.barrier()
    assert bot.emulator.stats.forbidden[2019] >= 2
    runtime = bot.app.bot_data[RUNTIME_KEY]  # the bot polls through the inbox (bot.runtime), not PTB's updater
    assert bot.app.running and runtime.poller is not None and runtime.poller.running
    # the press was handled in full: the ticket exists and its draft is gone, nothing half-written
    [ticket] = await bot.tickets(2019)
    assert await bot.draft(2019) is None and ticket.status == TicketStatus.DISPATCHED
    other_ticket = await opened_ticket(bot, other, "小区门口乱停车")
    assert other_ticket != ticket.number


async def test_sos_alerts_staff_even_if_the_resident_cannot_be_answered(bot: Bot) -> None:
    await registered(bot, 2021)
    cursor = bot.emulator.cursor()
    await bot.emulator.send_text(2021, SOS)
    bot.emulator.block(2021)
    await bot.barrier()
    [ticket] = await bot.tickets(2021)
    assert any(ticket.number in m.body for m in bot.staff_messages(cursor))


async def test_a_confirmed_ticket_reaches_staff_even_if_the_resident_cannot_be_answered(bot: Bot) -> None:
    person = await registered(bot, 2023)
    confirmation = await person.say(NOISE)
    cursor = bot.emulator.cursor()
    bot.emulator.block(2023)
    await (await person.press(confirmation, texts.BTN_CONFIRM)).answer()
    await bot.barrier()
    [ticket] = await bot.tickets(2023)
    assert any(ticket.number in m.body for m in bot.staff_messages(cursor))
