"""Everyday words, table by table (Henan dialect, typos, voice-typed run-ons; each table with its negatives): a yes
to 确认提交吗？, a preamble, praise, a rating typed to 回访, 修了没, and what the engine makes of 在不在, 咋用, a call
back and a phone number asked for. An emergency always stays an emergency."""

import pytest

from intents import classify
from intents.discourse import (
    agrees,
    asks_done,
    asks_how_to_pay,
    asks_wish,
    courtesy,
    hails,
    preamble,
    rating,
    redeemed,
    thanks,
)

YES = ["中嘞", "中 中", "好嘞好嘞", "行 就这样吧", "嗯呐", "对 就是这个", "确定确定", "OK的", "可以了", "没毛病",
       "好哩", "提交吧 中", "妥了"]
NOT_YES = ["中不中啊", "中午来修", "行不行", "好几天了还没人来", "可以帮俺看看吗", "对门又在装修", "好的谢谢",
           "中间那栋楼", "1单元", "嗯 还有个事", "11"]


@pytest.mark.parametrize("text", YES)
def test_a_yes_in_everyday_words(text: str) -> None:
    assert agrees(text)


@pytest.mark.parametrize("text", NOT_YES)
def test_words_that_only_start_like_a_yes(text: str) -> None:
    assert not agrees(text)


PREAMBLES = ["俺想反映点事儿", "我要举报", "喂 我想反映个情况", "俺有个事想问问", "我来反映一下", "咱想跟你们说个事"]
NOT_PREAMBLES = ["俺想反映楼道灯坏了", "我要投诉楼上装修", "有个事 9号楼电梯坏了", "我想问问义剪啥时候",
                 "反映多少次了也没人管"]


@pytest.mark.parametrize("text", PREAMBLES)
def test_a_preamble_says_nothing_yet(text: str) -> None:
    assert preamble(text)


@pytest.mark.parametrize("text", NOT_PREAMBLES)
def test_a_preamble_with_the_matter_in_it_is_the_matter(text: str) -> None:
    assert not preamble(text)


RATINGS = [("满意满意", "s"), ("挺好的 谢谢", "s"), ("还凑合吧", "b"), ("一般 来得太慢", "b"),
           ("不满意 根本没修好", "u"), ("差评 态度不好", "u"), ("没修好 还是漏", "u"), ("说实话不太满意", "u"),
           ("电梯又坏了", None), ("满地都是垃圾", None), ("好的", None), ("楼道灯修好了 谢谢", None)]


@pytest.mark.parametrize(("text", "code"), RATINGS)
def test_a_rating_typed(text: str, code: str | None) -> None:
    assert rating(text) == code


ASKS_DONE = [("电梯修了没", True), ("灯修好了吗", True), ("俺家漏水那个事处理了没有", True), ("暖气啥时候来修", True),
             ("电梯坏了", False), ("楼道灯又坏了 快来修", False), ("不用来修了", False)]


@pytest.mark.parametrize(("text", "asked"), ASKS_DONE)
def test_asking_whether_it_is_fixed(text: str, asked: bool) -> None:
    assert asks_done(text) is asked


# (message, the intent the engine should settle on; thanks: also read as thanks by the greeting)
UNDERSTOOD = [
    ("这玩意儿咋用", "act.help"), ("俺不会用 咋弄", "act.help"),
    ("能不能给俺打个电话 俺说不明白", "act.human"), ("叫个人给我回个电话", "act.human"),
    ("俺眼神不好 打字不方便 找个人跟俺说", "act.human"),
    ("物业电话是多少啊", "svc.phone"), ("自来水公司电话多少", "svc.phone"), ("暖气公司的电话给俺一个", "svc.phone"),
    ("派出所电话多少", "svc.phone"), ("居委会的电话号码", "svc.phone"),
    ("物业电话老是打不通", "property"), ("打物业电话没人接 电梯坏三天了", "repair"),
    ("燃气公司电话打不通", "utilities"),
    ("麻烦你们来修一下楼道灯 9号楼", "repair"), ("师傅修得很好 但是又漏水了", "repair"),
    ("网格员电话多少", "act.human"),
]


