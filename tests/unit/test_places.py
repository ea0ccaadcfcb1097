"""The place a message names (intents.places): read from the text, else the resident's home."""

import pytest

from intents.places import named_place, place_or_home


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("9号楼2单元漏水了", "9号楼2单元"),
        ("小区东门垃圾没人清", "小区东门"),
        ("幸福路上井盖丢了", "幸福路"),
        ("地下车库有积水", "地下车库"),
        ("路灯坏了", None),
        ("", None),
    ],
)
def test_named_place(text: str, place: str | None) -> None:
    assert named_place(text) == place


def test_home_when_the_text_names_none() -> None:
    assert place_or_home("路灯坏了", "9号楼", "2单元") == "9号楼2单元"
    assert place_or_home("路灯坏了", "9号楼") == "9号楼"
    assert place_or_home("路灯坏了", None) is None


def test_named_place_wins_over_home() -> None:
    assert place_or_home("小区东门垃圾没人清", "9号楼", "2单元") == "小区东门"
