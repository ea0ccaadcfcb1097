"""Latin input: pinyin typed without characters ("loushang zaoyin tai da", "ting dian le").

A Latin word is read as pinyin only when it splits wholly into pinyin syllables, and a message is
read as pinyin only when most of its words do; English ("the lift is broken") mostly does not split
("the", "lift" are not pinyin) and goes to the English keywords instead.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[a-zü]+")
_MAX_SYLLABLE = 6


@lru_cache(maxsize=1)
def syllables() -> frozenset[str]:
    """Every toneless pinyin syllable with a vowel (pypinyin's table; 'm', 'ng' and the like left out)."""
    from intents.text import _TONES, _pinyin_table

    out: set[str] = set()
    for readings in _pinyin_table().values():
        for r in readings.split(","):
            s = r.translate(_TONES)
            if s.isascii() and s.isalpha() and re.search(r"[aeiouv]", s):
                out.add(s)
    return frozenset(out)


@lru_cache(maxsize=4096)
def split_word(word: str) -> tuple[str, ...] | None:
    """The fewest pinyin syllables that spell `word` exactly, or None ("zaoyin" -> zao, yin)."""
    word = word.replace("ü", "v")
    table = syllables()
    n = len(word)
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[0] = ()
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(min(n, i + _MAX_SYLLABLE), i, -1):
            s = word[i:j]
            if s in table:
                cand = (*best[i], s)  # type: ignore[misc]
                if best[j] is None or len(cand) < len(best[j]):  # type: ignore[arg-type]
                    best[j] = cand
    return best[n]


def read_pinyin(text: str) -> list[str] | None:
    """The syllables of a Latin message that reads as pinyin, or None when it does not."""
    words = _WORD.findall(text)
    if not words:
        return None
    parts = [split_word(w) for w in words]
    ok = sum(p is not None for p in parts)
    if ok < max(1, round(0.6 * len(words))):
        return None
    out: list[str] = []
    for p in parts:
        if p is not None:
            out.extend(p)
    return out if len(out) >= 2 else None


def read_run(run: str) -> list[str] | None:
    """The syllables of a Latin run typed among Chinese characters ("yi jian" in 请问yi jian是几号), or None unless
    every word of it is pinyin and there are at least two syllables (a lone "ok", "app", "wifi" is no pinyin)."""
    parts = [split_word(w) for w in _WORD.findall(run)]
    if not parts or any(p is None for p in parts):
        return None
    out = [s for p in parts if p is not None for s in p]
    return out if len(out) >= 2 else None
