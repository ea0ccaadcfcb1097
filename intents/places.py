"""Where a message says something is: text understanding, so it lives beside the intents (pure, no I/O).

Residents name places the way they talk: "九号楼二单元六零一", "9-2-601", "小区东门口", "幸福路与和平街交叉口",
often inside one unpunctuated voice-to-text run-on that also names the complaint ("楼道里的路灯坏了"). This
reader finds every place WHOLE and nothing else, in two steps:

1. one regex cuts the text into tokens: buildings (9号楼, 9栋, 九号楼, A座), units, floors, rooms, the dash
   forms (9-2-601, 2-601), numbered and named gates (1号门, 东门口), named areas (地下车库, 菜市场, 楼道), sides
   (北侧, 旁边) and road suffixes (路, 街, 大道), whose name is then read backwards ("在幸福路上" → 幸福路);
2. a small grammar joins adjacent tokens into places: building → unit → floor → room, then spots and sides
   ("9号楼" + "2单元" + "601"; "3号楼" + "北侧"; "菜市场" + "门口"; "幸福路" + "与" + "和平街" + "交叉口").
   A bare number is a room only right after a unit, floor or building; a side never stands alone; 楼上, 楼下,
   隔壁 alone name the neighbour, not a place (the caller's fallback, the resident's home, is the place).

Several places: the main one (``read_place``, ``named_place``) is the first where the problem is: a home address
("我住7号楼，东门口…") and catch-alls ("小区") give way, and a place in an unnamed building ("电梯坏了，在3号楼")
is completed by the address named elsewhere. ``read_places`` gives them all.

Numbers come out in the community file's spelling ("9栋", "九号楼", "９幢" → "9号楼"; "六零一" → "601"), so the
building doubles as the key of the grid lookup (``building_key``, ``match_building``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

MAX_CHARS = 1000
"""Places are named early; a long paste is read only this far (keeps the cost bounded)."""


@dataclass(frozen=True, slots=True)
class Place:
    """One place read from a message; ``text`` is the display form, ``span`` its extent in the input."""

    building: str | None
    unit: str | None
    floor: str | None
    room: str | None
    spot: str | None
    text: str
    span: tuple[int, int]

    @property
    def in_building(self) -> bool:
        """Inside or at a building the text does not name (楼道, 电梯, 2单元, 6层, 601室): the resident's own."""
        return self.building is None and (self.spot is None or self.spot in _RELATIVE)


# ---------------------------------------------------------------- normalisation (length-preserving)

_FOLD_MAP = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９＃－"}  # full-width → ASCII
_FOLD_MAP.update({c: c - 0xFEE0 for c in range(ord("Ａ"), ord("Ｚ") + 1)})
_FOLD_MAP.update({c: c - 0xFEE0 - 32 for c in range(ord("ａ"), ord("ｚ") + 1)})  # and upper case: "b1" is "B1"
_FOLD_MAP.update({c: c - 32 for c in range(ord("a"), ord("z") + 1)})
_FOLD_MAP.update({0x3000: 0x20, 0x2014: 0x2D, 0x2013: 0x2D, 0x2212: 0x2D, 0x2010: 0x2D, 0x2011: 0x2D})
_FOLD_MAP.update({ord(a): ord(b) for a, b in zip("號樓棟單層門區", "号楼栋单层门区", strict=True)})
_FOLD = str.maketrans(_FOLD_MAP)
_NEEDS_FOLD = re.compile("[" + re.escape("".join(map(chr, _FOLD_MAP))) + "]")


def _fold(text: str) -> str:
    """Full-width digits and letters, dashes, traditional 號樓 to what the patterns read; one character for one,
    so spans in the folded text are spans of the input. (Most messages need none: translate is the slow part.)"""
    text = text[:MAX_CHARS]
    return text.translate(_FOLD) if _NEEDS_FOLD.search(text) else text

_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}


def _cn_value(s: str) -> int:
    """"12", "十二", "二十", "一百零一" → int; without 十/百/千 the digits are read one by one ("六零一" → 601)."""
    if s.isdigit():
        return int(s)
    if not any(c in _CN_UNIT for c in s):
        return int("".join(str(_CN_DIGIT[c]) for c in s))
    total, digit = 0, 0
    for c in s:
        if c in _CN_UNIT:
            total += (digit or 1) * _CN_UNIT[c]
            digit = 0
        else:
            digit = _CN_DIGIT[c]
    return total + digit


