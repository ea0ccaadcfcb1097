"""An age said in words to 您是否已年满65周岁？ (intents.age): the band it puts the resident in, and what is no age."""

from __future__ import annotations

import pytest

from intents.age import SENIOR, UNCLEAR, UNDER, age_band


@pytest.mark.parametrize(("said", "band"), [
    ("我今年70了", SENIOR), ("七十了", SENIOR), ("72岁", SENIOR), ("俺都八十多了", SENIOR), ("六十五了", SENIOR),
    ("今年刚满65", SENIOR), ("快七十了", SENIOR), ("我70多岁了", SENIOR), ("俺今年七十二啦", SENIOR),
    ("过了65了", SENIOR), ("我1950年生的", SENIOR), ("我是55年的", SENIOR),
    ("还没到65", UNDER), ("我才50", UNDER), ("五十八岁", UNDER), ("不到六十", UNDER), ("还不到六十五岁呢", UNDER),
    ("我今年三十八", UNDER), ("六十多了", UNCLEAR), ("快六十六了", UNCLEAR),
])
def test_an_age_in_words_is_its_band(said: str, band: str) -> None:
    assert age_band(said, 2026) == band


@pytest.mark.parametrize("said", ["7", "65", "7号楼", "我住7号楼", "10号楼漏水", "电梯坏了3天了", "3天了", "等了20天了",
                                  "两个人", "好的", "楼道灯坏了"])
def test_words_that_are_no_age(said: str) -> None:
    assert age_band(said, 2026) is None
