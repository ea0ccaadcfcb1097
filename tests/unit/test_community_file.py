"""The community file's pydantic models: every mistake is one line naming the exact key path, the optional
sections ([community] lat/lon/radius_m, [[buildings]], [emergency]) and their defaults, and the geography
(nearest building, distance from the centre)."""

import copy
import dataclasses
import itertools
import os
import subprocess
import sys
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.community.model import (
    SAMPLE_COMMUNITY_FILE,
    BuildingPoint,
    Community,
    CommunityFileError,
    Emergency,
    GridInfo,
    ShopItem,
    TimeLimit,
    haversine_m,
    load_community,
    parse_community,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE: dict[str, Any] = tomllib.loads(SAMPLE_COMMUNITY_FILE.read_text(encoding="utf-8"))
NEW_SECTIONS = ("buildings", "emergency")


def edited(edit) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLE)
    edit(data)
    return data


def error(edit) -> str:
    with pytest.raises(CommunityFileError) as info:
        parse_community(edited(edit), source="community.toml")
    return str(info.value)


def without_new_sections(data: dict[str, Any]) -> None:
    for key in NEW_SECTIONS:
        data.pop(key, None)
    for key in ("lat", "lon", "radius_m"):
        data["community"].pop(key, None)


def units_taking(data: dict[str, Any], category: str) -> dict[str, Any]:
    return next(u for u in data["units"] if category in u["categories"])


# --- every error path names the right key ------------------------------------------------------------

