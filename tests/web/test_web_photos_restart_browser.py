"""`make run` again: a case filed on the 服务码 page with a photo keeps showing it on its page after the demo restarts
(in a real headless Chromium). The demo's Bot API is the built-in emulator, started afresh each run: it kept the
files in memory and numbered them from 1 again, so the case's file_id opened nothing (the photo 404) or, worse,
another run's file. It keeps them beside the demo's database (``bot.console.files_dir``) as Telegram keeps its
own. Fixtures are the browser tests' own (``test_web_browser``)."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import httpx
from PIL import Image
from test_web_browser import (  # noqa: F401  (fixtures; chromium or skip)
    PHONE,
    STAFF_CHAT_ID,
    WAIT,
    Clock,
    bot_settings,
    browser,
    community_with_chats,
    png,
    pytestmark,
)

from bot import jobs, web_wiring
from bot.app import build_application, start_polling, stop_polling
from bot.console import files_dir
from bot.emulator import BotApiEmulator, Limits
from services import SHANGHAI


@asynccontextmanager
async def demo_run(tmp_path: Path, clock: Clock) -> AsyncIterator[str]:
    """One run of the demo: a fresh emulator (as `make run` starts one) and the bot with its web side, over the
    same database file; yields the web side's address."""
    db_file = tmp_path / "var" / "linli.db"
    db_file.parent.mkdir(exist_ok=True)
    emulator = BotApiEmulator(bot_username="linli_bot", files_dir=files_dir(f"sqlite+aiosqlite:///{db_file}"))
    await emulator.start()
    emulator.set_limits(Limits.off())
    emulator.group(STAFF_CHAT_ID, "金桂社区工作人员群", bot_is_admin=True)
    settings = bot_settings(emulator, db_file, community_file=community_with_chats(tmp_path), web_port=0)
    app = build_application(settings, clock=clock, rate_limited=False, serve_web=True)
    since = emulator.polls
    await start_polling(app)
    for job in app.job_queue.get_jobs_by_name(jobs.DESK_JOB):
        job.schedule_removal()
    try:
        await emulator.wait_for_poll(since=since, timeout=WAIT)
        yield app.bot_data[web_wiring.SERVER].url
    finally:
        await stop_polling(app)
        await emulator.stop()


async def test_a_cases_photo_shows_after_the_demo_restarts(tmp_path: Path, browser) -> None:  # noqa: F811
    clock = Clock(datetime(2026, 3, 17, 10, 0, tzinfo=SHANGHAI))
    photo = png("teal")
    async with demo_run(tmp_path, clock) as base:
        ctx = await browser.new_context(viewport=PHONE, java_script_enabled=False, is_mobile=True, locale="zh-CN")
        page = await ctx.new_page()
        await page.goto(f"{base}/s/A03")
        await page.fill("#text", "9号楼门口的下水道堵了，污水漫到路上")
        await page.fill("#location", "9号楼门口")
        await page.set_input_files("#photo", files=[{"name": "p.png", "mimeType": "image/png", "buffer": photo}])
        await page.click("button[type=submit]")
        await page.wait_for_url(re.compile(r"/t/[A-Za-z0-9_-]{22}\?new=1$"))
        path = page.url.split("?")[0].removeprefix(base)
        await ctx.close()
    async with demo_run(tmp_path, clock) as base:  # `make run` again: a new emulator, the same var/
        ctx = await browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
        page = await ctx.new_page()
        await page.goto(f"{base}{path}")
        img = page.locator("p.photos img").first
        await img.wait_for()
        width = await img.evaluate("(el) => el.complete ? el.naturalWidth : new Promise((ok) => "
                                   "{ el.onload = () => ok(el.naturalWidth); el.onerror = () => ok(0); })")
        assert width == 320  # the resident's photo (re-encoded, same size), drawn on the page
        await ctx.close()
        async with httpx.AsyncClient() as client:
            r = await client.get(f"{base}{path}/photo/0")
        assert r.status_code == 200
        with Image.open(io.BytesIO(r.content)) as im:
            assert im.size == (320, 240) and im.convert("RGB").getpixel((10, 10))[1] > 100  # teal, not another file