def _room_digits(s: str) -> str:
    """A room number as digits, leading zeros kept ("六零一" → "601", "一零零二" → "1002", "六百零一" → "601")."""
    if s.isdigit():
        return s
    if any(c in _CN_UNIT for c in s):
        return str(_cn_value(s))
    return "".join(str(_CN_DIGIT[c]) for c in s)


# ---------------------------------------------------------------- vocabulary


def _words(text: str) -> list[str]:
    return text.split()


_RELATIVE = frozenset(_words(
    "楼道 楼梯间 楼梯口 楼梯 楼底下 过道 走廊 电梯间 电梯厅 电梯口 电梯井 电梯 楼顶 天台 屋顶 顶楼 楼上 楼下 隔壁 对门 "
    "单元门口 单元门 大堂 大厅 门厅 架空层 地下室 储藏室 门口 楼前 楼后"
))
"""Spots in or at a building: when the text names no building, they are the resident's own."""

_AREAS = _words(
    "地下车库 地下停车场 地下停车库 地面停车场 停车场 停车库 车库 自行车棚 电动车棚 非机动车棚 车棚 "
    "中心花园 小花园 花园 绿化带 绿地 草坪 草地 中心广场 小广场 广场 健身区 健身场 篮球场 羽毛球场 球场 儿童乐园 "
    "游乐场 游乐区 垃圾站 垃圾房 垃圾中转站 垃圾分类点 垃圾投放点 菜市场 菜场 农贸市场 超市 沿街商铺 商铺 底商 "
    "商业街 院子 院里 大院 后院 院坝 围墙 消防通道 消防车道 人行道 马路边 大马路 马路 路边 十字路口 丁字路口 路口 "
    "交叉口 公交站 公交车站 地铁站 地铁口 公共厕所 公厕 物业办公室 物业服务中心 物业中心 社区服务中心 社区医院 "
    "卫生服务中心 党群服务中心 幼儿园 小学 中学 学校 配电房 配电室 水泵房 泵房 门卫室 门岗 保安亭 岗亭 快递柜 快递站 "
    "快递点 菜鸟驿站 驿站 河边 河道 桥下 桥洞 池塘 水池 喷泉 凉亭 亭子 长廊 活动室 老年活动中心 活动中心 会所 游泳池 "
    "小区 弄堂口 弄堂 天井"
)
"""Named areas. Not 物业/社区/门卫 alone, who does not act ("物业不管"), nor 车位, what was taken ("占了车位")."""

_CONTAINERS = frozenset(_words(
    "小区 院子 大院 地下车库 地下停车场 地下停车库 停车场 车库 地下室 中心花园 花园 中心广场 广场 菜市场 农贸市场 "
    "超市 学校 小学 中学 幼儿园 商业街 沿街商铺 楼顶 顶楼 屋顶"
))
"""Spots another spot sits in ("小区" + "东门", "地下车库" + "电梯口", "楼顶" + "天台"); after any other spot a spot
is a new place."""

_WEAK = frozenset(_words("小区 院子 院里 大院 马路 大马路 路边 马路边"))
"""Too general to be the main place when the message names a better one."""

_NEIGHBOUR = frozenset(_words("楼上 楼下 楼底下 隔壁 对门"))
"""Alone they say who (the neighbour), not where: "楼上天天装修" is at the resident's home, "楼上天天装修，吵死了，
9号楼" at 9号楼. After a place they are part of it ("3号楼楼下", "601楼上")."""

_SIDES = _words(
    "东侧 西侧 南侧 北侧 东边 西边 南边 北边 东面 西面 南面 北面 东北角 东南角 西北角 西南角 旁边 边上 附近 对面 "
    "后面 前面 后边 前边 背后 后方 周边 周围 一带 拐角 转角 角落 两侧 两边 四周 沿线 入口 出口 门前 底下 下面 旁 边 "
    "交汇处 交界处"
)
"""Where next to a place ("3号楼北侧", "菜市场旁边"): part of the place, never a place alone."""

_ROAD_NOISE = frozenset(_words(
    "井盖 垃圾 路灯 车辆 汽车 电动车 小区 门口 东门 西门 南门 北门 大门 附近 对面 旁边 楼下 今天 昨天 前天 现在 "
    "早上 晚上 上午 下午 中午 每天 天天 经常 一直 总是 整条 这条 那条 一条 就是 请问 麻烦 你好 您好 还有 另外 "
    "而且 然后 所以 因为 但是 可是 整个 位于 外面 门前 家门口 我们 你们 他们 我家 俺家 咱家 阿拉 和 跟 及 同 与"
))
"""Words the backward read of a road's name may pick up first ("井盖幸福路" → 幸福路, "门口和平安路" → 平安路)."""

