"""The community file (``COMMUNITY_FILE``, sample ``bot/data/community.toml``) as frozen pydantic models.

Everything local lives there: grids and their workers, which unit handles which kind of complaint and
within how many hours, escalation chats, service schedules, points-shop items, and (optional) where the
community and its buildings are (WGS-84, as Telegram shares locations) and whom an emergency goes to.
Pydantic validates the whole file; the first problem raises :class:`CommunityFileError` as one line
``<file>: <key path>: <problem>`` (``grids[2].code: 缺少此项``, zero-based indexes). Unknown keys are
errors too, because a typo would otherwise silently drop a setting.

The public types are pydantic *dataclasses*: frozen, validated on construction, and still plain
dataclasses to the rest of the code (positional construction, ``dataclasses.replace``). The private
``_…`` models mirror the file's tables where their shape differs from what the code wants.
"""

import math
import os
import tomllib
from collections.abc import Mapping
from datetime import date, time
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, Field, PlainValidator, ValidationError, model_validator
from pydantic.dataclasses import dataclass

from services.community.fields import (
    CONFIG,
    TABLE,
    Clock,
    Code,
    Dates,
    Float,
    GridCode,
    Int,
    Nth,
    Span,
    Text,
    Weekday,
    choice,
    describe,
    first_error,
    frozen_map,
    problem,
)
from services.community.schedule import (
    CentreHours,
    ClassSchedule,
    ClassSession,
    ClinicSchedule,
    HaircutSchedule,
)

SAMPLE_COMMUNITY_FILE = Path(__file__).resolve().parents[2] / "bot" / "data" / "community.toml"


class Category(StrEnum):
    """Complaint categories (intent ids) that handling units take."""

    NOISE = "noise"
    PROPERTY = "property"
    REPAIR = "repair"
    UTILITIES = "utilities"
    SANITATION = "sanitation"
    PARKING = "parking"
    DISPUTE = "dispute"
    SAFETY = "safety"
    CONSTRUCTION = "construction"
    WELFARE = "welfare"
    LEGAL = "legal"
    SUGGESTION = "suggestion"
    OTHER = "other"


# Time limits in hours, following common 12345 hotline practice; the file may override them.
_SPECIAL_LIMITS = {
    Category.SAFETY: 2,
    Category.UTILITIES: 24,
    Category.REPAIR: 24,
    Category.SUGGESTION: 360,
    Category.CONSTRUCTION: 360,
}
DEFAULT_LIMIT_HOURS: Mapping[Category, int] = MappingProxyType(
    {c: _SPECIAL_LIMITS.get(c, 168) for c in Category}
)
# Matters about people, not a place (低保 not paid, a son who will not support his mother, a quarrel to mediate):
# no place is asked for them; the resident's home goes on the case when it is known.
PLACELESS: frozenset[Category] = frozenset({Category.WELFARE, Category.LEGAL, Category.DISPUTE})
DEFAULT_RADIUS_M = 1500
SIGN_HOURS = 2  # the handling unit must sign for (签收) a ticket within two hours (12345 practice)
EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


class EscalationLevelName(StrEnum):
    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"


class CommunityFileError(ValueError):
    """The community file is missing, unreadable or invalid; the message (one line) says where and why."""


CategoryName = Annotated[Category, PlainValidator(choice(Category, "类别"))]
Limits = Annotated[Mapping[CategoryName, Annotated[Int, Field(ge=1, le=24 * 365)]], AfterValidator(frozen_map)]
WorkingLimits = Annotated[Mapping[CategoryName, Annotated[Int, Field(ge=1, le=2000)]], AfterValidator(frozen_map)]
Latitude = Annotated[Float, Field(ge=-90, le=90)]
Longitude = Annotated[Float, Field(ge=-180, le=180)]


# --- public models ----------------------------------------------------------------------------------


class LimitUnit(StrEnum):
    HOURS = "hours"  # wall-clock hours
    WORKING_HOURS = "working_hours"  # hours inside working time (nights, weekends, holidays skipped)
    WORKING_DAYS = "working_days"  # whole working days (12345 practice), each as long as the working day


@dataclass(frozen=True)
class TimeLimit:
    """A time limit as the community file gives it; ``services.cases.working_time`` turns it into a deadline."""

    amount: int
    unit: LimitUnit = LimitUnit.HOURS


