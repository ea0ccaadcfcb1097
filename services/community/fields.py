"""Field types for the community file's pydantic models, and the one place pydantic errors become Chinese.

Pydantic does the checking; this module adds what TOML needs beyond its defaults (integers that refuse
``true`` and ``"5"``, trimmed non-empty text, ``"09:00"`` times, ``"08:30-17:30"`` opening hours,
weekday names, ISO dates) and :func:`describe`, which turns one pydantic error into
``<key path>: <problem>`` with zero-based indexes (``units[2].limits.parking: 应为正数``).
A validator that wants to name a key below the model it checks raises :func:`problem` with that
sub-path; :func:`describe` appends it to pydantic's location.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from enum import Enum
from types import MappingProxyType
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, ConfigDict, PlainValidator, Strict, StringConstraints
from pydantic_core import ErrorDetails, PydanticCustomError

from services.community.schedule import weekday_index

# Unknown keys refused (a typo would otherwise silently drop a setting); Python code may use field
# names where the file uses another key (GridInfo.worker_name ← ``worker``). Dataclasses are frozen by
# their decorator, models by TABLE.
CONFIG = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)
TABLE = ConfigDict(CONFIG, frozen=True)

_PROBLEM = "community"  # error type of problem(); its context carries the sub-path under "at"


def problem(message: str, *at: str | int) -> PydanticCustomError:
    """An error to raise from a validator; ``at`` is the key path below the validated value."""
    return PydanticCustomError(_PROBLEM, message, {"at": at})


# --- scalar types -----------------------------------------------------------------------------------

Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]  # strict still takes TOML integers (lat = 30), never true or "30"
Text = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1)]


_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_GRID_CODE = re.compile(r"^[A-Z0-9-]{1,16}$")


def _code(value: str) -> str:
    if not _CODE.match(value):
        raise problem(f"只能用小写字母、数字和 _，且以字母开头，现为 {value!r}")
    return value


def _grid_code(value: str) -> str:
    if not _GRID_CODE.match(value):
        raise problem(f"应为 A03 这样的字母和数字（最多 16 个），现为 {value!r}")
    return value


Code = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, to_lower=True), AfterValidator(_code)]
GridCode = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, to_upper=True), AfterValidator(_grid_code)
]

E = TypeVar("E", bound=Enum)


def choice(enum: type[E], what: str) -> Callable[[object], E]:
    """A validator for a member of ``enum`` given by its value; a wrong one is named with the known ones."""
    known = "、".join(str(m.value) for m in enum)

    def validate(value: object) -> E:
        if isinstance(value, enum):
            return value
        if not isinstance(value, str):
            raise problem("应为文字")
        try:
            return enum(value.strip())
        except ValueError:
            raise problem(f"不认识的{what} {value!r}（可用：{known}）") from None

    return validate


# --- times and dates --------------------------------------------------------------------------------

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_CLOSED = frozenset({"closed", "休息", "不开放"})


def parse_hhmm(text: str) -> time | None:
    """``"9:05"`` → 09:05; None unless it is a valid 24-hour time."""
    match = _HHMM.match(text.strip())
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _clock(value: object) -> time:
    if isinstance(value, time):  # a TOML local time (start = 09:00)
        return value
    parsed = parse_hhmm(value) if isinstance(value, str) else None
    if parsed is None:
        raise problem(f'应为 "09:00" 这样的时间，现为 {value!r}')
    return parsed


def _span(value: object) -> tuple[time, time] | None:
    """``"08:30-17:30"`` → (08:30, 17:30); ``"closed"``/``"休息"`` → None."""
    if not isinstance(value, str):
        raise problem("应为文字")
    text = value.strip()
    if text.lower() in _CLOSED:
        return None
    times = [parse_hhmm(part) for part in re.split(r"\s*[-–—~～至]\s*", text)]
    if len(times) != 2 or times[0] is None or times[1] is None:
        raise problem(f'应为 "08:30-17:30" 这样的时段或 "closed"，现为 {value!r}')
    if times[0] >= times[1]:
        raise problem(f"开门时间应早于关门时间，现为 {value!r}")
    return times[0], times[1]


def _weekday(value: object) -> int:
    try:
        if isinstance(value, str):
            return weekday_index(value)
    except ValueError:
        pass
    raise problem(f'应为 "sat" 或 "周六" 这样的星期，现为 {value!r}')


def _date(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise problem(f"应为 2026-12-12 这样的日期，现为 {value!r}")


def _nth(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value in {-1, 1, 2, 3, 4, 5}:
        return value
    raise problem(f"应为 1–5 或 -1（最后一个），现为 {value!r}")


Clock = Annotated[time, PlainValidator(_clock)]
Span = Annotated[tuple[time, time] | None, PlainValidator(_span)]
Weekday = Annotated[int, PlainValidator(_weekday)]
Nth = Annotated[int, PlainValidator(_nth)]
Dates = Annotated[tuple[Annotated[date, PlainValidator(_date)], ...], AfterValidator(lambda ds: tuple(sorted(ds)))]

K = TypeVar("K")
V = TypeVar("V")


def frozen_map(value: Mapping[K, V]) -> Mapping[K, V]:
    """A read-only view, so a frozen model's mapping cannot be changed behind its back."""
    return MappingProxyType(dict(value))


