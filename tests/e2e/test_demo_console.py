"""`make run` as a newcomer uses it: the terminal chat on the built-in emulator, and the demo clock that shows
reminders, escalation and the rating without waiting hours."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from services import SHANGHAI
from services.cases.working_time import calendar
from services.community.model import load_community

REPO = Path(__file__).resolve().parents[2]

# each test runs the terminal chat as a process, twice for a second run: 10–26 s a test, so they run with the slow ones
# (`make test-slow`, in CI) and keep `make test` within its time
pytestmark = pytest.mark.slow


def to_working_morning() -> str:
    """``/clock +Nm`` to the next working day's 10:00 (the sample file counts 签收 in its office hours, so a case
    opened in the evening or at the weekend is rightly not overdue three hours later): the demo then reads the
    same at any hour the test runs."""
    workday = calendar(load_community().working_time)
    now = datetime.now(UTC)
    day = now.astimezone(SHANGHAI).date()
    while True:
        target = datetime.combine(day, time(10), tzinfo=SHANGHAI)
        if workday(day) and target - now > timedelta(minutes=5):
            return f"/clock +{int((target - now).total_seconds() // 60)}m"
        day += timedelta(days=1)


def console(tmp_path: Path, lines: list[str], *, quiet: bool = False) -> str:
    """The terminal chat's output; ``quiet``: nothing may have gone wrong (no traceback logged)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "LINLI_", "STAFF_", "DATABASE_"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    done = subprocess.run([sys.executable, "-m", "bot", "console"], input="\n".join(lines) + "\n", text=True,
                          capture_output=True, cwd=tmp_path, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    if quiet:  # the web side may find its port taken (another run on this machine): that is said, and is no fault
        errors = [line for line in done.stderr.splitlines() if "ERROR" in line and "网页服务无法监听" not in line]
        assert "Traceback" not in done.stderr and not errors, done.stderr[-3000:]
    return done.stdout


def test_the_demo_clock_brings_the_reminder_the_escalation_and_the_rating(tmp_path: Path) -> None:
    out = console(tmp_path, [
        to_working_morning(),
        "/start", "#1", "#3",  # pick 1号楼, skip the age question
        "1号楼楼道灯坏了", "#1",  # a repair, confirmed
        "/clock",
        "/clock +3h",  # past the two-hour sign-for limit (working hours): reminded and escalated to the grid
        "/as 9001", "/in -1000000000001",  # the demo admin, in the staff group
        "#1",  # 签收 on the newest card
        "/clock +1天",
        "/quit",
    ])
    assert "✅ 已受理！工单号：LL-" in out
    assert "演示时间：" in out and "比真实时间快" in out
    assert "⏰ 催办" in out and "升级至网格员（超时未签收）" in out
    assert "已签收，请尽快办理。" in out and "已由金桂苑物业服务中心签收，承办人：社区管理员" in out
    assert "升级至金桂社区居委会值班室（超过办理时限）" in out
    assert "用法：/clock" not in out


def test_a_second_make_run_on_the_same_database_is_answered(tmp_path: Path) -> None:
    """The demo's database outlives each run, the emulator does not: its update ids start again, and the inbox took
    every one of them for a repeat (a silent bot on the second `make run`). They start after the last one seen."""
    first = console(tmp_path, ["你好", "/quit"])
    assert "有什么可以帮您" in first
    second = console(tmp_path, ["你好", "电费咋交", "/quit"])
    assert "有什么可以帮您" in second and "缴费小帮手" in second


def test_a_second_run_posts_about_a_case_of_the_first_without_taking_its_card_message_id(tmp_path: Path) -> None:
    """The emulator's message ids started again at 1 in every chat, so the second run's escalation post in the staff
    group got the id of the first run's card, and storing the post broke its unique key (a traceback, and the post
    not linked to its case). Message ids start after the highest one the database keeps."""
    first = console(tmp_path, [to_working_morning(), "1号楼楼道灯坏了", "#1", "/quit"], quiet=True)
    assert "✅ 已受理！工单号：LL-" in first
    second = console(tmp_path, [to_working_morning(), "/clock +3h", "/quit"], quiet=True)
    assert "升级至网格员（超时未签收）" in second


def test_a_line_typed_after_a_prompt_that_asks_for_a_reply_answers_it(tmp_path: Path) -> None:
    """A Telegram app opens the reply to a ForceReply prompt by itself (微心愿, 需补充, 办结 ask for one); the console
    sent the next line as a plain message instead, so the wish was "没太明白" and the staff member's 需补充 question
    was dropped in silence. The typed line now answers the prompt, as on a phone."""
    out = console(tmp_path, [
        "/start", "#7", "#3",  # 7号楼, the age question skipped
        "微心愿", "想要一个助听器",  # the wish's prompt, answered by typing
        "7号楼电梯坏了", "#1",  # a case
        "/as 9001", "/in -1000000000001", "#1", "#2",  # the demo admin signs for it, then 需补充
        "请问是几单元的电梯",  # typed under the 需补充 prompt
        "/quit",
    ], quiet=True)
    assert "↩ 直接输入即回复本条" in out
    assert "微心愿 #1 已发布到第二网格" in out
    assert "已请居民补充 LL-" in out and "请问是几单元的电梯" in out
    assert "没太明白" not in out


def test_as_a_known_user_takes_the_name_the_bot_knows_them_by(tmp_path: Path) -> None:
    """``/as 1003`` without a name made the emulator call them 用户1003, and the bot, reading that as their new name,
    renamed the resident an earlier run knew as 王大爷: the case cards and /queue showed 用户1003 from then on. A
    user the run has not met takes the name the bot's database knows them by."""
    import asyncio

    from sqlmodel import select

    from storage.db import Database
    from storage.models import Resident

    first = console(tmp_path, ["/as 1003 王大爷", "你好", "/quit"], quiet=True)
    assert "现在是 王大爷(1003)" in first
    second = console(tmp_path, ["/as 1003", "你好", "/as 1001", "/as 1003", "/quit"], quiet=True)
    assert "现在是 王大爷(1003)" in second and "用户1003" not in second

    async def names() -> dict[int, str]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
        try:
            async with db.session() as s:
                return {r.tg_user_id: r.name for r in (await s.exec(select(Resident))).all()}
        finally:
            await db.dispose()

    assert asyncio.run(names())[1003] == "王大爷"


def test_the_demo_clock_is_kept_for_the_next_make_run(tmp_path: Path) -> None:
    """``/clock +2d`` then ``make run`` again: the demo time went back to real time, so the cases opened and the
    reminders sent "two days later" lay in the future of the new run. The offset is kept beside the database."""
    first = console(tmp_path, ["/clock +2d", "/quit"], quiet=True)
    assert "比真实时间快 2天）" in first
    assert (tmp_path / "demo-clock.json").is_file()
    second = console(tmp_path, ["/clock", "/clock +30m", "/quit"], quiet=True)
    assert "比真实时间快 2天）" in second and "比真实时间快 2天30分钟）" in second
    third = console(tmp_path, ["/clock", "/quit"], quiet=True)
    assert "比真实时间快 2天30分钟）" in third