@dataclass(frozen=True, config=CONFIG)
class WorkingTime:
    """[working_time]: the working day, and which limits count in working time instead of wall-clock hours."""

    day: Span = (time(9, 0), time(18, 0))
    days: WorkingLimits = Field(default_factory=lambda: MappingProxyType({}))
    hours: WorkingLimits = Field(default_factory=lambda: MappingProxyType({}))
    sign_hours: Annotated[Int, Field(ge=1, le=72)] | None = None  # 签收 in working hours (default: 2 wall hours)
    # the State Council's holidays and 调休 days for a year the calendar package does not know yet (or corrections)
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()
    # keeping after cases (services.cases.sweep): a case still not done after its limit climbs one level (grid →
    # community → street, then a reminder to the street) each time it stays red this many more working days (None:
    # its own time limit again); a case in 待补充 reminds the resident after ``info_remind_days`` working days
    # without an answer, and tells the desk after ``info_desk_days`` (staff decide: call, or close it)
    escalate_every_days: Annotated[Int, Field(ge=1, le=365)] | None = None
    # once the top level (the street) holds a case still red, it is reminded at most once in this many hours (an
    # emergency's period is a few hours: without it the street would be reminded all day and night)
    remind_top_every_hours: Annotated[Int, Field(ge=1, le=24 * 30)] = 24
    info_remind_days: Annotated[Int, Field(ge=1, le=365)] = 3
    info_desk_days: Annotated[Int, Field(ge=1, le=365)] = 5

    @model_validator(mode="after")
    def _valid(self) -> Self:
        if self.day is None:
            raise problem("工作时间不能是休息", "day")
        if self.day[0] >= self.day[1]:
            raise problem("下班时间应晚于上班时间", "day")
        if both := sorted(set(self.holidays) & set(self.workdays)):
            raise problem(f"{both[0].isoformat()} 不能既是放假日又是调休上班日", "holidays")
        _one_limit_each(days=self.days, hours=self.hours)
        return self


def _one_limit_each(**tables: Mapping[Category, int]) -> None:
    """A category has one limit per level of the file: wall-clock hours, working days or working hours."""
    seen: dict[Category, str] = {}
    for key, table in tables.items():
        for cat in table:
            if cat in seen:
                raise problem(f"类别 {cat.value!r} 的时限已在 {seen[cat]} 中给出，只能给一种", key, cat.value)
            seen[cat] = key


@dataclass(frozen=True, config=CONFIG)
class GridInfo:
    code: GridCode
    name: Text
    buildings: tuple[Text, ...]
    worker_name: Text = Field(alias="worker")
    worker_tg_id: Int | None = None
    phone: Text | None = None  # the number on the grid's 网格员公示牌, given to residents who ask for it


@dataclass(frozen=True, config=CONFIG)
class HandlingUnit:
    code: Code
    name: Text
    categories: Annotated[tuple[CategoryName, ...], Field(min_length=1)]
    chat_id: Int | None = None
    phone: Text | None = None  # the number residents may call, told to those who ask for it ("物业电话多少")
    limits: Limits = Field(default_factory=lambda: MappingProxyType({}))
    working_days: WorkingLimits = Field(default_factory=lambda: MappingProxyType({}))  # 12345: 工作日
    working_hours: WorkingLimits = Field(default_factory=lambda: MappingProxyType({}))

    @model_validator(mode="after")
    def _limits_for_own_categories(self) -> Self:
        for key in ("limits", "working_days", "working_hours"):
            for cat in getattr(self, key):
                if cat not in self.categories:
                    raise problem(f"本单位不承办 {cat.value!r}，不能为它设时限", key, cat.value)
        _one_limit_each(limits=self.limits, working_days=self.working_days, working_hours=self.working_hours)
        return self


@dataclass(frozen=True, config=CONFIG)
class EscalationLevel:
    level: EscalationLevelName
    name: Text
    chat_id: Int | None = None


@dataclass(frozen=True, config=CONFIG)
class Canteen:
    name: Text
    address: Text
    hours: Text
    price_note: Text = ""


