"""Misreads found on 4 December, each fixed in a general way and checked on several wordings: a "what if" about a
hazard (楼道里停满了电动车 着火了可咋办) is a safety report, not a fire; money a landlord, an agent or a boss keeps
(被房东骗了两千, 中介骗了我押金) is a dispute, not a swindle to alert the police post about; and a service's own
name typed with the wrong character (意剪 for 义剪) is that service, not a word it sounds like (意见)."""

from __future__ import annotations

import pytest

from intents import classify
from intents.emergency import hazard_feared, known_party
from intents.text import canonical


@pytest.mark.parametrize("text", [
    "楼道里停满了电动车 着火了可咋办",
    "万一着火了怎么办",
    "要是漏电电到小孩咋整",
    "一楼那家天天飞线充电 着火了咋整",
    "煤气罐就放在楼道里 炸了咋办",
    "电线老化成这样 哪天烧起来谁负责",
    "楼道里全是电动车在充电 真着火了人都跑不出去",
    "插座都烧黑了 万一起火怎么办",
    "楼下电箱门开着 电线露在外头 小孩摸了触电咋办",
    "楼道堆的纸箱子一点就着 到时候着起火来谁负责",
    "安全通道让人堆满了杂物，着火了往哪跑",
    "地下室私拉电线给电动车充电 一旦起火后果不堪设想",
])
def test_a_what_if_about_a_hazard_is_a_safety_report_not_an_alert(text: str) -> None:
    r = classify(text)
    assert r.emergency is None, r.to_json()
    assert r.top is not None and r.top.id == "safety" and not r.ambiguous, r.to_json()


@pytest.mark.parametrize(("text", "kind"), [
    ("3楼着火了 快来人", "fire"),
    ("电动车着火了!!", "fire"),
    ("楼下电动车着火了 怎么办", "fire"),
    ("家里着火了怎么办", "fire"),
    ("厨房着火了 怎么办啊", "fire"),
    ("3楼 着火了咋办", "fire"),
    ("楼道里停满了电动车 现在着火了 快来人", "fire"),
    ("楼道里全是电动车 有一辆着火了", "fire"),
    ("我闻到煤气味了 咋办", "gas"),
    ("楼道里堆满了纸箱 着火了 救命", "fire"),
    ("孩子摸插座触电了 怎么办", "medical"),
])
def test_a_fire_happening_stays_an_alert(text: str, kind: str) -> None:
    r = classify(text)
    assert r.emergency is not None and r.emergency.kind == kind, r.to_json()


def test_the_hazard_words_are_what_the_safety_vote_shows() -> None:
    assert hazard_feared(canonical("楼道里停满了电动车 着火了可咋办")) == ["着火"]
    assert hazard_feared(canonical("3楼着火了 快来人")) == []
    assert hazard_feared(canonical("没有着火 是邻居在烧烤")) == []  # a denial is no hazard


@pytest.mark.parametrize(("text", "want"), [
    ("被房东骗了两千", "dispute"),
    ("中介骗了我押金", "dispute"),
    ("房东扣着押金不退 说我把墙弄脏了", "dispute"),
    ("二房东骗了俺三个月房租 说好的退一半也不退", "dispute"),
    ("租房的时候被中介坑了 中介费不退", "dispute"),
    ("租客跑了 欠了我两个月房租", "dispute"),
    ("老板骗了我三个月工资", "legal"),
    ("被房东骗了 说是下个月退押金 到现在也没退", "dispute"),
    ("包工头骗了俺们的工钱 过年都回不了家", "legal"),
])
def test_money_kept_by_a_landlord_agent_or_boss_is_a_dispute_not_a_swindle(text: str, want: str) -> None:
    r = classify(text)
    assert r.emergency is None, r.to_json()
    assert r.top is not None and r.top.id == want and not r.ambiguous, r.to_json()


@pytest.mark.parametrize("text", [
    "有人让我转账说是公安局的",
    "网上找的房东让我先转定金 转完就把我拉黑了",
    "有个自称中介的人让我先交三千押金 现在联系不上了",
    "刚才有人冒充房东发微信让我把房租转到新卡上",
    "昨天被骗了两万块 说是银行客服",
])
def test_a_swindle_by_a_stranger_stays_an_alert(text: str) -> None:
    """A stranger pretending to be a landlord or an agent is a swindler: 拉黑, 联系不上, 冒充, 自称."""
    r = classify(text)
    assert r.emergency is not None and r.emergency.kind == "fraud", r.to_json()


