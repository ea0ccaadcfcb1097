"""撤回 from the tracking page: the token's holder withdraws the case they filed through the bot's own rule
(``lifecycle.withdraw``, its event), asked twice, the desk's card owed; nobody else can, and a second try
changes nothing."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from services.cases import lifecycle
from services.web import tokens
from storage.models import Ticket, TicketEvent, TicketEventKind, TicketStatus

NOISE = "楼上天天晚上装修，吵得睡不着"


async def file(site, text: str = NOISE, location: str = "9号楼2单元", phone: str = "13800000001") -> str:
    r = await site.client.post("/s/A03", data={"text": text, "location": location, "phone": phone})
    assert r.status_code == 303
    return r.headers["location"].split("/")[2].split("?")[0]


async def the_case(site) -> Ticket:
    async with site.db.session() as s:
        return (await s.exec(select(Ticket))).one()


async def withdrawals(site) -> int:
    async with site.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(TicketEvent).where(
            TicketEvent.kind == TicketEventKind.WITHDRAWN))).one())


async def test_the_service_withdraws_through_the_lifecycle_once_and_only_for_the_author(site) -> None:
    token = await file(site)
    neighbour = await file(site, "9号楼楼上装修太吵了，晚上睡不着", "9号楼", "13800000002")  # joined the first case
    async with site.db.transaction() as s:
        assert (await tokens.withdraw(s, neighbour, now=site.clock())).status is tokens.WithdrawStatus.NOT_YOURS
        assert (await tokens.withdraw(s, tokens.new_token(), now=site.clock())).status is \
            tokens.WithdrawStatus.NOT_FOUND
    assert (await the_case(site)).status is TicketStatus.DISPATCHED
    site.clock.advance(minutes=5)
    async with site.db.transaction() as s:
        done = await tokens.withdraw(s, token, now=site.clock())
    assert done.ok and done.ticket.status is TicketStatus.WITHDRAWN
    t = await the_case(site)
    assert t.status is TicketStatus.WITHDRAWN and t.closed_at is not None
    async with site.db.session() as s:
        event = (await s.exec(select(TicketEvent).where(TicketEvent.to_status == TicketStatus.WITHDRAWN))).one()
        found = await tokens.find(s, token)
    assert event.actor == f"resident:{t.resident_id}" and event.from_status is TicketStatus.DISPATCHED
    assert not found.withdrawable
    async with site.db.transaction() as s:
        again = await tokens.withdraw(s, token, now=site.clock())
    assert again.status is tokens.WithdrawStatus.ALREADY_WITHDRAWN
    assert await withdrawals(site) == 1


async def test_a_closed_case_cannot_be_withdrawn(site) -> None:
    token = await file(site)
    async with site.db.transaction() as s:
        t = (await s.exec(select(Ticket))).one()
        for step in (TicketStatus.SIGNED, TicketStatus.IN_PROGRESS):
            assert (await lifecycle.transition(s, t, step, actor="staff:1", now=site.clock())).ok
        assert (await lifecycle.transition(s, t, TicketStatus.RESOLVED, actor="staff:1", now=site.clock(),
                                           result="已修好")).ok
    page = await site.client.get(f"/t/{token}")
    assert "撤回诉求" not in page.text and "/withdraw" not in page.text
    r = await site.client.post(f"/t/{token}/withdraw", data={"confirm": "yes"})
    assert r.status_code == 409 and "已经办结或关闭，不能撤回" in r.text and f'href="/t/{token}"' in r.text
    assert (await the_case(site)).status is TicketStatus.RESOLVED
    assert ("withdrawn", t.number) not in site.recorder.calls


async def test_the_page_asks_before_it_withdraws_and_then_shows_yi_chehui(site) -> None:
    token = await file(site)
    page = await site.client.get(f"/t/{token}")
    assert "撤回诉求" in page.text and f'hx-post="/t/{token}/withdraw"' in page.text
    # the first press only asks (htmx: the question alone; without JavaScript: the whole page with it)
    asked = await site.client.post(f"/t/{token}/withdraw", headers={"HX-Request": "true"})
    assert asked.status_code == 200 and "确定撤回工单" in asked.text and "确认撤回" in asked.text
    assert "<html" not in asked.text and 'name="confirm" value="yes"' in asked.text
    plain = await site.client.post(f"/t/{token}/withdraw")
    assert plain.status_code == 200 and "<html" in plain.text and "确认撤回" in plain.text and "办理过程" in plain.text
    assert (await the_case(site)).status is TicketStatus.DISPATCHED and await withdrawals(site) == 0
    site.recorder.calls.clear()
    r = await site.client.post(f"/t/{token}/withdraw", data={"confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == f"/t/{token}?withdrawn=1"
    t = await the_case(site)
    assert t.status is TicketStatus.WITHDRAWN
    assert site.recorder.calls == [("withdrawn", t.number), ("wake", None)]  # the desk's card owed, the sender woken
    shown = await site.client.get(r.headers["location"])
    assert "已撤回" in shown.text and f"工单 {t.number} 已撤回" in shown.text
    assert "居民撤回" in shown.text  # the step in its history
    assert "确认撤回" not in shown.text and "/withdraw" not in shown.text  # no button any more
    # a second post (a double tap, the back button) answers politely and changes nothing
    site.recorder.calls.clear()
    again = await site.client.post(f"/t/{token}/withdraw", data={"confirm": "yes"})
    assert again.status_code == 409 and "已经撤回了" in again.text
    htmx_again = await site.client.post(f"/t/{token}/withdraw", headers={"HX-Request": "true"})
    assert htmx_again.status_code == 200 and "已经撤回了" in htmx_again.text  # htmx swaps no 4xx: said in a 200
    assert site.recorder.calls == [] and await withdrawals(site) == 1


async def test_only_the_holder_of_the_authors_link_may_withdraw(site) -> None:
    token = await file(site)
    neighbour = await file(site, "9号楼楼上装修太吵了，晚上睡不着", "9号楼", "13800000002")
    page = await site.client.get(f"/t/{neighbour}")
    assert "已并入" in page.text and "撤回诉求" not in page.text
    for data in ({}, {"confirm": "yes"}):
        r = await site.client.post(f"/t/{neighbour}/withdraw", data=data)
        assert r.status_code == 403 and "只有提交诉求的居民可以撤回" in r.text
        for bad in ("x" * 22, "short", tokens.new_token()):
            assert (await site.client.post(f"/t/{bad}/withdraw", data=data)).status_code == 404
    assert (await the_case(site)).status is TicketStatus.DISPATCHED
    assert (await site.client.get(f"/t/{token}/withdraw")).status_code == 405  # a link followed withdraws nothing
