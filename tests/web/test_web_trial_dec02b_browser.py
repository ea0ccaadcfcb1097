"""The 服务码 form in a real headless Chromium on a phone-sized screen (helper `trial`, 2 December): the back
button after filing. Fixtures are the browser tests' own (``test_web_browser``)."""

from __future__ import annotations

import re

from sqlmodel import select
from test_web_browser import PHONE, base, browser, pytestmark, site  # noqa: F401  (fixtures, chromium or skip)

from storage.models import Channel, Ticket

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