ERRORS = [
    # [community]
    pytest.param(lambda d: d.update(community="金桂"), "community: 应为表（[…] 或 [[…]]）", id="community-not-table"),
    pytest.param(lambda d: d["community"].pop("address"), "community.address: 缺少此项", id="address-missing"),
    pytest.param(lambda d: d["community"].update(street=" "), "community.street: 不能为空", id="street-blank"),
    pytest.param(lambda d: d["community"].update(name=3), "community.name: 应为文字", id="name-int"),
    pytest.param(lambda d: d["community"].update(nmae="x"), "community.nmae: 不认识的键", id="community-typo"),
    pytest.param(lambda d: d["community"].pop("lon"), "community.lon: 缺少此项（lat 和 lon 要一起写）", id="lat-alone"),
    pytest.param(lambda d: d["community"].pop("lat"), "community.lat: 缺少此项（lat 和 lon 要一起写）", id="lon-alone"),
    pytest.param(lambda d: d["community"].update(lat=95.0), "community.lat: 不能大于 90", id="lat-range"),
    pytest.param(lambda d: d["community"].update(lon=-181), "community.lon: 不能小于 -180", id="lon-range"),
    pytest.param(lambda d: d["community"].update(lat="30.3"), "community.lat: 应为数字", id="lat-text"),
    pytest.param(lambda d: d["community"].update(lon=True), "community.lon: 应为数字", id="lon-bool"),
    pytest.param(lambda d: d["community"].update(radius_m=0), "community.radius_m: 应为正数", id="radius-zero"),
    pytest.param(lambda d: d["community"].update(radius_m=1.5), "community.radius_m: 应为整数", id="radius-float"),
    # [[grids]]
    pytest.param(lambda d: d.update(grids="A01"), "grids: 应为列表", id="grids-not-list"),
    pytest.param(lambda d: d.update(grids=["A01"]), "grids[0]: 应为表（[…] 或 [[…]]）", id="grid-not-table"),
    pytest.param(lambda d: d["grids"][3].pop("worker"), "grids[3].worker: 缺少此项", id="worker-missing"),
    pytest.param(lambda d: d["grids"][1].update(wroker="x"), "grids[1].wroker: 不认识的键", id="worker-typo"),
    pytest.param(lambda d: d["grids"][1].update(code="a01"), "grids[1].code: 网格编号 'A01' 重复", id="grid-dup-case"),
    pytest.param(
        lambda d: d["grids"][0].update(code="A 1"),
        "grids[0].code: 应为 A03 这样的字母和数字（最多 16 个），现为 'A 1'",
        id="grid-code-pattern",
    ),
    pytest.param(lambda d: d["grids"][0].update(buildings="1号楼"),
                 "grids[0].buildings: 应为列表", id="buildings-text"),
    pytest.param(lambda d: d["grids"][0]["buildings"].append(""),
                 "grids[0].buildings[4]: 不能为空", id="building-empty"),
    pytest.param(lambda d: d["grids"][0]["buildings"].append(7), "grids[0].buildings[4]: 应为文字", id="building-int"),
    pytest.param(lambda d: d["grids"][4].update(worker_tg_id="12345"),
                 "grids[4].worker_tg_id: 应为整数", id="tg-id-text"),
    pytest.param(
        lambda d: d["grids"][5]["buildings"].append("3号楼"),
        "grids[5].buildings[3]: '3号楼' 已在网格 A01 中",
        id="building-in-two-grids",
    ),
    # [[units]] and [limits]
    pytest.param(lambda d: d.update(units=[]), "units: 至少要有一项", id="no-units"),
    pytest.param(lambda d: d["units"][2].update(code="Ju Wei"),
                 "units[2].code: 只能用小写字母、数字和 _，且以字母开头，现为 'ju wei'",
                 id="unit-code-pattern"),
    pytest.param(lambda d: d["units"][3].update(code="wuye"), "units[3].code: 单位编号 'wuye' 重复", id="unit-dup"),
    pytest.param(lambda d: d["units"][1].update(categories=[]),
                 "units[1].categories: 至少要有一项", id="no-categories"),
    pytest.param(lambda d: d["units"][1].update(categories="utilities"), "units[1].categories: 应为列表",
                 id="categories-text"),
    pytest.param(
        lambda d: d["units"][4]["categories"].append("safety"),
        "units[4].categories[1]: 类别 'safety' 已由单位 'jingwu' 承办",
        id="category-twice-in-unit",
    ),
    pytest.param(lambda d: d["units"][5].update(chat_id="-100"), "units[5].chat_id: 应为整数", id="chat-id-text"),
    pytest.param(lambda d: d["units"][0]["limits"].update(parking=9000), "units[0].limits.parking: 不能大于 8760",
                 id="limit-too-long"),
    pytest.param(
        lambda d: d["units"][0]["limits"].update(astrology=5),
        "units[0].limits.astrology: 不认识的类别 'astrology'",
        id="limit-unknown-category",
    ),
    pytest.param(lambda d: d["units"][0].update(limits=72), "units[0].limits: 应为表（[…] 或 [[…]]）", id="limits-int"),
    pytest.param(lambda d: d["limits"].update(astrology=5), "limits.astrology: 不认识的类别 'astrology'",
                 id="file-limit-unknown"),
    pytest.param(lambda d: d["limits"].update(noise=-1), "limits.noise: 应为正数", id="file-limit-negative"),
    # [escalation]
    pytest.param(lambda d: d.pop("escalation"), "escalation: 缺少此项", id="escalation-missing"),
    pytest.param(lambda d: d["escalation"]["grid"].pop("name"), "escalation.grid.name: 缺少此项", id="level-name"),
    pytest.param(lambda d: d["escalation"].update(district={"name": "区"}), "escalation.district: 不认识的键",
                 id="level-unknown"),
    pytest.param(lambda d: d["escalation"]["street"].update(chat_id=1.0), "escalation.street.chat_id: 应为整数",
                 id="level-chat-float"),
    # [services]
    pytest.param(lambda d: d["services"].pop("centre"), "services.centre: 缺少此项", id="centre-missing"),
    pytest.param(lambda d: d["services"].update(library={}), "services.library: 不认识的键", id="service-unknown"),
    pytest.param(lambda d: d["services"]["haircut"].pop("place"),
                 "services.haircut.place: 缺少此项", id="haircut-place"),
    pytest.param(lambda d: d["services"]["haircut"].pop("free_age"), "services.haircut.free_age: 缺少此项",
                 id="haircut-free-age-required"),
    pytest.param(lambda d: d["services"]["haircut"].update(day_of_month=0), "services.haircut.day_of_month: 应为正数",
                 id="haircut-day-zero"),
    pytest.param(lambda d: d["services"]["haircut"].update(fee_yuan=-1), "services.haircut.fee_yuan: 不能为负数",
                 id="haircut-fee-negative"),
    pytest.param(lambda d: d["services"]["haircut"].update(start="25:00"),
                 "services.haircut.start: 应为 \"09:00\" 这样的时间，现为 '25:00'", id="haircut-hour-25"),
    pytest.param(lambda d: d["services"]["haircut"].update(end=11),
                 "services.haircut.end: 应为 \"09:00\" 这样的时间，现为 11",
                 id="haircut-end-int"),
    pytest.param(lambda d: d["services"]["clinic"].pop("nth"),
                 "services.clinic.nth: 缺少此项（有 weekday 时要写 nth，如 [2] 表示第二个）", id="clinic-nth-missing"),
    pytest.param(lambda d: d["services"]["clinic"].pop("weekday"), "services.clinic.nth: 要和 weekday 一起写",
                 id="clinic-nth-alone"),
    pytest.param(lambda d: [d["services"]["clinic"].pop(k) for k in ("weekday", "nth")],
                 "services.clinic: 要写 weekday + nth（如每月第二个周六）或 dates 日期列表", id="clinic-no-rule"),
    pytest.param(lambda d: d["services"]["clinic"].update(nth=[2, 6]),
                 "services.clinic.nth[1]: 应为 1–5 或 -1（最后一个），现为 6", id="clinic-nth-6"),
    pytest.param(lambda d: d["services"]["clinic"].update(dates=["2026-02-30"]),
                 "services.clinic.dates[0]: 应为 2026-12-12 这样的日期，现为 '2026-02-30'", id="clinic-bad-date"),
    pytest.param(lambda d: d["services"]["clinic"].update(end="08:00"), "services.clinic.end: 应晚于开始时间",
                 id="clinic-end"),
    pytest.param(lambda d: d["services"]["classes"].update(sessions=[]), "services.classes.sessions: 至少要有一项",
                 id="classes-no-sessions"),
    pytest.param(lambda d: d["services"]["classes"]["sessions"][2].update(weekday="funday"),
                 "services.classes.sessions[2].weekday: 应为 \"sat\" 或 \"周六\" 这样的星期，现为 'funday'",
                 id="session-weekday"),
    pytest.param(lambda d: d["services"]["classes"]["sessions"][1].update(end="14:00"),
                 "services.classes.sessions[1].end: 应晚于开始时间", id="session-end"),
    pytest.param(lambda d: d["services"]["classes"]["sessions"][0].pop("subject"),
                 "services.classes.sessions[0].subject: 缺少此项", id="session-subject"),
    pytest.param(lambda d: d["services"]["canteens"][1].pop("address"), "services.canteens[1].address: 缺少此项",
                 id="canteen-address"),
    pytest.param(lambda d: d["services"]["centre"].update(weekend_hours="上午"),
                 "services.centre.weekend_hours: 应为 \"08:30-17:30\" 这样的时段或 \"closed\"，现为 '上午'",
                 id="centre-span"),
    pytest.param(lambda d: d["services"]["centre"].update(closed_dates=[datetime(2026, 10, 1, 8)]),
                 "services.centre.closed_dates[0]: 应为 2026-12-12 这样的日期，"
                 "现为 datetime.datetime(2026, 10, 1, 8, 0)",
                 id="closed-date-is-datetime"),
    pytest.param(lambda d: d["services"]["centre"]["windows"].append("  "), "services.centre.windows[5]: 不能为空",
                 id="window-blank"),
    # [points]
    pytest.param(lambda d: d["points"]["items"][2].update(stock=-1), "points.items[2].stock: 不能为负数", id="stock"),
    pytest.param(lambda d: d["points"]["items"][3].update(code="9lives"),
                 "points.items[3].code: 只能用小写字母、数字和 _，且以字母开头，现为 '9lives'", id="item-code"),
    pytest.param(lambda d: d["points"]["earn"][3].update(code="volunteer_hour"),
                 "points.earn[3].code: 活动编号 'volunteer_hour' 重复", id="earn-dup"),
    pytest.param(lambda d: d["points"]["earn"][0].update(points=0), "points.earn[0].points: 应为正数", id="earn-zero"),
    pytest.param(lambda d: d["points"].update(prizes=[]), "points.prizes: 不认识的键", id="points-unknown"),
    # [[buildings]]
    pytest.param(lambda d: d["buildings"][1].update(name="99号楼"),
                 "buildings[1].name: '99号楼' 不是任何网格 buildings 里的楼栋",
                 id="building-unknown"),
    pytest.param(lambda d: d["buildings"][3].update(name="1号楼"), "buildings[3].name: 楼栋 '1号楼' 重复",
                 id="building-dup"),
    pytest.param(lambda d: d["buildings"][2].pop("lat"), "buildings[2].lat: 缺少此项", id="building-lat-missing"),
    pytest.param(lambda d: d["buildings"][2].update(lon="120.1"), "buildings[2].lon: 应为数字", id="building-lon-text"),
    pytest.param(lambda d: d["buildings"][0].update(alt=12), "buildings[0].alt: 不认识的键", id="building-extra"),
    pytest.param(lambda d: d.update(buildings={"name": "1号楼"}), "buildings: 应为列表", id="buildings-table"),
    # [emergency]
    pytest.param(lambda d: d["emergency"].update(police_unit="paichusuo"),
                 "emergency.police_unit: 没有编号为 'paichusuo' 的承办单位（units[].code）", id="police-unknown"),
    pytest.param(lambda d: d["emergency"].update(property_unit="WUYE2"),
                 "emergency.property_unit: 没有编号为 'wuye2' 的承办单位（units[].code）", id="property-unknown"),
    pytest.param(lambda d: d["emergency"].update(duty_chat_id="-100123"), "emergency.duty_chat_id: 应为整数",
                 id="duty-chat-text"),
    pytest.param(lambda d: d["emergency"].update(duty_name=""), "emergency.duty_name: 不能为空", id="duty-name-empty"),
    pytest.param(lambda d: d["emergency"].update(lift_phone=96333), "emergency.lift_phone: 应为文字", id="lift-int"),
    pytest.param(lambda d: d["emergency"].update(limit_hours=0), "emergency.limit_hours: 应为正数",
                 id="emergency-limit-zero"),
    pytest.param(lambda d: d["emergency"].update(fire_phone="119"),
                 "emergency.fire_phone: 不认识的键", id="emerg-extra"),
    pytest.param(lambda d: d.update(emergency=["x"]), "emergency: 应为表（[…] 或 [[…]]）", id="emergency-list"),
    # the top level
    pytest.param(lambda d: d.update(comunity={}), "comunity: 不认识的键", id="top-typo"),
]


