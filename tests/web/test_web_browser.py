"""The web side in a real headless Chromium (Debian's ``chromium`` driven by Playwright, never ``playwright
install``), against the real bot polling the Bot API emulator with the web server in the bot's own process:

* a resident files on the 服务码 page from a phone-sized screen with JavaScript off, follows the case to 办结 and
  rates it; the desk's card arrives in the unit's chat with the photo;
* staff sign in as a Telegram Mini App (init data in the URL fragment) and sign for the case from the board, and
  the chat card shows it; staff sign in with the one-time link ``/web`` gives them and resolve the case;
* the pages' Chinese is drawn with real glyphs (no tofu boxes), checked on the rendered text.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from PIL import Image
from sqlmodel import select

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None,
    reason="needs Debian's chromium at /usr/bin/chromium and playwright (apt-get install chromium; .ci/run does)")]

if "linli_e2e" not in sys.modules:  # the e2e helpers (emulator fixtures, Bot, Clock), loaded once by name
    _spec = importlib.util.spec_from_file_location("linli_e2e", Path(__file__).parents[1] / "e2e" / "conftest.py")
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["linli_e2e"] = _module
    _spec.loader.exec_module(_module)

from linli_e2e import (  # noqa: E402
    JUWEIHUI,
    LEVEL_CHATS,
    STAFF_CHAT_ID,
    TOKEN,
    UNIT_CHATS,
    WAIT,
    ZHANG,
    Bot,
    Clock,
    bot_settings,
    community_with_chats,
)

from bot import jobs, web_wiring  # noqa: E402
from bot.app import build_application, start_polling, stop_polling  # noqa: E402
from bot.emulator import BotApiEmulator, Limits  # noqa: E402
from services import SHANGHAI  # noqa: E402
from services.web import auth  # noqa: E402
from storage.models import Channel, Ticket, TicketStatus  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
SHOTS = Path(__file__).parents[2] / "var" / "screenshots"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Bot]:
    """The desk (unit and escalation chats, staff with roles) with the web side on a free port."""
    emulator = BotApiEmulator(bot_username="linli_bot")
    await emulator.start()
    emulator.set_limits(Limits.off())
    emulator.group(STAFF_CHAT_ID, "金桂社区工作人员群", bot_is_admin=True)
    for chat in (*UNIT_CHATS.values(), *LEVEL_CHATS.values()):
        emulator.group(chat, f"群{chat}", bot_is_admin=True)
    emulator.user(ZHANG, "张主任")
    clock = Clock(datetime(2026, 3, 17, 10, 0, tzinfo=SHANGHAI))
    settings = bot_settings(emulator, tmp_path / "linli.db", community_file=community_with_chats(tmp_path),
                            web_port=0)
    app = build_application(settings, clock=clock, rate_limited=False, serve_web=True)
    since = emulator.polls
    await start_polling(app)
    for job in app.job_queue.get_jobs_by_name(jobs.DESK_JOB):
        job.schedule_removal()
    try:
        await emulator.wait_for_poll(since=since, timeout=WAIT)
        bot = Bot(app, emulator, clock)
        await bot.grant(ZHANG, "staff", "juweihui")
        yield bot
    finally:
        await stop_polling(app)
        await emulator.stop()


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            await b.close()


def base(bot: Bot) -> str:
    return bot.app.bot_data[web_wiring.SERVER].url


TOFU_CHECK = """
(chars) => {
  const canvas = document.createElement('canvas');
  canvas.width = 48; canvas.height = 48;
  const g = canvas.getContext('2d', {willReadFrequently: true});
  const family = getComputedStyle(document.body).fontFamily;
  const draw = (ch) => {
    g.clearRect(0, 0, 48, 48); g.fillStyle = '#000'; g.font = '36px ' + family; g.fillText(ch, 4, 38);
    return Array.from(g.getImageData(0, 0, 48, 48).data).join(',');
  };
  const blank = draw(' ');
  const notdef = [draw('\\u0378'), draw('\\uFFFF')];  // unassigned: drawn as the missing-glyph box, or nothing
  return chars.filter((ch) => { const d = draw(ch); return d === blank || notdef.includes(d); });
}
"""


async def assert_no_tofu(browser, context, page, name: str) -> None:
    """Every Chinese character on the page is drawn with a real glyph (not the missing-glyph box), in the page's
    own fonts; the check is shown to catch tofu first. The screenshot is kept under var/screenshots."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    with Image.open(io.BytesIO(shot)) as im:
        assert im.convert("L").getextrema()[0] < 100  # dark ink on the page: something was drawn
    text = await page.inner_text("body")
    chars = sorted({ch for ch in text if ord(ch) > 0x2E7F})
    assert chars, "no Chinese on the page"
    checker = await browser.new_context(viewport=PHONE)  # JavaScript on, the same cookies, the same page
    await checker.add_cookies(await context.cookies())
    probe = await checker.new_page()
    await probe.goto(page.url)
    assert await probe.evaluate(TOFU_CHECK, ["\u0378"]) == ["\u0378"]  # the check does catch tofu
    missing = await probe.evaluate(TOFU_CHECK, chars)
    await checker.close()
    assert missing == [], f"drawn as boxes on {name}: {''.join(missing)}"


