"""Lifecycle: every legal and illegal transition, the optimistic guard under concurrency (SQLite file and
PostgreSQL), 待补充 pause/resume, reopening, 转派 and mediation stages."""

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from services import SHANGHAI
from services.cases.duplicates import followers
from services.cases.events import staff_actor
from services.cases.lifecycle import (
    FINAL,
    TRANSITIONS,
    Outcome,
    Refusal,
    answer_info,
    check,
    reassign,
    transition,
    withdraw,
)
from services.cases.mediation import (
    MediationRefusal,
    mediation_stage,
    meeting_reminded,
    meetings_to_remind,
    record_mediation,
)
from services.cases.tickets import history, open_ticket
from services.people.residents import bind_grid, get_or_create_resident
from storage.db import Database
from storage.models import MediationStage, Resident, Ticket, TicketEventKind, TicketStatus
from tests.unit.wall_clock import wall_clock_sample

S = TicketStatus
COMMUNITY = wall_clock_sample()
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=SHANGHAI)
STAFF = staff_actor(7)
RESULT = "已联系施工方，限定作业时间为8:00-18:00"

# Written out from the brief, independently of services.cases.lifecycle.TRANSITIONS.
LEGAL: dict[TicketStatus, set[TicketStatus]] = {
    S.RECEIVED: {S.DISPATCHED, S.WITHDRAWN, S.MERGED},
    S.DISPATCHED: {S.SIGNED, S.WITHDRAWN, S.MERGED},
    S.SIGNED: {S.IN_PROGRESS, S.PENDING_INFO, S.WITHDRAWN, S.MERGED},
    S.IN_PROGRESS: {S.RESOLVED, S.PENDING_INFO, S.WITHDRAWN, S.MERGED},
    S.PENDING_INFO: {S.SIGNED, S.WITHDRAWN, S.MERGED},  # came from signed in the matrix set-up
    S.REOPENED: {S.DISPATCHED, S.SIGNED, S.WITHDRAWN, S.MERGED},
    S.RESOLVED: {S.FOLLOWED_UP, S.REOPENED, S.CLOSED},
    S.FOLLOWED_UP: {S.CLOSED, S.REOPENED},
    S.CLOSED: set(),
    S.WITHDRAWN: set(),
    S.MERGED: set(),
}
HAPPY_PATH = (S.DISPATCHED, S.SIGNED, S.IN_PROGRESS, S.RESOLVED, S.FOLLOWED_UP, S.CLOSED)


# --- fixtures and helpers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database file per module; each matrix case copies it (a migration per case is slow)."""
    path = tmp_path_factory.mktemp("template") / "linli.db"
    Database(f"sqlite+aiosqlite:///{path}").migrate()
    return path