@pytest.mark.parametrize(("edit", "expected"), ERRORS)
def test_error_names_key_path(edit, expected: str) -> None:
    message = error(edit)
    assert message.startswith(f"community.toml: {expected}")
    assert "\n" not in message


def test_not_a_table_at_all() -> None:
    with pytest.raises(CommunityFileError, match=r"^x\.toml: （顶层）: 应为表"):
        parse_community([], source="x.toml")  # type: ignore[arg-type]


def test_first_problem_in_file_order_is_reported() -> None:
    def two(d: dict[str, Any]) -> None:
        d["grids"][4].update(code="")
        d["services"]["haircut"].update(day_of_month=40)

    assert error(two) == "community.toml: grids[4].code: 应为 A03 这样的字母和数字（最多 16 个），现为 ''"


def test_an_empty_list_of_broken_entries_names_the_entry_not_the_list() -> None:
    # pydantic also says "too short" for the list whose only entry failed; the entry is what to fix
    assert error(lambda d: d.update(grids=[{"code": "A01"}])) == "community.toml: grids[0].name: 缺少此项"


# Keys anywhere in the sample and values of every TOML type: whatever goes wrong is one line, never a traceback.
def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        found += [p for k, v in node.items() for p in _paths(v, (*prefix, k))]
    elif isinstance(node, list):
        found += [p for i, v in enumerate(node) for p in _paths(v, (*prefix, i))]
    return found


