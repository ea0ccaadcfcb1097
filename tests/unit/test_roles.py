"""Roles: the permission matrix (every action × every role, in and out of scope), grants and bootstrap."""

import asyncio
from datetime import datetime

import pytest

from services import SHANGHAI
from services.community.model import SAMPLE_COMMUNITY_FILE, load_community
from services.people import roles
from services.people.roles import (
    NOWHERE,
    RESIDENT,
    Action,
    Grant,
    GrantError,
    Scope,
    admins_from,
    can,
    check_grant,
    grant,
    grids_of,
    refused,
    revoke,
    roles_of,
    ticket_scope,
)
from storage.db import Database
from storage.models import RoleName, Ticket, TicketStatus

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
COMMUNITY = load_community(SAMPLE_COMMUNITY_FILE)

GRIDWORKER = Grant(RoleName.GRIDWORKER, "A03")
STAFF = Grant(RoleName.STAFF, "wuye")
COMMUNITY_STAFF = Grant(RoleName.STAFF, "community")  # takes cases escalated to the community
ADMIN = Grant(RoleName.ADMIN)
SUPERVISOR = Grant(RoleName.SUPERVISOR)  # the street's 纪工委: every case, read-only, may issue 督办
WUYE_SUPERVISOR = Grant(RoleName.SUPERVISOR, "wuye")
ROLES = [RESIDENT, GRIDWORKER, STAFF, COMMUNITY_STAFF, ADMIN, SUPERVISOR, WUYE_SUPERVISOR]

A03, A04 = Scope.grid("A03"), Scope.grid("A04")
CASE = Scope(grids=frozenset({"A03"}), units=frozenset({"wuye"}))  # a case in grid A03 handled by 物业
OTHER_CASE = Scope(grids=frozenset({"A04"}), units=frozenset({"juweihui"}))
OTHER_ESCALATED = Scope(grids=frozenset({"A04"}), units=frozenset({"juweihui", "grid", "community"}))

# action -> [(where it lands, the roles that may do it there)]: every action × every role × in and out of scope
MATRIX: dict[Action, list[tuple[Scope, set[Grant]]]] = {
    Action.NOTICE_GRID: [(A03, {GRIDWORKER, ADMIN}), (A04, {ADMIN}), (NOWHERE, {ADMIN})],
    Action.NOTICE_BUILDING: [(A03, {GRIDWORKER, ADMIN}), (A04, {ADMIN}), (NOWHERE, {ADMIN})],
    Action.NOTICE_COMMUNITY: [(NOWHERE, {ADMIN}), (A03, {ADMIN})],
    Action.TICKET_ACT: [(CASE, {GRIDWORKER, STAFF, ADMIN}), (OTHER_CASE, {ADMIN}),
                        (OTHER_ESCALATED, {COMMUNITY_STAFF, ADMIN}), (NOWHERE, {ADMIN})],
    Action.DESK_VIEW: [(NOWHERE, {GRIDWORKER, STAFF, COMMUNITY_STAFF, ADMIN, SUPERVISOR, WUYE_SUPERVISOR})],
    Action.TICKET_RECORD: [(NOWHERE, {GRIDWORKER, STAFF, COMMUNITY_STAFF, ADMIN})],
    Action.ROLES_MANAGE: [(NOWHERE, {ADMIN}), (A03, {ADMIN})],
    Action.CASE_VIEW: [(CASE, {GRIDWORKER, STAFF, ADMIN, SUPERVISOR, WUYE_SUPERVISOR}),
                       (OTHER_CASE, {ADMIN, SUPERVISOR}),
                       (OTHER_ESCALATED, {COMMUNITY_STAFF, ADMIN, SUPERVISOR}), (NOWHERE, {ADMIN, SUPERVISOR})],
    Action.SUPERVISE: [(CASE, {ADMIN, SUPERVISOR, WUYE_SUPERVISOR}), (OTHER_CASE, {ADMIN, SUPERVISOR}),
                       (NOWHERE, {ADMIN, SUPERVISOR})],
    Action.PARTICIPATION: [(NOWHERE, {STAFF, COMMUNITY_STAFF, ADMIN})],
    Action.POINTS_AWARD: [(NOWHERE, {STAFF, COMMUNITY_STAFF, ADMIN})],
    Action.GRID_SERVICE: [(A03, {GRIDWORKER, STAFF, COMMUNITY_STAFF, ADMIN}), (A04, {STAFF, COMMUNITY_STAFF, ADMIN})],
}


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", ROLES, ids=lambda g: f"{g.role.value}-{g.scope}")
def test_permission_matrix(action: Action, role: Grant) -> None:
    for scope, allowed in MATRIX[action]:
        assert can({role}, action, scope) is (role in allowed), (scope, allowed)


