"""Two different complaints typed one after the other, before the first is confirmed ("楼上装修太吵" … "还有门口乱停
车"): the bot shows them as two matters, submitted apart (two cases, each to its own unit) or as one; words that only
add to the first (a place, the same kind, a few characters) still join it as before."""

from __future__ import annotations

from linli_e2e import Bot, registered, ticket_number

from handlers import texts
from storage.models import TicketStatus

NOISE = "楼上天天装修，吵死了，9号楼"
PARKING = "小区东门口天天有车乱停，车都开不出去"



async def test_a_second_matter_is_offered_apart_and_becomes_its_own_case(bot: Bot) -> None:
    person = await registered(bot, 4201)
    await person.say(NOISE)
    both = await person.say(PARKING)
    assert both.text.startswith("📝 您说的像是两件事")
    assert "① 噪音扰民：楼上天天装修，吵死了，9号楼（地点：9号楼）" in both.text
    assert "② 停车交通：" + PARKING in both.text and "小区东门" in both.text.split("②", 1)[1]
    assert [[b["text"] for b in row] for row in both.reply_markup["inline_keyboard"]] == [
        [texts.BTN_SUBMIT_TWO], [texts.BTN_SUBMIT_ONE, texts.BTN_CANCEL]]

    pressed = await person.press(both, texts.BTN_SUBMIT_TWO)
    first = await pressed.edit("LL-")  # the draft becomes the first number, the second comes as a new message
    await bot.barrier()
    second = [m for m in person.replies(pressed.cursor) if "LL-" in (m.text or "")]
    assert len(second) == 1
    cases = sorted(await bot.tickets(4201), key=lambda t: t.id)
    assert [(t.category, t.text, t.status) for t in cases] == [
        ("noise", NOISE, TicketStatus.DISPATCHED), ("parking", PARKING, TicketStatus.DISPATCHED)]
    assert cases[1].location is not None and "东门" in cases[1].location and cases[0].location == "9号楼"
    assert ticket_number(first.body) == cases[0].number and ticket_number(second[0].text) == cases[1].number
    assert await bot.draft(4201) is None


async def test_two_matters_may_still_go_as_one_case(bot: Bot) -> None:
    person = await registered(bot, 4202)
    await person.say(NOISE)
    both = await person.say(PARKING)
    done = await (await person.press(both, texts.BTN_SUBMIT_ONE)).edit("LL-")
    await bot.barrier()
    [case] = await bot.tickets(4202)
    assert case.number == ticket_number(done.body)
    assert (case.category, case.text) == ("noise", f"{NOISE}\n{PARKING}")


async def test_words_that_only_add_to_the_first_still_join_it(bot: Bot) -> None:
    person = await registered(bot, 4203)
    await person.say(NOISE)
    more = await person.say("每天早上七点就开始电钻")  # the same matter, said more
    assert texts.BTN_CONFIRM in [b.text for b in more.buttons]
    place = await person.say("2单元")
    assert texts.BTN_CONFIRM in [b.text for b in place.buttons] and "两件事" not in place.text
    number = ticket_number((await person.confirm(place)).body)
    await bot.barrier()
    [case] = await bot.tickets(4203)
    assert case.number == number and case.category == "noise" and "电钻" in case.text


async def test_the_same_kind_at_another_place_is_another_matter_and_a_nearer_place_is_not(bot: Bot) -> None:
    person = await registered(bot, 4205)
    await person.say("9号楼楼道灯坏了，黑乎乎的")
    both = await person.say("东门那边的路灯也不亮了")
    assert both.text.startswith("📝 您说的像是两件事") and "② 设施报修：" in both.text
    await (await person.press(both, texts.BTN_SUBMIT_TWO)).edit("LL-")
    await bot.barrier()
    cases = sorted(await bot.tickets(4205), key=lambda t: t.id)
    assert [(t.category, t.location) for t in cases] == [("repair", "9号楼楼道"), ("repair", "东门")]

    lift = await person.say("3号楼电梯坏了，好几天了")
    assert texts.BTN_CONFIRM in [b.text for b in lift.buttons]
    nearer = await person.say("3号楼电梯2单元那部，一直停在5楼")  # the same lift, said more exactly
    assert "两件事" not in nearer.text and texts.BTN_CONFIRM in [b.text for b in nearer.buttons]


async def test_a_third_message_adds_to_the_second_matter_and_cancel_drops_both(bot: Bot) -> None:
    person = await registered(bot, 4204)
    await person.say(NOISE)
    await person.say(PARKING)
    third = await person.say("晚上更严重")
    assert third.text.startswith("📝 您说的像是两件事") and "晚上更严重" in third.text.split("②", 1)[1]
    await (await person.press(third, texts.BTN_CANCEL)).edit(texts.DRAFT_CANCELLED)
    assert await bot.draft(4204) is None and await bot.tickets(4204) == []
