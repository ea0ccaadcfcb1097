"""A neighbour whose complaint joined a resident's case, in the chat: their 我的工单 and the case's detail show the
case's progress, never the other resident's words (the author's 补充说明 named her flat and her phone)."""

from __future__ import annotations

from linli_e2e import Bot, registered
from sqlmodel import select
from test_journey import confirm

from handlers import texts
from services.cases.events import record_event, resident_actor
from storage.models import Ticket

AUTHOR_MORE = "我是2单元601的王桂芳，电话13911112222"


async def _joined(bot: Bot) -> tuple[str, object]:
    author = await registered(bot, 1050, "王阿姨")
    number = await confirm(author, await author.say("9号楼电梯坏了"))
    neighbour = await registered(bot, 1051, "李大爷")
    assert await confirm(neighbour, await neighbour.say("9号楼的电梯又坏了，好几天了")) == number
    async with bot.db.transaction() as s:  # the author adds words to her case (补充说明), as the bot records them
        t = (await s.exec(select(Ticket).where(Ticket.number == number))).one()
        await record_event(s, t, kind="reply", actor=resident_actor(t.resident_id), now=bot.clock.now(),
                           note=AUTHOR_MORE)
    return number, neighbour


async def test_the_neighbours_list_never_shows_the_authors_words(bot: Bot) -> None:
    number, neighbour = await _joined(bot)
    listed = (await neighbour.say(texts.MENU_TICKETS)).text
    assert number in listed
    assert "601" not in listed and "13911112222" not in listed and "王桂芳" not in listed


async def test_the_neighbours_detail_never_shows_the_authors_words(bot: Bot) -> None:
    number, neighbour = await _joined(bot)
    detail = (await neighbour.say(f"/tickets {number}")).text
    assert number in detail and "9号楼的电梯又坏了" in detail  # the case, with their own words
    assert "9号楼电梯坏了" not in detail and "601" not in detail and "13911112222" not in detail
