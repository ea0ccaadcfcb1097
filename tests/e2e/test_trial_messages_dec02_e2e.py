"""Thirty of the 2 December trial's messages (tests/unit/test_trial_messages_dec02.py) through the real bot: each
from a new resident, the bot's first answer and what it wrote (a draft of the right category at the right place, an
emergency of the right kind with its advice, the service's answer, the action) — what the resident would see."""

from __future__ import annotations

from linli_e2e import Bot, registered

from bot.emulator import SentMessage
from handlers import texts

SOS = "act.sos"
# (words, expected: category | tuple of right categories | "svc.*"/"act.*" | act.sos, emergency kind, place piece)
SAMPLE: list[tuple[str, str | tuple[str, ...], str | None, str | None]] = [
    ("3号楼2单元楼到灯不亮了好几天了", "repair", None, "3号楼2单元"),
    ("顶楼1802漏水 天花板都泡了", "repair", None, "顶楼1802室"),
    ("下水到堵了 厨房的水下不去", "repair", None, None),
    ("幸福里小区东门的路灯坏了黑咕隆咚的", "repair", None, "东门"),
    ("地下车库B2的灯全灭了 走路都看不见", "repair", None, "地下车库"),
    ("楼上天天半夜跺脚 吵得俺睡不着觉", "noise", None, None),
    ("俺家木有水了 从早上到现在", "utilities", None, None),
    ("草坪上全是狗屎 踩了一脚 🤮", "sanitation", None, "草坪"),
    ("电动车乱停 单元门口都走不过去", "parking", None, "单元门口"),
    ("对门说俺家偷她的快递 天天骂", "dispute", None, None),
    ("两家为了晾衣服的事吵起来了 恁快来人调解一下吧", "dispute", None, None),
    ("楼上漏水漏到俺家 找他们他们不管", "dispute", None, None),
    ("骗子电话太多了 一天接好几个", "safety", None, None),
    ("听说隔壁楼老太太被骗了十几万", "safety", None, None),
    ("去年被骗了两万 还能追回来吗", ("safety", "legal"), None, None),
    ("楼顶有人搭了个彩钢棚养鸽子", "construction", None, "楼顶"),
    ("1802室马桶堵了往外冒水", "repair", None, "1802室"),
    ("前几天被骗了三万 说是公安局的", SOS, "fraud", None),
    ("上周有人冒充公安让我转了钱", SOS, "fraud", None),
    ("刚才有个人打电话说俺儿子出车祸了 让俺赶紧打钱", SOS, "fraud", None),
    ("楼道里冒黑烟了 闻着像烧电线", SOS, "fire", "楼道"),
    ("有人在楼顶边上站着 好像要跳", SOS, "crisis", "楼顶"),
    ("俺爹在卫生间摔倒了起不来 快来人啊", SOS, "medical", None),
    ("理发几号", "svc.haircut", None, None),
    ("积分怎么换东西", "svc.shop", None, None),
    ("老年食堂中午几点开饭", "svc.meal", None, None),
    ("物业电话多少", "svc.phone", None, None),
    ("俺上回报的路灯修了没", "act.my_tickets", None, None),
    ("俺不会打字 能给俺打个电话吗", "act.human", None, None),
    ("楼道灯坏了 顺便问下理发是哪天", ("repair", "svc.haircut"), None, "楼道"),
]
# how each answer shows itself to the resident
SIGNS = {
    "svc.haircut": "义剪", "svc.shop": "积分", "svc.meal": "食堂", "svc.phone": "电话",
    "act.my_tickets": texts.NO_TICKETS, "act.human": "工作人员",
}


def _is_draft(m: SentMessage) -> bool:
    return any(b.text == texts.BTN_CONFIRM for b in m.buttons) or m.text == texts.ASK_LOCATION or bool(m.buttons)


async def _judge(bot: Bot, uid: int, words: str, want: str | tuple[str, ...], kind: str | None,
                 place: str | None) -> str | None:
    """What went wrong with this message in the bot, or None."""
    person = await registered(bot, uid)
    cursor = await person.send(words)
    first = await person.reply(after=cursor)
    await bot.barrier()
    said = " / ".join(m.text for m in person.replies(cursor))
    if want == SOS:
        [t] = await bot.tickets(uid) or [None]
        if t is None or not first.text.startswith("🚨") or t.emergency_kind != kind:
            return f"{words}: no {kind} alert ({said[:120]})"
        if kind == "fraud" and texts.FRAUD_FIRST not in first.text:
            return f"{words}: fraud without its advice"
        return None
    if first.text.startswith("🚨"):
        return f"{words}: a false alarm"
    if isinstance(want, str) and want.startswith(("svc.", "act.")):
        return None if SIGNS[want] in said and await bot.draft(uid) is None else f"{words}: not {want} ({said[:120]})"
    allowed = want if isinstance(want, tuple) else (want,)
    draft = await bot.draft(uid)
    if draft is None:
        return f"{words}: no draft ({said[:120]})"
    offered = [c["id"] for c in draft.candidates if "id" in c and "split" not in c]
    if draft.category not in allowed and not set(offered) & set(allowed):
        return f"{words}: draft {draft.category} / {offered}"
    if "svc.haircut" in allowed and "爱心义剪" not in said:
        return f"{words}: the question left unanswered"
    if place is not None and place not in (draft.location or ""):
        return f"{words}: place {draft.location!r}"
    return None


async def test_thirty_trial_messages_through_the_real_bot(desk: Bot) -> None:
    wrong = [w for i, (words, want, kind, place) in enumerate(SAMPLE)
             if (w := await _judge(desk, 2600 + i, words, want, kind, place)) is not None]
    assert not wrong, "\n".join(wrong)