def png(colour: str = "orange") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(buf, "PNG")
    return buf.getvalue()


async def file_without_js(bot: Bot, browser) -> tuple[str, str]:
    """A resident files from a phone with JavaScript off; returns the tracking URL and the case number."""
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False, is_mobile=True,
                                        device_scale_factor=2, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{base(bot)}/s/A03")
    await page.fill("#text", "9号楼楼上天天晚上装修，吵得睡不着")
    await page.fill("#location", "9号楼2单元")
    await page.fill("#phone", "13812345678")
    await page.set_input_files("#photo", files=[{"name": "p.png", "mimeType": "image/png", "buffer": png()}])
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r"/t/[A-Za-z0-9_-]{22}\?new=1$"))
    assert "已提交" in await page.inner_text("body")
    number = re.search(r"LL-\d{8}-\d{4}", await page.inner_text("h1"))[0]
    url = page.url.split("?")[0]
    await context.close()
    return url, number


async def test_a_resident_files_from_a_phone_without_javascript_and_rates_after_banjie(site: Bot, browser) -> None:
    ctx = await browser.new_context(viewport=PHONE, java_script_enabled=False, is_mobile=True, locale="zh-CN")
    form = await ctx.new_page()
    await form.goto(f"{base(site)}/s/A03")
    await assert_no_tofu(browser, ctx, form, "intake-form")
    await ctx.close()
    cursor = site.emulator.cursor()
    url, number = await file_without_js(site, browser)
    card = await site.emulator.wait_for(JUWEIHUI, number, after=cursor, timeout=WAIT)
    assert card.photo is not None and "服务码" in card.body  # the photo on the card, the channel named
    async with site.db.session() as s:
        t = (await s.exec(select(Ticket).where(Ticket.number == number))).one()
    assert t.channel is Channel.WEB and t.photos == [card.photo]
    # the desk works the case in chat, as always
    sign = next(b for b in card.buttons if b.text == "签收")
    await site.emulator.press(ZHANG, card.message_id, sign.callback_data, chat_id=JUWEIHUI)
    await site.barrier()
    async with site.db.session() as s:
        t = (await s.exec(select(Ticket).where(Ticket.number == number))).one()
    assert t.status is TicketStatus.SIGNED
    ctx = await browser.new_context(viewport=PHONE, java_script_enabled=False, is_mobile=True, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(url)
    assert "已签收" in await page.inner_text("body")
    from services.cases import lifecycle

    async with site.db.transaction() as s:
        row = (await s.exec(select(Ticket).where(Ticket.number == number))).one()
        await lifecycle.transition(s, row, TicketStatus.IN_PROGRESS, actor=f"staff:{ZHANG}", now=site.clock())
        await lifecycle.transition(s, row, TicketStatus.RESOLVED, actor=f"staff:{ZHANG}", now=site.clock(),
                                   result="已协调楼上住户，晚上八点后不再施工")
    await page.goto(url)
    body = await page.inner_text("body")
    assert "已办结" in body and "晚上八点后不再施工" in body and "满意吗" in body
    photo = await page.request.get(f"{url}/photo/0")
    assert photo.status == 200 and photo.headers["content-type"] == "image/jpeg"
    await assert_no_tofu(browser, ctx, page, "tracking-resolved")
    await page.click("button[value=s]")
    await page.wait_for_url(re.compile(r"\?rated=1$"))
    body = await page.inner_text("body")
    assert "感谢您的评价" in body and "满意" in body and "已关闭" in body
    await ctx.close()


async def test_staff_sign_in_as_a_mini_app_and_sign_for_the_case_seen_in_the_chat_card(site: Bot, browser) -> None:
    cursor = site.emulator.cursor()
    _, number = await file_without_js(site, browser)
    card = await site.emulator.wait_for(JUWEIHUI, number, after=cursor, timeout=WAIT)
    await site.barrier()
    fields = {"query_id": "AAHtest", "user": json.dumps({"id": ZHANG, "first_name": "张主任"}, ensure_ascii=False),
              "auth_date": str(int(site.clock().timestamp()))}
    fields["hash"] = auth.sign_init_data(fields, TOKEN)
    fragment = "tgWebAppData=" + quote(urlencode(fields), safe="") + "&tgWebAppVersion=8.0&tgWebAppPlatform=ios"
    ctx = await browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(f"{base(site)}/app#{fragment}")  # its script posts the init data, then lands on /board
    await page.wait_for_function("location.pathname === '/board' && document.readyState === 'complete'")
    cookies = {c["name"]: c for c in await ctx.cookies()}
    assert cookies["linli_session"]["httpOnly"] and cookies["linli_session"]["sameSite"] == "Lax"
    assert "红黄绿" in await page.inner_text("body")
    await assert_no_tofu(browser, ctx, page, "board")
    await page.goto(f"{base(site)}/board/cases/{number}")
    assert "13812345678" in await page.inner_text("body")  # the desk that handles it sees the phone
    edits = site.emulator.cursor()
    await page.click("form[action$='/sign'] button")
    await page.wait_for_url(re.compile(r"done=sign$"))
    assert "已签收" in await page.inner_text("body")
    edited = await site.emulator.wait_for_edit(JUWEIHUI, card.message_id, "已签收", after=edits, timeout=WAIT)
    assert "签收" not in [b.text for b in edited.buttons]  # the card redrawn: no 签收 button any more
    # a forged init data signs nobody in
    forged = dict(fields, user=json.dumps({"id": 4242, "first_name": "x"}))
    other = await browser.new_context()
    p2 = await other.new_page()
    await p2.goto(f"{base(site)}/app#tgWebAppData=" + quote(urlencode(forged), safe=""))
    await p2.wait_for_function("location.pathname === '/auth/webapp' && document.readyState === 'complete'")
    assert "登录失败" in await p2.inner_text("body")
    await other.close()
    await ctx.close()


async def test_staff_sign_in_with_the_one_time_link_from_web_and_resolve(site: Bot, browser) -> None:
    cursor = site.emulator.cursor()
    _, number = await file_without_js(site, browser)
    card = await site.emulator.wait_for(JUWEIHUI, number, after=cursor, timeout=WAIT)
    reply = await site.person(ZHANG).say("/web")
    link = re.search(r"http://127\.0\.0\.1:\d+/login/[A-Za-z0-9_-]{22}", reply.body)[0]
    resident = await site.person(1001, "居民").say("/web")
    assert "只对社区工作人员开放" in resident.body
    ctx = await browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(link)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r"/board$"))
    await page.goto(f"{base(site)}/board/cases/{number}")
    await page.click("form[action$='/sign'] button")
    await page.wait_for_url(re.compile(r"done=sign$"))
    edits = site.emulator.cursor()
    await page.fill("#result", "已上门协调，施工时间改为白天")
    await page.click("form[action$='/resolve'] button")
    await page.wait_for_url(re.compile(r"done=resolve$"))
    await site.emulator.wait_for_edit(JUWEIHUI, card.message_id, "已办结", after=edits, timeout=WAIT)
    # the link was used: a second browser cannot use it again
    again = await browser.new_context()
    p2 = await again.new_page()
    await p2.goto(link)
    await p2.click("button[type=submit]")
    assert "已失效" in await p2.inner_text("body")
    await again.close()
    await ctx.close()


