"""A case two residents filed on the 服务码 page (the second joined the first as a duplicate), each reading their
own tracking page in a real headless Chromium: each sees the case's status, its progress and the desk's replies,
and their own words, never the other resident's (the case's text, a 补充说明). Fixtures are the browser tests' own
(``test_web_browser``)."""

from __future__ import annotations

import re

from sqlmodel import select
from test_web_browser import (  # noqa: F401  (fixtures; chromium or skip)
    PHONE,
    ZHANG,
    base,
    browser,
    pytestmark,
    site,
)

from services.cases import lifecycle
from services.cases.events import record_event, resident_actor
from services.web import desk
from storage.models import Channel, Ticket, TicketEventKind, TicketFollower, TicketStatus

AUTHOR = "9号楼602天天晚上装修，电钻吵得睡不着"
AUTHOR_MORE = "我是601的王桂芳，孩子明年高考，晚上要复习"
NEIGHBOUR = "9号楼楼上装修太吵了，晚上打电钻，老人睡不着"
NEIGHBOUR_MORE = "703李大爷家，老人心脏不好"
ANSWER = "已联系物业上门劝导，今晚起十点后停工"


async def _file(site, browser, text: str, place: str, phone: str) -> str:  # noqa: F811
    ctx = await browser.new_context(viewport=PHONE, java_script_enabled=False, is_mobile=True, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(f"{base(site)}/s/A03")
    await page.fill("#text", text)
    await page.fill("#location", place)
    await page.fill("#phone", phone)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r"/t/[A-Za-z0-9_-]{22}\?new=1$"))
    url = page.url.split("?")[0]
    await ctx.close()
    return url


async def _read(browser, url: str) -> str:  # noqa: F811
    ctx = await browser.new_context(viewport=PHONE, java_script_enabled=False, is_mobile=True, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(url)
    body = await page.inner_text("main")
    await ctx.close()
    return body


async def test_each_resident_of_a_joined_case_reads_only_their_own_words(site, browser) -> None:  # noqa: F811
    author_url = await _file(site, browser, AUTHOR, "9号楼2单元602", "13911112222")
    neighbour_url = await _file(site, browser, NEIGHBOUR, "9号楼", "13800007030")
    async with site.db.transaction() as s:
        [t] = (await s.exec(select(Ticket).where(Ticket.channel == Channel.WEB))).all()  # joined: one case
        [follower] = (await s.exec(select(TicketFollower))).all()
        await record_event(s, t, kind=TicketEventKind.REPLY, actor=resident_actor(t.resident_id),
                           now=site.clock(), note=AUTHOR_MORE)  # the author's 补充说明
        await record_event(s, t, kind=TicketEventKind.REPLY, actor=resident_actor(follower.resident_id),
                           now=site.clock(), note=NEIGHBOUR_MORE)
        assert (await lifecycle.transition(s, t, TicketStatus.SIGNED, actor=f"staff:{ZHANG}", now=site.clock())).ok
        assert await desk.reply(s, t, text=ANSWER, actor=f"staff:{ZHANG}", now=site.clock())
    await site.barrier()

    neighbour = await _read(browser, neighbour_url)
    assert "已签收" in neighbour and ANSWER in neighbour  # the case's status and progress
    assert NEIGHBOUR in neighbour and NEIGHBOUR_MORE in neighbour  # their own words
    for theirs in (AUTHOR, AUTHOR_MORE, "602", "王桂芳"):
        assert theirs not in neighbour, theirs
    assert "已并入" in neighbour

    author = await _read(browser, author_url)
    assert "已签收" in author and ANSWER in author
    assert AUTHOR in author and AUTHOR_MORE in author
    for theirs in (NEIGHBOUR, NEIGHBOUR_MORE, "703", "李大爷"):
        assert theirs not in author, theirs