def test_the_known_party_is_named() -> None:
    assert known_party(canonical("被房东骗了两千")) == ("dispute", "房东")
    assert known_party(canonical("老板骗了我三个月工资")) == ("legal", "老板")
    assert known_party(canonical("有人冒充房东让我转账")) is None
    assert known_party(canonical("有人让我转账说是公安局的")) is None


@pytest.mark.parametrize("text", [
    "意剪",
    "社区的意剪是几号啊",
    "意剪是哪天",
    "下回意剪啥时候",
    "俺想问问艺剪在哪",
    "议剪几点开始",
])
def test_the_volunteer_barber_mistyped_is_the_barber(text: str) -> None:
    """义剪 is the community's own word, which no input method knows: residents type it as they can (意剪, 议剪).
    意见 is in every input method's dictionary, so a resident who means it gets it right."""
    r = classify(text)
    assert r.top is not None and r.top.id == "svc.haircut" and not r.ambiguous, r.to_json()


@pytest.mark.parametrize(("text", "want"), [
    ("我有个意见 楼下的灯太暗了", "suggestion"),
    ("提个意见 小区应该多装几个垃圾桶", ("suggestion", "sanitation")),
    ("义诊是哪天", "svc.clinic"),
])
def test_the_words_it_sounds_like_stay_what_they_are(text: str, want: str | tuple[str, ...]) -> None:
    r = classify(text)
    assert r.top is not None and r.top.id in ((want,) if isinstance(want, str) else want), r.to_json()


# ---------------------------------------------------------------- from the 4 December trial, each as a family


@pytest.mark.parametrize(("text", "kind"), [
    ("我妈刚才说胸口闷 现在叫她不答应了", "medical"),
    ("楼下有个男的倒在雪地里 喊他也不动", "medical"),
    ("我爸坐沙发上 推他也不吭声", "medical"),
    ("我家老太太进卫生间半个钟头了 敲门也不应", "medical"),
    ("老伴在浴室洗澡半天了 一点动静都没有 喊也没动静", "medical"),
    ("我爸进厕所一个多小时了 叫了也不出来", "medical"),
    ("我爸出门买烟 到现在五个小时了 他有老年痴呆", "missing"),
    ("我妈有点老年痴呆 早上出去到现在六个小时了", "missing"),
    ("俺爷爷糊涂了 下午溜出去 三个钟头了", "missing"),
    ("我真的撑不下去了 药都准备好了", "self-harm"),
    ("安眠药我都攒好了 不想拖累孩子们", "self-harm"),
    ("活够了 就这样吧", "self-harm"),
    ("一个陌生号码说我孙子被抓了 要交保释金五万", "fraud"),
    ("有人打电话说我儿子出车祸了 要交医药费三万", "fraud"),
    ("说我外孙打架被拘了 让交罚款 是个陌生电话", "fraud"),
])
def test_emergencies_said_sideways(text: str, kind: str) -> None:
    r = classify(text)
    assert r.emergency is not None and r.emergency.kind == kind, r.to_json()


@pytest.mark.parametrize("text", [
    "叫物业也不动 灯坏了半个月",
    "卫生间的水龙头半天不出水",
    "我爸有老年痴呆 社区有没有防走失的手环",
    "老年痴呆能办残疾证吗",
    "我爸的药都准备好了 明天出院",
    "电视里说着火了要捂住口鼻 社区能发点灭火毯不",
    "新闻里说有个小区电动车着火了 咱们楼道也停了不少",
    "那个电动车着火的视频大家都看了吧 我们楼道里也一堆电动车",
    "抖音上看到电梯困人的视频 挺吓人的",
    "我家孩子摔了一跤 膝盖破了点皮 没事 就是想问问社区医生在不在",
    "我妈刚才滑倒了 没什么大碍 就是地太滑了",
    "孩子在楼梯上摔了 擦破点皮 不严重",
    "救命啊 楼上的装修声太吵了 我要疯了",
    "救命 楼下的狗叫了一晚上 我要崩溃了",
    "救命啊 这垃圾站的味道熏死人了",
    "昨天晚上停电 电梯里关了个人 物业二十分钟才来 现在人出来了 但你们得管管",
    "电梯困了个人 已经放出来了",
])
def test_alarming_words_that_are_no_emergency(text: str) -> None:
    r = classify(text)
    assert r.emergency is None, r.to_json()


