"""Roles: the permission matrix (every action × every role, in and out of scope), grants and bootstrap."""

from datetime import datetime

import pytest

from services import SHANGHAI
from services.community import SAMPLE_COMMUNITY_FILE, load_community
from services.roles import (
    RESIDENT,
    Action,
    Grant,
    GrantError,
    admins_from,
    can,
    check_grant,
    grant,
    grids_of,
    revoke,
    roles_of,
)
from storage.db import Database
from storage.models import RoleName

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
COMMUNITY = load_community(SAMPLE_COMMUNITY_FILE)

GRIDWORKER = Grant(RoleName.GRIDWORKER, "A03")
STAFF = Grant(RoleName.STAFF, "wuye")
ADMIN = Grant(RoleName.ADMIN)

# (action, own scope, foreign scope) -> which roles may act in their own scope
MATRIX: dict[Action, tuple[str, str, set[Grant]]] = {
    Action.NOTICE_GRID: ("A03", "A04", {GRIDWORKER, ADMIN}),
    Action.NOTICE_BUILDING: ("A03", "A04", {GRIDWORKER, ADMIN}),
    Action.NOTICE_COMMUNITY: ("", "", {ADMIN}),
    Action.TICKET_ACT: ("wuye", "juweihui", {STAFF, ADMIN}),
    Action.ROLES_MANAGE: ("", "", {ADMIN}),
}


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", [RESIDENT, GRIDWORKER, STAFF, ADMIN], ids=lambda g: g.role.value)
def test_permission_matrix(action: Action, role: Grant) -> None:
    own, foreign, allowed = MATRIX[action]
    assert can({role}, action, own) is (role in allowed)
    # out of scope only the admin keeps the permission
    if foreign:
        assert can({role}, action, foreign) is (role == ADMIN)
        assert can({role}, action, "") is (role == ADMIN)


def test_matrix_covers_every_action() -> None:
    assert set(MATRIX) == set(Action)


def test_any_of_several_roles_is_enough() -> None:
    assert can({RESIDENT, Grant(RoleName.GRIDWORKER, "A01"), GRIDWORKER}, Action.NOTICE_GRID, "A03")
    assert not can({Grant(RoleName.GRIDWORKER, "A01"), STAFF}, Action.NOTICE_GRID, "A03")
    assert not can(set(), Action.NOTICE_GRID, "A03")
    assert not can({Grant(RoleName.GRIDWORKER, "")}, Action.NOTICE_GRID, "")  # an empty scope matches nothing


def test_check_grant() -> None:
    assert check_grant("gridworker", " A03 ", COMMUNITY) == GRIDWORKER
    assert check_grant("ADMIN", "") == ADMIN
    for role, scope, reason in [("boss", "", "bad_role"), ("resident", "", "bad_role"),
                                ("gridworker", "", "scope_required"), ("admin", "A03", "scope_unexpected"),
                                ("gridworker", "Z99", "unknown_grid"), ("staff", "nobody", "unknown_unit")]:
        with pytest.raises(GrantError) as err:
            check_grant(role, scope, COMMUNITY)
        assert err.value.reason == reason


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

    from bot.roles_cli import add_roles_parser, cmd_roles
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
    assert run("revoke", "7", "gridworker", "A03") == 0
    assert run("revoke", "7", "gridworker", "A03") == 0
    assert "(no change)" in capsys.readouterr().out
