"""Sweep: the indexed due query, reminders and escalation once per level, idempotence, SOS tickets,
and the 0002 migration arming tickets stored before it."""

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from services import SHANGHAI
from services.cases.clocks import Colour, colour
from services.cases.events import staff_actor
from services.cases.lifecycle import Outcome, transition, withdraw
from services.cases.sweep import (
    ChaseKind,
    EscalationReason,
    ReminderKind,
    SweepReport,
    due_for_check,
    due_query,
    next_level,
    open_sos,
    sweep,
)
from services.cases.tickets import history, open_ticket
from services.community.model import Category, EscalationLevelName
from services.people.residents import bind_grid, get_or_create_resident
from storage.db import MIGRATIONS_DIR, Database, sync_url
from storage.models import Resident, Ticket, TicketEventKind, TicketStatus
from tests.unit.wall_clock import wall_clock_sample

S = TicketStatus
L = EscalationLevelName
_SAMPLE = wall_clock_sample()
COMMUNITY = dataclasses.replace(
    _SAMPLE,
    units=tuple(dataclasses.replace(u, chat_id=-100 - i) for i, u in enumerate(_SAMPLE.units)),
    escalation=tuple(dataclasses.replace(e, chat_id=-900 - i) for i, e in enumerate(_SAMPLE.escalation)),
)
CHAT = {e.level: e.chat_id for e in COMMUNITY.escalation}
UNIT_CHAT = {u.code: u.chat_id for u in COMMUNITY.units}
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=SHANGHAI)
H = timedelta(hours=1)


async def make_resident(db: Database, tg_user_id: int = 1001) -> Resident:
    async with db.transaction() as s:
        resident = await get_or_create_resident(s, tg_user_id=tg_user_id, name="居民", now=NOW)
        await bind_grid(s, resident, "A03", community=COMMUNITY, now=NOW)
    return resident


async def open_one(db: Database, resident: Resident, *, category: str = "noise", now: datetime = NOW) -> Ticket:
    async with db.transaction() as s:
        return await open_ticket(
            s,
            resident=resident,
            category=category,
            text="楼上装修太吵",
            location="10号楼",
            photos=[],
            community=COMMUNITY,
            now=now,
        )


async def walk(db: Database, ticket_id: int, *steps: TicketStatus, now: datetime = NOW) -> None:
    for step in steps:
        async with db.transaction() as s:
            ticket = await s.get(Ticket, ticket_id)
            result = await transition(s, ticket, step, actor=staff_actor(1), now=now, result="已处理")
        assert result.ok, (step, result)


async def run(db: Database, now: datetime, **kwargs) -> SweepReport:
    async with db.transaction() as s:
        return await sweep(s, now, COMMUNITY, **kwargs)


async def load(db: Database, ticket_id: int) -> Ticket:
    async with db.session() as s:
        return await s.get(Ticket, ticket_id)


async def alerts(db: Database, ticket_id: int) -> list[tuple[TicketEventKind, str | None, str | None]]:
    async with db.session() as s:
        return [
            (e.kind, e.note, e.level)
            for e in await history(s, ticket_id)
            if e.kind in {TicketEventKind.REMINDED, TicketEventKind.ESCALATED}
        ]


async def signed_ticket(db: Database) -> Ticket:
    ticket = await open_one(db, await make_resident(db))
    await walk(db, ticket.id, S.DISPATCHED, S.SIGNED)
    return ticket


# --- the query --------------------------------------------------------------------------------------