@dataclass(frozen=True, config=CONFIG)
class ShopItem:
    code: Code
    name: Text
    cost: Annotated[Int, Field(ge=1, le=1_000_000)]
    stock: Annotated[Int, Field(ge=0)] | None = None  # total ever; remaining = stock − redemptions


@dataclass(frozen=True, config=CONFIG)
class EarnRule:
    code: Code
    name: Text
    points: Annotated[Int, Field(ge=1, le=1_000_000)]


@dataclass(frozen=True, config=CONFIG)
class PointsRule:
    """How many points one kind of recorded event earns, and how many of that kind a person may earn a day
    (Asia/Shanghai days; None: no limit). For volunteering ``points`` is the most one /award may give."""

    points: Annotated[Int, Field(ge=1, le=1_000_000)]
    daily_limit: Annotated[Int, Field(ge=1, le=1_000_000)] | None = None


@dataclass(frozen=True, config=CONFIG)
class PointsRules:
    """[points.rules]: the rule table of every way points are earned (spending is the shop's)."""

    order: PointsRule = Field(default_factory=lambda: PointsRule(10, 30))  # a confirmed partner order
    wish: PointsRule = Field(default_factory=lambda: PointsRule(15, 30))  # a fulfilled micro-wish
    volunteer: PointsRule = Field(default_factory=lambda: PointsRule(100, 200))  # /award by staff or an admin
    activity: PointsRule = Field(default_factory=lambda: PointsRule(5, 30))  # check-in; points: no earn rule

    def of(self, kind: str) -> PointsRule:
        return getattr(self, kind)


@dataclass(frozen=True, config=CONFIG)
class ServiceOffer:
    """One service of the community's list that partners offer and residents order (点单)."""

    code: Code
    name: Text
    keywords: tuple[Text, ...] = ()  # words that name it in a resident's request ("水龙头" for 水电维修)


DEFAULT_SERVICES: tuple[ServiceOffer, ...] = (
    ServiceOffer("haircut", "理发", ("理发", "剪头", "剪发")),
    ServiceOffer("appliance", "家电维修", ("家电", "空调", "洗衣机", "冰箱", "电视", "热水器", "油烟机")),
    ServiceOffer("plumbing", "水电维修", ("水龙头", "水管", "马桶", "下水道", "插座", "电路", "灯泡", "开关")),
    ServiceOffer("legal", "法律咨询", ("法律", "律师", "合同", "咨询")),
    ServiceOffer("tutoring", "课业辅导", ("辅导", "作业", "功课", "补课")),
    ServiceOffer("eldercare", "助老陪护", ("陪护", "陪老人", "陪诊", "助老", "照看")),
)


@dataclass(frozen=True, config=CONFIG)
class Participation:
    """[participation]: residents taking part — the service list, reply and take-up windows, the desk."""

    services: tuple[ServiceOffer, ...] = DEFAULT_SERVICES
    proposal_reply_days: Annotated[Int, Field(ge=1, le=365)] = 15  # 码上议: days to answer a proposal
    order_window_hours: Annotated[Int, Field(ge=1, le=24 * 30)] = 12  # an order nobody takes goes to the desk
    desk_unit: Code | None = None  # the unit whose chat gets applications, orders, proposals; default: suggestion's

    def service(self, code: str) -> ServiceOffer | None:
        return next((x for x in self.services if x.code == code.strip().lower()), None)

    def service_named(self, name: str) -> ServiceOffer | None:
        wanted = name.strip()
        return next((x for x in self.services if wanted in (x.name, x.code)), None)


@dataclass(frozen=True, config=CONFIG)
class BuildingPoint:
    """Where a building stands (WGS-84, as Telegram shares locations)."""

    name: Text
    lat: Latitude
    lon: Longitude


@dataclass(frozen=True, config=CONFIG)
class Emergency:
    """Whom an emergency goes to; the unit codes are resolved (never None) once the file is loaded."""

    police_unit: Code
    property_unit: Code
    duty_chat_id: Int | None = None
    duty_name: Text = "社区值班室"
    duty_phone: Text | None = None
    lift_phone: Text = "96333"
    # an emergency's resolution limit in wall-clock hours, whatever its kind (a fall, a fire, a lift) and whichever
    # unit holds it: the category that picks the unit (a fall goes to the community as "other", 7 days) is no
    # measure of how soon an emergency must be dealt with
    limit_hours: Int = 2


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def _unit_for(units: tuple[HandlingUnit, ...], category: Category) -> HandlingUnit | None:
    for candidate in (category, Category.OTHER):
        for unit in units:
            if candidate in unit.categories:
                return unit
    return None


