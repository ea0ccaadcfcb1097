"""Faults under `linli run --webhook --workers 2` on a real PostgreSQL (issue #15): real worker processes, the emulator
delivering every update to the webhook.

- a worker, and separately the leader (which runs the sender), killed with SIGKILL in the middle of a broadcast:
  every resident gets the notice, a second copy only for what was in flight in the killed sender;
- the leader killed in the middle of a sweep (its transaction held up on a row the test locks, so the kill lands
  between two of its rounds, not somewhere by luck): every overdue case escalated exactly once, one alert each
  (within the in-flight bound);
- the Bot API answering 5xx and dropping connections while two workers take complaints and send: every case once,
  every resident's number and every desk card delivered;
- PostgreSQL itself stopped (fast) mid-run and started again on its port (a cluster of this test's own): the
  webhook answers 503 meanwhile so Telegram (the emulator) delivers again; afterwards every case once, every owed
  message delivered, both workers back with a leader and /healthz 200.

Time is a parameter: the overdue cases are opened thirty days ago (``now`` given to the services); the tests poll
with timeouts and never sleep for logic. Skipped, saying why, without PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from linli_e2e import LEVEL_CHATS, UNIT_CHATS, community_with
from sqlalchemy import func
from sqlalchemy.engine import URL
from sqlmodel import col, select

from bot import sender
from bot.emulator import BotApiEmulator, SentMessage
from bot.emulator.faults import Fault
from handlers import texts
from services.cases import lifecycle
from services.community.model import load_community
from services.people import roles
from storage.db import Database
from storage.models import (
    Notice,
    NoticeStatus,
    OutboxMessage,
    Resident,
    RoleName,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from tests.e2e.deployment import (
    PROBLEMS,
    RETRIES,
    WAIT,
    Workers,
    cards,
    complain,
    count,
    deployed,
    new_leader,
    pid_of,
    rows_at_least,
    settled,
    told,
    until,
)

pytestmark = pytest.mark.slow

WORKERS = 2
# what a killed sender may have had in flight: one row per sender task, at the pace each of the two workers keeps
# (Telegram's 30 a second shared: 15 each, one task) — bot/sender.py's module doc
IN_FLIGHT = sender.sender_tasks(sender.GLOBAL_PER_SECOND / WORKERS)


def _dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def button(message: SentMessage, label: str) -> str:
    """Callback data of the button labelled ``label`` (or starting with it)."""
    found = next((b for b in message.buttons if b.text == label), None) or next(
        (b for b in message.buttons if b.text.startswith(label)), None)
    assert found is not None, f"no button {label!r} on {[b.text for b in message.buttons]}"
    return found.callback_data


# -- a broadcast, and a kill in the middle of it ------

GRID_WORKER = 8101
RESIDENTS = list(range(610_001, 610_151))  # 150 residents of 9号楼: ten seconds at 15 a second
NOTICE = "明天上午9点至11点9号楼停水检修，请提前储水"


async def add_residents(db: Database, ids: list[int]) -> None:
    now = datetime.now(UTC)
    async with db.transaction() as s:
        conn = await s.connection()
        await conn.execute(Resident.__table__.insert(), [  # type: ignore[attr-defined]
            {"tg_user_id": uid, "name": f"居民{uid}", "grid_code": "A03", "building": "9号楼",
             "created_at": now, "updated_at": now} for uid in ids])
        await roles.grant(s, tg_user_id=GRID_WORKER, role=RoleName.GRIDWORKER, scope="A03", granted_by=None, now=now)


async def send_notice(emulator: BotApiEmulator, text: str, recipients: int) -> SentMessage:
    """The grid worker's /notice through the webhook, up to 确认发送; returns the preview (edited with progress)."""
    emulator.user(GRID_WORKER, "李秀英")
    cursor = emulator.cursor()
    await emulator.send_text(GRID_WORKER, "/notice")
    menu = await emulator.wait_for(GRID_WORKER, texts.NOTICE_CHOOSE_KIND, after=cursor, timeout=WAIT)
    cursor = emulator.cursor()
    await emulator.press(GRID_WORKER, menu.message_id, button(menu, texts.NOTICE_KINDS["outage"]))
    await emulator.wait_for_edit(GRID_WORKER, menu.message_id, texts.notice_ask_text("outage"), after=cursor,
                                 timeout=WAIT)
    cursor = emulator.cursor()
    await emulator.send_text(GRID_WORKER, text)
    choose = await emulator.wait_for(GRID_WORKER, texts.NOTICE_CHOOSE_AUDIENCE, after=cursor, timeout=WAIT)
    cursor = emulator.cursor()
    await emulator.press(GRID_WORKER, choose.message_id, button(choose, "9号楼"))
    preview = await emulator.wait_for_edit(GRID_WORKER, choose.message_id, "通知预览", after=cursor, timeout=WAIT)
    assert f"收件居民：{recipients} 人" in preview.body, preview.body
    await emulator.press(GRID_WORKER, preview.message_id, button(preview, texts.BTN_NOTICE_SEND))
    return preview


