"""The 服务码 form tried on a phone by a newcomer (helper `trial`, 2 December): trips found in a real browser, each
test failing on the code before its fix."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from services.cases import lifecycle
from storage.models import Channel, OutboxMessage, Ticket, TicketStatus
from web import texts as web_texts

WORDS = "7号楼门口的垃圾好几天没人收了，臭得很"


async def tickets(site) -> int:
    async with site.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(Ticket))).one())


async def test_mistakes_on_the_form_do_not_use_up_the_posts_a_resident_may_make(site) -> None:
    """Every refused post counted against the 5 posts an address may make in 10 minutes: a resident who wrote
    two characters, then a phone number one digit short, then only punctuation, then forgot the digit again was
    told 提交太频繁了，请 10 分钟后再试 on the fifth try, with the form right at last."""
    mistakes = [{"text": "灯坏"}, {"text": WORDS, "phone": "1381234567"}, {"text": "。。。！"},
                {"text": WORDS, "phone": "139000011"}, {"text": "吵"}, {"text": WORDS, "phone": "12"}]
    for form in mistakes:
        assert (await site.client.post("/s/A03", data=form)).status_code == 400
    r = await site.client.post("/s/A03", data={"text": WORDS, "phone": "13900000111"})
    assert r.status_code == 303 and await tickets(site) == 1
    for i in range(4):  # the filed posts still count: five in all
        r = await site.client.post("/s/A03", data={"text": f"{i + 1}号楼楼道灯坏了好几天了"})
        assert r.status_code == 303
    r = await site.client.post("/s/A03", data={"text": "8号楼楼道灯坏了好几天了"})
    assert r.status_code == 429 and "提交太频繁" in r.text


async def test_a_resident_unsatisfied_on_the_web_may_say_why_and_is_told_what_happens(site) -> None:
    """The tracking page's 不满意 was a bare button, and the page then said only 感谢您的评价！: the resident could
    not say what was still wrong (the bot asks for it), nor learn that the case was reopened and sent up."""
    r = await site.client.post("/s/A03", data={"text": WORDS, "location": "7号楼门口"})
    token = r.headers["location"].split("/")[2].split("?")[0]
    async with site.db.transaction() as s:
        t = (await s.exec(select(Ticket))).one()
        for step in (TicketStatus.SIGNED, TicketStatus.IN_PROGRESS):
            assert (await lifecycle.transition(s, t, step, actor="staff:1", now=site.clock())).ok
        assert (await lifecycle.transition(s, t, TicketStatus.RESOLVED, actor="staff:1", now=site.clock(),
                                           result="已清运")).ok
    page = await site.client.get(f"/t/{token}")
    assert 'name="comment"' in page.text and "想说的话（可选）" in page.text
    r = await site.client.post(f"/t/{token}/rate", data={"rating": "u", "comment": "  还是有味道，\n垃圾桶也没洗 "})
    assert r.status_code == 303 and r.headers["location"] == f"/t/{token}?rated=u"
    async with site.db.session() as s:
        t = (await s.exec(select(Ticket))).one()
    assert t.status is TicketStatus.REOPENED and t.rating_comment == "还是有味道， 垃圾桶也没洗"
    page = await site.client.get(r.headers["location"])
    assert web_texts.RATE_UNSATISFIED in page.text and web_texts.RATE_DONE not in page.text


async def test_a_fire_written_on_the_form_alerts_at_once_as_in_chat(site) -> None:
    """3号楼302着火了 冒烟了 sent from the 服务码 page was filed as an ordinary case: category 其他, seven days to
    resolve, green, nobody alerted (in chat the same words call 119 and alert duty, the grid worker and the
    property at once). It opens the emergency, red from its first minute, with the alerts owed."""
    r = await site.client.post("/s/A01", data={"text": "3号楼302着火了 冒烟了", "location": "3号楼302",
                                               "phone": "13900001111", "name": "赵阿姨"})
    assert r.status_code == 303
    async with site.db.session() as s:
        t = (await s.exec(select(Ticket))).one()
        owed = (await s.exec(select(OutboxMessage).where(OutboxMessage.ticket_id == t.id))).all()
    assert t.emergency and t.emergency_kind == "fire" and t.channel is Channel.WEB
    assert (t.location, t.contact_name, t.contact_phone) == ("3号楼302", "赵阿姨", "13900001111")
    assert any(m.payload.get("say") == "sos_alert" for m in owed)
    page = await site.client.get(r.headers["location"])
    assert web_texts.EMERGENCY_FILED in page.text and t.number in page.text
