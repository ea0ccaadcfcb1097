"""The community file's participation parts: [points.rules] (points per kind, limits per day) and [participation]
(the service list, reply and take-up windows, the desk unit), their defaults and their one-line errors."""

import copy
import tomllib
from typing import Any

import pytest

from services.community.model import (
    DEFAULT_SERVICES,
    SAMPLE_COMMUNITY_FILE,
    CommunityFileError,
    PointsRule,
    PointsRules,
    parse_community,
)

SAMPLE: dict[str, Any] = tomllib.loads(SAMPLE_COMMUNITY_FILE.read_text(encoding="utf-8"))


def with_changes(**tables: Any) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLE)
    for key, value in tables.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_the_sample_file_states_the_defaults() -> None:
    c = parse_community(SAMPLE)
    assert c.points_rules == PointsRules()
    assert c.points_rules.of("volunteer") == PointsRule(100, 200)
    assert c.participation.proposal_reply_days == 15 and c.participation.order_window_hours == 12
    assert [s.code for s in c.participation.services] == [s.code for s in DEFAULT_SERVICES]
    assert c.participation_unit().code == "juweihui"  # the unit taking suggestions
    assert c.participation.service_named("水电维修").code == "plumbing"
    assert c.participation.service_named(" legal ").name == "法律咨询"
    assert c.participation.service("PLUMBING") is not None and c.participation.service("gold") is None


def test_without_the_sections_everything_defaults() -> None:
    points = {k: v for k, v in SAMPLE["points"].items() if k != "rules"}
    c = parse_community(with_changes(participation=None, points=points))
    assert c.points_rules == PointsRules() and c.participation.services == DEFAULT_SERVICES


def test_rules_and_participation_as_written() -> None:
    points = {**SAMPLE["points"], "rules": {"order": {"points": 20}, "volunteer": {"points": 50, "daily_limit": 60}}}
    participation = {"proposal_reply_days": 7, "order_window_hours": 2, "desk_unit": "wuye",
                     "services": [{"code": "repair", "name": "修理", "keywords": ["修"]}]}
    c = parse_community(with_changes(points=points, participation=participation))
    assert c.points_rules.order == PointsRule(20, None) and c.points_rules.wish == PointsRules().wish
    assert c.points_rules.volunteer == PointsRule(50, 60)
    assert c.participation.proposal_reply_days == 7 and c.participation_unit().code == "wuye"
    assert [s.name for s in c.participation.services] == ["修理"]


@pytest.mark.parametrize(("tables", "expected"), [
    ({"participation": {"desk_unit": "nobody"}}, "participation.desk_unit: 没有编号为 'nobody' 的承办单位"),
    ({"participation": {"services": [{"code": "a", "name": "甲"}, {"code": "a", "name": "乙"}]}},
     "participation.services[1].code: 服务编号 'a' 重复"),
    ({"participation": {"proposal_reply_days": 0}}, "participation.proposal_reply_days"),
    ({"participation": {"order_window_hours": "12"}}, "participation.order_window_hours"),
    ({"participation": {"services": [{"code": "Bad Code", "name": "x"}]}}, "participation.services[0].code"),
    ({"participation": {"typo": 1}}, "participation.typo"),
    ({"points": {"rules": {"order": {"points": -1}}}}, "points.rules.order.points"),
    ({"points": {"rules": {"bonus": {"points": 1}}}}, "points.rules.bonus"),
])
def test_mistakes_are_one_line_naming_the_key(tables: dict[str, Any], expected: str) -> None:
    with pytest.raises(CommunityFileError) as info:
        parse_community(with_changes(**tables), source="c.toml")
    message = str(info.value)
    assert message.startswith("c.toml: ") and expected in message and "\n" not in message
