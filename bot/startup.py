"""What every start does, whoever starts the bot (``bot.app``'s polling, ``bot.runtime``'s workers): the command
menu, migrating and syncing the grids before any update is handled, warming the tokenizer."""

from __future__ import annotations

import asyncio
import gc

from sqlalchemy import text
from telegram import BotCommand
from telegram.ext import Application

from handlers.deps import KEY, Deps
from intents.text import tokenizer
from services.people.residents import sync_grids

COMMANDS = [
    BotCommand("start", "开始 / 绑定楼栋"),
    BotCommand("tickets", "我的工单"),
    BotCommand("points", "我的积分"),
    BotCommand("services", "便民服务"),
    BotCommand("order", "找人上门服务（点单）"),
    BotCommand("propose", "提建议（码上议）"),
    BotCommand("projects", "民生实事进展"),
    BotCommand("help", "帮助"),
    BotCommand("mute", "不接收一般通知（紧急通知照收）"),
    BotCommand("unmute", "恢复接收通知"),
]
LOCAL_TOKEN = "123456:LOCAL-EMULATOR-TOKEN"
PREPARE_LOCK = 0x6C697072  # PostgreSQL advisory lock held while a worker syncs the grids ("lipr")


async def prepare(app: Application) -> None:
    """What a start does before any update is handled: the schema to head, the community's grids into the database
    (on PostgreSQL one worker after the other: several may start at once)."""
    d: Deps = app.bot_data[KEY]
    await d.db.migrate_async()
    async with d.db.transaction() as s:
        if not d.db.is_sqlite:
            await (await s.connection()).execute(text(f"SELECT pg_advisory_xact_lock({PREPARE_LOCK})"))
        await sync_grids(s, d.community)


def warm_up() -> asyncio.Task[object]:
    """jieba's dictionary loaded in a thread (~1 s) while the rest starts, off the first reply."""
    return asyncio.create_task(asyncio.to_thread(tokenizer))


def settle() -> None:
    """Once started (jieba's dictionary, the taxonomy and the place tables loaded): what is alive now lives as long
    as the process, so the garbage collector stops walking it (``gc.freeze``). Its full collections walked those
    ~200,000 objects each time (~150 ms, charged to whichever update happened to allocate). Once per process: what
    a later start leaves (a test's bot stopped and started again) is garbage to collect, not to keep."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()


_settled = False


__all__ = ["COMMANDS", "LOCAL_TOKEN", "PREPARE_LOCK", "prepare", "settle", "warm_up"]
