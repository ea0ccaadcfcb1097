"""Learning from the desk: the corrections staff make (exported as text,label,source,at) teach the engine,
through the real command lines, and every bad file is one clear line, exit 2, with nothing written."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from intents import Engine, load_taxonomy
from intents.dataset import read_examples
from intents.train import learn_from_desk

REPO = Path(__file__).resolve().parents[2]
TAXONOMY = REPO / "intents" / "data" / "taxonomy.toml"

# A community whose lifts the property company runs (staff reassign lift faults from repair to property),
# and where street stalls go to the city inspectors (construction's unit), which no keyword says.
CORRECTIONS = [
    ("电梯又坏了，物业说等配件", "property", "reassign"),
    ("电梯三天两头停运", "property", "reassign"),
    ("电梯门关不上", "property", "reassign"),
    ("电梯运行的时候晃得厉害", "property", "reassign"),
    ("电梯按键失灵了", "property", "correction"),
    ("电梯里的灯坏了", "property", "reassign"),
    ("电梯年检过期了还在用", "property", "reassign"),
    ("电梯异响很大", "property", "correction"),
    ("电梯停在一楼不动了", "property", "reassign"),
    ("电梯坏了没人维护", "property", "reassign"),
    ("电梯一到晚上就停", "property", "reassign"),
    ("电梯又故障了", "property", "correction"),
    ("小区门口有人摆摊卖菜", "construction", "correction"),
    ("流动摊贩在人行道上摆摊", "construction", "reassign"),
    ("早点摊把桌子摆到马路上", "construction", "reassign"),
    ("水果摊天天摆在单元门口", "construction", "reassign"),
    ("夜市摊位把人行道摆满了", "construction", "correction"),
    ("门口的小贩天天摆摊", "construction", "reassign"),
    ("卖菜的三轮车横在路口摆摊", "construction", "reassign"),
    ("有人在小区里摆摊卖衣服", "construction", "correction"),
    ("楼上装修太吵了", "noise", "resident_choice"),
    ("晚上广场舞太吵", "noise", "resident_choice"),
    ("家里停水了", "utilities", "resident_choice"),
    ("暖气不热", "utilities", "resident_choice"),
]


def write(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = ("text", "label", "source", "at"),
          encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def export(path: Path) -> Path:
    return write(path, [(t, lab, src, f"2026-11-{i % 28 + 1:02d}T09:00:00+08:00")
                        for i, (t, lab, src) in enumerate(CORRECTIONS)])


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_export_train_classify_loop(tmp_path: Path) -> None:
    csv_path = export(tmp_path / "corrections.csv")
    out = tmp_path / "model.json"
    p = run("intents.train", "--taxonomy", str(TAXONOMY), str(csv_path), "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert f"+ {len(CORRECTIONS)} desk rows" in p.stdout
    assert "电梯: property +" in p.stdout  # what the desk taught, readable
    model = json.loads(out.read_text(encoding="utf-8"))
    assert model["kind"] == "taxonomy" and "电梯又坏了，物业说等配件" in model["examples"]["property"]
    before = run("intents", "classify", "电梯又不动了")
    after = run("intents", "classify", "电梯又不动了", "--model", str(out))
    assert json.loads(before.stdout)["intents"][0]["id"] == "repair"
    assert json.loads(after.stdout)["intents"][0]["id"] == "property"
    stall = json.loads(run("intents", "classify", "楼下有人摆摊卖鞋", "--model", str(out)).stdout)
    assert stall["intents"][0]["id"] == "construction"
    # what the shipped taxonomy already knew stays known
    for text, label in [("楼上好吵", "noise"), ("垃圾没人收", "sanitation"), ("我爸摔倒了起不来", "act.sos")]:
        assert json.loads(run("intents", "classify", text, "--model", str(out)).stdout)["intents"][0]["id"] == label


def test_evaluate_before_after_on_a_held_out_part(tmp_path: Path) -> None:
    csv_path = export(tmp_path / "corrections.csv")
    p = run("intents.evaluate", "--taxonomy", str(TAXONOMY), "--test", str(csv_path), "--holdout", "0.3",
            "--seed", "1", "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["held_out_rows"] + data["learned_rows"] == len(CORRECTIONS)
    assert data["after"]["accuracy"] > data["before"]["accuracy"] + 0.3, data
    text = run("intents.evaluate", "--test", str(csv_path), "--holdout", "0.3", "--seed", "1")
    assert text.returncode == 0 and "before: accuracy" in text.stdout and "after:  accuracy" in text.stdout


def test_holdout_split_is_seeded_and_learning_is_deterministic(tmp_path: Path) -> None:
    rows = read_examples(export(tmp_path / "c.csv"), labels=load_taxonomy().labels)
    a, b = learn_from_desk(load_taxonomy(), rows), learn_from_desk(load_taxonomy(), rows)
    assert a.to_json() == b.to_json()
    assert Engine(a).classify("电梯坏了").top.id == "property"


def test_by_type_table_and_emergency_task() -> None:
    p = run("intents.evaluate", "--test", str(REPO / "intents/data/dev_set.csv"), "--by-type")
    assert p.returncode == 0, p.stderr
    assert "typo_homophone" in p.stdout and "accuracy" in p.stdout
    p = run("intents.evaluate", "--test", str(REPO / "intents/data/emergency_dev.csv"), "--json")
    data = json.loads(p.stdout)
    assert set(data["per_label"]) == {"medical", "fire", "gas", "crime", "trapped", "missing", "self-harm", "crisis",
                                      "fraud", "help", "none"}
    assert data["accuracy"] == 1.0
    p = run("intents.evaluate", "--test", str(REPO / "intents/data/emergency_dev.csv"), "--task", "emergency")
    assert "emergencies recognised" in p.stdout and "false alarms 0/" in p.stdout


def bad(p: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert all(n in lines[0] for n in needles), lines[0]


BAD_FILES = {
    "unknown-label": (lambda d: write(d / "f.csv", [("电梯坏了", "lift", "reassign", ""),
                                                   ("电梯停了", "lift", "reassign", "")]), ("f.csv:2", "'lift'")),
    "empty-text": (lambda d: write(d / "f.csv", [("电梯坏了", "repair", "reassign", ""),
                                                ("", "repair", "reassign", "")]), ("f.csv:3", "empty text")),
    "empty-row": (lambda d: write(d / "f.csv", [("电梯坏了", "repair", "reassign", ""), ("", "", "", ""),
                                               ("电梯停了", "repair", "reassign", "")]), ("f.csv:3", "empty row")),
    "missing-column": (lambda d: write(d / "f.csv", [("电梯坏了", "repair"), ("电梯停了", "repair")],
                                       header=("text", "category")), ("f.csv:1", "'label'")),
    "wrong-source": (lambda d: write(d / "f.csv", [("电梯坏了", "repair", "boss", ""),
                                                  ("电梯停了", "repair", "reassign", "")]), ("f.csv:2", "source")),
    "one-example": (lambda d: write(d / "f.csv", [("电梯坏了", "repair", "reassign", ""),
                                                 ("电梯停了", "repair", "reassign", ""),
                                                 ("楼上太吵", "noise", "reassign", "")]), ("f.csv:4", "'noise'")),
    "not-utf8": (lambda d: write(d / "f.csv", [("电梯坏了", "repair", "reassign", ""),
                                              ("电梯停了", "repair", "reassign", "")], encoding="gbk"),
                 ("f.csv:2", "UTF-8")),
    "not-a-file": (lambda d: d / "absent.csv", ("absent.csv",)),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_input_train(case: str, tmp_path: Path) -> None:
    make, needles = BAD_FILES[case]
    path = make(tmp_path)
    out = tmp_path / "model.json"
    bad(run("intents.train", "--taxonomy", str(TAXONOMY), str(path), "--out", str(out)), *needles)
    assert not out.exists() and not list(tmp_path.glob(".model.json*"))  # nothing half-written


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_input_evaluate(case: str, tmp_path: Path) -> None:
    make, needles = BAD_FILES[case]
    bad(run("intents.evaluate", "--test", str(make(tmp_path)), "--holdout", "0.2"), *needles)


def test_bad_input_plain_train_and_holdout(tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", [("楼上太吵", "noise"), ("楼下太吵", "noise"), ("没水", "water")],
                 header=("text", "label"))
    bad(run("intents.train", str(path), "--out", str(tmp_path / "m.json")), "f.csv:4", "'water'")
    good = export(tmp_path / "c.csv")
    bad(run("intents.evaluate", "--test", str(good), "--holdout", "1.5"), "--holdout")


def test_an_existing_model_is_not_clobbered_by_a_failed_run(tmp_path: Path) -> None:
    out = tmp_path / "model.json"
    out.write_text("previous", encoding="utf-8")
    broken = write(tmp_path / "f.csv", [("电梯坏了", "nope", "reassign", "")] * 2)
    bad(run("intents.train", "--taxonomy", str(TAXONOMY), str(broken), "--out", str(out)), "'nope'")
    assert out.read_text(encoding="utf-8") == "previous"
