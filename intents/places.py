"""Where a message says something is: text understanding, so it lives beside the intents (pure, no I/O).

``named_place`` reads the place a resident names ("9号楼2单元", "东门口"); the handlers fall back to the
resident's own building when the text names none (``place_or_home``).
"""

from __future__ import annotations

import re

_PLACE = re.compile(
    r"(\d+\s*(?:号楼|幢|栋|单元|号|室|层|楼)|[东南西北]门|大门|门口|地下车库|车库|楼道|电梯|楼顶|天台|"
    r"花园|广场|菜场|沿街|路口|[\u4e00-\u9fff]{1,6}(?:路|街|巷|弄))"
)


def named_place(text: str) -> str | None:
    """The last place the text names ("9号楼2单元", "东门口"), with a few characters of context."""
    found = list(_PLACE.finditer(text))
    if not found:
        return None
    m = found[-1]
    lead = re.split(r"[，,。.！!？?；;\s]", text[max(0, m.start() - 6) : m.start()])[-1]
    return (lead + m.group()).strip()


def place_or_home(text: str, building: str | None, unit: str | None = None) -> str | None:
    """A place named in the text, else the resident's own building (and unit); None means ask."""
    place = named_place(text)
    if place:
        return place
    if building:
        return building + (unit or "")
    return None


__all__ = ["named_place", "place_or_home"]
