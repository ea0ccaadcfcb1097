"""Trips of December's trial with residents' short follow-ups (helper `flows`): a topic word alone, a place corrected
just after filing, a building said before the matter, and a bare "never mind". Each fails on the code before it."""

from __future__ import annotations

from pathlib import Path

from linli_e2e import JUWEIHUI, NOISE, UNIT_CHATS, Bot, Clock, events, open_case, registered, running_bot, ticket

from bot.emulator import BotApiEmulator
from handlers import texts
from services.cases import lifecycle
from storage.models import Ticket, TicketEventKind, TicketStatus

WUYE = UNIT_CHATS["wuye"]  # the property company takes repairs
LIGHT = "3号楼楼道灯坏了，晚上黑漆漆的"


async def test_a_topic_alone_is_asked_about_and_hints_the_category(bot: Bot) -> None:
    """调解 alone became a draft whose whole content was 调解 (报修 the same, after "where?"). The bot asks what
    happened; the details then make the draft, in the kind the resident named."""
    person = await registered(bot, 4101)
    asked = await person.say("调解")
    assert asked.buttons == [] and (await bot.draft(person.id)).text == ""  # nothing to confirm yet
    assert asked.text == texts.ask_matter("矛盾纠纷", "dispute", None)
    shown = await person.say("楼上邻居天天往我家阳台扔烟头，说了也不听", lambda m: bool(m.buttons))
    assert "类别：矛盾纠纷" in shown.text and "内容：楼上邻居天天往我家阳台扔烟头，说了也不听" in shown.text
    draft = await bot.draft(person.id)
    assert (draft.category, draft.text) == ("dispute", "楼上邻居天天往我家阳台扔烟头，说了也不听")
    assert draft.candidates == []  # the hint is spent

    other = await registered(bot, 4102)
    assert (await other.say("我要报修")).text == texts.ask_matter("设施报修", "repair", None)
    assert (await other.say("3号楼")).text == texts.ask_matter("设施报修", "repair", "3号楼")
    shown = await other.say("电梯坏了", lambda m: bool(m.buttons))
    assert "内容：电梯坏了" in shown.text and "地点：3号楼电梯" in shown.text
    assert await bot.tickets(other.id) == []

    third = await registered(bot, 4105)  # alone, 楼上漏水到我家了 reads as a quarrel between neighbours (矛盾纠纷)
    await third.say("报修")
    assert (await third.say("楼上漏水到我家了")).text == texts.ASK_LOCATION  # no home saved: where?
    assert (await bot.draft(third.id)).category == "repair"  # the kind asked for, which the words also allow


async def test_a_pin_answers_where_after_a_topic(bot: Bot) -> None:
    """报修 used to open a draft asking "where?", which a shared location answered; asked what happened instead, a
    pin still gives the place, and the matter comes after."""
    person = await registered(bot, 4104)
    await person.say("报修")
    cursor = bot.emulator.cursor()
    await bot.emulator.send_location(person.id, 30.2985, 120.1389)  # by 10号楼
    asked = await person.reply(lambda m: m.text.startswith("好的，是设施报修"), after=cursor)
    assert asked.text == texts.ask_matter("设施报修", "repair", texts.pin_near("10号楼"))
    shown = await person.say("路灯不亮了", lambda m: bool(m.buttons))
    assert f"地点：{texts.pin_near('10号楼')}" in shown.text and "类别：设施报修" in shown.text


async def test_never_mind_to_a_topic_lets_it_go(bot: Bot) -> None:
    person = await registered(bot, 4103)
    await person.say("调解")
    assert (await person.say("算了")).text == texts.NOTHING_TAKEN
    assert await bot.draft(person.id) is None


async def test_a_place_corrected_just_after_filing_moves_the_case(desk: Bot) -> None:
    """不对 是4号楼 right after the receipt was "没太明白". The case moves (the spot inside the building kept),
    with a history line, a word under the card and the card redrawn with the new place."""
    person = await registered(desk, 4201)
    number, _, card = await open_case(desk, person, LIGHT, unit_chat=WUYE)
    version = (await ticket(desk, number)).version
    cursor = desk.emulator.cursor()
    reply = await person.say("不对 是4号楼")
    await desk.barrier()
    t = await ticket(desk, number)
    assert (t.location, t.building, t.status) == ("4号楼楼道", "4号楼", TicketStatus.DISPATCHED)
    assert t.version == version  # the buttons staff hold stay good: a place changes no status
    assert reply.text == texts.place_corrected(number, "4号楼楼道")
    assert [e.note for e in await events(desk, number, TicketEventKind.NOTE)] == ["居民更正地点：3号楼楼道 → 4号楼楼道"]
    said = [m.text for m in desk.emulator.messages_after(WUYE, cursor)]
    assert texts.staff_place_corrected(number, "王阿姨", "3号楼楼道", "4号楼楼道") in said
    assert "地点：4号楼楼道" in desk.emulator.message(WUYE, card.message_id).text

    assert (await person.say("地址写错了，是5号楼2单元")).text == texts.place_corrected(number, "5号楼2单元楼道")
    assert (await person.say("说错了 是东门")).text == texts.place_corrected(number, "东门")
    assert (await ticket(desk, number)).location == "东门"