@dataclass(frozen=True, config=CONFIG)
class Community:
    name: str
    address: str
    street: str
    grids: tuple[GridInfo, ...]
    units: tuple[HandlingUnit, ...]
    escalation: tuple[EscalationLevel, ...]
    haircut: HaircutSchedule
    centre: CentreHours  # the service centre's hours; the community's location is (lat, lon)
    clinic: ClinicSchedule | None = None
    classes: ClassSchedule | None = None
    canteens: tuple[Canteen, ...] = ()
    shop: tuple[ShopItem, ...] = ()
    earning: tuple[EarnRule, ...] = ()
    limits: Annotated[Mapping[Category, int], AfterValidator(frozen_map)] = Field(
        default_factory=lambda: DEFAULT_LIMIT_HOURS
    )
    source: str = ""
    lat: float | None = None
    lon: float | None = None
    radius_m: int = DEFAULT_RADIUS_M
    building_points: tuple[BuildingPoint, ...] = ()
    emergency: Emergency = Field(kw_only=True)
    working_time: WorkingTime = Field(default_factory=WorkingTime, kw_only=True)
    points_rules: PointsRules = Field(default_factory=PointsRules, kw_only=True)
    participation: Participation = Field(default_factory=Participation, kw_only=True)

    def grid(self, code: str) -> GridInfo | None:
        """Grid by code, case-insensitive ("a03" finds "A03")."""
        wanted = code.strip().upper()
        return next((g for g in self.grids if g.code.upper() == wanted), None)

    def grid_for_building(self, building: str) -> GridInfo | None:
        return next((g for g in self.grids if building in g.buildings), None)

    def unit(self, code: str) -> HandlingUnit | None:
        return next((u for u in self.units if u.code == code), None)

    def unit_for(self, category: str) -> HandlingUnit:
        """The unit that takes ``category``; categories no unit lists go to the unit taking "other"."""
        unit = _unit_for(self.units, Category(category))
        if unit is None:
            raise LookupError("no unit takes 'other'")  # load_community guarantees one does
        return unit

    def limit_hours(self, category: str) -> int:
        """Hours to resolve: the handling unit's own limit, else the file's, else the 12345 default."""
        cat = Category(category)
        return self.unit_for(cat).limits.get(cat) or self.limits[cat]

    def time_limit(self, category: str) -> TimeLimit:
        """The resolution limit: the handling unit's own (in hours, working hours or working days), else the
        file's [working_time] days/hours, else its [limits] hours, else the 12345 default hours."""
        cat = Category(category)
        unit = self.unit_for(cat)
        for table, kind in ((unit.working_days, LimitUnit.WORKING_DAYS), (unit.working_hours, LimitUnit.WORKING_HOURS),
                            (unit.limits, LimitUnit.HOURS), (self.working_time.days, LimitUnit.WORKING_DAYS),
                            (self.working_time.hours, LimitUnit.WORKING_HOURS)):
            if cat in table:
                return TimeLimit(table[cat], kind)
        return TimeLimit(self.limits[cat])

    @property
    def uses_working_time(self) -> bool:
        """Whether any limit counts working time (then the holiday calendar matters)."""
        w = self.working_time
        return bool(w.days or w.hours or w.sign_hours or any(u.working_days or u.working_hours for u in self.units))

    def emergency_limit(self) -> TimeLimit:
        """An emergency's resolution limit ([emergency] limit_hours, wall-clock), whatever its kind and unit."""
        return TimeLimit(self.emergency.limit_hours)

    def sign_limit(self) -> TimeLimit:
        """The sign-for (签收) limit: [working_time] sign_hours working hours, else two wall-clock hours."""
        if self.working_time.sign_hours is not None:
            return TimeLimit(self.working_time.sign_hours, LimitUnit.WORKING_HOURS)
        return TimeLimit(SIGN_HOURS)

    def escalation_level(self, level: str) -> EscalationLevel | None:
        return next((e for e in self.escalation if e.level == level), None)

    def shop_item(self, code: str) -> ShopItem | None:
        return next((i for i in self.shop if i.code == code.strip().lower()), None)

    def earn_rule(self, code: str) -> EarnRule | None:
        return next((r for r in self.earning if r.code == code), None)

    def participation_unit(self) -> HandlingUnit:
        """The unit whose chat handles partners, orders, wishes and proposals: [participation] desk_unit, else
        the unit taking suggestions."""
        code = self.participation.desk_unit
        return (self.unit(code) if code else None) or self.unit_for(Category.SUGGESTION)

    def distance_from_centre(self, lat: float, lon: float) -> float | None:
        """Metres from the community's centre ([community] lat/lon); None when the file gives no centre."""
        if self.lat is None or self.lon is None:
            return None
        return haversine_m(self.lat, self.lon, lat, lon)

    def nearest_building(self, lat: float, lon: float) -> tuple[str, float] | None:
        """The building ([[buildings]]) closest to a point and its distance in metres; None if none known."""
        return min(
            ((b.name, haversine_m(b.lat, b.lon, lat, lon)) for b in self.building_points),
            key=lambda found: found[1],
            default=None,
        )


