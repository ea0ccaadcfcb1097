"""The place a message names (intents.places): read whole from residents' own words, else the resident's home."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intents import places
from intents.places import (
    Place,
    building_key,
    match_building,
    named_place,
    place_or_home,
    read_place,
    read_places,
)

# Messages as residents type them: run-ons without punctuation, voice-to-text numerals, full-width digits,
# IME homophones, dialect, several places in one message; the expected display string, None when no place.
MESSAGES = [
    # the misreadings of the old regex
    ("楼道里的路灯坏了", "楼道"),
    ("12号楼2单元601的水管漏了，物业不管，另外楼道灯也坏了", "12号楼2单元601"),
    ("在7号楼2单元", "7号楼2单元"),
    ("9号楼2单元601漏水", "9号楼2单元601"),
    ("东门口垃圾堆了好几天", "东门口"),
    # buildings, units, floors and rooms, however written
    ("九号楼三单元六零一漏水", "9号楼3单元601"),
    ("十二栋二单元一零零二家里天天吵", "12号楼2单元1002"),
    ("21号楼1单元六百零一楼上漏水", "21号楼1单元601楼上"),
    ("九号楼二单元幺零二", "9号楼2单元102"),
    ("9-2-601卫生间漏水好几天了", "9号楼2单元601"),
    ("我家9－2－601", "9号楼2单元601"),
    ("9栋2单元601室", "9号楼2单元601"),
    ("9号楼2-601楼上往下滴水", "9号楼2单元601楼上"),
    ("9幢2单元", "9号楼2单元"),
    ("９号楼２单元６０１", "9号楼2单元601"),
    ("9号楼 2单元 601 漏水", "9号楼2单元601"),
    ("第三栋二单元楼梯扶手松了", "3号楼2单元楼梯"),
    ("12#楼3单元电梯", "12号楼3单元电梯"),
    ("15号2单元5楼门口堆满了纸箱", "15号楼2单元5层门口"),
    ("8号楼二单元五楼东户装修噪音太大了", "8号楼2单元5层东户"),
    ("12楼2单元", "12号楼2单元"),
    ("9号楼2单元6楼601门口堆了东西", "9号楼2单元6层601门口"),
    ("二楼到五楼都停水", "2层"),
    ("A座电梯坏了", "A座电梯"),
    ("一楼大厅漏雨", "1层大厅"),
    ("负一楼车库漏水", "地下1层车库"),
    ("B2停车场灯全灭了", "地下2层停车场"),
    ("601室的空调外机往下滴水", "601室"),
    # no leading 在/位于/就在/我家, no trailing complaint
    ("位于3号楼北侧的化粪池冒了", "3号楼北侧"),
    ("就在小区东门口摆摊卖菜的太多", "小区东门口"),
    ("3号楼的电梯又坏了", "3号楼电梯"),
    ("三号楼楼下有人烧纸", "3号楼楼下"),
    ("10号楼楼顶有人私搭乱建", "10号楼楼顶"),
    ("17幢1单元门口堆满了杂物", "17号楼1单元门口"),
    ("22号楼底商饭店油烟大", "22号楼底商"),
    # gates and named areas
    ("小区东门", "小区东门"),
    ("菜市场门口的垃圾没人清", "菜市场门口"),
    ("地下车库有积水", "地下车库"),
    ("地下车库电梯口一直漏水", "地下车库电梯口"),
    ("小区花园的健身器材坏了", "小区花园"),
    ("快递柜旁边垃圾堆成山了", "快递柜旁边"),
    ("1号门门岗没人", "1号门门岗"),
    ("沿街商铺门口乱摆摊", "沿街商铺门口"),
    ("楼道灯坏了", "楼道"),
    ("电梯里有人抽烟", "电梯"),
    ("门口的垃圾一直没人收", "门口"),
    # roads and streets
    ("幸福路与和平街交叉口红绿灯坏了", "幸福路与和平街交叉口"),
    ("人民路与解放大道交汇处每天堵车", "人民路与解放大道交汇处"),
    ("金桂路沿街商铺油烟太大熏死人", "金桂路沿街商铺"),
    ("幸福路上井盖丢了", "幸福路"),
    ("井盖幸福路上丢了", "幸福路"),
    ("金桂路128号门口的树倒了", "金桂路128号门口"),
    ("金桂路口有人占道经营", "金桂路口"),
    ("小区东门外的金桂路上有个大坑", "小区东门外金桂路"),
    ("和平东路有坑", "和平东路"),
    ("文一西路上有辆车停了三天", "文一西路"),
    ("幸福路边上有人乱停车", "幸福路边上"),
    ("建设路上的公厕没人打扫", "建设路公厕"),
    ("中山北路和解放路交叉口天天堵", "中山北路和解放路交叉口"),
    ("南京路步行街有人发小广告", "南京路步行街"),
    ("7号楼西侧的草坪被车压坏了", "7号楼西侧草坪"),
    ("南大门保安亭没人", "南大门保安亭"),
    # voice-to-text run-ons, typos, dialect
    ("你好我想反映一下我们小区九栋二单元楼道的灯坏了好几天了一直没人修", "9号楼2单元楼道"),
    ("师傅你好我是十五号楼三单元七零二的我家厨房下水道堵了麻烦派人来看看", "15号楼3单元702"),
    ("那个就是二十号楼后面那个垃圾站臭的不行了夏天蚊子特别多", "20号楼后面垃圾站"),
    ("9好楼2单元漏水", "9号楼2单元"),
    ("6号搂电梯坏了", "6号楼电梯"),
    ("金桂花园3栋2单元楼道堆满杂物", "3号楼2单元楼道"),
    ("阿拉小区北门口垃圾桶老是满出来", "小区北门口"),
    ("侬好阿拉17号楼楼道里厢垃圾交关多", "17号楼楼道"),
    ("搞么子，6栋楼下天天有人烧烤", "6号楼楼下"),
    ("额滴个神，12号楼门口全是狗屎", "12号楼门口"),
    # 楼上/楼下/隔壁 alone name the neighbour, not a place (the caller falls back to the resident's home)
    ("俺家楼上天天半夜剁肉吵死了", None),
    ("楼下有人吵架还占了车位", None),
    ("隔壁天天打麻将到半夜", None),
    ("楼上天天装修，吵死了，9号楼", "9号楼"),
    # several places: where the problem is
    ("我住7号楼，东门口垃圾堆了好几天", "东门口"),
    ("我家是5号楼1单元302，楼上漏水", "5号楼1单元302"),
    ("电梯坏了，在3号楼", "3号楼电梯"),
    ("我是5号楼1单元302，电梯又坏了", "5号楼1单元电梯"),
    ("我住7号楼，6楼漏水", "7号楼6层"),
    ("楼道灯不亮，我住3号楼2单元601", "3号楼2单元楼道"),
    ("2单元楼道灯不亮 我是9号楼的", "9号楼2单元楼道"),
    ("楼道灯坏了，3号楼门口也有垃圾", "楼道"),
    ("你好我们小区9栋电梯坏了", "9号楼电梯"),
    ("12月3号楼道灯坏了", "楼道"),
    # no place
    ("路灯坏了", None),
    ("物业电话打了十几次都没人接", None),
    ("我们这栋楼停电了", None),
    ("这几栋楼都停水了", None),
    ("一栋楼都停水了", None),
    ("一层一层往上查都没查到", None),
    ("广场舞太吵了", None),
    ("小孩上学路上不安全", None),
    ("我家电路老化跳闸", None),
    ("出门逛街回来发现车被刮了", None),
    ("窗台上落了一层灰", None),
    ("空调外机滴水", None),
    ("狗叫了一整晚", None),
    ("", None),
    # numbers that are not places
    ("等了3天没人管", None),
    ("第2次反映了还是没人管", None),
    ("修个水管花了100多块", None),
    ("电话13912345678有事打我", None),
    ("工单LL-20261201-0003怎么还没处理", None),
    ("明天下午3点来修", None),
    ("每个月交300物业费太贵了", None),
    ("12月3号来修的到现在还没好", None),
    ("噪音从晚上10点持续到12点", None),
    ("家里有2个老人1个小孩", None),
    ("2024-12-01报的修", None),
]


@pytest.mark.parametrize(("text", "place"), MESSAGES)
def test_named_place(text: str, place: str | None) -> None:
    assert named_place(text) == place


def test_the_table_is_big_and_realistic() -> None:
    assert len(MESSAGES) >= 60
    assert sum(p is None for _, p in MESSAGES) >= 15


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("9号楼2单元漏水了", "9号楼2单元"),
        ("小区东门垃圾没人清", "小区东门"),
        ("幸福路上井盖丢了", "幸福路"),
        ("地下车库有积水", "地下车库"),
        ("路灯坏了", None),
        ("", None),
    ],
)
def test_named_place_as_before(text: str, place: str | None) -> None:
    assert named_place(text) == place


def test_read_place_fields() -> None:
    assert read_place("九号楼二单元六零一漏水") == Place("9号楼", "2单元", None, "601", None, "9号楼2单元601", (0, 9))
    p = read_place("8号楼二单元五楼东户装修噪音太大了")
    assert (p.building, p.unit, p.floor, p.room, p.spot) == ("8号楼", "2单元", "5层", "东户", None)
    p = read_place("位于3号楼北侧的化粪池冒了")
    assert (p.building, p.unit, p.spot, p.text) == ("3号楼", None, "北侧", "3号楼北侧")
    p = read_place("东门口垃圾堆了好几天")
    assert (p.building, p.spot) == (None, "东门口")
    p = read_place("金桂路沿街商铺油烟太大")
    assert (p.building, p.spot) == (None, "金桂路沿街商铺")


def test_place_is_frozen() -> None:
    p = read_place("9号楼")
    with pytest.raises(AttributeError):
        p.building = "10号楼"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "covered"),
    [
        ("在7号楼2单元", "7号楼2单元"),
        ("楼道里的路灯坏了", "楼道"),
        ("你好我想反映一下九栋二单元楼道的灯坏了", "九栋二单元楼道"),
        ("就在小区东门口摆摊", "小区东门口"),
        ("９号楼２单元６０１漏水", "９号楼２单元６０１"),
        ("幸福路与和平街交叉口红绿灯坏了", "幸福路与和平街交叉口"),
        ("3号楼的电梯坏了", "3号楼的电梯"),
    ],
)
def test_span_is_the_place_in_the_input(text: str, covered: str) -> None:
    a, b = read_place(text).span
    assert text[a:b] == covered


def test_all_places_in_order() -> None:
    text = "12号楼2单元601的水管漏了，物业不管，另外楼道灯也坏了，东门口垃圾也没人收"
    assert [p.text for p in read_places(text)] == ["12号楼2单元601", "楼道", "东门口"]
    assert [p.text for p in read_places("我住7号楼，东门口垃圾堆了好几天")] == ["7号楼", "东门口"]
    assert read_places("等了3天没人管") == []
    assert read_places(None) == []


def test_catch_all_gives_way() -> None:
    assert named_place("小区里的狗屎到处都是") == "小区"
    assert named_place("小区里到处是狗屎，特别是3号楼北侧") == "3号楼北侧"


def test_long_paste_is_bounded() -> None:
    text = "今天天气很好" * 400 + "9号楼漏水"
    assert named_place(text) is None  # beyond MAX_CHARS
    assert named_place("9号楼漏水" + "今天天气很好" * 400) == "9号楼"


# -- place_or_home -------------------------------------------------------------------------------------


def test_home_when_the_text_names_none() -> None:
    assert place_or_home("路灯坏了", "9号楼", "2单元") == "9号楼2单元"
    assert place_or_home("路灯坏了", "9号楼") == "9号楼"
    assert place_or_home("路灯坏了", None) is None


def test_named_place_wins_over_home() -> None:
    assert place_or_home("小区东门垃圾没人清", "9号楼", "2单元") == "小区东门"
    assert place_or_home("12栋3单元楼道灯坏了", "9号楼", "2单元") == "12号楼3单元楼道"


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("楼道灯坏了", "9号楼2单元楼道"),
        ("电梯里有人抽烟", "9号楼2单元电梯"),
        ("楼上天天半夜剁肉", "9号楼2单元"),  # the neighbour: the resident's home
        ("3单元楼道堆满杂物", "9号楼3单元楼道"),
        ("6楼漏水", "9号楼2单元6层"),
        ("601室的空调滴水", "9号楼2单元601室"),
        ("东门口垃圾没人清", "东门口"),  # not in a building: stays as named
        ("小区里到处是狗屎", "小区"),
    ],
)
def test_a_place_in_an_unnamed_building_is_in_the_residents(text: str, place: str) -> None:
    assert place_or_home(text, "9号楼", "2单元") == place


def test_a_building_relative_place_without_a_home_stays_as_named() -> None:
    assert place_or_home("楼道灯坏了", None) == "楼道"


# -- building_key / match_building -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("9栋", "9号楼"),
        ("九号楼", "9号楼"),
        ("9幢", "9号楼"),
        ("９号楼", "9号楼"),
        ("9号楼", "9号楼"),
        ("十二栋", "12号楼"),
        ("第二十一栋", "21号楼"),
        ("9", "9号楼"),
        ("九号", "9号楼"),
        ("9-2-601", "9号楼"),
        ("我住在12栋3单元", "12号楼"),
        ("我住7号楼，东门口垃圾堆了好几天", "7号楼"),
        ("东门口垃圾", None),
        ("等了3天", None),
        ("", None),
    ],
)
def test_building_key(text: str, key: str | None) -> None:
    assert building_key(text) == key


BUILDINGS = [f"{n}号楼" for n in range(1, 23)] + ["金桂路沿街商铺"]


@pytest.mark.parametrize(
    ("text", "building"),
    [
        ("9栋", "9号楼"),
        ("九号楼二单元楼道灯坏了", "9号楼"),
        ("２２幢", "22号楼"),
        ("金桂路沿街商铺油烟太大", "金桂路沿街商铺"),
        ("沿街商铺门口乱摆摊", "金桂路沿街商铺"),
        ("30号楼", None),  # not one of ours
        ("东门口垃圾", None),
        ("", None),
    ],
)
def test_match_building(text: str, building: str | None) -> None:
    assert match_building(text, BUILDINGS) == building


def test_match_building_against_other_spellings() -> None:
    assert match_building("9号楼2单元", ["8栋", "9栋", "10栋"]) == "9栋"
    assert match_building("A座电梯坏了", ["A座", "B座"]) == "A座"


# -- properties -----------------------------------------------------------------------------------------

_CN = "零一二三四五六七八九"


def _cn(n: int) -> str:
    """1..99 in Chinese numerals, the way a resident (or voice input) writes them."""
    tens, units = divmod(n, 10)
    if tens == 0:
        return _CN[units]
    return ("" if tens == 1 else _CN[tens]) + "十" + (_CN[units] if units else "")


def _wide(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in s)


_BUILDING_FORMS = [
    lambda n: f"{n}号楼", lambda n: f"{n}栋", lambda n: f"{n}幢", lambda n: f"{_cn(n)}号楼", lambda n: f"{_cn(n)}栋",
    lambda n: _wide(f"{n}号楼"), lambda n: f"第{_cn(n)}栋", lambda n: f"{n}#楼", lambda n: f"{n}座",
]
_UNIT_FORMS = [lambda u: f"{u}单元", lambda u: f"{_cn(u)}单元", lambda u: _wide(f"{u}单元")]
_ROOM_FORMS = [lambda r: r, lambda r: f"{r}室", lambda r: "".join(_CN[int(c)] for c in r), lambda r: _wide(r)]
_BEFORE = ["", "我家", "在", "你好，", "师傅我们", "就是", "我是"]
_AFTER = ["漏水了", "的下水道堵了好几天", "卫生间渗水", "，物业一直不来", " 没人管", "天天有人吵"]


_FLOOR_FORMS = [None, lambda f: f"{f}楼", lambda f: f"{f}层", lambda f: f"{_cn(f)}楼", lambda f: _wide(f"{f}层")]


@given(
    n=st.integers(1, 99), u=st.integers(1, 9), floor=st.integers(1, 32), unit_room=st.integers(1, 4),
    bf=st.sampled_from(_BUILDING_FORMS), uf=st.sampled_from(_UNIT_FORMS), ff=st.sampled_from(_FLOOR_FORMS),
    rf=st.sampled_from(_ROOM_FORMS), sep=st.sampled_from(["", " "]), before=st.sampled_from(_BEFORE),
    after=st.sampled_from(_AFTER),
)
def test_any_spelling_of_an_address_reads_the_same(
    n: int, u: int, floor: int, unit_room: int, bf, uf, ff, rf, sep: str, before: str, after: str
) -> None:
    room = f"{floor}{unit_room:02d}"
    floor_said = ff(floor) + sep if ff else ""
    text = before + bf(n) + sep + uf(u) + sep + floor_said + rf(room) + after
    p = read_place(text)
    expected_floor = f"{floor}层" if ff else None
    assert (p.building, p.unit, p.floor, p.room, p.spot) == (f"{n}号楼", f"{u}单元", expected_floor, room, None), text
    assert p.text == f"{n}号楼{u}单元{expected_floor or ''}{room}"
    assert text[p.span[0] : p.span[1]].endswith((rf(room), rf(room)[:-1]))


@given(
    n=st.integers(1, 99), u=st.integers(1, 9), room=st.integers(101, 3204),
    dash=st.sampled_from(["-", "－", "—", " - "]), before=st.sampled_from(_BEFORE), after=st.sampled_from(_AFTER),
)
def test_dash_addresses(n: int, u: int, room: int, dash: str, before: str, after: str) -> None:
    text = f"{before}{n}{dash}{u}{dash}{room}{after}"
    assert named_place(text) == f"{n}号楼{u}单元{room}", text
    assert named_place(f"{before}{n}栋{u}{dash}{room}{after}") == f"{n}号楼{u}单元{room}"


_SOUP = "0123456789号楼栋单元层室门口路街东西南北的了在是我-，。 一二三四五六七八九十幺零车库道"


@given(st.text(alphabet=_SOUP, max_size=40))
def test_any_text_reads_without_error_and_spans_are_inside(text: str) -> None:
    for p in read_places(text):
        a, b = p.span
        assert 0 <= a < b <= len(text)
        assert p.text
    main = read_place(text)
    assert main is None or main.text == named_place(text)


def test_the_start_filter_loses_no_token() -> None:
    """The lookahead on first characters is only a speed-up: the tokens are those of the bare alternation."""
    bare = re.compile(places._TOKENS)
    texts = [t for t, _ in MESSAGES] + ["中户", "幺零二", "胡同口", "巷子里", "第3单元", "负1层", "十字路口"]
    for text in texts:
        s = places._fold(text)
        assert [m.span() for m in places._TOKEN.finditer(s)] == [m.span() for m in bare.finditer(s)], text


_NOT_PLACES = [
    lambda n: f"等了{n}天了", lambda n: f"第{n}次反映", lambda n: f"花了{n}多块", lambda n: f"电话1{n:010d}",
    lambda n: f"LL-2026{n % 12 + 1:02d}{n % 28 + 1:02d}-{n:04d}", lambda n: f"晚上{n % 24}点",
    lambda n: f"{n % 12 + 1}月{n % 28 + 1}号",
    lambda n: f"{n}个人", lambda n: f"交了{n}元", lambda n: f"{n}分钟", lambda n: f"编号{n}", lambda n: f"{n}%",
    lambda n: f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}", lambda n: f"{n}次", lambda n: f"{n}年了",
]


@given(
    parts=st.lists(st.tuples(st.sampled_from(_NOT_PLACES), st.integers(1, 9999)), min_size=1, max_size=3),
    joiner=st.sampled_from(["", "，", " ", "了"]),
    tail=st.sampled_from(["没人管", "还没修好", "怎么回事", ""]),
)
def test_numbers_that_are_not_places(parts, joiner: str, tail: str) -> None:
    text = joiner.join(f(n) for f, n in parts) + tail
    assert named_place(text) is None, text


@pytest.mark.parametrize(("text", "place"), [
    ("物业的保安天天在岗亭睡觉 外人随便进 10号楼", "10号楼岗亭"),
    ("车库门口堆了好多垃圾 5号楼", "5号楼车库门口"),
    ("篮球场的灯坏了 9栋", "9号楼篮球场"),
    ("垃圾站臭死了 夏天更厉害 4号楼这边", "4号楼垃圾站"),
    ("小区门口乱停车 堵死了 3号楼", "3号楼"),
    ("东门路灯坏了 5号楼的", "5号楼"),
    ("东门路灯坏了 5号楼也是", "东门"),  # more said after the building: the first place stands
    ("东门口垃圾堆了好几天 我住7号楼", "东门口"),  # a home said last is no place of the matter
    ("10号楼岗亭没人", "10号楼岗亭"),
])
def test_a_building_that_ends_a_complaint(text: str, place: str) -> None:
    assert named_place(text) == place
