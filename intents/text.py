"""Text preparation shared by the scorer and the trainer: normalisation, jieba, n-grams, pinyin.

jieba and the pinyin table are loaded once per process, lazily, because loading costs most of
start-up; everything here is pure and thread-safe after the first call.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import sys
import threading
import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path

MAX_CHARS = 2000
"""Longer input is cut: a 10,000-character paste must stay fast and is never a better signal."""

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORDISH = re.compile(r"[\u3400-\u9fff\uf900-\ufaffA-Za-z0-9]")
_lock = threading.Lock()


def is_chinese(text: str) -> bool:
    return bool(_CJK.fullmatch(text))


def normalize(text: str) -> str:
    """NFKC (full-width to half-width), lower case, collapsed white space, bounded length."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = " ".join(text.split())
    return text[:MAX_CHARS]


_to_simplified = None
# Chinese numerals where residents write addresses and emergency numbers: 九号楼, 三单元, 十二栋, 幺二零
_CN_NUM = re.compile(r"[零〇一二两三四五六七八九十百幺]+(?=号楼|号|栋|幢|单元|层|楼|室|户|排|期|区)")
_CN_DIGITS = str.maketrans("零〇一二三四五六七八九幺", "001234567891")


def _simplified(text: str) -> str:
    """Traditional characters to simplified (OpenCC t2s; about 1 µs for a chat message)."""
    global _to_simplified
    if _to_simplified is None:
        import opencc

        _to_simplified = opencc.OpenCC("t2s").convert
    return _to_simplified(text)


def _numeral(m: re.Match[str]) -> str:
    s = m.group(0)
    if "十" not in s and "百" not in s:  # 二零一 read digit by digit, as residents say room numbers
        return s.replace("两", "二").translate(_CN_DIGITS)
    import cn2an

    try:
        return str(cn2an.cn2an(s.replace("幺", "一"), "smart"))
    except ValueError:
        return s


def read_numbers(text: str) -> str:
    """Chinese numerals before an address word read as digits: 九号楼三单元 -> 9号楼3单元."""
    return _CN_NUM.sub(_numeral, text) if _CN_NUM.search(text) else text


# Dialect spellings of a plain word, one for one in length (Henan and northern speech, voice typing): 木有 is 没有
_DIALECT = re.compile(r"木有|莫有|冇有")
# Words of other regions for plain ones, one for one in length so positions do not move: Sichuan 莫得 (没有) and
# 啥子 (什么); Cantonese-influenced 冇 (没), 嘅 (的), 咗 (了), 喺 (在), 嘈 (吵), 屋企 (家里), 系唔系 (是不是),
# 唔该 (谢谢), 睇 (看)
_REGIONAL = {"莫得": "没有", "啥子": "什么", "系唔系": "是不是", "屋企": "家里", "唔该": "谢谢", "冇": "没", "嘅": "的",
             "咗": "了", "喺": "在", "嘈": "吵", "睇": "看"}
_REGIONAL_RE = re.compile("|".join(sorted(_REGIONAL, key=len, reverse=True)))
# initials typed in chat for the words of the estate (wy 物业, xq 小区, tcw 停车位), read only beside Chinese text;
# one letter for one character, so positions in the text do not move
_INITIALS = {"wy": "物业", "xq": "小区", "sq": "社区", "jwh": "居委会", "wgy": "网格员", "tcw": "停车位", "zx": "装修",
             "jf": "积分", "dt": "电梯", "yz": "业主", "gzh": "公众号"}
_INITIALS_RE = re.compile(r"(?<![a-z])(" + "|".join(sorted(_INITIALS, key=len, reverse=True)) + r")(?![a-z])")
# 露 typed for 漏 (the same shape, and 露 is read lòu too): 卫生间露水, 屋顶露雨, 窗户露风 leak; dew on the grass
# (草上的露水, 露水很重) stays dew
_LEAK = re.compile(r"露(?=[雨风气]|水(?!珠|打湿|(?:很|挺|太|真|好)?重))")
_DEW = re.compile(r"[草叶花树]|清晨|早晨|夜里的")


def _leak(m: re.Match[str]) -> str:
    return "露" if _DEW.search(m.string[max(0, m.start() - 6) : m.start()]) else "漏"


def canonical(text: str) -> str:
    """What the engine matches on: `normalize`, then simplified characters, address numerals as digits, and
    dialect spellings and look-alike typos of plain words (俺家木有水了 is 没有水, 莫得水 is 没有水, 卫生间露水 is
    漏水), one character for one; in Chinese text, the initials of the estate's words (wy费 is 物业费, xq门口 is
    小区门口)."""
    text = normalize(text)
    if not text.isascii():
        try:
            text = _simplified(text)
        except UnicodeEncodeError:  # a lone surrogate: drop what cannot be text
            text = _simplified(text.encode("utf-8", "ignore").decode("utf-8"))
        text = read_numbers(text)
        if "有" in text:
            text = _DIALECT.sub("没有", text)
        if _REGIONAL_RE.search(text):
            text = _REGIONAL_RE.sub(lambda m: _REGIONAL[m.group(0)], text)
        if "露" in text:
            text = _LEAK.sub(_leak, text)
        if _INITIALS_RE.search(text):
            text = _INITIALS_RE.sub(lambda m: _INITIALS[m.group(1)], text)
    return text


