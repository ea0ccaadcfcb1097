"""Labelled CSV files for the command lines, read strictly: one clear line for the first bad row or column.

Files: `text,label[,type]` (development sets), `text,label,source,at` (the desk's corrections, as
`linli intents export` writes them). Every problem is a `DataError` naming the file and the line.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

SOURCES = ("reassign", "correction", "resident_choice")


class DataError(ValueError):
    """A training or test file that cannot be used; the message says file:line: problem."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    type: str = ""
    source: str = ""
    line: int = 0


def read_examples(path: str | Path, *, labels: Collection[str] | None = None, labels_from: str = "",
                  min_per_label: int = 2) -> list[Example]:
    """Every row of a labelled CSV, or a DataError for the first problem found.

    `labels`: the allowed labels (a taxonomy's ids, emergency kinds), named `labels_from` in errors.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read file: {exc.strerror or exc}") from exc
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from exc
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise DataError(f"{path}: empty file; needs a header with columns text,label") from None
    for column in ("text", "label"):
        if column not in header:
            raise DataError(f"{path}:1: missing column '{column}' (header is {','.join(header) or 'empty'}); "
                            "needs columns text,label")
    col = {h: i for i, h in enumerate(header)}
    rows: list[Example] = []
    try:
        for record in reader:
            line = reader.line_num
            if not any(c.strip() for c in record):
                raise DataError(f"{path}:{line}: empty row")
            if len(record) != len(header):
                raise DataError(f"{path}:{line}: {len(record)} fields, the header has {len(header)}")
            get = {h: record[i].strip() for h, i in col.items()}
            if not get["text"]:
                raise DataError(f"{path}:{line}: empty text")
            if not get["label"]:
                raise DataError(f"{path}:{line}: empty label")
            if labels is not None and get["label"] not in labels:
                where = f" in {labels_from}" if labels_from else ""
                raise DataError(f"{path}:{line}: unknown label '{get['label']}' (not{where})")
            source = get.get("source", "")
            if "source" in col and source not in SOURCES:
                raise DataError(f"{path}:{line}: column 'source' is '{source}', expected one of {', '.join(SOURCES)}")
            rows.append(Example(record[col["text"]].strip(), get["label"], get.get("type", ""), source, line))
    except csv.Error as exc:
        raise DataError(f"{path}:{reader.line_num}: CSV syntax: {exc}") from exc
    if not rows:
        raise DataError(f"{path}: no rows after the header")
    by_label: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        by_label[r.label].append(r.line)
    for label, lines in by_label.items():
        if len(lines) < min_per_label:
            raise DataError(f"{path}:{lines[0]}: label '{label}' has only {len(lines)} row; "
                            f"each label needs at least {min_per_label}")
    return rows


def split(rows: list[Example], share: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Stratified, seeded: about `share` of each label held out, at least one row of each kept on each side."""
    if not 0.0 < share < 1.0:
        raise DataError(f"--holdout must be between 0 and 1, got {share}")
    by_label: dict[str, list[Example]] = defaultdict(list)
    for r in rows:
        by_label[r.label].append(r)
    rng = random.Random(seed)
    kept: list[Example] = []
    held: list[Example] = []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        k = min(len(group) - 1, max(1, round(len(group) * share)))
        held += group[:k]
        kept += group[k:]
    return kept, held
