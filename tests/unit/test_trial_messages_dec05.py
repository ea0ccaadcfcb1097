"""A fresh trial (5 December): eighty messages in voices the earlier trials and the data files do not have —
dialect from other regions (Sichuan 啥子/巴适/莫得/遭, Northeastern 咋整/贼/嘎哈/整, Cantonese-influenced
唔该/系/冇/嘅/好嘈, Shandong/Henan 俺/中/得劲/咋弄); voice transcription (homophones across a phrase, no
punctuation, 嗯啊 fillers); a greeting or thanks wrapped round a complaint; two matters in one message; grid
workers reporting for a resident (帮3号楼张大爷反映一下…); services asked about sideways (那个剪头发的啥时候来,
积分能换鸡蛋不); fifteen messages that look alarming and are not; and ten real emergencies said plainly by old
people. Each row was labelled by hand before the engine saw it: the category or question a community worker
would file it as (or both, as the parts to act on), the emergency kind, and a piece of the place.

A tuple of categories: either is right (the bot offers both when it is unsure, and the resident picks).
"""

from __future__ import annotations

import pytest

from tests.unit.trial_check import Want, check_understood

R, N, U, S, P, D, SA, C, W, L, G, PR = ("repair", "noise", "utilities", "sanitation", "parking", "dispute", "safety",
                                        "construction", "welfare", "legal", "suggestion", "property")
SOS = "act.sos"

