"""Emergencies routed by kind, through the real bot: the resident's answer first (whom to call, exactly who was
alerted), the alerts at once, the red case on the right unit's desk, then one tap to say where."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from linli_e2e import (
    LEVEL_CHATS,
    STAFF_CHAT_ID,
    UNIT_CHATS,
    ZHANG,
    Bot,
    Clock,
    community_with,
    events,
    open_case,
    press,
    registered,
    running_desk,
    say_in,
    ticket_number,
)
from sqlmodel import select

from bot.emulator import BotApiEmulator
from handlers import texts
from handlers.texts.common import fmt_time
from storage.models import Ticket, TicketStatus

DUTY = -100800  # the community's duty group
POLICE = -100603  # the police post's desk (unit jingwu)
WORKER = 4001  # the grid worker of A03


@pytest.fixture
async def duty(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> AsyncIterator[Bot]:
    """The desk community, plus a duty group, a police post chat and a grid worker for A03."""
    path = community_with(tmp_path, workers={"A03": WORKER}, duty=DUTY, unit_chats={"jingwu": POLICE})
    emulator.group(DUTY, "社区值班群", bot_is_admin=True)
    emulator.group(POLICE, "警务室", bot_is_admin=True)
    emulator.user(WORKER, "李秀英")
    async with running_desk(emulator, tmp_path, clock, community_file=path) as bot:
        yield bot


CASES = [
    # (words, kind, first line, alerted chats in order, the case's unit)
    ("快来人啊我爸摔倒了一动不动", "medical", "120", [DUTY, WORKER], "juweihui"),
    ("9号楼楼道里冒黑烟了", "fire", "119", [DUTY, WORKER, UNIT_CHATS["wuye"]], "jingwu"),
    ("厨房一股很浓的煤气味，头晕", "gas", "119", [DUTY, WORKER, UNIT_CHATS["wuye"]], "jingwu"),
    ("楼下有人拿着刀在砍人", "crime", "110", [POLICE, DUTY], "jingwu"),
    ("电梯卡在两层中间了，我妈被关在里面出不来", "trapped", "lift", [UNIT_CHATS["wuye"], DUTY], "wuye"),
    ("我妈走丢了，找了一上午都找不到", "missing", "110", [POLICE, WORKER, DUTY], "jingwu"),
    ("活着没意思，我不想活了", "self-harm", "120", [DUTY, WORKER], "juweihui"),
    ("有个人在楼顶边上站着 好像要跳下去", "crisis", "110", [POLICE, DUTY, WORKER], "jingwu"),
    ("接到电话说我医保卡被冻结了，要我转账", "fraud", "96110", [POLICE, DUTY], "jingwu"),
]


@pytest.mark.parametrize(("words", "kind", "call", "alerted", "unit"), CASES, ids=[c[1] for c in CASES])
async def test_each_kind_of_emergency_alerts_the_right_people(duty: Bot, words: str, kind: str, call: str,
                                                              alerted: list[int], unit: str) -> None:
    person = await registered(duty, 2001)
    cursor = duty.emulator.cursor()
    reply = await person.say(words)
    number = ticket_number(reply.text)
    community = duty.deps.community
    first = {"lift": f"请立即拨打电梯内的应急救援电话 {community.emergency.lift_phone}",
             "gas": "请立即关掉燃气阀门", "fraud": "先不要转账"}.get(call if call == "lift" else kind,
                                                                        f"请立即拨打 {call}")
    assert reply.text.startswith(f"🚨 {first}")
    if kind == "gas":  # out of the room first, then the call
        assert "到室外后拨打 119" in reply.text and "不要在屋里打电话" in reply.text
    names = {DUTY: community.emergency.duty_name, WORKER: community.grid("A03").worker_name,
             POLICE: community.unit("jingwu").name, UNIT_CHATS["wuye"]: community.unit("wuye").name}
    for chat in alerted:  # exactly who was alerted, in words
        assert names[chat] in reply.text
    for chat in {DUTY, WORKER, POLICE, UNIT_CHATS["wuye"]} - set(alerted):
        assert names[chat] not in reply.text
    for chat in alerted:  # and they were
        alert = await duty.emulator.wait_for(chat, number, after=cursor, timeout=10)
        assert texts.EMERGENCY_KIND[kind] in alert.text
    [ticket] = await duty.tickets(2001)
    assert (ticket.emergency, ticket.emergency_kind, ticket.unit, ticket.escalation_level) == (
        True, kind, unit, "community")
    assert ticket.status is TicketStatus.DISPATCHED
    card = await duty.emulator.wait_for(UNIT_CHATS.get(unit, POLICE) if unit != "jingwu" else POLICE,
                                        lambda m: number in m.text and m.buttons, after=cursor, timeout=10)
    assert card.text.startswith(texts.card_header_sos(texts.EMERGENCY_KIND[kind]))
    # its kind and the emergency's limit, never the category that only chose the unit (a fall was 其他, 7 days)
    limit = timedelta(hours=community.emergency.limit_hours)
    assert ticket.due_at - ticket.created_at == limit == timedelta(hours=2)
    assert f"类别：紧急求助·{texts.EMERGENCY_KIND[kind]}　" in card.text and "类别：其他" not in card.text
    assert f"时限：{fmt_time(ticket.created_at + limit)} 🔴" in card.text
    level = await duty.emulator.wait_for(LEVEL_CHATS["community"], number, after=cursor, timeout=10)
    assert level.text.startswith(texts.card_header_sos(texts.EMERGENCY_KIND[kind]))
    assert f"类别：紧急求助·{texts.EMERGENCY_KIND[kind]}　" in level.text


async def test_a_fall_in_the_stairwell_shows_its_kind_and_a_few_hours_on_every_card(duty: Bot) -> None:
    """The trial's 老人在楼道摔倒了: the card read 类别：其他 with seven days while red; redrawn (signed) and in the
    queue it keeps its kind and the emergency's limit."""
    person = await registered(duty, 2004)
    cursor = duty.emulator.cursor()
    number = ticket_number((await person.say("老人在楼道摔倒了 起不来了 快来人")).text)
    [ticket] = await duty.tickets(2004)
    assert (ticket.emergency_kind, ticket.category) == ("medical", "other")
    assert ticket.due_at - ticket.created_at == timedelta(hours=2)
    desk = UNIT_CHATS["juweihui"]
    card = await duty.emulator.wait_for(desk, lambda m: number in m.text and m.buttons, after=cursor, timeout=10)
    assert "类别：紧急求助·急病或受伤　" in card.text and f"时限：{fmt_time(ticket.due_at)} 🔴" in card.text
    queue = await say_in(duty, ZHANG, desk, "/queue")
    assert f"{number} 紧急求助·急病或受伤" in queue.text
    shown = await say_in(duty, ZHANG, desk, f"/case {number}")
    assert "类别：紧急求助·急病或受伤　" in shown.text