# --- pydantic errors → "<key path>: <problem>" -----------------------------------------------------


def _bound(ctx: Mapping[str, Any]) -> str:
    def num(x: float) -> str:
        return f"{x:g}"

    if "ge" in ctx:
        return {0: "不能为负数", 1: "应为正数"}.get(ctx["ge"], f"不能小于 {num(ctx['ge'])}")
    if "gt" in ctx:
        return "应为正数" if ctx["gt"] == 0 else f"应大于 {num(ctx['gt'])}"
    if "le" in ctx:
        return f"不能大于 {num(ctx['le'])}"
    return f"应小于 {num(ctx['lt'])}"


_TYPE = "应为整数", "应为数字", "应为文字", "应为列表", "应为表（[…] 或 [[…]]）"
_PROBLEMS: Mapping[str, str | Callable[[Mapping[str, Any]], str]] = {
    "missing": "缺少此项",
    "missing_argument": "缺少此项",
    "missing_keyword_only_argument": "缺少此项",
    "extra_forbidden": "不认识的键",
    "unexpected_keyword_argument": "不认识的键",
    **dict.fromkeys(("int_type", "int_parsing", "int_from_float"), _TYPE[0]),
    **dict.fromkeys(("float_type", "float_parsing"), _TYPE[1]),
    **dict.fromkeys(("string_type", "string_sub_type"), _TYPE[2]),
    **dict.fromkeys(("list_type", "tuple_type", "iterable_type"), _TYPE[3]),
    **dict.fromkeys(("dict_type", "mapping_type", "model_type", "model_attributes_type", "dataclass_type",
                     "dataclass_exact_type"), _TYPE[4]),
    "bool_type": "应为 true 或 false",
    "string_too_short": "不能为空",
    "too_short": lambda ctx: "至少要有一项" if ctx.get("min_length") == 1 else f"至少要有 {ctx['min_length']} 项",
    "too_long": lambda ctx: f"最多 {ctx['max_length']} 项",
    "enum": lambda ctx: f"应为 {ctx['expected']} 之一",
    **dict.fromkeys(("greater_than", "greater_than_equal", "less_than", "less_than_equal"), _bound),
}


def key_path(loc: Sequence[str | int]) -> str:
    """``("units", 2, "limits", "parking")`` → ``units[2].limits.parking``; ``()`` → ``（顶层）``."""
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic marks "the key itself was wrong"; the path already ends at it
            continue
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "（顶层）"


def describe(error: ErrorDetails) -> str:
    """One pydantic error as ``<key path>: <problem>``; types without a translation keep pydantic's text."""
    ctx = error.get("ctx") or {}
    loc = tuple(error["loc"])
    if error["type"] == _PROBLEM:
        return f"{key_path(loc + tuple(ctx.get('at', ())))}: {error['msg']}"
    wording = _PROBLEMS.get(error["type"], error["msg"])
    return f"{key_path(loc)}: {wording if isinstance(wording, str) else wording(ctx)}"


def first_error(errors: Sequence[ErrorDetails]) -> ErrorDetails:
    """The error to report: the first, skipping a list's "too short" that only echoes its items' errors."""

    def echo(e: ErrorDetails) -> bool:
        n = len(e["loc"])
        return e["type"] == "too_short" and any(len(o["loc"]) > n and o["loc"][:n] == e["loc"] for o in errors)

    return next((e for e in errors if not echo(e)), errors[0])