def _raw(value: object) -> object:
    """A bind value as the driver sees it (naive UTC text for datetimes); EXPLAIN needs no more."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return value



async def test_due_query_uses_the_next_check_index(db: Database) -> None:
    resident = await make_resident(db)
    for i in range(50):
        await open_one(db, resident, now=NOW + timedelta(minutes=i))
    async with db.session() as s:
        conn = await s.connection()
        compiled = due_query(NOW).compile(dialect=conn.dialect)
        params = [compiled.params[name] for name in compiled.positiontup]
        params = [_raw(p) for p in params]
        plan = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", tuple(params))).all()
    details = " | ".join(row[-1] for row in plan)
    assert "SEARCH tickets USING INDEX ix_tickets_next_check_at (next_check_at<?)" in details
    assert "SCAN tickets" not in details and "TEMP B-TREE" not in details  # no full scan, no sort


# --- arming and idempotence -------------------------------------------------------------------------


async def test_first_sweep_arms_a_new_ticket_and_a_second_finds_nothing(db: Database) -> None:
    ticket = await open_one(db, await make_resident(db))
    first = await run(db, NOW)
    assert (first.checked, first.empty) == (1, True)
    assert (await load(db, ticket.id)).next_check_at == NOW + 2 * H  # the sign-for limit comes first
    second = await run(db, NOW)
    assert (second.checked, second.empty) == (0, True)


async def test_unsigned_past_the_limit_is_reminded_and_escalated_once(db: Database) -> None:
    ticket = await open_one(db, await make_resident(db))
    await walk(db, ticket.id, S.DISPATCHED)
    assert (await run(db, NOW + 2 * H - timedelta(seconds=1))).empty
    report = await run(db, NOW + 2 * H)
    assert [(r.number, r.unit, r.chat_id, r.kind) for r in report.reminders] == [
        (ticket.number, "juweihui", UNIT_CHAT["juweihui"], ReminderKind.SIGN_OVERDUE)
    ]
    assert [(e.level, e.chat_id, e.reason) for e in report.escalations] == [
        (L.GRID, CHAT[L.GRID], EscalationReason.SIGN_OVERDUE)
    ]
    assert (await run(db, NOW + 2 * H)).checked == 0
    assert (await run(db, NOW + 3 * H)).empty
    assert await alerts(db, ticket.id) == [
        (TicketEventKind.REMINDED, "sign_overdue", None),
        (TicketEventKind.ESCALATED, "sign_overdue", "grid"),
    ]
    assert (await load(db, ticket.id)).escalation_level == "grid"


async def test_yellow_reminder_then_red_escalation_each_once(db: Database) -> None:
    ticket = await signed_ticket(db)
    yellow, red = NOW + 126 * H, NOW + 168 * H  # noise: 168 h
    assert (await run(db, yellow - timedelta(seconds=1))).empty
    report = await run(db, yellow)
    assert [(r.kind, r.chat_id, r.due_at) for r in report.reminders] == [
        (ReminderKind.YELLOW, UNIT_CHAT["juweihui"], ticket.due_at)
    ]
    assert report.escalations == ()
    assert (await run(db, yellow + H)).empty
    report = await run(db, red)
    assert [(e.level, e.reason) for e in report.escalations] == [(L.GRID, EscalationReason.BREACHED)]
    assert report.reminders == ()
    for later in (red, red + H, red + 168 * H - timedelta(seconds=1)):  # next: red a further limit (168 h) on
        assert (await run(db, later)).checked == 0
    stored = await load(db, ticket.id)
    assert (stored.reminded_at, stored.breached_at, stored.next_check_at) == (yellow, red, red + 168 * H)
    assert await alerts(db, ticket.id) == [
        (TicketEventKind.REMINDED, "yellow", None),
        (TicketEventKind.ESCALATED, "breached", "grid"),
    ]


async def test_a_late_sweep_goes_straight_to_red(db: Database) -> None:
    ticket = await signed_ticket(db)
    report = await run(db, NOW + 200 * H)
    assert report.reminders == () and [e.reason for e in report.escalations] == [EscalationReason.BREACHED]
    assert (await load(db, ticket.id)).reminded_at == NOW + 200 * H  # the skipped yellow is not sent later


async def test_escalation_climbs_one_level_per_breach(db: Database) -> None:
    ticket = await open_one(db, await make_resident(db))
    await walk(db, ticket.id, S.DISPATCHED)
    await run(db, NOW + 2 * H)  # sign-for limit: grid
    await walk(db, ticket.id, S.SIGNED, now=NOW + 3 * H)
    report = await run(db, NOW + 168 * H)  # resolution limit: community
    assert [e.level for e in report.escalations] == [L.COMMUNITY]
    assert (await load(db, ticket.id)).escalation_level == "community"


def test_next_level() -> None:
    assert [next_level(x) for x in (None, "grid", "community", "street")] == [L.GRID, L.COMMUNITY, L.STREET, L.STREET]


async def test_sweeping_every_hour_gives_each_alert_exactly_once(db: Database) -> None:
    resident = await make_resident(db)
    unsigned = await open_one(db, resident)
    signed = await open_one(db, resident, category="repair")  # 24 h
    await walk(db, signed.id, S.DISPATCHED, S.SIGNED)
    done = await open_one(db, resident, category="repair")
    await walk(db, done.id, S.DISPATCHED, S.SIGNED, S.IN_PROGRESS, S.RESOLVED, now=NOW + H)
    seen: list[tuple[str, str]] = []
    for hour in range(0, 24 * 10):
        report = await run(db, NOW + hour * H + timedelta(minutes=7))
        seen += [(r.number, r.kind.value) for r in report.reminders]
        seen += [(e.number, f"{e.reason.value}->{e.level.value}") for e in report.escalations]
    assert sorted(seen) == sorted(
        [
            (unsigned.number, "sign_overdue"),
            (unsigned.number, "sign_overdue->grid"),
            (unsigned.number, "yellow"),
            (unsigned.number, "breached->community"),
            (signed.number, "yellow"),
            (signed.number, "breached->grid"),
            # still red: a level a further limit (24 h), then the street reminded each further day
            (signed.number, "overdue->community"),
            (signed.number, "overdue->street"),
            *[(signed.number, "overdue")] * 6,  # 96 h … 216 h
        ]
    )


async def test_sweep_does_not_invalidate_the_buttons_staff_hold(db: Database) -> None:
    ticket = await open_one(db, await make_resident(db))
    await walk(db, ticket.id, S.DISPATCHED)
    seen = (await load(db, ticket.id)).version
    assert not (await run(db, NOW + 2 * H)).empty
    async with db.transaction() as s:
        current = await s.get(Ticket, ticket.id)
        result = await transition(s, current, S.SIGNED, actor=staff_actor(3), now=NOW + 2 * H, expected_version=seen)
    assert result.outcome is Outcome.OK


async def test_paused_ticket_is_not_checked_until_the_resident_answers(db: Database) -> None:
    ticket = await signed_ticket(db)
    await walk(db, ticket.id, S.PENDING_INFO, now=NOW + 50 * H)
    late = await run(db, NOW + 300 * H)  # clock stopped: only the resident's silence is chased, no clock alert
    assert (late.reminders, late.escalations, [c.kind for c in late.chases]) == ((), (), [ChaseKind.RESIDENT,
                                                                                         ChaseKind.DESK])
    assert (await run(db, NOW + 300 * H)).checked == 0 and (await load(db, ticket.id)).next_check_at is None
    await walk(db, ticket.id, S.SIGNED, now=NOW + 300 * H)  # answered after 250 h of waiting
    assert (await run(db, NOW + 375 * H)).empty  # 125 h of clock used
    report = await run(db, NOW + 376 * H)
    assert [r.kind for r in report.reminders] == [ReminderKind.YELLOW]


async def test_finished_tickets_are_disarmed(db: Database) -> None:
    resident = await make_resident(db)
    ticket = await open_one(db, resident)
    async with db.transaction() as s:  # withdrawal goes through the state machine, which disarms the clocks
        assert (await withdraw(s, resident_id=resident.id, number=ticket.number, now=NOW)).ok
    assert (await load(db, ticket.id)).next_check_at is None
    report = await run(db, NOW + 500 * H)
    assert (report.checked, report.empty) == (0, True)


async def test_batches(db: Database) -> None:
    resident = await make_resident(db)
    for _ in range(3):
        await open_one(db, resident)
    first = await run(db, NOW, batch=2)
    second = await run(db, NOW, batch=2)
    assert (first.checked, first.more, second.checked, second.more) == (2, True, 1, False)


# --- SOS --------------------------------------------------------------------------------------------


async def test_sos_is_red_and_at_community_level_at_once(db: Database) -> None:
    resident = await make_resident(db)
    async with db.transaction() as s:
        result = await open_sos(
            s, resident=resident, text="楼道里有煤气味", location="10号楼1单元", photos=[], community=COMMUNITY, now=NOW
        )
    ticket = result.ticket
    assert (result.escalation.level, result.escalation.chat_id, result.escalation.reason) == (
        L.COMMUNITY,
        CHAT[L.COMMUNITY],
        EscalationReason.SOS,
    )
    stored = await load(db, ticket.id)
    assert (stored.emergency, stored.status, stored.unit, stored.escalation_level) == (
        True,
        S.DISPATCHED,
        "jingwu",
        "community",
    )
    assert colour(stored, NOW) is Colour.RED
    async with db.session() as s:
        events = [(e.kind, e.level) for e in await history(s, ticket.id)]
    assert events == [
        (TicketEventKind.CREATED, None),
        (TicketEventKind.DISPATCHED, None),
        (TicketEventKind.ESCALATED, "community"),
    ]
    assert (await run(db, NOW + 90 * timedelta(minutes=1))).empty  # no yellow for what is red already
    await walk(db, ticket.id, S.SIGNED, now=NOW + 10 * timedelta(minutes=1))
    report = await run(db, NOW + 2 * H)  # safety: 2 h
    assert [(e.level, e.reason) for e in report.escalations] == [(L.STREET, EscalationReason.BREACHED)]


async def test_an_emergency_of_any_category_runs_on_the_emergency_limit_not_its_category_s(db: Database) -> None:
    """A fall goes to the community as "other" (seven days): its clock is the emergency's few hours, breached and
    sent on to the street when they pass; a reopening keeps it."""
    resident = await make_resident(db)
    three = dataclasses.replace(COMMUNITY, emergency=dataclasses.replace(COMMUNITY.emergency, limit_hours=3))
    async with db.transaction() as s:
        sos = await open_sos(s, resident=resident, text="老人在楼道摔倒了 起不来了", location="10号楼",
                             photos=[], community=three, now=NOW, category=Category.OTHER, kind="medical")
        lift = await open_sos(s, resident=resident, text="电梯困人", location="9号楼", photos=[], community=three,
                              now=NOW, category=Category.REPAIR, kind="trapped")
    for t in (sos.ticket, lift.ticket):
        stored = await load(db, t.id)
        assert stored.due_at == NOW + 3 * H, stored.category  # not 168 h (other) nor 24 h (repair)
        assert stored.next_check_at is not None and stored.next_check_at <= NOW + 3 * H
    assert (await load(db, sos.ticket.id)).unit == "juweihui"  # the category still chooses the unit
    await walk(db, sos.ticket.id, S.SIGNED, now=NOW + 10 * timedelta(minutes=1))
    async with db.transaction() as s:
        report = await sweep(s, NOW + 3 * H, three)
    assert (sos.ticket.id, L.STREET, EscalationReason.BREACHED) in [
        (e.ticket_id, e.level, e.reason) for e in report.escalations]
    async with db.transaction() as s:  # resolved, then reopened: the same few hours from the reopening
        t = await s.get(Ticket, lift.ticket.id)
        for step in (S.SIGNED, S.IN_PROGRESS, S.RESOLVED, S.REOPENED):
            assert (await transition(s, t, step, actor=staff_actor(1), now=NOW + H, result="已救出")).ok
    assert (await load(db, lift.ticket.id)).due_at == NOW + H + 3 * H


# --- the migration ----------------------------------------------------------------------------------


def _alembic(url: str, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()


def _columns(conn: Connection) -> set[str]:
    return {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(tickets)")}


def test_migration_arms_stored_open_tickets_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    Database(url).migrate("0001")
    engine = create_engine(sync_url(url))
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO residents (id, tg_user_id, name, created_at, updated_at) VALUES (1, 1, 'a', :t, :t)"),
            {"t": "2026-11-22 01:30:00"},
        )
        for i, status in enumerate(("in_progress", "closed"), start=1):
            conn.execute(
                text(
                    "INSERT INTO tickets (id, number, resident_id, category, text, photos, status, unit, created_at,"
                    " updated_at, sign_due_at, due_at) VALUES (:id, :n, 1, 'noise', 't', '[]', :s, 'juweihui',"
                    " '2026-11-22 01:30:00', '2026-11-22 01:30:00', '2026-11-22 03:30:00', '2026-11-29 01:30:00')"
                ),
                {"id": i, "n": f"LL-20261122-000{i}", "s": status},
            )
    Database(url).migrate()
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT status, next_check_at, version FROM tickets ORDER BY id").all()
    assert [tuple(r) for r in rows] == [("in_progress", "2026-11-22 01:30:00", 0), ("closed", None, 0)]
    _alembic(url, "downgrade", "0001")
    with engine.connect() as conn:
        assert "next_check_at" not in _columns(conn)
        assert conn.exec_driver_sql("SELECT count(*) FROM tickets").scalar_one() == 2
    _alembic(url, "upgrade", "head")
    with engine.connect() as conn:
        assert {"next_check_at", "version", "paused_seconds"} <= _columns(conn)
    engine.dispose()


@pytest.mark.parametrize("status", [S.RESOLVED, S.CLOSED])
async def test_tickets_resolved_before_the_sweep_raise_nothing(db: Database, status: TicketStatus) -> None:
    ticket = await open_one(db, await make_resident(db))
    steps = [S.DISPATCHED, S.SIGNED, S.IN_PROGRESS, S.RESOLVED] + ([S.CLOSED] if status is S.CLOSED else [])
    await walk(db, ticket.id, *steps, now=NOW + H)
    assert (await run(db, NOW + 1000 * H)).checked == 0


async def test_two_overlapping_sweeps_give_each_alert_once(pg_db: Database) -> None:
    """A leader that lost the lead while it swept, and the next one, sweeping the same tickets at once (PostgreSQL,
    where they really run side by side): the second waits for the first's rows, then finds its plan stale and gives
    nothing a second time."""
    ticket = await signed_ticket(pg_db)
    later = NOW + 30 * 24 * H
    async with pg_db.transaction() as first:
        report = await sweep(first, later, COMMUNITY)
        assert [e.level for e in report.escalations] == [L.GRID]
        async with pg_db.session() as other:  # the other sweep reads before the first commits …
            assert [t.id for t in await due_for_check(other, later)] == [ticket.id]
        second = asyncio.create_task(run(pg_db, later + H))  # … and writes after: it waits on the row
        async with asyncio.timeout(10):
            while not await _waiting_on_a_lock(pg_db):
                assert not second.done()
                await asyncio.sleep(0.02)
    late = await second
    assert late.empty and late.conflicts == 1
    assert await alerts(pg_db, ticket.id) == [(TicketEventKind.ESCALATED, "breached", "grid")]


async def _waiting_on_a_lock(db: Database) -> bool:
    async with db.session() as s:
        return bool((await s.exec(text(  # type: ignore[call-overload]
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ))).one()[0])