async def test_an_emergencys_cards_keep_their_header_when_redrawn(duty: Bot) -> None:
    """签收 redraws every card of the case: the unit's and the community level's kept the 🚨 header with the
    emergency's kind (they were redrawn as "📋 工单" and "⬆️ 升级工单"); /case brings it back the same way."""
    person = await registered(duty, 2005)
    cursor = duty.emulator.cursor()
    number = ticket_number((await person.say("快来人啊我爸摔倒了一动不动")).text)
    header = texts.card_header_sos(texts.EMERGENCY_KIND["medical"])
    desk = UNIT_CHATS["juweihui"]
    card = await duty.emulator.wait_for(desk, lambda m: number in m.text and m.buttons, after=cursor, timeout=10)
    level = await duty.emulator.wait_for(LEVEL_CHATS["community"], number, after=cursor, timeout=10)
    assert card.text.startswith(header) and level.text.startswith(header)
    await press(duty, ZHANG, desk, card, texts.BTN_SIGN)
    redrawn = duty.emulator.message(desk, card.message_id)
    assert "状态：已签收" in redrawn.text and redrawn.text.startswith(f"{header} {number}")
    level_now = duty.emulator.message(LEVEL_CHATS["community"], level.message_id)
    assert "状态：已签收" in level_now.text and level_now.text.startswith(f"{header} {number}")
    shown = await say_in(duty, ZHANG, desk, f"/case {number}")
    assert shown.text.startswith(f"{header} {number}")