PATHS = _paths(SAMPLE)
TOML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.dates() | st.just("09:00") | st.just("08:30-17:30") | st.just("other"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=TOML_VALUES)
def test_any_edit_loads_or_fails_in_one_line(path: tuple, value: Any) -> None:
    data = copy.deepcopy(SAMPLE)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if value is None:
        parent.pop(path[-1])  # a dict's key or a list's entry
    else:
        parent[path[-1]] = value
    try:
        community = parse_community(data, source="community.toml")
    except CommunityFileError as exc:
        message = str(exc)
        assert message.startswith("community.toml: ") and "\n" not in message
        assert "Input should" not in message and "Field required" not in message  # everything is translated
    else:
        assert isinstance(community, Community)


def test_linli_check_prints_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "community.toml"
    text = SAMPLE_COMMUNITY_FILE.read_text(encoding="utf-8")
    bad.write_text(text.replace("parking = 72", "parking = 0", 1), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "STAFF_"))}
    proc = subprocess.run([sys.executable, "-m", "bot", "check"], capture_output=True, text=True, cwd=ROOT,
                          env=env | {"COMMUNITY_FILE": str(bad)}, timeout=60, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"配置错误: {bad}: units[0].limits.parking: 应为正数"]


# --- the optional sections and their defaults -------------------------------------------------------


