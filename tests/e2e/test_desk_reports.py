"""Figures in chat through the real bot: ``/report`` in its good and bad forms, the chart really sent as a PNG drawn
with the CJK font, and the 周调度/月评估/季研判 pushes going once and only once across restarts (demo clock)."""

from __future__ import annotations

from pathlib import Path

from linli_e2e import (
    JUWEIHUI,
    LEVEL_CHATS,
    NOISE,
    OTHER_GROUP,
    STAFF_CHAT_ID,
    UNIT_CHATS,
    WAIT,
    ZHANG,
    Bot,
    Clock,
    open_case,
    press,
    registered,
    running_desk,
)
from sqlmodel import select

from bot import jobs
from bot.emulator import BotApiEmulator, SentMessage
from handlers import texts
from handlers.desk import reports
from services.reports import charts
from storage.models import OutboxMessage, OutboxStatus, ReportChart, ReportRun

PNG = b"\x89PNG\r\n\x1a\n"
SUPERVISOR, UNIT_SUPERVISOR = 5101, 5102
DESKS = (STAFF_CHAT_ID, *UNIT_CHATS.values(), *LEVEL_CHATS.values())
WHOLE = (STAFF_CHAT_ID, *LEVEL_CHATS.values())  # the whole community's report; unit chats get their unit's


def png_of(bot: Bot, message: SentMessage) -> bytes:
    assert message.method == "sendPhoto" and message.photo, message
    return bot.emulator.files[message.photo].data


async def ask(bot: Bot, user: int, chat: int, text: str) -> list[SentMessage]:
    """Type ``text`` in ``chat``; everything the bot sent there once all is handled and sent."""
    cursor = bot.emulator.cursor()
    await bot.emulator.send_text(user, text, chat)
    await bot.emulator.wait_for(chat, None, after=cursor, timeout=WAIT)
    await bot.barrier()
    return bot.emulator.messages_after(chat, cursor)


async def test_report_in_a_desk_chat_text_and_chart(desk: Bot) -> None:
    person = await registered(desk, 2001)
    _, _, card = await open_case(desk, person)
    await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_SIGN)
    unit = desk.deps.community.unit("juweihui")

    # in the unit's chat the unit's own report: every figure with numerator/denominator, "—" when empty
    said, chart = await ask(desk, ZHANG, JUWEIHUI, "/report week")
    assert said.text.startswith(f"📊 {texts.REPORT_KIND['week']}｜{unit.name}\n2026年第12周")
    assert "（进行中）" in said.text and "较上期即与2026年第11周（03.09–03.15）相比" in said.text
    assert "· 受理 1，较上期 +1" in said.text
    assert "· 响应率 100.0%（1/1）" in said.text
    assert "· 按时办结率 —（0/0）" in said.text and "· 满意率 —（0/0）" in said.text
    assert "1小时内 100.0%（1/1）" in said.text and "· 当前在办：🔴0 🟡0 🟢1" in said.text
    assert "· 逾期未答复的督办：0 件" in said.text and texts.REPORT_SECTION["grid"] in said.text
    assert chart.caption == texts.report_chart_caption("周调度", unit.name, "2026年第12周（03.16–03.22）")
    data = png_of(desk, chart)
    assert data.startswith(PNG) and len(data) > 10_000
    assert chart.raw["photo"][-1]["width"] >= 800  # the emulator read the PNG's real size

    # the staff chat: the whole community, a month with its trend chart
    said, chart, trend = await ask(desk, ZHANG, STAFF_CHAT_ID, "/report month")
    assert said.text.startswith(f"📊 月评估｜{desk.deps.community.name}\n2026年3月（进行中）")
    assert texts.REPORT_SECTION["unit"] in said.text and f"· {unit.name}：受理 1" in said.text
    assert texts.report_trend_title(6) in said.text  # the five months before the first case: one line
    assert texts.report_trend_nothing("2025-10", "2026-02") in said.text and "· 2025-10：受理 0" not in said.text
    assert trend.caption == texts.report_trend_caption("月评估", desk.deps.community.name, 6)
    assert png_of(desk, chart).startswith(PNG) and png_of(desk, trend).startswith(PNG)

    # a named unit or grid, a period by its label, Chinese words
    said, _ = await ask(desk, ZHANG, STAFF_CHAT_ID, "/report lastweek wuye")
    assert said.text.startswith(f"📊 周调度｜{desk.deps.community.unit('wuye').name}\n2026年第11周（03.09–03.15），")
    assert "· 受理 0，较上期 +0\n" in said.text and "· 响应率 —（0/0）\n" in said.text
    said, *_ = await ask(desk, ZHANG, STAFF_CHAT_ID, "/report 2026-03 A03")
    assert said.text.startswith("📊 月评估｜第三网格（A03）") and "· 受理 1" in said.text
    said, _ = await ask(desk, ZHANG, JUWEIHUI, "/report 上周")
    assert "2026年第11周" in said.text

    # a bare /report is this week's (what staff expect), in the chat's own scope; a scope alone is this week's too
    said, _ = await ask(desk, ZHANG, JUWEIHUI, "/report")
    assert said.text.startswith(f"📊 周调度｜{unit.name}\n2026年第12周") and "（进行中）" in said.text
    said, *_ = await ask(desk, ZHANG, STAFF_CHAT_ID, "/report A03")
    assert said.text.startswith("📊 周调度｜第三网格（A03）\n2026年第12周")

    # the chart font is a CJK font with every glyph the charts use
    assert charts.cjk_font().is_file()
    assert charts.missing_glyphs("四率按时办结率满意率响应率首次响应用时小时件近期走势第三网格金桂社区居民委员会") == ""
    async with desk.db.session() as s:
        assert len((await s.exec(select(ReportChart))).all()) == 9  # one stored PNG per chart sent


