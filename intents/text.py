"""Text preparation shared by the scorer and the trainer: normalisation, jieba, n-grams, pinyin.

jieba and the pinyin table are loaded once per process, lazily, because loading costs most of
start-up; everything here is pure and thread-safe after the first call.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache
from importlib import resources

MAX_CHARS = 2000
"""Longer input is cut: a 10,000-character paste must stay fast and is never a better signal."""

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORDISH = re.compile(r"[\u3400-\u9fff\uf900-\ufaffA-Za-z0-9]")
_lock = threading.Lock()
_tokenizer = None


def is_chinese(text: str) -> bool:
    return bool(_CJK.fullmatch(text))


def normalize(text: str) -> str:
    """NFKC (full-width to half-width), lower case, collapsed white space, bounded length."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = " ".join(text.split())
    return text[:MAX_CHARS]


def _load_tokenizer():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    userdict = resources.files("intents") / "data" / "userdict.txt"
    if userdict.is_file():
        with resources.as_file(userdict) as path:
            tk.load_userdict(str(path))
    return tk


def tokenizer():
    """The process-wide jieba tokenizer with our user dictionary (domain words stay whole)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = _load_tokenizer()
    return _tokenizer


def tokens(text: str) -> list[str]:
    """jieba tokens of normalised text, punctuation and spaces dropped."""
    return [t for t in tokenizer().lcut(text, HMM=False) if _WORDISH.search(t)]


def char_ngrams(text: str, sizes: tuple[int, ...] = (1, 2)) -> list[str]:
    """Character n-grams inside CJK runs (n-grams across punctuation carry no meaning)."""
    out: list[str] = []
    for run in _CJK.findall(text):
        for n in sizes:
            out.extend(run[i : i + n] for i in range(len(run) - n + 1))
    return out


@lru_cache(maxsize=1)
def _pinyin_table() -> dict[int, str]:
    from pypinyin.pinyin_dict import pinyin_dict

    return pinyin_dict


_TONES = str.maketrans(
    "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm"
)


@lru_cache(maxsize=20000)
def syllable(ch: str) -> str:
    """Toneless pinyin of one character (its first reading); the character itself if it has none."""
    readings = _pinyin_table().get(ord(ch)) if _CJK.match(ch) else None
    if not readings:
        return "#" + ch  # never equal to a real syllable: only Chinese characters sound alike
    return readings.split(",", 1)[0].translate(_TONES)


def pinyin(text: str) -> list[str]:
    """One toneless syllable per character, so positions line up with the text."""
    return [syllable(c) for c in text]


def feature_counts(text: str, toks: list[str]) -> list[dict[str, int]]:
    """Two blocks of namespaced term counts: jieba words and character 1-2-grams.

    Each block is L2-normalised on its own (as two tf-idf vectorisers side by side), by both the
    trainer and the scorer, so that what training learned is exactly what scoring sees.
    """
    out: list[dict[str, int]] = []
    for grams in (["w:" + t for t in toks], ["c:" + g for g in char_ngrams(text)]):
        counts: dict[str, int] = {}
        for g in grams:
            counts[g] = counts.get(g, 0) + 1
        out.append(counts)
    return out
