"""Notices through the real bot and the Bot API emulator: /grant, /notice preview → 确认发送 / 取消,
delivery at Telegram's pace under the emulator's real flood limits (429s rescheduled, a blocked
resident unreachable), and refusals (a resident's /notice, forged or foreign buttons)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from linli_e2e import STAFF_CHAT_ID, WAIT, Bot, Clock, Person, bot_settings
from sqlmodel import select
from telegram.ext import CommandHandler

from bot import jobs
from bot import sender as notice_sender
from bot.app import build_application, start_polling, stop_polling
from bot.emulator import BotApiEmulator, Limits, SentMessage
from handlers import texts
from handlers.grid import notices as notice_handlers
from storage.models import DeliveryStatus, Notice, NoticeDelivery, NoticeStatus, Resident

ADMIN, WORKER = 9001, 8001
RESIDENTS = list(range(20_001, 20_051))  # 50 residents of grid A03
LONG = 30.0  # a broadcast under real flood limits takes a few seconds


@pytest.fixture
async def desk(emulator: BotApiEmulator, tmp_path: Path, clock: Clock,
               monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    monkeypatch.setenv("LINLI_ADMINS", str(ADMIN))
    emulator.set_limits(Limits.off())
    emulator.group(STAFF_CHAT_ID, "金桂社区工作人员群")
    app = build_application(bot_settings(emulator, tmp_path / "linli.db"), clock=clock)
    wired = any(isinstance(h, CommandHandler) and "notice" in h.commands
                for h in app.handlers.get(notice_handlers.GROUP, []))
    if not wired:  # until the router registers it
        notice_handlers.register(app)
    since = emulator.polls
    await start_polling(app)
    for job in app.job_queue.get_jobs_by_name(jobs.DESK_JOB):
        job.schedule_removal()
    try:
        await emulator.wait_for_poll(since=since, timeout=WAIT)
        bot = Bot(app, emulator, clock)
        async with bot.db.transaction() as s:
            for i, uid in enumerate(RESIDENTS):
                emulator.user(uid, f"居民{i}")
                s.add(Resident(tg_user_id=uid, name=f"居民{i}", grid_code="A03",
                               building="9号楼" if i < 10 else "10号楼", created_at=clock(), updated_at=clock()))
        yield bot
    finally:
        await notice_sender.close(app)
        await stop_polling(app)


async def worker(bot: Bot) -> Person:
    admin = bot.person(ADMIN, "社区书记")
    await admin.say(f"/grant {WORKER} gridworker A03", texts.role_granted(WORKER, "gridworker", "A03", True))
    return bot.person(WORKER, "李秀英")


async def compose(bot: Bot, person: Person, kind: str, text: str, audience: str) -> SentMessage:
    """/notice → kind → text → audience; returns the preview message."""
    menu = await person.say("/notice", texts.NOTICE_CHOOSE_KIND)
    pressed = await person.press(menu, texts.NOTICE_KINDS[kind])
    await pressed.edit(texts.notice_ask_text(kind))
    choose = await person.say(text, texts.NOTICE_CHOOSE_AUDIENCE)
    pressed = await person.press(choose, audience)
    return await pressed.edit("通知预览")


async def deliveries(bot: Bot) -> dict[int, DeliveryStatus]:
    async with bot.db.session() as s:
        return {d.tg_user_id: d.status for d in (await s.exec(select(NoticeDelivery))).all()}


async def test_preview_confirm_and_cancel(desk: Bot) -> None:
    li = await worker(desk)
    await desk.barrier()
    async with desk.db.transaction() as s:
        muted = RESIDENTS[0]
        from services.notices.broadcast import mute

        await mute(s, muted, desk.clock())
    preview = await compose(desk, li, "general", "周六上午9点在小区广场义诊", "9号楼")
    assert "收件居民：9 人" in preview.body  # ten in 9号楼, one muted
    assert [b.text for b in preview.buttons] == [texts.BTN_NOTICE_SEND, texts.BTN_NOTICE_SCHEDULE,
                                                 texts.BTN_NOTICE_CANCEL]
    await desk.barrier()
    assert desk.emulator.messages_after(RESIDENTS[1], 0) == []  # nothing before 确认发送
    send_data = next(b.callback_data for b in preview.buttons if b.text == texts.BTN_NOTICE_SEND)

    pressed = await li.press(preview, texts.BTN_NOTICE_SEND)
    report = await li.reply(texts.notice_report(9, 9, 0, 0), after=pressed.cursor)
    assert report
    for uid in RESIDENTS[1:10]:
        [got] = desk.emulator.messages_after(uid, 0)
        assert got.body == texts.notice_message("general", "周六上午9点在小区广场义诊")
    assert desk.emulator.messages_after(muted, 0) == []
    assert desk.emulator.message(WORKER, preview.message_id).body == texts.notice_report(9, 9, 0, 0)

    # a second press of 确认发送 (a double tap) materialises nothing again
    again = await li.press(preview, "", forge_data=send_data)
    await again.edit(texts.NOTICE_GONE)
    assert len(await deliveries(desk)) == 9

    # urgent kinds reach the muted resident; 取消 sends nothing
    preview = await compose(desk, li, "outage", "9号楼明天9:00-12:00停水", "9号楼")
    assert "收件居民：10 人" in preview.body and "紧急通知" in preview.body
    cursor = desk.emulator.cursor()
    pressed = await li.press(preview, texts.BTN_NOTICE_CANCEL)
    await pressed.edit(texts.NOTICE_CANCELLED)
    await desk.barrier()
    assert desk.emulator.messages_after(muted, cursor) == []
    async with desk.db.session() as s:
        statuses = [n.status for n in (await s.exec(select(Notice).order_by(Notice.id))).all()]
    assert statuses == [NoticeStatus.DONE, NoticeStatus.CANCELLED]


async def test_broadcast_under_real_flood_limits(desk: Bot) -> None:
    li = await worker(desk)
    blocked = RESIDENTS[7]
    desk.emulator.block(blocked)
    await desk.barrier()
    grid = texts.notice_grid("A03", "第三网格")
    preview = await compose(desk, li, "council", "本周四晚7点议事会，议题：加装电梯", grid)
    assert "收件居民：50 人" in preview.body
    # Telegram's real limits (30/s overall, burst 30); the sender is made to push harder than that so the
    # emulator answers some sends with 429 retry_after, which must be rescheduled, not lost or doubled.
    desk.emulator.set_limits(Limits())
    desk.app.bot_data[notice_sender.PACER_KEY] = notice_sender.Pacer(per_second=100.0)
    pressed = await li.press(preview, texts.BTN_NOTICE_SEND)
    report = await desk.emulator.wait_for(WORKER, "通知发送完毕", after=pressed.cursor, timeout=LONG)
    assert report.body == texts.notice_report(50, 49, 1, 0)
    stats = desk.emulator.stats
    assert stats.too_many_requests > 0
    assert stats.forbidden[blocked] >= 1
    for uid in RESIDENTS:
        assert stats.delivered[uid] == (0 if uid == blocked else 1), uid  # each once, never twice
    states = await deliveries(desk)
    assert states.pop(blocked) is DeliveryStatus.UNREACHABLE
    assert set(states.values()) == {DeliveryStatus.SENT}
    history = [v.text for v in desk.emulator.message(WORKER, preview.message_id).history]
    assert any(t and t.startswith("正在发送") for t in history)
    assert history[-1] == texts.notice_report(50, 49, 1, 0)


async def test_residents_and_forged_buttons_are_refused(desk: Bot) -> None:
    resident = desk.person(RESIDENTS[0])
    refusal = await resident.say("/notice", texts.NOTICE_REFUSED)
    await resident.say(f"/grant {RESIDENTS[0]} admin", texts.GRANT_REFUSED)
    await resident.say("/mute", texts.NOTICE_MUTED)
    await resident.say("/unmute", texts.NOTICE_UNMUTED)

    li = await worker(desk)
    preview = await compose(desk, li, "signup", "周日亲子活动报名", "10号楼")
    send_data = next(b.callback_data for b in preview.buttons if b.text == texts.BTN_NOTICE_SEND)

    forged = await resident.press(refusal, "", forge_data="1|nc|1|AAAAAAAA")
    assert (await forged.answer()).text == texts.STALE_BUTTON
    foreign = await resident.press(refusal, "", forge_data=send_data)  # validly signed, not theirs
    assert (await foreign.answer()).text == texts.STALE_BUTTON
    await desk.barrier()
    async with desk.db.session() as s:
        [notice] = (await s.exec(select(Notice))).all()
    assert notice.status is NoticeStatus.DRAFT
    assert await deliveries(desk) == {}
    assert all(desk.emulator.messages_after(uid, 0) == [] for uid in RESIDENTS[1:])
