"""Training: the pure-Python SVM learns from a handful of lines, and the Model it saves is the Model it loads."""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from pathlib import Path

import pytest

from intents import Engine, Model
from intents.evaluate import evaluate
from intents.train import Row, read_csv, subject, train

SHARED_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "gov_messages_train.csv"

SYNTHETIC: dict[str, list[str]] = {
    "noise": [
        "楼上半夜还在蹦迪，吵得睡不着", "广场舞音响太吵了", "隔壁装修电钻声吵死人",
        "晚上十二点还有人大声唱歌", "楼下酒吧音乐太吵", "邻居家狗叫了一晚上很吵",
        "凌晨还在施工，吵得孩子哭", "楼上拖椅子声音太吵", "KTV声音太大吵得没法休息",
        "天天早上五点有人放音乐，太吵",
    ],
    "water": [
        "家里停水了一整天", "自来水又停了，没法做饭", "水压太低，楼上没水",
        "水龙头流出黄水", "停水也不提前通知", "小区今天又停水",
        "水管爆了，整栋楼没水", "热水器没水了，是停水了吗", "自来水有股怪味",
        "连续三天停水，老人没法洗澡",
    ],
    "rubbish": [
        "垃圾桶满了没人清", "楼下垃圾堆成山，很臭", "垃圾站臭气熏天",
        "有人乱扔垃圾到绿化带", "垃圾好几天没人收", "楼道里堆满了垃圾",
        "垃圾分类点太脏", "垃圾车每天清运太晚", "垃圾桶旁边全是苍蝇",
        "小区垃圾没人管，臭死了",
    ],
}
HELD_OUT: list[Row] = [
    ("对面楼唱卡拉OK吵到半夜", "noise"),
    ("楼上装修太吵了", "noise"),
    ("又停水了，什么时候来水", "water"),
    ("水龙头一点水都没有", "water"),
    ("门口的垃圾没人清理", "rubbish"),
    ("垃圾堆在路边发臭", "rubbish"),
]


def rows() -> list[Row]:
    return [(t, lab) for lab, texts in SYNTHETIC.items() for t in texts]


def write_csv(path: Path, data: list[Row]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows(data)
    return path


@pytest.fixture(scope="module")
def model() -> Model:
    return train(rows())


def test_learns_to_separate_labels(model: Model) -> None:
    engine = Engine(model)
    assert sorted(model.labels) == ["noise", "rubbish", "water"]
    for text, label in HELD_OUT:
        r = engine.classify(text)
        assert r.top is not None and r.top.id == label, (text, r.to_json())
    assert all(engine.classify(t).top.id == lab for t, lab in rows())


def test_save_load_round_trip(model: Model, tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    model.save(path)
    loaded = Model.load(path)
    assert loaded.labels == model.labels and loaded.kind == "learned"
    before, after = Engine(model), Engine.from_file(path)
    for text, _ in [*HELD_OUT, ("随便说点什么", "")]:
        b, a = before.classify(text), after.classify(text)
        assert [m.id for m in a.intents] == [m.id for m in b.intents]
        assert [m.score for m in a.intents] == pytest.approx([m.score for m in b.intents], abs=1e-4)
        assert a.ambiguous == b.ambiguous


def test_load_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"format": "something-else"}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a linli-intents/1 model"):
        Model.load(path)
    with pytest.raises(ValueError, match="cannot read model"):
        Model.load(tmp_path / "absent.json")


def test_top_features_are_the_telling_words(model: Model) -> None:
    for label, char in [("noise", "吵"), ("water", "水"), ("rubbish", "垃")]:
        top = [f for f, _ in model.top_features(label, 5)]
        assert any(char in f for f in top), (label, top)
        assert all(f.startswith(("w:", "c:")) for f in top)


def test_training_is_deterministic() -> None:
    a, b = train(rows(), seed=3), train(rows(), seed=3)
    assert a.to_json() == b.to_json()


def test_needs_two_labels() -> None:
    with pytest.raises(ValueError, match="two labels"):
        train([("楼上太吵", "noise"), ("半夜唱歌", "noise")])


def test_subject_lines_are_learned_too() -> None:
    """Multi-line rows also teach through their first line, so chat-length messages score well."""
    data = [(f"{t}\n详细情况：{t}，已经持续很久了，希望尽快处理。", lab) for t, lab in rows()]
    m = train(data)
    assert subject(data[0][0]) == rows()[0][0]
    engine = Engine(m)
    assert all(engine.classify(t).top.id == lab for t, lab in rows())


def test_read_csv(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("\ufefftext,label\n楼上太吵,noise\n没有标签,\n", encoding="utf-8")
    assert read_csv(path) == [("楼上太吵", "noise")]
    (tmp_path / "bad.csv").write_text("body,cls\nx,y\n", encoding="utf-8")
    with pytest.raises(ValueError, match="text,label"):
        read_csv(tmp_path / "bad.csv")


def stratified_split(data: list[Row], test_share: float, seed: int) -> tuple[list[Row], list[Row]]:
    by_label: dict[str, list[Row]] = defaultdict(list)
    for row in data:
        by_label[row[1]].append(row)
    rng = random.Random(seed)
    train_rows: list[Row] = []
    test_rows: list[Row] = []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        k = round(len(group) * test_share)
        test_rows += group[:k]
        train_rows += group[k:]
    return train_rows, test_rows


@pytest.mark.shared
def test_real_messages_held_out_macro_f1() -> None:
    """930 real message-board posts, 7 departments: a stratified 80/20 split stays above 0.75 macro-F1."""
    if not SHARED_CSV.is_file():
        pytest.skip(f"shared data absent: {SHARED_CSV}")
    train_rows, test_rows = stratified_split(read_csv(SHARED_CSV), 0.2, seed=0)
    report = evaluate(Engine(train(train_rows)), test_rows)  # about 8 s on one core
    assert report.n == len(test_rows)
    assert report.macro_f1 > 0.75, report.per_label
