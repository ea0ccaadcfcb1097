"""Short messages that lean on what came before: a topic with no matter yet ("调解", "报修"), a place alone
("我在3号楼"), a place corrected just after filing ("不对 是4号楼"), and a bare "never mind" ("算了", "不换了").

Each is matched on the whole message (canonical, without punctuation or spaces), never as words inside a longer one:
"报修" alone says only which kind of help is wanted, "报修 3号楼电梯坏了" says the matter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from intents.discourse import agrees, hails, preamble
from intents.places import Place, read_place
from intents.text import canonical

_NOISE = re.compile(r"[^\w]+|_")
_LEAD = r"(?:(?:你好|您好|喂+|哎|那个)(?:啊|呀)?)*(?:我|俺|咱|我们|俺们|咱们)?(?:这边|这里)?(?:想|要|想要|需要|得|来)?"
_TAIL = r"(?:一下|一哈|下)?(?:的事|的事情|的问题|事情|问题|的)?(?:啊|呀|哈|吧|呢|哦|嗯)*"


def _bare(text: str) -> str:
    return _NOISE.sub("", canonical(text))


@dataclass(frozen=True)
class Topic:
    """A topic said with no matter yet: ``hint`` is the complaint category it points to, None when it names no kind
    (投诉, 反映 could be about anything)."""

    word: str
    hint: str | None


# The words that name only the kind of help asked for, and the category each points to. A word that names what is
# wrong ("噪音", "漏水", "停车") is a matter, however short: with a place the desk can act on it, so it is not here.
_TOPICS: dict[str, str | None] = {
    "调解": "dispute", "人民调解": "dispute", "纠纷": "dispute", "矛盾纠纷": "dispute", "邻里纠纷": "dispute",
    "报修": "repair", "报个修": "repair", "维修": "repair", "修理": "repair", "设施报修": "repair", "修东西": "repair",
    "物业": "property", "物业管理": "property", "物业服务": "property",
    "环境卫生": "sanitation", "法律咨询": "legal", "法律援助": "legal",
    "投诉": None, "举报": None, "反映": None, "反应": None, "求助": None, "报事": None,
}
_VERBS = r"(?:申请|找人|请人|找你们|请你们|麻烦你们|帮忙|帮我|给我)?"
_TOPIC = re.compile(rf"^{_LEAD}{_VERBS}(?P<word>" + "|".join(sorted(map(re.escape, _TOPICS), key=len, reverse=True))
                    + rf")(?:一?个)?{_TAIL}$")
# "投诉物业", "反映物业的问题": a topic word naming no kind, then one that does
_ABOUT = re.compile(rf"^{_LEAD}(?:投诉|举报|反映|反应)(?:一下|下)?(?:你们|一下)?(?P<word>物业|环境卫生){_TAIL}$")


def topic_only(text: str) -> Topic | None:
    """The topic a message names when it says nothing else ("调解", "我要报修", "投诉物业"); None: more (or other)
    words than a topic."""
    bare = _bare(text)
    if not bare or len(bare) > 16:
        return None
    match = _ABOUT.match(bare) or _TOPIC.match(bare)
    if match is None:
        return None
    word = match.group("word")
    return Topic(word, _TOPICS[word])


# What may stand around a place said alone: "我在3号楼", "我是3号楼的", "是3号楼", "3号楼这边", "我住3号楼2单元".
_PLACE_FRAME = re.compile(r"^(?:我们?|俺|咱)?(?:家|家里)?(?:就)?(?:住在?|在|是)?(?:在)?$")
_PLACE_AFTER = re.compile(r"^(?:这边|这儿|这里|那边|那儿)?(?:的)?(?:住户|居民)?(?:啊|呀|哈|吧|呢|哦|嗯)*$")


def place_alone(text: str) -> Place | None:
    """The place of a message that says only where ("3号楼", "我在3号楼", "我是5号楼2单元的"), for the matter that
    comes next; None when the words say more than a place."""
    bare = _bare(text)
    place = read_place(bare) if bare and len(bare) <= 20 else None
    if place is None:
        return place_introduced(text)
    start, end = place.span
    if _PLACE_FRAME.match(bare[:start]) is None or _PLACE_AFTER.match(bare[end:]) is None or _spread(place, bare):
        return place_introduced(text)  # "你好 我是8号楼的老张 想反映个事"
    return place


# A greeting that says who and where the writer is before the matter: "你好 我是8号楼的老张 想反映个事",
# "您好，俺住3栋2单元，有个事跟你们说", "喂 我是5号楼的住户". The place is theirs for the matter that follows.
_GREET = r"(?:(?:你好|您好|喂+|哎|唉|那个|打扰一下|打扰了|同志|领导)(?:啊|呀|哈)?)*"
_INTRO = re.compile(rf"^{_GREET}(?:我|俺|咱)(?:们)?(?:家)?(?:是|住|住在|在|就住在?|家住)(?:在)?")
_WHO = re.compile(r"^(?:的)?(?:(?:老|小)[\u4e00-\u9fff](?:头)?|"
                  r"[\u4e00-\u9fff]{1,2}(?:大爷|大妈|大娘|阿姨|奶奶|爷爷|师傅|大姐|大哥|老师|婶|叔)|(?:一个|一位)?(?:老)?(?:住户|居民|业主|租户))?")


def place_introduced(text: str) -> Place | None:
    """The place a greeting or a "something to report" gives as where the writer is, with nothing of the matter
    yet ("你好 我是8号楼的老张 想反映个事", "您好 俺住3栋2单元 有个事跟你们说"): kept for the matter that comes
    next. None: no such introduction, or words of a matter in it."""
    bare = _bare(text)
    intro = _INTRO.match(bare) if bare and len(bare) <= 30 else None
    if intro is None:
        return None
    after = bare[intro.end():]
    place = read_place(after)
    if place is None or place.span[0] != 0 or _spread(place, after):
        return None
    rest = after[place.span[1]:]
    rest = rest[_WHO.match(rest).end():]  # type: ignore[union-attr]
    rest = re.sub(r"^(?:这边|这儿|这里|那边|那儿|的)*", "", rest)
    if rest and not (preamble(rest) or hails(rest) or re.fullmatch(r"(?:啊|呀|哈|吧|呢|哦|嗯)+", rest)):
        return None
    return place


def _spread(place: Place, said: str) -> bool:
    """A place read across other words ("楼道灯又坏了5号楼": the spot at the start, the building at the end) is no
    place said alone: its span holds more than the place's own parts and a joining word or two."""
    left = said[place.span[0]:place.span[1]]
    if place.building and place.building not in left:  # said another way: "3栋", "三号楼", "4好楼" (voice typing)
        left = _BUILDING_SAID.sub("", left, count=1)
    for part in (place.building, place.unit, place.floor, place.room, place.spot):
        if part:
            left = left.replace(part, "", 1)
    rest = _bare(left)
    return len(rest) > 2 or _JOINING.fullmatch(rest) is None  # "电梯坏了5号楼": 坏了 is a matter, no joining word


