"""A never-mind that turns into the matter ("算了 我还是说吧 楼上…") is the matter, not a take-back; a never-mind
that says no more, or tells someone else, is still one (intents.discourse.takes_back, the engine's act.withdraw)."""

from __future__ import annotations

import pytest

from intents import classify
from intents.discourse import preamble, takes_back


@pytest.mark.parametrize("text", [
    "算了 我还是说吧 楼上邻居天天往下扔垃圾",
    "算了 还是跟你们说吧 楼上漏水",
    "算了，我还是反映一下吧，楼道里堆满了杂物",
    "哎算了 说吧 对门天天半夜唱歌",
    "算了算了 不管了 还是说一下 楼下烧烤油烟大",
    "算了 我直接说吧 6号楼门口的车堵了一个礼拜",
    "唉 算了 俺还是反映一下 垃圾站臭得不行",
])
def test_never_mind_then_the_matter_is_the_matter(text: str) -> None:
    result = classify(text)
    assert not takes_back(text)
    assert result.top is not None and result.top.id != "act.withdraw" and "act.withdraw" not in result.parts


@pytest.mark.parametrize("text", ["算了", "算了 不修了", "算了不说了", "算了 还是撤了吧", "算了 我还是跟物业说吧",
                                  "算了 不用处理了"])
def test_a_never_mind_that_says_no_more_is_still_one(text: str) -> None:
    assert takes_back(text)


@pytest.mark.parametrize("text", ["算了 我还是说吧", "算了吧 我说吧", "唉算了 还是跟你们说一下吧"])
def test_never_mind_then_say_with_nothing_yet_is_a_preamble(text: str) -> None:
    assert preamble(text)
