"""What residents read: the menu, greetings, the complaint draft, their tickets, services and emergencies.

Part of the catalogue (``handlers.texts``): every sentence the bot says lives in one of its modules."""

from __future__ import annotations

from datetime import datetime

from handlers.texts.common import WEEKDAYS, fmt_time, preview

MENU_REPORT = "我要反映"
MENU_TICKETS = "我的工单"
MENU_SERVICES = "便民服务"
MENU_POINTS = "我的积分"
MENU_GRID = "联系网格员"
MENU_ROWS = [[MENU_REPORT, MENU_TICKETS], [MENU_SERVICES, MENU_POINTS, MENU_GRID]]
MENU_PLACEHOLDER = "直接输入您要反映的问题…"
BTN_CONFIRM = "✅ 确认提交"
BTN_RECATEGORIZE = "🔄 换一类"
BTN_CANCEL = "✖️ 取消"
BTN_HUMAN = "👤 转人工"
BTN_WITHDRAW = "撤回此工单"
BTN_WITHDRAW_YES = "确认撤回"
BTN_BACK = "返回"
BTN_SKIP = "跳过"
BTN_AGE_65 = "是，已满65周岁"
BTN_AGE_UNDER = "否"
BTN_REDEEM = "兑换"
BTN_REDEEM_YES = "确认兑换"
BTN_OTHER_CATEGORY = "其他问题"
SERVICE_BUTTONS = {
    "svc.haircut": "✂️ 爱心义剪",
    "svc.points": "⭐ 我的积分",
    "svc.shop": "🛒 积分超市",
    "svc.hours": "🕘 办事时间",
    "svc.meal": "🍱 助餐点",
    "svc.class": "📚 公益课堂",
    "svc.clinic": "🩺 义诊",
}
HELP = (
    "您可以直接用文字告诉我遇到的问题，比如：\n"
    "· “楼上天天装修，吵死了”\n"
    "· “9号楼楼道灯坏了”\n"
    "· “小区门口乱停车”\n"
    "我会登记成工单、告诉您工单号和办理时限，并随时通知进度。\n\n"
    "也可以问我：下次义剪是哪天、我的积分、积分能换什么、服务中心几点开门、助餐点在哪。\n"
    "常用命令：/tickets 我的工单　/points 我的积分　/help 帮助"
)
GREETING = "您好！我是{community}的“邻里”小助手，有什么可以帮您？"
THANKS_REPLY = "不客气！有需要随时找我。"
REPORT_PROMPT = "请直接描述您遇到的问题（可以附照片），例如：“12号楼电梯坏了，停在半路不动”。"


def welcome(name: str, community: str) -> str:
    return f"{name}您好，欢迎使用{community}“邻里”居民服务！\n\n{HELP}"


ASK_BUILDING = "为了把问题派给您所在网格的网格员，请先选择您住的楼栋："
ASK_AGE = "您是否已年满65周岁？（用于爱心义剪等敬老服务，可跳过）"
AGE_SAVED = "已记录，谢谢！"
BAD_DEEP_LINK = "这个二维码链接无效或已过期。"


def bound_grid(grid_name: str, worker: str) -> str:
    return f"已为您绑定【{grid_name}】，网格员：{worker}。"


BTN_BUILDING_YES = "是，我住这里"
BTN_BUILDING_NO = "不是"
BUILDING_NOT_MINE = "好的，没有改动您的楼栋。"


def offer_building(building: str) -> str:
    return f"您住在{building}吗？设为您的楼栋后，以后反映问题不用每次说楼号，网格员也能及时看到。"


def bound_building(building: str, grid_name: str | None, worker: str | None) -> str:
    if grid_name:
        return f"已记录：{building}，属于【{grid_name}】，网格员：{worker}。"
    return f"已记录：{building}。"


def confirm_draft(category: str, text: str, location: str | None, unit: str, limit: str,
                  photos: int) -> str:
    lines = [
        "📝 我帮您整理了一下：",
        f"类别：{category}",
        f"内容：{preview(text, 300)}",
        f"地点：{location or '（未填写）'}",
    ]
    if photos:
        lines.append(f"照片：{photos}张")
    lines += [f"承办：{unit}　时限：{limit}", "", "确认提交吗？也可以继续补充文字或照片。"]
    return "\n".join(lines)


def choose_category(text: str) -> str:
    return f"“{preview(text, 60)}”\n我不太确定属于哪一类，请选一下："


CHOOSE_ANY_CATEGORY = "请选择问题类别："
ASK_LOCATION = "请告诉我具体位置，比如“9号楼2单元”“小区东门”“地下车库B区”："
DRAFT_CANCELLED = "已取消，这条内容不会提交。需要时随时再发给我。"
DRAFT_EXPIRED = "这条草稿已过期或已提交，请重新描述您的问题。"
PHOTO_ADDED = "📷 照片已添加（共{n}张）。"
PHOTO_NEEDS_TEXT = "📷 照片已收到。请再用一句话说明是什么问题、在什么位置。"