_ROAD_STOP = frozenset(
    "的了在是我你他她它这那个们走去到从往向沿着住把被让给就都也还又很太要想说过里于为所而但且等将已经再没不些每该此"
    "啥咋怎么呢吧吗啊呀哦嗯哈啦坏漏堵丢脏乱臭吵占扔堆有号楼层室单元口侧外内边处区县市镇乡栋幢座条整"
)
"""Characters no road name holds: the backward read of the name stops there."""

_NOT_ROADS = frozenset(_words(
    "线路 电路 套路 思路 网路 水路 走路 修路 堵路 挡路 占路 让路 带路 问路 迷路 赶路 绕路 上路 半路 一路 来路 "
    "去路 出路 退路 活路 后路 门路 夜路 班路 学路 逛街 上街 满街 临街 沿街 过街 当街 回家路"
))
"""Words ending in 路/街 that are no road: 电路, 上学路上, 逛街."""

_BEFORE_ROOM = frozenset(_words("顶楼 楼上 楼下 楼底下 隔壁 对门"))
"""Spots a room number may follow in the resident's own building ("顶楼1802漏水", "楼上1802天天装修"): the room."""
_HOME_ROOM = re.compile(r"(?:住|家)$")
"""Right before a bare room number, the words that make it the resident's flat ("我家1802漏水", "家住1802")."""

_GENERIC_ROADS = frozenset(_words("马路 大马路 公路 道路 小路 大路 铁路 水泥路 土路 大街 巷子 小巷"))


def _trie(words: Sequence[str]) -> str:
    """A regex for any of ``words``, longest first, factored by prefix (a flat alternation of 150 words is slow)."""
    tree: dict = {}
    for w in words:
        node = tree
        for c in w:
            node = node.setdefault(c, {})
        node[""] = {}

    def emit(node: dict) -> str:
        alts = [re.escape(c) + emit(child) for c, child in sorted(node.items()) if c]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" not in node:
            return body
        return f"(?:{body})?" if len(alts) == 1 and len(body) > 1 else body + "?"

    return emit(tree)


_SPOTS = sorted((set(_AREAS) | _RELATIVE) - {"门口"})  # 门口 is read as a gate: it follows any spot
_NOT_BEFORE = {"广场": "舞", "电梯": "费", "花园": "式"}
"""A spot that is not one when this follows: 广场舞 is a dance, 电梯费 a fee."""

# ---------------------------------------------------------------- the tokeniser

_CN = "[一二三四五六七八九十]{1,3}"
_CN_ROOM = "[零〇一二三四五六七八九幺]{3,4}|[一二三四五六七八九]百零?[一二三四五六七八九十]{1,2}"
_NO_NUM_BEFORE = r"(?<![\dA-Z.\-/月:])"  # not the tail of a longer number, code, date ("12月3号") or time
_UNIT_AHEAD = rf"(?=\s*(?:\d{{1,2}}|{_CN})\s*(?:单元|-\s*\d))"
_MEASURE_BEFORE = "(?<![这那整每哪几各好有些])"  # "这栋", "几栋", "每层": a measure word, not a number
_BUILDING_WORD = "号楼|好楼|号搂"  # 好楼/号搂: the IME's homophones

