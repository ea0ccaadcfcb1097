"""Score the engine on a labelled CSV: `python -m intents.evaluate --test FILE.csv --json`.

With `--train FILE.csv` it first learns from that file (labels are whatever it holds); with `--model`
it loads a trained model; otherwise it uses the shipped taxonomy, where a message nothing matched
counts as `other` (what the bot does with it: staff triage).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from intents.cli import run
from intents.engine import Engine
from intents.train import Row, read_csv, subject, train

FALLBACK = "other"


@dataclass
class Report:
    macro_f1: float
    accuracy: float
    per_label: dict[str, dict[str, float]]
    confusion: dict[str, dict[str, int]]
    latency_us: dict[str, float]
    n: int

    def to_json(self) -> dict:
        return vars(self)


def predict(engine: Engine, text: str) -> str:
    top = engine.classify(text).top
    return top.id if top else FALLBACK


def evaluate(engine: Engine, rows: list[Row]) -> Report:
    gold, pred, times = [], [], []
    for text, label in rows:
        t0 = time.perf_counter_ns()
        p = predict(engine, text)
        times.append((time.perf_counter_ns() - t0) / 1000)
        gold.append(label)
        pred.append(p)
    return report(gold, pred, times)


def report(gold: list[str], pred: list[str], times_us: list[float]) -> Report:
    labels = sorted(set(gold))
    confusion: dict[str, dict[str, int]] = {g: dict(Counter()) for g in labels}
    counts: dict[str, Counter] = defaultdict(Counter)
    for g, p in zip(gold, pred, strict=True):
        confusion[g][p] = confusion[g].get(p, 0) + 1
        counts[g]["support"] += 1
        if g == p:
            counts[g]["tp"] += 1
        else:
            counts[p]["fp"] += 1
            counts[g]["fn"] += 1
    per_label = {}
    for lab in labels:
        c = counts[lab]
        prec = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        rec = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_label[lab] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4),
                          "support": c["support"]}
    n = len(gold)
    times = sorted(times_us) or [0.0]
    return Report(
        macro_f1=round(statistics.fmean(v["f1"] for v in per_label.values()), 4) if per_label else 0.0,
        accuracy=round(sum(g == p for g, p in zip(gold, pred, strict=True)) / n, 4) if n else 0.0,
        per_label=per_label,
        confusion=confusion,
        latency_us={"p50": round(times[len(times) // 2], 1),
                    "p99": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1)},
        n=n,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m intents.evaluate", description=__doc__.splitlines()[0])
    ap.add_argument("--test", required=True, help="CSV with columns text,label")
    ap.add_argument("--train", help="learn from this CSV first")
    ap.add_argument("--model", help="a trained model (.json) or a taxonomy (.toml)")
    ap.add_argument("--field", choices=("full", "subject"), default="full",
                    help="subject: keep only the first line of each test text")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if args.train and args.model:
        ap.error("--train and --model exclude each other")
    test = read_csv(args.test)
    if args.field == "subject":
        test = [(subject(t), lab) for t, lab in test]
    engine = Engine(train(read_csv(args.train))) if args.train else Engine.from_file(args.model)
    rep = evaluate(engine, test)
    if args.json:
        print(json.dumps(rep.to_json(), ensure_ascii=False))
    else:
        print(f"n={rep.n} macro_f1={rep.macro_f1} accuracy={rep.accuracy} "
              f"latency p50={rep.latency_us['p50']}us p99={rep.latency_us['p99']}us")
        for lab, v in rep.per_label.items():
            print(f"  {lab:14s} P={v['precision']:.3f} R={v['recall']:.3f} F1={v['f1']:.3f} n={v['support']}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
