"""`linli run --webhook --workers 2` as it is deployed: real worker processes under uvicorn's supervisor, one real
PostgreSQL database, the emulator delivering every update to the webhook with the secret header.

Every case exactly once, however the updates come (concurrently, twice, out of order); a worker killed with
SIGKILL while updates come in, then the leader killed with messages still owed: a new leader within seconds, every
owed message delivered once; every connection to the database cut (as when PostgreSQL restarts) mid-run.
Skipped, saying why, without PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linli_e2e import STAFF_CHAT_ID, record_webhook_posts
from sqlalchemy.engine import URL
from sqlmodel import select

from bot.emulator import BotApiEmulator
from bot.runtime import WEBHOOK_PATH
from handlers import texts
from storage.models import InboxUpdate
from tests.e2e.deployment import (
    HEADER,
    PROBLEMS,
    RETRIES,
    SECRET,
    START,
    WAIT,
    cards,
    complain,
    count,
    deployed,
    more_tickets,
    new_leader,
    owed_at_least,
    pid_of,
    rows_at_least,
    settled,
    told,
    until,
)
from web.telegram import MAX_BODY

pytestmark = pytest.mark.slow

# -- every case once, however the updates come ------


async def test_two_workers_take_every_case_once_and_repeats_change_nothing(
        emulator: BotApiEmulator, tmp_path: Path, pg_url: URL) -> None:
    seen = record_webhook_posts(emulator)
    async with deployed(emulator, tmp_path, pg_url) as workers:
        residents = list(range(5001, 5001 + len(PROBLEMS)))
        numbers = await asyncio.gather(*(complain(emulator, u, p) for u, p in zip(residents, PROBLEMS, strict=True)))
        await settled(workers)
        tickets = await workers.tickets()
        assert sorted(t.number for t in tickets) == sorted(numbers) and len(set(numbers)) == len(PROBLEMS)
        for user, number in zip(residents, numbers, strict=True):
            assert told(emulator, user, number) == 1
        await until(lambda: all(cards(emulator, n) == 1 for n in numbers), WAIT, "one card per case", workers)

        # every update Telegram sent, delivered again: twice, newest first (a retry crossing our 200, out of order)
        chats = [*residents, STAFF_CHAT_ID]
        messages = {chat: len(emulator.messages_to(chat)) for chat in chats}
        async with httpx.AsyncClient(timeout=WAIT) as client:
            for update in [*reversed(seen), *seen]:
                answer = await client.post(workers.url + WEBHOOK_PATH, json=update, headers={HEADER: SECRET})
                assert answer.status_code == 200
            wrong = await client.post(workers.url + WEBHOOK_PATH, json={"update_id": 10**9, "message": {}},
                                      headers={HEADER: "nope"})
            assert wrong.status_code == 403
        await settled(workers)
        await asyncio.sleep(1.0)  # a reply to a repeat would have come by now
        assert [t.number for t in await workers.tickets()] == [t.number for t in tickets]
        assert {chat: len(emulator.messages_to(chat)) for chat in chats} == messages
        async with workers.db.session() as s:
            ids = list((await s.exec(select(InboxUpdate.update_id))).all())
        assert sorted(ids) == sorted({u["update_id"] for u in seen})


# -- kill -9 ------


async def test_a_killed_worker_and_a_killed_leader_lose_nothing(
        emulator: BotApiEmulator, tmp_path: Path, pg_url: URL) -> None:
    async with deployed(emulator, tmp_path, pg_url) as workers:
        first = await workers.names()
        leader = await workers.leader()
        assert leader in first
        # a worker killed while updates come in: the supervisor starts another, its claims are taken again
        residents = list(range(6001, 6001 + len(PROBLEMS)))
        going = [asyncio.create_task(complain(emulator, u, p, patient=True))
                 for u, p in zip(residents, PROBLEMS, strict=True)]
        await until(lambda: rows_at_least(workers, 3), WAIT, "updates coming in", workers)
        follower = next(n for n in first if n != leader)
        os.kill(pid_of(follower), signal.SIGKILL)
        numbers = await asyncio.gather(*going)
        await settled(workers)
        assert sorted(t.number for t in await workers.tickets()) == sorted(numbers)
        assert all(told(emulator, u, n) == 1 for u, n in zip(residents, numbers, strict=True))
        print("steps done again:", RETRIES)
        await until(lambda: count(workers, 2), START, "the killed worker replaced", workers)
        assert follower not in await workers.names()

        # the leader killed with messages owed: a new leader within seconds sends them, once
        emulator.user(6100, "王阿姨")
        cursor = emulator.cursor()
        await emulator.send_text(6100, "/start g-A03")
        await emulator.wait_for(6100, "第三网格", after=cursor, timeout=WAIT)
        await emulator.send_text(6100, "3号楼楼道灯坏了好几天")
        ask = await emulator.wait_for(6100, lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons),
                                      after=cursor, timeout=WAIT)
        before = len(await workers.tickets())
        emulator.fail("sendMessage", 500, times=10_000)  # nothing owed goes out before the kill
        emulator.fail("editMessageReplyMarkup", 500, times=10_000)
        emulator.fail("editMessageText", 500, times=10_000)  # the number: the draft edited into it
        await emulator.press(6100, ask.message_id, next(b for b in ask.buttons if b.text == texts.BTN_CONFIRM)
                             .callback_data)
        await until(lambda: more_tickets(workers, before), WAIT, "the case stored", workers)
        await until(lambda: owed_at_least(workers, 1), WAIT, "the number owed", workers)
        number = (await workers.tickets())[-1].number
        old_leader = await workers.leader()
        assert old_leader is not None
        os.kill(pid_of(old_leader), signal.SIGKILL)
        loop = asyncio.get_running_loop()
        killed_at = loop.time()
        emulator.clear_faults()
        successor = await until(lambda: new_leader(workers, old_leader), WAIT, "a new leader", workers)
        took = loop.time() - killed_at
        assert took < 5.0, took
        assert successor != old_leader
        await emulator.wait_for_edit(6100, ask.message_id, number, after=cursor, timeout=WAIT)
        await until(lambda: cards(emulator, number) >= 1, WAIT, "the card", workers)
        await settled(workers)
        assert told(emulator, 6100, number) == 1 and cards(emulator, number) == 1
        assert len(await workers.tickets()) == before + 1






# -- the database's connections cut (PostgreSQL restarting) ------


async def test_every_database_connection_cut_mid_run(emulator: BotApiEmulator, tmp_path: Path, pg_url: URL) -> None:
    """What the workers see of a PostgreSQL restart: every session ends at once (pg_terminate_backend), new ones
    are taken again. The leader's lock goes with its session: somebody leads again, and every case is taken once."""
    async with deployed(emulator, tmp_path, pg_url) as workers:
        residents = list(range(7001, 7001 + 4))
        going = [asyncio.create_task(complain(emulator, u, p, patient=True))
                 for u, p in zip(residents, PROBLEMS, strict=False)]
        await until(lambda: rows_at_least(workers, 3), WAIT, "updates coming in", workers)
        admin = await asyncpg.connect(pg_url.set(drivername="postgresql").render_as_string(hide_password=False))
        try:
            cut = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        finally:
            await admin.close()
        assert cut >= 2  # at least the two workers' cluster connections
        numbers = await asyncio.gather(*going)
        await until(lambda: count(workers, 2), WAIT, "both workers back, one leading", workers)
        numbers.append(await complain(emulator, 7100, PROBLEMS[-1]))
        await settled(workers)
        assert sorted(t.number for t in await workers.tickets()) == sorted(numbers)
        assert all(told(emulator, u, n) == 1 for u, n in zip([*residents, 7100], numbers, strict=True))


