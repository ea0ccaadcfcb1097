"""A fresh trial (4 December): a hundred messages in voices the other trials and the data files do not have —
WeChat-style with emoji, [抱拳] stickers and line breaks; pinyin and initials mixed in (wy 物业, xq 小区, tcw 停车位,
jf 积分, zx 装修); addresses in Chinese numerals (三号楼二单元, 五号楼六零二); old people's long rambles that
mention several things; questions about the services (义剪 on the 18th, 积分超市, 调解, 微心愿); grid workers' short
patrol reports (【巡查】, 4#楼, 已拍照); complaints about neighbours; emergencies said sideways; and twenty messages
that look alarming and are not (救命 about noise, smoke from a barbecue, an emergency drill, a fall already
fine). Each row was labelled by hand before the engine saw it: the category or question a community worker
would file it as (or both, as the parts to act on), the emergency kind, and a piece of the place.

A tuple of categories: either is right (the bot offers both when it is unsure, and the resident picks).
"""

from __future__ import annotations

import pytest

from intents.discourse import asks_wish
from tests.unit.trial_check import Want, check_understood

R, N, U, S, P, D, SA, C, W, L, G, PR = ("repair", "noise", "utilities", "sanitation", "parking", "dispute", "safety",
                                        "construction", "welfare", "legal", "suggestion", "property")
SOS = "act.sos"