_JOINING = re.compile(r"[的之里内边那这个室号楼层栋幢座门口#]*|单元")
_BUILDING_SAID = re.compile(r"(?:第)?[0-9零〇一二两三四五六七八九十百]+\s*(?:号楼|好楼|号|栋|幢|座|楼)")


# "不对", "说错了", "地址写错了", "搞错了", "不是3号楼": the place just given is being corrected
_WRONG = (r"(?:不对|错了|说错了|写错了|打错了|填错了|弄错了|搞错了|记错了|发错了|"
          r"(?:地址|地点|位置|楼号|门牌)(?:写|填|说|打|弄|搞|发)?错了|不是(?:这|那)?个?(?:地方|楼|地址))")
_CORRECTION = re.compile(
    rf"^(?:(?:哎呀?|哎哟|唉|啊|哦+|噢+|那个|对不起|不好意思|抱歉)[，,。.!！\s]*)*"
    rf"(?:(?:我|俺|咱)?(?:刚才|刚刚)?(?:的|那个)?(?:还是|又)?{_WRONG}(?:了)?[，,。.!！\s]*)+"  # "不对不对我刚才说错了"
    r"(?:应该|其实|实际上|实际)?(?:是在|是|在)?(?P<rest>.+)$")
_CORRECT_BEFORE = re.compile(r"^(?:是|在|应该是|其实是)?(?P<rest>.+?)(?:才对|，?不是.+)$")
# "不是3号楼，是4号楼", "不是3号楼 应该是4号楼", "不在东门是在西门": the wrong place named first, then the right one
_NOT_BUT = re.compile(r"^(?:哎呀?|唉|哦|噢)?[，,\s]*(?:不是|不在)(?P<wrong>[^，,。\s]{1,15}?)[，,。.!！\s]*"
                      r"(?:而是|应该是|其实是|是在|是|在)(?P<rest>.+)$")