# -- random bodies at the workers' webhook ------

LEAF = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=30)
TREE = st.recursive(LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                      max_size=4), max_leaves=10)
SHAPES = st.fixed_dictionaries({}, optional={
    "update_id": st.integers(10**6, 10**9) | TREE,
    "message": st.fixed_dictionaries({"message_id": st.integers(1, 10**6) | TREE, "date": st.integers(0, 2**31),
                                      "chat": st.fixed_dictionaries({"id": st.integers(1, 10**9) | TREE,
                                                                     "type": st.just("private") | TREE})},
                                     optional={"text": st.text(max_size=200), "from": TREE}) | TREE,
    "callback_query": TREE}) | TREE


async def test_random_bodies_at_two_workers_never_500_and_the_next_resident_is_answered(
        emulator: BotApiEmulator, tmp_path: Path, pg_url: URL) -> None:
    async with deployed(emulator, tmp_path, pg_url) as workers:
        statuses: list[int] = []
        loop = asyncio.get_running_loop()
        client = httpx.AsyncClient(timeout=WAIT)

        @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        @given(body=SHAPES, how=st.sampled_from(["json", "json", "json", "bytes", "huge", "nested"]),
               noise=st.binary(max_size=40))
        def post(body: Any, how: str, noise: bytes) -> None:
            raw = {"json": lambda: json.dumps(body).encode(), "bytes": lambda: noise + b"\xff{",
                   "huge": lambda: b'{"update_id": 1, "x": "' + b"a" * (MAX_BODY + 1) + b'"}',
                   "nested": lambda: b"[" * 50_000 + b"]" * 50_000}[how]()
            future = asyncio.run_coroutine_threadsafe(
                client.post(workers.url + WEBHOOK_PATH, content=raw, headers={HEADER: SECRET}), loop)
            statuses.append(future.result(WAIT).status_code)

        await asyncio.to_thread(post)
        await client.aclose()
        assert set(statuses) <= {200, 400, 413}, sorted(set(statuses))
        await settled(workers)  # everything accepted was handled (or skipped): nothing left half-done
        async with workers.db.session() as s:
            failed = (await s.exec(select(InboxUpdate).where(InboxUpdate.error.is_not(None)))).all()  # type: ignore[union-attr]
        assert not failed, [(r.update_id, r.error) for r in failed]
        assert await workers.tickets() == []
        number = await complain(emulator, 8001, PROBLEMS[0])
        assert [t.number for t in await workers.tickets()] == [number]
        async with httpx.AsyncClient(timeout=WAIT) as client:  # any worker answers for the whole deployment
            health = await client.get(workers.url + "/healthz")
            page = (await client.get(workers.url + "/metrics")).text
        assert health.status_code == 200 and health.json()["leader"] in await workers.names()
        values = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
                  for line in page.splitlines() if line and not line.startswith("#")}
        assert values['linli_updates_processed_total{outcome="done"}'] >= 3  # summed over both workers' files
        assert values["linli_updates_skipped_total"] >= 1 and values['linli_open_cases{colour="green"}'] == 1
