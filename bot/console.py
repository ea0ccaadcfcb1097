"""`linli console`: the emulator and the bot in one process, and a terminal chat with them.

What a newcomer gets from `make run` with no token: talk to the bot within a minute of cloning.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, make_url, select
from telegram.ext import Application

from bot import jobs
from bot.app import build_application, start_polling, stop_polling
from bot.emulator import BotApiEmulator, run_console
from bot.settings import Settings
from handlers import texts
from handlers.deps import KEY
from services import inbox, outbox
from services.people import directory
from storage.db import Database
from storage.models import CouncilPoll, Notice, OutboxMessage, TicketPost

DEMO_ADMIN = 9001  # admin of the local demo when LINLI_ADMINS names nobody
_STEP = re.compile(r"^\+?\s*(\d+(?:\.\d+)?)\s*(m|min|分钟?|h|小时|d|天)$", re.IGNORECASE)
# the message ids the bot keeps (its cards, sent messages, notice reports, polls)
_MESSAGE_IDS = (TicketPost.message_id, OutboxMessage.message_id, Notice.report_message_id, CouncilPoll.message_id)
_UNITS = {"m": 60, "min": 60, "分": 60, "分钟": 60, "h": 3600, "小时": 3600, "d": 86400, "天": 86400}


@dataclass
class DemoClock:
    """The bot's clock in the terminal demo: real time plus whatever ``/clock +1h`` added, so a newcomer can see
    a reminder, an escalation and the rating request without waiting hours.

    ``path``: where the offset is kept, beside the demo's database, so the next ``make run`` goes on from the demo
    time the database was written in (starting from real time again, cases opened "tomorrow" would be in the
    future, and a reminder already sent would come again)."""

    offset: timedelta = field(default_factory=timedelta)
    path: Path | None = None

    @classmethod
    def kept(cls, path: Path) -> DemoClock:
        """The clock as the last run left it (no file, or one that cannot be read: real time)."""
        try:
            seconds = float(json.loads(path.read_text(encoding="utf-8"))["offset_seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            seconds = 0.0
        return cls(timedelta(seconds=max(seconds, 0.0)), path)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, spec: str) -> timedelta | None:
        m = _STEP.match(spec.strip())
        if m is None:
            return None
        step = timedelta(seconds=float(m[1]) * _UNITS[m[2].lower()])
        self.offset += step
        self._keep()
        return step

    def _keep(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        spare = self.path.with_suffix(".tmp")
        spare.write_text(json.dumps({"offset_seconds": self.offset.total_seconds()}), encoding="utf-8")
        spare.replace(self.path)  # all or nothing: a run killed while writing keeps the last offset


def clock_command(clock: DemoClock, app: Application) -> Callable[[str], Awaitable[str]]:
    """``/clock`` shows the demo time; ``/clock +1h`` (or 30m, 2d) moves it on and runs the desk's tick at once."""

    async def run(rest: str) -> str:
        if rest.strip():
            if clock.advance(rest) is None:
                return texts.CLOCK_USAGE
            await jobs.desk_tick(app)
        return texts.demo_clock(clock.now(), clock.offset)

    return run


_PLACEHOLDER = re.compile(r"^用户\d+$")  # what the emulator calls a user nobody named


def names_command(app: Application) -> Callable[[int], Awaitable[str | None]]:
    """The name ``/as <id>`` gives a user the run's emulator has not met: the one the bot's database knows them by
    (the demo's database outlives each run), else the community file's grid worker's; never 用户<id>, which the bot
    would keep as their new name."""

    async def name_of(user_id: int) -> str | None:
        d = app.bot_data[KEY]
        async with d.db.session() as s:
            known = await directory.names_of(s, user_id)
        known += [g.worker_name for g in d.community.grids if g.worker_tg_id == user_id and g.worker_name]
        return next((n for n in known if not _PLACEHOLDER.match(n.strip())), None)

    return name_of


async def owed_all(app: Application, within: float = 15.0) -> None:
    """Wait (a while at most) until the outbox is empty: the demo shows what a line caused before the next."""
    d = app.bot_data[KEY]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            while True:
                async with d.db.session() as s:
                    if not await outbox.pending(s):
                        return
                await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Seen:
    """The highest update id and message id the bot's database knows: this emulator numbers its updates and
    messages after them. The demo's SQLite file in var/ outlives each run; an update id seen before is a repeat to
    the inbox, and dropped; a message id seen before is another message's (a card, a notice) to the bot."""

    update_id: int = 0
    message_id: int = 0


async def last_seen(url: str) -> Seen:
    db = Database(url)
    try:
        await db.migrate_async()
        async with db.session() as s:
            message_ids = [select(func.max(column)).scalar_subquery() for column in _MESSAGE_IDS]
            row = (await s.exec(select(*message_ids))).one()  # type: ignore[call-overload]
            return Seen(await inbox.last_update_id(s), max((m or 0 for m in row), default=0))
    finally:
        await db.dispose()


def demo_dir(database_url: str) -> Path:
    """Where the demo keeps what must outlive a run beside its SQLite file (``var/``), as the database does."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent
    return Path("var")


def files_dir(database_url: str) -> Path:
    """Where the demo's emulator keeps the files people and the bot upload (a case's photos): a case's page shows
    its photo after a restart."""
    return demo_dir(database_url) / "emulator-files"


def clock_file(database_url: str) -> Path:
    """Where the demo clock's offset (``/clock +1d``) is kept between runs."""
    return demo_dir(database_url) / "demo-clock.json"


async def run(settings: Settings) -> int:
    seen = await last_seen(settings.database_url)
    emu = BotApiEmulator(bot_username="linli_bot", first_update_id=seen.update_id + 1,
                         first_message_id=seen.message_id + 1, files_dir=files_dir(settings.database_url))
    await emu.start()
    staff = settings.staff_chat_id or -1000000000001
    emu.group(staff, title="社区工作人员群", bot_is_admin=True)
    update: dict[str, object] = {"bot_api_url": emu.base_url, "bot_file_url": emu.base_file_url,
                                 "staff_chat_id": staff}
    if not settings.admins:  # a local demo: one user to try the staff side with
        update["linli_admins"] = str(DEMO_ADMIN)
        emu.user(DEMO_ADMIN, "社区管理员")
    local_settings = settings.model_copy(update=update)
    clock = DemoClock.kept(clock_file(settings.database_url))
    app = build_application(local_settings, clock=clock.now, serve_web=True)
    await start_polling(app)
    print(f"邻里 已在本地模拟器上运行（{emu.url}）。输入文字和机器人对话；/as <用户ID> 切换身份；"
          "#数字 点按钮；/quit 退出。", file=sys.stderr)
    if (web_url := app.bot_data.get("linli.web_url")) is not None:
        print(f"网页：服务码 {web_url}/s/A03 ，工作台在对话里发送 /web 获取登录链接。", file=sys.stderr)
    if clock.offset:  # the demo time the database was written in, kept from the last run
        print(texts.demo_clock(clock.now(), clock.offset), file=sys.stderr)
    if not settings.admins:
        print(f"演示用管理员：/as {DEMO_ADMIN} 切换过去，/in {staff} 进入工作人员群办理工单，私聊里 /notice 发通知。",
              file=sys.stderr)
    try:
        await run_console(emu, commands={"/clock": clock_command(clock, app)}, idle=lambda: owed_all(app),
                          names=names_command(app))
    finally:
        await stop_polling(app)
        await emu.stop()
    return 0
