"""Composing a notice through the real bot: a photo with the text as its caption, a send time (preset
button or typed), a scheduled notice that waits for its time (and can be withdrawn before it), and the
polite refusals for a time in the past, too far ahead or unreadable, or a caption over Telegram's limit."""

from __future__ import annotations

from datetime import datetime, timedelta

from linli_e2e import Bot, Person
from sqlmodel import select

from bot import sender as notice_sender
from bot.emulator import SentMessage
from handlers import texts
from handlers.grid.notices import MAX_CAPTION
from services import SHANGHAI
from storage.models import Notice, NoticeDelivery, NoticeStatus, Resident

WORKER = 8101
RESIDENTS = list(range(21_001, 21_006))  # five residents of 9号楼, grid A03
START = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


async def setup(bot: Bot) -> Person:
    bot.clock.set(2026, 11, 23, 10, 0)
    await bot.grant(WORKER, "gridworker", "A03")
    async with bot.db.transaction() as s:
        for uid in RESIDENTS:
            bot.emulator.user(uid, f"居民{uid}")
            s.add(Resident(tg_user_id=uid, name=f"居民{uid}", grid_code="A03", building="9号楼",
                           created_at=bot.clock(), updated_at=bot.clock()))
    return bot.person(WORKER, "李秀英")


async def up_to_text(person: Person, kind: str = "general") -> None:
    menu = await person.say("/notice", texts.NOTICE_CHOOSE_KIND)
    await (await person.press(menu, texts.NOTICE_KINDS[kind])).edit(texts.notice_ask_text(kind))


async def preview_of(person: Person, choose: SentMessage, audience: str = "9号楼") -> SentMessage:
    return await (await person.press(choose, audience)).edit("通知预览")


async def notice_row(bot: Bot) -> Notice:
    async with bot.db.session() as s:
        return (await s.exec(select(Notice).order_by(Notice.id.desc()))).first()  # type: ignore[union-attr]


async def test_a_photo_with_its_caption_goes_out_as_one_photo_message(bot: Bot) -> None:
    li = await setup(bot)
    await up_to_text(li)
    cursor = bot.emulator.cursor()
    await bot.emulator.send_photo(WORKER, caption="周六上午9点广场义诊，见海报")
    choose = await li.reply(texts.NOTICE_CHOOSE_AUDIENCE, after=cursor)
    preview = await preview_of(li, choose)
    assert "附图：1 张" in preview.body and "收件居民：5 人" in preview.body
    assert [b.text for b in preview.buttons] == [texts.BTN_NOTICE_SEND, texts.BTN_NOTICE_SCHEDULE,
                                                 texts.BTN_NOTICE_CANCEL]
    pressed = await li.press(preview, texts.BTN_NOTICE_SEND)
    await li.reply(texts.notice_report(5, 5, 0, 0), after=pressed.cursor)
    for uid in RESIDENTS:
        [got] = bot.emulator.messages_after(uid, 0)
        assert got.method == "sendPhoto" and got.photo
        assert got.caption == texts.notice_message("general", "周六上午9点广场义诊，见海报")


async def test_a_photo_first_then_the_text_and_the_caption_limit(bot: Bot) -> None:
    li = await setup(bot)
    await up_to_text(li)
    cursor = bot.emulator.cursor()
    await bot.emulator.send_photo(WORKER)  # no caption: the text is asked for
    await li.reply(texts.notice_photo_taken(MAX_CAPTION), after=cursor)
    too_long = "长" * (MAX_CAPTION + 1)
    await li.say(too_long, texts.notice_too_long(MAX_CAPTION, True))  # a caption Telegram would refuse
    choose = await li.say("义诊海报见图", texts.NOTICE_CHOOSE_AUDIENCE)
    await preview_of(li, choose)
    notice = await notice_row(bot)
    assert notice.photo_file_id and notice.text == "义诊海报见图"