async def test_the_place_is_asked_in_one_tap_and_sent_to_everyone_alerted(duty: Bot) -> None:
    person = await registered(duty, 2002)
    reply = await person.say("我妈走丢了")  # no place named: asked after the answer, never before it
    number = ticket_number(reply.text)
    ask = await person.reply(after=reply)
    assert ask.text == texts.SOS_ASK_PLACE and texts.BTN_SOS_LOCATION in ask.keyboard
    cursor = duty.emulator.cursor()
    await duty.emulator.send_location(2002, 30.2985, 120.1389)  # by 10号楼
    saved = await person.reply(after=cursor)
    assert saved.text.startswith("已把地点告诉")
    for chat in (POLICE, WORKER, DUTY):
        where = await duty.emulator.wait_for(chat, texts.staff_sos_place(number, texts.pin_near("10号楼")),
                                             after=cursor, timeout=10)
        assert where.chat_id == chat
    [ticket] = await duty.tickets(2002)
    assert ticket.location == texts.pin_near("10号楼")
    later = await person.say("小区门口的路灯坏了")  # the flow is over: words are a complaint again
    assert any(b.text == texts.BTN_CONFIRM for b in later.buttons)


@pytest.mark.parametrize("words", ["电梯又坏了，天天坏", "怕着火，楼道堆满了纸箱", "上个月有人在这个台阶摔倒过",
                                   "燃气费在哪里交"])
async def test_ordinary_words_about_lifts_fire_or_falls_are_no_emergency(duty: Bot, words: str) -> None:
    person = await registered(duty, 2003)
    cursor = duty.emulator.cursor()
    reply = await person.say(words)
    assert "🚨" not in reply.text
    await duty.barrier()
    assert duty.emulator.messages_after(DUTY, cursor) == []
    assert all(t.emergency is False for t in await duty.tickets(2003))


async def test_no_duty_group_and_no_grid_worker_are_never_claimed(desk: Bot) -> None:
    """The sample community has no duty group and no grid worker ids: the staff chat stands in, and the resident
    is told only what really happened."""
    person = await registered(desk, 2004)
    reply = await person.say("我爸突然晕倒了，叫不醒")
    assert desk.deps.community.emergency.duty_name in reply.text
    assert "网格员" not in reply.text
    number = ticket_number(reply.text)
    await desk.emulator.wait_for(STAFF_CHAT_ID, number, timeout=10)


async def test_words_about_something_else_are_not_taken_for_the_emergency_s_place(duty: Bot) -> None:
    """After "where are you?", a message about another matter is read as usual; the place can still follow."""
    person = await registered(duty, 2005)
    reply = await person.say("我爸摔倒了起不来")
    number = ticket_number(reply.text)
    await duty.barrier()
    assert (await person.say("下次理发是哪天")).text.startswith("✂️")  # answered as a question, not a place
    [t] = await duty.tickets(2005)
    assert t.location is None
    saved = await person.say("在9号楼2单元")
    assert saved.text.startswith("已把地点告诉")
    [t] = await duty.tickets(2005)
    assert (t.number, t.location) == (number, "9号楼2单元")


async def test_a_cry_for_help_naming_no_kind_sends_the_duty_and_gives_the_case_to_whoever_handles_the_matter(
        duty: Bot) -> None:
    """快来人 beside bricks thrown down names no kind: the resident is told every number (not just 120), the duty and
    the grid worker go at once, and the red case sits on the desk of the matter (safety)."""
    person = await registered(duty, 2003)
    cursor = duty.emulator.cursor()
    reply = await person.say("快来人 楼上往下扔砖头")
    number = ticket_number(reply.text)
    assert reply.text.startswith(f"🚨 {texts.HELP_FIRST}") and "急病" not in reply.text
    for chat in (DUTY, WORKER):
        alert = await duty.emulator.wait_for(chat, number, after=cursor, timeout=10)
        assert texts.EMERGENCY_KIND["help"] in alert.text
    [ticket] = await duty.tickets(2003)
    assert (ticket.emergency, ticket.emergency_kind, ticket.category) == (True, "help", "safety")
    assert ticket.unit == duty.deps.community.unit_for("safety").code == "jingwu"
    desk = POLICE  # the police post's desk in this community
    card = await duty.emulator.wait_for(desk, lambda m: number in m.text and m.buttons, after=cursor, timeout=10)
    assert card.text.startswith(texts.card_header_sos(texts.EMERGENCY_KIND["help"]))


