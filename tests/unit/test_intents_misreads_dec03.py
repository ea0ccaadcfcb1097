"""Misreads left from the 2 December trial, each fixed in a general way and checked here on several wordings:
going down for the washing is no self-harm, a swindle of last month is still a fraud (a case for the police post,
no alert), money asked to be sent 过去 is no past event, 露 typed for 漏, and a missing crossing or traffic light is
a traffic matter however dangerous it is called."""

from __future__ import annotations

import pytest

from intents import classify


@pytest.mark.parametrize("text", [
    "阳台上晾的衣服要跳下去捡",
    "孩子的球掉到一楼院子里了 想跳下去捡",
    "被子掉到一楼平台上了 俺想从窗户跳下去拿",
    "衣服掉下去了 我跳下去把它捡回来",
    "钥匙掉到坑里了 我得跳下去够",
])
def test_down_to_fetch_something_is_no_self_harm(text: str) -> None:
    assert classify(text).emergency is None, classify(text).to_json()


@pytest.mark.parametrize(("text", "kind"), [
    ("不想活了要跳下去", "self-harm"),
    ("我要跳下去", "self-harm"),
    ("活着没意思 俺想从阳台跳下去", "self-harm"),
    ("不想活了 跳下去一了百了", "self-harm"),
    ("我想跳楼", "self-harm"),
    ("有人在楼顶边上站着 好像要跳", "crisis"),
    ("对面阳台上有个女的要往下跳", "crisis"),
])
def test_a_jump_to_die_is_still_a_crisis(text: str, kind: str) -> None:
    r = classify(text)
    assert r.emergency is not None and r.emergency.kind == kind, r.to_json()


@pytest.mark.parametrize("text", [
    "刚才有个人打电话说俺孙子在学校打伤人了 让赶紧打钱过去",
    "有人打电话说我儿子出车祸了 让我马上转过去五万",
    "对方说是公安局的 让俺把钱汇过去",
])
def test_money_sent_over_now_is_no_past_event(text: str) -> None:
    """过去 after 打钱/汇/转 is a direction, not 着过火's "it has happened before"."""
    r = classify(text)
    assert r.emergency is not None and r.emergency.kind == "fraud", r.to_json()


@pytest.mark.parametrize("text", [
    "上个月被人骗了三千块 说是公安局的",
    "上个月有人冒充客服 让俺转了八千 后来才知道是骗子",
    "俺妈上个月买保健品被骗了两万多",
    "俺爸前段时间被人骗了一万块 说是啥投资",
    "去年让人用刷单骗了五千",
    "上个月被骗了",
])
def test_a_swindle_of_weeks_ago_is_a_fraud_case_not_an_alert(text: str) -> None:
    """Too late to freeze the money, so no alert; but a fraud all the same: the police post's case (safety)."""
    r = classify(text)
    assert r.emergency is None, r.to_json()
    assert r.top is not None and r.top.id == "safety" and not r.ambiguous, r.to_json()


@pytest.mark.parametrize("text", [
    "听说隔壁楼老太太上个月被骗了十几万",
    "上个月有人打电话让我转账 我直接挂了",
    "上个月社区讲反诈 讲得挺好",
])
def test_fraud_talked_about_or_refused_is_no_swindle_report(text: str) -> None:
    from intents.emergency import swindle_reported
    from intents.text import canonical

    assert swindle_reported(canonical(text)) == []
    assert classify(text).emergency is None