def place_correction(text: str) -> Place | None:
    """The place a message puts right ("不对 是4号楼", "地址写错了，是5号楼2单元", "说错了 是东门",
    "是4号楼，不是3号楼"); None: no correction, or no place in it."""
    said = canonical(text).strip()
    if not said or len(said) > 40:
        return None
    match = _CORRECTION.match(said) or _not_but(said) or _CORRECT_BEFORE.match(said)
    if match is None:
        return None
    rest = match.group("rest")
    head = re.split(r"[，,]?不是", rest)[0]  # "4号楼不是3号楼": the first place is the right one
    place = read_place(head)
    if place is None or _spread(place, head):
        return None
    leftover = _bare(head[: place.span[0]] + head[place.span[1]:])
    if re.fullmatch(r"(?:是|在|的|这边|那边|才对|啊|呀|哈|吧|呢|哦|嗯)*", leftover) is None:
        return None  # more than a place: "不对 是4号楼的电梯也坏了" is a matter of its own
    return place


def _not_but(said: str) -> re.Match[str] | None:
    """"不是3号楼 是4号楼": a correction only when what it says is not is a place too ("不是我家 是楼上" is not)."""
    match = _NOT_BUT.match(said)
    return match if match is not None and read_place(match.group("wrong")) is not None else None


# "算了", "不换了", "那算了吧", "不用了 谢谢": the resident lets it go; nothing is asked of the bot
_NEVER_MIND = re.compile(
    r"^(?:(?:那|那就|哦|噢|嗯|好|好吧|好的|行|行吧|唉|哎)(?:啊|呀)?)*"
    r"(?:(?:算了|算啦|不用了|不用啦|不要了|不需要了?|不换了|不兑了|不兑换了|不撤了|不撤回了|不撤销了|不退了|不弄了|不办了|不问了|没事了|没事|没啥事了?|"
    r"不麻烦了|不麻烦你们了)(?:吧|啊|呀|哈|了)*)+"
    r"(?:谢谢(?:你们|您|你|了)?|多谢|辛苦了)*$")


# "不换了", "不用改了", "就这样吧", "就这个": to a draft shown with 换一类, the resident keeps it as it is
_AS_IS = re.compile(r"^(?:(?:那|那就|哦|噢|嗯|好|好吧|好的|行|行吧)(?:啊|呀)?)*"
                    r"(?:不换了?|不用换了?|不改了?|不用改了?|不变了?|就这样|就这么着|就这个|就这类|就它|这样就行|这样就好|"
                    r"这样可以)(?:吧|啊|呀|哈|了|的)*(?:谢谢(?:你们|您|你|了)?)*$")


def keeps_as_is(text: str) -> bool:
    """Only "keep it as it is" ("不换了", "不用改了", "就这样吧"): said to a draft, no words of its matter."""
    bare = _bare(text)
    return bool(bare) and _AS_IS.match(bare) is not None


def never_mind(text: str) -> bool:
    """Only a "never mind" ("算了", "算了算了", "不换了", "那算了吧", "不用了 谢谢"): nothing to file and nothing to
    take back when no draft or question is open."""
    bare = _bare(text)
    return bool(bare) and _NEVER_MIND.match(bare) is not None


# A yes that says 确认/提交 in so many words ("确认", "确认提交", "确定", "提交吧"): typed again after the case is in,
# it is the second tap of the button; "好的", "可以" alone are thanks or talk, not a second 确认.
_CONFIRM_WORD = re.compile(r"确认|确定|提交|上报")


def confirms(text: str) -> bool:
    """Only a 确认 in words ("确认", "确认提交", "确定确定", "提交吧"): a bare yes naming the confirm itself."""
    return agrees(text) and _CONFIRM_WORD.search(_bare(text)) is not None


__all__ = ["Topic", "confirms", "keeps_as_is", "never_mind", "place_alone", "place_correction", "place_introduced",
           "topic_only"]