def _userdict() -> list[tuple[str, int | None, str | None]]:
    userdict = resources.files("intents") / "data" / "userdict.txt"
    out: list[tuple[str, int | None, str | None]] = []
    if userdict.is_file():
        for line in userdict.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if parts:
                out.append((parts[0], int(parts[1]) if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None))
    return out


@lru_cache(maxsize=1)
def domain_words() -> frozenset[str]:
    """The user dictionary's words: the community's own names (义剪, 积分超市, 网格员), which input methods lack."""
    return frozenset(word for word, _, _ in _userdict())


class Jieba:
    """The reference: jieba in pure Python with our user dictionary (domain words stay whole)."""

    name = "jieba"

    def __init__(self) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self.tk = jieba.Tokenizer()
        self.tk.initialize()
        for word, freq, tag in _userdict():
            self.tk.add_word(word, freq, tag)

    def cut(self, text: str) -> list[str]:
        return self.tk.lcut(text, HMM=False)

    def known(self, word: str) -> bool:
        return bool(self.tk.FREQ.get(word))


class RJieba:
    """jieba-rs (the `rjieba` binding): jieba's dictionary and algorithm in Rust, about ten times faster.

    Used only because its tokens equal jieba's: `python -m intents.train` checks every training row and
    falls back to the reference when one differs, and a test checks the shipped data.
    """

    name = "rjieba"

    def __init__(self) -> None:
        import rjieba

        self.tk = rjieba.Jieba()
        for word, freq, tag in _userdict():
            self.tk.add_word(word, freq, tag)

    def cut(self, text: str) -> list[str]:
        return self.tk.cut(text, False)

    def known(self, word: str) -> bool:
        return self.tk.has_word(word)


_tokenizers: dict[str, Jieba | RJieba] = {}


def tokenizer(name: str | None = None) -> Jieba | RJieba:
    """A process-wide tokenizer: the fast one unless `name="jieba"` (or LINLI_TOKENIZER=jieba, or no rjieba)."""
    if name is None:
        name = os.environ.get("LINLI_TOKENIZER") or ("rjieba" if _has_rjieba() else "jieba")
    tk = _tokenizers.get(name)
    if tk is None:
        with _lock:
            tk = _tokenizers.get(name)
            if tk is None:
                tk = _tokenizers[name] = RJieba() if name == "rjieba" else Jieba()
    return tk


@lru_cache(maxsize=1)
def _has_rjieba() -> bool:
    try:
        import rjieba  # noqa: F401
    except ImportError:
        return False
    return True


def tokens(text: str, name: str | None = None) -> list[str]:
    """Tokens of normalised text (no HMM: only dictionary words), punctuation and spaces dropped."""
    return [t for t in tokenizer(name).cut(text) if _WORDISH.search(t)]


def char_ngrams(text: str, sizes: tuple[int, ...] = (1, 2)) -> list[str]:
    """Character n-grams inside CJK runs (n-grams across punctuation carry no meaning)."""
    out: list[str] = []
    for run in _CJK.findall(text):
        for n in sizes:
            out.extend(run[i : i + n] for i in range(len(run) - n + 1))
    return out


@lru_cache(maxsize=1)
def _pinyin_table() -> dict[int, str]:
    """pypinyin's table of characters (code point -> toneless readings), read from its data file without importing the
    package: ``import pypinyin`` also loads its phrase dictionary, some 55 MB of the bot's memory used by nothing
    here."""
    spec = importlib.util.find_spec("pypinyin")  # finds the installed package without running it
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("pypinyin")
    table = Path(next(iter(spec.submodule_search_locations))) / "pinyin_dict.json"
    # toneless, and each distinct reading kept once (a few thousand for 42,000 characters): what is asked of it
    # (``syllable``, ``latin.syllables``) takes the tones off anyway
    return {int(k): sys.intern(v.translate(_TONES)) for k, v in json.loads(table.read_text(encoding="utf-8")).items()}


_TONES = str.maketrans(
    "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm"
)


_syllables: dict[str, str] = {}  # a plain dict of strings: nothing for the garbage collector to walk


def syllable(ch: str) -> str:
    """Toneless pinyin of one character (its first reading); the character itself if it has none."""
    s = _syllables.get(ch)
    if s is None:
        readings = _pinyin_table().get(ord(ch)) if _CJK.match(ch) else None
        # "#" + ch is never equal to a real syllable: only Chinese characters sound alike
        s = readings.split(",", 1)[0].translate(_TONES) if readings else "#" + ch
        if len(_syllables) < 50_000:
            _syllables[ch] = s
    return s


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
