"""An age said in words, as the answer to 您是否已年满65周岁？ by someone who types instead of tapping: "我今年70了",
"七十了", "72岁", "俺都八十多了", "还没到65", "我是1950年生的". Pure text; which band it puts the resident in."""

from __future__ import annotations

import re

from intents.text import normalize

SENIOR_AGE = 65  # the 敬老 services' line (爱心义剪 and the like)

SENIOR = "65"  # the age buttons' own answers
UNDER = "u"
UNCLEAR = "?"  # an age said, but one that may fall either side of the line ("六十多了")

_NUM = r"(?P<n>\d{1,3}|[一二两三四五六七八九十百]{1,4})"
_LEAD = r"(?:我|俺|咱|本人|老汉|老婆子|我们|俺们)?(?:今年|都|已经|已|也|才|刚|刚刚|快|快要|将近|差不多|大概|有)*"
_BELOW = r"(?:还没到|还没满|还不到|没到|没满|不到|未满|不满|还差点|差点到?)"
_OVER = r"(?:过了?|超过了?|满了?|刚满|早过了?|早就过了?|早满了?|已满)"
_TAIL = r"(?:多|来|出头|挂零|好几)?(?:岁|周岁|虚岁)?(?:多)?(?:了|啦|啊|呀|哦|哈|喽|呢|吧|咯)*"
_AGE = re.compile(rf"^(?:{_LEAD})(?P<below>{_BELOW})?(?P<over>{_OVER})?{_NUM}(?P<tail>{_TAIL})$")
_MARKED = re.compile(r"岁|今年|都|已经|了|啦|才|快|过|满|到|我|俺|咱|多|出头")
_BORN = re.compile(r"^(?:我|俺|咱|本人)?(?:是)?(?:(?P<full>19\d\d|20\d\d)|(?P<short>\d\d))年?"
                   r"(?:生|出生|生人|的|生的|出生的)+(?:了|啦|呀|啊)*$")
_NOISE = re.compile(r"[\s，。,.!！~～、…?？]+")
_CN = str.maketrans("零〇一二三四五六七八九", "0012345678" "9")


def _number(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if "十" not in s and "百" not in s:
        return int(s.replace("两", "二").translate(_CN)) if len(s) <= 3 else None
    import cn2an

    try:
        return int(cn2an.cn2an(s.replace("两", "二"), "smart"))
    except (ValueError, KeyError):
        return None


def _band(low: int, high: int) -> str:
    if low >= SENIOR_AGE:
        return SENIOR
    if high < SENIOR_AGE:
        return UNDER
    return UNCLEAR


def age_band(text: str, year: int) -> str | None:
    """The age band a message of nothing but an age puts its writer in (``SENIOR``, ``UNDER``, or ``UNCLEAR``
    when the age said may be either side of 65), or None when the words are not an age. ``year``: this year, for
    a year of birth. A bare number ("7") is no age: it may be a building or a choice."""
    bare = _NOISE.sub("", normalize(text))
    if not bare or len(bare) > 16:
        return None
    if born := _BORN.match(bare):
        y = int(born["full"]) if born["full"] else 1900 + int(born["short"])
        age = year - y
        return _band(age - 1, age) if 0 < age < 120 else None
    m = _AGE.match(bare)
    if m is None or not _MARKED.search(bare):
        return None
    n = _number(m["n"])
    if n is None or not 10 <= n <= 120:
        return None
    tail = m["tail"] or ""
    if m["below"]:  # "还没到65", "不到七十": anywhere under the number said
        return _band(0, n - 1)
    if m["over"]:  # "过了65", "满七十了": the number or more
        return _band(n, 120)
    if "多" in tail or "来" in tail or "出头" in tail or "好几" in tail:  # "八十多", "六十出头": up to the next ten
        return _band(n, n + 9 if n % 10 == 0 else n)
    if re.search(r"快|将近|差不多", bare[: m.start("n")]):
        return _band(n - 3, n)  # "快七十了": a year or three short of it
    return _band(n, n)


__all__ = ["SENIOR", "SENIOR_AGE", "UNCLEAR", "UNDER", "age_band"]
