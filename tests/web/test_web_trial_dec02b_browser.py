"""The 服务码 form in a real headless Chromium on a phone-sized screen (helper `trial`, 2 December): the back
button after filing. Fixtures are the browser tests' own (``test_web_browser``)."""

from __future__ import annotations

import re

from sqlmodel import select
from test_web_browser import (  # noqa: F401  (fixtures; chromium or skip)
    JUWEIHUI,
    PHONE,
    WAIT,
    base,
    browser,
    pytestmark,
    site,
)

from services.cases import lifecycle
from storage.models import Channel, Ticket, TicketStatus

WORDS = "7号楼门口的垃圾好几天没人收了，臭得很"


async def test_back_after_filing_does_not_offer_the_same_case_again(site, browser) -> None:  # noqa: F811
    """Filed at once (no mistake first), the back button showed the form with the words just sent put back by the
    browser: a resident who thought it had not gone through pressed 提交 again, and their second post was "joined"
    to their own case, its page saying 附近已有相同的诉求 with their words hidden. The words of the case just filed are
    cleared, and the form says it was filed, with a link to its page."""
    ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = await ctx.new_page()
    form = f"{base(site)}/s/A03"
    await page.goto(form)
    assert not await page.is_visible("#filed-note")
    await page.fill("#text", WORDS)
    await page.fill("#location", "7号楼门口")
    await page.fill("#phone", "13900000111")
    await page.locator("button[type=submit]").scroll_into_view_if_needed()  # the page scrolled down to 提交
    await page.tap("button[type=submit]")
    await page.wait_for_url(re.compile(r"/t/[A-Za-z0-9_-]{22}\?new=1$"))
    tracking = page.url.split("?")[0]
    async with site.db.session() as s:
        [filed] = (await s.exec(select(Ticket).where(Ticket.channel == Channel.WEB))).all()
    await page.go_back()
    await page.wait_for_load_state()
    assert page.url == form
    assert await page.input_value("#text") == "" and await page.input_value("#location") == ""
    assert await page.input_value("#phone") == "13900000111"  # who they are stays, for a next case
    note = await page.inner_text("#filed-note")
    assert await page.is_visible("#filed-note") and filed.number in note and "查看办理进度" in note
    box = await page.locator("#filed-note").bounding_box()  # in view, though the back button kept the old scroll
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
    await page.click("#filed-note a")
    await page.wait_for_url(tracking)
    assert filed.number in await page.inner_text("h1")
    await page.go_back()
    await page.wait_for_load_state()
    await page.tap("button[type=submit]")  # the empty form asks for words, nothing is filed twice
    assert await page.evaluate("document.querySelector('#text').validationMessage") == "请写几句话，说明发生了什么。"
    async with site.db.session() as s:
        assert len((await s.exec(select(Ticket).where(Ticket.channel == Channel.WEB))).all()) == 1
    await page.fill("#text", "3号楼东边路灯不亮了，晚上黑乎乎的")  # another matter is filed as usual
    await page.tap("button[type=submit]")
    await page.wait_for_url(re.compile(r"/t/[A-Za-z0-9_-]{22}\?new=1$"))
    assert page.url.split("?")[0] != tracking
    await ctx.close()


async def test_unsatisfied_on_the_tracking_page_with_words_reaches_the_desk(site, browser) -> None:  # noqa: F811
    """不满意 on the tracking page, with what is still wrong written beside it: the words go under the unit's card
    (as a typed rating's do in chat), and the page says the case was reopened and sent up."""
    ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(f"{base(site)}/s/A03")
    await page.fill("#text", "楼上天天晚上装修，吵得睡不着")
    await page.fill("#location", "9号楼2单元")
    await page.tap("button[type=submit]")
    await page.wait_for_url(re.compile(r"/t/[A-Za-z0-9_-]{22}\?new=1$"))
    url = page.url.split("?")[0]
    async with site.db.transaction() as s:
        t = (await s.exec(select(Ticket).where(Ticket.channel == Channel.WEB))).one()
        for step in (TicketStatus.SIGNED, TicketStatus.IN_PROGRESS):
            assert (await lifecycle.transition(s, t, step, actor="staff:1", now=site.clock())).ok
        assert (await lifecycle.transition(s, t, TicketStatus.RESOLVED, actor="staff:1", now=site.clock(),
                                           result="已提醒楼上住户")).ok
        number = t.number
    await site.barrier()
    await page.goto(url)
    cursor = site.emulator.cursor()
    await page.fill("#comment", "还是每天晚上十点以后在敲")
    await page.tap("button[value=u]")
    await page.wait_for_url(re.compile(r"\?rated=u$"))
    assert "很抱歉没有让您满意" in await page.inner_text("main")
    said = await site.emulator.wait_for(JUWEIHUI, "还是每天晚上十点以后在敲", after=cursor, timeout=WAIT)
    assert number in said.text
    await ctx.close()
