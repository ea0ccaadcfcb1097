"""handlers.resident.followup.corrected_place: the place a correction gives, in full."""

from __future__ import annotations

import pytest

from handlers.resident.followup import corrected_place
from intents.followup import place_correction


@pytest.mark.parametrize(("before", "said", "after"), [
    ("3号楼楼道", "不对 是4号楼", "4号楼楼道"),  # the spot inside the building is kept
    ("3号楼2单元电梯", "地址写错了，是5号楼2单元", "5号楼2单元电梯"),
    ("3号楼楼道", "说错了 是东门", "东门"),  # a place of its own
    ("东门", "不对 是4号楼", "4号楼"),  # nothing inside a building to keep
    ("9号楼", "不对，是9号楼3单元楼道", "9号楼3单元楼道"),
    (None, "不对 是4号楼", "4号楼"),
    ("楼道", "不对 是4号楼", "4号楼楼道"),  # the building was missing: the spot stays
    ("2单元楼道", "是4号楼，不是3号楼", "4号楼2单元楼道"),
    ("电梯", "说错了 是5号楼3单元", "5号楼3单元电梯"),
    ("2单元6楼", "不对 是7号楼3单元", "7号楼3单元6层"),  # the unit said wins, the floor stays
])
def test_corrected_place(before: str | None, said: str, after: str) -> None:
    place = place_correction(said)
    assert place is not None
    assert corrected_place(place, before) == after