def ticket_opened(number: str, category: str, unit: str, due: datetime) -> str:
    return (
        f"✅ 已受理！工单号：{number}\n"
        f"类别：{category}\n承办单位：{unit}\n"
        f"办理时限：{fmt_time(due)} 前\n\n"
        "处理进展会第一时间通知您；发送“我的工单”可随时查看。"
    )


def linked_existing(number: str, status: str, own: bool) -> str:
    if own:
        return f"这个问题您已经反映过了，工单 {number}【{status}】正在办理中，进展会通知您。"
    return (
        f"附近居民已经反映过同样的问题，工单 {number}【{status}】正在办理。\n"
        "已把您关联到这个工单，办理进展会同步通知您，不用重复提交。"
    )


def hotspot_alert(category: str, scope: str, count: int, hours: int) -> str:
    return f"⚠️ 预警：{scope} 近{hours}小时内已有 {count} 起「{category}」诉求，请网格员关注。"


def limit_text(hours: int) -> str:
    if hours < 24:
        return f"{hours}小时"
    days, rest = divmod(hours, 24)
    return f"{days}天" if not rest else f"{days}天{rest}小时"


def staff_new_ticket(number: str, category: str, unit: str, location: str | None, text: str,
                     due: datetime, resident: str, grid: str | None) -> str:
    return (
        f"🆕 新工单 {number}\n类别：{category}　承办：{unit}\n"
        f"网格：{grid or '未绑定'}　居民：{resident}\n地点：{location or '未填写'}\n"
        f"内容：{preview(text, 500)}\n时限：{fmt_time(due)}"
    )


EMERGENCY_KIND = {
    "medical": "急病或受伤", "fire": "火情", "gas": "燃气泄漏", "crime": "治安险情", "trapped": "有人被困",
    "missing": "有人走失", "self-harm": "自伤风险",
}
EMERGENCY_CALL = {
    "120": "请立即拨打 120 急救电话！",
    "119": "请立即拨打 119 火警电话！",
    "110": "请立即拨打 110 报警！",
}
HELPER_LABEL = {"duty": "", "grid_worker": "网格员", "police": "", "property": ""}
EMERGENCY_TIPS = {
    "gas": "不要开关电灯电器、不要打电话在屋内，立即开窗通风、离开房间。",
    "fire": "不要乘电梯，用湿毛巾捂住口鼻，沿安全通道撤离。",
    "trapped": "请不要扒门，按电梯里的警铃，耐心等待救援。",
    "self-harm": "您不是一个人，心理援助热线 12356 随时有人接听。",
    "missing": "请准备好走失者的照片、衣着和最后出现的地点。",
}
BTN_RESOLVED_YES = "✅ 确认已解决"
BTN_RESOLVED_NO = "还没解决"
RESOLVED_NOT_YET = "好的，工单继续办理，进展会通知您。"


def resolved_offer(number: str, category: str) -> str:
    return f"太好了！您的工单 {number}（{category}）还在办理中，问题已经解决了吗？确认后就办结这个工单。"


def resolved_done(number: str) -> str:
    return f"已确认工单 {number} 问题已解决，感谢您的反馈！稍后会请您评价办理情况。"


def resolved_closed(number: str) -> str:
    return f"工单 {number} 已经办结或关闭了，不用再确认。谢谢！"


LOCATION_OUTSIDE = "这个位置不在本社区范围内。请确认后重新发送位置，或直接输入地点（比如：9号楼2单元）。"


def pin_near(building: str) -> str:
    return f"{building}附近（定位）"


def pin_map(lat: float, lon: float) -> str:
    return f"定位 https://uri.amap.com/marker?position={lon:.6f},{lat:.6f}&coordinate=wgs84"


SOS_ASK_PLACE = "您现在在哪里？点下面的按钮发送位置，或直接输入地点（比如：9号楼2单元、小区东门）。"
BTN_SOS_LOCATION = "📍 发送我现在的位置"


def btn_sos_home(home: str) -> str:
    return f"🏠 在家：{home}"


def sos_opened(number: str, kind: str | None, call: str, alerted: list[tuple[str, str]], lift_phone: str) -> str:
    """The resident's answer to an emergency: whom to call first, then exactly who was alerted."""
    first = (f"请立即拨打电梯内的应急救援电话 {lift_phone}（也可拨 110）！" if call == "lift"
             else EMERGENCY_CALL.get(call, EMERGENCY_CALL["110"]))
    names = "、".join(f"{HELPER_LABEL.get(helper, '')}{name}" for helper, name in alerted)
    told = f"已立即通知：{names}。" if names else "社区值班人员还没有接入机器人，请务必自己拨打急救电话。"
    tip = EMERGENCY_TIPS.get(kind or "", "")
    lines = [f"🚨 {first}", f"🚨 已收到您的紧急求助（{EMERGENCY_KIND.get(kind or '', '紧急求助')}）。{told}"]
    if tip:
        lines.append(tip)
    lines.append(f"求助单号：{number}")
    return "\n".join(lines)