_TOKENS = "|".join([
    # 9-2-601, 9#-2-601, 9号-2-601: building, unit, room
    rf"(?P<D3>{_NO_NUM_BEFORE}(?P<d3b>\d{{1,3}})\s*(?:号楼|号|栋|幢|座|#)?\s*-\s*(?P<d3u>[1-9]\d?)\s*-\s*"
    r"(?P<d3r>\d{3,4})(?![\d\-])(?:室|号|房)?)",
    # buildings: 9号楼, 9栋, 9幢, 9座, 9#楼, A座, 九号楼, 第三栋; 9号 / 12楼 only when a unit follows
    rf"(?P<B>(?:第\s*)?(?:{_NO_NUM_BEFORE}(?P<bd>\d{{1,3}}|[A-Z]\d{{0,2}})\s*"
    rf"(?:{_BUILDING_WORD}|栋|幢|座|#\s*楼|#|号(?=楼[道梯顶])|(?:号|楼){_UNIT_AHEAD})"
    rf"|{_MEASURE_BEFORE}(?P<bc>{_CN})\s*(?:{_BUILDING_WORD}|(?:栋|幢)(?!楼(?![道梯顶下上]))"
    rf"|号(?=楼[道梯顶])|号{_UNIT_AHEAD})))",
    # units: 2单元, 二单元, 第三单元
    rf"(?P<U>(?:第\s*)?(?<!\d)(?P<ud>\d{{1,2}}|{_CN})\s*(?:单元|单圆))",
    # basement floors: 负一楼, 地下2层, B1
    r"(?P<FB>(?:负|地下)\s*(?P<fbn>\d|[一二三四五])\s*(?:层|楼(?![道梯]))"
    r"|(?<![A-Z\d])B(?P<fbb>[1-5])(?:层|楼|(?=\s*(?:地下|车库|停车|电梯|区))))",
    # rooms with their word: 601室, 1202房间
    r"(?P<RS>(?<![\d\-])(?P<rsn>\d{3,4})\s*(?:室|房间|号房)(?!\d))",
    # floors: 6层, 6楼, 十八楼; not 楼道/楼梯/楼上, not "一层灰", "三层楼", "建了七层"
    rf"(?P<F>{_MEASURE_BEFORE}(?<![\d\-.了建盖共加层])(?P<fn>\d{{1,2}}|{_CN})\s*"
    r"(?:层(?![灰皮油土膜雪冰霜布纸薄厚楼]|一层)|楼(?![道梯顶上下房盘主层])))",
    # numbered gates: 1号门, 3号门口
    r"(?P<GN>(?<![\d\-])(?P<gnn>\d{1,2})\s*号门口?)",
    # road suffixes, the name read backwards from here; not 路灯, 路面, 路过, 街道(办), 街坊...
    r"(?P<RD>(?:大道|大街|路|街|巷|胡同)(?![灯面况过人线费障牙由途径程标基肩政子道坊办])"
    r"(?P<rdn>\d{1,5}号(?![楼栋幢院]))?(?P<rdk>口|段)?)",
    # named areas and gates: 地下车库, 楼道, 东门口, 北大门
    f"(?P<S>{_trie(_SPOTS)})",
    r"(?P<G>(?:[东南西北]{1,2}大?|正|侧|后|前|大)门(?!子)口?|门口)",
    f"(?P<X>{_trie(_SIDES)})",
    # rooms only right after a unit, floor or building: 601, 六零一, 2-601, 3号, 东户
    rf"(?P<N>(?<![\d\-.])(?P<nn>\d{{3,4}}|{_CN_ROOM})(?![\d\-])"
    r"(?:室|号|房|户|(?![多块元米个次人年月日分秒斤万千百]|天(?!天))))",
    r"(?P<D2>(?<![\d\-])(?P<d2u>[1-9]\d?)\s*-\s*(?P<d2r>\d{3,4})(?![\d\-])(?:室|号)?)",
    rf"(?P<NS>(?<![\d\-])(?:(?P<nsn>\d{{1,2}}|{_CN})\s*(?:号|户|室)(?![楼线院门天点])|(?P<nsd>[东西南北中])边?户))",
])
_STARTS = "".join(sorted(
    set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ第负地零〇一二三四五六七八九十幺东南西北中正侧后前大路街巷胡")
    | {w[0] for w in (*_SPOTS, *_SIDES)}
))
"""Every character a token can start with; a lookahead on it skips all other positions at once (3x faster)."""
_TOKEN = re.compile(f"(?=[{re.escape(_STARTS)}])(?:{_TOKENS})")
_SPOT_AT = re.compile(_trie(_SPOTS))

_HOME_BEFORE = re.compile(r"(?:(?:我|俺|本人|咱|阿拉)家?就?(?:住在?|是|家在|家住)|家住|住在|我家在)\s*$")
_GAP_STRUCT = frozenset(("", ",", "，", "、", "的"))
_GAP_SPOT = frozenset(("", "的"))
_GAP_AFTER_SIDE = frozenset(("", "的", "那个", "的那个", "这个", "的这个"))
_GAP_ON_ROAD = frozenset(("上", "上的", "边", "边的"))  # 建设路上的公厕
_ROAD_JOIN = frozenset(("与", "和", "跟", "、", "同", "及"))
_OUTSIDE = frozenset(("外", "外的", "外面", "外面的", "外边", "外边的"))
_STRUCT = frozenset(("B", "U", "F", "R", "N", "NS", "D2", "D3"))
_SPOT_KINDS = frozenset(("S", "G", "X", "RD"))
_RANK = {"B": 1, "U": 2, "F": 3, "R": 4, "N": 4, "NS": 4}


@dataclass(slots=True)
class _Tok:
    kind: str  # B U F R D3 | N D2 NS (rooms, only after a unit/floor/building) | S G X RD
    start: int
    end: int
    text: str  # display form
    value: tuple[str, ...] = ()


