"""intents.followup: whole-message checks for a topic alone, a place alone, a place corrected and a never-mind."""

from __future__ import annotations

import pytest

from intents.followup import (
    Topic,
    confirms,
    keeps_as_is,
    never_mind,
    place_alone,
    place_correction,
    place_introduced,
    topic_only,
)


@pytest.mark.parametrize(("text", "topic"), [
    ("调解", Topic("调解", "dispute")), ("我要调解", Topic("调解", "dispute")),
    ("我想申请调解", Topic("调解", "dispute")), ("报修", Topic("报修", "repair")),
    ("我要报修", Topic("报修", "repair")), ("维修一下", Topic("维修", "repair")),
    ("投诉物业", Topic("物业", "property")), ("物业的问题", Topic("物业", "property")),
    ("投诉", Topic("投诉", None)), ("我要投诉", Topic("投诉", None)), ("我要反映个问题", Topic("反映", None)),
    ("您好，我要举报。", Topic("举报", None)),
])
def test_a_topic_alone(text: str, topic: Topic) -> None:
    assert topic_only(text) == topic


@pytest.mark.parametrize("text", [
    "报修 3号楼电梯坏了", "噪音", "漏水", "楼道灯坏了", "调解员什么时候来", "物业电话多少", "投诉楼上装修太吵",
    "", "我想申请调解邻居家狗天天叫的事",
])
def test_more_than_a_topic(text: str) -> None:
    assert topic_only(text) is None


@pytest.mark.parametrize(("text", "place"), [
    ("3号楼", "3号楼"), ("我在3号楼", "3号楼"), ("我是3号楼2单元的", "3号楼2单元"), ("三号楼这边", "3号楼"),
    ("在东门那边", "东门"), ("是5号楼", "5号楼"),
    ("4好楼", "4号楼"), ("我在5好楼2单元", "5号楼2单元"), ("3栋", "3号楼"),  # voice typing, another spelling
])
def test_a_place_alone(text: str, place: str) -> None:
    found = place_alone(text)
    assert found is not None and found.text == place


@pytest.mark.parametrize("text", ["3号楼楼道灯坏了", "东门堵车了", "我在3号楼等你们", "调解", "",
                                  "楼道里停满了电动车 着火了可咋办 3号楼", "楼道灯又坏了 5号楼", "电梯坏了 5号楼",
                                  "电梯没电5号楼", "门口漏水 3号楼"])
def test_more_than_a_place(text: str) -> None:
    assert place_alone(text) is None


@pytest.mark.parametrize(("text", "place"), [
    ("不对 是4号楼", "4号楼"), ("地址写错了，是5号楼2单元", "5号楼2单元"), ("说错了 是东门", "东门"),
    ("是4号楼，不是3号楼", "4号楼"), ("应该是4号楼才对", "4号楼"), ("说错了是四号楼", "4号楼"),
    ("不好意思，刚才地址写错了，是5号楼", "5号楼"), ("哎呀 说错了 是7号楼 不是3号楼", "7号楼"),
    ("搞错了，应该是9号楼3单元楼道", "9号楼3单元楼道"),
    ("不是3号楼 是4号楼", "4号楼"), ("不是3号楼，应该是4号楼", "4号楼"), ("不是3号楼是4号楼", "4号楼"),
    ("不在东门 是在西门", "西门"), ("不对 是4好楼", "4号楼"),
    ("哦哦不对不对我刚才说错了应该是12号楼", "12号楼"), ("俺说错了 是16号楼", "16号楼"),  # voice typing, elderly
    ("哎呀 还是不对 是4号楼", "4号楼"),
])
def test_a_place_corrected(text: str, place: str) -> None:
    found = place_correction(text)
    assert found is not None and found.text == place


@pytest.mark.parametrize("text", ["不对", "4号楼", "楼道灯坏了", "不对 是4号楼的电梯也坏了", "说错了 不是漏水是停电",
                                  "我上次说错了吗", "不对 楼道里灯又灭了 4号楼", "不是我家 是楼上漏水",
                                  "不是装修 是4号楼", "不是3号楼 是4号楼的电梯也坏了"])
def test_no_place_corrected(text: str) -> None:
    assert place_correction(text) is None


@pytest.mark.parametrize("text", ["不撤了", "那不撤了吧",
                                  "算了", "算了算了", "不换了", "不用了", "那算了吧", "不用了 谢谢", "好吧那算了",
                                  "没事了"])
def test_never_mind(text: str) -> None:
    assert never_mind(text)


@pytest.mark.parametrize("text", ["算了 不修了 撤了吧", "不用来了", "算了吧 灯还是坏的", "不用了吗", "换了没", ""])
def test_more_than_never_mind(text: str) -> None:
    assert not never_mind(text)


@pytest.mark.parametrize("said", ["确认", "确认提交", "确定", "确定确定", "提交吧", "确认！", "好的 确认"])
def test_a_confirm_in_words(said: str) -> None:
    assert confirms(said)


@pytest.mark.parametrize("said", ["好的", "可以", "嗯嗯", "确认一下我的工单", "提交了吗", "谢谢"])
def test_no_confirm_in_words(said: str) -> None:
    assert not confirms(said)


@pytest.mark.parametrize(("said", "place"), [
    ("你好 我是8号楼的老张 想反映个事", "8号楼"), ("您好，俺住3栋2单元，有个事跟你们说", "3号楼2单元"),
    ("喂 我是5号楼的住户", "5号楼"), ("您好 我是12号楼的王阿姨 有个问题想反映一下", "12号楼"),
    ("你好 我在9号楼 想反映一下问题", "9号楼"), ("我是7号楼3单元的老李 有个问题想反映", "7号楼3单元"),
])
def test_a_place_in_a_greeting(said: str, place: str) -> None:
    found = place_introduced(said)
    assert found is not None and found.text == place
    assert place_alone(said) == found


@pytest.mark.parametrize("said", ["我是8号楼的 电梯坏了", "你好 我是8号楼的老张 电梯坏了", "我住3号楼 楼上天天吵",
                                  "你好 想反映个事", "你好 8号楼电梯坏了"])
def test_no_place_in_a_greeting(said: str) -> None:
    assert place_introduced(said) is None


@pytest.mark.parametrize("text", ["不换了", "不用改了", "就这样吧", "好的 就这样", "不换了 谢谢", "行 就这个"])
def test_keeps_as_is(text: str) -> None:
    assert keeps_as_is(text)


@pytest.mark.parametrize("text", ["算了", "换一类", "不换了 电梯还是坏的", "就这样一直漏水", ""])
def test_more_than_keeping_as_is(text: str) -> None:
    assert not keeps_as_is(text)
