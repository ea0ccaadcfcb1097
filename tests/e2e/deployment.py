"""`linli run --webhook --workers N` as a test drives it (not a test file): the supervisor as a child process on a
real PostgreSQL database, the emulator delivering every update to the webhook, and what the tests read of it.

Shared by tests/e2e/test_workers.py and tests/e2e/test_worker_faults.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linli_e2e import STAFF_CHAT_ID, child_env, ticket_number
from sqlalchemy import func
from sqlalchemy.engine import URL
from sqlmodel import select

from bot import cluster
from bot.emulator import BotApiEmulator, Limits
from bot.runtime import WEBHOOK_PATH
from handlers import texts
from services import outbox
from storage.db import Database
from storage.models import InboxStatus, InboxUpdate, OutboxMessage, OutboxStatus, Ticket
from tests.pg import free_port

SECRET = "workers-secret_7"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
START = 60.0  # seconds: two cold workers import jieba, migrate, sync the grids
WAIT = 30.0  # seconds for what goes through a kill (a dead worker's connection refused, then retried)
PROBLEMS = ["楼道灯坏了好几天", "门口垃圾堆满没人清", "车库门口有车乱停堵路", "物业费乱收费", "家里停水了",
            "楼上天天装修，吵死了", "电梯坏了三天了", "下水道堵了"]
PATIENCE = 10.0  # seconds a patient resident waits before doing a step again
RETRIES: list[tuple[int, int]] = []  # (resident, attempt) of the steps done again


@dataclass
class Workers:
    """The supervisor process and what the test reads of the deployment."""

    process: asyncio.subprocess.Process
    db: Database
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def names(self) -> list[str]:
        async with self.db.session() as s:
            return sorted(await cluster.workers_of(s))

    async def leader(self) -> str | None:
        async with self.db.session() as s:
            return await cluster.leader_of(s)

    async def tickets(self) -> list[Ticket]:
        async with self.db.session() as s:
            return list((await s.exec(select(Ticket).order_by(Ticket.id))).all())

    async def owed(self) -> int:
        async with self.db.session() as s:
            return await outbox.pending(s)

    async def inbox_rows(self) -> int:
        async with self.db.session() as s:
            return int((await s.exec(select(func.count()).select_from(InboxUpdate))).one())

    async def inbox_pending(self) -> int:
        async with self.db.session() as s:
            return int((await s.exec(select(func.count()).select_from(InboxUpdate).where(
                InboxUpdate.status == InboxStatus.PENDING))).one())

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def pid_of(name: str) -> int:
    return int(name.rsplit(":", 1)[1])


async def until(check: Any, timeout: float, what: str, workers: Workers | None = None) -> Any:  # noqa: ASYNC109
    """Poll ``check`` (a function, sync or async) until it answers something true; its answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = check()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return found
        if loop.time() > deadline:
            log = f"; log:\n{workers.log_text()}" if workers else ""
            raise AssertionError(f"{what} not within {timeout} s{log}")
        await asyncio.sleep(0.1)


@asynccontextmanager
async def deployed(emulator: BotApiEmulator, tmp_path: Path, pg_url: URL, workers: int = 2,
                   **env: str) -> AsyncIterator[Workers]:
    """`linli run --webhook --workers N` until the block ends (then SIGTERM, and SIGKILL if it lingers). ``env``:
    more settings for the workers (``SWEEP_INTERVAL_SECONDS="1"``, ``COMMUNITY_FILE=…``)."""
    emulator.set_limits(Limits.off())
    emulator.group(STAFF_CHAT_ID, "金桂社区工作人员群")
    port = free_port()
    url = pg_url.render_as_string(hide_password=False)
    environment = {**child_env(emulator, tmp_path / "unused.db"), "DATABASE_URL": url,
                   "BASE_URL": f"http://127.0.0.1:{port}", "WEBHOOK_SECRET": SECRET,
                   "LOG_LEVEL": os.environ.get("LINLI_TEST_WORKERS_LOG", "WARNING"), **env}
    log = tmp_path / "workers.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--webhook", "--workers", str(workers), "--web-port", str(port),
            cwd=tmp_path, env=environment, stdin=asyncio.subprocess.DEVNULL, stdout=out,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    db = Database(pg_url)
    deployment = Workers(process, db, port, log)
    try:
        await until(lambda: emulator.webhook_url == f"http://127.0.0.1:{port}{WEBHOOK_PATH}", START,
                    "setWebhook", deployment)
        await until(lambda: count(deployment, workers), START, f"{workers} workers up", deployment)
        yield deployment
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        await db.dispose()


