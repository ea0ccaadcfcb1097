"""Typed times: the forms staff use, read as Shanghai time, the next such moment when no date is given."""

from datetime import datetime

import pytest

from services import SHANGHAI
from services.when import parse, parse_prefix

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=SHANGHAI)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25 14:00", at(2026, 11, 25, 14, 0)),
    ("2026/11/25 8:05", at(2026, 11, 25, 8, 5)),
    ("2026年11月25日 14:00", at(2026, 11, 25, 14, 0)),
    ("11-25 08:00", at(2026, 11, 25, 8, 0)),
    ("11月25日 14点", at(2026, 11, 25, 14, 0)),
    ("11-20 08:00", at(2027, 11, 20, 8, 0)),  # passed this year: next year
    ("20:00", at(2026, 11, 23, 20, 0)),  # later today
    ("9:00", at(2026, 11, 24, 9, 0)),  # passed today: tomorrow
    ("２０：００", at(2026, 11, 23, 20, 0)),  # typed full-width
    ("2026-11-20 08:00", at(2026, 11, 20, 8, 0)),  # a full date is taken as given, past or not
])
def test_forms(text: str, expected: datetime) -> None:
    assert parse(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "明天", "2026-02-30 10:00", "25:00", "11-25", "20:00 以后", "20:"])
def test_not_a_time(text: str) -> None:
    assert parse(text, NOW) is None


def test_prefix_leaves_the_rest() -> None:
    assert parse_prefix("2026-11-25 14:00 社区调解室", NOW) == (at(2026, 11, 25, 14, 0), "社区调解室")
    assert parse_prefix("社区调解室", NOW) == (None, "社区调解室")
    assert parse_prefix("", NOW) == (None, "")


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError):
        parse("20:00", datetime(2026, 11, 23, 15, 30))
