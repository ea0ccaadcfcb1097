"""The hand-written taxonomy: a TOML file staff can edit and reload without a code change.

Format (see data/taxonomy.toml)::

    [settings]
    floor = 0.45        # below this confidence the bot asks instead of guessing
    margin = 0.12       # top two closer than this: ambiguous

    [[intent]]
    id = "noise"
    name = "噪音扰民"
    kind = "complaint"  # complaint | service | action
    unit = "城管执法中队"
    limit_hours = 168
    keywords = ["噪音:3", "扰民:3", "吵:1.5"]   # weight after the colon, default 2
    judgements = ["危险:2"]   # words that say how bad, not what: they count only when no other complaint
                              # category's keywords name the thing (路口没有红绿灯 太危险了 is traffic)
    examples = ["楼上半夜还在蹦迪"]               # whole sentences: the n-gram fallback learns from them

Errors name the file, the line and the problem, because the person fixing them is not a programmer.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from intents.model import IntentInfo, Model

DEFAULT_WEIGHT = 2.0
KINDS = ("complaint", "service", "action")
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")


class TaxonomyError(ValueError):
    """A taxonomy file that cannot be used; the message says file:line: problem."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {problem}")


def default_path() -> Path:
    return Path(str(resources.files("intents") / "data" / "taxonomy.toml"))


def _line_of(lines: list[str], needle: str, start: int = 0, end: int | None = None) -> int | None:
    """1-based line of the first `needle` in lines[start:end], comments ignored."""
    for i in range(start, len(lines) if end is None else end):
        if needle in lines[i].split("#", 1)[0]:
            return i + 1
    return None


def _intent_starts(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if line.strip().startswith("[[intent]]")]


def load_taxonomy(path: str | Path | None = None) -> Model:
    """Parse and validate a taxonomy file into a Model (phrases only)."""
    path = Path(path) if path else default_path()
    name = str(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaxonomyError(name, None, f"cannot read file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise TaxonomyError(name, None, "file is not UTF-8 text") from exc
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise TaxonomyError(name, int(m.group(1)) if m else None, f"TOML syntax: {exc}") from exc
    return _build(name, raw.splitlines(), data)


def _build(name: str, lines: list[str], data: dict[str, Any]) -> Model:
    settings = data.get("settings", {})
    floor = _number(name, lines, settings, "floor", 0.45, 0.0, 1.0)
    margin = _number(name, lines, settings, "margin", 0.12, 0.0, 1.0)
    intents = data.get("intent")
    if not isinstance(intents, list) or not intents:
        raise TaxonomyError(name, None, "no [[intent]] tables found")
    starts = _intent_starts(lines)
    labels: list[str] = []
    info: dict[str, IntentInfo] = {}
    phrases: dict[str, list[tuple[int, float]]] = {}
    example_map: dict[str, list[str]] = {}
    judgements: dict[str, list[int]] = {}
    for n, item in enumerate(intents):
        at = starts[n] if n < len(starts) else 0
        stop = starts[n + 1] if n + 1 < len(starts) else len(lines)
        here = at + 1

        def fail(problem: str, needle: str | None = None, _at: int = at, _stop: int = stop,
                 _here: int = here) -> None:
            line = _line_of(lines, needle, _at, _stop) if needle else _here
            raise TaxonomyError(name, line or _here, problem)

        iid = item.get("id")
        if not isinstance(iid, str) or not _ID.match(iid):
            fail(f"intent #{n + 1}: id must be a lower-case name like 'noise' or 'svc.haircut', got {iid!r}",
                 "id")
        if iid in info:
            fail(f"intent id {iid!r} is defined twice", f'"{iid}"')
        title = item.get("name")
        if not isinstance(title, str) or not title.strip():
            fail(f"intent {iid!r}: missing name")
        kind = item.get("kind", "complaint")
        if kind not in KINDS:
            fail(f"intent {iid!r}: kind must be one of {', '.join(KINDS)}, got {kind!r}", "kind")
        limit = item.get("limit_hours")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0):
            fail(f"intent {iid!r}: limit_hours must be a positive whole number, got {limit!r}", "limit_hours")
        keywords = item.get("keywords", [])
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            fail(f"intent {iid!r}: keywords must be a list of strings", "keywords")
        judged = item.get("judgements", [])
        if not isinstance(judged, list) or not all(isinstance(k, str) for k in judged):
            fail(f"intent {iid!r}: judgements must be a list of strings", "judgements")
        examples = item.get("examples", [])
        if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
            fail(f"intent {iid!r}: examples must be a list of non-empty strings", "examples")
        li = len(labels)
        labels.append(iid)
        if examples:
            example_map[iid] = [e.strip() for e in examples]
        info[iid] = IntentInfo(
            id=iid, name=title.strip(), kind=kind, unit=item.get("unit"), limit_hours=limit,
            weak=bool(item.get("weak", False)),
        )
        seen: set[str] = set()
        for n_kw, kw in enumerate([*keywords, *judged]):
            phrase, _, weight_s = kw.rpartition(":") if ":" in kw else (kw, "", "")
            phrase = phrase.strip().lower()
            if not phrase:
                fail(f"intent {iid!r}: empty keyword {kw!r}", f'"{kw}"')
            try:
                weight = float(weight_s) if weight_s else DEFAULT_WEIGHT
            except ValueError:
                fail(f"intent {iid!r}: keyword {kw!r}: weight {weight_s!r} is not a number", f'"{kw}"')
            if not -10 <= weight <= 10:
                fail(f"intent {iid!r}: keyword {kw!r}: weight must be between -10 and 10", f'"{kw}"')
            if phrase in seen:
                fail(f"intent {iid!r}: keyword {phrase!r} is listed twice", f'"{kw}"')
            seen.add(phrase)
            phrases.setdefault(phrase, []).append((li, weight))
            if n_kw >= len(keywords):
                judgements.setdefault(phrase, []).append(li)
    return Model(
        labels=labels, info=info, bias=[0.0] * len(labels), phrases=phrases,
        kind="taxonomy", floor=floor, margin=margin, source=name, examples=example_map,
        judgements={p: sorted(ls) for p, ls in judgements.items()},
    )


def _number(name: str, lines: list[str], table: dict[str, Any], key: str, default: float,
            lo: float, hi: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        line = next((i + 1 for i, t in enumerate(lines) if re.match(rf"\s*{key}\s*=", t)), None)
        raise TaxonomyError(name, line, f"settings.{key} must be a number in [{lo}, {hi}]")
    return float(value)