def sos_place_saved(alerted: list[tuple[str, str]]) -> str:
    names = "、".join(f"{HELPER_LABEL.get(helper, '')}{name}" for helper, name in alerted)
    return f"已把地点告诉：{names}。请保持电话畅通。" if names else "已记下地点。请保持电话畅通。"


NO_TICKETS = "您还没有提交过工单。直接告诉我遇到的问题就可以登记。"
TICKETS_HEADER = "📋 您最近的工单："
TICKET_NOT_FOUND = "没有找到这个工单号。请核对号码（只能查询您本人提交的工单）。"


def ticket_line(number: str, status: str, category: str, latest: str | None) -> str:
    line = f"· {number}【{status}】{category}"
    return line + (f"\n  最新：{latest}" if latest else "")


def ticket_detail(number: str, status: str, category: str, text: str, location: str | None,
                  unit: str, due: datetime, events: list[tuple[datetime, str]]) -> str:
    lines = [
        f"📄 工单 {number}【{status}】",
        f"类别：{category}　承办：{unit}",
        f"地点：{location or '未填写'}",
        f"内容：{preview(text, 300)}",
        f"时限：{fmt_time(due)}",
        "",
        "办理记录：",
    ]
    lines += [f"· {fmt_time(at)} {what}" for at, what in events]
    return "\n".join(lines)


WITHDRAW_ASK = "确定撤回工单 {number} 吗？撤回后不再办理。"
WITHDRAWN = "工单 {number} 已撤回。"
WITHDRAW_REFUSED = {
    "not_found": TICKET_NOT_FOUND,
    "already_withdrawn": "这个工单已经撤回过了。",
    "not_open": "这个工单已经办结或关闭，不能撤回了。",
}
SERVICES_MENU = "便民服务，请选择："


def haircut(name: str, when: datetime, start: str, end: str, place: str, free_age: int, fee: int,
            is_senior: bool | None, today: bool) -> str:
    day = "今天" if today else f"{when.month}月{when.day}日（周{WEEKDAYS[when.weekday()]}）"
    lines = [f"✂️ 下次{name}：{day} {start}–{end}", f"地点：{place}"]
    if is_senior is True:
        lines.append(f"您已满{free_age}周岁，免费。")
    elif is_senior is False:
        lines.append(f"{free_age}周岁以上老人免费，其他居民每次{fee}元。")
    else:
        lines.append(f"{free_age}周岁及以上老人免费，其他居民每次{fee}元（请带身份证）。")
    return "\n".join(lines)


def points(balance: int, entries: list[tuple[datetime, int, str]]) -> str:
    lines = [f"⭐ 您当前积分：{balance} 分"]
    if entries:
        lines.append("最近记录：")
        lines += [f"· {at.month}月{at.day}日 {delta:+d} {reason}" for at, delta, reason in entries]
    else:
        lines.append("还没有积分记录。参加志愿服务、议事会等活动可以获得积分。")
    return "\n".join(lines)


def shop(items: list[tuple[str, int, int | None]], balance: int) -> str:
    lines = [f"🛒 积分超市（您有 {balance} 分）："]
    for name, cost, left in items:
        stock = "" if left is None else ("（已兑完）" if left <= 0 else f"（剩{left}件）")
        lines.append(f"· {name}：{cost} 分{stock}")
    lines.append("点下方按钮兑换。")
    return "\n".join(lines)


def earn_rules(rules: list[tuple[str, int]]) -> str:
    if not rules:
        return ""
    return "\n如何获得积分：\n" + "\n".join(f"· {name} +{pts}分" for name, pts in rules)


def redeem_ask(name: str, cost: int, balance: int) -> str:
    return f"确认用 {cost} 积分兑换「{name}」吗？（当前 {balance} 分）"


def redeemed(name: str, left: int) -> str:
    return f"🎉 兑换成功：「{name}」！剩余 {left} 分。请凭此消息到社区党群服务中心领取。"


POINTS_REDEEMED = "兑换「{name}」"
POINTS_REASONS = {"activity": "参加活动", "volunteer": "志愿服务", "adjust": "积分调整"}
REDEEM_REFUSED = {
    "insufficient": "积分不足：「{name}」需要 {cost} 分，您现在有 {balance} 分。",
    "out_of_stock": "「{name}」已经兑完了，看看别的吧。",
    "unknown_item": "这个商品已下架。",
}