def test_without_the_new_sections_everything_defaults() -> None:
    community = parse_community(edited(without_new_sections))
    assert (community.lat, community.lon, community.radius_m) == (None, None, 1500)
    assert community.building_points == ()
    assert community.nearest_building(30.3, 120.14) is None
    assert community.distance_from_centre(30.3, 120.14) is None
    assert community.emergency == Emergency(
        police_unit="jingwu", property_unit="wuye", duty_chat_id=None, duty_name="社区值班室", duty_phone=None,
        lift_phone="96333",
    )


def test_emergency_units_default_to_who_takes_safety_and_repair() -> None:
    def move(d: dict[str, Any]) -> None:
        without_new_sections(d)
        d["units"] = [u for u in d["units"] if u["code"] != "jingwu"]  # safety → the unit taking "other"
        units_taking(d, "repair")["categories"].remove("repair")
        d["units"][1]["categories"].append("repair")  # gongyong

    community = parse_community(edited(move))
    assert (community.emergency.police_unit, community.emergency.property_unit) == ("juweihui", "gongyong")


def test_emergency_as_written() -> None:
    def write(d: dict[str, Any]) -> None:
        d["emergency"] = {"duty_chat_id": -1009, "duty_phone": " 0571-1234 ", "police_unit": "Juweihui"}

    em = parse_community(edited(write)).emergency
    assert em == Emergency(police_unit="juweihui", property_unit="wuye", duty_chat_id=-1009, duty_name="社区值班室",
                           duty_phone="0571-1234", lift_phone="96333")
    assert em.limit_hours == 2  # an emergency's limit by default: a few hours, whatever its category

    def hours(d: dict[str, Any]) -> None:
        d["emergency"] = {"limit_hours": 4}

    c = parse_community(edited(hours))
    assert c.emergency.limit_hours == 4 and c.emergency_limit() == TimeLimit(4)


def test_sample_sections() -> None:
    community = load_community(SAMPLE_COMMUNITY_FILE)
    assert (community.lat, community.lon, community.radius_m) == (30.2990, 120.1400, 1500)
    assert community.emergency.duty_name == "金桂社区值班室"
    assert (community.emergency.police_unit, community.emergency.property_unit) == ("jingwu", "wuye")
    assert community.emergency.lift_phone == "96333" and community.emergency.duty_chat_id is None
    names = [b.name for b in community.building_points]
    assert len(names) >= 3 and all(community.grid_for_building(n) for n in names)
    points = [(b.lat, b.lon) for b in community.building_points]
    assert max(haversine_m(*a, *b) for a, b in itertools.combinations(points, 2)) <= 320  # a compact community
    assert all(community.distance_from_centre(*p) < 300 for p in points)


