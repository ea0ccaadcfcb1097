"""督办 and the audit trail: the supervisor role (reads and presses, never handles), a 督办 with its reply deadline and
answer, refusals stored (not only logged), and the audit queries behind `linli audit`."""

import asyncio
import json
from datetime import datetime, timedelta

import pytest

from services import SHANGHAI
from services.cases import supervision
from services.cases.events import staff_actor
from services.cases.lifecycle import open_dispatched, transition
from services.community.model import SAMPLE_COMMUNITY_FILE, load_community
from services.people import audit, roles
from services.people.residents import get_or_create_resident
from services.people.roles import Action, Grant, Scope
from storage.db import Database
from storage.models import AuditEntry, RoleName, Ticket, TicketEventKind, TicketStatus

C = load_community(SAMPLE_COMMUNITY_FILE)
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
H = timedelta(hours=1)
STREET = Grant(RoleName.SUPERVISOR)  # the street's 纪工委: every case
WUYE_ONLY = Grant(RoleName.SUPERVISOR, "wuye")


async def a_case(db: Database, category: str = "repair", tg: int = 9001) -> Ticket:
    async with db.transaction() as s:
        r = await get_or_create_resident(s, tg_user_id=tg, name="居民", now=NOW)
        return await open_dispatched(s, resident=r, category=category, text="电梯坏了", location="9号楼",
                                     photos=[], community=C, now=NOW)


def test_supervisor_reads_and_presses_but_never_handles() -> None:
    wuye, noise = Scope.unit("wuye"), Scope.unit("juweihui")
    assert roles.can([STREET], Action.SUPERVISE, wuye) and roles.can([STREET], Action.SUPERVISE, noise)
    assert roles.can([STREET], Action.CASE_VIEW, noise) and roles.can([STREET], Action.DESK_VIEW)
    assert not roles.can([STREET], Action.TICKET_ACT, wuye)
    assert roles.can([WUYE_ONLY], Action.SUPERVISE, wuye) and not roles.can([WUYE_ONLY], Action.SUPERVISE, noise)
    assert not roles.can([Grant(RoleName.STAFF, "wuye")], Action.SUPERVISE, wuye)
    assert roles.can([Grant(RoleName.STAFF, "wuye")], Action.CASE_VIEW, wuye)
    assert roles.can([Grant(RoleName.ADMIN)], Action.SUPERVISE, wuye)
    assert roles.check_grant("supervisor", "", C) == STREET
    assert roles.check_grant("supervisor", "street", C) == Grant(RoleName.SUPERVISOR, "street")
    with pytest.raises(roles.GrantError, match="unknown_unit"):
        roles.check_grant("supervisor", "nope", C)


async def test_supervise_answer_and_deadlines(any_db: Database) -> None:
    ticket = await a_case(any_db)
    async with any_db.transaction() as s:
        t = await s.get(Ticket, ticket.id)
        assert (await supervision.supervise(s, t, reason=" ", reply_by=NOW + H, supervisor_tg_id=7, now=NOW)).reason \
            is supervision.SuperviseRefusal.REASON_REQUIRED
        assert (await supervision.supervise(s, t, reason="拖了三天", reply_by=NOW, supervisor_tg_id=7,
                                            now=NOW)).reason is supervision.SuperviseRefusal.DEADLINE_PASSED
        first = await supervision.supervise(s, t, reason="拖了三天", reply_by=NOW + 24 * H, supervisor_tg_id=7, now=NOW)
        second = await supervision.supervise(s, t, reason="再催", reply_by=NOW + 2 * H, supervisor_tg_id=7,
                                             now=NOW + H)
        assert first.ok and second.ok
        assert first.event.kind is TicketEventKind.SUPERVISED and first.event.actor == "supervisor:7"
        assert t.version == ticket.version  # a 督办 changes nothing of the case's workflow
    async with any_db.transaction() as s:
        assert [x.id for x in await supervision.overdue(s, NOW + 3 * H)] == [second.supervision.id]
        pending = await supervision.pending(s, ticket.id)
        assert pending.id == first.supervision.id
        done = await supervision.answer(s, pending, text="已更换电梯主板", actor=staff_actor(2), now=NOW + 5 * H)
        assert done.ok and supervision.on_time(done.supervision) is True
        again = await supervision.answer(s, pending, text="再答", actor=staff_actor(2), now=NOW + 6 * H)
        assert again.reason is supervision.SuperviseRefusal.ALREADY_ANSWERED
        late = await supervision.answer(s, await supervision.pending(s, ticket.id), text="已处理",
                                        actor=staff_actor(2), now=NOW + 6 * H)
        assert supervision.on_time(late.supervision) is False
        assert await supervision.pending(s, ticket.id) is None
    async with any_db.transaction() as s:
        t = await s.get(Ticket, ticket.id)
        await transition(s, t, TicketStatus.WITHDRAWN, actor="resident:1", now=NOW + 7 * H)
        assert (await supervision.supervise(s, t, reason="x", reply_by=NOW + 30 * H, supervisor_tg_id=7,
                                            now=NOW + 8 * H)).reason is supervision.SuperviseRefusal.NOT_ACTIVE


