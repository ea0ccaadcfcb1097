"""The community file (``COMMUNITY_FILE``, sample ``bot/data/community.toml``) as frozen dataclasses.

Everything local lives there: grids and their workers, which unit handles which kind of complaint and
within how many hours, escalation chats, service schedules, points-shop items. Loading validates the
whole file; the first problem raises :class:`CommunityFileError` naming the file, the key path
(``grids[2].code``, zero-based indexes) and the problem. Unknown keys are errors too, because a typo
would otherwise silently drop a setting.
"""

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

from services.community.schedule import (
    CentreHours,
    ClassSchedule,
    ClassSession,
    ClinicSchedule,
    HaircutSchedule,
    weekday_index,
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


class EscalationLevelName(StrEnum):
    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"


class CommunityFileError(ValueError):
    """The community file is missing, unreadable or invalid; the message says where and why."""


@dataclass(frozen=True)
class GridInfo:
    code: str
    name: str
    buildings: tuple[str, ...]
    worker_name: str
    worker_tg_id: int | None = None


@dataclass(frozen=True)
class HandlingUnit:
    code: str
    name: str
    categories: tuple[Category, ...]
    chat_id: int | None = None
    limits: Mapping[Category, int] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class EscalationLevel:
    level: EscalationLevelName
    name: str
    chat_id: int | None = None


@dataclass(frozen=True)
class Canteen:
    name: str
    address: str
    hours: str
    price_note: str = ""


@dataclass(frozen=True)
class ShopItem:
    code: str
    name: str
    cost: int
    stock: int | None = None  # total ever available; remaining = stock − redemptions in the ledger


@dataclass(frozen=True)
class EarnRule:
    code: str
    name: str
    points: int


@dataclass(frozen=True)
class Community:
    name: str
    address: str
    street: str
    grids: tuple[GridInfo, ...]
    units: tuple[HandlingUnit, ...]
    escalation: tuple[EscalationLevel, ...]
    haircut: HaircutSchedule
    centre: CentreHours
    clinic: ClinicSchedule | None = None
    classes: ClassSchedule | None = None
    canteens: tuple[Canteen, ...] = ()
    shop: tuple[ShopItem, ...] = ()
    earning: tuple[EarnRule, ...] = ()
    limits: Mapping[Category, int] = field(default_factory=lambda: DEFAULT_LIMIT_HOURS)
    source: str = ""

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
        cat = Category(category)
        for candidate in (cat, Category.OTHER):
            for unit in self.units:
                if candidate in unit.categories:
                    return unit
        raise LookupError("no unit takes 'other'")  # load_community guarantees one does

    def limit_hours(self, category: str) -> int:
        """Hours to resolve: the handling unit's own limit, else the file's, else the 12345 default."""
        cat = Category(category)
        return self.unit_for(cat).limits.get(cat) or self.limits[cat]

    def escalation_level(self, level: str) -> EscalationLevel | None:
        return next((e for e in self.escalation if e.level == level), None)

    def shop_item(self, code: str) -> ShopItem | None:
        return next((i for i in self.shop if i.code == code.strip().lower()), None)

    def earn_rule(self, code: str) -> EarnRule | None:
        return next((r for r in self.earning if r.code == code), None)


def default_community_path() -> Path:
    """``$COMMUNITY_FILE`` if set, else the sample shipped with the bot."""
    return Path(os.environ.get("COMMUNITY_FILE") or SAMPLE_COMMUNITY_FILE)


def load_community(path: str | Path | None = None) -> Community:
    """Read and validate a community file; raises CommunityFileError."""
    path = Path(path) if path is not None else default_community_path()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommunityFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CommunityFileError(f"{path}: not UTF-8 text: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:  # keeps tomllib's "(at line L, column C)"
        raise CommunityFileError(f"{path}: {exc}") from exc
    return parse_community(data, source=str(path))


# --- validation -------------------------------------------------------------------------------------

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


class _Node:
    """One table of the file plus its key path, with typed getters that fail with a precise message."""

    def __init__(self, source: str, path: str, data: Mapping[str, Any]) -> None:
        self.source, self.path, self.data = source, path, data
        self._seen: set[str] = set()

    def fail(self, problem: str, key: str | None = None) -> NoReturn:
        where = self._sub(key) if key is not None else (self.path or "(top level)")
        raise CommunityFileError(f"{self.source}: {where}: {problem}")

    def _sub(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str, kinds: type | tuple[type, ...], what: str, *, required: bool) -> Any:
        self._seen.add(key)
        if key not in self.data:
            if required:
                self.fail("missing", key)
            return None
        value = self.data[key]
        allowed = kinds if isinstance(kinds, tuple) else (kinds,)
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            self.fail(f"must be {what}, got {type(value).__name__}", key)
        return value

    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self.raw(key, str, "a string", required=required)
        if value is None:
            return default
        if not value.strip():
            self.fail("must not be empty", key)
        return value.strip()

    def integer(
        self, key: str, *, lo: int | None = None, hi: int | None = None, required: bool = True
    ) -> Any:
        value = self.raw(key, int, "an integer", required=required)
        if value is None:
            return None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            bounds = f"between {lo} and {hi}" if lo is not None and hi is not None else f">= {lo}"
            self.fail(f"must be {bounds}, got {value}", key)
        return value

    def clock(self, key: str) -> time:
        value = self.raw(key, (str, time), 'a time like "09:00"', required=True)
        if isinstance(value, time):
            return value
        parsed = _parse_hhmm(value)
        if parsed is None:
            self.fail(f'must be a time like "09:00", got {value!r}', key)
        return parsed

    def span(self, key: str) -> tuple[time, time] | None:
        """``"08:30-17:30"`` → (08:30, 17:30); ``"closed"`` → None."""
        value = self.text(key)
        if value.lower() in {"closed", "休息", "不开放"}:
            return None
        parts = re.split(r"\s*[-–—~～至]\s*", value)
        times = [_parse_hhmm(p) for p in parts]
        if len(times) != 2 or None in times:
            self.fail(f'must look like "08:30-17:30" or "closed", got {value!r}', key)
        start, end = times[0], times[1]
        assert start is not None and end is not None
        if start >= end:
            self.fail(f"opening time must be before closing time, got {value!r}", key)
        return start, end

    def texts(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        value = self.raw(key, list, "a list of strings", required=required) or []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.fail("must be a non-empty string", f"{key}[{i}]")
        return tuple(item.strip() for item in value)

    def table(self, key: str, *, required: bool = True) -> "_Node | None":
        value = self.raw(key, dict, "a table", required=required)
        return None if value is None else _Node(self.source, self._sub(key), value)

    def tables(self, key: str, *, required: bool = True) -> Iterator["_Node"]:
        value = self.raw(key, list, "an array of tables ([[...]])", required=required) or []
        if required and not value:
            self.fail("must have at least one entry", key)
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.fail("must be a table", f"{key}[{i}]")
            yield _Node(self.source, f"{self._sub(key)}[{i}]", item)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self._seen)
        if unknown:
            self.fail("unknown key", unknown[0])


def _parse_hhmm(text: str) -> time | None:
    match = _HHMM.match(text.strip())
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _code(node: _Node, key: str = "code") -> str:
    value = node.text(key).lower()
    if not _CODE.match(value):
        node.fail(f"must be lowercase letters, digits or _, got {value!r}", key)
    return value


def _category(node: _Node, key: str, value: str) -> Category:
    try:
        return Category(value)
    except ValueError:
        node.fail(f"unknown category {value!r} (known: {', '.join(Category)})", key)


def _limits(node: _Node | None) -> dict[Category, int]:
    if node is None:
        return {}
    out: dict[Category, int] = {}
    for key in list(node.data):
        out[_category(node, key, key)] = node.integer(key, lo=1, hi=24 * 365)
    node.done()
    return out


def _grids(root: _Node) -> tuple[GridInfo, ...]:
    grids: list[GridInfo] = []
    owner: dict[str, str] = {}
    for node in root.tables("grids"):
        code = node.text("code").upper()
        if not re.match(r"^[A-Z0-9-]{1,16}$", code):
            node.fail(f"must be letters and digits like A03, got {code!r}", "code")
        if any(g.code == code for g in grids):
            node.fail(f"duplicate grid code {code!r}", "code")
        buildings = node.texts("buildings")
        for i, building in enumerate(buildings):
            if building in owner:
                node.fail(f"{building!r} is already in grid {owner[building]}", f"buildings[{i}]")
            owner[building] = code
        grid = GridInfo(
            code=code,
            name=node.text("name"),
            buildings=buildings,
            worker_name=node.text("worker"),
            worker_tg_id=node.integer("worker_tg_id", required=False),
        )
        node.done()
        grids.append(grid)
    return tuple(grids)


def _units(root: _Node) -> tuple[HandlingUnit, ...]:
    units: list[HandlingUnit] = []
    taken: dict[Category, str] = {}
    for node in root.tables("units"):
        code = _code(node)
        if any(u.code == code for u in units):
            node.fail(f"duplicate unit code {code!r}", "code")
        names = node.texts("categories")
        if not names:
            node.fail("must list at least one category", "categories")
        categories = tuple(_category(node, f"categories[{i}]", n) for i, n in enumerate(names))
        for i, cat in enumerate(categories):
            if cat in taken:
                node.fail(
                    f"category {cat.value!r} is already taken by unit {taken[cat]!r}", f"categories[{i}]"
                )
            taken[cat] = code
        limits = _limits(node.table("limits", required=False))
        for cat in limits:
            if cat not in categories:
                node.fail(f"limit for {cat.value!r}, which this unit does not take", f"limits.{cat.value}")
        unit = HandlingUnit(
            code=code,
            name=node.text("name"),
            categories=categories,
            chat_id=node.integer("chat_id", required=False),
            limits=MappingProxyType(limits),
        )
        node.done()
        units.append(unit)
    if Category.OTHER not in taken:
        root.fail("no unit takes category 'other' (it also receives every category no unit lists)", "units")
    return tuple(units)


def _escalation(root: _Node) -> tuple[EscalationLevel, ...]:
    node = root.table("escalation")
    assert node is not None
    levels = []
    for level in EscalationLevelName:
        sub = node.table(level.value)
        assert sub is not None
        levels.append(EscalationLevel(level, sub.text("name"), sub.integer("chat_id", required=False)))
        sub.done()
    node.done()
    return tuple(levels)


def _haircut(services: _Node) -> HaircutSchedule:
    node = services.table("haircut")
    assert node is not None
    schedule = HaircutSchedule(
        name=node.text("name", required=False, default="爱心义剪"),
        day_of_month=node.integer("day_of_month", lo=1, hi=28),
        start=node.clock("start"),
        end=node.clock("end"),
        place=node.text("place"),
        free_age=node.integer("free_age", lo=0, hi=120),
        fee_yuan=node.integer("fee_yuan", lo=0, hi=10_000),
    )
    if schedule.start >= schedule.end:
        node.fail("must be after start", "end")
    node.done()
    return schedule


def _weekday(node: _Node, key: str) -> int:
    value = node.text(key)
    try:
        return weekday_index(value)
    except ValueError:
        node.fail(f'must be a weekday like "sat" or "周六", got {value!r}', key)


def _date(node: _Node, key: str, value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    node.fail(f"must be a date like 2026-12-12, got {value!r}", key)


def _dates(node: _Node, key: str) -> tuple[date, ...]:
    values = node.raw(key, list, "a list of dates", required=False) or []
    return tuple(sorted(_date(node, f"{key}[{i}]", v) for i, v in enumerate(values)))


def _clinic(services: _Node) -> ClinicSchedule | None:
    node = services.table("clinic", required=False)
    if node is None:
        return None
    weekday = _weekday(node, "weekday") if "weekday" in node.data else None
    nth_values = node.raw("nth", list, "a list of integers like [2]", required=weekday is not None) or []
    for i, n in enumerate(nth_values):
        if isinstance(n, bool) or not isinstance(n, int) or n not in {-1, 1, 2, 3, 4, 5}:
            node.fail(f"must be 1–5 or -1 (last), got {n!r}", f"nth[{i}]")
    if nth_values and weekday is None:
        node.fail("needs weekday", "nth")
    dates = _dates(node, "dates")
    if weekday is None and not dates:
        node.fail("needs weekday + nth (e.g. the 2nd Saturday) or a dates list")
    clinic = ClinicSchedule(
        name=node.text("name", required=False, default="义诊"),
        start=node.clock("start"),
        end=node.clock("end"),
        place=node.text("place"),
        weekday=weekday,
        nth=tuple(nth_values),
        dates=dates,
        note=node.text("note", required=False),
    )
    if clinic.start >= clinic.end:
        node.fail("must be after start", "end")
    node.done()
    return clinic


def _classes(services: _Node) -> ClassSchedule | None:
    node = services.table("classes", required=False)
    if node is None:
        return None
    sessions = []
    for sub in node.tables("sessions"):
        weekday, start, end = _weekday(sub, "weekday"), sub.clock("start"), sub.clock("end")
        session = ClassSession(weekday, start, end, sub.text("subject"))
        if session.start >= session.end:
            sub.fail("must be after start", "end")
        sub.done()
        sessions.append(session)
    name = node.text("name", required=False, default="公益课堂")
    schedule = ClassSchedule(name=name, place=node.text("place"), sessions=tuple(sessions))
    node.done()
    return schedule


def _canteens(services: _Node) -> tuple[Canteen, ...]:
    canteens = []
    for node in services.tables("canteens", required=False):
        canteens.append(
            Canteen(
                name=node.text("name"),
                address=node.text("address"),
                hours=node.text("hours"),
                price_note=node.text("price_note", required=False),
            )
        )
        node.done()
    return tuple(canteens)


def _centre(services: _Node) -> CentreHours:
    node = services.table("centre")
    assert node is not None
    centre = CentreHours(
        weekday=node.span("weekday_hours"),
        weekend=node.span("weekend_hours"),
        windows=node.texts("windows", required=False),
        closed_dates=_dates(node, "closed_dates"),
        address=node.text("address", required=False),
        phone=node.text("phone", required=False),
    )
    node.done()
    return centre


def _points(root: _Node) -> tuple[tuple[ShopItem, ...], tuple[EarnRule, ...]]:
    node = root.table("points", required=False)
    if node is None:
        return (), ()
    items: list[ShopItem] = []
    for sub in node.tables("items", required=False):
        code = _code(sub)
        if any(i.code == code for i in items):
            sub.fail(f"duplicate item code {code!r}", "code")
        cost = sub.integer("cost", lo=1, hi=1_000_000)
        items.append(ShopItem(code, sub.text("name"), cost, sub.integer("stock", lo=0, required=False)))
        sub.done()
    rules: list[EarnRule] = []
    for sub in node.tables("earn", required=False):
        code = _code(sub)
        if any(r.code == code for r in rules):
            sub.fail(f"duplicate activity code {code!r}", "code")
        rules.append(EarnRule(code, sub.text("name"), sub.integer("points", lo=1, hi=1_000_000)))
        sub.done()
    node.done()
    return tuple(items), tuple(rules)


def parse_community(data: Mapping[str, Any], *, source: str = "community.toml") -> Community:
    """Validate already-parsed TOML data (``load_community`` reads the file first)."""
    root = _Node(source, "", data)
    info = root.table("community")
    assert info is not None
    name, address = info.text("name"), info.text("address")
    street = info.text("street", required=False)
    info.done()
    grids = _grids(root)
    units = _units(root)
    limits = dict(DEFAULT_LIMIT_HOURS) | _limits(root.table("limits", required=False))
    escalation = _escalation(root)
    services = root.table("services")
    assert services is not None
    haircut, centre = _haircut(services), _centre(services)
    clinic, classes, canteens = _clinic(services), _classes(services), _canteens(services)
    services.done()
    shop, earning = _points(root)
    root.done()
    return Community(
        name=name,
        address=address,
        street=street,
        grids=grids,
        units=units,
        escalation=escalation,
        haircut=haircut,
        centre=centre,
        clinic=clinic,
        classes=classes,
        canteens=canteens,
        shop=shop,
        earning=earning,
        limits=MappingProxyType(limits),
        source=source,
    )


__all__ = [
    "DEFAULT_LIMIT_HOURS",
    "SAMPLE_COMMUNITY_FILE",
    "Canteen",
    "Category",
    "Community",
    "CommunityFileError",
    "EarnRule",
    "EscalationLevel",
    "EscalationLevelName",
    "GridInfo",
    "HandlingUnit",
    "ShopItem",
    "default_community_path",
    "load_community",
    "parse_community",
]