async def test_a_resident_claims_the_web_case_in_the_bot(site: Bot, browser) -> None:
    url, number = await file_without_js(site, browser)
    token = url.rsplit("/", 1)[1]
    reply = await site.person(1001, "李阿姨").say(f"/start t-{token}")
    assert number in reply.body and "已关联" in reply.body
    async with site.db.session() as s:
        t = (await s.exec(select(Ticket).where(Ticket.number == number))).one()
    assert (await site.resident(1001)).id == t.resident_id
    other = await site.person(1002, "王").say(f"/start t-{token}")
    assert "其他账号认领" in other.body



async def test_a_resident_withdraws_from_the_tracking_page_after_confirming(site: Bot, browser) -> None:
    """撤回 on a phone with JavaScript on: the first tap only asks (htmx swaps the question in), 确认撤回 withdraws
    through the bot's rule; the page says 已撤回 with no button left, and the desk's card is redrawn as in chat."""
    cursor = site.emulator.cursor()
    url, number = await file_without_js(site, browser)
    card = await site.emulator.wait_for(JUWEIHUI, number, after=cursor, timeout=WAIT)
    await site.barrier()
    ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3,
                                    locale="zh-CN")
    page = await ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await page.goto(url)
    button = page.get_by_role("button", name="撤回诉求")
    box = await button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44  # a finger can hit it
    await button.tap()
    confirm = page.get_by_role("button", name="确认撤回")
    await confirm.wait_for()
    assert page.url == url  # htmx asked in place, no page load
    assert "确定撤回工单" in await page.inner_text("#withdraw")
    async with site.db.session() as s:
        t = (await s.exec(select(Ticket).where(Ticket.number == number))).one()
    assert t.status is TicketStatus.DISPATCHED  # one tap withdraws nothing
    await assert_no_tofu(browser, ctx, page, "tracking-withdraw-ask")
    edits = site.emulator.cursor()
    await confirm.tap()
    await page.wait_for_url(re.compile(r"\?withdrawn=1$"))
    body = await page.inner_text("body")
    assert f"工单 {number} 已撤回" in body and "已撤回" in await page.inner_text(".facts")
    assert await page.get_by_role("button", name="撤回诉求").count() == 0
    assert await page.get_by_role("button", name="确认撤回").count() == 0
    assert dialogs == []
    async with site.db.session() as s:
        t = (await s.exec(select(Ticket).where(Ticket.number == number))).one()
    assert t.status is TicketStatus.WITHDRAWN
    await site.emulator.wait_for_edit(JUWEIHUI, card.message_id, "已撤回", after=edits, timeout=WAIT)
    await site.emulator.wait_for(JUWEIHUI, f"居民已撤回工单 {number}", after=edits, timeout=WAIT)
    # the back button and a second post: answered politely, nothing changes
    answer = await page.request.post(f"{url}/withdraw", form={"confirm": "yes"})
    assert answer.status == 409 and "已经撤回了" in await answer.text()
    await page.reload()
    assert await page.get_by_role("button", name="撤回诉求").count() == 0
    await ctx.close()