# --- the file's tables where they differ from the public models --------------------------------------


class _Table(BaseModel):
    model_config = TABLE


class _Info(_Table):
    name: Text
    address: Text
    street: Text = ""
    lat: Latitude | None = None
    lon: Longitude | None = None
    radius_m: Annotated[Int, Field(ge=1, le=100_000)] = DEFAULT_RADIUS_M

    @model_validator(mode="after")
    def _both_coordinates(self) -> Self:
        if (self.lat is None) != (self.lon is None):
            raise problem("缺少此项（lat 和 lon 要一起写）", "lon" if self.lon is None else "lat")
        return self


class _Level(_Table):
    name: Text
    chat_id: Int | None = None


class _Escalation(_Table):
    grid: _Level
    community: _Level
    street: _Level

    def levels(self) -> tuple[EscalationLevel, ...]:
        return tuple(
            EscalationLevel(level, getattr(self, level).name, getattr(self, level).chat_id)
            for level in EscalationLevelName
        )


def _end_after_start(start: Any, end: Any) -> None:
    if start >= end:
        raise problem("应晚于开始时间", "end")


class _Haircut(_Table):
    name: Text = "爱心义剪"
    day_of_month: Annotated[Int, Field(ge=1, le=28)]
    start: Clock
    end: Clock
    place: Text
    free_age: Annotated[Int, Field(ge=0, le=120)]
    fee_yuan: Annotated[Int, Field(ge=0, le=10_000)]

    @model_validator(mode="after")
    def _order(self) -> Self:
        _end_after_start(self.start, self.end)
        return self

    def schedule(self) -> HaircutSchedule:
        return HaircutSchedule(**self.model_dump())


class _Clinic(_Table):
    name: Text = "义诊"
    weekday: Weekday | None = None
    nth: tuple[Nth, ...] | None = None
    dates: Dates = ()
    start: Clock
    end: Clock
    place: Text
    note: Text = ""

    @model_validator(mode="after")
    def _rule(self) -> Self:
        if self.weekday is not None and self.nth is None:
            raise problem("缺少此项（有 weekday 时要写 nth，如 [2] 表示第二个）", "nth")
        if self.nth and self.weekday is None:
            raise problem("要和 weekday 一起写", "nth")
        if self.weekday is None and not self.dates:
            raise problem("要写 weekday + nth（如每月第二个周六）或 dates 日期列表")
        _end_after_start(self.start, self.end)
        return self

    def schedule(self) -> ClinicSchedule:
        return ClinicSchedule(**(self.model_dump() | {"nth": self.nth or ()}))


class _Session(_Table):
    weekday: Weekday
    start: Clock
    end: Clock
    subject: Text

    @model_validator(mode="after")
    def _order(self) -> Self:
        _end_after_start(self.start, self.end)
        return self


class _Classes(_Table):
    name: Text = "公益课堂"
    place: Text
    sessions: Annotated[tuple[_Session, ...], Field(min_length=1)]

    def schedule(self) -> ClassSchedule:
        sessions = tuple(ClassSession(s.weekday, s.start, s.end, s.subject) for s in self.sessions)
        return ClassSchedule(place=self.place, sessions=sessions, name=self.name)


