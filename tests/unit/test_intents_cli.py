"""The three command lines staff use: classify, train, evaluate — real processes, documented JSON."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

DATA = {
    "noise": ["楼上半夜蹦迪太吵", "广场舞音响吵死了", "装修电钻声太吵", "半夜有人唱歌很吵", "酒吧音乐吵得睡不着",
              "狗叫了一晚上吵", "凌晨施工太吵", "楼上拖椅子吵", "KTV吵得没法休息", "早上五点放音乐太吵"],
    "water": ["家里停水了", "自来水又停了", "水压太低没水", "水龙头流黄水", "停水不通知",
              "小区又停水", "水管爆了没水", "热水器没水停水了吗", "自来水有怪味", "连续三天停水"],
    "rubbish": ["垃圾桶满了没人清", "垃圾堆成山很臭", "垃圾站臭气熏天", "乱扔垃圾到绿化带", "垃圾没人收",
                "楼道堆满垃圾", "垃圾分类点太脏", "垃圾清运太晚", "垃圾桶全是苍蝇", "垃圾没人管臭死了"],
}
RESULT_KEYS = {"intents", "ambiguous", "emergency", "resolved_topic", "progress_topic", "parts"}
REPORT_KEYS = {"macro_f1", "accuracy", "per_label", "confusion", "latency_us", "n"}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Multi-line rows (subject, newline, detail) so `--field subject` has something to cut."""
    path = tmp_path_factory.mktemp("cli") / "data.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        for label, texts in DATA.items():
            w.writerows((f"{t}\n居民反映：{t}，请尽快处理。", label) for t in texts)
    return path


@pytest.fixture(scope="module")
def model_file(csv_file: Path) -> Path:
    out = csv_file.with_name("model.json")
    p = run("intents.train", str(csv_file), "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "trained on 30 rows, 3 labels" in p.stdout
    assert any(line.startswith("noise:") and "吵" in line for line in p.stdout.splitlines()), p.stdout
    return out


def check_report(stdout: str, n: int) -> dict:
    data = json.loads(stdout)
    assert set(data) == REPORT_KEYS
    assert data["n"] == n
    assert 0.0 <= data["macro_f1"] <= 1.0 and 0.0 <= data["accuracy"] <= 1.0
    assert set(data["latency_us"]) == {"p50", "p99"}
    for stats in data["per_label"].values():
        assert set(stats) == {"precision", "recall", "f1", "support"}
    assert set(data["confusion"]) == set(data["per_label"])
    return data


def test_train_writes_a_model(model_file: Path) -> None:
    assert json.loads(model_file.read_text(encoding="utf-8"))["format"] == "linli-intents/1"


def test_evaluate_a_saved_model(model_file: Path, csv_file: Path) -> None:
    p = run("intents.evaluate", "--model", str(model_file), "--test", str(csv_file), "--json")
    assert p.returncode == 0, p.stderr
    data = check_report(p.stdout, 30)
    assert data["macro_f1"] == 1.0
    assert data["per_label"]["water"]["support"] == 10


def test_evaluate_trains_then_scores_subject_lines(csv_file: Path) -> None:
    p = run("intents.evaluate", "--train", str(csv_file), "--test", str(csv_file), "--field", "subject",
            "--json")
    assert p.returncode == 0, p.stderr
    assert check_report(p.stdout, 30)["accuracy"] > 0.9


def test_evaluate_the_shipped_taxonomy_in_text_form(csv_file: Path) -> None:
    p = run("intents.evaluate", "--test", str(csv_file))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("n=30 macro_f1=")


def test_classify_prints_ranked_json() -> None:
    p = run("intents", "classify", "楼上天天装修，吵死了")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert set(data) == RESULT_KEYS and data["ambiguous"] is False
    assert data["emergency"] is None and data["parts"] == ["noise"]
    assert data["intents"][0]["id"] == "noise"
    for m in data["intents"]:
        assert set(m) == {"id", "name", "score", "evidence"}
    assert "吵死" in data["intents"][0]["evidence"]


def test_classify_reads_stdin_and_takes_a_model(model_file: Path) -> None:
    p = run("intents", "classify", stdin="小区三天没人收垃圾\n")
    assert p.returncode == 0 and json.loads(p.stdout)["intents"][0]["id"] == "sanitation"
    p = run("intents", "classify", "又停水了", "--model", str(model_file))
    assert p.returncode == 0 and json.loads(p.stdout)["intents"][0]["id"] == "water"


def one_clear_line(p: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert all(n in lines[0] for n in needles), lines[0]


def test_train_bad_paths(tmp_path: Path, csv_file: Path) -> None:
    one_clear_line(run("intents.train", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "m.json")),
                   "absent.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("body,cls\nx,y\n", encoding="utf-8")
    one_clear_line(run("intents.train", str(bad), "--out", str(tmp_path / "m.json")), "bad.csv", "text,label")
    one_clear_line(run("intents.train", str(csv_file), "--out", str(tmp_path / "no" / "dir" / "m.json")),
                   "m.json")


def test_evaluate_bad_paths(tmp_path: Path, csv_file: Path) -> None:
    one_clear_line(run("intents.evaluate", "--test", str(tmp_path / "absent.csv")), "absent.csv")
    one_clear_line(run("intents.evaluate", "--model", str(tmp_path / "absent.json"), "--test", str(csv_file)),
                   "absent.json")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[intent]]\nid = 'Bad'\n", encoding="utf-8")
    one_clear_line(run("intents.evaluate", "--model", str(broken), "--test", str(csv_file)),
                   "broken.toml:2")


def test_classify_bad_model_path(tmp_path: Path) -> None:
    one_clear_line(run("intents", "classify", "楼上太吵", "--model", str(tmp_path / "absent.toml")),
                   "absent.toml")