async def test_report_bad_forms_are_answered_with_the_right_form(desk: Bot) -> None:
    async def refused(user: int, chat: int, text: str, expected: str) -> None:
        said = await ask(desk, user, chat, text)
        assert [m.text for m in said] == [expected], text

    usage = texts.REPORT_USAGE
    await refused(ZHANG, JUWEIHUI, "/report week wuye more", usage)
    await refused(ZHANG, JUWEIHUI, "/report fortnight", texts.report_bad_period(
        "无法识别的时间段 'fortnight'：月份写 2026-11，周写 2026-W48，季度写 2026Q4"))
    await refused(ZHANG, JUWEIHUI, "/report 2026-05", texts.report_bad_period(
        "时间段 2026-05 还没有开始（今天是 2026-03-17）"))
    await refused(ZHANG, JUWEIHUI, "/report 2026-W13", texts.report_bad_period(
        "时间段 2026-W13 还没有开始（今天是 2026-03-17）"))
    community = desk.deps.community
    await refused(ZHANG, JUWEIHUI, "/report week nowhere", texts.report_unknown_scope(
        "nowhere", [u.code for u in community.units], [g.code for g in community.grids]))
    await refused(ZHANG, OTHER_GROUP, "/report week", texts.STAFF_NOT_DESK)
    resident = desk.person(2002, "李阿姨")
    assert (await resident.say("/report week")).text == texts.REPORT_NO_ROLE
    async with desk.db.session() as s:
        assert not (await s.exec(select(OutboxMessage).where(OutboxMessage.text.startswith("📊")))).all()


async def test_supervisors_get_reports_in_their_private_chat_within_their_scope(desk: Bot) -> None:
    await desk.grant(SUPERVISOR, "supervisor")
    await desk.grant(UNIT_SUPERVISOR, "supervisor", "wuye")
    street = desk.person(SUPERVISOR, "纪工委")
    said = await ask(desk, SUPERVISOR, street.id, "/report quarter")
    assert said[0].text.startswith(f"📊 季研判｜{desk.deps.community.name}\n2026年第1季度（进行中）")
    assert [m.method for m in said] == ["sendMessage", "sendPhoto", "sendPhoto"]  # the report and its trend
    assert texts.report_trend_title(4) in said[0].text
    unit = desk.person(UNIT_SUPERVISOR, "物业督办")
    said = await ask(desk, UNIT_SUPERVISOR, unit.id, "/report week")  # their unit by default
    assert said[0].text.startswith(f"📊 周调度｜{desk.deps.community.unit('wuye').name}")
    said = await ask(desk, UNIT_SUPERVISOR, unit.id, "/report week juweihui")
    assert [m.text for m in said] == [texts.REPORT_OUT_OF_SCOPE]
    said = await ask(desk, UNIT_SUPERVISOR, unit.id, "/report week A03")
    assert [m.text for m in said] == [texts.REPORT_OUT_OF_SCOPE]


