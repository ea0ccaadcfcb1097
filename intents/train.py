"""Learn keyword weights from labelled text: `python -m intents.train FILE.csv --out MODEL`.

`python -m intents.train --taxonomy TAXONOMY.toml CORRECTIONS.csv --out MODEL.json` keeps the taxonomy
and learns the desk's corrections on top of it (`learn_from_desk`); without `--taxonomy` it learns a
model from the file alone, as below.

A linear SVM (one label against the rest, squared hinge loss, solved by dual coordinate descent as
liblinear does) over jieba words and character 1-2-grams with sublinear tf-idf. Pure Python: 930
messages train in seconds, and the result is an ordinary Model the same scorer uses, saved as JSON
with its strongest keywords printable per label.
"""

from __future__ import annotations

import argparse
import copy
import csv
import math
import random
import sys
from array import array
from collections.abc import Iterable
from pathlib import Path

from intents import text as tx
from intents.cli import run
from intents.dataset import Example, read_examples
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


def tokenizer_for(docs: list[str]) -> str:
    """The fast tokenizer when it cuts every document exactly as jieba (the reference) does, else jieba."""
    fast = tx.tokenizer()
    if fast.name == "jieba":
        return "jieba"
    ref = tx.tokenizer("jieba")
    for i, d in enumerate(docs):
        if fast.cut(d) != ref.cut(d):
            print(f"note: {fast.name} and jieba cut training text #{i + 1} differently; the model keeps jieba",
                  file=sys.stderr)
            return "jieba"
    return fast.name


def _vectorize(docs: list[str], min_df: int, tokenizer: str | None = None,
               ) -> tuple[list[str], list[float], list[list[tuple[int, float]]]]:
    """Sublinear tf-idf rows over the features seen in at least `min_df` documents.

    Rarer features are dropped from the vocabulary altogether: they barely move the scores, and the
    scorer must see exactly the vocabulary the trainer saw (unknown features do not count in a norm).
    """
    counts = [tx.feature_counts(d, tx.tokens(d, tokenizer)) for d in docs]
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
    docs = [tx.canonical(d) for d in docs]
    tokenizer = tokenizer_for(docs)
    names, idf, x = _vectorize(docs, min_df, tokenizer)
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
        tokenizer=tokenizer,
    )


def learn_from_desk(base: Model, rows: list[Example], *, epochs: int = 8, rate: float = 0.5,
                    seed: int = 0) -> Model:
    """The taxonomy plus what the desk's corrections teach, still a taxonomy anyone can read.

    Each row becomes an example of its label (the n-gram fallback learns its wording), and a perceptron
    moves keyword weights where the engine got a row wrong: the words it matched gain weight for the
    label staff chose and lose it for the label the engine had picked.
    """
    from intents.engine import Engine

    model = copy.deepcopy(base)
    model.examples = {k: list(v) for k, v in base.examples.items()}
    for r in rows:
        model.examples.setdefault(r.label, []).append(r.text)
    index = {lab: i for i, lab in enumerate(model.labels)}
    order = list(rows)
    rng = random.Random(seed)
    for _ in range(epochs):
        engine = Engine(model)
        rng.shuffle(order)
        wrong = 0
        for r in order:
            res = engine.classify(r.text)
            pred = res.top.id if res.top else None
            if pred == r.label and not res.ambiguous:
                continue
            wrong += 1
            want = index[r.label]
            for phrase in engine._phrase_hits(tx.canonical(r.text)):
                ws = dict(model.phrases[phrase])
                ws[want] = min(10.0, ws.get(want, 0.0) + rate)
                if pred is not None and pred != r.label and pred in index:
                    ws[index[pred]] = max(-10.0, ws.get(index[pred], 0.0) - rate)
                model.phrases[phrase] = sorted(ws.items())
        if not wrong:
            break
    model.source = f"{base.source} + {len(rows)} desk rows"
    return model


def weight_changes(before: Model, after: Model, k: int = 12) -> list[str]:
    """What the desk taught, for people: 'keyword: label +x' lines, largest first."""
    out: list[tuple[float, str]] = []
    for phrase, ws in after.phrases.items():
        old = dict(before.phrases.get(phrase, []))
        for li, w in ws:
            d = w - old.get(li, 0.0)
            if abs(d) > 1e-9:
                out.append((abs(d), f"{phrase}: {after.labels[li]} {d:+.1f}"))
    return [line for _, line in sorted(out, key=lambda x: -x[0])[:k]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m intents.train", description=__doc__.splitlines()[0])
    ap.add_argument("csv", nargs="?", help="CSV with columns text,label (the desk's export: text,label,source,at)")
    ap.add_argument("--taxonomy", help="start from this taxonomy (.toml) and learn the CSV's rows on top of it")
    ap.add_argument("--out", required=True, help="where to write the model (JSON, written atomically)")
    ap.add_argument("--field", choices=("full", "subject"), default="full")
    ap.add_argument("--top", type=int, default=12, help="keywords to print per label")
    args = ap.parse_args(argv)
    if args.taxonomy:
        from intents.taxonomy import load_taxonomy

        base = load_taxonomy(args.taxonomy)
        rows = read_examples(args.csv, labels=base.labels, labels_from=args.taxonomy) if args.csv else []
        model = learn_from_desk(base, rows)
        _check_writable(args.out)
        model.save(args.out)
        print(f"taxonomy {args.taxonomy} + {len(rows)} desk rows -> {args.out}")
        for line in weight_changes(base, model):
            print(f"  {line}")
        return 0
    if not args.csv:
        ap.error("a CSV is needed (or --taxonomy)")
    rows = [(r.text, r.label) for r in read_examples(args.csv)]
    if args.field == "subject":
        rows = [(subject(t), lab) for t, lab in rows]
    _check_writable(args.out)
    model = train(rows)
    model.save(args.out)
    print(f"trained on {len(rows)} rows, {len(model.labels)} labels, {len(model.features)} features "
          f"-> {args.out}")
    for label in model.labels:
        top = " ".join(f for f, _ in model.top_features(label, args.top))
        print(f"{label}: {top}")
    return 0


def _check_writable(out: str) -> None:
    """Fail before the work, not after it: the output's folder must exist."""
    parent = Path(out).resolve().parent
    if not parent.is_dir():
        raise ValueError(f"{out}: cannot write model: folder {parent} does not exist")


if __name__ == "__main__":
    sys.exit(run(main))