TRIAL: list[tuple[str, Want, str | None, str | None]] = [
 # WeChat style: emoji, stickers, line breaks
 ("@物业 \n3栋电梯又停了😤\n早上上班等了十分钟", R, None, "3号楼"),
 ("家人们谁懂啊😭 楼上凌晨两点还在蹦迪\n咚咚咚的", N, None, None),
 ("💧💧💧\n厨房天花板在滴水\n楼上没人在家", (R, D), None, None),
 ("🚗挡我车了！！\n白色大众 在5号楼下面 打电话不接", P, None, "5号楼"),
 ("垃圾站那边臭死了🤢🤢 大冬天的也臭", S, None, "垃圾站"),
 ("收到🙏 谢谢网格员小王", "act.greeting", None, None),
 ("[抱拳][抱拳]请问这周六的义剪还有吗", "svc.haircut", None, None),
 ("[捂脸] 又停水了 啥时候来水啊", U, None, None),
 ("群里说18号有义剪 是在活动室吗？🧐", "svc.haircut", None, None),
 ("我家暖气片冰凉❄️❄️\n暖气费可是交了的", U, None, None),
 ("👍👍 电梯修好了 师傅辛苦", "act.greeting", None, None),
 ("楼下那只狗🐕天天晚上叫\n叫到半夜\n谁家的啊", N, None, None),
 ("[微笑]请问积分超市现在有什么可以换的", "svc.shop", None, None),
 ("1单元门口那堆装修垃圾📦📦 放了一个礼拜了", S, None, "1单元"),
 ("明天是不是要停电❓❓ 群里有人说", U, None, None),
 # pinyin and initials
 ("wy什么时候来修灯啊 楼道黑了三天了", R, None, "楼道"),
 ("dt坏了 wy电话打不通", (R, PR), None, None),
 ("xq门口的tcw都被外来车占了", P, None, None),
 ("sq几点下班啊 想去盖个章", "svc.hours", None, None),
 ("楼上zx太吵了 周末早上八点就开始", N, None, None),
 ("wy费凭什么又涨价", PR, None, None),
 ("ting shui le ma", U, None, None),
 ("jf能换米吗", "svc.shop", None, None),
 ("我家nuan qi不热", U, None, None),
 ("请问yi jian是几号", "svc.haircut", None, None),
 ("gzh上说周三有义诊 真的吗", "svc.clinic", None, None),
 # addresses in Chinese numerals
 ("三号楼二单元四楼的声控灯不亮了", R, None, "3号楼2单元"),
 ("十一栋东边那个井盖松了 一踩咣当响", R, None, "11号楼"),
 ("五号楼六零二天天半夜拖椅子", N, None, "5号楼"),
 ("二期十四号楼地下车库积水了 有半尺深", (R, S), None, "14号楼"),
 ("八号楼一单元门口有辆三轮车扔了半年了", P, None, "8号楼1单元"),
 ("九号楼跟十号楼中间那条路上的路灯全不亮", R, None, "9号楼"),
 ("七栋三单元五零一家里漏水漏到四零一了", (D, R), None, "7号楼3单元"),
 ("二十三号楼楼顶有人搭了个棚子", C, None, "23号楼"),
 ("一号楼负一层车库的卷帘门坏了 车进不去", R, None, "1号楼"),
 # old people's long rambles
 ("闺女啊 我跟你说 我们这个楼啊电梯前天就坏了 我这腿脚上不去 买的菜都是邻居小张帮我提上来的 还有啊 上次说的那个理发"
  "是哪天来着 我老头子头发长得跟草似的", [R, "svc.haircut"], None, None),
  ("我是十二号楼的老李 八十三了 一个人住 暖气不热 屋里冷得伸不出手 我儿子在外地 你们能不能找人来看看",
  U, None, "12号楼"),
 ("同志你好 我想问问那个高龄补贴 我今年满八十了 是不是要去社区登记 要带户口本还是身份证 还有我老伴的残疾证也该换了",
  W, None, None),
 ("哎呀 我也不会弄这个手机 是我孙子帮我弄的 就想问一下 社区那个积分超市 我攒了好多分了 能换点油不",
  "svc.shop", None, None),
 ("我们家楼下那个老王 天天在楼道里堆破烂 纸壳子瓶子堆得走不过去 说了几回了他也不听 还骂人 你们管不管",
  (D, SA, S), None, "楼道"),
 ("我跟你们说啊 老伴前几年走了 现在儿子也不管我 一个月就给二百块钱 我这药费都不够 你们能不能帮我说说他",
  (D, W), None, None),
 ("早上好啊 昨天那个电工师傅来了 修得挺好 谢谢你们 还有个事 我家厨房水龙头也滴水 能不能再让他来一趟",
  (R, U), None, None),
 ("唉 这个楼道的灯坏了好几天了 我晚上出去倒垃圾差点摔着 我这把年纪摔一下可不得了 麻烦你们找人修修",
  R, None, "楼道"),
 # the community's services
 ("18号的义剪几点开始？", "svc.haircut", None, None),
 ("义剪要排号吗 我想带我家老头去", "svc.haircut", None, None),
 ("我想找人调解一下和楼上的事 他家空调水老滴我家窗台上", D, None, None),
 ("调解要预约吗 还是直接去就行", D, None, None),
 ("志愿服务的积分多久能到账", "svc.points", None, None),
 ("下次义诊有没有看眼睛的", "svc.clinic", None, None),
 ("四点半课堂还收人吗 孩子三年级", "svc.class", None, None),
 # grid workers' patrol reports
 ("【巡查】6号楼西侧绿化带内堆放建筑垃圾约3方，请环卫清运。", S, None, "6号楼"),
 ("网格巡查：2号楼1单元楼道灭火器压力不足，需更换", SA, None, "2号楼1单元"),
 ("巡查发现 东门岗亭旁路灯不亮 已拍照", R, None, "东门"),
 ("4#楼北侧有车辆占用消防通道 车牌已记录", (SA, P), None, "4号楼"),
 ("入户走访：15号楼302独居老人反映暖气不热", U, None, "15号楼"),
 ("10号楼与11号楼之间井盖缺失，已设置警示", R, None, "10号楼"),
 ("南门外占道经营 烧烤摊3处", (P, S), None, "南门"),
 ("3号楼顶层违规搭建阳光房一处 请城管核实", C, None, "3号楼"),
 ("巡查：小区北门监控摄像头损坏", (SA, R), None, "北门"),
 ("8号楼2单元电动车入户充电 已劝阻", SA, None, "8号楼2单元"),
 # neighbours
 ("对门家的狗天天在电梯里撒尿 说了她还不乐意", (D, S), None, None),
 ("楼上阳台浇花的水全滴到我家晾的衣服上了 跟她说了她装听不见", D, None, None),
 ("隔壁把鞋架子放我家门口了 占了我家的地方", D, None, None),
 ("楼下那户在小区花坛里种葱种蒜 还用粪水浇 臭得要命", (S, C), None, None),
 ("对门在门框上装了个摄像头 对着俺家屋里拍", (D, SA), None, None),
 ("楼上那家两口子天天吵架摔东西 半夜也不消停", (D, N), None, None),
 ("顶楼那户总往楼下倒剩菜剩饭 有回差点泼到过路的人身上", (SA, S), None, None),
 # emergencies said sideways
 ("我妈刚才说胸口闷 现在叫她不答应了", SOS, "medical", None),
 ("厨房那个管子嘶嘶响 一股臭鸡蛋味", SOS, "gas", None),
 ("电梯停在六楼和七楼中间了 我家孩子在里面哭", SOS, "trapped", "电梯"),
 ("外面有个人一直在撬我家门 我不敢出声", SOS, "crime", None),
 ("我爸出门买烟 到现在五个小时了 他有老年痴呆", SOS, "missing", None),
 ("隔壁屋里往外冒烟 敲门没人开", SOS, "fire", None),
 ("楼下有个男的倒在雪地里 喊他也不动", SOS, "medical", None),
 ("一个陌生号码说我孙子被抓了 要交保释金五万", SOS, "fraud", None),
 ("我真的撑不下去了 药都准备好了", SOS, "self-harm", None),
 ("我家老太太进卫生间半个钟头了 敲门也不应", SOS, "medical", None),
 ("单元门口躺着个老人 身上一股酒味 叫不醒", SOS, "medical", "单元门口"),
 # alarming words, no emergency
 ("楼下烧烤摊烟大得很 整个楼道都是烟味", S, None, None),
 ("电视里说着火了要捂住口鼻 社区能发点灭火毯不", (SA, G), None, None),
 ("我家孩子摔了一跤 膝盖破了点皮 没事 就是想问问社区医生在不在", "svc.clinic", None, None),
 ("救命啊 楼上的装修声太吵了 我要疯了", N, None, None),
 ("电梯困人演练是几号 我们楼要参加吗", (SA, "svc.activities"), None, None),
 ("孩子的手指头被单元门夹了一下 现在好了 门上能装个防夹的吗", (G, R), None, None),
 ("楼道里有股怪味 不是煤气 是谁家的垃圾臭了", S, None, "楼道"),
 ("昨天晚上停电 电梯里关了个人 物业二十分钟才来 现在人出来了 但你们得管管", (R, PR), None, None),
 ("消防演练的时候烟好大 我家孩子吓哭了 下次能提前通知吗", (SA, G), None, None),
 ("昨天有人在小区里打架 警察来了 现在没事了 就是想问问监控能不能多装几个", (G, SA), None, None),
 ("我爸血压有点高 不是急事 想约个家庭医生上门看看", "svc.clinic", None, None),
 ("燃气报警器的电池没电了 一直滴滴叫 找谁换", (U, R), None, None),
 ("那个电动车着火的视频大家都看了吧 我们楼道里也一堆电动车", SA, None, "楼道"),
 ("有人晕倒了该怎么办 社区有没有急救培训", "svc.class", None, None),
 ("楼顶天台的门没锁 小孩老上去玩 太危险了", SA, None, "天台"),
 ("水管爆了 水哗哗往外喷 总阀在哪", (R, U), None, None),
 ("刚才电梯突然往下掉了一下 吓死我了 幸好没事 赶紧查查吧", R, None, "电梯"),
 ("楼下小孩放鞭炮 炸到我车上了 漆都崩掉一块", (SA, D), None, None),
 # a complaint with a question; an earlier report; a take-back
 ("单元门又坏了 另外问下积分能换啥", [R, "svc.shop"], None, "单元门"),
 ("垃圾三天没人收 还有义剪是几号", [S, "svc.haircut"], None, None),
 ("前天说的那个井盖 有人来弄了吗", "act.my_tickets", None, None),
 ("灯我让电工弄好了 那个单子撤了吧", "act.withdraw", None, None),
]


# Left wrong, with the reason: a fix would be tuning to the sentence.
XFAIL = {
    "电梯困人演练是几号 我们楼要参加吗": (
        "a drill's date asked: 困人 and 电梯 are repair's strongest words, and nothing reads 'X演练是几号' as a "
        "question about an event that is none of the named services"),
}
PARAMS = [pytest.param(*row, id=row[0][:16], marks=[pytest.mark.xfail(strict=True, reason=XFAIL[row[0]])]
                       if row[0] in XFAIL else []) for row in TRIAL]


@pytest.mark.parametrize(("text", "want", "emergency", "place"), PARAMS)
def test_trial_message_is_understood(text: str, want: Want, emergency: str | None, place: str | None) -> None:
    check_understood(text, want, emergency, place)


@pytest.mark.parametrize(("text", "wish"), [
    ("我想问问哈 那个微心愿是咋许的 我想给我孙子要个书包", True),
    ("想给孙子许个心愿 要一套字典", True),
    ("我的微心愿有人认领了吗", False),  # asks how the wish is going: not a new one
])
def test_trial_micro_wish(text: str, wish: bool) -> None:
    assert asks_wish(text) is wish


def test_trial_has_a_hundred_messages() -> None:
    assert len(TRIAL) == 100