@pytest.fixture
async def fresh(template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "copy.db"
    shutil.copy(template, path)
    database = Database(f"sqlite+aiosqlite:///{path}")
    yield database
    await database.dispose()


async def make_resident(db: Database, tg_user_id: int = 1001, grid: str | None = "A03") -> Resident:
    async with db.transaction() as s:
        resident = await get_or_create_resident(s, tg_user_id=tg_user_id, name=f"居民{tg_user_id}", now=NOW)
        if grid:
            await bind_grid(s, resident, grid, community=COMMUNITY, now=NOW)
    return resident


async def open_one(db: Database, resident: Resident, *, category: str = "noise", text: str = "楼上装修太吵") -> Ticket:
    async with db.transaction() as s:
        return await open_ticket(
            s,
            resident=resident,
            category=category,
            text=text,
            location="10号楼2单元",
            photos=[],
            community=COMMUNITY,
            now=NOW,
        )


async def force(db: Database, ticket_id: int, status: TicketStatus, **fields: Any) -> None:
    """Put a ticket straight into ``status`` with the fields that status implies (test set-up only)."""
    values: dict[str, Any] = {"status": status, **fields}
    if status is S.PENDING_INFO:
        values |= {"resume_status": S.SIGNED, "paused_at": NOW}
    if status in {S.RESOLVED, S.FOLLOWED_UP, S.CLOSED}:
        values |= {"resolved_at": NOW, "result": RESULT}
    if status in FINAL | {S.RESOLVED, S.FOLLOWED_UP}:
        values["closed_at"] = NOW
    table = Ticket.__table__
    async with db.transaction() as s:
        await s.exec(update(table).where(table.c.id == ticket_id).values(values))


async def load(db: Database, ticket_id: int) -> Ticket:
    async with db.session() as s:
        ticket = await s.get(Ticket, ticket_id)
    assert ticket is not None
    return ticket


async def move(db: Database, ticket_id: int, to: TicketStatus, *, now=NOW, **kwargs: Any):
    async with db.transaction() as s:
        ticket = await s.get(Ticket, ticket_id)
        return await transition(s, ticket, to, actor=kwargs.pop("actor", STAFF), now=now, **kwargs)


async def walk(db: Database, ticket_id: int, *steps: TicketStatus, now=NOW) -> None:
    for step in steps:
        result = await move(db, ticket_id, step, now=now, result=RESULT if step is S.RESOLVED else None)
        assert result.ok, (step, result)


async def kinds(db: Database, ticket_id: int) -> list[tuple[TicketEventKind, TicketStatus | None, TicketStatus | None]]:
    async with db.session() as s:
        return [(e.kind, e.from_status, e.to_status) for e in await history(s, ticket_id)]


# --- the table --------------------------------------------------------------------------------------


def test_table_matches_the_brief() -> None:
    # 待补充 may return to either, but only to the one it came from (checked in the matrix)
    expected = LEGAL | {S.PENDING_INFO: LEGAL[S.PENDING_INFO] | {S.IN_PROGRESS}}
    assert {s: set(t) for s, t in TRANSITIONS.items()} == expected
    assert set(TRANSITIONS) == set(TicketStatus)
    assert {S.CLOSED, S.WITHDRAWN, S.MERGED} == FINAL


def _expected(frm: TicketStatus, to: TicketStatus) -> Refusal | None:
    if to in LEGAL[frm]:
        return None
    if frm in FINAL:
        return Refusal.FINAL
    if frm == to:
        return Refusal.SAME_STATUS
    if frm is S.PENDING_INFO and to is S.IN_PROGRESS:
        return Refusal.NOT_PREVIOUS_STATUS
    return Refusal.NOT_ALLOWED


@pytest.mark.parametrize("to", list(TicketStatus), ids=str)
@pytest.mark.parametrize("frm", list(TicketStatus), ids=str)
async def test_transition_matrix(fresh: Database, frm: TicketStatus, to: TicketStatus) -> None:
    resident = await make_resident(fresh)
    ticket = await open_one(fresh, resident)
    other = await open_one(fresh, await make_resident(fresh, 1002))
    await force(fresh, ticket.id, frm)
    before = await kinds(fresh, ticket.id)
    async with fresh.transaction() as s:
        current = await s.get(Ticket, ticket.id)
        target = await s.get(Ticket, other.id)
        version = current.version
        result = await transition(
            s, current, to, actor=STAFF, now=NOW + timedelta(hours=1), result=RESULT, merged_into=target
        )
    after = await load(fresh, ticket.id)
    expected = _expected(frm, to)
    if expected is None:
        assert result.ok and result.event is not None
        assert (after.status, after.version) == (to, version + 1)
        event = result.event
        assert (event.from_status, event.to_status, event.actor) == (frm, to, STAFF)
        assert event.at == NOW + timedelta(hours=1)
        assert await kinds(fresh, ticket.id) == [*before, (event.kind, frm, to)]
    else:
        assert (result.outcome, result.reason) == (Outcome.ILLEGAL, expected)
        assert (after.status, after.version) == (frm, version)
        assert await kinds(fresh, ticket.id) == before  # refused: nothing recorded
        assert check(after, to, result=RESULT, merged_into=other) is expected  # the pure rule agrees


# --- the happy path and its events ------------------------------------------------------------------


async def test_happy_path_records_every_step(db: Database) -> None:
    ticket = await open_one(db, await make_resident(db))
    await walk(db, ticket.id, *HAPPY_PATH)
    stored = await load(db, ticket.id)
    assert stored.status is S.CLOSED and stored.version == len(HAPPY_PATH)
    assert (stored.result, stored.signed_at, stored.resolved_at, stored.closed_at) == (RESULT, NOW, NOW, NOW)
    assert stored.next_check_at is None
    assert [k for k, _, _ in await kinds(db, ticket.id)] == [
        TicketEventKind.CREATED,
        TicketEventKind.DISPATCHED,
        *[TicketEventKind.STATUS_CHANGED] * 5,
    ]
    async with db.session() as s:
        resolved = [e for e in await history(s, ticket.id) if e.to_status is S.RESOLVED]
    assert resolved[0].note == RESULT


@pytest.mark.parametrize("result", [None, "", "   \n"])
async def test_resolving_needs_a_result(db: Database, result: str | None) -> None:
    ticket = await open_one(db, await make_resident(db))
    await walk(db, ticket.id, S.DISPATCHED, S.SIGNED, S.IN_PROGRESS)
    outcome = await move(db, ticket.id, S.RESOLVED, result=result)
    assert (outcome.outcome, outcome.reason) == (Outcome.ILLEGAL, Refusal.RESULT_REQUIRED)
    assert (await load(db, ticket.id)).status is S.IN_PROGRESS


async def test_merge_needs_an_open_other_target_and_makes_a_follower(db: Database) -> None:
    alice, bob = await make_resident(db, 1), await make_resident(db, 2)
    first, dup = await open_one(db, alice), await open_one(db, bob)
    assert (await move(db, dup.id, S.MERGED)).reason is Refusal.MERGE_TARGET_REQUIRED
    async with db.transaction() as s:
        itself = await s.get(Ticket, dup.id)
        assert (await transition(s, itself, S.MERGED, actor=STAFF, now=NOW, merged_into=itself)).reason is (
            Refusal.MERGE_TARGET_INVALID
        )
    await force(db, first.id, S.CLOSED)
    closed = await load(db, first.id)
    assert (await move(db, dup.id, S.MERGED, merged_into=closed)).reason is Refusal.MERGE_TARGET_INVALID
    await force(db, first.id, S.RECEIVED, closed_at=None)
    async with db.transaction() as s:
        target = await s.get(Ticket, first.id)
        ticket = await s.get(Ticket, dup.id)
        assert (await transition(s, ticket, S.MERGED, actor=STAFF, now=NOW, merged_into=target)).ok
        assert await followers(s, first.id) == [bob.id]
    stored = await load(db, dup.id)
    assert (stored.status, stored.merged_into_id, stored.closed_at) == (S.MERGED, first.id, NOW)


# --- 待补充: pause and resume ------------------------------------------------------------------------


@pytest.mark.parametrize("came_from", [S.SIGNED, S.IN_PROGRESS])
async def test_pending_info_returns_where_it_came_from(db: Database, came_from: TicketStatus) -> None:
    resident = await make_resident(db)
    ticket = await open_one(db, resident)
    await walk(db, ticket.id, S.DISPATCHED, S.SIGNED)
    if came_from is S.IN_PROGRESS:
        await walk(db, ticket.id, S.IN_PROGRESS)
    asked = NOW + timedelta(hours=5)
    assert (await move(db, ticket.id, S.PENDING_INFO, now=asked)).ok
    paused = await load(db, ticket.id)
    # the clock stops; the sweep looks once at once, to arm the chase of the resident's answer (it has the file)
    assert (paused.resume_status, paused.paused_at, paused.next_check_at) == (came_from, asked, asked)

    wrong = S.IN_PROGRESS if came_from is S.SIGNED else S.SIGNED
    assert (await move(db, ticket.id, wrong, now=asked)).reason is Refusal.NOT_PREVIOUS_STATUS
    answered = asked + timedelta(hours=30)
    async with db.transaction() as s:
        current = await s.get(Ticket, ticket.id)
        result = await answer_info(s, current, actor=f"resident:{resident.id}", now=answered, note="在10号楼2单元601")
    assert result.ok and result.event.to_status is came_from
    resumed = await load(db, ticket.id)
    assert (resumed.status, resumed.resume_status, resumed.paused_at) == (came_from, None, None)
    assert resumed.paused_seconds == 30 * 3600
    assert resumed.due_at == ticket.due_at + timedelta(hours=30)
    assert resumed.next_check_at == NOW + timedelta(hours=126 + 30)  # yellow, moved by the pause
    async with db.transaction() as s:
        again = await answer_info(s, await s.get(Ticket, ticket.id), actor="resident:1", now=answered)
    assert again.reason is Refusal.NOT_ALLOWED


async def test_reopen_restarts_the_clocks(db: Database) -> None:
    ticket = await open_one(db, await make_resident(db))
    await walk(db, ticket.id, *HAPPY_PATH[:4])
    later = NOW + timedelta(days=2)
    assert (await move(db, ticket.id, S.REOPENED, now=later)).ok
    stored = await load(db, ticket.id)
    assert (stored.clock_started_at, stored.due_at, stored.sign_due_at) == (
        later,
        later + timedelta(hours=168),
        later + timedelta(hours=2),
    )
    assert (stored.closed_at, stored.next_check_at) == (None, later + timedelta(hours=2))
    await walk(db, ticket.id, S.SIGNED, S.IN_PROGRESS, S.RESOLVED, now=later)


# --- the optimistic guard ---------------------------------------------------------------------------


async def test_two_staff_sign_at_once_exactly_one_wins(db: Database) -> None:
    """Both press 签收 on the button they saw (version v); two real transactions on one SQLite file."""
    ticket = await open_one(db, await make_resident(db))
    await walk(db, ticket.id, S.DISPATCHED)
    seen = (await load(db, ticket.id)).version

    async def press(staff: int):
        async with db.transaction() as s:
            current = await s.get(Ticket, ticket.id)
            return await transition(
                s, current, S.SIGNED, actor=staff_actor(staff), now=NOW, expected_version=seen
            )

    results = await asyncio.gather(press(1), press(2))
    assert sorted(r.outcome for r in results) == [Outcome.CONFLICT, Outcome.OK]
    signed = [k for k in await kinds(db, ticket.id) if k[2] is S.SIGNED]
    assert len(signed) == 1
    assert (await load(db, ticket.id)).version == seen + 1


async def test_concurrent_presses_without_a_version_still_have_one_winner(db: Database) -> None:
    ticket = await open_one(db, await make_resident(db))
    await walk(db, ticket.id, S.DISPATCHED)
    results = await asyncio.gather(*(move(db, ticket.id, S.SIGNED, actor=staff_actor(i)) for i in range(5)))
    assert [r.outcome for r in results].count(Outcome.OK) == 1
    assert {r.reason for r in results if not r.ok} == {Refusal.SAME_STATUS}


async def test_stale_ticket_loses_at_the_update(db: Database) -> None:
    """The ticket in hand is stale: the guarded UPDATE matches no row, nothing is applied."""
    ticket = await open_one(db, await make_resident(db))
    await walk(db, ticket.id, S.DISPATCHED)
    async with db.session() as stale_session:
        stale = await stale_session.get(Ticket, ticket.id)
        await stale_session.commit()  # end the read; the object keeps what it saw
        assert (await move(db, ticket.id, S.SIGNED, actor=staff_actor(1))).ok
        result = await transition(stale_session, stale, S.SIGNED, actor=staff_actor(2), now=NOW)
        await stale_session.commit()
    assert result.outcome is Outcome.CONFLICT
    assert stale.status is S.SIGNED  # reloaded, so the desk can say who was faster


async def test_guard_also_catches_status_changes_made_elsewhere(db: Database) -> None:
    """tickets.withdraw does not bump the version; the status half of the guard still stops a sign-off."""
    resident = await make_resident(db)
    ticket = await open_one(db, resident)
    await walk(db, ticket.id, S.DISPATCHED)
    async with db.session() as staff:
        held = await staff.get(Ticket, ticket.id)
        await staff.commit()
        async with db.transaction() as s:
            assert (await withdraw(s, resident_id=resident.id, number=ticket.number, now=NOW)).ok
        assert (await transition(staff, held, S.SIGNED, actor=STAFF, now=NOW)).outcome is Outcome.CONFLICT
        await staff.commit()
    assert (await load(db, ticket.id)).status is S.WITHDRAWN


# --- 转派 ---------------------------------------------------------------------------------------------


async def test_reassign_hands_over_and_restarts_the_sign_clock(db: Database) -> None:
    ticket = await open_one(db, await make_resident(db))
    await walk(db, ticket.id, S.DISPATCHED, S.SIGNED)
    later = NOW + timedelta(hours=3)
    async with db.transaction() as s:
        current = await s.get(Ticket, ticket.id)
        result = await reassign(
            s, current, unit="wuye", reason="楼道噪音系管道问题，属物业", actor=STAFF, now=later, community=COMMUNITY
        )
    assert result.ok
    assert (result.event.kind, result.event.unit, result.event.note) == (
        TicketEventKind.REASSIGNED,
        "wuye",
        "楼道噪音系管道问题，属物业",
    )
    stored = await load(db, ticket.id)
    assert (stored.unit, stored.status, stored.sign_due_at) == ("wuye", S.DISPATCHED, later + timedelta(hours=2))
    assert stored.due_at == ticket.due_at  # the resident's deadline stands
    assert stored.next_check_at == later + timedelta(hours=2)


@pytest.mark.parametrize(
    ("status", "unit", "reason", "refusal"),
    [
        (S.SIGNED, "wuye", "  ", Refusal.REASON_REQUIRED),
        (S.SIGNED, "nobody", "原因", Refusal.UNKNOWN_UNIT),
        (S.SIGNED, "juweihui", "原因", Refusal.SAME_UNIT),
        (S.PENDING_INFO, "wuye", "原因", Refusal.NOT_ALLOWED),
        (S.RESOLVED, "wuye", "原因", Refusal.NOT_ALLOWED),
        (S.CLOSED, "wuye", "原因", Refusal.FINAL),
    ],
)
async def test_reassign_refusals(
    fresh: Database, status: TicketStatus, unit: str, reason: str, refusal: Refusal
) -> None:
    ticket = await open_one(fresh, await make_resident(fresh))
    await force(fresh, ticket.id, status)
    async with fresh.transaction() as s:
        current = await s.get(Ticket, ticket.id)
        result = await reassign(s, current, unit=unit, reason=reason, actor=STAFF, now=NOW, community=COMMUNITY)
    assert (result.outcome, result.reason) == (Outcome.ILLEGAL, refusal)
    assert (await load(fresh, ticket.id)).unit == "juweihui"


async def test_reassign_with_a_stale_button_is_a_conflict(db: Database) -> None:
    ticket = await open_one(db, await make_resident(db))
    await walk(db, ticket.id, S.DISPATCHED)
    async with db.transaction() as s:
        current = await s.get(Ticket, ticket.id)
        result = await reassign(
            s, current, unit="wuye", reason="x", actor=STAFF, now=NOW, community=COMMUNITY, expected_version=0
        )
    assert result.outcome is Outcome.CONFLICT


# --- new tickets are armed for the sweep ------------------------------------------------------------


async def test_new_ticket_is_due_for_a_first_check(db: Database) -> None:
    ticket = await open_one(db, await make_resident(db))
    assert (await load(db, ticket.id)).next_check_at == NOW
    assert ticket.version == 0


# --- mediation --------------------------------------------------------------------------------------


async def test_mediation_stages_in_order_with_a_meeting_time(db: Database) -> None:
    ticket = await open_one(db, await make_resident(db), category="dispute", text="邻居占用公共楼道")
    meeting = NOW + timedelta(days=3)
    async with db.transaction() as s:
        t = await s.get(Ticket, ticket.id)
        assert (await record_mediation(s, t, MediationStage.REGISTERED, actor=STAFF, now=NOW)).reason is (
            MediationRefusal.OUT_OF_ORDER
        )
        assert (await record_mediation(s, t, MediationStage.APPLIED, actor=STAFF, now=NOW)).ok
        assert (await record_mediation(s, t, MediationStage.REGISTERED, actor=STAFF, now=NOW)).ok
        assert (await record_mediation(s, t, MediationStage.MEETING, actor=STAFF, now=NOW)).reason is (
            MediationRefusal.MEETING_TIME_REQUIRED
        )
        assert (await record_mediation(s, t, MediationStage.MEETING, actor=STAFF, now=NOW, meeting_at=meeting)).ok
        rescheduled = meeting + timedelta(days=1)
        assert (
            await record_mediation(s, t, MediationStage.MEETING, actor=STAFF, now=NOW, meeting_at=rescheduled)
        ).ok
        assert (
            await record_mediation(s, t, MediationStage.NEGOTIATION, actor=STAFF, now=NOW, meeting_at=meeting)
        ).reason is MediationRefusal.MEETING_TIME_UNEXPECTED
        assert (await record_mediation(s, t, MediationStage.AGREEMENT, actor=STAFF, now=NOW)).reason is (
            MediationRefusal.OUT_OF_ORDER
        )
        for stage in (MediationStage.NEGOTIATION, MediationStage.AGREEMENT, MediationStage.FOLLOW_UP):
            assert (await record_mediation(s, t, stage, actor=STAFF, now=NOW, note=stage.value)).ok
        assert (await record_mediation(s, t, MediationStage.FOLLOW_UP, actor=STAFF, now=NOW)).reason is (
            MediationRefusal.OUT_OF_ORDER
        )
        assert await mediation_stage(s, ticket.id) is MediationStage.FOLLOW_UP
    async with db.session() as s:
        events = [e for e in await history(s, ticket.id) if e.kind is TicketEventKind.MEDIATION]
        upcoming = await meetings_to_remind(s, NOW, timedelta(days=7))
        assert await meetings_to_remind(s, NOW, meeting - NOW + timedelta(hours=1)) == []  # only the latest time
    assert [e.mediation_stage for e in events] == [
        MediationStage.APPLIED,
        MediationStage.REGISTERED,
        MediationStage.MEETING,
        MediationStage.MEETING,
        MediationStage.NEGOTIATION,
        MediationStage.AGREEMENT,
        MediationStage.FOLLOW_UP,
    ]
    assert [(e.ticket_id, e.meeting_at) for e in upcoming] == [(ticket.id, rescheduled)]
    async with db.transaction() as s:
        await meeting_reminded(s, upcoming[0], NOW)
    async with db.session() as s:  # a fresh session, as after a restart: the reminder is remembered
        assert await meetings_to_remind(s, NOW, timedelta(days=7)) == []


async def test_a_rescheduled_meeting_is_reminded_again(db: Database) -> None:
    resident = await make_resident(db)
    dispute = await open_one(db, resident, category="dispute")
    first, second = NOW + timedelta(hours=1), NOW + timedelta(hours=1, minutes=30)
    async with db.transaction() as s:
        t = await s.get(Ticket, dispute.id)
        for stage in (MediationStage.APPLIED, MediationStage.REGISTERED):
            assert (await record_mediation(s, t, stage, actor=STAFF, now=NOW)).ok
        assert (await record_mediation(s, t, MediationStage.MEETING, actor=STAFF, now=NOW, meeting_at=first)).ok
        [due] = await meetings_to_remind(s, NOW, timedelta(hours=2))
        await meeting_reminded(s, due, NOW)
        assert (await record_mediation(s, t, MediationStage.MEETING, actor=STAFF, now=NOW, meeting_at=second)).ok
        [again] = await meetings_to_remind(s, NOW, timedelta(hours=2))
        assert again.meeting_at == second
        await meeting_reminded(s, again, NOW)
        assert await meetings_to_remind(s, NOW, timedelta(hours=2)) == []


async def test_mediation_only_for_live_disputes(db: Database) -> None:
    resident = await make_resident(db)
    noise = await open_one(db, resident)
    dispute = await open_one(db, resident, category="dispute")
    await force(db, dispute.id, S.WITHDRAWN)
    async with db.transaction() as s:
        for ticket_id, refusal in ((noise.id, MediationRefusal.NOT_DISPUTE), (dispute.id, MediationRefusal.NOT_ACTIVE)):
            t = await s.get(Ticket, ticket_id)
            assert (await record_mediation(s, t, MediationStage.APPLIED, actor=STAFF, now=NOW)).reason is refusal


# --- PostgreSQL: a real race, both transactions holding the same version ------------------------------
# (pg_db: tests/conftest.py, a fresh database on the run's one throwaway cluster)


async def test_two_staff_sign_at_once_on_postgres(pg_db: Database) -> None:
    """Both transactions read version v before either writes; the row lock plus the guard pick one."""
    ticket = await open_one(pg_db, await make_resident(pg_db))
    await walk(pg_db, ticket.id, S.DISPATCHED)
    both_read = asyncio.Barrier(2)

    async def press(staff: int):
        async with pg_db.transaction() as s:
            current = await s.get(Ticket, ticket.id)
            await both_read.wait()
            return await transition(s, current, S.SIGNED, actor=staff_actor(staff), now=NOW)

    results = await asyncio.wait_for(asyncio.gather(press(1), press(2)), timeout=60)
    assert sorted(r.outcome for r in results) == [Outcome.CONFLICT, Outcome.OK]
    assert len([k for k in await kinds(pg_db, ticket.id) if k[2] is S.SIGNED]) == 1
    stored = await load(pg_db, ticket.id)
    assert (stored.status, stored.version) == (S.SIGNED, 2)