READABLE = """
() => {
  const small = [], taps = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || el.closest('.hp') || !el.getClientRects().length) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 16) small.push(`${size}px ${walker.currentNode.textContent.trim().slice(0, 20)}`);
  }
  for (const el of document.querySelectorAll('a, button, input, select, textarea')) {
    const r = el.getBoundingClientRect();
    if (el.closest('.hp') || !r.width) continue;
    const size = `${Math.round(r.width)}x${Math.round(r.height)}`;
    if (r.height < 44 || r.width < 44) taps.push(`${size} ${el.outerHTML.slice(0, 40)}`);
  }
  return {small, taps};
}
"""


async def test_an_older_resident_on_a_phone_reads_large_type_taps_once_and_loses_nothing(site: Bot, browser) -> None:
    """The phone trial kept as a test: every word 16px or more and every tap 44px on the form, its mistakes and the
    tracking page; the draft survives a reload; the browser's bubble speaks Chinese; a double tap files once; the
    back button after filing (even after a mistake) shows the empty form, not the browser's resubmission error."""
    ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3,
                                    locale="zh-CN")
    page = await ctx.new_page()
    form = f"{base(site)}/s/A03"
    await page.goto(form)
    assert await page.evaluate(READABLE) == {"small": [], "taps": []}
    await page.tap("button[type=submit]")  # nothing written yet: the browser asks, in Chinese
    assert await page.evaluate("document.querySelector('#text').validationMessage") == "请写几句话，说明发生了什么。"
    await page.fill("#text", "3号楼2单元楼道灯坏了好几天了晚上黑乎乎的老人下楼看不见 差点摔到")
    await page.fill("#location", "3号楼2单元")
    await page.reload()
    assert await page.input_value("#text") == "3号楼2单元楼道灯坏了好几天了晚上黑乎乎的老人下楼看不见 差点摔到"
    assert await page.input_value("#location") == "3号楼2单元"
    await page.fill("#phone", "138 1234 567")  # a digit short
    await page.tap("button[type=submit]")
    await page.wait_for_selector(".errors")
    assert "例如 13812345678" in await page.inner_text(".errors")
    assert await page.evaluate(READABLE) == {"small": [], "taps": []}
    await assert_no_tofu(browser, ctx, page, "intake-mistake-phone")
    await page.fill("#phone", "138-1234-5678")
    await page.dblclick("button[type=submit]")  # an unsteady double tap
    await page.wait_for_url(re.compile(r"/t/[A-Za-z0-9_-]{22}\?new=1$"))
    async with site.db.session() as s:
        filed = (await s.exec(select(Ticket).where(Ticket.channel == Channel.WEB))).all()
    assert [(t.location, t.contact_phone) for t in filed] == [("3号楼2单元", "13812345678")]
    assert await page.evaluate(READABLE) == {"small": [], "taps": []}
    await page.reload()
    assert "已提交" in await page.inner_text("body")
    await page.go_back()  # the form again, empty: the draft went with the filed case
    await page.wait_for_load_state()
    assert page.url == form and await page.input_value("#text") == "" and await page.query_selector(".errors") is None
    await ctx.close()