async def count(workers: Workers, n: int) -> bool:
    """``n`` workers up, one of them leading."""
    return len(await workers.names()) == n and await workers.leader() is not None


async def complain(emulator: BotApiEmulator, user_id: int, problem: str, timeout: float = WAIT,  # noqa: ASYNC109
                   patient: bool = False, patience: float = PATIENCE) -> str:
    """/start in 第三网格, a complaint in 9号楼, 确认: the case's number (from the receipt). ``patient``: a resident
    whose step got no answer within ``patience`` seconds does it again, as people do (a worker killed after
    committing an update, before its reply went out, loses that reply: replies are not owed messages)."""
    emulator.user(user_id, f"居民{user_id}")
    tries = 4 if patient else 1
    each = patience if patient else timeout

    async def step(act: Any, predicate: Any, edited: int | None = None) -> Any:
        for attempt in range(tries):
            cursor = emulator.cursor()
            await act()
            try:
                if edited is not None:  # the answer is this message edited (the draft into the case's number)
                    return await emulator.wait_for_edit(user_id, edited, predicate, after=cursor, timeout=each)
                return await emulator.wait_for(user_id, predicate, after=cursor, timeout=each)
            except TimeoutError:
                if edited is not None and (late := emulator.message(user_id, edited)) is not None and predicate(late):
                    return late  # the answer came just after the wait gave up: nothing to do again
                if attempt == tries - 1:
                    raise
                RETRIES.append((user_id, attempt))
        raise AssertionError("unreachable")

    async def press_confirm() -> None:
        """确认 pressed, as a person can: only while the button is on the draft (once the draft has become the
        case's number, there is nothing to press, and its edit is what is awaited)."""
        sent = emulator.message(user_id, ask.message_id)
        if sent is not None and any(b.callback_data == button for b in sent.buttons):
            await emulator.press(user_id, ask.message_id, button)

    await step(lambda: emulator.send_text(user_id, "/start g-A03"), "第三网格")
    ask = await step(lambda: emulator.send_text(user_id, f"9号楼{problem}"),
                     lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    button = next(b for b in ask.buttons if b.text == texts.BTN_CONFIRM).callback_data
    receipt = await step(press_confirm, lambda m: m.body.startswith("✅ 已受理"), edited=ask.message_id)
    return ticket_number(receipt.body)


def told(emulator: BotApiEmulator, user_id: int, number: str) -> int:
    """How many messages the resident holds that tell them the case's number."""
    return sum(1 for m in emulator.messages_to(user_id) if number in m.body and m.body.startswith("✅ 已受理"))


def cards(emulator: BotApiEmulator, number: str, chat_id: int = STAFF_CHAT_ID) -> int:
    """How many messages in a desk chat carry the case (its own card, or a combined one)."""
    return sum(1 for m in emulator.messages_to(chat_id) if number in m.body and m.buttons)


async def settled(workers: Workers, timeout: float = WAIT) -> None:  # noqa: ASYNC109
    """Nothing left in the inbox or the outbox (else what is left, in the failure)."""
    async def empty() -> bool:
        return not await workers.inbox_pending() and not await workers.owed()

    try:
        await until(empty, timeout, "inbox and outbox empty", workers)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nowed: {await owed_rows(workers)}") from None


async def owed_rows(workers: Workers) -> list[tuple[Any, ...]]:
    """What the outbox still holds: (kind, chat, attempts, error, how many)."""
    async with workers.db.session() as s:
        rows = (await s.exec(select(OutboxMessage.kind, OutboxMessage.chat_id, OutboxMessage.attempts,
                                    OutboxMessage.error, func.count()).where(
            OutboxMessage.status == OutboxStatus.PENDING).group_by(
            OutboxMessage.kind, OutboxMessage.chat_id, OutboxMessage.attempts, OutboxMessage.error))).all()
    return [tuple(r) for r in rows]


async def rows_at_least(workers: Workers, n: int) -> bool:
    return await workers.inbox_rows() >= n


async def more_tickets(workers: Workers, before: int) -> bool:
    return len(await workers.tickets()) > before


async def owed_at_least(workers: Workers, n: int) -> bool:
    return await workers.owed() >= n


async def new_leader(workers: Workers, old: str) -> str | None:
    leader = await workers.leader()
    return leader if leader is not None and leader != old else None


__all__ = ["HEADER", "PATIENCE", "PROBLEMS", "RETRIES", "SECRET", "START", "WAIT", "Workers", "cards", "complain",
           "count", "deployed", "more_tickets", "new_leader", "owed_at_least", "pid_of", "rows_at_least", "settled",
           "told", "until"]
