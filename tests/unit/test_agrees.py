"""A yes typed to 确认提交吗？ (intents.discourse.agrees): the whole message says only that."""

import pytest

from intents.discourse import agrees


@pytest.mark.parametrize("text", ["确认", "确认提交", "确定", "提交", "提交吧", "好", "好的", "好的。", "好滴", "可以",
                                  "行", "没问题！", "对", "是的", "嗯", "嗯嗯", "OK", "ok", "1", " 确认 "])
def test_a_bare_yes(text: str) -> None:
    assert agrees(text)


@pytest.mark.parametrize("text", ["确认一下什么时候来修", "好的谢谢", "可以吗", "不确认", "好几天了", "对面楼也不亮",
                                  "是谁弄的", "11", "1号楼", "行不行啊", "", "。"])
def test_anything_more_is_not_a_bare_yes(text: str) -> None:
    assert not agrees(text)
