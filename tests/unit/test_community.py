"""The community file: the sample loads, routing works, and every mistake names file, key and problem.
Also residents (grid binding is validated against the community file)."""

import copy
import tomllib
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from services import SHANGHAI
from services.community.model import (
    SAMPLE_COMMUNITY_FILE,
    Category,
    CommunityFileError,
    default_community_path,
    load_community,
    parse_community,
)
from services.people.residents import (
    BindResult,
    bind_grid,
    get_or_create_resident,
    normalize_building,
    set_age_band,
    set_building,
    sync_grids,
)
from storage.db import Database
from storage.models import AgeBand, Grid, Resident

COMMUNITY = load_community(SAMPLE_COMMUNITY_FILE)
SAMPLE: dict[str, Any] = tomllib.loads(SAMPLE_COMMUNITY_FILE.read_text(encoding="utf-8"))
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI)


def broken(edit) -> str:
    """The error message after applying ``edit`` to a copy of the sample data."""
    data = copy.deepcopy(SAMPLE)
    edit(data)
    with pytest.raises(CommunityFileError) as info:
        parse_community(data, source="community.toml")
    return str(info.value)


# --- the sample -------------------------------------------------------------------------------------


def test_sample_loads() -> None:
    assert COMMUNITY.name == "金桂社区"
    assert [g.code for g in COMMUNITY.grids] == ["A01", "A02", "A03", "A04", "A05", "A06"]
    assert COMMUNITY.grid("a03").worker_name == "李秀英"
    assert COMMUNITY.grid("Z99") is None
    assert COMMUNITY.grid_for_building("10号楼").code == "A03"
    assert COMMUNITY.haircut.day_of_month == 18
    assert (COMMUNITY.haircut.start, COMMUNITY.haircut.end) == (time(9, 0), time(11, 30))
    assert COMMUNITY.haircut.free_age == 65
    assert COMMUNITY.centre.windows == ("便民办事", "创业指导", "议事协商", "文化阅读", "就业帮扶")
    assert COMMUNITY.clinic is not None and COMMUNITY.clinic.nth == (2,)
    assert COMMUNITY.classes is not None and len(COMMUNITY.classes.sessions) == 3
    assert len(COMMUNITY.canteens) == 2
    assert COMMUNITY.shop_item("SOAP").cost == 20
    assert COMMUNITY.earn_rule("volunteer_hour").points == 10
    assert [e.level for e in COMMUNITY.escalation] == ["grid", "community", "street"]


def test_every_category_is_routed() -> None:
    for category in Category:
        assert COMMUNITY.unit_for(category).code
    assert COMMUNITY.unit_for("repair").code == "wuye"
    assert COMMUNITY.unit_for("safety").code == "jingwu"
    with pytest.raises(ValueError):
        COMMUNITY.unit_for("astrology")


def test_time_limits_defaults_and_overrides() -> None:
    assert COMMUNITY.limit_hours("safety") == 2
    assert COMMUNITY.limit_hours("utilities") == 24
    assert COMMUNITY.limit_hours("repair") == 24
    assert COMMUNITY.limit_hours("noise") == 168
    assert COMMUNITY.limit_hours("suggestion") == 360
    assert COMMUNITY.limit_hours("construction") == 360
    assert COMMUNITY.limit_hours("parking") == 72  # the unit's own limit
    assert COMMUNITY.limit_hours("dispute") == 120  # the file's [limits]


def test_unlisted_categories_fall_back_to_other() -> None:
    data = copy.deepcopy(SAMPLE)
    data["units"] = [u for u in data["units"] if u["code"] != "falv"]
    community = parse_community(data)
    assert community.unit_for("legal").code == "juweihui"
    assert community.limit_hours("legal") == 168


def test_community_file_env_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COMMUNITY_FILE", raising=False)
    assert default_community_path() == SAMPLE_COMMUNITY_FILE
    monkeypatch.setenv("COMMUNITY_FILE", str(tmp_path / "mine.toml"))
    assert default_community_path() == tmp_path / "mine.toml"


# --- errors name the file, the key path and the problem --------------------------------------------


