"""Score the engine on a labelled CSV: `python -m intents.evaluate --test FILE.csv --json`.

With `--train FILE.csv` it first learns from that file (labels are whatever it holds); with `--model`
it loads a trained model; otherwise it uses the shipped taxonomy, where a message nothing matched
counts as `other` (what the bot does with it: staff triage). `--by-type` adds accuracy per value of
the file's `type` column; a file labelled with emergency kinds (or `--task emergency`) is scored on
the emergency kind. `--holdout 0.2` learns the rest of the file on top of the taxonomy (as
`train --taxonomy` does with the desk's corrections) and prints before/after on the held-out share.
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
from intents.dataset import Example, read_examples, split
from intents.emergency import HELP, KINDS
from intents.engine import Engine
from intents.train import Row, learn_from_desk, subject, train

FALLBACK = "other"
NONE = "none"
EMERGENCY_LABELS = frozenset((*KINDS, HELP, NONE))


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


def predict_emergency(engine: Engine, text: str) -> str:
    e = engine.classify(text).emergency
    return e.kind if e else NONE


def evaluate(engine: Engine, rows: list[Row], task: str = "intent") -> Report:
    guess = predict_emergency if task == "emergency" else predict
    gold, pred, times = [], [], []
    for text, label in rows:
        t0 = time.perf_counter_ns()
        p = guess(engine, text)
        times.append((time.perf_counter_ns() - t0) / 1000)
        gold.append(label)
        pred.append(p)
    return report(gold, pred, times)


def by_type(engine: Engine, rows: list[Example], task: str) -> dict[str, dict[str, float]]:
    """Accuracy per value of the `type` column (rows without one count as 'untyped')."""
    guess = predict_emergency if task == "emergency" else predict
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        c = out[r.type or "untyped"]
        c[0] += guess(engine, r.text) == r.label
        c[1] += 1
    return {t: {"n": n, "right": k, "accuracy": round(k / n, 4)} for t, (k, n) in sorted(out.items())}


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


def _print(rep: Report, title: str = "") -> None:
    print(f"{title}n={rep.n} macro_f1={rep.macro_f1} accuracy={rep.accuracy} "
          f"latency p50={rep.latency_us['p50']}us p99={rep.latency_us['p99']}us")
    for lab, v in rep.per_label.items():
        print(f"  {lab:14s} P={v['precision']:.3f} R={v['recall']:.3f} F1={v['f1']:.3f} n={v['support']}")


def _print_emergency(rep: Report) -> None:
    real = sum(row.get(k, 0) for g, row in rep.confusion.items() if g != NONE for k in row)
    caught = sum(v for g, row in rep.confusion.items() if g != NONE for k, v in row.items() if k != NONE)
    right_kind = sum(row.get(g, 0) for g, row in rep.confusion.items() if g != NONE)
    calm = rep.confusion.get(NONE, {})
    alarms = sum(v for k, v in calm.items() if k != NONE)
    print(f"emergencies recognised {caught}/{real} (right kind {right_kind}/{real}); "
          f"false alarms {alarms}/{sum(calm.values())}")


def _print_types(types: dict[str, dict[str, float]]) -> None:
    print(f"\n{'type':28s} {'n':>4s} {'right':>5s} {'accuracy':>8s}")
    for t, v in types.items():
        print(f"{t:28s} {v['n']:4d} {v['right']:5d} {v['accuracy']:8.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m intents.evaluate", description=__doc__.splitlines()[0])
    ap.add_argument("--test", required=True, help="CSV with columns text,label[,type] (or the desk's export)")
    ap.add_argument("--train", help="learn from this CSV first")
    ap.add_argument("--model", "--taxonomy", dest="model",
                    help="a trained model (.json) or a taxonomy (.toml); default the shipped taxonomy")
    ap.add_argument("--field", choices=("full", "subject"), default="full",
                    help="subject: keep only the first line of each test text")
    ap.add_argument("--task", choices=("auto", "intent", "emergency"), default="auto",
                    help="emergency: score the emergency kind (labels: kinds or none); auto: from the labels")
    ap.add_argument("--by-type", action="store_true", help="also print accuracy per value of the type column")
    ap.add_argument("--holdout", type=float, metavar="SHARE",
                    help="learn the test file's other rows on top of the model, print before/after on this share")
    ap.add_argument("--seed", type=int, default=0, help="seed of the --holdout split")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if args.train and args.model:
        ap.error("--train and --model exclude each other")
    if args.holdout is not None and args.train:
        ap.error("--holdout learns from the test file itself; leave out --train")
    if args.holdout is not None:
        return _before_after(args)
    rows = read_examples(args.test)
    task = args.task
    if task == "auto":
        task = "emergency" if {r.label for r in rows} <= EMERGENCY_LABELS else "intent"
    if task == "emergency":
        rows = read_examples(args.test, labels=EMERGENCY_LABELS, labels_from="the emergency kinds or 'none'")
    if args.field == "subject":
        rows = [Example(subject(r.text), r.label, r.type, r.source, r.line) for r in rows]
    engine = (Engine(train([(r.text, r.label) for r in read_examples(args.train)])) if args.train
              else Engine.from_file(args.model))
    rep = evaluate(engine, [(r.text, r.label) for r in rows], task)
    types = by_type(engine, rows, task) if args.by_type else None
    if args.json:
        data = rep.to_json() | ({"by_type": types} if types is not None else {})
        print(json.dumps(data, ensure_ascii=False))
        return 0
    _print(rep)
    if task == "emergency":
        _print_emergency(rep)
    if types is not None:
        _print_types(types)
    return 0


def _before_after(args: argparse.Namespace) -> int:
    """The desk's corrections: learn most of them, score the rest with and without what was learned."""
    base = Engine.from_file(args.model).model
    if base.kind != "taxonomy":
        raise ValueError(f"{args.model}: --holdout learns on top of a taxonomy (.toml or a model trained with "
                         "--taxonomy), not a learned model")
    rows = read_examples(args.test, labels=base.labels, labels_from=base.source or "the taxonomy")
    kept, held = split(rows, args.holdout, args.seed)
    test = [(r.text, r.label) for r in held]
    before = evaluate(Engine(base), test)
    after = evaluate(Engine(learn_from_desk(base, kept)), test)
    if args.json:
        print(json.dumps({"before": before.to_json(), "after": after.to_json(), "learned_rows": len(kept),
                          "held_out_rows": len(held), "seed": args.seed}, ensure_ascii=False))
        return 0
    print(f"learned {len(kept)} rows, held out {len(held)} (share {args.holdout}, seed {args.seed})")
    print(f"before: accuracy {before.accuracy:.3f}  macro_f1 {before.macro_f1:.3f}")
    print(f"after:  accuracy {after.accuracy:.3f}  macro_f1 {after.macro_f1:.3f}  "
          f"({after.accuracy - before.accuracy:+.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