def _tokens(s: str) -> list[_Tok]:
    out: list[_Tok] = []
    for m in _TOKEN.finditer(s):
        kind, (a, b) = m.lastgroup, m.span()
        if out and a < out[-1].end:
            continue  # inside a spot read from a road suffix ("路边", "路口")
        if kind == "RD":
            tok = _road(s, m, out)
            if tok is None:  # no name before it: 路边, 路口, or nothing
                spot = _SPOT_AT.match(s, a)
                tok = _Tok("S", a, spot.end(), spot[0]) if spot else None
            if tok is not None:
                out.append(tok)
            continue
        if kind in ("S", "G", "X"):
            if not (kind == "S" and s.startswith(_NOT_BEFORE.get(m[0], "\0"), b)):
                out.append(_Tok(kind, a, b, m[0]))
        elif kind == "D3":
            bld, unit, room = f"{int(m['d3b'])}号楼", f"{int(m['d3u'])}单元", m["d3r"]
            out.append(_Tok("D3", a, b, bld + unit + room, (bld, unit, room)))
        elif kind == "B":
            raw = m["bd"] or m["bc"]
            bld = raw + ("座" if "座" in m[0] else "栋") if raw[0].isalpha() and raw[0].isascii() else (
                f"{_cn_value(raw)}号楼"
            )
            out.append(_Tok("B", a, b, bld, (bld,)))
        elif kind == "U":
            out.append(_Tok("U", a, b, f"{_cn_value(m['ud'])}单元", (f"{_cn_value(m['ud'])}单元",)))
        elif kind in ("F", "FB"):
            floor = f"{_cn_value(m['fn'])}层" if kind == "F" else f"地下{_cn_value(m['fbn'] or m['fbb'])}层"
            out.append(_Tok("F", a, b, floor, (floor,)))
        elif kind == "RS":
            out.append(_Tok("R", a, b, m["rsn"] + "室", (m["rsn"],)))
        elif kind == "GN":
            out.append(_Tok("G", a, b, f"{int(m['gnn'])}号门" + ("口" if m[0].endswith("口") else "")))
        elif kind == "N":
            room = _room_digits(m["nn"])
            out.append(_Tok("N", a, b, room, (room,)))
        elif kind == "D2":
            out.append(_Tok("D2", a, b, "", (f"{int(m['d2u'])}单元", m["d2r"])))
        else:  # NS: 3号, 2户, 东户
            room = f"{_cn_value(m['nsn'])}号" if m["nsn"] else m["nsd"] + "户"
            out.append(_Tok("NS", a, b, room, (room,)))
    return out


def _road(s: str, m: re.Match[str], before: list[_Tok]) -> _Tok | None:
    """A road: its name read backwards from the suffix (up to 4 characters), one leading noise word dropped."""
    a = m.start()
    if s[max(0, a - 1) : a + 1] in _NOT_ROADS or s[max(0, a - 2) : a + 1] in _NOT_ROADS:
        return None
    stop = before[-1].end if before else 0
    i = a
    while i > stop and a - i < 4 and "\u4e00" <= s[i - 1] <= "\u9fff" and s[i - 1] not in _ROAD_STOP:
        i -= 1
    name = s[i:a]
    for k in (3, 2, 1):  # "和平东路" keeps its 和: a one-character cut may not leave a bare direction
        if len(name) - k >= 2 and name[:k] in _ROAD_NOISE and not (k == 1 and name[-1] in "东西南北中"):
            name, i = name[k:], i + k
            break
    tail = (m["rdn"] or "") + (m["rdk"] or "")
    suffix = m[0][: len(m[0]) - len(tail)]
    if len(name) < 2 and before and before[-1].kind == "G" and before[-1].end == a and len(before[-1].text) == 2:
        gate = before.pop()  # 南门街, 西门路: the gate was the road's name
        return _Tok("RD", gate.start, m.end(), gate.text + suffix + tail)
    if name + suffix in _GENERIC_ROADS:
        return _Tok("S", i, m.end(), name + suffix + tail)
    return _Tok("RD", i, m.end(), name + suffix + tail) if len(name) >= 2 else None


# ---------------------------------------------------------------- the grammar: tokens → places