def hours(centre_hours: list[str], windows: list[str], open_now: bool, address: str, phone: str) -> str:
    lines = ["🕘 社区党群服务中心", *centre_hours]
    lines.append("现在：" + ("开放中" if open_now else "不在办公时间"))
    if windows:
        lines.append("服务窗口：" + "、".join(windows))
    if address:
        lines.append(f"地址：{address}")
    if phone:
        lines.append(f"电话：{phone}")
    return "\n".join(lines)


def canteens(items: list[tuple[str, str, str, str]]) -> str:
    if not items:
        return "本社区暂未设置助餐点。"
    lines = ["🍱 助餐点："]
    for name, address, when, note in items:
        lines.append(f"· {name}\n  地址：{address}\n  时间：{when}" + (f"\n  {note}" if note else ""))
    return "\n".join(lines)


def classes(name: str, place: str, sessions: list[str], nxt: str | None) -> str:
    lines = [f"📚 {name}（地点：{place}）", *sessions]
    if nxt:
        lines.append(f"下一次：{nxt}")
    return "\n".join(lines)


def clinic(name: str, when: str | None, place: str, note: str) -> str:
    if when is None:
        return f"近期暂无{name}安排，请留意社区通知。"
    return f"🩺 下次{name}：{when}\n地点：{place}" + (f"\n{note}" if note else "")


NO_CLASSES = "近期暂无公益课堂安排。"


def grid_worker(grid_name: str, worker: str) -> str:
    return (
        f"您所在的【{grid_name}】网格员是 {worker}。\n"
        "有事可以直接发给我，我会登记并派给网格员；需要人工请点“转人工”。"
    )


HUMAN_FORWARDED = "已转给社区工作人员，他们会尽快联系您。"
HUMAN_UNAVAILABLE = "抱歉，人工服务暂未开通。您的问题可以直接发给我登记成工单。"


__all__ = [
    "AGE_SAVED",
    "ASK_AGE",
    "ASK_BUILDING",
    "ASK_LOCATION",
    "BAD_DEEP_LINK",
    "BTN_AGE_65",
    "BTN_AGE_UNDER",
    "BTN_BACK",
    "BTN_BUILDING_NO",
    "BTN_BUILDING_YES",
    "BTN_CANCEL",
    "BTN_CONFIRM",
    "BTN_HUMAN",
    "BTN_OTHER_CATEGORY",
    "BTN_RECATEGORIZE",
    "BTN_REDEEM",
    "BTN_REDEEM_YES",
    "BTN_RESOLVED_NO",
    "BTN_RESOLVED_YES",
    "BTN_SKIP",
    "BTN_SOS_LOCATION",
    "BTN_WITHDRAW",
    "BTN_WITHDRAW_YES",
    "BUILDING_NOT_MINE",
    "CHOOSE_ANY_CATEGORY",
    "DRAFT_CANCELLED",
    "DRAFT_EXPIRED",
    "EMERGENCY_CALL",
    "EMERGENCY_KIND",
    "EMERGENCY_TIPS",
    "GREETING",
    "HELP",
    "HELPER_LABEL",
    "HUMAN_FORWARDED",
    "HUMAN_UNAVAILABLE",
    "LOCATION_OUTSIDE",
    "MENU_GRID",
    "MENU_PLACEHOLDER",
    "MENU_POINTS",
    "MENU_REPORT",
    "MENU_ROWS",
    "MENU_SERVICES",
    "MENU_TICKETS",
    "NO_CLASSES",
    "NO_TICKETS",
    "PHOTO_ADDED",
    "PHOTO_NEEDS_TEXT",
    "POINTS_REASONS",
    "POINTS_REDEEMED",
    "REDEEM_REFUSED",
    "REPORT_PROMPT",
    "RESOLVED_NOT_YET",
    "SERVICES_MENU",
    "SERVICE_BUTTONS",
    "SOS_ASK_PLACE",
    "THANKS_REPLY",
    "TICKETS_HEADER",
    "TICKET_NOT_FOUND",
    "WITHDRAWN",
    "WITHDRAW_ASK",
    "WITHDRAW_REFUSED",
    "bound_building",
    "bound_grid",
    "btn_sos_home",
    "canteens",
    "choose_category",
    "classes",
    "clinic",
    "confirm_draft",
    "earn_rules",
    "grid_worker",
    "haircut",
    "hotspot_alert",
    "hours",
    "limit_text",
    "linked_existing",
    "offer_building",
    "pin_map",
    "pin_near",
    "points",
    "redeem_ask",
    "redeemed",
    "resolved_closed",
    "resolved_done",
    "resolved_offer",
    "shop",
    "sos_opened",
    "sos_place_saved",
    "staff_new_ticket",
    "ticket_detail",
    "ticket_line",
    "ticket_opened",
    "welcome",
]