class _Centre(_Table):
    weekday_hours: Span
    weekend_hours: Span
    windows: tuple[Text, ...] = ()
    closed_dates: Dates = ()
    address: Text = ""
    phone: Text = ""

    def hours(self) -> CentreHours:
        return CentreHours(
            weekday=self.weekday_hours,
            weekend=self.weekend_hours,
            windows=self.windows,
            closed_dates=self.closed_dates,
            address=self.address,
            phone=self.phone,
        )


class _Services(_Table):
    haircut: _Haircut
    centre: _Centre
    clinic: _Clinic | None = None
    classes: _Classes | None = None
    canteens: tuple[Canteen, ...] = ()


def _no_duplicate_codes(key: str, entries: tuple[Any, ...], what: str) -> None:
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        if entry.code in seen:
            raise problem(f"{what}编号 {entry.code!r} 重复", key, i, "code")
        seen.add(entry.code)


class _Points(_Table):
    items: tuple[ShopItem, ...] = ()
    earn: tuple[EarnRule, ...] = ()
    rules: PointsRules = Field(default_factory=PointsRules)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        _no_duplicate_codes("items", self.items, "物品")
        _no_duplicate_codes("earn", self.earn, "活动")
        return self


class _Emergency(_Table):
    """[emergency] as written; what is left out takes Emergency's defaults."""

    duty_chat_id: Int | None = None
    duty_name: Text | None = None
    duty_phone: Text | None = None
    police_unit: Code | None = None  # default: the unit taking "safety"
    property_unit: Code | None = None  # default: the unit taking "repair"
    lift_phone: Text | None = None
    limit_hours: Annotated[Int, Field(ge=1, le=24 * 7)] | None = None


class _CommunityFile(_Table):
    """The whole file, table by table in the order the sample lists them."""

    community: _Info
    grids: Annotated[tuple[GridInfo, ...], Field(min_length=1)]
    units: Annotated[tuple[HandlingUnit, ...], Field(min_length=1)]
    limits: Limits = Field(default_factory=lambda: MappingProxyType({}))
    escalation: _Escalation
    services: _Services
    points: _Points = _Points()
    buildings: tuple[BuildingPoint, ...] = ()
    emergency: _Emergency = _Emergency()
    working_time: WorkingTime = Field(default_factory=WorkingTime)
    participation: Participation = Field(default_factory=Participation)

    @model_validator(mode="after")
    def _limits_once(self) -> Self:
        for cat in self.limits:
            if cat in self.working_time.days or cat in self.working_time.hours:
                raise problem(f"类别 {cat.value!r} 已在 working_time 中给出时限，只能给一种", "limits", cat.value)
        return self

    @model_validator(mode="after")
    def _participation(self) -> Self:
        seen: set[str] = set()
        for i, offer in enumerate(self.participation.services):
            if offer.code in seen:
                raise problem(f"服务编号 {offer.code!r} 重复", "participation", "services", i, "code")
            seen.add(offer.code)
        code = self.participation.desk_unit
        if code is not None and code not in {u.code for u in self.units}:
            raise problem(f"没有编号为 {code!r} 的承办单位（units[].code）", "participation", "desk_unit")
        return self

    @model_validator(mode="after")
    def _grids(self) -> Self:
        _no_duplicate_codes("grids", self.grids, "网格")
        owner: dict[str, str] = {}
        for g, grid in enumerate(self.grids):
            for b, building in enumerate(grid.buildings):
                if building in owner:
                    raise problem(f"{building!r} 已在网格 {owner[building]} 中", "grids", g, "buildings", b)
                owner[building] = grid.code
        return self

    @model_validator(mode="after")
    def _units(self) -> Self:
        """Each category is taken by one unit at most, and some unit takes "other" (and all unlisted ones)."""
        _no_duplicate_codes("units", self.units, "单位")
        taken: dict[Category, str] = {}
        for u, unit in enumerate(self.units):
            for c, cat in enumerate(unit.categories):
                if cat in taken:
                    raise problem(f"类别 {cat.value!r} 已由单位 {taken[cat]!r} 承办", "units", u, "categories", c)
                taken[cat] = unit.code
        if Category.OTHER not in taken:
            raise problem("没有单位承办 'other' 类别（它还接收所有没有单位承办的类别）", "units")
        return self

    @model_validator(mode="after")
    def _buildings(self) -> Self:
        known = {b for g in self.grids for b in g.buildings}
        seen: set[str] = set()
        for i, point in enumerate(self.buildings):
            if point.name not in known:
                raise problem(f"{point.name!r} 不是任何网格 buildings 里的楼栋", "buildings", i, "name")
            if point.name in seen:
                raise problem(f"楼栋 {point.name!r} 重复", "buildings", i, "name")
            seen.add(point.name)
        return self

    @model_validator(mode="after")
    def _emergency_units(self) -> Self:
        codes = {u.code for u in self.units}
        for key in ("police_unit", "property_unit"):
            code = getattr(self.emergency, key)
            if code is not None and code not in codes:
                raise problem(f"没有编号为 {code!r} 的承办单位（units[].code）", "emergency", key)
        return self

    def community_of(self, source: str) -> Community:
        info, services, table = self.community, self.services, self.emergency

        def unit_code(given: str | None, category: Category) -> str:
            unit = _unit_for(self.units, category)
            assert unit is not None  # _units made sure some unit takes "other"
            return given or unit.code

        emergency = Emergency(
            **table.model_dump(exclude_none=True)
            | {
                "police_unit": unit_code(table.police_unit, Category.SAFETY),
                "property_unit": unit_code(table.property_unit, Category.REPAIR),
            }
        )
        return Community(
            name=info.name,
            address=info.address,
            street=info.street,
            grids=self.grids,
            units=self.units,
            escalation=self.escalation.levels(),
            haircut=services.haircut.schedule(),
            centre=services.centre.hours(),
            clinic=services.clinic.schedule() if services.clinic else None,
            classes=services.classes.schedule() if services.classes else None,
            canteens=services.canteens,
            shop=self.points.items,
            earning=self.points.earn,
            limits=dict(DEFAULT_LIMIT_HOURS) | dict(self.limits),
            source=source,
            lat=info.lat,
            lon=info.lon,
            radius_m=info.radius_m,
            building_points=self.buildings,
            emergency=emergency,
            working_time=self.working_time,
            points_rules=self.points.rules,
            participation=self.participation,
        )