async def test_crying_out_again_joins_the_open_emergency_instead_of_opening_another(duty: Bot) -> None:
    """救命 … 快来人啊他不动了: one red case, the new words at once to everyone alerted, the resident told so."""
    person = await registered(duty, 2004)
    first = await person.say("救命，我爸在10号楼楼下摔倒了")
    number = ticket_number(first.text)
    cursor = duty.emulator.cursor()
    again = await person.say("快来人啊，他不动了")
    assert again.text.startswith("🚨 收到！") and number in again.text and "120" in again.text
    for chat in (DUTY, WORKER):
        await duty.emulator.wait_for(chat, texts.staff_sos_more(number, "快来人啊，他不动了"), after=cursor, timeout=10)
    [ticket] = await duty.tickets(2004)
    assert ticket.number == number and ticket.emergency_kind == "medical"
    notes = [e.note for e in await events(duty, number) if e.note]
    assert "居民又说：快来人啊，他不动了" in notes


async def test_words_not_understood_while_an_emergency_is_open_go_to_it(duty: Bot) -> None:
    """他还是不动 says nothing the engine knows, but the resident's emergency is open: it goes to everyone alerted."""
    person = await registered(duty, 2005)
    first = await person.say("救命啊快来人")
    number = ticket_number(first.text)
    assert f"（{texts.EMERGENCY_KIND['help']}）" in first.text
    assert (await person.reply(after=first)).text == texts.SOS_ASK_PLACE  # no place said: asked, still open
    cursor = duty.emulator.cursor()
    again = await person.say("他还是不动")
    assert again.text.startswith("🚨 收到！") and number in again.text
    await duty.emulator.wait_for(DUTY, texts.staff_sos_more(number, "他还是不动"), after=cursor, timeout=10)
    other = await registered(duty, 2006)  # someone with no emergency: the usual polite answer
    assert (await other.say("他还是不动")).text == texts.NOT_UNDERSTOOD


@pytest.mark.parametrize("words", ["水管子爆了哗哗往外冒水 快来人啊 8号楼一单元", "水管爆了，水漫到楼道里了，快来人"])
async def test_a_burst_pipe_with_a_cry_is_a_repair_not_a_call_to_120_119_110(duty: Bot, words: str) -> None:
    """Water pouring out is urgent, but for the property to fix: no red case, no 120/119/110, nobody on duty woken;
    the draft's summary starts with what stops the worst of it (the main valve)."""
    person = await registered(duty, 2007)
    cursor = duty.emulator.cursor()
    reply = await person.say(words)
    assert "🚨" not in reply.text and "120" not in reply.text
    assert reply.text.startswith(texts.VALVE_TIP) and any(b.text == texts.BTN_CONFIRM for b in reply.buttons)
    await duty.barrier()
    assert duty.emulator.messages_after(DUTY, cursor) == []
    assert all(t.emergency is False for t in await duty.tickets(2007))


async def test_a_bystander_is_told_to_call_the_police_and_stay_with_the_person(duty: Bot) -> None:
    """Someone seen on a roof's edge: 110 first (and 120), stay and keep talking, keep others back; the helpline
    (12356) is for a resident speaking of themself."""
    person = await registered(duty, 2008)
    reply = await person.say("有个人在楼顶边上站着 好像要跳下去")
    assert reply.text.startswith(f"🚨 {texts.CRISIS_FIRST}") and "120" in reply.text
    assert texts.EMERGENCY_TIPS["crisis"] in reply.text and "12356" not in reply.text
    other = await registered(duty, 2009)
    own = await other.say("俺真不想活了")
    assert own.text.startswith("🚨 请立即拨打 120") and "12356" in own.text and "110" not in own.text