@dataclass(slots=True)
class _Draft:
    start: int
    end: int
    parts: list[_Tok]
    building: str | None = None
    unit: str | None = None
    floor: str | None = None
    room: str | None = None
    rank: int = 0  # 1 building, 2 unit, 3 floor, 4 room: each comes after the one before
    spotted: bool = False  # holds a spot, gate, side or road

    def add(self, t: _Tok, text: str | None = None) -> None:
        self.parts.append(t if text is None else _Tok(t.kind, t.start, t.end, text))
        self.end = t.end
        self.spotted = self.spotted or t.kind in _SPOT_KINDS


def _structural(d: _Draft, t: _Tok) -> bool:
    """Fill building/unit/floor/room from ``t``; False if it does not fit (out of order, or a stray number)."""
    if t.kind == "D3":
        if d.rank:
            return False
        d.building, d.unit, d.room = t.value
    elif t.kind == "D2":
        if d.rank != 1:
            return False
        d.unit, d.room = t.value
    else:
        rank = _RANK[t.kind]
        if rank <= d.rank or (t.kind == "N" and d.rank == 0) or (t.kind == "NS" and d.rank not in (2, 3)):
            return False
        setattr(d, ("building", "unit", "floor", "room")[rank - 1], t.value[0])
    d.rank = 4 if t.kind in ("D2", "D3") else _RANK[t.kind]
    return True


def _attach(d: _Draft, t: _Tok, gap: str) -> bool:
    """Whether ``t`` (after ``gap``) continues the place being read; structural tokens are recorded here."""
    last = d.parts[-1]
    if t.kind in _STRUCT:
        if gap not in _GAP_STRUCT or (gap and t.kind in ("N", "NS", "D2")):
            return False
        if d.spotted and not (last.kind == "RD" and not gap and t.kind in ("B", "D3") and not d.rank):
            return False  # after a spot only a building right after its road ("金桂路3号楼")
        return _structural(d, t)
    if t.kind == "RD":
        return False
    if last.kind == "X":  # after a side only the spot it points at: "20号楼后面那个垃圾站"
        return t.kind == "S" and gap in _GAP_AFTER_SIDE
    if gap not in _GAP_SPOT and not (last.kind == "RD" and gap in _GAP_ON_ROAD):
        return False
    if t.kind == "X":
        return True
    if t.kind == "G":
        return last.kind != "G"
    if last.kind == "S":
        return last.text in _CONTAINERS
    return last.kind != "G" or not gap


def _drafts(s: str) -> list[_Draft]:
    drafts: list[_Draft] = []
    cur: _Draft | None = None
    for t in _tokens(s):
        if cur is not None:
            gap = s[cur.end : t.start].strip()
            last = cur.parts[-1].kind
            if (t.kind in ("N", "R") and not cur.rank and last == "S" and cur.parts[-1].text in _BEFORE_ROOM
                    and gap in _GAP_SPOT and t.value[0].isdigit()):
                cur.room, cur.rank = t.value[0], 4  # 顶楼1802: the room on that floor of their own building
                cur.add(t)
                continue
            if t.kind == "RD" and last == "RD" and (gap in _ROAD_JOIN or not gap):
                cur.add(t, gap + t.text)  # 幸福路与和平街, 南京路步行街
                continue
            if t.kind == "RD" and last in ("G", "S") and gap in _OUTSIDE:
                cur.add(t, "外" + t.text)  # 东门外的金桂路
                continue
            if _attach(cur, t, gap):
                cur.add(t)
                continue
            _close(drafts, cur, gap, t)
            cur = None
        if t.kind == "N" and t.value[0].isdigit() and _HOME_ROOM.search(s, max(0, t.start - 1), t.start):
            cur = _Draft(t.start, t.end, [t], room=t.value[0], rank=4)  # 我家1802: their flat, building unsaid
            continue
        if t.kind in ("N", "NS", "D2", "X"):
            continue  # a bare number, "2-601" or "旁边" is no place on its own
        cur = _Draft(t.start, t.end, [t], spotted=t.kind in _SPOT_KINDS)
        if t.kind in _STRUCT:
            _structural(cur, t)
    if cur is not None:
        _close(drafts, cur, "", None)
    return drafts


def _close(drafts: list[_Draft], d: _Draft, gap: str, following: _Tok | None) -> None:
    """Keep a finished place, unless it is a lone neighbour word or an estate's name before its building."""
    if len(d.parts) == 1 and d.parts[0].text in _NEIGHBOUR:
        return
    estate = following is not None and not gap and following.kind in ("B", "D3") and d.parts[0].kind in ("S", "G")
    if estate and not d.rank:
        return  # "金桂花园3栋", "小区9栋": the building is the place
    drafts.append(d)


