"""The one model format both the hand-written taxonomy and training produce.

A model is linear: per label, a bias plus weighted evidence. Evidence is of two sorts that the same
scorer sums: *phrases* (taxonomy keywords, matched in the raw text exactly, by homophone or fuzzily)
and *features* (jieba words and character n-grams with tf-idf values, what training learns).
Saved as JSON so a person can read which words carry which label.
"""

from __future__ import annotations

import json
import os
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "linli-intents/1"


@dataclass
class IntentInfo:
    """What the rest of the system needs to know about one label besides its weights."""

    id: str
    name: str
    kind: str = "complaint"  # complaint | service | action
    unit: str | None = None
    limit_hours: int | None = None
    weak: bool = False  # small talk: dropped when any real intent also matched


@dataclass
class Model:
    labels: list[str]
    info: dict[str, IntentInfo]
    bias: list[float]
    # phrase -> [(label index, weight)]
    phrases: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    # namespaced feature ("w:装修", "c:装") -> array [idf, weight of label 0, weight of label 1, ...]:
    # one compact row of doubles each, because a learned model has ~100k of them
    features: dict[str, array] = field(default_factory=dict)
    kind: str = "taxonomy"  # taxonomy | learned
    floor: float = 0.45
    margin: float = 0.12
    temperature: float = 1.0  # learned models: softmax scale turning margins into confidences
    source: str = ""
    # label -> example sentences (the taxonomy's, plus what the desk taught): the n-gram fallback learns them
    examples: dict[str, list[str]] = field(default_factory=dict)
    tokenizer: str = "any"  # "jieba" when training found a row the fast tokenizer cuts differently
    # phrase -> the labels for which it is a judgement (危险: how bad, not what), counted only when no other
    # complaint category's keywords name the thing
    judgements: dict[str, list[int]] = field(default_factory=dict)

    def name(self, label: str) -> str:
        info = self.info.get(label)
        return info.name if info else label

    def top_features(self, label: str, k: int = 15) -> list[tuple[str, float]]:
        """The evidence that pulls hardest towards a label: what `train` prints for people."""
        li = self.labels.index(label)
        pairs = [(p, w) for p, ws in self.phrases.items() for i, w in ws if i == li]
        pairs += [(f, row[li + 1] * row[0]) for f, row in self.features.items()]
        pairs.sort(key=lambda x: -x[1])
        return pairs[:k]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "kind": self.kind,
            "labels": self.labels,
            "info": {k: vars(v) for k, v in self.info.items()},
            "bias": [round(b, 6) for b in self.bias],
            "floor": self.floor,
            "margin": self.margin,
            "temperature": self.temperature,
            "phrases": {p: [[i, round(w, 5)] for i, w in ws] for p, ws in self.phrases.items()},
            "features": {f: [round(v, 5) for v in row] for f, row in self.features.items()},
            "examples": self.examples,
            "tokenizer": self.tokenizer,
            "judgements": self.judgements,
        }

    def save(self, path: str | Path) -> None:
        """Write atomically: a temporary file beside the target, renamed over it once complete."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            raise ValueError(f"{path}: cannot write model: {exc.strerror or exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: str | Path) -> Model:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: cannot read model: {exc}") from exc
        if data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} model file")
        return cls(
            labels=data["labels"],
            info={k: IntentInfo(**v) for k, v in data["info"].items()},
            bias=data["bias"],
            phrases={p: [(int(i), float(w)) for i, w in ws] for p, ws in data["phrases"].items()},
            features={f: array("d", row) for f, row in data["features"].items()},
            kind=data["kind"],
            floor=data["floor"],
            margin=data["margin"],
            temperature=data["temperature"],
            source=str(path),
            examples={k: list(v) for k, v in data.get("examples", {}).items()},
            tokenizer=data.get("tokenizer", "jieba"),  # older files: trained with jieba alone
            judgements={p: [int(i) for i in ls] for p, ls in data.get("judgements", {}).items()},
        )