async def test_a_correction_in_reply_to_the_receipt_moves_the_case(desk: Bot) -> None:
    """Replying to the receipt with 不对 是4号楼 only put the words under the card as a reply; the case moves."""
    person = await registered(desk, 4207)
    number, receipt, _ = await open_case(desk, person, LIGHT, unit_chat=WUYE)
    cursor = desk.emulator.cursor()
    await desk.emulator.send_text(person.id, "不对 是4号楼", reply_to=receipt.message_id)
    reply = await person.reply(after=cursor)
    assert (await ticket(desk, number)).location == "4号楼楼道"
    assert reply.text == texts.place_corrected(number, "4号楼楼道")


async def test_a_case_already_being_handled_is_not_moved(desk: Bot) -> None:
    """Once someone works on the case at the place given, the resident is told how to reach the desk instead."""
    person = await registered(desk, 4202)
    number, _, _ = await open_case(desk, person, LIGHT, unit_chat=WUYE)
    async with desk.db.transaction() as s:
        t = await s.get(Ticket, (await ticket(desk, number)).id)
        for step in (TicketStatus.SIGNED, TicketStatus.IN_PROGRESS):
            assert (await lifecycle.transition(s, t, step, actor="staff:1", now=desk.clock.now())).ok
    reply = await person.say("不对 是4号楼")
    assert [b.text for b in reply.buttons] == [texts.BTN_HUMAN]
    assert (await ticket(desk, number)).location == "3号楼楼道"
    assert reply.text == texts.place_fixed(number, "办理中")


async def test_a_neighbours_case_joined_is_not_moved_by_the_follower(desk: Bot) -> None:
    """A complaint that joined a neighbour's case: the place is that case's, so the desk is pointed to instead."""
    owner = await registered(desk, 4205, "王阿姨")
    number, _, _ = await open_case(desk, owner, NOISE, JUWEIHUI)
    neighbour = await registered(desk, 4206, "赵大爷")
    joined = await neighbour.confirm(await neighbour.say(NOISE, lambda m: bool(m.buttons)), number)
    assert number in joined.text
    reply = await neighbour.say("不对 是4号楼")
    assert [b.text for b in reply.buttons] == [texts.BTN_HUMAN]
    assert (await ticket(desk, number)).location == "9号楼"
    assert reply.text == texts.place_fixed(number, "已派单")


async def test_a_correction_long_after_filing_is_not_taken_for_one(desk: Bot) -> None:
    person = await registered(desk, 4203)
    number, _, _ = await open_case(desk, person, LIGHT, unit_chat=WUYE)
    desk.clock.advance(minutes=31)  # the default window is 30 minutes
    reply = await person.say("不对 是4号楼")
    assert reply.text != texts.place_corrected(number, "4号楼楼道")
    assert (await ticket(desk, number)).location == "3号楼楼道"