def test_matrix_covers_every_action() -> None:
    assert set(MATRIX) == set(Action)


def test_any_of_several_roles_is_enough() -> None:
    assert can({RESIDENT, Grant(RoleName.GRIDWORKER, "A01"), GRIDWORKER}, Action.NOTICE_GRID, A03)
    assert not can({Grant(RoleName.GRIDWORKER, "A01"), STAFF}, Action.NOTICE_GRID, A03)
    assert not can(set(), Action.NOTICE_GRID, A03)
    assert not can({Grant(RoleName.GRIDWORKER, "")}, Action.NOTICE_GRID, NOWHERE)  # an empty scope matches nothing


def test_a_scope_matches_only_its_own_kind() -> None:
    """A staff grant naming a grid code is not a grid worker's; a grid worker's grant is no unit."""
    assert not can({Grant(RoleName.STAFF, "A03")}, Action.TICKET_ACT, Scope.grid("A03"))
    assert not can({Grant(RoleName.GRIDWORKER, "wuye")}, Action.TICKET_ACT, Scope.unit("wuye"))


def test_ticket_scope_climbs_the_escalation_levels() -> None:
    t = Ticket(number="LL-20261123-0001", resident_id=1, category="noise", unit="juweihui", text="吵",
               grid_code="A04", status=TicketStatus.DISPATCHED)
    assert ticket_scope(t, COMMUNITY) == OTHER_CASE
    t.escalation_level = "community"
    assert ticket_scope(t, COMMUNITY) == OTHER_ESCALATED
    t.escalation_level, t.grid_code = "street", None
    assert ticket_scope(t, COMMUNITY).units == {"juweihui", "grid", "community", "street"}
    assert ticket_scope(t, COMMUNITY).grids == frozenset()


def test_refusals_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="linli.audit"):
        refused(7, Action.TICKET_ACT, CASE, "button:ss")
    assert caplog.records[-1].getMessage() == "refused user=7 action=ticket.act scope=grid:A03,unit:wuye via=button:ss"


def test_check_grant() -> None:
    assert check_grant("gridworker", " A03 ", COMMUNITY) == GRIDWORKER
    assert check_grant("ADMIN", "") == ADMIN
    assert check_grant("staff", "community", COMMUNITY) == COMMUNITY_STAFF
    for role, scope, reason in [("boss", "", "bad_role"), ("resident", "", "bad_role"),
                                ("gridworker", "", "scope_required"), ("admin", "A03", "scope_unexpected"),
                                ("gridworker", "Z99", "unknown_grid"), ("staff", "nobody", "unknown_unit")]:
        with pytest.raises(GrantError) as err:
            check_grant(role, scope, COMMUNITY)
        assert err.value.reason == reason


def test_check_grant_reads_the_chinese_names_staff_use() -> None:
    """``/grant 2002 网格员 A01`` was refused: admins write roles as the bot names them, or as the desk says them."""
    assert check_grant("网格员", "a03", COMMUNITY) == GRIDWORKER  # the grid stored by its own code
    assert check_grant("工作人员", "community", COMMUNITY) == COMMUNITY_STAFF
    for word in ("坐席", "值班", "值班员"):
        assert check_grant(word, "wuye", COMMUNITY) == Grant(RoleName.STAFF, "wuye")
    for word in ("督办", "督办员", "督办人员", "supervisor"):
        assert check_grant(word, "", COMMUNITY) == Grant(RoleName.SUPERVISOR)
    assert check_grant("管理员", "") == ADMIN
    with pytest.raises(GrantError) as err:
        check_grant("居民", "", COMMUNITY)  # residents are implicit, in any language
    assert err.value.reason == "bad_role"
    with pytest.raises(GrantError) as err:
        check_grant("网格员", "", COMMUNITY)
    assert err.value.reason == "scope_required"
    # every name the bot itself shows for a grantable role is one it reads back
    from handlers.texts.admin import ROLE_NAMES
    for role in RoleName:
        if role is not RoleName.RESIDENT:
            assert roles.read_role(ROLE_NAMES[role.value]) is role