async def test_refusals_are_stored_and_the_trail_is_queryable(any_db: Database) -> None:
    ticket = await a_case(any_db)
    async with any_db.transaction() as s:
        before = await audit.flush_refusals(s)  # whatever other tests of this process left behind
    roles.refused(555, Action.TICKET_ACT, "chat:-100200", "button:sign", now=NOW + H, ticket_id=ticket.id)
    roles.refused(555, Action.DESK_VIEW, Scope.unit("wuye"), "/queue", now=NOW + 2 * H)
    assert audit.has_kept()
    async with any_db.transaction() as s:
        assert await audit.flush_refusals(s) == 2
        await audit.record(s, user_id=42, action=Action.TICKET_ACT, allowed=True, now=NOW + 3 * H,
                           chat_id=-100300, ticket_id=ticket.id, via="button:sign")
        t = await s.get(Ticket, ticket.id)
        assert (await transition(s, t, TicketStatus.SIGNED, actor=staff_actor(42), now=NOW + 3 * H)).ok
    assert not audit.has_kept()
    async with any_db.session() as s:
        rows = (await s.exec(AuditEntry.__table__.select())).all()
        assert len(rows) == before + 3
        case = await audit.for_case(s, ticket.id)
        user = await audit.for_user(s, 42)
        window = await audit.between(s, NOW + 90 * timedelta(minutes=1), NOW + 10 * H)
    assert [(x.actor, x.action, x.allowed, x.chat_id) for x in case] == [
        ("resident:1", "event:created", True, None),
        ("system", "event:dispatched", True, None),
        ("user:555", "ticket.act", False, -100200),
        ("user:42", "ticket.act", True, -100300),
        ("staff:42", "event:status_changed", True, None),
    ]
    assert all(x.number == ticket.number for x in case)
    assert [(x.actor, x.action) for x in user] == [("user:42", "ticket.act"), ("staff:42", "event:status_changed")]
    assert [(x.actor, x.allowed) for x in window] == [("user:555", False), ("user:42", True), ("staff:42", True)]


async def test_audit_cli(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    from bot.__main__ import main

    ticket = await a_case(db)
    async with db.transaction() as s:
        await audit.flush_refusals(s)
        await audit.record(s, user_id=42, action="ticket.act", allowed=False, now=NOW + H, chat_id=-1,
                           ticket_id=ticket.id, via="button:sign")
    monkeypatch.setenv("DATABASE_URL", db_url)

    async def run(*args: str) -> int:
        return await asyncio.to_thread(main, ["audit", *args])

    assert await run("--case", ticket.number.lower()) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and "拒绝" in out[2] and "chat:-1" in out[2] and ticket.number in out[2]
    assert await run("--user", "42", "--format", "json") == 0
    assert [x["action"] for x in json.loads(capsys.readouterr().out)] == ["ticket.act"]
    assert await run("--from", "2026-11-24", "--to", "2026-11-24", "--format", "csv") == 0
    assert len(capsys.readouterr().out.splitlines()) == 4  # header + 3
    for args, says in ((("--case", "LL-20991231-0001"), "没有工单"), (("--case", "nonsense"), "无法识别"),
                       (("--from", "2026-11-30", "--to", "2026-11-01"), "早于"), ((), "请指定"),
                       (("--user", "abc"), "数字")):
        assert await run(*args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and says in err[0], err
