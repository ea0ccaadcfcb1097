"""Emergencies first, never missed: every kind, worded as residents word them, and the ordinary messages
that use the same words (a past event, a fear, a question, a complaint) left alone."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from intents import classify
from intents.emergency import HELP, KINDS

DATA = Path(__file__).resolve().parents[2] / "intents" / "data"

# Written for this test, apart from the development sets: each kind several ways, mostly without the
# textbook word.
EMERGENCIES = [
    ("我奶奶在厕所滑倒了，站不起来", "medical"),
    ("隔壁阿姨突然倒下了，怎么叫都不应", "medical"),
    ("有个小孩在游泳池里沉下去了", "medical"),  # drowning
    ("有个工人触电了", "medical"),  # electrocution
    ("老人从床上摔下来了，头磕破了在流血", "medical"),  # bleeding
    ("楼下有人被电动车撞了，腿上全是血", "medical"),
    ("电梯坏在半空，我们三个人在里面", "trapped"),
    ("我家孩子被关在阳台上了，门从里面反锁了", "trapped"),
    ("我儿子六岁，在小区里玩不见了", "missing"),
    ("我爷爷有痴呆，出门一天了还没回家", "missing"),
    ("五楼窗户冒烟了", "fire"),
    ("楼下车棚起火了", "fire"),
    ("厨房里煤气味特别重", "gas"),
    ("燃气管漏了", "gas"),
    ("有人在楼下拿刀砍人", "crime"),
    ("有小偷正在撬门", "crime"),
    ("我活不下去了", "self-harm"),
    ("我妹说要跳楼", "self-harm"),
    ("樓道裡冒黑煙", "fire"),  # traditional characters
    ("help, there is a fire in my kitchen", "fire"),
]
ORDINARY = [
    "电梯坏了好几天了",  # a complaint about the lift
    "楼道的灯不亮，老人上下楼容易摔",  # a fear
    "天然气什么时候恢复供气",  # a question
    "我想报名急救培训",
    "家里燃气灶点不着火",
    "楼下烧烤烟太大了",
    "去年这栋楼着过火",  # a past event
    "上个月有人在这个台阶摔了，能不能装个扶手",
    "我的自行车被偷了",  # a theft that is over: a safety complaint
    "孩子的作业找不到了",
    "网格员电话打不通",
    "热得要死",  # hyperbole
    "楼上吵得我想死",
    "车被困在车位里出不去",
    "跳楼价清仓的广告贴满了楼道",
    "昨天电梯困人的事已经处理好了，谢谢",  # handled
    "没有着火，就是邻居在烧纸",  # negated
    "这台电梯经常困人，物业也不管",  # how often: a complaint about the lift
    "今天天气不错啊哈",
]


@pytest.mark.parametrize(("text", "kind"), EMERGENCIES, ids=[t[:12] for t, _ in EMERGENCIES])
def test_each_kind_is_recognised_and_put_first(text: str, kind: str) -> None:
    r = classify(text)
    assert r.emergency is not None and r.emergency.kind == kind, r.to_json()
    assert r.emergency.evidence
    assert r.top is not None and r.top.id == "act.sos" and not r.ambiguous
    assert r.parts[0] == "act.sos"
    assert r.to_json()["emergency"] == {"kind": kind, "evidence": r.emergency.evidence}


def test_every_kind_is_covered() -> None:
    assert {k for _, k in EMERGENCIES} == set(KINDS)


@pytest.mark.parametrize("text", ORDINARY, ids=[t[:12] for t in ORDINARY])
def test_ordinary_messages_with_the_same_words_are_no_emergency(text: str) -> None:
    r = classify(text)
    assert r.emergency is None, r.to_json()
    assert r.top is None or r.top.id != "act.sos"


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_emergency_row_of_the_development_sets_is_right() -> None:
    wrong = []
    for row in _rows("emergency_dev.csv"):
        e = classify(row["text"]).emergency
        if (e.kind if e else "none") != row["label"]:
            wrong.append((row["text"], row["label"], e))
    for row in _rows("dev_set.csv"):
        want = row["type"].removeprefix("emergency_") if row["label"] == "act.sos" else "none"
        r = classify(row["text"])
        if (r.emergency.kind if r.emergency else "none") != want:
            wrong.append((row["text"], want, r.emergency))
    assert not wrong


def test_emergency_set_shape() -> None:
    rows = _rows("emergency_dev.csv")
    assert len(rows) >= 100
    assert sum(r["label"] == "none" for r in rows) >= 40
    assert {r["label"] for r in rows} == {*KINDS, HELP, "none"}
