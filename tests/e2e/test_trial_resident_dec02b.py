"""A newcomer's trial of the resident side on 2 December (helper `trial`): each test is one trip found by using the
bot as an elderly resident would, and fails on the code before its fix."""

from __future__ import annotations

from linli_e2e import Bot, registered

from handlers import texts
from services.points import ledger

GIBBERISH = "今天天气不错啊哈"


async def test_pressing_to_human_twice_forwards_once(bot: Bot) -> None:
    """转人工 stayed on the message after it was pressed: a second tap (an unsteady hand, or not seeing the answer
    at once) forwarded the words to the staff group again, with a second header."""
    person = await registered(bot, 2101)
    reply = await person.say(GIBBERISH)
    [human] = reply.buttons
    staff_cursor = bot.emulator.cursor()
    assert (await person.click(reply, texts.BTN_HUMAN)).text == texts.HUMAN_FORWARDED
    assert bot.emulator.message(person.id, reply.message_id).buttons == []  # pressed once, gone
    again = await person.press(reply, texts.BTN_HUMAN, forge_data=human.callback_data)  # a stale client's tap
    assert (await again.reply()).text == texts.HUMAN_ALREADY
    await bot.barrier()
    staff = bot.emulator.messages_after(bot.staff_chat_id, staff_cursor)
    assert [m.text for m in staff if m.method == "forwardMessage"] == [GIBBERISH]


async def test_a_resident_who_changes_their_mind_about_a_redemption_can_say_no(bot: Bot) -> None:
    """确认用 30 积分兑换「纯棉毛巾」吗？ had only 确认兑换: a resident who changed their mind typed 不换了 and was
    "没太明白", the question left open with its one button. It has 不换了 beside it, which closes it, nothing spent."""
    person = await registered(bot, 2102)
    resident = await bot.resident(person.id)
    async with bot.db.transaction() as s:
        await ledger.award(s, resident_id=resident.id, delta=30, reason="志愿服务", now=bot.clock.now())
    towel = bot.deps.community.shop_item("towel")
    shop = await person.click(await person.say(texts.MENU_SERVICES), texts.SERVICE_BUTTONS["svc.shop"])
    ask = await person.click(shop, f"{texts.BTN_REDEEM} {towel.name}", lambda m: bool(m.buttons))
    assert [b.text for b in ask.buttons] == [texts.BTN_REDEEM_YES, texts.BTN_REDEEM_NO]
    closed = await (await person.press(ask, texts.BTN_REDEEM_NO)).edit()
    assert closed.text == texts.redeem_cancelled(towel.name) and closed.buttons == []
    async with bot.db.session() as s:
        assert await ledger.balance(s, resident.id) == 30


async def test_the_building_question_answered_by_typing(bot: Bot) -> None:
    """请先选择您住的楼栋 came with 23 buttons; a resident who typed 我住7号楼 (or just 7) was told 没太明白 each time.
    Words that say it is their home save it; a building alone is offered with one tap; anything more is a matter."""
    person = bot.person(2103, "刘大爷")
    await person.say("/start", texts.ASK_BUILDING)
    saved = await person.say("我住7号楼")
    grid = bot.deps.community.grid((await bot.resident(person.id)).grid_code)
    assert saved.text == texts.bound_building("7号楼", grid.name, grid.worker_name)
    assert (await person.reply(after=saved)).text == texts.ASK_AGE
    assert (await bot.resident(person.id)).building == "7号楼"

    other = bot.person(2104, "孙奶奶")
    await other.say("/start", texts.ASK_BUILDING)
    offer = await other.say("7")
    assert offer.text == texts.offer_building("7号楼")
    await (await other.press(offer, texts.BTN_BUILDING_YES)).edit()
    assert (await bot.resident(other.id)).building == "7号楼"

    third = bot.person(2105, "周阿姨")
    await third.say("/start", texts.ASK_BUILDING)
    draft = await third.say("7号楼电梯坏了", lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    assert "7号楼" in draft.text and (await bot.resident(third.id)).building is None