def _place(d: _Draft) -> Place:
    first = next((i for i, p in enumerate(d.parts) if p.kind in _STRUCT), len(d.parts))
    pre = "".join(p.text for p in d.parts[:first]) if d.rank else ""  # a road before its building
    spots = "".join(p.text for p in d.parts if p.kind in _SPOT_KINDS)
    alone = d.room and not (d.building or d.unit or d.floor)  # "601室" alone reads better with its word
    room = next((p.text for p in d.parts if p.kind == "R"), f"{d.room}室") if alone else d.room or ""
    text = pre + (d.building or "") + (d.unit or "") + (d.floor or "") + room + spots[len(pre):]
    return Place(d.building, d.unit, d.floor, d.room, spots or None, text, (d.start, d.end))


def _read(text: str | None) -> tuple[list[Place], list[bool]]:
    """All places in order, and for each whether it is only where the resident lives ("我住7号楼")."""
    if not text:
        return [], []
    s = _fold(text)
    drafts = _drafts(s)
    places = [_place(d) for d in drafts]
    if len(drafts) < 2:  # who lives where only matters to choose among places
        return places, [False] * len(drafts)
    home = [bool(_HOME_BEFORE.search(s, max(0, d.start - 6), d.start)) for d in drafts]
    return places, home


def _main(places: list[Place], home: list[bool]) -> Place | None:
    """The first place where the problem is.

    A home address ("我住7号楼，东门口…") gives way to a place elsewhere, and holds a spot of its building named
    after it ("我是5号楼1单元302，电梯又坏了" → 5号楼1单元电梯). A catch-all ("小区", "路边") gives way to anything
    more precise. A place in an unnamed building is completed by the address named elsewhere ("电梯坏了，在3号楼"
    → 3号楼电梯; "楼道灯不亮，我住3号楼2单元" → 3号楼2单元楼道).
    """
    if len(places) < 2:
        return places[0] if places else None
    weak = [p.spot in _WEAK and not p.building for p in places]
    elsewhere = any(not h and not w and not p.in_building for p, h, w in zip(places, home, weak, strict=True))
    keep = [i for i, h in enumerate(home) if not (h and elsewhere)]
    precise = [i for i in keep if not weak[i]]
    i = (precise or keep)[0]
    main = places[i]
    if main.in_building:
        address = next((p for p in places if p.building and p.spot is None), None)
        if address is not None:
            return _within(main, address)
    elif home[i] and main.building and main.spot is None:  # "我是5号楼1单元302，电梯又坏了"
        inside = next((p for p, h in zip(places[i + 1 :], home[i + 1 :], strict=True) if p.in_building and not h), None)
        if inside is not None:
            return _within(inside, main)
    return main


def _within(place: Place, address: Place) -> Place:
    """``place`` (2单元楼道, 6层, 电梯) in the building of ``address``: the address's parts above the place's own;
    a spot alone (楼道, 电梯, 门口) is in the address's unit, not in its flat."""
    levels = [address.building, address.unit, address.floor, address.room]
    own = [None, place.unit, place.floor, place.room]
    first = next((i for i, v in enumerate(own) if v), 2)
    b, u, f, r = levels[:first] + own[first:]
    text = "".join(v for v in (b, u, f, r, place.spot) if v)
    span = (min(place.span[0], address.span[0]), max(place.span[1], address.span[1]))
    return Place(b, u, f, r, place.spot, text, span)


# ---------------------------------------------------------------- API


def read_places(text: str | None) -> list[Place]:
    """Every place the text names, in the order named."""
    return _read(text)[0]


# Spots of the estate, not of a building: a building named after them is the place, not their owner
_ESTATE = re.compile(r"小区|院|大门|正门|[东西南北侧后]门|马路|路边|街")
# What may follow a building that ends a complaint ("… 外人随便进 10号楼", "… 5号楼的"): nothing of the matter.
_END = re.compile(r"[\s，,。.！!~～]*(?:的|这边|那边|这儿|那儿|这里|那里)?(?:啊|呀|哈|吧|呢|哦|嗯|啦)*"
                  r"[\s，,。.！!~～]*$")