async def test_a_preset_time_waits_then_goes_and_the_sender_is_told(bot: Bot) -> None:
    li = await setup(bot)
    await up_to_text(li, "outage")
    choose = await li.say("9号楼今晚22:00-24:00停水，请提前储水", texts.NOTICE_CHOOSE_AUDIENCE)
    preview = await preview_of(li, choose)
    assert "确认后立即发送" in preview.body
    menu = await (await li.press(preview, texts.BTN_NOTICE_SCHEDULE)).edit(texts.NOTICE_ASK_TIME)
    assert [b.text for b in menu.buttons] == [texts.NOTICE_TONIGHT, texts.NOTICE_TOMORROW_MORNING,
                                              texts.NOTICE_TOMORROW_EVENING, texts.BTN_NOTICE_NOW]
    tonight = START.replace(hour=20)
    preview = await (await li.press(menu, texts.NOTICE_TONIGHT)).edit("通知预览")
    assert f"发送时间：{texts.fmt_time(tonight)}（定时）" in preview.body
    pressed = await li.press(preview, texts.BTN_NOTICE_SEND)
    scheduled = await pressed.edit(texts.notice_scheduled(tonight, 5))
    assert [b.text for b in scheduled.buttons] == [texts.BTN_NOTICE_WITHDRAW]

    assert await notice_sender.run_once(bot.app) == 0  # 10:00: nothing is due
    assert all(bot.emulator.messages_after(uid, 0) == [] for uid in RESIDENTS)
    bot.clock.advance(hours=10, minutes=1)  # 20:01
    assert await notice_sender.run_once(bot.app) == 5
    for uid in RESIDENTS:
        [got] = bot.emulator.messages_after(uid, 0)
        assert got.body == texts.notice_message("outage", "9号楼今晚22:00-24:00停水，请提前储水")
    await bot.emulator.wait_for_edit(WORKER, preview.message_id, texts.notice_report(5, 5, 0, 0),
                                     after=pressed.cursor, timeout=10)
    # too late to withdraw: the button is gone and a replayed press changes nothing
    assert (await notice_row(bot)).status is NoticeStatus.DONE


async def test_a_typed_time_and_withdrawing_before_it(bot: Bot) -> None:
    li = await setup(bot)
    await up_to_text(li, "council")
    choose = await li.say("周四晚7点议事会，议题：加装电梯", texts.NOTICE_CHOOSE_AUDIENCE)
    preview = await preview_of(li, choose)
    await (await li.press(preview, texts.BTN_NOTICE_SCHEDULE)).edit(texts.NOTICE_ASK_TIME)
    await li.say("明天8点半", texts.NOTICE_TIME_UNREADABLE)
    words = await li.say("我家楼上漏水了")  # words without a digit are not a try at a time: the router's
    assert words.text != texts.NOTICE_TIME_UNREADABLE
    await li.say("2026-11-22 09:00", texts.NOTICE_TIME_PAST)
    await li.say("2027-06-01 09:00", texts.notice_time_too_far(60))
    new_preview = await li.say("11-25 18:30", "通知预览")
    at = datetime(2026, 11, 25, 18, 30, tzinfo=SHANGHAI)
    assert f"发送时间：{texts.fmt_time(at)}（定时）" in new_preview.body
    assert bot.emulator.message(WORKER, preview.message_id).body == texts.NOTICE_TIME_SET
    assert (await notice_row(bot)).send_at == at

    pressed = await li.press(new_preview, texts.BTN_NOTICE_SEND)
    scheduled = await pressed.edit(texts.notice_scheduled(at, 5))
    await (await li.press(scheduled, texts.BTN_NOTICE_WITHDRAW)).edit(texts.NOTICE_CANCELLED)
    bot.clock.advance(days=3)
    assert await notice_sender.run_once(bot.app) == 0
    assert all(bot.emulator.messages_after(uid, 0) == [] for uid in RESIDENTS)
    assert (await notice_row(bot)).status is NoticeStatus.CANCELLED
    async with bot.db.session() as s:
        assert (await s.exec(select(NoticeDelivery))).all() == []