# --- loading ----------------------------------------------------------------------------------------


def default_community_path() -> Path:
    """``$COMMUNITY_FILE`` if set, else the sample shipped with the bot."""
    return Path(os.environ.get("COMMUNITY_FILE") or SAMPLE_COMMUNITY_FILE)


def load_community(path: str | Path | None = None) -> Community:
    """Read and validate a community file; raises CommunityFileError."""
    path = Path(path) if path is not None else default_community_path()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommunityFileError(f"{path}: 无法读取: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CommunityFileError(f"{path}: 不是 UTF-8 文本: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:  # keeps tomllib's "(at line L, column C)"
        raise CommunityFileError(f"{path}: TOML 语法错误: {exc}") from exc
    return parse_community(data, source=str(path))


def parse_community(data: Mapping[str, Any], *, source: str = "community.toml") -> Community:
    """Validate already-parsed TOML data (``load_community`` reads the file first)."""
    try:
        return _CommunityFile.model_validate(data).community_of(source)
    except ValidationError as exc:
        line = describe(first_error(exc.errors()))
        raise CommunityFileError(f"{source}: {line}".replace("\n", " ")) from None


__all__ = [
    "DEFAULT_LIMIT_HOURS",
    "DEFAULT_RADIUS_M",
    "DEFAULT_SERVICES",
    "PLACELESS",
    "SAMPLE_COMMUNITY_FILE",
    "SIGN_HOURS",
    "BuildingPoint",
    "Canteen",
    "Category",
    "Community",
    "CommunityFileError",
    "EarnRule",
    "Emergency",
    "EscalationLevel",
    "EscalationLevelName",
    "GridInfo",
    "HandlingUnit",
    "LimitUnit",
    "Participation",
    "PointsRule",
    "PointsRules",
    "ServiceOffer",
    "ShopItem",
    "TimeLimit",
    "WorkingTime",
    "default_community_path",
    "haversine_m",
    "load_community",
    "parse_community",
]
