"""Words that say help came after an emergency (救护车到了 谢谢), told apart from help still awaited: they go onto the
resident's open emergency for its desk (``handlers.resident.actions.help_came``)."""

import pytest

from intents.discourse import says_help_came

CAME = [
    "救护车到了 谢谢", "消防车来了", "救护车来了，谢谢你们", "120到了", "消防员到了 火灭了 谢谢", "警察来了",
    "人已经送医院了 谢谢", "好了 救护车把人拉走了", "物业的人来了 电梯门打开了", "老人被120接走了", "医生来了",
    "我妈救出来了 谢谢",
]
NOT = [
    "救护车怎么还没来", "消防车来了吗", "救护车还没到 快点", "120打不通", "谢谢", "楼道灯修好了，谢谢",
    "物业电话多少", "快叫救护车", "我想问问医院怎么走", "电梯坏了 物业不来修", "消防通道被堵了", "警察不管",
    "消防车到了没有",
]


@pytest.mark.parametrize("text", CAME)
def test_help_came(text: str) -> None:
    assert says_help_came(text)


@pytest.mark.parametrize("text", NOT)
def test_help_not_come_or_no_help_at_all(text: str) -> None:
    assert not says_help_came(text)
