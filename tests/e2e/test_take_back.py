"""Taking a report back in words ("我想撤销刚才那个工单", "水管我自己修好了，不用来了"), through the real bot.

A draft not yet confirmed is what "刚才那个" means and is dropped at once; a confirmed case is asked about first
(one tap withdraws, one keeps it), never withdrawn by words alone; complaints that merely contain 取消 or 发错
("低保被取消了") stay complaints.
"""

from __future__ import annotations

from linli_e2e import STAFF_CHAT_ID, Bot, Person, registered, ticket_number

from handlers import texts
from storage.models import TicketStatus

NOISE = "楼上天天装修，吵死了，9号楼"
LEAK = "厨房水管漏水了，9号楼2单元"



async def opened(person: Person, text: str) -> str:
    done = await person.confirm(await person.say(text))
    await person.bot.barrier()
    return ticket_number(done.body)


async def test_words_drop_a_draft_not_yet_confirmed(bot: Bot) -> None:
    person = await registered(bot, 4101)
    await person.say(NOISE)
    assert await bot.draft(4101) is not None
    reply = await person.say("刚才发错了，取消吧")
    assert reply.text == texts.DRAFT_CANCELLED
    assert await bot.draft(4101) is None and await bot.tickets() == []


async def test_the_only_open_case_is_offered_and_kept_or_withdrawn_by_one_tap(bot: Bot) -> None:
    person = await registered(bot, 4102)
    number = await opened(person, NOISE)
    ask = await person.say("我想撤销刚才那个工单")
    assert number in ask.text and "撤回" in ask.text
    assert [b.text for b in ask.buttons] == [texts.BTN_WITHDRAW_YES, texts.BTN_WITHDRAW_NO]
    assert (await bot.tickets(4102))[0].status == TicketStatus.DISPATCHED  # words alone withdraw nothing

    await (await person.press(ask, texts.BTN_WITHDRAW_NO)).edit(texts.WITHDRAW_KEPT.format(number=number))
    assert (await bot.tickets(4102))[0].status == TicketStatus.DISPATCHED

    again = await person.say("算了不投诉了")
    cursor = bot.emulator.cursor()
    done = await person.click(again, texts.BTN_WITHDRAW_YES)
    assert done.text == texts.WITHDRAWN.format(number=number)
    assert (await bot.tickets(4102))[0].status == TicketStatus.WITHDRAWN
    await bot.barrier()  # the desk sees it: told under the card, the card redrawn without its buttons
    told = [m for m in bot.emulator.messages_after(STAFF_CHAT_ID, cursor) if m.method == "sendMessage"]
    assert [m.text for m in told] == [texts.staff_withdrawn(number)]
    first = next(m for m in bot.emulator.messages_to(STAFF_CHAT_ID) if number in (m.text or ""))
    card = bot.emulator.message(STAFF_CHAT_ID, first.message_id)
    assert texts.STATUS["withdrawn"] in card.text and card.buttons == []
    assert (await person.say("撤回投诉")).text == texts.WITHDRAW_NOTHING


async def test_the_kind_named_picks_the_case_and_several_are_listed_otherwise(bot: Bot) -> None:
    person = await registered(bot, 4103)
    noise = await opened(person, NOISE)
    leak = await opened(person, LEAK)
    ask = await person.say("水管我自己找人修好了，不用来了")
    assert leak in ask.text and noise not in ask.text
    assert await bot.draft(4103) is None  # the leak's words opened no new draft

    which = await person.say("帮我撤回一下")
    assert which.text == texts.WITHDRAW_WHICH
    assert len(which.buttons) == 2 and all(b.text.startswith("撤回 ") for b in which.buttons)
    step = await person.click(which, texts.withdraw_choice(noise, "噪音扰民"))
    done = await person.click(step, texts.BTN_WITHDRAW_YES)
    assert done.text == texts.WITHDRAWN.format(number=noise)
    statuses = {t.number: t.status for t in await bot.tickets(4103)}
    assert statuses == {noise: TicketStatus.WITHDRAWN, leak: TicketStatus.DISPATCHED}


async def test_a_number_in_the_words_is_that_case_and_a_strangers_number_is_not_found(bot: Bot) -> None:
    person = await registered(bot, 4104)
    number = await opened(person, NOISE)
    ask = await person.say(f"帮我把{number}撤了")
    assert number in ask.text and ask.buttons[0].text == texts.BTN_WITHDRAW_YES
    stranger = await registered(bot, 4105)
    refused = await stranger.say(f"撤销{number}")
    assert refused.text == texts.WITHDRAW_REFUSED["not_found"]
    assert (await bot.tickets(4104))[0].status == TicketStatus.DISPATCHED


async def test_a_bare_no_takes_back_a_draft_but_never_a_case(bot: Bot) -> None:
    person = await registered(bot, 4107)
    number = await opened(person, NOISE)
    for said in ("不用了", "算了", "不用了，谢谢"):  # the answer to some offer, not to the case
        assert (await person.say(said)).text == texts.NOTHING_TAKEN
    assert (await bot.tickets(4107))[0].status == TicketStatus.DISPATCHED
    await person.say(LEAK)
    assert (await person.say("算了")).text == texts.DRAFT_CANCELLED  # a draft being written: that is dropped
    assert await bot.draft(4107) is None
    assert number in (await person.say("那个噪音的投诉不用处理了")).text  # naming the case still offers it


async def test_complaints_that_only_contain_cancel_words_stay_complaints(bot: Bot) -> None:
    person = await registered(bot, 4106)
    draft = await person.say("低保怎么突然被取消了，9号楼")
    assert draft.text != texts.WITHDRAW_NOTHING
    assert (await bot.draft(4106)) is not None