@pytest.mark.parametrize(("text", "kind"), [
    ("我在看电视 突然闻到一股煤气味", "gas"),
    ("我爸摔倒了 流了好多血 我没事", "medical"),
    ("老人摔倒了起不来 没事吧", "medical"),
    ("救命 我受不了了 他在打我", "crime"),
    ("电梯里关着人 出不来了", "trapped"),
])
def test_the_same_words_in_an_emergency_still_alert(text: str, kind: str) -> None:
    r = classify(text)
    assert r.emergency is not None and r.emergency.kind == kind, r.to_json()


@pytest.mark.parametrize(("text", "want"), [
    ("@物业 \n3栋电梯又停了😤\n早上上班等了十分钟", "repair"),
    ("@物业 楼道灯又坏了", "repair"),
    ("@网格员小王 @物业 楼下垃圾三天没人收了", "sanitation"),
    ("@物业 你们到底管不管", "property"),
    ("wy什么时候来修灯啊 楼道黑了三天了", "repair"),
    ("wy费能不能便宜点", "property"),
    ("xq门口有辆僵尸车", "parking"),
    ("tcw又被人占了", "parking"),
    ("sq几点开门", "svc.hours"),
    ("jf怎么换东西", "svc.shop"),
    ("dt又坏了", "repair"),
    ("请问yi jian是几号", "svc.haircut"),
    ("我家nuan qi不热", "utilities"),
    ("ting dian le", "utilities"),
    ("🚗挡我车了！！\n白色大众 在5号楼下面 打电话不接", "parking"),
    ("谁的车挡着我的车了 出不去", "parking"),
    ("一辆黑色越野堵住我的车了", "parking"),
    ("隔壁把鞋架子放我家门口了 占了我家的地方", "dispute"),
    ("对门的自行车老占我家门口", "dispute"),
    ("楼下车库的卷帘门坏了 车进不去", "repair"),
    ("地库卷帘门卡住了 升不上去", "repair"),
    ("电视里说着火了要捂住口鼻 社区能发点灭火毯不", "safety"),
    ("楼下小孩放鞭炮 炸到我车上了 漆都崩掉一块", "safety"),
])
def test_categories_from_the_trial(text: str, want: str) -> None:
    r = classify(text)
    assert r.top is not None and r.top.id == want and not r.ambiguous, r.to_json()


def test_a_neighbour_named_in_passing_is_no_dispute() -> None:
    """邻居 alone is a vague word (weight 1, as the taxonomy says of vague words): a neighbour who carried the
    shopping up is no quarrel to mediate."""
    r = classify("电梯前天就坏了 我这腿脚上不去 买的菜都是邻居小张帮我提上来的")
    assert r.parts == ["repair"], r.to_json()
    assert classify("电梯坏了 早上上班等了十分钟").parts == ["repair"]  # one's own work is no office hours


@pytest.mark.parametrize(("text", "wish"), [
    ("我想许个微心愿", True),
    ("想给孙子许个心愿 要一套字典", True),
    ("我的微心愿有人认领了吗", False),
    ("俺许的心愿咋样了", False),
    ("上回发的微心愿实现了吗", False),
])
def test_a_wish_asked_after_is_no_new_wish(text: str, wish: bool) -> None:
    from intents.discourse import asks_wish

    assert asks_wish(text) is wish


def test_a_roof_terrace_is_one_place() -> None:
    from intents.places import named_place

    assert named_place("楼顶天台的门没锁 小孩老上去玩") == "楼顶天台"
    assert named_place("3号楼楼顶天台") == "3号楼楼顶天台"


def test_initials_are_read_only_beside_chinese_and_keep_positions() -> None:
    """One letter for one character: spans found in canonical text still point at the resident's words."""
    for raw in ("wy费凭什么又涨价", "xq门口的tcw都被占了", "请问jwh在哪"):
        assert len(canonical(raw)) == len(raw)
    assert canonical("wy费") == "物业费"
    assert canonical("wy") == "wy"  # Latin alone is pinyin or English, read elsewhere
    assert canonical("我的dtv坏了") == "我的dtv坏了"  # a longer Latin word is not initials


@pytest.mark.parametrize(("text", "kind"), [
    ("监控视频里看到有人倒在楼道里 叫不醒", "medical"),
    ("新闻里说咱们小区3号楼着火了 快跑", "fire"),
])
def test_the_estates_own_cameras_and_a_cry_are_no_retold_news(text: str, kind: str) -> None:
    r = classify(text)
    assert r.emergency is not None and r.emergency.kind == kind, r.to_json()
