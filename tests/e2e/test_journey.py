"""A resident's whole journey through the real bot, over HTTP against the Bot API emulator.

Nothing in the bot is patched: the application is the one `bot.app.build_application` wires, its
clock is the only thing the test controls. Sentences come from `handlers.texts`, facts (grids, units,
limits, schedules) from the sample community file the bot loaded.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from linli_e2e import STAFF_CHAT_ID, TICKET_NUMBER, Bot, Person, ticket_number
from sqlmodel import select

from handlers import texts
from handlers.callbacks import unpack
from handlers.names import complaint_name
from services import SHANGHAI
from services.community.model import Category
from services.points import ledger as points
from storage.models import AgeBand, TicketEvent, TicketStatus

NOISE = "楼上天天装修，吵死了，9号楼"
AMBIGUOUS = "楼下有人吵架还占了车位"  # the engine hesitates between dispute, parking and noise
NO_PLACE = "路灯坏了"  # a confident repair complaint that names no place
GIBBERISH = "今天天气不错啊哈"
SOS = "我爸摔倒了起不来"


def category_name(bot: Bot, category: Category) -> str:
    return complaint_name(bot.deps, category.value)


def button_actions(bot: Bot, message) -> list[str]:
    """The signed action of every inline button on a message (verifies each signature too)."""
    unpacked = [unpack(bot.deps.callback_secret, b.callback_data) for b in message.buttons]
    assert all(unpacked), "every button the bot sends is signed"
    return [c.action for c in unpacked]


async def registered(bot: Bot, user_id: int, name: str = "王阿姨", link: str = "g-A03") -> Person:
    """A resident who opened the bot with a grid QR code (grid known, building not)."""
    person = bot.person(user_id, name)
    await person.send(f"/start {link}")
    await bot.barrier()
    return person


async def with_building(bot: Bot, user_id: int, building: str = "9号楼", name: str = "李大爷") -> Person:
    """A resident who picked their building after a plain /start (and skipped the age question)."""
    person = bot.person(user_id, name)
    ask = await person.say("/start", texts.ASK_BUILDING)
    age = await person.click(ask, building, texts.ASK_AGE)
    await (await person.press(age, texts.BTN_SKIP)).edit(texts.REPORT_PROMPT)
    return person


async def confirm(person: Person, confirmation) -> str:
    """Press 确认提交 on a draft; returns the ticket number from the bot's answer, once everything the press
    owed has gone out (a first-time building may follow the number with an offer to save it as home)."""
    opened = await person.confirm(confirmation)
    await person.bot.barrier()
    return ticket_number(opened.body)


# -- /start, grid and building ------


async def test_start_with_grid_deep_link_binds_the_grid(bot: Bot) -> None:
    person = bot.person(1001, "王阿姨")
    cursor = await person.send("/start g-A03")
    welcome = await person.reply(after=cursor)
    bound = await person.reply(after=welcome)
    await bot.barrier()

    grid = bot.deps.community.grid("A03")
    assert welcome.text == texts.welcome("王阿姨", bot.deps.community.name)
    assert welcome.keyboard == [t for row in texts.MENU_ROWS for t in row]  # main menu keyboard
    assert bound.text == texts.bound_grid(grid.name, grid.worker_name)
    assert "第三网格" in bound.text
    assert [m.text for m in person.replies(cursor)] == [welcome.text, bound.text]  # no building question
    resident = await bot.resident(1001)
    assert resident.grid_code == "A03" and resident.name == "王阿姨"


async def test_start_without_payload_asks_building_then_age(bot: Bot) -> None:
    person = bot.person(1002, "李大爷")
    cursor = await person.send("/start")
    welcome = await person.reply(after=cursor)
    ask = await person.reply(texts.ASK_BUILDING, after=cursor)
    all_buildings = [b for g in bot.deps.community.grids for b in g.buildings]
    assert welcome.keyboard == [t for row in texts.MENU_ROWS for t in row]
    assert [b.text for b in ask.buttons] == all_buildings
    assert set(button_actions(bot, ask)) == {"bld"}

    pressed = await person.press(ask, "9号楼")
    edited = await pressed.edit()
    age = await pressed.reply(texts.ASK_AGE)
    grid = bot.deps.community.grid("A03")
    assert edited.text == texts.bound_building("9号楼", grid.name, grid.worker_name)
    assert edited.buttons == []
    assert [b.text for b in age.buttons] == [texts.BTN_AGE_65, texts.BTN_AGE_UNDER, texts.BTN_SKIP]
    resident = await bot.resident(1002)
    assert (resident.building, resident.grid_code, resident.age_band) == ("9号楼", "A03", None)

    await (await person.press(age, texts.BTN_AGE_65)).edit(texts.AGE_SAVED)
    assert (await bot.resident(1002)).age_band == AgeBand.SENIOR


# -- complaints ------


async def test_complaint_is_confirmed_into_a_ticket_and_posted_to_staff(bot: Bot) -> None:
    person = await registered(bot, 1003)
    confirmation = await person.say(NOISE)
    noise = category_name(bot, Category.NOISE)
    unit = bot.deps.community.unit_for(Category.NOISE)
    assert noise == "噪音扰民" and f"类别：{noise}" in confirmation.text
    assert unit.name in confirmation.text
    assert [b.text for b in confirmation.buttons] == [texts.BTN_CONFIRM, texts.BTN_RECATEGORIZE, texts.BTN_CANCEL]
    assert await bot.tickets() == [] and (await bot.draft(1003)).category == "noise"

    staff_cursor = bot.emulator.cursor()
    pressed = await person.press(confirmation, texts.BTN_CONFIRM)
    opened = await pressed.edit("LL-")
    answer = await pressed.answer()
    staff = await bot.staff_message("LL-", after=staff_cursor)

    number = ticket_number(opened.text)
    assert TICKET_NUMBER.fullmatch(number) and number.startswith(f"LL-{bot.clock.now():%Y%m%d}-")
    due = bot.clock.now() + timedelta(hours=bot.deps.community.limit_hours(Category.NOISE))
    # one message for the press: the draft edited into the number, with the offer to save 9号楼 as home under it
    assert opened.text == f"{texts.ticket_opened(number, noise, unit.name, due)}\n\n{texts.offer_building('9号楼')}"
    assert [b.text for b in opened.buttons] == [texts.BTN_BUILDING_YES, texts.BTN_BUILDING_NO]
    assert unit.name in opened.text and texts.fmt_time(due) in opened.text
    assert answer.text is None and not answer.show_alert
    assert number in staff.text and noise in staff.text and "A03" in staff.text
    assert texts.BTN_CONFIRM not in [b.text for b in bot.emulator.message(1003, confirmation.message_id).buttons]
    await bot.barrier()
    assert person.replies(staff_cursor) == []  # no second message: the number is the edit
    [ticket] = await bot.tickets(1003)
    assert (ticket.number, ticket.category, ticket.status, ticket.unit, ticket.grid_code) == (
        number, "noise", TicketStatus.DISPATCHED, unit.code, "A03")
    assert ticket.text == NOISE and "9号楼" in ticket.location
    assert await bot.draft(1003) is None


async def test_place_named_in_the_text_is_just_the_place(bot: Bot) -> None:
    person = await registered(bot, 1004)
    await confirm(person, await person.say(NOISE))
    [ticket] = await bot.tickets(1004)
    assert ticket.location == "9号楼"


async def test_ambiguous_text_offers_up_to_three_categories_and_choosing_one_proceeds(bot: Bot) -> None:
    person = await with_building(bot, 1005, "9号楼")
    choose = await person.say(AMBIGUOUS)
    assert choose.text == texts.choose_category(AMBIGUOUS)
    actions = button_actions(bot, choose)
    candidates = [b.text for b, a in zip(choose.buttons, actions, strict=True) if a == "cat"]
    assert 2 <= len(candidates) <= 3
    assert [b.text for b in choose.buttons][len(candidates):] == [texts.BTN_OTHER_CATEGORY, texts.BTN_CANCEL]
    assert (await bot.draft(1005)).category is None

    picked = candidates[1]
    confirmation = await person.click(choose, picked)
    assert f"类别：{picked}" in confirmation.text
    assert "地点：9号楼" in confirmation.text  # the resident's own building, as nothing else was named
    assert bot.emulator.message(1005, choose.message_id).buttons == []
    number = await confirm(person, confirmation)
    [ticket] = await bot.tickets(1005)
    assert ticket.number == number and complaint_name(bot.deps, ticket.category) == picked
    assert ticket.location == "9号楼" and ticket.text == AMBIGUOUS


async def test_recategorize_shows_every_category(bot: Bot) -> None:
    person = await registered(bot, 1006)
    confirmation = await person.say(NOISE)
    pressed = await person.press(confirmation, texts.BTN_RECATEGORIZE)
    menu = await pressed.edit(texts.CHOOSE_ANY_CATEGORY)
    assert [b.text for b in menu.buttons] == [category_name(bot, c) for c in Category] + [texts.BTN_CANCEL]

    dispute = category_name(bot, Category.DISPUTE)
    again = await person.click(menu, dispute)
    assert f"类别：{dispute}" in again.text
    await confirm(person, again)
    [ticket] = await bot.tickets(1006)
    assert ticket.category == Category.DISPUTE.value
    assert ticket.unit == bot.deps.community.unit_for(Category.DISPUTE).code


async def test_cancel_drops_the_draft(bot: Bot) -> None:
    person = await registered(bot, 1007)
    confirmation = await person.say(NOISE)
    await (await person.press(confirmation, texts.BTN_CANCEL)).edit(texts.DRAFT_CANCELLED)
    assert await bot.draft(1007) is None and await bot.tickets() == []


async def test_place_is_asked_when_unknown_and_the_next_text_fills_it(bot: Bot) -> None:
    person = await registered(bot, 1008)  # grid known from the QR code, building not
    assert (await person.say(NO_PLACE)).text == texts.ASK_LOCATION
    confirmation = await person.say("小区东门口")
    assert "地点：小区东门口" in confirmation.text
    assert f"类别：{category_name(bot, Category.REPAIR)}" in confirmation.text
    await confirm(person, confirmation)
    [ticket] = await bot.tickets(1008)
    assert (ticket.text, ticket.location, ticket.category) == (NO_PLACE, "小区东门口", "repair")


async def test_shared_location_fills_the_place(bot: Bot) -> None:
    person = await registered(bot, 1009)
    assert (await person.say(NO_PLACE)).text == texts.ASK_LOCATION
    cursor = bot.emulator.cursor()
    await bot.emulator.send_location(1009, 30.2975, 120.1425)  # in the community, no building within 150 m
    saved = await person.reply(after=cursor)
    confirmation = await person.reply(after=saved)
    assert saved.text == texts.LOCATION_SAVED
    pin = texts.pin_map(30.2975, 120.1425)
    assert "120.142500,30.297500" in pin and pin in confirmation.text
    await confirm(person, confirmation)
    [ticket] = await bot.tickets(1009)
    assert ticket.location == pin


async def test_a_pin_by_a_building_names_it_and_sets_the_grid(bot: Bot) -> None:
    person = bot.person(1019, "赵大姐")  # no building of their own: the pin decides the case's grid
    await person.say("/start")
    await bot.barrier()  # the welcome, then the building buttons (left unanswered)
    assert (await person.say(NO_PLACE)).text == texts.ASK_LOCATION
    cursor = bot.emulator.cursor()
    await bot.emulator.send_location(1019, 30.2985, 120.1389)  # a few metres from 10号楼 (grid A03)
    confirmation = await person.reply(after=await person.reply(after=cursor))
    assert texts.pin_near("10号楼") in confirmation.text
    await confirm(person, confirmation)
    [ticket] = await bot.tickets(1019)
    assert (ticket.location, ticket.grid_code) == (texts.pin_near("10号楼"), "A03")


async def test_messages_within_a_minute_join_one_draft(bot: Bot) -> None:
    person = await registered(bot, 1010)
    first = await person.say(NOISE)
    bot.clock.advance(seconds=40)
    second = await person.say("晚上十一点还在砸墙")
    bot.clock.advance(seconds=40)  # 40 s after the previous message: still the same complaint
    third = await person.say("已经一个多月了")
    assert NOISE in first.text
    assert "晚上十一点还在砸墙" in second.text and NOISE in second.text
    assert "已经一个多月了" in third.text
    await confirm(person, third)
    [ticket] = await bot.tickets(1010)
    assert ticket.text == "\n".join([NOISE, "晚上十一点还在砸墙", "已经一个多月了"])
    assert await bot.count(TicketEvent) == 2  # one ticket: created + dispatched


async def test_a_message_after_the_join_window_starts_a_new_draft(bot: Bot) -> None:
    person = await registered(bot, 1011)
    await person.say(NOISE)
    bot.clock.advance(seconds=61)
    confirmation = await person.say("小区门口乱停车")
    assert NOISE not in confirmation.text
    await confirm(person, confirmation)
    [ticket] = await bot.tickets(1011)
    assert ticket.text == "小区门口乱停车" and ticket.category == "parking"


async def test_photo_is_attached_to_the_draft_and_stored_in_the_ticket(bot: Bot) -> None:
    person = await registered(bot, 1012)
    await person.say(NOISE)
    cursor = bot.emulator.cursor()
    photo = await bot.emulator.send_photo(1012)
    added = await person.reply(after=cursor)
    assert added.text == texts.PHOTO_ADDED.format(n=1)
    assert (await bot.draft(1012)).photos == [photo["photo"][-1]["file_id"]]

    confirmation = await person.say("就是这家")  # more words within the minute: confirmation again
    assert "照片：1张" in confirmation.text
    await confirm(person, confirmation)
    [ticket] = await bot.tickets(1012)
    assert ticket.photos == [photo["photo"][-1]["file_id"]]


async def test_photo_first_then_words(bot: Bot) -> None:
    person = await registered(bot, 1013)
    cursor = bot.emulator.cursor()
    photo = await bot.emulator.send_photo(1013)
    assert (await person.reply(after=cursor)).text == texts.PHOTO_NEEDS_TEXT
    bot.clock.advance(minutes=5)  # a photo-only draft waits for its words
    confirmation = await person.say("9号楼楼道灯坏了")
    assert "照片：1张" in confirmation.text
    await confirm(person, confirmation)
    [ticket] = await bot.tickets(1013)
    assert ticket.photos == [photo["photo"][-1]["file_id"]] and ticket.category == "repair"


async def test_photo_with_a_caption_is_a_complaint_with_a_photo(bot: Bot) -> None:
    person = await registered(bot, 1014)
    cursor = bot.emulator.cursor()
    photo = await bot.emulator.send_photo(1014, caption="9号楼门口垃圾堆了三天没人收")
    confirmation = await person.reply(lambda m: bool(m.buttons), after=cursor)
    assert "照片：1张" in confirmation.text
    await confirm(person, confirmation)
    [ticket] = await bot.tickets(1014)
    assert ticket.photos == [photo["photo"][-1]["file_id"]] and ticket.category == "sanitation"


# -- my tickets ------


async def test_my_tickets_list_and_history(bot: Bot) -> None:
    person = await registered(bot, 1015)
    first = await confirm(person, await person.say(NOISE))
    bot.clock.advance(minutes=5)
    second = await confirm(person, await person.say("9号楼电梯坏了，停在半路不动"))

    for ask in (texts.MENU_TICKETS, "/tickets"):
        listing = await person.say(ask)
        assert listing.text.startswith(texts.TICKETS_HEADER)
        assert listing.text.index(second) < listing.text.index(first)  # newest first
        assert [b.text for b in listing.buttons] == [second, first]

    detail = await person.say(first)
    assert detail.text.startswith(f"📄 工单 {first}【{texts.STATUS['dispatched']}】")
    assert texts.EVENT["created"] in detail.text and NOISE in detail.text
    assert [b.text for b in detail.buttons] == [texts.BTN_SUPPLEMENT, texts.BTN_WITHDRAW]
    by_button = await person.click(listing, second, "📄")
    assert second in by_button.text and "电梯" in by_button.text
    in_words = await person.say(f"查一下{first}进度")
    assert in_words.text == detail.text


async def test_no_tickets_yet(bot: Bot) -> None:
    person = await registered(bot, 1016)
    assert (await person.say("/tickets")).text == texts.NO_TICKETS


async def test_another_resident_cannot_see_the_ticket(bot: Bot) -> None:
    owner = await registered(bot, 1017)
    number = await confirm(owner, await owner.say(NOISE))
    stranger = await registered(bot, 1018, "张先生")
    for ask in (number, number.lower(), f"/tickets {number}", f"查询{number}"):
        reply = await stranger.say(ask)
        assert reply.text == texts.TICKET_NOT_FOUND, ask
        assert reply.buttons == []
    await bot.barrier()
    assert all(NOISE not in m.body and number not in m.body for m in bot.emulator.messages_to(1018))


async def test_withdraw_is_two_step_and_a_second_withdraw_is_refused(bot: Bot) -> None:
    person = await registered(bot, 1019)
    number = await confirm(person, await person.say(NOISE))
    detail = await person.say(number)
    ask = await person.click(detail, texts.BTN_WITHDRAW)
    assert ask.text == texts.WITHDRAW_ASK.format(number=number)
    assert (await bot.tickets(1019))[0].status == TicketStatus.DISPATCHED  # nothing happens before step two

    done = await person.click(ask, texts.BTN_WITHDRAW_YES)
    assert done.text == texts.WITHDRAWN.format(number=number)
    assert bot.emulator.message(1019, ask.message_id).buttons == []
    assert (await bot.tickets(1019))[0].status == TicketStatus.WITHDRAWN

    again = await person.click(detail, texts.BTN_WITHDRAW)  # the old detail message still has its button
    refused = await person.click(again, texts.BTN_WITHDRAW_YES)
    assert refused.text == texts.WITHDRAW_REFUSED["already_withdrawn"]
    now = await person.say(number)
    assert f"【{texts.STATUS['withdrawn']}】" in now.text and texts.EVENT["withdrawn"] in now.text
    assert now.buttons == []
    async with bot.db.session() as s:
        kinds = [e.kind for e in (await s.exec(select(TicketEvent).order_by(TicketEvent.id))).all()]
    assert kinds == ["created", "dispatched", "withdrawn"]


# -- services, answered from data at the bot's clock ------


def haircut_answer(bot: Bot, day: datetime, senior: bool | None, today: bool = False) -> str:
    cut = bot.deps.community.haircut
    return texts.haircut(cut.name, day, f"{cut.start:%H:%M}", f"{cut.end:%H:%M}", cut.place, cut.free_age,
                         cut.fee_yuan, senior, today)


@pytest.mark.parametrize(
    ("now", "expected_day", "today"),
    [
        ((2026, 3, 17, 10, 0), (2026, 3, 18), False),  # the day before: tomorrow, this month
        ((2026, 3, 18, 10, 0), (2026, 3, 18), True),  # while it runs: today
        ((2026, 3, 18, 11, 31), (2026, 4, 18), False),  # just after it ended: next month's
        ((2026, 12, 25, 9, 0), (2027, 1, 18), False),  # December to January
    ],
    ids=["17th", "18th-morning", "18th-11:31", "december"],
)
async def test_next_haircut_date(bot: Bot, now: tuple, expected_day: tuple, today: bool) -> None:
    bot.clock.set(*now)
    person = await registered(bot, 1020)
    reply = await person.say("下次义剪是哪天")
    day = datetime(*expected_day, 9, 0, tzinfo=SHANGHAI)
    assert reply.text == haircut_answer(bot, day, None, today)
    if not today:
        assert f"{expected_day[1]}月{expected_day[2]}日" in reply.text


async def test_haircut_wording_for_a_resident_aged_65_or_more(bot: Bot) -> None:
    person = bot.person(1021, "赵奶奶")
    ask = await person.say("/start", texts.ASK_BUILDING)
    age = await person.click(ask, "5号楼", texts.ASK_AGE)
    await (await person.press(age, texts.BTN_AGE_65)).edit(texts.AGE_SAVED)
    reply = await person.say("理发什么时候")
    senior = haircut_answer(bot, datetime(2026, 3, 18, 9, 0, tzinfo=SHANGHAI), True)
    assert reply.text == senior
    assert senior != haircut_answer(bot, datetime(2026, 3, 18, 9, 0, tzinfo=SHANGHAI), None)

    under = await with_building(bot, 1022, "6号楼", "小周")  # skipped the age question
    assert (await under.say("下次义剪是哪天")).text == haircut_answer(
        bot, datetime(2026, 3, 18, 9, 0, tzinfo=SHANGHAI), None)


async def award(bot: Bot, user_id: int, *deltas: tuple[int, str, datetime]) -> None:
    resident = await bot.resident(user_id)
    async with bot.db.transaction() as s:
        for delta, reason, at in deltas:
            await points.award(s, resident_id=resident.id, delta=delta, reason=reason, now=at)


async def test_points_balance_and_last_entries(bot: Bot) -> None:
    person = await registered(bot, 1023)
    earlier = bot.clock.now() - timedelta(days=3)
    await award(bot, 1023, (10, "志愿服务", earlier), (8, "议事协商会", bot.clock.now()))
    reply = await person.say(texts.MENU_POINTS)
    entries = [(bot.clock.now(), 8, "议事协商会"), (earlier, 10, "志愿服务")]
    assert reply.text.startswith(texts.points(18, entries))
    assert (await person.say("/points")).text == reply.text
    assert (await person.say("我还有多少积分")).text == reply.text


async def test_points_history_speaks_chinese(bot: Bot) -> None:
    person = await registered(bot, 1024)
    resident = await bot.resident(1024)
    async with bot.db.transaction() as s:
        await points.award_activity(s, resident_id=resident.id, activity_code="volunteer_hour",
                                    community=bot.deps.community, now=bot.clock.now())
    reply = await person.say(texts.MENU_POINTS)
    history = reply.text.split("如何获得积分")[0]
    assert "activity" not in history and "志愿服务" in history


async def test_shop_redeems_when_affordable_and_refuses_when_not(bot: Bot) -> None:
    person = await registered(bot, 1025)
    await award(bot, 1025, (25, "志愿服务", bot.clock.now()))
    shop = await person.say("积分能换什么")
    items = bot.deps.community.shop
    assert shop.text.startswith(texts.shop([], 25).splitlines()[0])
    assert all(f"{i.name}：{i.cost} 分" in shop.text for i in items)
    assert [b.text for b in shop.buttons] == [f"{texts.BTN_REDEEM} {i.name}" for i in items]

    soap, towel = bot.deps.community.shop_item("soap"), bot.deps.community.shop_item("towel")
    ask = await person.click(shop, f"{texts.BTN_REDEEM} {soap.name}")
    assert ask.text == texts.redeem_ask(soap.name, soap.cost, 25)
    done = await person.click(ask, texts.BTN_REDEEM_YES)
    assert done.text == texts.redeemed(soap.name, 25 - soap.cost)
    assert await bot.balance(1025) == 25 - soap.cost

    refused = await person.click(shop, f"{texts.BTN_REDEEM} {towel.name}")  # too few points: told at once
    assert refused.text.startswith(texts.REDEEM_REFUSED["insufficient"].format(
        name=towel.name, cost=towel.cost, balance=25 - soap.cost)) and not refused.buttons
    assert await bot.balance(1025) == 25 - soap.cost
    after = await person.say(texts.MENU_SERVICES)
    shop_again = await person.click(after, texts.SERVICE_BUTTONS["svc.shop"])
    assert f"（剩{soap.stock - 1}件）" in shop_again.text


async def test_service_centre_hours_canteens_classes_and_clinic(bot: Bot) -> None:
    person = await registered(bot, 1026)
    community = bot.deps.community
    centre = community.centre

    hours = await person.say("服务中心几点开门")
    assert f"{centre.weekday[0]:%H:%M}–{centre.weekday[1]:%H:%M}" in hours.text
    assert "现在：开放中" in hours.text  # Tuesday 10:00
    bot.clock.set(2026, 3, 17, 20, 0)
    assert "现在：不在办公时间" in (await person.say("服务中心几点开门")).text

    canteens = await person.say("助餐点在哪")
    assert all(c.name in canteens.text and c.address in canteens.text for c in community.canteens)

    bot.clock.set(2026, 3, 17, 10, 0)
    classes = await person.say("公益课堂什么时候")
    assert all(s.subject in classes.text for s in community.classes.sessions)
    assert "下一次：3月21日（周六）09:30 智能手机使用" in classes.text  # the coming Saturday

    clinic = await person.say("义诊什么时候")
    assert "4月11日（周六）" in clinic.text  # March's 2nd Saturday (14th) is past: April's
    assert community.clinic.place in clinic.text

    menu = await person.say(texts.MENU_SERVICES)
    assert menu.text == texts.SERVICES_MENU
    assert [b.text for b in menu.buttons] == list(texts.SERVICE_BUTTONS.values())
    by_button = await person.click(menu, texts.SERVICE_BUTTONS["svc.clinic"])
    assert by_button.text == clinic.text


# -- not understood, a human, an emergency ------


async def test_not_understood_offers_a_human_and_forwards_to_staff(bot: Bot) -> None:
    person = await registered(bot, 1027)
    cursor = await person.send(GIBBERISH)
    reply = await person.reply(after=cursor)
    assert reply.text == texts.NOT_UNDERSTOOD
    assert [b.text for b in reply.buttons] == [texts.BTN_HUMAN]
    assert await bot.draft(1027) is None

    staff_cursor = bot.emulator.cursor()
    told = await person.click(reply, texts.BTN_HUMAN)
    assert told.text == texts.HUMAN_FORWARDED
    header = await bot.staff_message("请求人工服务", after=staff_cursor)
    forwarded = await bot.staff_message(lambda m: m.method == "forwardMessage", after=staff_cursor)
    assert header.text == texts.staff_forward_header("王阿姨", 1027, "A03")
    assert forwarded.text == GIBBERISH
    assert forwarded.raw["forward_origin"]["sender_user"]["id"] == 1027


async def test_sos_opens_a_red_case_at_once_and_alerts_staff(bot: Bot) -> None:
    person = await with_building(bot, 1028, name="王阿姨")  # lives in 9号楼 (grid A03)
    staff_cursor = bot.emulator.cursor()
    reply = await person.say(SOS)  # "我爸摔倒了起不来": a fall, no place named
    number = ticket_number(reply.text)
    duty = bot.deps.community.emergency.duty_name  # no duty group in the sample: the staff chat stands in
    assert reply.text == texts.sos_opened(number, "medical", "120", [("duty", duty)], "96333")
    assert reply.text.startswith("🚨 请立即拨打 120") and reply.buttons == []  # no confirmation step
    ask = await person.reply(after=reply)  # then, the same chat in order, one tap to say where
    assert ask.text == texts.SOS_ASK_PLACE and texts.btn_sos_home("9号楼") in ask.keyboard
    alert = await bot.staff_message(number, after=staff_cursor)
    assert alert.text == texts.staff_sos(number, "王阿姨", "A03", SOS, kind_label=texts.EMERGENCY_KIND["medical"])
    [ticket] = await bot.tickets(1028)
    assert (ticket.category, ticket.status, ticket.text, ticket.emergency_kind) == (
        "other", TicketStatus.DISPATCHED, SOS, "medical")  # at once, held by the community (medical)
    # the emergency's own limit, not "other"'s seven days
    assert ticket.due_at - ticket.created_at == timedelta(hours=bot.deps.community.emergency.limit_hours)
    assert await bot.draft(1028) is None

    cursor = bot.emulator.cursor()
    saved = await person.say(texts.btn_sos_home("9号楼"))  # the home button
    assert saved.text == texts.sos_place_saved([("duty", duty)])
    where = await bot.staff_message(texts.staff_sos_place(number, "9号楼"), after=cursor)
    assert where.chat_id == STAFF_CHAT_ID
    [ticket] = await bot.tickets(1028)
    assert ticket.location == "9号楼"


async def test_asking_for_a_human_in_words(bot: Bot) -> None:
    person = await registered(bot, 1029)
    staff_cursor = bot.emulator.cursor()
    cursor = await person.send("我要转人工")
    assert (await person.reply(after=cursor)).text == texts.HUMAN_FORWARDED
    forwarded = await bot.staff_message(lambda m: m.method == "forwardMessage", after=staff_cursor)
    assert forwarded.text == "我要转人工"


async def test_greetings_help_and_menu_words(bot: Bot) -> None:
    person = await registered(bot, 1030)
    hello = await person.say("你好")
    assert hello.text == texts.GREETING.format(community=bot.deps.community.name)
    assert hello.keyboard == [t for row in texts.MENU_ROWS for t in row]
    assert (await person.say("谢谢你们")).text == texts.THANKS_REPLY
    assert (await person.say("/help")).text == texts.HELP
    assert (await person.say(texts.MENU_REPORT)).text == texts.REPORT_PROMPT
    grid = bot.deps.community.grid("A03")
    worker = await person.say(texts.MENU_GRID)
    assert worker.text == texts.grid_worker(grid.name, grid.worker_name, grid.phone)
    assert [b.text for b in worker.buttons] == [texts.BTN_HUMAN]
    assert (await person.say("我的工单呢")).text == texts.NO_TICKETS
    assert await bot.counts() == {"tickets": 0, "ticket_events": 0, "drafts": 0, "points_entries": 0,
                                  "daily_counters": 0}


async def test_asking_for_the_grid_workers_number_gets_it_and_disturbs_nobody(bot: Bot) -> None:
    person = await registered(bot, 1034)
    grid = bot.deps.community.grid("A03")
    staff_cursor = bot.emulator.cursor()
    answer = await person.say("网格员电话多少")
    assert answer.text == texts.grid_worker(grid.name, grid.worker_name, grid.phone) and grid.phone in answer.text
    assert [b.text for b in answer.buttons] == [texts.BTN_HUMAN]  # a person is still one tap away
    await bot.barrier()
    assert bot.emulator.messages_after(STAFF_CHAT_ID, staff_cursor) == []
    called = await person.say("让工作人员打电话给我")  # a call back asked for: that goes to the desk
    assert called.text == texts.HUMAN_FORWARDED


async def test_wanting_to_volunteer_is_told_how_and_a_points_question_still_gets_the_balance(bot: Bot) -> None:
    person = await registered(bot, 1035)
    grid = bot.deps.community.grid("A03")
    join = await person.say("我想报名当志愿者")
    assert join.text.startswith(texts.volunteer(grid.worker_name, grid.phone)) and "/checkin" in join.text
    balance = await person.say("做志愿者攒了多少分")
    assert balance.text.startswith("⭐ 您当前积分：0 分")


async def test_ticket_numbers_follow_the_shanghai_day(bot: Bot) -> None:
    person = await registered(bot, 1031)
    bot.clock.set(2026, 3, 17, 23, 58)  # 15:58 UTC
    first = await confirm(person, await person.say(NOISE))
    bot.clock.set(2026, 3, 17, 23, 59)
    second = await confirm(person, await person.say("小区门口乱停车"))
    bot.clock.set(2026, 3, 18, 0, 1)  # 16:01 UTC on the 17th, but the 18th for residents
    third = await confirm(person, await person.say("9号楼电梯坏了"))
    assert [first, second, third] == ["LL-20260317-0001", "LL-20260317-0002", "LL-20260318-0001"]


async def test_the_same_problem_reported_again_joins_the_open_case(bot: Bot) -> None:
    first = await registered(bot, 1032, "王阿姨")
    number = await confirm(first, await first.say("9号楼电梯坏了"))
    neighbour = await registered(bot, 1033, "李大爷")
    linked = await neighbour.confirm(await neighbour.say("9号楼的电梯又坏了，好几天了"))
    offer = f"\n\n{texts.offer_building('9号楼')}"  # neither lives in 9号楼: the offer comes under each receipt
    assert linked.text == texts.linked_existing(number, texts.STATUS["dispatched"], own=False) + offer
    again = await first.confirm(await first.say("9号楼电梯坏了，停在半路不动"))
    assert again.text == texts.linked_existing(number, texts.STATUS["dispatched"], own=True) + offer
    assert [t.number for t in await bot.tickets()] == [number]  # one problem, one case
    elsewhere = await confirm(neighbour, await neighbour.say("3号楼电梯坏了"))  # another building: a new case
    assert elsewhere != number and len(await bot.tickets()) == 2


async def test_a_cluster_of_complaints_warns_the_staff_once(bot: Bot) -> None:
    staff_cursor = bot.emulator.cursor()
    texts_ = [NOISE, "9号楼楼下广场舞音响太响", "9号楼空调外机噪音", "9号楼半夜有人装修电钻"]
    for i, text in enumerate(texts_):
        person = await registered(bot, 1034 + i, f"居民{i}")
        await confirm(person, await person.say(text))
    await bot.barrier()
    noise = category_name(bot, Category.NOISE)
    warnings = [m for m in bot.staff_messages(staff_cursor) if noise in m.text and "9号楼" in m.text
                and not TICKET_NUMBER.search(m.text)]
    assert len(await bot.tickets()) == len(texts_)
    assert len(warnings) == 1, [m.text for m in bot.staff_messages(staff_cursor)]


async def test_a_linked_resident_can_follow_the_case(bot: Bot) -> None:
    first = await registered(bot, 1040, "王阿姨")
    number = await confirm(first, await first.say("9号楼电梯坏了"))
    neighbour = await registered(bot, 1041, "李大爷")
    assert await confirm(neighbour, await neighbour.say("9号楼的电梯又坏了，好几天了")) == number
    assert number in (await neighbour.say(texts.MENU_TICKETS)).text
    assert (await neighbour.say(number)).text != texts.TICKET_NOT_FOUND


async def test_what_a_duplicate_report_adds_is_kept_on_the_case(bot: Bot) -> None:
    first = await registered(bot, 1042, "王阿姨")
    number = await confirm(first, await first.say("9号楼电梯坏了"))
    neighbour = await registered(bot, 1043, "李大爷")
    await neighbour.say("9号楼的电梯又坏了，好几天了")
    cursor = bot.emulator.cursor()
    photo = await bot.emulator.send_photo(1043)
    await neighbour.reply(after=cursor)
    confirmation = await neighbour.say("里面困着一位老人")
    assert "照片：1张" in confirmation.text
    assert await confirm(neighbour, confirmation) == number
    [ticket] = await bot.tickets()
    assert photo["photo"][-1]["file_id"] in ticket.photos