async def test_back_to_now_from_the_time_menu(bot: Bot) -> None:
    li = await setup(bot)
    await up_to_text(li)
    choose = await li.say("明天下午社区有免费理发", texts.NOTICE_CHOOSE_AUDIENCE)
    preview = await preview_of(li, choose)
    menu = await (await li.press(preview, texts.BTN_NOTICE_SCHEDULE)).edit(texts.NOTICE_ASK_TIME)
    await (await li.press(menu, texts.NOTICE_TOMORROW_MORNING)).edit("通知预览")
    assert (await notice_row(bot)).send_at == (START + timedelta(days=1)).replace(hour=8)
    menu = await (await li.press(preview, texts.BTN_NOTICE_SCHEDULE)).edit(texts.NOTICE_ASK_TIME)
    preview = await (await li.press(menu, texts.BTN_NOTICE_NOW)).edit("通知预览")
    assert "确认后立即发送" in preview.body and (await notice_row(bot)).send_at is None
    # once the time menu is gone, a typed time is not taken for the notice's: it is an ordinary message again
    await li.send("20:00")
    await bot.barrier()
    assert (await notice_row(bot)).send_at is None


async def test_composition_survives_losing_the_bots_memory(bot: Bot) -> None:
    """The steps are kept in the database: with the in-memory copy gone (as after a restart), the worker's
    text is still the notice's, not a complaint."""
    li = await setup(bot)
    await up_to_text(li, "fraud")
    bot.app.drop_user_data(WORKER)
    choose = await li.say("近期有冒充社保局的电话诈骗，请勿转账", texts.NOTICE_CHOOSE_AUDIENCE)
    bot.app.drop_user_data(WORKER)
    preview = await preview_of(li, choose)
    assert "冒充社保局" in preview.body
    assert await bot.tickets() == [] and await bot.draft(WORKER) is None


async def test_an_abandoned_time_menu_lets_go_after_half_an_hour(bot: Bot) -> None:
    li = await setup(bot)
    await up_to_text(li)
    choose = await li.say("周末停车场划线施工", texts.NOTICE_CHOOSE_AUDIENCE)
    preview = await preview_of(li, choose)
    await (await li.press(preview, texts.BTN_NOTICE_SCHEDULE)).edit(texts.NOTICE_ASK_TIME)
    bot.clock.advance(minutes=31)
    answer = await li.say("3号楼电梯坏了2天了")  # the worker's own complaint, digits and all
    assert answer.text not in (texts.NOTICE_TIME_UNREADABLE, texts.NOTICE_TIME_PAST)
    assert (await notice_row(bot)).send_at is None


async def test_an_album_gives_one_photo_and_nothing_leaks_into_a_complaint(bot: Bot) -> None:
    li = await setup(bot)
    await up_to_text(li)
    cursor = bot.emulator.cursor()
    first = await bot.emulator.send_photo(WORKER, caption="义诊海报", media_group_id="album-1")
    await bot.emulator.send_photo(WORKER, media_group_id="album-1")
    choose = await li.reply(texts.NOTICE_CHOOSE_AUDIENCE, after=cursor)
    await bot.barrier()
    assert first and [m.text for m in li.replies(cursor)] == [texts.NOTICE_CHOOSE_AUDIENCE]
    assert await bot.draft(WORKER) is None
    await preview_of(li, choose)


async def test_a_refused_caption_does_not_keep_its_photo(bot: Bot) -> None:
    li = await setup(bot)
    await up_to_text(li)
    cursor = bot.emulator.cursor()
    await bot.emulator.send_photo(WORKER, caption="长" * (MAX_CAPTION + 1))
    await li.reply(texts.notice_too_long(MAX_CAPTION, True), after=cursor)
    plain = "长" * (MAX_CAPTION + 100)  # without the photo, the ordinary limit applies
    choose = await li.say(plain, texts.NOTICE_CHOOSE_AUDIENCE)
    await preview_of(li, choose)
    notice = await notice_row(bot)
    assert notice.photo_file_id is None and notice.text == plain
