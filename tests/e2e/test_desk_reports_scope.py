"""``/report`` as staff and grid workers say it: the natural Chinese words for a period (周, 这周, 月, 上个月, 季 …)
as well as the English ones, and a grid worker's report covering the grids they serve (the community file's worker
and workers granted the role), while staff keep the whole community."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from linli_e2e import STAFF_CHAT_ID, WAIT, ZHANG, Bot, Clock, community_with, running_desk

from bot.emulator import BotApiEmulator, SentMessage
from handlers import texts
from handlers.desk.reports import read_period
from services import SHANGHAI
from services.reports.periods import PeriodKind
from services.web import intake

W_FILE, W_GRANTED = 4003, 4001  # the community file's worker of A03; a worker granted A01
NOW = datetime(2026, 3, 17, 10, 0, tzinfo=SHANGHAI)  # the e2e clock's Tuesday


async def ask(bot: Bot, user: int, chat: int, text: str) -> list[SentMessage]:
    cursor = bot.emulator.cursor()
    await bot.emulator.send_text(user, text, chat)
    await bot.emulator.wait_for(chat, None, after=cursor, timeout=WAIT)
    await bot.barrier()
    return bot.emulator.messages_after(chat, cursor)


async def _file(bot: Bot, place: str, grid: str) -> None:
    d = bot.deps
    async with bot.db.transaction() as s:
        await intake.file_case(s, intake.WebForm.of(text=f"{place}楼上天天装修，吵死了", location=place,
                                                    category="noise"),
                               grid_code=grid, photos=[], engine=d.engine, community=d.community,
                               staff_chat_id=d.staff_chat_id, now=bot.clock.now())
    d.wake_sender()


@pytest.mark.parametrize(("word", "kind", "back"), [
    ("周", PeriodKind.WEEK, 0), ("本周", PeriodKind.WEEK, 0), ("这周", PeriodKind.WEEK, 0),
    ("week", PeriodKind.WEEK, 0), ("上周", PeriodKind.WEEK, 1), ("lastweek", PeriodKind.WEEK, 1),
    ("月", PeriodKind.MONTH, 0), ("本月", PeriodKind.MONTH, 0), ("这个月", PeriodKind.MONTH, 0),
    ("Month", PeriodKind.MONTH, 0), ("上月", PeriodKind.MONTH, 1), ("上个月", PeriodKind.MONTH, 1),
    ("季", PeriodKind.QUARTER, 0), ("本季度", PeriodKind.QUARTER, 0), ("quarter", PeriodKind.QUARTER, 0),
    ("上季度", PeriodKind.QUARTER, 1), ("上个季度", PeriodKind.QUARTER, 1),
])
def test_the_natural_words_for_a_period(word: str, kind: PeriodKind, back: int) -> None:
    period, so_far = read_period(word, NOW)
    expected = {PeriodKind.WEEK: ("2026-W12", "2026-W11"), PeriodKind.MONTH: ("2026-03", "2026-02"),
                PeriodKind.QUARTER: ("2026Q1", "2025Q4")}[kind][back]
    assert (period.kind, period.label, so_far) == (kind, expected, back == 0)


async def test_report_zhou_and_yue_in_a_desk_chat(desk: Bot) -> None:
    said, *_ = await ask(desk, ZHANG, STAFF_CHAT_ID, "/report 周")
    assert said.text.startswith(f"📊 周调度｜{desk.deps.community.name}\n2026年第12周")
    said, *_ = await ask(desk, ZHANG, STAFF_CHAT_ID, "/report 上个月")
    assert said.text.startswith(f"📊 月评估｜{desk.deps.community.name}\n2026年2月，")


async def test_a_grid_worker_sees_the_grids_they_serve(emulator: BotApiEmulator, tmp_path: Path,
                                                         clock: Clock) -> None:
    path = community_with(tmp_path, workers={"A03": W_FILE})
    async with running_desk(emulator, tmp_path, clock, community_file=path) as desk:
        await desk.grant(W_GRANTED, "gridworker", "A01")
        for place, grid in (("9号楼", "A03"), ("10号楼", "A03"), ("1号楼", "A01"), ("17号楼", "A05")):
            await _file(desk, place, grid)
        await desk.barrier()
        community = desk.deps.community

        said, *_ = await ask(desk, ZHANG, STAFF_CHAT_ID, "/report week")  # staff: the whole community
        assert said.text.startswith(f"📊 周调度｜{community.name}\n") and "· 受理 4，" in said.text

        worker = desk.person(W_FILE, "李秀英")
        said, *_ = await ask(desk, W_FILE, worker.id, "/report week")  # the file's worker: A03 only
        assert said.text.startswith("📊 周调度｜第三网格（A03）\n") and "· 受理 2，" in said.text
        said, *_ = await ask(desk, W_FILE, worker.id, "/report 本周 A03")  # their grid named: the same
        assert said.text.startswith("📊 周调度｜第三网格（A03）\n") and "· 受理 2，" in said.text

        granted = desk.person(W_GRANTED, "王丽娟")
        said, *_ = await ask(desk, W_GRANTED, granted.id, "/report 这周")  # a granted worker: A01 only
        assert said.text.startswith("📊 周调度｜第一网格（A01）\n") and "· 受理 1，" in said.text
        for other in ("/report week A03", "/report week juweihui"):  # another grid, a unit: refused
            assert [m.text for m in await ask(desk, W_GRANTED, granted.id, other)] == [
                texts.report_out_of_grids(["A01"])]

        await desk.grant(W_FILE, "gridworker", "A05")  # serving two grids: both, side by side
        said, *_ = await ask(desk, W_FILE, worker.id, "/report 周")
        assert said.text.startswith("📊 周调度｜第三网格、第五网格\n") and "· 受理 3，" in said.text
        assert texts.REPORT_SECTION["grid"] in said.text
        assert "· 第三网格：受理 2" in said.text and "· 第五网格：受理 1" in said.text
        assert "第一网格" not in said.text
