"""What a message says *about* its complaint words: fixed, denied, or asked about.

Keywords alone cannot tell "电梯坏了" from "电梯修好了，辛苦你们了", "不是漏水，是暖气不热" or
"我上次报的灯修了没". This module finds the spans of a canonical message whose keywords must not open
a case (said to be fixed, said not to be the problem, asked about as an earlier report), so the scorer
can leave them out and report them instead: `resolved_topic`, `negated`, `progress_topic`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from intents.text import canonical

CLAUSE = re.compile(r"[，,。！!？?；;~～…\n]|\s{1,}|(?<=[\u4e00-\u9fff])\.(?=\D)")

# "It is fixed / gone / back": the verb phrases residents use when a problem has ended. 装修好吵 is no repair done.
_RESOLVED = re.compile(
    r"(?<!装)修好了?|(?<!装)修好啦|已(?:经)?修(?:好|复|了)|维修好了|已维修|恢复(?:了|正常)|已恢复|解决了|已解决|处理好了|处理完了|"
    r"搞定了|弄好了|清理(?:干净)?了|清理完了|打扫干净了|清走了|收走了|拉走了|运走了|来水了|水来了|有水了|"
    r"来电了|电来了|有电了|来气了|通气了|不吵了|安静了|不响了|不漏了|不臭了|不堵了|没味了|能用了|好使了|"
    r"挪走了|开走了|移走了|拆(?:掉|除)?了|盖上了|补上了|换好了|装好了|关小了|好多了|管好了"
)
# Generic endings that only mean "fixed" after a thing named in the same clause: 灯亮了, 暖气热了, 下水道通了.
_RESOLVED_WEAK = re.compile(r"(?:好了|亮了|热了|通了|正常了|不冷了|不黑了)")
_PROBLEM = (
    r"(?:噪音|噪声|声音|动静|吵闹|臭味|味道|味儿|异味|气味|烟味|油烟|垃圾(?![桶箱站])|苍蝇|蚊子|老鼠|蟑螂|积水|"
    r"漏水|渗水|狗屎|杂物|小广告|违建|棚子|乱停|僵尸车|广场舞|音乐|狗叫|问题|毛病|故障)"
)
_GONE = re.compile(_PROBLEM + r"[^，。！？]{0,3}(?:没有?了|消失了|不见了|没有啦|没啦)|(?:没有|没)" + _PROBLEM + r"了")
_THANKS = re.compile(r"谢谢|感谢|多谢|辛苦了|辛苦你们|辛苦大家|点赞|效率(?:真|很|太|好)高|给力|太好了|thank")
_NOT_BEFORE = re.compile(r"(?:还没|没有|没|未|不|别|还不|没能|说|说是|号称|显示|以为)(?:已经|已|都)?$")
_QUESTION_AFTER = re.compile(r"^(?:吗|么|嘛|没|没有|不|呢|\?|？)")
_QUESTION_BEFORE = re.compile(r"什么时候|啥时候|何时|能不能|多久|几时|啥时|能否|是不是|有没有")
_RELAPSE_AFTER = re.compile(r"^[^。！？]{0,4}(?:又|没(?:几|两|一)天|不到(?:几|两|一)天|其实|实际上|根本)")

# "不是X，是Y": X is not the problem.
_NOT_X_BUT_Y = re.compile(
    r"(?<!是)(?<!还)(?:并不是|并非|不是说|不是)([^，。！？]{0,14}?)(?:的问题|的事)?[，, ]*"
    r"(?:而是|就是|我是|只是|主要是|是)"
)

# Asking about an earlier report: a reference to it and a question about how it is going.
_EARLIER = re.compile(
    r"(?:我|俺|咱|上次|上回|之前|前几天|前两天|前天|昨天|上周|上星期|上礼拜|上个月|前阵子|那天)"
    r"(?:的|们)?[^，。！？]{0,5}?(?:报修|报|反映|投诉|提|说|打电话)(?:的|过|了)|"
    r"工单|单号|(?:上次|上回|之前)那个|(?:我|俺)(?:的)?那个(?:投诉|事|工单|报修|问题)|"
    r"(?:报|反映|投诉|报修)了(?:一|两|三|四|五|几|好几|半|1|2|3)?个?(?:天|周|星期|礼拜|月)"
)
_HOW_IS_IT = re.compile(
    r"(?:修|处理|解决|拆|清|弄|管|办|来|回复|答复|落实)(?:好)?了?(?:没有?|吗|么|没呢)|(?:怎么样|咋样|如何)了|"
    r"有(?:结果|进展|回音|回复|人管|消息|下文)了?吗|什么状态|到哪一?步|进展|进度|"
    r"(?:咋|怎么|为啥|为什么)(?:还|一直|到现在)(?:都)?没|还没(?:有)?人?(?:来|修|处理|管|回复|解决)|"
    r"到现在(?:都|还)?没|什么时候(?:来|能)?(?:修|处理|解决|弄)|有人管了?吗"
)
_PROGRESS_ALONE = re.compile(r"进度|进展|工单|单号|到哪一?步|处理得怎么样|办得怎么样|有结果了吗")
# Taking a report back ("撤销刚才那个工单"): it names the report but asks nothing about how it is going. Said as
# the resident's own request: "低保被取消了", "公交站取消了", "快递发错了" are complaints, not take-backs.
_TAKE_BACK = re.compile(
    r"撤销|撤回|撤单|作废|(?:工单|投诉|报修|单子|那个|这个|\d)撤了|撤了吧|撤掉|"
    r"取消(?:工单|投诉|报修|反映|诉求|刚才|刚刚|这个|那个|吧|掉|一下|LL)|(?:帮我|给我|请|我要|我想|要|想)取消|^取消[。!！]?$|"
    r"不用(?:再)?(?:修|处理|管|来|麻烦|上门)了|不需要(?:再)?(?:处理|修|来|上门)|不(?:投诉|反映|报修)了|不用了|^算了|"
    r"(?:我|刚才|刚刚|不小心)(?:发|报|点)错|(?:那个|刚才的?|刚刚的?)不算"
)


# A never-mind that turns into the matter ("算了 我还是说吧 楼上…", "算了，还是跟你们反映一下吧", "唉算了 说吧"): the
# 算了 drops the hesitation, not a report; what follows is the matter. Telling someone else instead ("算了 我还是
# 跟物业说吧") is no such turn.
_SAY_AFTER_ALL = re.compile(
    r"^(?:哎|唉|嗨|哎呀|唉呀)?[，,\s]*(?:算了)+(?:吧|啊)?[，,。.\s]*"
    r"(?:[^。！？!?]{0,8}?还是(?:我)?|(?:我|俺)?(?:直接|就)?)"
    r"(?:要|得|想|来)?(?:跟|和|给|向)?(?:你们|您|你|社区)?(?:说|讲|反映|反应|投诉|举报|报一下|说一下)"
    r"(?:一下|一哈|下|说)?(?:吧|了吧|呗|啊)?(?=[，,。.！!\s]|$)"
)


def takes_back(text: str) -> bool:
    """The resident asks to take back a report (a draft or a case), in their own words; a never-mind that turns
    into the matter ("算了 我还是说吧 …") is not one."""
    return _TAKE_BACK.search(_SAY_AFTER_ALL.sub("", text.strip(), count=1)) is not None


# One yes, said once or over again ("中中中 就这样", "嗯嗯 对", "可以可以"): a message of nothing but these is a yes.
_YES = (
    r"(?:(?:确认|确定)(?:提交|发送|上报|无误)?|提交|发送|上报|好的?|好滴|好嘞|好咧|好哒|好哩|对的?|没错|是的?|可以|行|中|"
    r"同意|没问题|没毛病|妥|妥妥的|嗯呐|嗯|恩|ok|okay|yes|就这样|就这么着|就这么办|就这吧|就是这样|就是这个|这样就行|"
    r"这样行)"
    r"(?:吧|啊|呀|哈|了|的|呗|哦|噢|嘛|嘞|咧)?"
)
_AGREES = re.compile(rf"^(?:{_YES})+$|^1$")
_AGREE_NOISE = re.compile(r"[^\w]+|_")


def _bare(text: str) -> str:
    """The message as the checks below read it: canonical (full-width, traditional, case), no punctuation,
    spaces or emoji."""
    return _AGREE_NOISE.sub("", canonical(text))


def agrees(text: str) -> bool:
    """A bare yes to "确认提交吗？" typed instead of pressed (确认, 提交, 好的, 可以, 1, Henan 中, 好嘞, 同意 …): the
    whole message says nothing but that, so it is no words to add to the complaint ("好的谢谢" is thanks,
    "中不中" a question, "11" no yes)."""
    return _AGREES.match(_bare(text)) is not None


# "I want to report something" and nothing yet about what: "俺想反映个事", "我要投诉", "跟你们说个事".
_PREAMBLE = re.compile(
    r"^(?:(?:你好|您好|喂+|哎|唉|那个|就是)(?:啊|呀)?)*(?:俺|我|咱|我们|俺们|咱们)?(?:这|这边|这里)?"
    r"(?:(?:有|还有)(?:一?个|一件|件|点)(?:事|事情|问题|情况)(?:儿)?(?:想|要)?"
    r"(?:反映|投诉|说|说说|问问|问一下|反映一下|跟你们说|和你们说)?(?:一下)?|"
    r"(?:想|要|得|来|需要|想要)?(?:跟|和|给|向)?(?:你们|您|你|社区)?"
    r"(?:反映|反应|投诉|举报|说|讲|求助|咨询)(?:一下|一哈|下)?(?:一?个|一件|件|点|些)?"
    r"(?:事|事情|问题|情况|事儿)?)"
    r"(?:啊|呀|哈|吧|呢|哦|嗯)*$"
)


def preamble(text: str) -> bool:
    """The resident says they have something to report and not yet what ("俺想反映个事", "我要投诉"): no words of a
    complaint, so no draft; the next message is the complaint."""
    bare = _bare(text)
    if bare and not _SAY_AFTER_ALL.sub("", text.strip(), count=1).strip(" ，,。.！!"):  # "算了 我还是说吧"
        return True
    return bool(bare) and _PREAMBLE.match(bare) is not None and bare not in ("说", "讲", "我", "俺")


# A message of nothing but a hail or a courtesy ("在不在", "有人吗", "麻烦你们了"): matched whole, never as words
# inside a longer message ("敲门没人应 屋里有人吗" may be an emergency, not a hello).
_HAIL = r"(?:在不在|在没在|在吗|在么|在线吗|有人吗|有人么|有人没有?|有人在吗|有人在没|人呢|喂+|你好|您好)"
_COURTESY = r"(?:麻烦(?:你们|您|你|大家)了|辛苦(?:你们|您|大家)?了|谢谢(?:你们|您|大家)?|多谢|感谢)"
_PARTICLE = r"(?:啊|呀|哈|呢|嘛|哦|喽|啦)*"
_HAILS = re.compile(rf"^(?:{_HAIL}{_PARTICLE})+$")
_COURTESIES = re.compile(rf"^(?:(?:{_HAIL}|{_COURTESY}){_PARTICLE})*{_COURTESY}{_PARTICLE}(?:(?:{_HAIL}|{_COURTESY})"
                         rf"{_PARTICLE})*$")


def hails(text: str) -> bool:
    """Only "are you there?" ("在不在", "有人吗", "喂 在吗"): answered as a greeting."""
    return _HAILS.match(_bare(text)) is not None


def courtesy(text: str) -> bool:
    """Only thanks for the trouble ("麻烦你们了", "辛苦了 谢谢"): answered with 不客气."""
    return _COURTESIES.match(_bare(text)) is not None


# Thanks or praise in words the greeting reply should thank for ("麻烦你们了", "师傅修得很好", "服务真好").
_PRAISE = re.compile(
    r"谢|辛苦|麻烦(?:你们|您|你|大家)了|劳烦|有劳|(?:修|弄|处理|办|干)得(?:很|挺|真|特别|非常|蛮|太)好|"
    r"(?:师傅|服务|态度)(?:很|挺|真|特别|非常|蛮|太)(?:好|棒|负责|热情)|给力|点个?赞|好样的|太好了"
)


def thanks(text: str) -> bool:
    """Thanks or praise (to answer with 不客气, not with a hello)."""
    return _PRAISE.search(canonical(text)) is not None


# Asking whether an earlier problem has been dealt with, in a question form: "电梯修了没", "灯修好了吗".
_ASKS_DONE = re.compile(
    r"(?:修|处理|解决|弄|管|来|清|拆|办)(?:好|完)?了?(?:没有?|吗|么|没呢)|(?:怎么样|咋样|如何)了|"
    r"有(?:结果|进展|回音|回复|消息|下文)了?(?:吗|没有?)|(?:啥|什么)时候(?:来|能|才)?(?:修|处理|解决|弄|来)"
)


def asks_done(text: str) -> bool:
    """A question whether a problem has been fixed yet ("电梯修了没"): about the resident's open case of that
    kind when there is one. Not a take-back."""
    t = canonical(text)
    return _ASKS_DONE.search(t) is not None and not takes_back(t)


_WISH_FOLLOWED = re.compile(r"认领了?(?:吗|没|么|不)|有人认领|(?:实现|完成|兑现)了?(?:吗|没|么)|(?:怎么样|咋样|如何)了|"
                            r"(?:我|俺)(?:的|许的|发的|上次的)(?:那个)?(?:微)?心愿")
_WISH = re.compile(r"微心愿|许(?:个|一个|了个)?(?:小)?(?:心)?愿|(?:有|说|提)(?:个|一个)?(?:小)?心愿")
_REDEEM = re.compile(r"(?:换|兑换|兑|领|用积分换)(?:个|一个|一块|一条|一瓶|一袋|点|些)?(.{1,8})")


_BILLS = r"(?:电费|水费|燃气费|煤气费|天然气费|气费|暖气费|取暖费|供暖费|采暖费|物业费|话费|有线电视费|卫生费|垃圾费)"
_HOW = r"(?:咋|怎么|怎样|如何|在哪|去哪|哪里|哪儿|上哪)(?:儿)?(?:个)?(?:交|缴|充|付)"
_PAY = re.compile(_BILLS + r"[^。！？]{0,6}?" + _HOW + "|" + _HOW + r"[^。！？]{0,4}?" + _BILLS)


def asks_how_to_pay(text: str) -> bool:
    """A question how or where to pay a household bill ("电费咋交", "燃气费在哪交"): a how-to, not a complaint."""
    return _PAY.search(canonical(text)) is not None


def asks_wish(text: str) -> bool:
    """The resident wants to post a micro-wish (微心愿: "我想许个微心愿", "俺有个小心愿"); not one who asks how a wish
    already posted is going ("我的微心愿有人认领了吗")."""
    t = canonical(text)
    return _WISH.search(t) is not None and _WISH_FOLLOWED.search(t) is None


def redeemed(text: str) -> str | None:
    """What the resident wants to get for points ("我要换毛巾" → "毛巾"), for the caller to look up in the shop;
    None when nothing is asked for in exchange."""
    match = _REDEEM.search(canonical(text))
    return match.group(1).strip("。，！？!?,. 吧呀啊") or None if match else None


# 回访 answered in words: 不满意 before 基本满意 before 满意 (each holds the next).
_RATINGS = (
    ("u", re.compile(r"不(?:太|大|是很|怎么|咋|很)?满意|差评|(?:很|太|真)差|不咋样|不中|不行|"
                     r"没(?:有)?(?:解决|修好|弄好)")),
    ("b", re.compile(r"基本满意|比较满意|还行|还可以|还中|还凑合|凑合|一般|马马虎虎|过得去|差不多|还好")),
    ("s", re.compile(r"(?:很|非常|特别|挺|蛮|十分|相当|都)?满意|好评|(?:很|挺|非常|特别|真)(?:好|棒)|不错|满分|"
                     r"没得说")),
)
_RATING_LEAD = re.compile(r"^(?:嗯+|哦+|俺|我|我们|俺们|还是|总的来说|总体|整体|说实话|老实说|感觉|觉得)*")


# help come after an emergency: 救护车到了 谢谢, 消防车来了, 120到了, 警察来了, 人已经送医院了, 火灭了
_RESPONDER = (r"(?:救护车|急救车|急救|120|消防车|消防员|消防队|消防|119|警察|民警|警车|派出所|110|医生|护士|大夫|"
              r"物业|保安|电工|网格员|社区的?人|值班的?人|工作人员|维修的?人?|电梯公司|救援|燃气公司|抢修的?人?)")
HELP_CAME = re.compile(
    _RESPONDER + r".{0,6}?(?:到了|来了|已到|到场|赶到|在了|过来了|上来了|进来了|把人.{0,2}(?:拉|接|送|带|抬)走|"
    r"(?:拉|接|带|抬)走了|送.{0,4}医院)"
    r"|(?:已经|刚)?送(?:去|到|进)?.{0,4}医院了|送医了|火.{0,3}(?:灭了|扑灭了)|(?:人|老人|孩子|我[妈爸]).{0,3}救出来了")
NOT_YET = re.compile(r"(?:没|未|不|还没有?)(?:有)?.{0,2}(?:到|来|走|灭|救)|了没|吗[？?]?|[？?]")


def says_help_came(text: str) -> bool:
    """Whether the words report that help arrived (救护车到了, 消防车来了, 送医院了), not that it is awaited
    (救护车怎么还没来, 消防车来了吗)."""
    return bool(HELP_CAME.search(text)) and not NOT_YET.search(text)


def rating(text: str) -> str | None:
    """A rating typed to 回访 ("满意", "还行吧 就是慢了点", "不满意 没人来"): "s", "b" or "u" as the buttons
    say, when the message begins with it (after 俺/嗯/说实话 …); None otherwise ("电梯又坏了" is a complaint)."""
    bare = _bare(text)
    lead = _RATING_LEAD.match(bare)
    rest = bare[lead.end():] if lead else bare
    for code, rx in _RATINGS:
        m = rx.match(rest)
        if m is not None:
            return code
    return None


# The category a "done" word names when the clause names nothing else.
_MARKER_TOPIC = (
    (re.compile(r"来水|水来|有水|来电|电来|有电|来气|通气|热了|不冷"), "utilities"),
    (re.compile(r"不吵|安静|不响|关小"), "noise"),
    (re.compile(r"清理|清走|收走|拉走|运走|打扫|不臭|没味"), "sanitation"),
    (re.compile(r"挪走|开走|移走"), "parking"),
    (re.compile(r"拆"), "construction"),
    (re.compile(r"修|不漏|不堵|通了|亮了|盖上|补上|换好|装好|能用|好使"), "repair"),
)


@dataclass
class Span:
    start: int
    end: int
    why: str  # "resolved" | "negated" | "progress" | "thanks" | "addressee"


@dataclass
class Discourse:
    spans: list[Span] = field(default_factory=list)
    thanks: bool = False
    progress: bool = False
    resolved_markers: list[str] = field(default_factory=list)
    progress_markers: list[str] = field(default_factory=list)  # the words that asked about an earlier report

    @property
    def resolved(self) -> bool:
        return bool(self.resolved_markers)

    def why(self, start: int, end: int) -> str | None:
        """Why a keyword at text[start:end] does not count, or None when it does."""
        for s in self.spans:
            if s.start <= start and end <= s.end:
                return s.why
        return None

    def marker_topic(self) -> str | None:
        for m in self.resolved_markers:
            for rx, topic in _MARKER_TOPIC:
                if rx.search(m):
                    return topic
        return None


# "@物业 3栋电梯又停了": whom a group message is addressed to (WeChat ends a mention with a space), not what it is about
_ADDRESSEE = re.compile(r"@[^\s@]{1,10}(?=\s|$)")
# "网格员代报：12号楼王阿姨反映…", "我是网格员 帮5号楼…": the grid worker is the one writing, not the one asked for
_REPORTER = re.compile(r"网格员(?=代报|代为|代|替|帮|巡查|走访|入户|上报)|(?<=我是)(?:本楼|这片的|咱们的|社区)?网格员")


def clauses(text: str) -> list[tuple[int, int]]:
    """(start, end) of each clause: split at punctuation and spaces."""
    out: list[tuple[int, int]] = []
    pos = 0
    for m in CLAUSE.finditer(text):
        if m.start() > pos:
            out.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        out.append((pos, len(text)))
    return out


def _clause_of(bounds: list[tuple[int, int]], i: int) -> tuple[int, int]:
    for a, b in bounds:
        if a <= i < b:
            return a, b
    return (0, 0)


def analyse(text: str, named: set[int] | None = None) -> Discourse:
    """Spans of `text` (canonical) whose complaint words are resolved, denied or asked about.

    `named` holds the positions where a keyword starts; weak "done" endings (灯亮了) count only after one.
    """
    d = Discourse(thanks=bool(_THANKS.search(text)))
    bounds = clauses(text)
    if "@" in text:
        d.spans += [Span(m.start(), m.end(), "addressee") for m in _ADDRESSEE.finditer(text)]
    if "网格员" in text:
        d.spans += [Span(m.start(), m.end(), "reporter") for m in _REPORTER.finditer(text)]
    if d.thanks:
        for m in _THANKS.finditer(text):  # 谢谢网格员, 谢谢物业: whom they thank, not what they ask for
            _, b = _clause_of(bounds, m.start())
            if 0 < b - m.end() <= 6:
                d.spans.append(Span(m.end(), b, "thanks"))
    for m in _NOT_X_BUT_Y.finditer(text):
        if m.group(1):
            d.spans.append(Span(m.start(1), m.end(1), "negated"))
    for rx, weak in ((_RESOLVED, False), (_RESOLVED_WEAK, True), (_GONE, False)):
        for m in rx.finditer(text):
            a, b = _clause_of(bounds, m.start())
            before, after = text[a : m.start()], text[m.end() : b]
            if rx is not _GONE and _NOT_BEFORE.search(before[-3:]):
                continue  # 还没修好, 说修好了
            if _QUESTION_AFTER.match(after) or _QUESTION_BEFORE.search(before):
                continue  # 修好了吗, 什么时候能修好
            if _RELAPSE_AFTER.match(text[m.end() :]):
                continue  # 修好了又坏了
            if weak and not (named and any(a <= i < m.start() for i in named)):
                continue
            d.resolved_markers.append(m.group(0))
            d.spans.append(Span(a, b, "resolved"))
    if ((_EARLIER.search(text) and _HOW_IS_IT.search(text)) or _PROGRESS_ALONE.search(text)) \
            and not _TAKE_BACK.search(text):
        d.progress = True
        for rx in (_EARLIER, _HOW_IS_IT, _PROGRESS_ALONE):
            d.progress_markers += [m.group(0) for m in rx.finditer(text)]
        d.progress_markers = list(dict.fromkeys(d.progress_markers))
        for a, b in bounds:
            piece = text[a:b]
            if _EARLIER.search(piece) or _HOW_IS_IT.search(piece) or _PROGRESS_ALONE.search(piece):
                d.spans.append(Span(a, b, "progress"))
    return d