async def test_the_correction_window_is_a_setting(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> None:
    async with running_bot(emulator, tmp_path / "linli.db", clock, correction_window_minutes=5) as bot:
        person = await registered(bot, 4204)
        number, _, _ = await open_case(bot, person, LIGHT, unit_chat=bot.staff_chat_id)
        bot.clock.advance(minutes=6)
        assert (await person.say("不对 是4号楼")).text != texts.place_corrected(number, "4号楼楼道")
        assert (await ticket(bot, number)).location == "3号楼楼道"


async def test_a_building_said_before_the_matter_is_the_matters_place(bot: Bot) -> None:
    """A resident with a home (7号楼) wrote 3号楼, then 楼道灯坏了: "没太明白", then a draft at 7号楼楼道. The building
    just said is where the matter is; their home stays as it is."""
    for i, said in enumerate(("3号楼", "我在3号楼", "我是3号楼2单元的")):
        person = await registered(bot, 4302 + i)
        await person.say("我住7号楼", texts.ASK_AGE)
        place = "3号楼2单元" if "单元" in said else "3号楼"
        asked = await person.say(said)
        shown = await person.say("楼道灯坏了", lambda m: bool(m.buttons))
        assert f"地点：{place}楼道" in shown.text, shown.text
        assert (await bot.resident(person.id)).building == "7号楼"
        assert asked.text == texts.ask_matter(None, None, place)


async def test_a_place_alone_a_while_after_a_draft_is_its_place(bot: Bot) -> None:
    """A place alone typed to a draft still waiting for 确认 (past the minute in which words join it) sets its place,
    and never starts an empty draft in its stead."""
    person = await registered(bot, 4303)
    await person.say("我住7号楼", texts.ASK_AGE)
    await person.say("楼道灯坏了", lambda m: bool(m.buttons))
    bot.clock.advance(minutes=3)
    shown = await person.say("3号楼", lambda m: bool(m.buttons))
    assert "地点：3号楼楼道" in shown.text and "内容：楼道灯坏了" in shown.text
    assert (await bot.draft(person.id)).text == "楼道灯坏了"


async def test_never_mind_outside_any_draft_gets_a_short_answer(desk: Bot) -> None:
    """不换了 and 那算了吧 were "没太明白", 算了算了 offered to withdraw the resident's open case. With no draft or
    question open they are answered politely; the case stays as it is."""
    person = await registered(desk, 4401)
    number, _, _ = await open_case(desk, person, LIGHT, unit_chat=WUYE)
    desk.clock.advance(minutes=40)
    for words in ("不换了", "那算了吧", "算了算了", "算了", "不用了 谢谢"):
        reply = await person.say(words)
        assert (reply.text, reply.buttons) == (texts.NOTHING_TAKEN, []), words
    assert (await ticket(desk, number)).status == TicketStatus.DISPATCHED
    assert (await person.say("算了 不修了 撤了吧")).buttons  # a take-back in words still asks to withdraw


async def test_a_building_typed_to_the_home_question_is_the_place_of_the_matter_that_follows(bot: Bot) -> None:
    """Seen by hand in make run: a newcomer typed 3号楼 to 请先选择您住的楼栋, was offered it as home, and wrote the
    matter instead of tapping; the draft said 地点：楼道 and the case had no grid. The building is now the
    matter's place, and the offer can still be taken after."""
    person = bot.person(4130, "赵大爷")
    await person.say("/start")
    await bot.barrier()
    offer = await person.say("3号楼")
    assert offer.text == texts.offer_building("3号楼")
    shown = await person.say("楼道灯又坏了 黑咕隆咚的", lambda m: bool(m.buttons))
    assert "地点：3号楼楼道" in shown.text and "内容：楼道灯又坏了 黑咕隆咚的" in shown.text
    await person.press(offer, texts.BTN_BUILDING_YES)
    await bot.barrier()
    assert (await bot.resident(person.id)).building == "3号楼"
    assert (await bot.draft(person.id)).location == "3号楼楼道"  # the draft is still there to confirm


async def test_the_age_typed_after_a_building_typed_and_taken_is_the_age(bot: Bot) -> None:
    """3号楼 typed, 是 tapped, then the age question answered in words: the empty draft holding 3号楼 for a matter
    is no complaint being written, so the words are the age, not the matter."""
    person = bot.person(4131, "钱奶奶")
    await person.say("/start")
    await bot.barrier()
    offer = await person.say("3号楼")
    await person.press(offer, texts.BTN_BUILDING_YES)
    await bot.barrier()
    assert (await person.say("我今年78了")).text == texts.AGE_SAVED
    assert (await bot.resident(person.id)).age_band is not None
    assert (await bot.draft(person.id)).text == ""  # nothing filed of the age


async def test_keep_it_as_it_is_to_a_draft_adds_nothing_to_its_matter(bot: Bot) -> None:
    """Seen by hand in make run: 不换了 to a draft shown with 换一类 was added to its words (内容：… 不换了). Taken
    as the typed yes (the draft's message known) it files the case; else the draft is shown again as it was: its
    words are never the matter's."""
    for uid, words in ((4132, "不换了"), (4133, "就这样吧"), (4134, "行 就这个")):
        person = await registered(bot, uid)
        await person.say("7号楼电梯又坏了", lambda m: bool(m.buttons))
        await person.send(words)  # a typed yes edits the draft's message into the number: nothing new is sent
        await bot.barrier()
        draft, filed = await bot.draft(person.id), await bot.tickets(person.id)
        assert [t.text for t in filed] == ["7号楼电梯又坏了"] or (not filed and draft.text == "7号楼电梯又坏了")