@pytest.mark.parametrize("words", ["老太太一个人在家好几天没动静了", "隔壁老太太喊了半天没人应 门也敲不开"])
async def test_an_elderly_neighbour_not_answering_is_an_alert_with_110_to_open_the_door(duty: Bot, words: str) -> None:
    person = await registered(duty, 2010)
    cursor = duty.emulator.cursor()
    reply = await person.say(words)
    number = ticket_number(reply.text)
    assert reply.text.startswith("🚨 请立即拨打 120") and "110" in reply.text
    await duty.emulator.wait_for(DUTY, number, after=cursor, timeout=10)
    [ticket] = await duty.tickets(2010)
    assert (ticket.emergency, ticket.emergency_kind) == (True, "medical")


async def test_a_lift_with_no_building_asks_which_building_and_the_answer_is_the_case_s_place(duty: Bot) -> None:
    """电梯 names no place for a resident with no home saved: the bot asks which building, and "11号楼" is kept on the
    case as 11号楼电梯 and sent to everyone alerted (it used to be passed on only as words)."""
    person = await registered(duty, 2011)
    reply = await person.say("电梯坏了 俺跟孩子关里头了 出不去 咋弄啊")
    number = ticket_number(reply.text)
    assert reply.text.startswith(f"🚨 请立即拨打电梯内的应急救援电话 {duty.deps.community.emergency.lift_phone}")
    ask = await person.reply(after=reply)
    assert ask.text == texts.sos_ask_building("电梯") and texts.BTN_SOS_LOCATION in ask.keyboard
    cursor = duty.emulator.cursor()
    saved = await person.say("11号楼")
    assert saved.text.startswith("已把地点告诉")
    await duty.emulator.wait_for(DUTY, texts.staff_sos_place(number, "11号楼电梯"), after=cursor, timeout=10)
    [ticket] = await duty.tickets(2011)
    assert (ticket.number, ticket.location, ticket.building) == (number, "11号楼电梯", "11号楼")
    notes = [e.note for e in await events(duty, number) if e.note]
    assert "地点：11号楼电梯" in notes and not any(n.startswith("居民又说") for n in notes)


async def test_a_lift_in_a_named_building_is_not_asked_again(duty: Bot) -> None:
    person = await registered(duty, 2012)
    reply = await person.say("电梯关人了 7号楼 快点")
    ticket_number(reply.text)
    await duty.barrier()
    [ticket] = await duty.tickets(2012)
    assert (ticket.emergency_kind, ticket.location) == ("trapped", "7号楼电梯")
    assert texts.SOS_ASK_PLACE not in [m.text for m in duty.emulator.messages_to(2012)]


async def test_an_emergency_typed_while_adding_to_a_case_is_alerted_not_filed_under_it(duty: Bot) -> None:
    """补充说明 is open for an old noise case when the resident smells gas: the gas alert at once, not a note under
    the noise case's card."""
    person = await registered(duty, 2010)
    number, _, _ = await open_case(duty, person)
    view = await person.say(number)
    await person.click(view, texts.BTN_SUPPLEMENT, number)
    alert = await person.say("煤气漏了 快")
    assert alert.text.startswith("🚨") and "119" in alert.text
    cases = await duty.tickets(2010)
    assert [t.emergency_kind for t in cases if t.emergency] == ["gas"]
    assert not [e for e in await events(duty, number) if e.note and "煤气" in e.note]


async def test_an_emergency_typed_while_a_case_waits_for_the_resident_is_alerted(duty: Bot) -> None:
    """A case waiting for the resident's answer (待补充) takes their next words, unless the words are an emergency."""
    person = await registered(duty, 2011)
    number, _, _ = await open_case(duty, person)
    async with duty.deps.db.transaction() as s:
        [t] = (await s.exec(select(Ticket).where(Ticket.number == number))).all()
        t.resume_status, t.status = t.status, TicketStatus.PENDING_INFO
        s.add(t)
    alert = await person.say("俺老伴晕倒了 叫不醒")
    assert alert.text.startswith("🚨") and "120" in alert.text
    assert [t.emergency_kind for t in await duty.tickets(2011) if t.emergency] == ["medical"]
    assert (await person.say("在3单元5楼")).text.startswith("已把地点告诉")  # the alert's place, not the old case's
    assert not [e for e in await events(duty, number) if e.note and ("晕倒" in e.note or "3单元" in e.note)]