async def notice_done(db: Database) -> bool:
    async with db.session() as s:
        notice = (await s.exec(select(Notice))).first()
    return notice is not None and notice.status is NoticeStatus.DONE


@pytest.mark.parametrize("victim", ["follower", "leader"])
async def test_a_worker_killed_in_the_middle_of_a_broadcast_loses_no_resident(
        emulator: BotApiEmulator, tmp_path: Path, pg_url: URL, victim: str) -> None:
    """The follower sends nothing, so killing it changes nothing of the broadcast; the leader's sender is taken over
    by the new leader at once (the rows it had claimed are due again, no lease waited out), and only the row in
    flight per sender task may reach its resident twice."""
    for uid in RESIDENTS:
        emulator.user(uid, f"居民{uid}")
    delivered = emulator.stats.delivered
    async with deployed(emulator, tmp_path, pg_url) as workers:
        await add_residents(workers.db, RESIDENTS)
        first = await workers.names()
        leader = await workers.leader()
        assert leader is not None
        target = leader if victim == "leader" else next(n for n in first if n != leader)
        cursor = emulator.cursor()
        await send_notice(emulator, NOTICE, len(RESIDENTS))
        await until(lambda: sum(delivered[u] for u in RESIDENTS) >= len(RESIDENTS) // 3, WAIT,
                    "a third of the notices out", workers)
        os.kill(pid_of(target), signal.SIGKILL)
        at_kill = sum(1 for u in RESIDENTS if delivered[u])
        assert at_kill < len(RESIDENTS), "the broadcast was over before the kill"
        if victim == "leader":
            await until(lambda: new_leader(workers, target), WAIT, "a new leader", workers)
        await until(lambda: all(delivered[u] for u in RESIDENTS), WAIT, "every resident's notice", workers)
        await until(lambda: notice_done(workers.db), WAIT, "the notice done", workers)
        report = texts.notice_report(len(RESIDENTS), len(RESIDENTS), 0, 0)
        await emulator.wait_for(GRID_WORKER, report, after=cursor, timeout=WAIT)  # the author hears it is done
        await until(lambda: count(workers, WORKERS), WAIT, "the killed worker replaced", workers)
        assert target not in await workers.names()
    copies = [delivered[u] for u in RESIDENTS]
    twice = sum(c - 1 for c in copies)
    print(f"{victim} killed at {at_kill}/{len(RESIDENTS)}; second copies {twice} (bound {IN_FLIGHT})")
    assert min(copies) == 1
    assert twice <= (IN_FLIGHT if victim == "leader" else 0), (twice, at_kill)
    expected = texts.notice_message("outage", NOTICE)
    assert all(m.body == expected for u in RESIDENTS for m in emulator.messages_to(u))


# -- a sweep, and the leader killed in the middle of it ------

EARLIER, LATER = 40, 40  # cases the first sweep escalates (committed), and the ones of the sweep the kill cuts
KINDS = ["repair", "utilities", "noise", "legal", "safety"]  # five units, five desks
MORE_CHATS = {"gongyong": -100603, "jingwu": -100604, "falv": -100605}  # … each with a chat of its own