def test_missing_grid_code() -> None:
    assert broken(lambda d: d["grids"][2].pop("code")) == "community.toml: grids[2].code: 缺少此项"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("community"), "community.toml: community: 缺少此项"),
        (lambda d: d["community"].update(name=""), "community.toml: community.name: 不能为空"),
        (
            lambda d: d["grids"][1].update(code="A01"),
            "community.toml: grids[1].code: 网格编号 'A01' 重复",
        ),
        (
            lambda d: d["grids"][1]["buildings"].append("1号楼"),
            "community.toml: grids[1].buildings[4]: '1号楼' 已在网格 A01 中",
        ),
        (lambda d: d["grids"][0].update(wroker="x"), "community.toml: grids[0].wroker: 不认识的键"),
        (
            lambda d: d["units"][0]["categories"].append("astrology"),
            "community.toml: units[0].categories[4]: 不认识的类别 'astrology'",
        ),
        (
            lambda d: d["units"][1]["categories"].append("repair"),
            "community.toml: units[1].categories[1]: 类别 'repair' 已由单位 'wuye' 承办",
        ),
        (
            lambda d: d["units"][2]["categories"].remove("other"),
            "community.toml: units: 没有单位承办 'other' 类别",
        ),
        (
            lambda d: d["units"][0]["limits"].update(parking=0),
            "community.toml: units[0].limits.parking: 应为正数",
        ),
        (
            lambda d: d["units"][0]["limits"].update(noise=5),
            "community.toml: units[0].limits.noise: 本单位不承办 'noise'，不能为它设时限",
        ),
        (
            lambda d: d["limits"].update(dispute="soon"),
            "community.toml: limits.dispute: 应为整数",
        ),
        (lambda d: d["escalation"].pop("street"), "community.toml: escalation.street: 缺少此项"),
        (
            lambda d: d["services"]["haircut"].update(day_of_month=31),
            "community.toml: services.haircut.day_of_month: 不能大于 28",
        ),
        (
            lambda d: d["services"]["haircut"].update(start="9点"),
            "community.toml: services.haircut.start: 应为 \"09:00\" 这样的时间，现为 '9点'",
        ),
        (
            lambda d: d["services"]["haircut"].update(end="08:00"),
            "community.toml: services.haircut.end: 应晚于开始时间",
        ),
        (
            lambda d: d["services"]["haircut"].update(free_age=True),
            "community.toml: services.haircut.free_age: 应为整数",
        ),
        (
            lambda d: d["services"]["clinic"].update(weekday="someday"),
            "community.toml: services.clinic.weekday: 应为 "
            '"sat" 或 "周六" 这样的星期，现为 \'someday\'',
        ),
        (
            lambda d: d["services"]["centre"].update(weekday_hours="17:30-08:30"),
            "community.toml: services.centre.weekday_hours: 开门时间应早于关门时间，现为 '17:30-08:30'",
        ),
        (
            lambda d: d["points"]["items"][1].update(code="soap"),
            "community.toml: points.items[1].code: 物品编号 'soap' 重复",
        ),
        (
            lambda d: d["points"]["items"][0].update(cost=-5),
            "community.toml: points.items[0].cost: 应为正数",
        ),
        (lambda d: d.update(grids=[]), "community.toml: grids: 至少要有一项"),
    ],
)
def test_validation_errors(edit, message: str) -> None:
    assert broken(edit).startswith(message)


def test_toml_syntax_error_keeps_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "community.toml"
    path.write_text('[community]\nname = "金桂社区"\naddress = \n', encoding="utf-8")
    with pytest.raises(CommunityFileError) as info:
        load_community(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "line 3" in message and "column" in message


def test_errors_from_a_file_name_that_file(tmp_path: Path) -> None:
    path = tmp_path / "community.toml"
    path.write_text(SAMPLE_COMMUNITY_FILE.read_text(encoding="utf-8").replace('code = "A03"', 'cod = "A03"'))
    with pytest.raises(CommunityFileError, match=r"community\.toml: grids\[2\]\.code: 缺少此项$"):
        load_community(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommunityFileError, match=r"nope\.toml: 无法读取"):
        load_community(tmp_path / "nope.toml")


# --- residents --------------------------------------------------------------------------------------


async def test_get_or_create_resident_updates_name(db: Database) -> None:
    async with db.transaction() as s:
        first = await get_or_create_resident(s, tg_user_id=5550001, name="王阿姨", now=NOW)
    async with db.transaction() as s:
        again = await get_or_create_resident(s, tg_user_id=5550001, name="王秀兰", now=NOW)
    assert again.id == first.id
    async with db.session() as s:
        rows = (await s.exec(select(Resident))).all()
    assert [(r.tg_user_id, r.name) for r in rows] == [(5550001, "王秀兰")]


async def test_bind_grid_validates_against_community(db: Database) -> None:
    async with db.transaction() as s:
        resident = await get_or_create_resident(s, tg_user_id=1, name="李师傅", now=NOW)
        assert await bind_grid(s, resident, "z99", community=COMMUNITY, now=NOW) is BindResult.UNKNOWN_GRID
        assert await bind_grid(s, resident, "a04", community=COMMUNITY, now=NOW) is BindResult.OK
    async with db.session() as s:
        stored = await s.get(Resident, resident.id)
        grid = await s.get(Grid, "A04")
    assert stored.grid_code == "A04"
    assert grid.worker_name == "张伟"


async def test_set_building_binds_its_grid_and_age_band(db: Database) -> None:
    async with db.transaction() as s:
        await sync_grids(s, COMMUNITY)
        resident = await get_or_create_resident(s, tg_user_id=2, name="赵大爷", now=NOW)
        await set_building(s, resident, building="１０栋", unit="2单元", community=COMMUNITY, now=NOW)
        await set_age_band(s, resident, AgeBand.SENIOR, now=NOW)
    async with db.session() as s:
        stored = await s.get(Resident, resident.id)
        grids = (await s.exec(select(Grid))).all()
    assert (stored.building, stored.unit, stored.grid_code) == ("10号楼", "2单元", "A03")
    assert stored.age_band is AgeBand.SENIOR
    assert len(grids) == 6


def test_normalize_building() -> None:
    assert normalize_building("3") == "3号楼"
    assert normalize_building(" 3幢 ") == "3号楼"
    assert normalize_building("３号") == "3号楼"
    assert normalize_building("金桂路沿街商铺") == "金桂路沿街商铺"
