"""Life-safety messages, whatever their wording: which kind of emergency, and the words that said so.

Residents rarely type the textbook word (急救, 火灾); they say what they see: 我爸摔倒了起不来, 楼道里冒黑烟,
电梯卡在半路了里面有人. So each kind is a set of situation patterns, some of which only count with a
person as their subject (不动了 is an emergency for 老人, a repair for 电梯). A pattern is then checked
against what turns it into an ordinary message: a negation (没有着火), a past event (上个月有人在这摔了),
a fear or a hypothetical (怕着火, 容易摔倒, 万一), a question about a service (燃气费怎么交, 急救培训), a
problem already handled (困人的事处理好了), or hyperbole (吵得我想死).

Input is canonical text (`intents.text.canonical`: simplified, lower case, half-width).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KINDS = ("medical", "fire", "gas", "crime", "trapped", "missing", "self-harm")
# a cry for help that names no kind (救命, 快来人): whoever is on duty goes, the resident is told every number
HELP = "help"
# When several kinds are present, the one that decides who is sent first.
PRIORITY = ("self-harm", "fire", "gas", "crime", "trapped", "missing", "medical")

_PERSON = (
    r"(?:我|俺|咱|人|他|她|老人|老太太|老太|老头|老大爷|大爷|大妈|大娘|奶奶|爷爷|外婆|外公|姥姥|姥爷|"
    r"爸|妈|爹|娘|老伴|老公|老婆|媳妇|丈夫|妻子|儿子|女儿|闺女|孩子|小孩|娃|宝宝|婴儿|学生|邻居|工人|师傅|"
    r"小伙子?|男的|女的|哥|姐|弟|妹|朋友|同事|老师|阿姨|叔叔)"
)
# Someone who can go missing: not a bare 人 ("找不到人修" is a complaint), a relative or a child.
_KIN = (
    r"(?:老人|老太太|老太|老头|大爷|奶奶|爷爷|外婆|外公|姥姥|姥爷|爸|妈|爹|娘|老伴|老公|老婆|媳妇|丈夫|"
    r"妻子|儿子|女儿|闺女|孩子|小孩|娃|宝宝|学生|弟弟|妹妹|哥哥|姐姐|老父亲|老母亲)"
)

# (pattern, needs a person before it in the clause)
_PATTERNS: dict[str, list[tuple[str, bool]]] = {
    "medical": [
        (r"摔倒|跌倒|摔伤|摔破|摔在地上|摔了一跤|滚下来|倒地|倒在地上|躺在地上|躺地上|栽倒", False),
        (r"晕倒|晕过去|昏过去|昏倒|昏迷|休克|不省人事|叫不醒|喊不醒|没有?意识|没知觉|人事不省", False),
        (r"抽搐|口吐白沫|抽过去|翻白眼|眼睛往上翻|一直抽", False),
        (r"喘不(?:上|过)来?气|呼吸困难|没有?呼吸|没气了|心跳停|心脏骤停|心梗|心脏病(?:犯|发作)|胸口(?:疼|痛)得", False),
        (r"中风|脑梗|嘴(?:也|都)?歪了|说不出话|半边(?:身子)?(?:动不了|不能动|没知觉)", False),
        (r"血止不住|流(?:了)?(?:好多|很多|一地|一身|不少)血|大出血|出血不止|(?:满|一)(?:头|脸|身|手)(?:都)?是?血|都是血|"
         r"头破了|头破血流", False),
        (r"被电(?:打|击|着|到)|电(?:打|击|着)了|触电|电击", False),
        (r"溺水|落水|掉(?:进|到)?(?:了)?(?:河|湖|江|水|池塘|水塘|鱼塘|井|水库|游泳池)里?|淹着了|淹死|沉下去", False),
        (r"噎住|卡住(?:喉咙|嗓子)|吃错药|被车撞|车撞了人|撞倒了?人|被撞倒|烧伤|烫伤得?很重|要生了|羊水破了", False),
        (r"快?叫救护车|急救车|打120|叫120|快送医院|救救", False),
        (r"从(?:楼|梯子|脚手架|楼梯|阳台|窗户|树|房顶|屋顶)[^，。！？]{0,4}(?:掉|摔|跌|滚)下(?:来|去)", False),
        (r"摔了|摔下(?:来|去)|滑倒|站不起来|磕破|晕了|倒下了?|吐血|流血|在流血", True),
        (r"被[^，。！？]{0,4}撞(?:了|倒|伤|飞)|误(?:吃|服|喝)|吃错|喝错|(?:全|都)是血", False),
        (r"夹(?:住|伤|到)了?(?:我家|我们家)?(?:的)?(?:孩子|小孩|娃|老人|人|手|腿|脚|胳膊|头)", False),
        (r"(?:不动了|没反应了?|起不来|爬不起来|动不了|脸(?:都|色)?(?:发)?(?:紫|青)了|嘴唇发紫|快不行了|不行了)", True),
        (r"(?:叫|喊|推|拍)(?:了|他|她|人)*(?:半天|几声|好几声)?(?:也|都)?(?:没反应|不醒|不应|没动静)", False),
    ],
    "trapped": [
        (r"困在|被困|困住|困(?:电梯|人)|关在电梯|关电梯|卡在电梯|电梯里(?:有人|关着人)", False),
        (r"(?:电梯)[^。！？]{0,12}(?:里面|里头|里边|里)(?:还)?(?:有|关着)(?:人|两个人|几个人|老人|孩子|小孩)", False),
        (r"(?:卡|停|悬|坏)在(?:半路|半空|两层|2层|楼层|中间)[^。！？]{0,10}(?:人|里面|我|孩子)", False),
        (r"电梯(?:突然)?(?:往下|下)?(?:掉|坠)(?:下来|下去)?(?:了)?[^。！？]{0,10}(?:人|里面)", False),
        (r"(?:锁|关)在(?:屋|家|房间|卧室|卫生间|厕所|厨房|阳台|楼梯间|车)(?:里|里面|里头)?|反锁在|"
         r"被(?:锁|关)在", False),
        (r"(?:出不来|出不去|打不开门出来)", True),
    ],
    "missing": [
        (r"走丢|走失|失联|失踪|被拐|拐走|抱走了", False),
        (_KIN + r"[^的。！？]{0,12}(?:找不到了?|找不着|不见了|丢了|没了踪影|跑丢|联系不上|没回来|没回家|没到家|"
                r"不知道去哪)", False),
        (r"找不(?:到|着)(?:我|俺)?(?:家)?" + _KIN, False),
        (_KIN + r"[^。！？]{0,14}(?:到现在|一直|还|也)(?:都)?(?:没回来|没回家|没到家|联系不上|不接电话|打不通)", False),
        (r"人不见了|人找不到了|人丢了", False),
    ],
    "fire": [
        (r"(?<!打不)(?<!点不)(?<!打得)着火|起火|失火|火灾|走水了", False),
        (r"冒(?:黑|白|浓|青)?烟(?!囱)|浓烟|(?:全|都)是烟(?![头味盒])|一(?:屋子|楼道|屋)(?:的)?烟(?![头味])|"
         r"(?<![油抽香烤])烟(?:很|好|特别|太)大|烟雾很大|呛得?出不去", False),
        (r"(?:烧|着)起来|烧着了|着了火|火苗|火光|明火|火(?:越来越|好|很|特别|太)大|大火|冒火|火花|爆炸|炸了|"
         r"火烧", False),
        (r"烧焦味[^。！？]{0,8}(?:烟|火)", False),
    ],
    "gas": [
        (r"(?:煤气|燃气|天然气|液化气)[^，。！？费表卡]{0,6}?(?:味|气味)|闻(?:着|起来|到)?(?:像|是)(?:煤气|燃气|天然气)|"
         r"臭鸡蛋味|一股气味|漏气|漏(?:煤|燃|天然|液化)气|"
         r"泄漏|泄露", False),
        (r"(?:煤气|燃气)中毒|一氧化碳|喷气|嘶嘶", False),
        (r"(?:燃气|煤气|天然气|气)(?:管|管道|管子|罐|瓶)[^，。！？]{0,4}(?:断|破|裂|爆|漏)", False),
    ],
    "crime": [
        (r"(?:拿|持|举|提|抄|握)着?(?:把)?(?:刀|菜刀|水果刀|刀子|棍|棒|铁棍|木棍|斧|砖|枪|凶器|锤)|动刀|砍人|捅人|捅了|"
         r"杀人|弄死我|杀了我|要杀|要砍", False),
        (r"在打我|打我|被打|被人打|被(?!电)[^，。！？]{0,3}打(?:了|伤|得)|打人|打得[^，。！？]{0,4}(?:血|不行)|"
         r"见血了|殴打|家暴|持械|打架|打起来了|打成一团|斗殴|互殴", False),
        (r"抢劫|抢(?:了)?(?:我的|她的|他的)?(?:包|手机|钱|孩子)|撬(?:门|锁)|正在撬|还在撬|在撬|闯进|闯入|入室|"
         r"跟踪|尾随|跟着我|猥亵|非礼|绑架|砸(?:我家|我们家|门)|踹门|打110|报警", False),
    ],
    "self-harm": [
        (r"不想活|活不下去|活着(?:没意思|太累|没意义|有什么意思)|寻死|自杀|轻生|寻短见|割腕|上吊|跳河|"
         r"(?:要|想)(?:往下)?跳(?:下去|楼)|往下跳|跳下去|跳楼(?!价)", False),
        (r"(?<!得)(?<!得我)(?<!得人)想死|安眠药|吃了(?:一|整)?(?:整)?瓶|(?:喝|吃)(?:了)?农药|喝药|吞药|结束(?:这一切|生命|自己)|"
         r"了结自己|遗书|对不起所有人|跟我告别|跟大家告别", False),
    ],
}

# Words that, sent alone, ask for help now: an emergency even when the kind is not said.
_GENERIC = re.compile(r"救命|快来人|救人啊|求救|help\s*me|sos\b|emergency")
_ENGLISH: dict[str, str] = {
    "medical": r"\b(?:fell down|fallen|unconscious|not breathing|can'?t breathe|heart attack|bleeding|ambulance|"
               r"collapsed|drowning|electrocuted)\b",
    "fire": r"\b(?:fire|smoke|burning)\b",
    "gas": r"\b(?:gas leak|smell(?:s)? (?:of )?gas|gas smell)\b",
    "trapped": r"\b(?:trapped|stuck in the (?:lift|elevator))\b",
    "missing": r"\b(?:missing (?:child|kid|elder)|lost (?:my )?(?:child|kid|son|daughter))\b",
    "crime": r"\b(?:knife|gun|robbery|attacking|break-?in)\b",
    "self-harm": r"\b(?:kill myself|suicide|want to die)\b",
}

_COMPILED = {k: [(re.compile(p), person) for p, person in ps] for k, ps in _PATTERNS.items()}
_ENGLISH_RE = {k: re.compile(p) for k, p in _ENGLISH.items()}
# one pass over the message first: most messages hold no trigger at all, and then nothing else runs
_ANY = re.compile("|".join(f"(?:{p})" for ps in _PATTERNS.values() for p, _ in ps))
_PERSON_RE = re.compile(_PERSON)
_CLAUSE = re.compile(r"[，,。.！!？?；;\n]")

_NEGATION_BEFORE = re.compile(r"(?:没有|没|不是|并没有|并没|还好没|幸好没|未|别|不会|不用)[^，。！？]{0,2}$")
_PAST = re.compile(r"上个月|上周|上星期|上礼拜|去年|前年|以前|之前|曾经|那次|上次|上回|前几天|前段时间|前阵子|"
                   r"年前|月前|那年|"
                   r"好几年|小时候|当年")
# how often it happens: a complaint about the thing, not a call for help (电梯经常困人)
_HABITUAL = re.compile(r"经常|老是|总是|动不动|三天两头|常常|时常|隔三差五|每次|好几次|多次")
_URGENT = re.compile(r"现在|正在|还在|快|赶紧|马上|救命|刚才|刚刚|到现在|一直|了快|啊|！|!")
_FEAR = re.compile(r"(?<!害)怕|担心|万一|容易|可能会|会不会|迟早|要是|如果|假如|小心|注意|防|预防|避免|以免|隐患|"
                   r"风险|演练|演习|"
                   r"培训|知识|宣传|会$|会[^，。！？]?$|能不能|就会|就要|早晚")
_INFO = re.compile(r"怎么(?:交|办理|登记|预防|领|报名|开户)|在哪(?:里)?(?:领|登记|办|报名|交|买)|培训|演练|年检|安检|"
                   r"什么时候|手环|课|讲座|宣传|登记|开户")
_DONE = re.compile(r"处理好了|解决了|好(?:一)?点了|好多了|好些了|"
                   r"已经好了|修好了|没事了|救出来了|找到了|回来了|灭了|扑灭|已经处理|送医院了?没事")
_HYPERBOLE = re.compile(r"得(?:我|人)?(?:都)?(?:想死|要死|不想活)")
_BLOCKED = re.compile(r"消防通道|隐患|堵|占")


@dataclass
class Emergency:
    kind: str
    evidence: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"kind": self.kind, "evidence": self.evidence}


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    a = max((m.end() for m in _CLAUSE.finditer(text, 0, start)), default=0)
    b = next((m.start() for m in _CLAUSE.finditer(text, end)), len(text))
    return a, b


def _ordinary(text: str, start: int, end: int) -> bool:
    """True when a pattern found at text[start:end] describes no emergency happening now."""
    a, b = _clause_bounds(text, start, end)
    before, after = text[a:start], text[end:b]
    if _NEGATION_BEFORE.search(before):
        return True
    if after.startswith("过") or (re.match(r"[^，。！？]{0,3}过(?:一次|几次|人|好几次)?", after) and "过" in after[:4]):
        return True  # 着过火, 摔过, 困过人: it happened before
    if _PAST.search(text[:end]) and not _URGENT.search(text[a:b]):
        return True
    if _FEAR.search(text[max(a, start - 10) : max(start, end - 2)]):
        return True
    if _HABITUAL.search(text[max(a, start - 8) : start]):
        return True
    if _INFO.search(text[a:b]):
        return True
    if _HYPERBOLE.search(text[max(a, start - 4) : end]):
        return True
    # "消防通道被堵了，着火了怎么进来": a what-if about an ordinary complaint
    return bool(re.match(r"[^，。！？]{0,3}怎么(?!办)", after) and _BLOCKED.search(text))


def detect(text: str) -> Emergency | None:
    """The emergency a canonical message reports, or None; `evidence` are the words that decided."""
    if not text:
        return None
    ascii_text = text.isascii()
    if not ascii_text and not _ANY.search(text) and not _GENERIC.search(text):
        return None
    if _DONE.search(text):
        return None
    found: dict[str, list[str]] = {}
    for kind, patterns in () if ascii_text else _COMPILED.items():
        for rx, needs_person in patterns:
            for m in rx.finditer(text):
                if not m.group(0):
                    continue
                if needs_person and not _has_person(text, m.start(), m.group(0)):
                    continue
                if _ordinary(text, m.start(), m.end()):
                    continue
                if kind == "trapped" and not _PERSON_RE.search(text) and "电梯" not in text:
                    continue  # 车被困在车位里: no one is inside
                found.setdefault(kind, []).append(m.group(0))
    if ascii_text:
        for kind, rx in _ENGLISH_RE.items():
            for m in rx.finditer(text):
                found.setdefault(kind, []).append(m.group(0))
    if not found:
        g = _GENERIC.search(text)
        if g and not _ordinary(text, g.start(), g.end()):
            return Emergency(kind=HELP, evidence=[g.group(0)])
        return None
    kind = next(k for k in PRIORITY if k in found)
    g = _GENERIC.search(text)
    evidence = list(dict.fromkeys(found[kind] + ([g.group(0)] if g else [])))
    return Emergency(kind=kind, evidence=evidence)


def _has_person(text: str, start: int, phrase: str) -> bool:
    """A person is the subject: named before the phrase in the same clause, with no vehicle in between."""
    a, _ = _clause_bounds(text, start, start + len(phrase))
    before = text[max(a, start - 10) : start]
    people = list(_PERSON_RE.finditer(before))
    if not people:
        return False
    between = before[people[-1].end() :]  # from the nearest person to the phrase
    if phrase.startswith("出不") and "车" in text[a:start]:
        return False  # 停车挡着我出不去: a parking complaint
    return not re.search(r"车|电梯|表|灯|门|机|箱|东西", between)