async def test_the_monday_push_reaches_supervisors_privately_within_their_scope(desk: Bot) -> None:
    from bot import jobs

    await desk.grant(SUPERVISOR, "supervisor")
    await desk.grant(UNIT_SUPERVISOR, "supervisor", "wuye")
    street, unit = desk.person(SUPERVISOR, "纪工委"), desk.person(UNIT_SUPERVISOR, "物业督办")
    await street.send("/start")
    await unit.send("/start")
    await desk.barrier()
    await reports.tick(desk.app)  # what was due at the first run is claimed (a new install sends no old news)
    await desk.barrier()
    desk.clock.set(2026, 3, 23, 8, 0)
    cursor = desk.emulator.cursor()
    await jobs.desk_tick(desk.app)
    await desk.barrier()
    got = {who.id: [m for m in who.replies(cursor) if (m.text or "").startswith("📊 周调度｜")]
           for who in (street, unit)}
    assert [m.text.split("\n", 1)[0] for m in got[SUPERVISOR]] == [f"📊 周调度｜{desk.deps.community.name}"]
    assert [m.text.split("\n", 1)[0] for m in got[UNIT_SUPERVISOR]] == [
        f"📊 周调度｜{desk.deps.community.unit('wuye').name}"]
    assert sorted(scheduled(desk, cursor, "week")) == sorted(DESKS)  # the desks get theirs as before


def scheduled(bot: Bot, after: int, kind: str) -> dict[int, list[SentMessage]]:
    """What each desk chat got of one kind of scheduled report: its text and the photos right after it."""
    found: dict[int, list[SentMessage]] = {}
    for chat in DESKS:
        messages = bot.emulator.messages_after(chat, after)
        for i, m in enumerate(messages):
            if m.text and m.text.startswith(f"📊 {texts.REPORT_KIND[kind]}｜"):
                found.setdefault(chat, []).append(m)
                found[chat] += [p for p in messages[i + 1:i + 3] if p.method == "sendPhoto"
                                and (p.caption or "").startswith(f"📈 {texts.REPORT_KIND[kind]}｜")]
    return found


async def runs(bot: Bot) -> list[tuple[str, str]]:
    async with bot.db.session() as s:
        return sorted((r.kind, r.period) for r in (await s.exec(select(ReportRun))).all())


