"""The board's SQL agrees with the rules it stands for: the colour computed in SQL is ``clocks.colour`` for
tickets in every state (paused, finished, emergency, reopened), on SQLite and PostgreSQL; the visibility filter
is ``roles.can(ticket.view)``; pages follow one another without gaps or repeats. And the claim of a tracked case."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from linli_web_tests import COMMUNITY, Clock
from sqlmodel import select

from services.cases import clocks
from services.people.residents import get_or_create_resident, offline_resident, sync_grids
from services.people.roles import Grant
from services.web import board, tokens
from services.web.board import CaseFilter
from storage.models import OPEN_STATUSES, Resident, RoleName, Ticket, TicketFollower, TicketStatus

NOW = Clock()()


async def seed(db, n: int = 300, seed: int = 7) -> list[Ticket]:
    rnd = random.Random(seed)
    async with db.transaction() as s:
        r = Resident(name="x", created_at=NOW, updated_at=NOW)
        s.add(r)
        await s.flush()
        await sync_grids(s, COMMUNITY)
        units = [u.code for u in COMMUNITY.units]
        grids = [g.code for g in COMMUNITY.grids] + [None]
        for i in range(n):
            created = NOW - timedelta(hours=rnd.uniform(0, 400))
            limit = timedelta(hours=rnd.choice([2, 24, 72, 168]))
            status = rnd.choice(list(TicketStatus))
            paused = created + timedelta(hours=rnd.uniform(0, 50)) if status is TicketStatus.PENDING_INFO or \
                rnd.random() < 0.05 else None
            resolved = created + timedelta(hours=rnd.uniform(0, 300)) if status not in OPEN_STATUSES else None
            started = created + timedelta(hours=rnd.uniform(0, 20)) if rnd.random() < 0.2 else None
            t = Ticket(number=f"LL-T-{i:05d}", resident_id=r.id, category=rnd.choice(["noise", "repair", "parking"]),
                       text="t", unit=rnd.choice(units), grid_code=rnd.choice(grids), status=status,
                       created_at=created, updated_at=created, sign_due_at=created + timedelta(hours=2),
                       due_at=(started or created) + limit + timedelta(seconds=rnd.choice([0, 600, 7200])),
                       clock_started_at=started, paused_at=paused, paused_seconds=rnd.choice([0, 0, 3600]),
                       resolved_at=resolved if rnd.random() < 0.8 else None,
                       closed_at=resolved + timedelta(hours=1) if resolved and rnd.random() < 0.5 else None,
                       emergency=rnd.random() < 0.05,
                       escalation_level=rnd.choice([None, None, "grid", "community", "street"]))
            s.add(t)
        await s.flush()
    async with db.session() as s:
        return list((await s.exec(select(Ticket).order_by(Ticket.id))).all())


async def check_colours(db) -> None:
    found = await seed(db)
    for colour in ("red", "yellow", "green"):
        async with db.session() as s:
            page = await board.case_page(s, scope=None, filt=CaseFilter(colour=colour), now=NOW, size=1000)
        expected = {t.number for t in found if clocks.colour(t, NOW).value == colour}
        assert {r.number for r in page.rows} == expected, colour
        assert all(r.colour.value == colour for r in page.rows)
    async with db.session() as s:
        tally = await board.board(s, scope=None, now=NOW)
    open_ = [t for t in found if t.status in OPEN_STATUSES]
    assert tally.whole.red == sum(clocks.colour(t, NOW) is clocks.Colour.RED for t in open_)
    assert tally.whole.total == len(open_)


async def test_the_colour_in_sql_is_the_clocks_colour(db) -> None:
    await check_colours(db)


async def test_the_colour_in_sql_on_postgresql(pg_db) -> None:
    await check_colours(pg_db)


@pytest.mark.parametrize("grants", [
    {Grant(RoleName.STAFF, "juweihui")}, {Grant(RoleName.STAFF, "community")}, {Grant(RoleName.GRIDWORKER, "A03")},
    {Grant(RoleName.SUPERVISOR, "wuye")}, {Grant(RoleName.SUPERVISOR, "")}, {Grant(RoleName.ADMIN)},
    {Grant(RoleName.RESIDENT)}, {Grant(RoleName.STAFF, "street"), Grant(RoleName.GRIDWORKER, "A01")},
])
async def test_the_visibility_filter_is_the_permission_table(db, grants) -> None:
    found = await seed(db, 200)
    async with db.session() as s:
        page = await board.case_page(s, scope=board.visible(grants, COMMUNITY), filt=CaseFilter(), now=NOW, size=1000)
    assert {r.number for r in page.rows} == {t.number for t in found if board.may_view(grants, t, COMMUNITY)}


async def test_pages_follow_one_another_and_filters_combine(db) -> None:
    found = await seed(db, 260)
    filt = CaseFilter(status="open", category="noise")
    seen: list[str] = []
    before = None
    async with db.session() as s:
        while True:
            page = await board.case_page(s, scope=None, filt=filt, now=NOW, before=before, size=50)
            if before is None:
                assert page.total == sum(t.status in OPEN_STATUSES and t.category == "noise" for t in found)
            else:
                assert page.total is None  # counted on the first page only
            seen += [r.number for r in page.rows]
            if page.next_before is None:
                break
            before = page.next_before
    expected = [t.number for t in sorted(found, key=lambda t: -t.id) if t.status in OPEN_STATUSES
                and t.category == "noise"]
    assert seen == expected


async def test_a_claim_hands_the_case_to_the_telegram_resident_once(db) -> None:
    async with db.transaction() as s:
        web_person = await offline_resident(s, name="服务码居民", phone=None, building=None, grid_code=None, now=NOW)
        t = Ticket(number="LL-20260317-0001", resident_id=web_person.id, category="noise", text="吵", unit="juweihui",
                   created_at=NOW, updated_at=NOW, sign_due_at=NOW, due_at=NOW + timedelta(days=1))
        s.add(t)
        await s.flush()
        token = await tokens.issue(s, ticket_id=t.id, resident_id=web_person.id, now=NOW)
        neighbour = await offline_resident(s, name="邻居", phone=None, building=None, grid_code=None, now=NOW)
        s.add(TicketFollower(ticket_id=t.id, resident_id=neighbour.id, linked_at=NOW))
        other_token = await tokens.issue(s, ticket_id=t.id, resident_id=neighbour.id, now=NOW)
    async with db.transaction() as s:
        me = await get_or_create_resident(s, tg_user_id=1001, name="李阿姨", now=NOW)
        assert (await tokens.claim(s, "nonsense-token-xx", claimer=me, now=NOW)).status is tokens.ClaimStatus.NOT_FOUND
        done = await tokens.claim(s, token, claimer=me, now=NOW)
        assert done.status is tokens.ClaimStatus.OK and done.ticket.resident_id == me.id
        assert (await tokens.claim(s, token, claimer=me, now=NOW)).status is tokens.ClaimStatus.ALREADY_YOURS
        someone = await get_or_create_resident(s, tg_user_id=1002, name="另一个人", now=NOW)
        assert (await tokens.claim(s, token, claimer=someone, now=NOW)).status is tokens.ClaimStatus.TAKEN
        followed = await tokens.claim(s, other_token, claimer=someone, now=NOW)
        assert followed.status is tokens.ClaimStatus.OK
    async with db.session() as s:
        row = await s.get(Ticket, t.id)
        followers = set((await s.exec(select(TicketFollower.resident_id))).all())
    assert row.resident_id == me.id and followers == {someone.id}
