"""Residents talking as they talk (Henan dialect, no punctuation, elderly): a yes in their words, a preamble, a
phone number asked for, 在不在, a rating typed, a call back, 修了没 about their own case, praise — the real bot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from linli_e2e import (
    JUWEIHUI,
    NOISE,
    STAFF_CHAT_ID,
    Bot,
    Clock,
    Person,
    open_case,
    registered,
    running_bot,
    ticket_number,
)

from bot import jobs
from bot.emulator import BotApiEmulator, SentMessage
from handlers import texts
from services.cases import lifecycle
from services.community.model import SAMPLE_COMMUNITY_FILE
from storage.models import Rating, Ticket, TicketStatus


def has_confirm(m: SentMessage) -> bool:
    return any(b.text == texts.BTN_CONFIRM for b in m.buttons)


async def drafted(bot: Bot, person: Person, text: str = "3号楼2单元楼道灯不亮了") -> SentMessage:
    shown = await person.say(text, has_confirm)
    assert text in shown.text
    return shown


# -- 1. a yes in the resident's own words ------


@pytest.mark.parametrize("yes", ["中", "中中中 就这样", "好嘞", "可以可以", "同意", "嗯嗯 对", "１", "没问题", "行吧",
                                 "对对对", "好的好的"])
async def test_a_yes_in_everyday_words_confirms_the_draft(desk: Bot, yes: str) -> None:
    person = await registered(desk, 2301)
    shown = await drafted(desk, person)
    cursor = await person.send(yes)  # the draft itself becomes the number, as when 确认提交 is pressed
    told = await desk.emulator.wait_for_edit(2301, shown.message_id, "LL-", after=cursor, timeout=10)
    [t] = await desk.tickets(2301)
    assert t.number == ticket_number(told.text) and t.text == "3号楼2单元楼道灯不亮了"  # the yes is not added


async def test_a_yes_to_two_matters_asks_for_the_button_and_adds_nothing(desk: Bot) -> None:
    person = await registered(desk, 2302)
    await drafted(desk, person, "9号楼楼上天天装修太吵了")
    two = await person.say("还有小区门口乱停车堵住了", lambda m: m.text.startswith("📝 您说的像是两件事"))
    before = (await desk.draft(2302)).text
    said = await person.say("好嘞")
    assert said.text == texts.TWO_MATTERS_PRESS
    assert (await desk.draft(2302)).text == before and await desk.tickets(2302) == []
    assert two.buttons  # the choice is still there to press


# -- 2. "俺想反映个事": the matter comes next ------


@pytest.mark.parametrize("preamble", ["俺想反映个事", "我要投诉", "我想反映个问题", "跟你们说个事",
                                      "你好 俺有个事想反映一下"])
async def test_a_preamble_asks_what_and_the_next_message_is_the_complaint(desk: Bot, preamble: str) -> None:
    person = await registered(desk, 2303)
    asked = await person.say(preamble)
    assert asked.text == texts.PREAMBLE_ASK and asked.buttons == []
    assert await desk.draft(2303) is None
    shown = await person.say("楼道里的灯坏了好几天了", has_confirm)
    assert shown.text.startswith("📝 我帮您整理了一下") and "两件事" not in shown.text
    told = await person.confirm(shown)
    [t] = await desk.tickets(2303)
    assert t.number == ticket_number(told.text) and t.text == "楼道里的灯坏了好几天了" and t.category == "repair"


# -- 3. a phone number asked for ------


def _without_example_phones(tmp_path: Path) -> str:
    """The sample file's text with its units' example numbers (0571-8800-…) taken out."""
    text, n = re.subn(r'^phone = "0571-8800-\d{4}".*\n', "", SAMPLE_COMMUNITY_FILE.read_text(encoding="utf-8"),
                      flags=re.MULTILINE)
    assert n >= 1
    return text


async def test_the_samples_example_number_is_given(bot: Bot) -> None:
    person = await registered(bot, 2303)
    said = await person.say("物业电话多少")
    wuye = bot.deps.community.unit_for("property")
    assert said.text == texts.phones([(wuye.name, wuye.phone)]) and wuye.phone == "0571-8800-0001"


async def test_phone_numbers_not_on_file_are_said_so_with_a_person_one_tap_away(
        emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "community.toml"
    path.write_text(_without_example_phones(tmp_path), encoding="utf-8")
    async with running_bot(emulator, tmp_path / "linli.db", clock, community_file=path) as bot:
        await _not_on_file(bot)


async def _not_on_file(bot: Bot) -> None:
    person = await registered(bot, 2304)
    grid = bot.deps.community.grid("A03")
    wuye = bot.deps.community.unit_for("property").name
    for ask in ("物业电话多少", "物业的电话", "给个物业的电话"):
        said = await person.say(ask)
        assert said.text == texts.phone_unknown("物业", wuye, grid.worker_name, grid.phone), ask
        assert [b.text for b in said.buttons] == [texts.BTN_HUMAN]
    gas = await person.say("燃气公司电话")
    assert gas.text.startswith("抱歉，我这里还没有燃气公司的电话") and grid.phone in gas.text
    assert bot.deps.community.unit_for("utilities").name in gas.text
    office = await person.say("居委会电话多少")
    assert office.text.startswith("抱歉，我这里还没有居委会的电话")
    lift = await person.say("电梯公司的电话是多少")
    assert lift.text == texts.phones([(texts.PHONE_LIFT, bot.deps.community.emergency.lift_phone)])
    await bot.barrier()
    assert await bot.draft(2304) is None and await bot.tickets(2304) == []  # no draft glued from the questions
    worker = await person.say("网格员电话多少")  # answered as before
    assert worker.text == texts.grid_worker(grid.name, grid.worker_name, grid.phone)
    bare = await person.say("网格员电话")  # no 多少: the same number, not 转人工 into the staff chat
    assert bare.text == texts.grid_worker(grid.name, grid.worker_name, grid.phone)


async def test_a_complaint_about_a_phone_is_still_a_complaint(bot: Bot) -> None:
    person = await registered(bot, 2305)
    shown = await person.say("9号楼物业电话打了十几次都没人接", has_confirm)
    assert "物业服务" in shown.text


async def test_numbers_the_community_file_has_are_given(emulator: BotApiEmulator, tmp_path: Path,
                                                        clock: Clock) -> None:
    text = _without_example_phones(tmp_path)
    text = text.replace('closed_dates = []', 'closed_dates = []\nphone = "0571-88886666"', 1)
    text = text.replace('# duty_phone = "0571-…"', 'duty_phone = "0571-88887777"', 1)
    text = text.replace('name = "金桂苑物业服务中心"\n', 'name = "金桂苑物业服务中心"\nphone = "0571-86661234"\n', 1)
    gongyong = 'name = "拱墅区水电气公用服务专班"\n'
    text = text.replace(gongyong, f'{gongyong}phone = "0571-12345"\n', 1)
    path = tmp_path / "community.toml"
    path.write_text(text, encoding="utf-8")
    async with running_bot(emulator, tmp_path / "linli.db", clock, community_file=path) as bot:
        person = await registered(bot, 2306)
        office = await person.say("居委会电话多少")
        assert office.text == texts.phones([(texts.PHONE_CENTRE, "0571-88886666")]) and office.buttons == []
        duty = await person.say("值班室电话")
        assert duty.text == texts.phones([("金桂社区值班室", "0571-88887777")])
        wuye = await person.say("物业电话多少")  # a unit's own number, from its entry in the file
        assert wuye.text == texts.phones([("金桂苑物业服务中心", "0571-86661234")]) and wuye.buttons == []
        gas = await person.say("燃气公司电话")  # the unit that takes gas matters here
        assert gas.text == texts.phones([("拱墅区水电气公用服务专班", "0571-12345")])
        police = await person.say("派出所电话多少")  # a unit with no number: said so, a person one tap away
        assert police.text.startswith("抱歉，我这里还没有派出所的电话") and police.buttons


# -- 4. 在不在, 咋用 ------


@pytest.mark.parametrize(("said", "reply"), [("在不在", "greeting"), ("有人吗", "greeting"),
                                             ("在吗 有人没", "greeting"), ("这个咋用啊", "help"), ("咋用", "help"),
                                             ("俺不会用这个", "help")])
async def test_are_you_there_and_how_is_this_used_are_answered(bot: Bot, said: str, reply: str) -> None:
    person = await registered(bot, 2307)
    answer = await person.say(said)
    expected = texts.HELP if reply == "help" else texts.GREETING.format(community=bot.deps.community.name)
    assert answer.text == expected


# -- 5. a rating typed to 回访 ------


async def rating_asked(desk: Bot, person: Person) -> tuple[str, SentMessage]:
    number, _, _ = await open_case(desk, person, NOISE, JUWEIHUI)
    async with desk.db.transaction() as s:
        t = await s.get(Ticket, (await desk.tickets(person.id))[0].id)
        assert (await lifecycle.confirm_resolved(s, t, actor="test", now=desk.clock.now())).ok
    desk.clock.advance(hours=2)
    cursor = desk.emulator.cursor()
    await jobs.followup_tick(desk.app)
    asked = await person.reply(texts.rating_request(number, None).splitlines()[0], after=cursor)
    return number, asked


@pytest.mark.parametrize(("said", "rating", "remark"), [
    ("满意", Rating.SATISFIED, None),
    ("很满意 谢谢师傅", Rating.SATISFIED, "很满意 谢谢师傅"),
    ("还行吧 就是慢了点", Rating.BASICALLY_SATISFIED, "还行吧 就是慢了点"),
    ("俺觉得一般般", Rating.BASICALLY_SATISFIED, "俺觉得一般般"),
])
async def test_a_typed_rating_is_recorded_as_the_button_would(desk: Bot, said: str, rating: Rating,
                                                               remark: str | None) -> None:
    person = await registered(desk, 2308)
    number, _ = await rating_asked(desk, person)
    thanks = await person.say(said)
    assert thanks.text == texts.rating_thanks(number, "s")
    [t] = await desk.tickets(2308)
    assert (t.status, t.rating, t.rating_comment) == (TicketStatus.CLOSED, rating, remark)


async def test_a_typed_unsatisfied_reopens_the_case_with_the_remark(desk: Bot) -> None:
    """The words after 不满意 are why: they go under the unit's card (kept only on the case's row, nobody at the desk
    saw them), and the resident is not asked again to say what was wrong (trial, 2 December)."""
    person = await registered(desk, 2309)
    number, _ = await rating_asked(desk, person)
    cursor = desk.emulator.cursor()
    thanks = await person.say("不满意 没人来")
    assert thanks.text == texts.rating_unsatisfied_heard(number) and "说说哪里不满意" not in thanks.text
    [t] = await desk.tickets(2309)
    assert (t.status, t.rating, t.rating_comment) == (TicketStatus.REOPENED, Rating.UNSATISFIED, "不满意 没人来")
    await desk.barrier()
    said = [m.text for m in desk.emulator.messages_after(JUWEIHUI, cursor)]
    assert texts.staff_resident_said(number, "王阿姨", "不满意 没人来", False) in said


async def test_rating_words_without_a_case_waiting_are_read_as_usual(desk: Bot) -> None:
    person = await registered(desk, 2310)
    said = await person.say("满意")
    assert "感谢您的评价" not in said.text
    await desk.barrier()
    assert await desk.tickets(2310) == []


# -- 6. a call back; 修了没 about one's own open case ------


async def test_asking_for_a_call_back_goes_to_a_person(bot: Bot) -> None:
    person = await registered(bot, 2311)
    cursor = bot.emulator.cursor()
    said = await person.say("俺不会打字 能不能叫个人给俺打电话")
    assert said.text == texts.HUMAN_FORWARDED
    await bot.emulator.wait_for(STAFF_CHAT_ID, None, after=cursor, timeout=10)
    assert await bot.draft(2311) is None


async def test_asking_whether_the_lift_is_fixed_shows_the_open_lift_case(desk: Bot) -> None:
    person = await registered(desk, 2312)
    shown = await drafted(desk, person, "9号楼电梯坏了")
    number = ticket_number((await person.confirm(shown)).text)
    await desk.barrier()
    asked = await person.say("电梯修了没")
    assert asked.text.startswith(f"📄 工单 {number}【")
    await desk.barrier()
    assert await desk.draft(2312) is None and len(await desk.tickets(2312)) == 1


async def test_asking_whether_the_lift_is_fixed_without_a_case_is_no_case_detail(desk: Bot) -> None:
    person = await registered(desk, 2313)
    asked = await person.say("电梯修了没")
    assert not asked.text.startswith("📄 工单")


# -- 7. praise; one "other" button ------


@pytest.mark.parametrize("said", ["麻烦你们了 师傅修得很好", "麻烦你们了", "师傅服务真好"])
async def test_praise_is_thanked(bot: Bot, said: str) -> None:
    person = await registered(bot, 2314)
    answer = await person.say(said)
    assert answer.text == texts.THANKS_REPLY
    await bot.barrier()
    assert await bot.draft(2314) is None


async def test_the_chooser_never_shows_other_twice(bot: Bot) -> None:
    person = await registered(bot, 2315)
    chooser = await person.say("俺家的情况有点麻烦", lambda m: any(b.text == texts.BTN_CANCEL for b in m.buttons))
    labels = [b.text for b in chooser.buttons]
    assert "其他" in labels and texts.BTN_OTHER_CATEGORY not in labels


async def test_an_emergency_is_never_a_yes_a_preamble_or_a_rating(desk: Bot) -> None:
    person = await registered(desk, 2316)
    await drafted(desk, person)
    cursor = desk.emulator.cursor()
    await person.send("中 快来人啊 俺家老头摔倒了起不来")
    sos = await person.reply(lambda m: "紧急求助" in m.text, after=cursor)
    assert "LL-" in sos.text
    assert len([t for t in await desk.tickets(2316) if t.text.startswith("中 快来人")]) == 1


async def test_a_hail_inside_worrying_words_is_no_hello(bot: Bot) -> None:
    person = await registered(bot, 2317)
    said = await person.say("隔壁老太太敲门没人应 屋里有人吗")
    assert said.text != texts.GREETING.format(community=bot.deps.community.name) and said.text != texts.THANKS_REPLY


async def test_how_to_pay_a_bill_is_answered_with_where_and_a_person(bot: Bot) -> None:
    person = await registered(bot, 2330)
    answer = await person.say("电费咋交 俺不会弄手机")
    assert answer.text == texts.HOW_TO_PAY and [b.text for b in answer.buttons] == [texts.BTN_HUMAN]
    await bot.barrier()
    assert await bot.draft(2330) is None  # no utilities draft asking for a place
    still = await person.say("交了电费还停电 3号楼", has_confirm)  # a complaint about a bill stays a complaint
    assert "水电气暖" in still.text