async def test_another_emergency_is_not_taken_for_the_place_of_the_first(duty: Bot) -> None:
    """"Where are you?" after a fall, and then 3号楼着火了: a fire, alerted (joined to the open case), not the
    fall's place."""
    person = await registered(duty, 2012)
    first = await person.say("救命啊快来人 老人摔倒了")
    number = ticket_number(first.text)
    assert (await person.reply(after=first)).text == texts.SOS_ASK_PLACE
    cursor = duty.emulator.cursor()
    fire = await person.say("3号楼着火了")
    assert fire.text.startswith("🚨") and number in fire.text and "119" in fire.text
    await duty.emulator.wait_for(DUTY, "3号楼着火了", after=cursor, timeout=10)
    [t] = await duty.tickets(2012)
    assert t.location is None  # still asked: the fall's place is not the fire's


@pytest.mark.parametrize("words", ["有人打电话说我孩子出事了要汇钱", "我被骗了五万块钱", "昨天转了钱才发现是骗子"])
async def test_a_swindle_under_way_or_just_done_is_an_alert_to_the_police_post(duty: Bot, words: str) -> None:
    """A fraud in progress (a caller wants money) or just done: not a 7-day case nor 转人工 with no advice. At once:
    do not pay, hang up, keep codes and passwords, 96110 or 110; done, 110 and the bank at once. The police post's
    desk and the duty group are alerted, the case is red on the police post's desk."""
    person = await registered(duty, 2011)
    cursor = duty.emulator.cursor()
    reply = await person.say(words)
    number = ticket_number(reply.text)
    assert reply.text.startswith(f"🚨 {texts.FRAUD_FIRST}")
    assert "96110" in reply.text and "验证码" in reply.text and "银行" in reply.text
    assert texts.EMERGENCY_TIPS["fraud"] in reply.text and "120" not in reply.text and "119" not in reply.text
    assert not any(b.text == texts.BTN_CONFIRM for b in reply.buttons)  # no draft to confirm
    for chat in (POLICE, DUTY):
        alert = await duty.emulator.wait_for(chat, number, after=cursor, timeout=10)
        assert texts.EMERGENCY_KIND["fraud"] in alert.text and words in alert.text
    [ticket] = await duty.tickets(2011)
    assert (ticket.emergency, ticket.emergency_kind, ticket.category, ticket.unit) == (
        True, "fraud", "safety", "jingwu")
    assert duty.emulator.messages_after(WORKER, cursor) == []  # the police post and the duty group, as for crime


@pytest.mark.parametrize("words", ["社区什么时候开反诈讲座", "我没上当 就是想提醒大家", "骗子电话太多了 烦死了",
                                   "去年被骗过"])
async def test_talk_about_fraud_or_a_fraud_long_past_is_no_alert(duty: Bot, words: str) -> None:
    person = await registered(duty, 2012)
    cursor = duty.emulator.cursor()
    reply = await person.say(words)
    assert "🚨" not in reply.text
    await duty.barrier()
    assert duty.emulator.messages_after(DUTY, cursor) == [] and duty.emulator.messages_after(POLICE, cursor) == []
    assert all(t.emergency is False for t in await duty.tickets(2012))


async def test_a_grid_worker_granted_by_an_admin_is_alerted_as_the_file_s_worker_is(duty: Bot) -> None:
    """A worker given the grid with /grant (not in the community file) gets the emergency's alert too, once."""
    granted = 4009
    duty.emulator.user(granted, "周网格员")
    await duty.grant(granted, "gridworker", "A03")
    person = await registered(duty, 2013)
    cursor = duty.emulator.cursor()
    reply = await person.say("救命 俺老头在9号楼楼下摔倒了叫不醒")
    number = ticket_number(reply.text)
    for chat in (WORKER, granted):
        alert = await duty.emulator.wait_for(chat, number, after=cursor, timeout=10)
        assert texts.EMERGENCY_KIND["medical"] in alert.text
    await duty.barrier()
    assert len([m for m in duty.emulator.messages_after(granted, cursor) if number in m.text]) == 1


