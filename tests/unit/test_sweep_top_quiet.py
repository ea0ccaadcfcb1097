"""An emergency still red at the top level (the street): its period is its few hours' limit, but the street is
reminded at most once per ``[working_time] remind_top_every_hours`` (default 24), not every few hours all night.
``now`` is a parameter throughout: the sweep runs at chosen moments, nothing sleeps."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

from services import SHANGHAI
from services.cases.sweep import EscalationReason, ReminderKind, _plan, open_sos, quiet_at_top
from services.community.model import EscalationLevelName, WorkingTime, load_community
from storage.db import Database
from storage.models import Ticket, TicketStatus
from tests.unit.test_sweep import CHAT, COMMUNITY, NOW, load, make_resident, run, walk
from tests.unit.wall_clock import sample_text

S = TicketStatus
L = EscalationLevelName
H = timedelta(hours=1)
LIMIT = 2 * H  # an emergency of the safety category: 2 hours


def _held(due: datetime, **fields: object) -> Ticket:
    """An emergency (2 h) that breached at ``due`` and is held by the street, in memory (``breached_at=None,
    escalation_level="community"``: one the community holds, about to breach)."""
    values: dict[str, object] = dict(
        id=9, number="LL-SOS", resident_id=1, category="safety", text="煤气味", unit="jingwu", status=S.SIGNED,
        emergency=True, created_at=due - LIMIT, updated_at=due - LIMIT, sign_due_at=due - LIMIT + H, due_at=due,
        signed_at=due - LIMIT, reminded_at=due - LIMIT, breached_at=due, escalation_level="street",
    )
    values.update(fields)
    return Ticket(**values)


def _alerts(ticket: Ticket, start: datetime, end: datetime, community=COMMUNITY,
            every: timedelta = timedelta(minutes=10)) -> list[tuple[str, datetime]]:
    """Sweep the ticket in memory every ``every`` from ``start`` to ``end`` (as the stored sweep would, when its
    next check has come): each escalation and reminder, and when."""
    seen: list[tuple[str, datetime]] = []
    at = start
    while at <= end:
        if ticket.next_check_at is None or ticket.next_check_at <= at:
            plan = _plan(ticket, at, community)
            for key, value in plan.changes.items():
                setattr(ticket, key, value)
            seen += [(f"{e.reason.value}->{e.level.value}", at) for e in plan.escalations]
            seen += [(r.kind.value, at) for r in plan.reminders]
        at += every
    return seen


def test_an_emergency_at_the_street_is_reminded_once_a_day_not_every_period() -> None:
    due = datetime(2026, 11, 23, 22, 0, tzinfo=SHANGHAI)  # a Monday night
    seen = _alerts(_held(due, breached_at=None, escalation_level="community"), due - H, due + 3 * 24 * H + H)
    assert seen == [("breached->street", due), ("overdue", due + 24 * H), ("overdue", due + 48 * H),
                    ("overdue", due + 72 * H)]  # was: every 2 h, day and night


def test_the_community_file_can_make_the_street_reminders_more_frequent() -> None:
    community = dataclasses.replace(COMMUNITY, working_time=WorkingTime(remind_top_every_hours=5))
    due = datetime(2026, 11, 23, 22, 0, tzinfo=SHANGHAI)
    seen = _alerts(_held(due, breached_at=None, escalation_level="community"), due, due + 18 * H, community)
    assert seen == [("breached->street", due), ("overdue", due + 6 * H), ("overdue", due + 12 * H),
                    ("overdue", due + 18 * H)]  # the first 2 h period at least 5 h on, each time


def test_a_case_the_staff_sent_to_the_street_is_reminded_once_then_daily() -> None:
    due = datetime(2026, 11, 23, 22, 0, tzinfo=SHANGHAI)
    seen = _alerts(_held(due), due + H, due + 30 * H)  # 升级 pressed up to the street: the sweep had not told it
    assert seen == [("overdue", due + 2 * H), ("overdue", due + 26 * H)]


def test_a_late_sweep_at_the_street_gives_one_reminder_and_waits_a_day_from_its_period() -> None:
    due = datetime(2026, 11, 23, 22, 0, tzinfo=SHANGHAI)
    plan = _plan(_held(due, overdue_steps=11), due + 31 * H, COMMUNITY)  # bot down from +24 h to +31 h
    assert [(r.kind, r.chat_id) for r in plan.reminders] == [(ReminderKind.OVERDUE, CHAT[L.STREET])]
    assert plan.changes["next_check_at"] == due + 30 * H + 24 * H  # the period it reminded for began at +30 h


def test_a_long_limit_keeps_one_reminder_per_period() -> None:
    due = datetime(2026, 11, 30, 23, 30, tzinfo=SHANGHAI)
    noise = _held(due, emergency=False, category="noise", unit="juweihui", created_at=due - 168 * H,
                  sign_due_at=due - 166 * H, signed_at=due - 167 * H, reminded_at=due - 42 * H)
    working = COMMUNITY.working_time
    assert working.remind_top_every_hours == 24
    assert [quiet_at_top(noise, step, working) for step in (0, 1, 2)] == [0, 1, 2]  # 168 h ≥ 24 h: nothing skipped


def test_the_community_file_sets_the_gap(tmp_path: Path) -> None:
    text = sample_text()
    path = tmp_path / "community.toml"
    path.write_text(text + "\n[working_time]\nremind_top_every_hours = 12\n", encoding="utf-8")
    assert load_community(path).working_time.remind_top_every_hours == 12
    assert COMMUNITY.working_time.remind_top_every_hours == 24  # not written: a day


async def test_a_stored_emergency_breaching_to_the_street_is_then_reminded_daily(db: Database) -> None:
    resident = await make_resident(db)
    async with db.transaction() as s:
        sos = await open_sos(s, resident=resident, text="楼道里有煤气味", location="10号楼1单元", photos=[],
                             community=COMMUNITY, now=NOW)
    ticket = sos.ticket
    await walk(db, ticket.id, S.SIGNED, now=NOW + 10 * timedelta(minutes=1))
    due = ticket.due_at
    assert due - NOW == LIMIT
    seen: list[tuple[str, datetime]] = []
    at = NOW
    while at <= due + 50 * H:
        report = await run(db, at)
        seen += [(f"{e.reason.value}->{e.level.value}", at) for e in report.escalations]
        seen += [(r.kind.value, at) for r in report.reminders]
        at += 30 * timedelta(minutes=1)
    assert seen == [(f"{EscalationReason.BREACHED.value}->street", due), ("overdue", due + 24 * H),
                    ("overdue", due + 48 * H)]
    stored = await load(db, ticket.id)
    assert (stored.escalation_level, stored.next_check_at) == ("street", due + 72 * H)