def test_a_building_may_be_left_out_and_the_section_too() -> None:
    community = parse_community(edited(lambda d: d.update(buildings=d["buildings"][:1])))
    assert community.building_points == (BuildingPoint("1号楼", 30.3001, 120.1391),)


# --- geography --------------------------------------------------------------------------------------


def test_haversine_reference_distances() -> None:
    assert haversine_m(0, 0, 1, 0) == pytest.approx(111_195, abs=1)  # one degree of a meridian
    assert haversine_m(30.2990, 120.14, 30.3090, 120.14) == pytest.approx(1_111.95, abs=0.1)
    assert haversine_m(30, 120, 30, 121) == pytest.approx(96_297, abs=5)  # a degree of longitude at 30° N
    assert haversine_m(30.3, 120.1, 30.3, 120.1) == 0
    assert haversine_m(0, 0, 0, 180) == pytest.approx(20_015_115, abs=10)  # antipodes: no domain error


def test_nearest_building() -> None:
    community = load_community(SAMPLE_COMMUNITY_FILE)
    name, metres = community.nearest_building(30.3001, 120.1391)
    assert (name, metres) == ("1号楼", 0)
    name, metres = community.nearest_building(30.29795, 120.14072)  # a few metres from 15号楼
    assert name == "15号楼" and 0 < metres < 10
    name, metres = community.nearest_building(30.2985, 120.1370)  # west of everything: 10号楼 is closest
    assert name == "10号楼" and metres == pytest.approx(haversine_m(30.2985, 120.1370, 30.2984, 120.1388))
    assert community.nearest_building(31.2304, 121.4737)[1] > 150_000  # Shanghai: nearest, but far away


def test_distance_from_centre_and_radius() -> None:
    community = load_community(SAMPLE_COMMUNITY_FILE)
    assert community.distance_from_centre(30.2990, 120.1400) == 0
    inside = community.distance_from_centre(30.3080, 120.1400)  # ~1 km north
    outside = community.distance_from_centre(30.3150, 120.1400)  # ~1.8 km north
    assert inside == pytest.approx(1_000.8, abs=0.5) and inside < community.radius_m < outside
    wider = parse_community(edited(lambda d: d["community"].update(radius_m=2500)))
    assert wider.radius_m == 2500 and outside < wider.radius_m


# --- the models -------------------------------------------------------------------------------------


def test_models_are_frozen_hashable_dataclasses() -> None:
    community = load_community(SAMPLE_COMMUNITY_FILE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        community.name = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        community.emergency.lift_phone = "110"  # type: ignore[misc]
    with pytest.raises(TypeError):
        community.units[0].limits[next(iter(community.units[0].limits))] = 1  # type: ignore[index]
    assert len({*community.grids, *community.grids}) == len(community.grids)
    assert hash(community.emergency) == hash(dataclasses.replace(community.emergency))
    assert {community.shop[0], community.building_points[0]}
    assert isinstance(community.grids, tuple) and isinstance(community.units[0].categories, tuple)
    assert isinstance(community.centre.closed_dates, tuple)


def test_models_validate_when_built_in_code() -> None:
    grid = GridInfo("a07", "第七网格", ("23号楼",), "孙丽")  # field names work where the file says "worker"
    assert grid.code == "A07" and grid.worker_name == "孙丽"
    assert dataclasses.replace(grid, worker_tg_id=5).worker_tg_id == 5
    with pytest.raises(ValidationError):
        ShopItem("rice", "大米", cost=0)
    with pytest.raises(ValidationError):
        BuildingPoint("1号楼", lat=91, lon=120)


def test_clinic_dates_are_sorted_and_accept_toml_dates() -> None:
    def dates(d: dict[str, Any]) -> None:
        d["services"]["clinic"].update(dates=["2026-12-12", date(2026, 3, 1)])

    assert parse_community(edited(dates)).clinic.dates == (date(2026, 3, 1), date(2026, 12, 12))