async def overdue_cases(db: Database, n: int, community_file: Path, resident_id: int) -> list[int]:
    """``n`` cases opened sixty days ago and signed for at once (so no sign-for reminder): each is past its limit
    now (a week at most), and the sweep owes it one escalation, to the grid level."""
    community = load_community(community_file)
    then = datetime.now(UTC) - timedelta(days=60)
    ids: list[int] = []
    async with db.transaction() as s:
        resident = Resident(tg_user_id=resident_id, name="老住户", created_at=then, updated_at=then)
        s.add(resident)
        await s.flush()
        for i in range(n):
            opened_at = then + timedelta(seconds=i)
            ticket = await lifecycle.open_dispatched(
                s, resident=resident, category=KINDS[i % len(KINDS)], text=f"{i % 30 + 1}号楼的事（{resident_id}-{i}）",
                location=f"{i % 30 + 1}号楼", photos=[], community=community, now=opened_at)
            signed = await lifecycle.transition(s, ticket, TicketStatus.SIGNED, actor="staff:3001",
                                                now=opened_at + timedelta(minutes=1))
            assert signed.ok, signed
            assert ticket.id is not None
            ids.append(ticket.id)
    return ids


async def escalations(db: Database) -> list[TicketEvent]:
    async with db.session() as s:
        return list((await s.exec(select(TicketEvent).where(
            TicketEvent.kind == TicketEventKind.ESCALATED).order_by(col(TicketEvent.id)))).all())