def read_place(text: str | None) -> Place | None:
    """The place the problem is at: the first named, unless it is only the resident's home or a catch-all, or a
    spot of its own (岗亭, 车库门口) with a building named at the very end of the complaint: the spot in that
    building (10号楼岗亭), or the building alone after a spot of the estate (小区门口, 东门)."""
    places, home = _read(text)
    main = _main(places, home)
    last = places[-1] if places else None
    if (main is None or last is None or last is main or main.building or main.in_building or home[-1]
            or not last.building or last.spot or last.span[0] < main.span[1]):
        return main
    if not _END.fullmatch(_fold(text or ""), last.span[1]):
        return main
    if main.spot is None or main.spot in _WEAK or _ESTATE.match(main.spot):  # 小区门口, 东门: the building wins
        return last
    return Place(last.building, last.unit, last.floor, last.room, main.spot, last.text + main.spot,
                 (main.span[0], last.span[1]))  # 岗亭 … 10号楼: 10号楼岗亭, the spot kept in its building


def named_place(text: str | None) -> str | None:
    """The place the text names as one display string ("9号楼2单元601", "小区东门口", "楼道"), or None."""
    place = read_place(text)
    return place.text if place else None


# An answer to "where?" that is talk about the matter, not a place: how long it has gone on ("都两天了", "找了三次"),
# that nobody comes or cares ("没人来", "物业不管"), hurry ("快点来人"), or that they cannot say ("不清楚啊").
_SPAN = re.compile(r"(?:\d+|[一二两三四五六七八九十几半好多])\s*个?(?:天|日|周|星期|礼拜|月|年|小时|钟头|回|次|趟)")
_TALK = re.compile(r"没人|不管|没管|不来|没来|快点|快来|赶紧|赶快|谁管|咋办|怎么办|为啥|为什么|投诉|受不了|烦死|气死|"
                   r"^(?:不清楚|不知道|说不清|不晓得|忘了)")

_PLACE_HINT = re.compile(r"[楼栋幢门路街巷院场室层园库厅站店棚坛池井桥廊口家]|单元")  # a place the reader may not know


def talk_not_place(text: str | None) -> bool:
    """Whether an answer to "where?" that names no place is more words about the matter: how long, nobody comes,
    hurry, or they cannot say. Other short words stay the place as given ("老地方", "花坛边上")."""
    words = (text or "").strip()
    if not words or named_place(words) is not None or _PLACE_HINT.search(words):
        return False
    return bool(_SPAN.search(words) or _TALK.search(words))


def place_or_home(text: str | None, building: str | None, unit: str | None = None) -> str | None:
    """A place named in the text, else the resident's own building (and unit); None means ask.

    A place in a building the text does not name (楼道, 电梯, 6层, 601室) is in the resident's: "9号楼2单元楼道".
    """
    place = read_place(text)
    if place is None:
        return building + (unit or "") if building else None
    if place.in_building and building:
        return building + (place.unit or unit or "") + place.text.removeprefix(place.unit or "")
    return place.text


_BARE_BUILDING = re.compile(rf"(?:第\s*)?(\d{{1,3}}|{_CN})\s*(?:号|#)?")


def building_key(text: str | None) -> str | None:
    """The building a text names, in the community file's form ("9栋", "九号楼", "９幢" → "9号楼"), or None.

    The main place's building first, else any named; a bare number ("9", "九号") answers "which building?".
    """
    if not text:
        return None
    places, home = _read(text)
    main = _main(places, home)
    for p in (main, *places):
        if p is not None and p.building:
            return p.building
    bare = _BARE_BUILDING.fullmatch(_fold(text.strip()))
    return f"{_cn_value(bare[1])}号楼" if bare else None


@lru_cache(maxsize=512)
def _known(building: str) -> tuple[str | None, tuple[str, ...]]:
    """A community building's key, or for a named one ("金桂路沿街商铺") the names it goes by ("沿街商铺")."""
    key = building_key(building)
    if key is not None:
        return key, ()
    names = [_fold(building)]
    parts = _tokens(names[0])
    if len(parts) > 1 and parts[-1].kind == "S" and len(parts[-1].text) >= 3:
        names.append(parts[-1].text)
    return None, tuple(names)


def match_building(text: str | None, buildings: Sequence[str]) -> str | None:
    """Which of the community's ``buildings`` the text names, or None.

    Numbered ones compare by key ("9栋" finds "9号楼"); named ones by their whole name or their last named part
    ("沿街商铺" finds "金桂路沿街商铺"), the longest found winning.
    """
    if not text:
        return None
    key = building_key(text)
    if key is not None:
        found = next((b for b in buildings if _known(b)[0] == key), None)
        if found is not None:
            return found
    s = _fold(text)
    best, best_len = None, 0
    for b in buildings:
        for name in _known(b)[1]:
            if len(name) > best_len and name in s:
                best, best_len = b, len(name)
    return best


__all__ = ["Place", "building_key", "match_building", "named_place", "place_or_home", "read_place", "read_places",
           "talk_not_place"]