@pytest.mark.parametrize(("cry", "came", "desk"), [
    ("老人在楼道摔倒了 起不来了 快来人", "救护车到了 谢谢", UNIT_CHATS["juweihui"]),
    ("9号楼楼道里冒黑烟了", "消防车来了", POLICE),
], ids=["ambulance", "fire-engine"])
async def test_help_come_after_an_emergency_is_told_to_its_desk_under_the_card(duty: Bot, clock: Clock, cry: str,
                                                                               came: str, desk: int) -> None:
    """The trial's 救护车到了 谢谢 got only 不客气！: the desk never heard the ambulance came. Now the words go on the
    case (an event) and under its card, the resident is thanked and told so; no new case, nobody alerted again."""
    person = await registered(duty, 2005)
    number = ticket_number((await person.say(cry)).text)
    await duty.barrier()
    clock.advance(minutes=40)  # the ambulance took its time: past the window in which a cry joins the emergency
    cursor = duty.emulator.cursor()
    reply = await person.say(came)
    assert reply.text == texts.sos_help_came_thanks(number) and reply.text != texts.THANKS_REPLY
    for chat in (desk, LEVEL_CHATS["community"]):  # the unit holding it and the community level acting on it
        under = await duty.emulator.wait_for(chat, lambda m: number in m.text and came in m.text, after=cursor,
                                             timeout=10)
        assert under.text == texts.staff_sos_help_came(number, "王阿姨", came)
        assert under.reply_to_message_id is not None  # under the case's card
    await duty.barrier()
    assert f"居民说：{came}" in [e.note for e in await events(duty, number) if e.note]
    [ticket] = await duty.tickets(2005)
    assert ticket.number == number and ticket.status is TicketStatus.DISPATCHED  # the desk decides what follows
    for chat in (DUTY, WORKER):  # no second alarm
        assert not [m for m in duty.emulator.messages_after(chat, cursor) if number in (m.text or "")]


async def test_help_came_without_an_emergency_or_still_awaited_is_read_as_before(duty: Bot, clock: Clock) -> None:
    person = await registered(duty, 2006)
    assert (await person.say("救护车到了 谢谢")).text == texts.THANKS_REPLY  # nothing of theirs is open
    number = ticket_number((await person.say("老人在楼道摔倒了 起不来了 快来人")).text)
    await duty.barrier()
    clock.advance(minutes=5)
    cursor = duty.emulator.cursor()
    waiting = await person.say("救护车怎么还没来")  # not come: never noted as come
    assert waiting.text != texts.sos_help_came_thanks(number)
    await duty.barrier()
    assert not [m for m in duty.emulator.messages_after(UNIT_CHATS["juweihui"], cursor)
                if m.text.startswith(texts.staff_sos_help_came(number, "", "")[:10])]


@pytest.mark.parametrize("words", ["楼道里停满了电动车 着火了可咋办 3号楼", "5号楼楼道电线都露在外头 小孩摸了触电咋整"])
async def test_a_hazard_asked_what_if_is_a_draft_that_still_says_whom_to_call(duty: Bot, words: str) -> None:
    """A what-if about a standing hazard is filed as a hazard, nobody on duty woken; in case the resident is in it
    after all, the draft says first to call 119 (120 for someone hurt)."""
    person = await registered(duty, 2010)
    cursor = duty.emulator.cursor()
    reply = await person.say(words)
    assert "🚨" not in reply.text and reply.text.startswith(texts.HAZARD_TIP)
    assert any(b.text == texts.BTN_CONFIRM for b in reply.buttons)
    await duty.barrier()
    assert duty.emulator.messages_after(DUTY, cursor) == []
    ordinary = await registered(duty, 2011)  # a plain repair carries no such line
    assert texts.HAZARD_TIP not in (await ordinary.say("6号楼楼道灯坏了好几天了")).text