async def waiting_on_a_lock(watcher: Any) -> int:
    return int(await watcher.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"))


async def test_the_leader_killed_in_the_middle_of_a_sweep_escalates_every_case_once(
        emulator: BotApiEmulator, tmp_path: Path, pg_url: URL) -> None:
    """A first sweep escalates forty cases and commits; forty more come due, and the next sweep is killed in the
    middle of its transaction: the tickets marked escalated, the events written, the alerts being owed (the test
    holds the outbox table, so the kill lands exactly there, not somewhere by luck). The new leader escalates the
    forty again-due cases once, the first forty never again, and each escalation's alert goes out once."""
    for chat in (*UNIT_CHATS.values(), *MORE_CHATS.values(), *LEVEL_CHATS.values()):
        emulator.group(chat, f"群{chat}", bot_is_admin=True)
    community = community_with(tmp_path, unit_chats=MORE_CHATS)
    db = Database(pg_url)
    await db.migrate_async()
    try:
        ids = await overdue_cases(db, EARLIER, community, 620_001)
    finally:
        await db.dispose()
    holder = await asyncpg.connect(_dsn(pg_url))
    watcher = await asyncpg.connect(_dsn(pg_url))  # pg_stat_activity is read once per transaction: not the holder
    held = holder.transaction()
    released = False
    loop = asyncio.get_running_loop()
    began = loop.time()
    try:
        async with deployed(emulator, tmp_path, pg_url, COMMUNITY_FILE=str(community),
                            SWEEP_INTERVAL_SECONDS="1") as workers:
            await until(lambda: _escalated_at_least(workers, EARLIER), WAIT, "the first sweep", workers)
            await held.start()  # from here on nothing is owed or sent: the next sweep waits inside its transaction
            await holder.execute(f"LOCK TABLE {OutboxMessage.__tablename__} IN EXCLUSIVE MODE")
            ids += await overdue_cases(workers.db, LATER, community, 620_002)
            await until(lambda: waiting_on_a_lock(watcher), WAIT, "the next sweep held up owing its alerts", workers)
            leader = await workers.leader()
            assert leader is not None
            assert len(await escalations(workers.db)) == EARLIER  # the second sweep is not committed
            os.kill(pid_of(leader), signal.SIGKILL)
            await until(lambda: new_leader(workers, leader), WAIT, "a new leader", workers)
            await held.rollback()
            released = True  # the dead leader's transaction ends (rolled back); the new leader sweeps on
            await until(lambda: _escalated_at_least(workers, EARLIER + LATER), WAIT, "every case escalated", workers)
            swept = loop.time() - began
            await settled(workers, timeout=60)
            drained = loop.time() - began
            events = await escalations(workers.db)
            async with workers.db.session() as s:
                tickets = list((await s.exec(select(Ticket).where(col(Ticket.id).in_(ids)))).all())
            await until(lambda: count(workers, WORKERS), WAIT, "the killed worker replaced", workers)
    finally:
        if not released:
            await held.rollback()
        await holder.close()
        await watcher.close()
    breached = [e for e in events if e.note == "breached"]
    per_case = Counter(e.ticket_id for e in breached)
    assert sorted(per_case) == sorted(ids)  # every case escalated for its breach …
    assert set(per_case.values()) == {1} and {e.level for e in breached} == {"grid"}  # … once, to the grid
    # a case whose next overdue period ended while the test ran climbs once more (to community), each step once
    further = Counter((e.ticket_id, e.level) for e in events if e.note != "breached")
    assert set(further.values()) <= {1} and {level for _, level in further} <= {"community"}
    assert {e.note for e in events} <= {"breached", "overdue"}
    assert all(t.escalation_level in ("grid", "community") and t.breached_at is not None
               and t.next_check_at is not None for t in tickets)  # still red: checked again a period on
    # one alert each in the grid level's chat (cards, combined when many wait), a second copy only of what was in
    # flight in the killed sender
    grid_chat = LEVEL_CHATS["grid"]
    numbers = [t.number for t in tickets]
    alerts = [cards(emulator, n, grid_chat) for n in numbers]
    posts = [m.body for m in emulator.messages_to(grid_chat) if m.buttons]
    repeated = sum(c - 1 for c in Counter(posts).values())
    print(f"{len(posts)} posts for {len(numbers)} escalations; {repeated} sent twice (bound {IN_FLIGHT}); "
          f"swept {swept:.1f} s, sent {drained:.1f} s")
    assert min(alerts) == 1 and max(alerts) <= 2
    assert repeated <= IN_FLIGHT


async def _escalated_at_least(workers: Workers, n: int) -> bool:
    async with workers.db.session() as s:
        found = (await s.exec(select(func.count()).select_from(TicketEvent).where(
            TicketEvent.kind == TicketEventKind.ESCALATED))).one()
    return int(found) >= n


# -- Telegram answering 5xx and dropping connections ------

FAULTS: list[tuple[str, str, int | None]] = [  # (how, method, status): one call each
    ("fail", "sendMessage", 500), ("drop", "editMessageText", None), ("fail", "editMessageText", 502),
    ("drop", "sendMessage", None), ("fail", "answerCallbackQuery", 503), ("fail", "sendMessage", 502),
    ("drop", "answerCallbackQuery", None), ("fail", "editMessageText", 500), ("drop", "sendMessage", None),
    ("fail", "sendMessage", 503), ("drop", "editMessageText", None), ("fail", "sendMessage", 500),
]
LOST = 2  # sendMessage answers lost after Telegram took the message: each may repeat what it carried, once


def waiting(emulator: BotApiEmulator, fault: Fault) -> bool:
    """The fault is still pending (not yet met as often as it was set)."""
    return any(f is fault for f in emulator.faults)


async def test_server_errors_and_dropped_connections_while_two_workers_take_complaints(
        emulator: BotApiEmulator, tmp_path: Path, pg_url: URL) -> None:
    async with deployed(emulator, tmp_path, pg_url) as workers:
        residents = list(range(6301, 6301 + len(PROBLEMS)))
        going = [asyncio.create_task(complain(emulator, u, p, patient=True))
                 for u, p in zip(residents, PROBLEMS, strict=True)]
        await until(lambda: rows_at_least(workers, 3), WAIT, "complaints coming in", workers)
        # all at once, while the complaints are under way: each method's next calls fail in this order, whoever
        # makes them (a worker's reply, the leader's sender)
        injected = [emulator.fail(method, status, times=1) if how == "fail" else emulator.drop(method, times=1)
                    for how, method, status in FAULTS]
        lost = emulator.drop("sendMessage", times=LOST, after_recording=True)
        numbers = await asyncio.gather(*going)
        met = sum(1 for f in injected if not waiting(emulator, f))
        repeats = LOST - (lost.remaining if waiting(emulator, lost) else 0)
        missed = [f.method for f in injected if waiting(emulator, f)]
        emulator.clear_faults()
        await settled(workers, timeout=60)
        await until(lambda: all(cards(emulator, n) for n in numbers), WAIT, "every card", workers)
        tickets = await workers.tickets()
        print(f"faults met {met}/{len(FAULTS)} (not: {missed}), "
              f"answers lost {repeats}; steps done again: {RETRIES}")
    assert sorted(t.number for t in tickets) == sorted(numbers) and len(set(numbers)) == len(PROBLEMS)
    assert met == len(FAULTS)  # the faults really met the run
    for user, number in zip(residents, numbers, strict=True):
        assert told(emulator, user, number) == 1  # the number is an edit of the draft: done again, still one
    extra = sum(cards(emulator, n) - 1 for n in numbers)
    assert all(cards(emulator, n) >= 1 for n in numbers) and extra <= repeats, (extra, repeats)


# -- PostgreSQL restarted ------


@pytest.fixture
async def restartable(tmp_path: Path) -> AsyncIterator[tuple[Any, URL]]:
    """A PostgreSQL cluster of this test's own (the session's is shared and must stay up) and a database on it."""
    pg = sys.modules["linli_tests_pg"]
    try:
        with pg.restartable_cluster() as own:
            url = await pg.create_database(own.server)
            yield own, url
    except pg.PgUnavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")


async def test_postgresql_stopped_and_started_again_mid_run(
        emulator: BotApiEmulator, tmp_path: Path, restartable: tuple[Any, URL]) -> None:
    own, url = restartable
    emulator.webhook_retry_delay = 0.25  # Telegram retries within seconds too; the backoff doubles from here
    async with deployed(emulator, tmp_path, url) as workers:
        residents = list(range(6401, 6401 + 6))
        going = [asyncio.create_task(complain(emulator, u, p, patient=True))
                 for u, p in zip(residents, PROBLEMS, strict=False)]
        await until(lambda: rows_at_least(workers, 4), WAIT, "complaints coming in", workers)
        before = emulator.stats.calls.copy()
        await asyncio.to_thread(own.stop, "fast")
        try:
            # down until the webhook has refused updates (503: not stored, so not confirmed) and the emulator
            # holds them for delivery again
            await until(lambda: (emulator._webhook_error or (0, ""))[1].endswith("503 Service Unavailable"), WAIT,
                        "the webhook refusing updates")
            down_since = asyncio.get_running_loop().time()
            await until(lambda: asyncio.get_running_loop().time() - down_since > 3.0, WAIT, "three seconds down")
            pending = emulator.pending_updates
            assert pending >= 1  # residents kept writing: their updates wait at "Telegram"
        finally:
            await asyncio.to_thread(own.start)
        numbers = await asyncio.gather(*going)
        await until(lambda: count(workers, WORKERS), 60, "both workers back, one leading", workers)
        numbers.append(await complain(emulator, 6500, PROBLEMS[-1]))
        await settled(workers, timeout=60)
        await until(lambda: all(cards(emulator, n) for n in numbers), WAIT, "every card", workers)
        tickets = await workers.tickets()
        async with httpx.AsyncClient(timeout=WAIT) as client:
            health = await until(lambda: _healthy(client, workers), WAIT, "/healthz 200", workers)
        print(f"updates waiting at the emulator while down: {pending}; "
              f"calls meanwhile: {dict(emulator.stats.calls - before)}")
    assert sorted(t.number for t in tickets) == sorted(numbers) and len(set(numbers)) == len(numbers)
    for user, number in zip([*residents, 6500], numbers, strict=True):
        assert told(emulator, user, number) == 1
        assert cards(emulator, number) == 1
    assert health["database"] == "ok" and health["leader"] is not None


async def _healthy(client: httpx.AsyncClient, workers: Workers) -> dict[str, Any] | None:
    try:
        answer = await client.get(workers.url + "/healthz")
    except httpx.HTTPError:
        return None
    return answer.json() if answer.status_code == 200 else None