def test_the_bad_role_refusal_lists_every_grantable_role_in_chinese() -> None:
    from handlers import texts
    refusal = texts.GRANT_ERRORS["bad_role"]
    for role in roles.GRANTABLE:
        assert texts.ROLE_NAMES[role.value] in refusal and role.value in refusal
    assert set(texts.GRANT_ROLES) == {r.value for r in roles.GRANTABLE}
    assert "督办" in refusal and "居民" not in refusal
    for role in roles.GRANTABLE:
        assert texts.ROLE_NAMES[role.value] in texts.GRANT_USAGE


def test_admins_from_env_value() -> None:
    assert admins_from("123, 456,x,, 789 ") == {123, 456, 789}
    assert admins_from(None) == frozenset()


async def test_grant_revoke_roles_of(db: Database) -> None:
    async with db.transaction() as s:
        assert await roles_of(s, 7) == {RESIDENT}
        assert await grant(s, tg_user_id=7, role=RoleName.GRIDWORKER, scope="A03", granted_by=1, now=NOW)
        assert not await grant(s, tg_user_id=7, role=RoleName.GRIDWORKER, scope="A03", granted_by=1, now=NOW)
        assert await grant(s, tg_user_id=7, role=RoleName.STAFF, scope="wuye", granted_by=None, now=NOW)
    async with db.session() as s:
        assert await roles_of(s, 7) == {GRIDWORKER, STAFF}
        assert await roles_of(s, 8, admins={8}) == {ADMIN}
    async with db.transaction() as s:
        assert await revoke(s, tg_user_id=7, role=RoleName.STAFF, scope="wuye")
        assert not await revoke(s, tg_user_id=7, role=RoleName.STAFF, scope="wuye")
        assert grids_of(await roles_of(s, 7)) == ["A03"]


async def test_community_worker_is_grid_worker(db: Database) -> None:
    import dataclasses

    grids = tuple(dataclasses.replace(g, worker_tg_id=55) if g.code == "A02" else g for g in COMMUNITY.grids)
    community = dataclasses.replace(COMMUNITY, grids=grids)
    async with db.session() as s:
        assert await roles_of(s, 55, community=community) == {Grant(RoleName.GRIDWORKER, "A02")}


def test_roles_cli(tmp_path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from bot.roles_cli import NOT_STARTED_NOTE, add_roles_parser, cmd_roles
    from bot.settings import load_settings

    monkeypatch.setenv("LINLI_ADMINS", "42")
    settings = load_settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
                             community_file=None)
    ap = argparse.ArgumentParser()
    add_roles_parser(ap.add_subparsers(dest="cmd"))

    def run(*argv: str) -> int:
        return cmd_roles(ap.parse_args(["roles", *argv]), settings)

    assert run("grant", "7", "gridworker", "A03") == 0
    assert "granted: 7 gridworker A03" in capsys.readouterr().out
    assert run("grant", "7", "gridworker", "Z99") == 2
    assert "unknown_grid" in capsys.readouterr().err
    assert run("list") == 0
    out = capsys.readouterr().out
    assert "7\tgridworker\tA03" in out and "LINLI_ADMINS: 42" in out
    # neither 7 nor 42 has ever started the bot: nothing it sends them privately can arrive
    [line] = [x for x in out.splitlines() if x.startswith("7\tgridworker\tA03")]
    assert line.endswith("\t⚠ 未私聊过机器人") and f"{NOT_STARTED_NOTE}: 7, 42" in out

    async def started(user: int) -> None:
        from services.people.residents import get_or_create_resident

        db = Database(settings.database_url)
        async with db.transaction() as s:
            await get_or_create_resident(s, tg_user_id=user, name="网格员", now=NOW)  # what /start does
        await db.dispose()

    asyncio.run(started(7))
    assert run("list") == 0
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if x.startswith("7\tgridworker\tA03")]
    assert "⚠" not in line and f"{NOT_STARTED_NOTE}: 42" in out
    assert run("revoke", "7", "gridworker", "A03") == 0
    assert run("revoke", "7", "gridworker", "A03") == 0
    assert "(no change)" in capsys.readouterr().out
    assert run("grant", "@li_xy", "staff", "wuye") == 2  # nobody the bot has met
    assert "@li_xy" in capsys.readouterr().err

    async def meet() -> None:
        from services.people.directory import remember

        db = Database(settings.database_url)
        async with db.transaction() as s:
            await remember(s, tg_user_id=77, username="Li_XY", name="李秀英", now=NOW)
        await db.dispose()

    asyncio.run(meet())
    assert run("grant", "@li_xy", "staff", "wuye") == 0
    assert "granted: 77 staff wuye" in capsys.readouterr().out