async def test_monday_push_goes_once_across_restarts(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> None:
    # first run, Monday 16 March 09:00: last week's report is an hour old and goes, once; last month's and last
    # quarter's are long past on a new install: claimed, not sent
    clock.set(2026, 3, 16, 9, 0)
    async with running_desk(emulator, tmp_path, clock) as bot:
        number, _, _ = await open_case(bot, await registered(bot, 2001, "王阿姨"), NOISE)
        neighbour = await registered(bot, 2002, "赵大爷")  # the same noise: joins the case as a follower
        confirm = await neighbour.say(NOISE, lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
        assert number in (await neighbour.confirm(confirm, number)).text
        cursor = emulator.cursor()
        assert await reports.tick(bot.app) == 1
        await bot.barrier()
        assert await runs(bot) == [("month", "2026-02"), ("quarter", "2025Q4"), ("week", "2026-W11")]
        got = scheduled(bot, cursor, "week")
        assert sorted(got) == sorted(DESKS) and all(len(m) == 2 for m in got.values())  # text + chart each
        assert "2026年第11周（03.09–03.15），截至 3月16日 09:00" in got[STAFF_CHAT_ID][0].text
        assert got[JUWEIHUI][0].text.startswith(f"📊 周调度｜{bot.deps.community.unit('juweihui').name}")
        assert all(got[c][0].text.startswith(f"📊 周调度｜{bot.deps.community.name}") for c in WHOLE)
        assert scheduled(bot, cursor, "month") == scheduled(bot, cursor, "quarter") == {}
        assert await reports.tick(bot.app) == 0

        # Monday 23 March 07:59: not yet
        clock.set(2026, 3, 23, 7, 59)
        cursor = emulator.cursor()
        await jobs.desk_tick(bot.app)
        await bot.barrier()
        assert scheduled(bot, cursor, "week") == {}

        # 08:00: due, claimed and owed in one transaction, but Telegram fails and the bot stops before sending
        clock.set(2026, 3, 23, 8, 0)
        emulator.fail("sendMessage", 500, times=1000)
        cursor = emulator.cursor()
        await jobs.desk_tick(bot.app)
        assert ("week", "2026-W12") in await runs(bot)
        async with bot.db.session() as s:
            waiting = (await s.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING))).all()
        assert len([w for w in waiting if (w.text or "").startswith("📊 周调度")]) == len(DESKS)
    emulator.clear_faults()

    # restarted at 08:05: what was owed goes out, once; the tick owes nothing again
    clock.set(2026, 3, 23, 8, 5)
    async with running_desk(emulator, tmp_path, clock) as bot:
        await bot.barrier()
        got = scheduled(bot, cursor, "week")
        assert sorted(got) == sorted(DESKS) and all(len(m) == 2 for m in got.values())
        assert all("2026年第12周（03.16–03.22），截至 3月23日 08:00" in m[0].text for m in got.values())
        assert all(png_of(bot, m[1]).startswith(PNG) for m in got.values())
        assert "· 受理 1，较上期 +1" in got[STAFF_CHAT_ID][0].text  # the case of 16 March
        cursor = emulator.cursor()
        await jobs.desk_tick(bot.app)
        clock.set(2026, 3, 23, 9, 0)
        await jobs.desk_tick(bot.app)
        await bot.barrier()
        assert scheduled(bot, cursor, "week") == {}

    # down over the next Monday 08:00, started at 11:00: that week's report is not skipped, and goes once
    clock.set(2026, 3, 30, 11, 0)
    async with running_desk(emulator, tmp_path, clock) as bot:
        cursor = emulator.cursor()
        await jobs.desk_tick(bot.app)
        await jobs.desk_tick(bot.app)
        await bot.barrier()
        got = scheduled(bot, cursor, "week")
        assert sorted(got) == sorted(DESKS) and all(len(m) == 2 for m in got.values())
        assert "2026年第13周（03.23–03.29）" in got[STAFF_CHAT_ID][0].text

        # 1 April 08:00: 月评估 for March and 季研判 for the first quarter, with the trend and the repeated problem
        clock.set(2026, 4, 1, 8, 0)
        cursor = emulator.cursor()
        assert await reports.tick(bot.app) == 2
        await bot.barrier()
        month, quarter = scheduled(bot, cursor, "month"), scheduled(bot, cursor, "quarter")
        assert sorted(month) == sorted(quarter) == sorted(DESKS)
        assert all(len(m) == 3 for m in (*month.values(), *quarter.values()))  # text, chart, trend chart
        text = month[STAFF_CHAT_ID][0].text
        assert text.startswith(f"📊 月评估｜{bot.deps.community.name}\n2026年3月，截至 4月1日 08:00")
        assert texts.report_trend_title(6) in text and texts.REPORT_SECTION["problems"] in text
        # the case and its follower, the category named as on the cards and in /queue
        assert "· 噪音扰民·9号楼：2 次反映（1 件工单）" in text
        assert texts.report_trend_title(4) in quarter[STAFF_CHAT_ID][0].text
        assert await reports.tick(bot.app) == 0
        assert await runs(bot) == [("month", "2026-02"), ("month", "2026-03"), ("quarter", "2025Q4"),
                                   ("quarter", "2026Q1"), ("week", "2026-W11"), ("week", "2026-W12"),
                                   ("week", "2026-W13")]
