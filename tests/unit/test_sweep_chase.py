"""Keeping after cases: still red after the red escalation (grid → community → street, then a reminder per period
at the street), and 待补充 the resident never answers (the resident reminded, then the desk told). ``now`` is a
parameter throughout: the plan is a pure function of a ticket and a moment, the sweep runs at chosen moments."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

from services import SHANGHAI
from services.cases import clocks
from services.cases.lifecycle import answer_info
from services.cases.sweep import ChaseKind, EscalationReason, ReminderKind, _plan
from services.cases.working_time import deadline
from services.community.model import (
    EscalationLevelName,
    LimitUnit,
    TimeLimit,
    WorkingTime,
    load_community,
)
from storage.db import Database
from storage.models import Ticket, TicketEventKind, TicketStatus
from tests.unit.test_sweep import CHAT, COMMUNITY, UNIT_CHAT, alerts, load, make_resident, open_one, run, walk
from tests.unit.wall_clock import sample_text

S = TicketStatus
L = EscalationLevelName
H = timedelta(hours=1)
LATE = datetime(2026, 11, 23, 23, 30, tzinfo=SHANGHAI)  # filed at 23:30 on a Monday
NOISE = 168 * H


def _red(now: datetime, **fields: object) -> Ticket:
    """A signed noise case (168 h) that breached at its deadline ``LATE + 168 h``, in memory."""
    values: dict[str, object] = dict(
        id=7, number="LL-X", resident_id=1, category="noise", text="吵", unit="juweihui", status=S.SIGNED,
        created_at=LATE, updated_at=LATE, sign_due_at=LATE + 2 * H, due_at=LATE + NOISE, signed_at=LATE + H,
        reminded_at=LATE + 126 * H, breached_at=LATE + NOISE, escalation_level="grid",
    )
    values.update(fields)
    return Ticket(**values)


# --- the plan, pure ---------------------------------------------------------------------------------


def test_plan_climbs_one_level_a_further_limit_after_the_red_escalation() -> None:
    due = LATE + NOISE
    assert _plan(_red(due), due + NOISE - timedelta(seconds=1), COMMUNITY).escalations == []
    plan = _plan(_red(due), due + NOISE, COMMUNITY)
    assert [(e.level, e.chat_id, e.reason) for e in plan.escalations] == [
        (L.COMMUNITY, CHAT[L.COMMUNITY], EscalationReason.OVERDUE)]
    assert plan.changes["escalation_level"] == L.COMMUNITY and plan.changes["overdue_steps"] == 1
    assert plan.changes["next_check_at"] == due + 2 * NOISE


def test_plan_at_the_street_reminds_the_street_once_per_period() -> None:
    due = LATE + NOISE
    held = _red(due, escalation_level="street", overdue_steps=2)
    assert _plan(held, due + 3 * NOISE - H, COMMUNITY).reminders == []
    plan = _plan(held, due + 3 * NOISE, COMMUNITY)
    assert plan.escalations == [] and "escalation_level" not in plan.changes
    assert [(r.kind, r.chat_id, r.due_at) for r in plan.reminders] == [(ReminderKind.OVERDUE, CHAT[L.STREET], due)]
    assert (plan.changes["overdue_steps"], plan.changes["next_check_at"]) == (3, due + 4 * NOISE)


def test_plan_after_weeks_without_a_sweep_gives_one_alert_not_a_flood() -> None:
    due = LATE + NOISE
    plan = _plan(_red(due), due + 5 * NOISE + H, COMMUNITY)
    assert [e.level for e in plan.escalations] == [L.COMMUNITY] and plan.reminders == []
    assert (plan.changes["overdue_steps"], plan.changes["next_check_at"]) == (5, due + 6 * NOISE)


def test_plan_of_a_late_first_breach_skips_the_periods_it_covers() -> None:
    due = LATE + NOISE
    fresh = _red(due, breached_at=None, reminded_at=None, escalation_level=None)
    plan = _plan(fresh, due + 2 * NOISE + H, COMMUNITY)
    assert [(e.level, e.reason) for e in plan.escalations] == [(L.GRID, EscalationReason.BREACHED)]
    assert (plan.changes["overdue_steps"], plan.changes["next_check_at"]) == (2, due + 3 * NOISE)


def test_the_community_file_tunes_the_chasing(tmp_path: Path) -> None:
    text = sample_text()
    assert "\n[working_time]" not in text  # the table taken out, its commented examples left
    path = tmp_path / "community.toml"
    path.write_text(text + "\n[working_time]\nescalate_every_days = 2\ninfo_remind_days = 1\ninfo_desk_days = 4\n",
                    encoding="utf-8")
    working = load_community(path).working_time
    assert (working.escalate_every_days, working.info_remind_days, working.info_desk_days) == (2, 1, 4)
    assert (COMMUNITY.working_time.escalate_every_days, COMMUNITY.working_time.info_remind_days,
            COMMUNITY.working_time.info_desk_days) == (None, 3, 5)  # not written: the case's limit; 3 and 5 days


def test_plan_counts_the_files_working_days_when_it_gives_them() -> None:
    assert COMMUNITY.working_time == WorkingTime()  # the sample file's: the defaults
    working = WorkingTime(escalate_every_days=2)
    community = dataclasses.replace(COMMUNITY, working_time=working)
    due = LATE + NOISE  # Monday 23:30 a week on
    step = deadline(due, TimeLimit(2, LimitUnit.WORKING_DAYS), working)
    assert step == datetime(2026, 12, 2, 18, 0, tzinfo=SHANGHAI)  # Tue and Wed: working days end at 18:00
    assert _plan(_red(due), step - timedelta(seconds=1), community).escalations == []
    plan = _plan(_red(due), step, community)
    assert [e.level for e in plan.escalations] == [L.COMMUNITY]
    assert plan.changes["next_check_at"] == deadline(due, TimeLimit(4, LimitUnit.WORKING_DAYS), working)


def test_plan_of_a_stopped_clock_gives_no_overdue_alert() -> None:
    due = LATE + NOISE
    waiting = _red(due, status=S.PENDING_INFO, paused_at=due + H, resume_status=S.SIGNED, info_chased=2)
    plan = _plan(waiting, due + 10 * NOISE, COMMUNITY)
    assert (plan.escalations, plan.reminders, plan.chases, plan.changes["next_check_at"]) == ([], [], [], None)


def test_plan_chases_an_unanswered_question_resident_first_then_desk() -> None:
    asked = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # Monday
    waiting = _red(asked, status=S.PENDING_INFO, paused_at=asked, resume_status=S.SIGNED, breached_at=None,
                   reminded_at=None, escalation_level=None, due_at=asked + 100 * H)
    working = COMMUNITY.working_time
    remind, desk = clocks.info_at(waiting, 1, working), clocks.info_at(waiting, 2, working)
    assert (remind, desk) == (asked + 3 * 24 * H, asked + 7 * 24 * H)  # 3 working days (Thu), 5 (next Mon)
    assert _plan(waiting, remind - timedelta(seconds=1), COMMUNITY).chases == []
    plan = _plan(waiting, remind, COMMUNITY)
    assert [(c.kind, c.chat_id, c.since) for c in plan.chases] == [(ChaseKind.RESIDENT, UNIT_CHAT["juweihui"], asked)]
    assert (plan.changes["info_chased"], plan.changes["next_check_at"]) == (1, desk)
    waiting.info_chased = 1  # as the sweep wrote it
    plan = _plan(waiting, desk, COMMUNITY)
    assert [c.kind for c in plan.chases] == [ChaseKind.DESK]
    assert (plan.changes["info_chased"], plan.changes["next_check_at"]) == (2, None)  # staff decide now
    assert "status" not in plan.changes  # nothing is closed by the sweep


# --- the sweep, stored ------------------------------------------------------------------------------


async def test_unsigned_case_filed_at_night_climbs_to_the_street_and_keeps_being_reminded(db: Database) -> None:
    ticket = await open_one(db, await make_resident(db), now=LATE)
    await walk(db, ticket.id, S.DISPATCHED, now=LATE)
    due = ticket.due_at
    seen: list[tuple[str, str | None]] = []
    for at in (LATE, LATE + 2 * H, LATE + 3 * H, due, due + H, due + NOISE - H, due + NOISE, due + NOISE,
               due + 2 * NOISE - H, due + 2 * NOISE, due + 2 * NOISE, due + 3 * NOISE, due + 3 * NOISE + H):
        report = await run(db, at)
        seen += [(f"{e.reason.value}->{e.level.value}", e.chat_id) for e in report.escalations]
        seen += [(r.kind.value, r.chat_id) for r in report.reminders]
    assert seen == [
        ("sign_overdue->grid", CHAT[L.GRID]), ("sign_overdue", UNIT_CHAT["juweihui"]),  # +2 h
        ("breached->community", CHAT[L.COMMUNITY]),  # the deadline (the yellow it skipped is not sent late)
        ("overdue->street", CHAT[L.STREET]),  # red a further limit (168 h)
        ("overdue", CHAT[L.STREET]), ("overdue", CHAT[L.STREET]),  # the top: its chat reminded once a period
    ]
    stored = await load(db, ticket.id)
    assert (stored.status, stored.escalation_level, stored.overdue_steps) == (S.DISPATCHED, "street", 3)
    assert stored.next_check_at == due + 4 * NOISE
    events = await alerts(db, ticket.id)
    assert [(k, n, lv) for k, n, lv in events if k is TicketEventKind.ESCALATED] == [
        (TicketEventKind.ESCALATED, "sign_overdue", "grid"), (TicketEventKind.ESCALATED, "breached", "community"),
        (TicketEventKind.ESCALATED, "overdue", "street")]
    assert [n for k, n, _ in events if k is TicketEventKind.REMINDED].count("overdue") == 2


async def test_resident_who_never_answers_is_reminded_then_the_desk_is_told(db: Database) -> None:
    resident = await make_resident(db)
    ticket = await open_one(db, resident, now=LATE)
    await walk(db, ticket.id, S.DISPATCHED, S.SIGNED, now=LATE + H)
    asked = LATE + 10 * H  # Tuesday 09:30
    await walk(db, ticket.id, S.PENDING_INFO, now=asked)
    first = await run(db, asked + H)  # armed by the status change: looked at once, the real moment stored
    assert (first.checked, first.empty) == (1, True)
    remind = (await load(db, ticket.id)).next_check_at
    assert remind == asked + 3 * 24 * H  # three working days
    assert (await run(db, remind - H)).checked == 0
    report = await run(db, remind)
    assert [(c.kind, c.since) for c in report.chases] == [(ChaseKind.RESIDENT, asked)]
    assert (await run(db, remind)).checked == 0
    desk = (await load(db, ticket.id)).next_check_at
    assert desk == asked + 7 * 24 * H  # five working days: the weekend skipped
    report = await run(db, desk + 10 * 24 * H)
    assert [(c.kind, c.chat_id) for c in report.chases] == [(ChaseKind.DESK, UNIT_CHAT["juweihui"])]
    for later in (desk + 30 * 24 * H, desk + 60 * 24 * H):
        assert (await run(db, later)).checked == 0
    stored = await load(db, ticket.id)
    assert (stored.status, stored.info_chased, stored.next_check_at) == (S.PENDING_INFO, 2, None)
    assert [n for k, n, _ in await alerts(db, ticket.id) if k is TicketEventKind.REMINDED] == [
        "info_resident", "info_desk"]

    # the resident answers at last, and is asked again: the new question is chased afresh
    answered = desk + 61 * 24 * H
    async with db.transaction() as s:
        current = await s.get(Ticket, ticket.id)
        assert (await answer_info(s, current, actor=f"resident:{resident.id}", now=answered, note="在2单元")).ok
    await walk(db, ticket.id, S.PENDING_INFO, now=answered + H)
    assert (await load(db, ticket.id)).info_chased == 0
    await run(db, answered + 2 * H)
    again = (await load(db, ticket.id)).next_check_at
    assert again == clocks.info_at(await load(db, ticket.id), 1, COMMUNITY.working_time)
    assert [c.kind for c in (await run(db, again)).chases] == [ChaseKind.RESIDENT]
