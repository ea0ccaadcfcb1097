"""A month at the desk, tried as the community's staff, a supervisor and a grid worker through the real bot: March
2026's cases made hour by hour with the clock (``staff_month``), then what each of them reads. The figures a staff
member compares must agree wherever they appear (/report, /rates, /board, /queue, the report's 当前在办), buttons
must tell cases apart, nothing English or coded may show, and a command typed in the wrong place says where it
works."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from linli_e2e import JUWEIHUI, STAFF_CHAT_ID, UNIT_CHATS, WAIT, ZHANG, Bot, Clock, community_with, running_desk
from sqlmodel import select

from bot.emulator import BotApiEmulator, SentMessage
from handlers import texts
from services.cases import clocks
from storage.models import OPEN_STATUSES, Ticket, TicketStatus
from tests.e2e.staff_month import seed

SUPERVISOR, WORKER = 5301, 6003
ASCII_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}(?![A-Za-z])")  # an English word or a code (LL- is 2 letters)


async def ask(desk: Bot, user: int, chat: int, text: str) -> list[SentMessage]:
    """Everything the bot sent in ``chat`` for ``text``, once all is handled and sent."""
    cursor = desk.emulator.cursor()
    await desk.emulator.send_text(user, text, chat)
    await desk.emulator.wait_for(chat, None, after=cursor, timeout=WAIT)
    await desk.barrier()
    return desk.emulator.messages_after(chat, cursor)


def figure(text: str, label: str) -> str:
    """``· 响应率 78.8%（26/33），较上期 …`` → ``78.8%（26/33）``."""
    found = re.search(rf"^· {label} ([^，\n]+)", text, re.M)
    assert found, (label, text)
    return found.group(1)


def rates_line(text: str, label: str) -> str:
    found = re.search(rf"^{label}：(.+)$", text, re.M)
    assert found, (label, text)
    return found.group(1)


async def open_now(desk: Bot, unit: str | None = None, grid: str | None = None) -> list[Ticket]:
    async with desk.db.session() as s:
        stmt = select(Ticket).where(Ticket.status.in_(list(OPEN_STATUSES)))  # type: ignore[attr-defined]
        rows = [t for t in (await s.exec(stmt)).all()
                if (unit is None or t.unit == unit) and (grid is None or t.grid_code == grid)]
    return rows


async def test_a_months_figures_agree_wherever_staff_read_them(emulator: BotApiEmulator, tmp_path: Path,
                                                               clock: Clock) -> None:
    async with running_desk(emulator, tmp_path, clock) as desk:
        await seed(desk)
        now = desk.clock.now()
        c = desk.deps.community
        everything = await desk.tickets()
        march = [t for t in everything if t.status is not TicketStatus.MERGED]

        report, *charts = await ask(desk, ZHANG, STAFF_CHAT_ID, "/report month")
        assert [m.method for m in charts] == ["sendPhoto", "sendPhoto"]  # the month's chart and its trend
        text = report.text
        assert figure(text, "受理") == str(len(march))
        # the trend: the five empty months before the first case on one line, then March
        assert texts.report_trend_nothing("2025-10", "2026-02") in text and "· 2025-11：" not in text
        assert "首次响应按第一次签收计" in text  # why 响应率 can be below "signed within 1 hour"
        section = text.split(texts.REPORT_SECTION["unit"])[1].split("【")[0]
        units = re.findall(r"^· (\S+)：受理 (\d+)，", section, re.M)
        assert len(units) >= 2
        assert sum(int(n) for _, n in units) == len(march)  # the units' cases add up to the whole

        # /rates over the last 30 days (all of March's cases here) says what the report says, in the same words
        rates = (await ask(desk, ZHANG, STAFF_CHAT_ID, "/rates"))[0].text
        assert rates.startswith(f"📈 {c.name}｜近30天")
        assert rates_line(rates, r"响应率（按时签收）") == figure(text, "响应率")
        assert rates_line(rates, "按时办结率") == figure(text, "按时办结率")
        assert rates_line(rates, "满意率") == figure(text, "满意率")
        # a unit's chat: its own figures, named, equal to its line in the whole report and to its own report
        unit = c.unit("juweihui")
        own = (await ask(desk, ZHANG, JUWEIHUI, "/rates"))[0].text
        assert own.startswith(f"📈 {unit.name}｜近30天") and rates != own
        unit_report = (await ask(desk, ZHANG, JUWEIHUI, "/report month"))[0].text
        assert rates_line(own, r"响应率（按时签收）") == figure(unit_report, "响应率")
        assert rates_line(own, "按时办结率") == figure(unit_report, "按时办结率")
        assert f"· {unit.name}：受理 {figure(unit_report, '受理')}，响应率 {figure(unit_report, '响应率')}" in text

        # /board, /queue and the report's 当前在办 count the same open cases, by the same colours
        opened = await open_now(desk)
        colours = clocks.Colour
        counted = {k: sum(clocks.colour(t, now) is k for t in opened) for k in colours}
        board = (await ask(desk, ZHANG, STAFF_CHAT_ID, "/board"))[0].text
        assert f"合计：🔴{counted[colours.RED]} 🟡{counted[colours.YELLOW]} 🟢{counted[colours.GREEN]}" in board
        assert (f"· 当前在办：🔴{counted[colours.RED]} 🟡{counted[colours.YELLOW]} 🟢{counted[colours.GREEN]}"
                in text)
        assert counted[colours.RED] >= 2  # the month left some cases red: the trial needs them
        queue = (await ask(desk, ZHANG, STAFF_CHAT_ID, "/queue"))[0]
        assert queue.text.startswith(texts.queue_header(texts.QUEUE_ALL, len(opened)))
        labels = [b.text for b in queue.buttons]
        assert len(labels) == len(opened) == len(set(labels))  # every case's button its own (🔴0302-0002)
        reds = [line for line in queue.text.splitlines() if "已超时" in line]
        assert len(reds) == counted[colours.RED]  # each red line says how late it is

        # 督办 of a red case by the community's supervisor: the unit's chat sees it, the month's report counts it
        await desk.grant(SUPERVISOR, "supervisor")
        desk.person(SUPERVISOR, "纪工委老陈")
        red = next(t for t in sorted(opened, key=lambda t: t.due_at) if clocks.colour(t, now) is colours.RED)
        done = (await ask(desk, SUPERVISOR, STAFF_CHAT_ID, f"/supervise {red.number} 超期未办结，请说明原因"))
        assert done[0].text == texts.supervise_done(red.number, c.unit(red.unit).name, now + timedelta(days=3))
        chat = UNIT_CHATS.get(red.unit, STAFF_CHAT_ID)
        listed = (await ask(desk, ZHANG, chat, "/supervisions"))[0].text
        assert listed.startswith(texts.supervisions_header(1, 0)) and red.number in listed
        assert texts.board_supervisions(1, 0) in (await ask(desk, ZHANG, chat, "/board"))[0].text
        assert figure((await ask(desk, ZHANG, STAFF_CHAT_ID, "/report month"))[0].text, "督办") == "1"
        # its story reads in Chinese: reminders and closings by their meaning, not the system's codes
        story = []
        for page in (1, 2, 3):
            said = (await ask(desk, SUPERVISOR, STAFF_CHAT_ID, f"/history {red.number} {page}"))[0].text
            story += said.splitlines()[1:]
        assert any("催办提醒" in line for line in story)
        assert not [line for line in story if ASCII_WORD.search(line)], story

        # the supervisor in a private chat: /queue is the groups', and says what works here instead
        private = (await ask(desk, SUPERVISOR, SUPERVISOR, "/queue"))[0].text
        assert private == texts.staff_command_private("/queue", supervisor=True)
        assert "/help" not in private and "有诉求" not in private
        # staff: their 督办 are their unit's, seen in its chat (they have a role: never "ask for one")
        assert (await ask(desk, ZHANG, ZHANG, "/supervisions"))[0].text == texts.SUPERVISIONS_PRIVATE_STAFF
        # /case of another unit's case in a unit's group: whose it is and where to look
        other = next(t for t in opened if t.unit != "juweihui")
        assert (await ask(desk, ZHANG, JUWEIHUI, f"/case {other.number}"))[0].text == texts.case_elsewhere(
            other.number, c.unit(other.unit).name)


async def test_a_grid_workers_own_view_of_the_month(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> None:
    path = community_with(tmp_path, workers={"A03": WORKER})
    async with running_desk(emulator, tmp_path, clock, community_file=path) as desk:
        desk.person(WORKER, "李秀英")
        await seed(desk)
        mine = await open_now(desk, grid="A03")
        queue = (await ask(desk, WORKER, WORKER, "/queue"))[0]
        assert {n for n in re.findall(r"LL-\d{8}-\d{4}", queue.text)} == {t.number for t in mine}
        assert len({b.text for b in queue.buttons}) == len(mine)

        report, chart, trend = await ask(desk, WORKER, WORKER, "/report month")
        grid = desk.deps.community.grid("A03")
        name = f"{grid.name}（{grid.code}）"
        assert report.text.startswith(f"📊 月评估｜{name}\n2026年3月（进行中）")
        march = [t for t in await desk.tickets() if t.grid_code == "A03" and t.status is not TicketStatus.MERGED]
        assert figure(report.text, "受理") == str(len(march))
        assert chart.caption == texts.report_chart_caption("月评估", name, "2026年3月")
        assert trend.caption == texts.report_trend_caption("月评估", name, 6)
        # commands of the work groups: where they work and what the worker can use here
        for command in ("/board", "/rates"):
            said = (await ask(desk, WORKER, WORKER, command))[0].text
            assert said == texts.staff_command_private(command, grid_worker=True)
            assert "/queue" in said and "/report" in said and "有诉求" not in said
