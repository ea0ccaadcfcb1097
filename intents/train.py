"""Learn keyword weights from labelled text: `python -m intents.train FILE.csv --out MODEL`.

A linear SVM (one label against the rest, squared hinge loss, solved by dual coordinate descent as
liblinear does) over jieba words and character 1-2-grams with sublinear tf-idf. Pure Python: 930
messages train in seconds, and the result is an ordinary Model the same scorer uses, saved as JSON
with its strongest keywords printable per label.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import sys
from array import array
from collections.abc import Iterable
from pathlib import Path

from intents import text as tx
from intents.cli import run
from intents.model import IntentInfo, Model

Row = tuple[str, str]  # (text, label)


def read_csv(path: str | Path) -> list[Row]:
    """Rows of a `text,label` CSV (UTF-8, BOM tolerated); rows with an empty label are skipped."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: needs a header with columns text,label")
        return [(r["text"] or "", r["label"].strip()) for r in reader if (r.get("label") or "").strip()]


def subject(text: str) -> str:
    """The first line: a message board's subject, about as long as a chat message."""
    return (text or "").strip().split("\n", 1)[0]


def _vectorize(docs: list[str], min_df: int) -> tuple[list[str], list[float], list[list[tuple[int, float]]]]:
    """Sublinear tf-idf rows over the features seen in at least `min_df` documents.

    Rarer features are dropped from the vocabulary altogether: they barely move the scores, and the
    scorer must see exactly the vocabulary the trainer saw (unknown features do not count in a norm).
    """
    counts = [tx.feature_counts(d, tx.tokens(d)) for d in (tx.normalize(x) for x in docs)]
    df: dict[str, int] = {}
    for blocks in counts:
        for block in blocks:
            for g in block:
                df[g] = df.get(g, 0) + 1
    names = [g for g, k in df.items() if k >= min_df]
    index = {g: j for j, g in enumerate(names)}
    n = len(docs)
    idf = [math.log((1 + n) / (1 + df[g])) + 1.0 for g in names]
    rows: list[list[tuple[int, float]]] = []
    for blocks in counts:
        row: list[tuple[int, float]] = []
        for block in blocks:
            vals = [(index[g], (1.0 + math.log(c)) * idf[index[g]]) for g, c in block.items() if g in index]
            norm = math.sqrt(sum(v * v for _, v in vals)) or 1.0
            row.extend((j, v / norm) for j, v in vals)
        rows.append(row)
    return names, idf, rows


def _svm(rows: list[list[tuple[int, float]]], y: list[int], nfeat: int, c: float, epochs: int,
         rng: random.Random) -> tuple[list[float], float]:
    """L2-regularised squared-hinge SVM, dual coordinate descent, bias as a constant feature."""
    w = [0.0] * nfeat
    b = 0.0
    diag = 0.5 / c
    alpha = [0.0] * len(rows)
    qd = [sum(v * v for _, v in r) + 1.0 + diag for r in rows]
    order = list(range(len(rows)))
    for _ in range(epochs):
        rng.shuffle(order)
        pg_max, pg_min = -math.inf, math.inf
        for i in order:
            r, yi = rows[i], y[i]
            g = yi * (sum(w[j] * v for j, v in r) + b) - 1.0 + diag * alpha[i]
            pg = g if alpha[i] > 0 else min(g, 0.0)
            pg_max, pg_min = max(pg_max, pg), min(pg_min, pg)
            if abs(pg) > 1e-12:
                old = alpha[i]
                alpha[i] = max(old - g / qd[i], 0.0)
                d = (alpha[i] - old) * yi
                for j, v in r:
                    w[j] += d * v
                b += d
        if pg_max - pg_min < 0.1:
            break
    return w, b


def train(rows: Iterable[Row], *, c: float = 1.0, epochs: int = 60, with_subjects: bool = True,
          min_df: int = 2, seed: int = 0) -> Model:
    """Learn a Model from (text, label) rows.

    With `with_subjects`, a multi-line text also teaches through its first line alone, so the model
    learns what short, chat-like messages look like as well as long ones.
    """
    docs: list[str] = []
    labels: list[str] = []
    for text, label in rows:
        docs.append(text)
        labels.append(label)
        if with_subjects and "\n" in text.strip():
            docs.append(subject(text))
            labels.append(label)
    if len(set(labels)) < 2:
        raise ValueError("training needs at least two labels")
    names, idf, x = _vectorize(docs, min_df)
    classes = sorted(set(labels))
    rng = random.Random(seed)
    weights: list[list[float]] = []
    bias: list[float] = []
    for cls in classes:
        w, b = _svm(x, [1 if lab == cls else -1 for lab in labels], len(names), c, epochs, rng)
        weights.append(w)
        bias.append(b)
    features = {g: array("d", [idf[j], *(w[j] for w in weights)]) for j, g in enumerate(names)}
    return Model(
        labels=classes,
        info={cls: IntentInfo(id=cls, name=cls, kind="learned") for cls in classes},
        bias=bias, features=features, kind="learned", floor=0.4, margin=0.1, temperature=4.0,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m intents.train", description=__doc__.splitlines()[0])
    ap.add_argument("csv", help="CSV with columns text,label")
    ap.add_argument("--out", required=True, help="where to write the model (JSON)")
    ap.add_argument("--field", choices=("full", "subject"), default="full")
    ap.add_argument("--top", type=int, default=12, help="keywords to print per label")
    args = ap.parse_args(argv)
    rows = read_csv(args.csv)
    if args.field == "subject":
        rows = [(subject(t), lab) for t, lab in rows]
    model = train(rows)
    model.save(args.out)
    print(f"trained on {len(rows)} rows, {len(model.labels)} labels, {len(model.features)} features "
          f"-> {args.out}")
    for label in model.labels:
        top = " ".join(f for f, _ in model.top_features(label, args.top))
        print(f"{label}: {top}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