@pytest.mark.parametrize(("text", "intent"), UNDERSTOOD)
def test_what_the_engine_settles_on(text: str, intent: str) -> None:
    r = classify(text)
    assert r.top is not None and r.top.id == intent and not r.ambiguous, r.to_json()


HAILS = [("在不在呀", True), ("喂 有人没有", True), ("在吗 有人没", True), ("你好 在不在", True),
         ("隔壁老太太敲门没人应 屋里有人吗", False), ("俺娘在不在家都不知道 电话打不通", False)]


@pytest.mark.parametrize(("text", "hail"), HAILS)
def test_are_you_there_only_as_the_whole_message(text: str, hail: bool) -> None:
    assert hails(text) is hail


COURTESIES = [("麻烦您了", True), ("麻烦你们了 谢谢", True), ("辛苦了辛苦了", True),
              ("麻烦你们了 隔壁老太太敲门没人应", False), ("麻烦你们来修一下灯", False)]


@pytest.mark.parametrize(("text", "polite"), COURTESIES)
def test_thanks_for_the_trouble_only_as_the_whole_message(text: str, polite: bool) -> None:
    assert courtesy(text) is polite


PRAISE = ["师傅服务真好 谢谢", "修得挺好 辛苦了", "给你们点个赞", "麻烦你们了 师傅修得很好"]


@pytest.mark.parametrize("text", PRAISE)
def test_praise_is_thanks(text: str) -> None:
    r = classify(text)
    assert r.top is not None and r.top.id == "act.greeting" and not r.ambiguous, r.to_json()
    assert thanks(text)


@pytest.mark.parametrize("text", ["煤气味好大 有人吗", "有人吗 俺老伴晕倒了", "救命啊 中中中 快来人",
                                  "中 快来人啊 俺家老头摔倒了", "在不在 着火了", "俺想反映个事 楼道里冒烟了"])
def test_an_emergency_is_never_a_greeting_a_yes_or_a_preamble(text: str) -> None:
    r = classify(text)
    assert r.emergency is not None and r.top is not None and r.top.id == "act.sos", r.to_json()
    assert not agrees(text) and not preamble(text) and rating(text) is None
    assert not hails(text) and not courtesy(text)


def test_a_hail_inside_a_longer_message_is_no_greeting() -> None:
    r = classify("隔壁老太太敲门没人应 屋里有人吗")
    assert r.top is None or r.top.id != "act.greeting", r.to_json()


KINDS = [  # who handles it: a neighbour's accusation is for the mediators, a dog that bites for the police post
    ("楼上的老太太说俺家偷她的菜 天天在楼道里骂", "dispute"),
    ("邻居冤枉俺家孩子偷东西", "dispute"),
    ("流浪狗好几条 追着小孩咬 吓死人了", "safety"),
    ("小区里野狗太多了 晚上不敢出门", "safety"),
    ("俺家电动车被偷了", "safety"),  # a theft stays the police post's
    ("流浪狗在垃圾桶边上翻得到处都是", "sanitation"),  # a mess is not a danger
]


@pytest.mark.parametrize(("text", "kind"), KINDS)
def test_who_handles_everyday_matters(text: str, kind: str) -> None:
    top = classify(text).top
    assert top is not None and top.id == kind


@pytest.mark.parametrize(("text", "wish"), [("我想许个微心愿", True), ("俺有个小心愿", True), ("许愿", True),
                                            ("电梯又坏了", False), ("心里不痛快", False)])
def test_a_wish_asked_for_in_words(text: str, wish: bool) -> None:
    assert asks_wish(text) is wish


@pytest.mark.parametrize(("text", "want"), [("我要换毛巾", "毛巾"), ("用积分换个洗衣皂吧", "洗衣皂"),
                                            ("电梯又坏了", None), ("积分有多少", None)])
def test_what_is_asked_for_in_exchange(text: str, want: str | None) -> None:
    assert redeemed(text) == want


PAY = [("电费咋交 俺不会弄手机", True), ("燃气费在哪交", True), ("物业费去哪儿交", True), ("怎么交电费", True),
       ("电费太贵了", False), ("交了电费还停电", False), ("暖气费交了暖气不热", False)]


@pytest.mark.parametrize(("text", "how"), PAY)
def test_how_to_pay_a_bill_is_a_question_not_a_complaint(text: str, how: bool) -> None:
    assert asks_how_to_pay(text) is how