TRIAL: list[tuple[str, Want, str | None, str | None]] = [
 # Sichuan
 ("楼上那家人天天半夜蹦蹦跳跳的 吵得人莫得法睡瞌睡", N, None, None),
 ("我们那个单元的电梯又遭坏了 爬楼梯爬得脚杆都软了", R, None, None),
 ("请问一哈 水啥子时候来嘛 一早上都莫得水", U, None, None),
 ("6栋门口那堆垃圾好几天都莫得人收 臭得很", S, None, "6号楼"),
 ("楼道头的灯坏了好久了 黑黢黢的 啥子时候来修嘛", R, None, "楼道"),
 ("积分超市头有啥子东西可以换哦", "svc.shop", None, None),
 # Northeastern
 ("暖气贼拉不热 屋里才十四度 这咋整啊", U, None, None),
 ("楼下那帮人天天搁那嘎哈呢 半夜还唱歌 贼吵", N, None, None),
 ("谁家车堵我车库门口了 我这车出不去咋整", P, None, "车库"),
 ("楼上漏水把俺家棚顶整湿一大片 找他他还不认账", (D, R), None, None),
 ("物业这帮人一天天的嘎哈呢 收钱不干活", PR, None, None),
 ("单元门那锁整坏了 谁都能进来", (R, SA), None, "单元门"),
 # Cantonese-influenced
 ("唔该 想问下义剪系边日", "svc.haircut", None, None),
 ("楼上装修好嘈 日日都系咁 早上八点就开始钻", N, None, None),
 ("我屋企冇热水 系唔系停气啊", U, None, None),
 ("唔该帮手睇下 5座电梯又坏咗", R, None, "5号楼"),
 ("楼下嘅垃圾桶冇人倒 好臭啊", S, None, None),
 ("唔该 停车场个闸坏咗 啲车出唔去", (R, P), None, None),
 # Shandong / Henan
 ("俺家那个下水道堵了 水下不去 咋弄啊", R, None, None),
 ("中不中啊 这停车位天天叫外边的车占着", P, None, None),
 ("俺想问问那个高龄补贴咋申请 俺今年八十了", W, None, None),
 ("这暖气一点都不得劲 屋里冰凉", U, None, None),
 ("俺娘想去那个助餐点吃饭 在哪儿啊", "svc.meal", None, None),
 # voice transcription: homophones, no punctuation, fillers
 ("嗯那个啊我想问一下那个停水是到几点啊就是今天", U, None, None),
 ("我家楼上那个装秀的声音太大了每天早上七点就开始了", N, None, None),
 ("呃就是那个我们楼的电提又坏了你们能不能来看一下", R, None, None),
 ("啊那个楼下的那个拉鸡桶好几天没人倒了很臭", S, None, None),
 ("嗯嗯就是说我家那个暖器不热啊已经好几天了", U, None, None),
 ("就是那个三号楼的那个楼到灯不亮了", R, None, "3号楼"),
 ("那个我想问一下那个义见是几号啊", "svc.haircut", None, None),
 ("嗯对就是那个有人把车停在消方通道上了", (SA, P), None, None),
 # a greeting or thanks with a complaint
 ("你好 辛苦了 我们楼的电梯又停了 麻烦派人看一下", R, None, None),
 ("早上好 谢谢你们上次帮忙 这次是楼下烧烤店油烟太大 窗都不敢开", (S, N), None, None),
 ("新年快乐 就是楼道里那些自行车太占地方了 能不能清一下", (SA, S), None, "楼道"),
 ("谢谢社区 不过我家暖气还是不热 师傅来了也没修好", U, None, None),
 ("您好 打扰了 小区门口的路灯坏了好几个 晚上走路看不见", R, None, None),
 # two matters in one message
 ("电梯坏了 还有那个义诊是哪天", [R, "svc.clinic"], None, None),
 ("楼下垃圾没人收 顺便问下积分超市几点开门", [S, "svc.shop"], None, None),
 ("水管漏水了 另外社区的电话是多少", [R, "svc.phone"], None, None),
 ("楼上太吵了 然后我还想问问四点半课堂在哪", [N, "svc.class"], None, None),
 ("暖气不热 还有我家门口的灯也不亮", (U, R), None, None),
 # grid workers reporting for a resident
 ("帮3号楼张大爷反映一下 他家卫生间的水管漏了 老人自己弄不了", R, None, "3号楼"),
 ("替8号楼2单元的刘奶奶说一下 她家暖气一直不热", U, None, "8号楼2单元"),
 ("网格员代报：12号楼王阿姨反映楼上天天晚上拖桌子", N, None, "12号楼"),
 ("帮独居的赵大爷问问 他能不能申请助餐", "svc.meal", None, None),
 ("代5号楼孙大妈反映 楼下有人在绿化带里种菜", (C, S), None, "5号楼"),
 ("帮7号楼李奶奶问一下 她的积分还剩多少", "svc.points", None, None),
 # services asked about sideways
 ("那个剪头发的啥时候来", "svc.haircut", None, None),
 ("积分能换鸡蛋不", "svc.shop", None, None),
 ("看病的那个医生这个月还来不来", "svc.clinic", None, None),
 ("老年食堂中午几点开饭", "svc.meal", None, None),
 ("我那个分攒了多少了", "svc.points", None, None),
 ("你们社区的人几点上班啊", "svc.hours", None, None),
 ("给小孩补课的那个班还有没有", "svc.class", None, None),
 ("最近社区有啥热闹的活动没", "svc.activities", None, None),
 # look alarming, are not
 ("电梯里那个求救按钮坏了 按了没反应 得修修", R, None, "电梯"),
 ("楼下那家天天吵得要死 我快被他们烦死了", N, None, None),
 ("刚才闻到一股煤气味 原来是隔壁在炒辣椒 没事了", "other", None, None),
 ("我家老头子昨天摔了 已经去医院看过了 没啥大事 就是楼道台阶太滑了", (R, SA), None, "楼道"),
 ("垃圾桶着火了吗 不是 是有人在那烧纸", (SA, S), None, None),
 ("这个物业真是要人命 报修一个月都没人来", PR, None, None),
 ("热死了 楼道里的窗户打不开 一点都不通风", R, None, "楼道"),
 ("楼上的空调外机掉下来会砸死人的 晃晃悠悠的", SA, None, None),
 ("社区能不能搞个急救知识讲座 我们老年人想学学心肺复苏", (G, "svc.class"), None, None),
 ("我家的烟雾报警器半夜一直响 也没冒烟 是不是坏了", R, None, None),
 ("去年楼里着过一次火 现在消防栓还是空的", SA, None, None),
 ("笑死我了 楼下大爷跟狗吵架", "other", None, None),
 ("我要被楼上的钢琴声逼疯了 每天练到十一点", N, None, None),
 ("下水道堵得要命 一家人都没法上厕所了", R, None, None),
 ("电梯关人的事上个月出过一回 现在维保还是不来", (R, PR), None, "电梯"),
 # real emergencies said plainly by old people
 ("我老伴倒地上了 叫不醒", SOS, "medical", None),
 ("我喘不上气了 胸口疼", SOS, "medical", None),
 ("家里着火了 快来人", SOS, "fire", None),
 ("我摔倒了起不来 一个人在家", SOS, "medical", None),
 ("屋里一股煤气味 我打不着火了 头晕", SOS, "gas", None),
 ("我被关在电梯里了 出不去", SOS, "trapped", "电梯"),
 ("老头子出去遛弯到现在没回来 他糊涂了 找不着家", SOS, "missing", None),
 ("有人冒充我儿子打电话 让我给他转两万块钱 我已经去银行了", SOS, "fraud", None),
 ("有个人在撬我家门锁 我一个人害怕", SOS, "crime", None),
 ("我不想活了 活着拖累孩子", SOS, "self-harm", None),
]


# Left wrong, with the reason: a fix would be tuning to the sentence.
XFAIL: dict[str, str] = {
    "刚才闻到一股煤气味 原来是隔壁在炒辣椒 没事了": (
        "a false alarm taken back in the same message: nothing reads 原来是…没事了 as 'nothing to file', so 煤气味 "
        "files it under utilities (the emergency is rightly not raised)"),
    "笑死我了 楼下大爷跟狗吵架": (
        "amusement, not a complaint: 吵架 is dispute's own word, and 笑死我了 is no sign of a joke strong enough "
        "to outweigh it without tuning to the sentence"),
}
PARAMS = [pytest.param(*row, id=row[0][:16], marks=[pytest.mark.xfail(strict=True, reason=XFAIL[row[0]])]
                       if row[0] in XFAIL else []) for row in TRIAL]


@pytest.mark.parametrize(("text", "want", "emergency", "place"), PARAMS)
def test_trial_message_is_understood(text: str, want: Want, emergency: str | None, place: str | None) -> None:
    check_understood(text, want, emergency, place)


def test_trial_has_eighty_messages() -> None:
    assert len(TRIAL) == 80
