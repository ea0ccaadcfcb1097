"""What residents read: the menu, greetings, the complaint draft, their tickets, services and emergencies.

Part of the catalogue (``handlers.texts``): every sentence the bot says lives in one of its modules."""

from __future__ import annotations

from datetime import datetime

from handlers.texts.common import WEEKDAYS, fmt_time, preview
from services import local

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
BTN_REDEEM_NO = "不换了"
BTN_OTHER_CATEGORY = "其他问题"
SERVICE_BUTTONS = {
    "svc.haircut": "✂️ 爱心义剪",
    "svc.points": "⭐ 我的积分",
    "svc.shop": "🛒 积分超市",
    "svc.hours": "🕘 办事时间",
    "svc.meal": "🍱 助餐点",
    "svc.class": "📚 公益课堂",
    "svc.clinic": "🩺 义诊",
    "svc.activities": "📅 近期活动",
}
HELP = (
    "您可以直接用文字告诉我遇到的问题，比如：\n"
    "· “楼上天天装修，吵死了”\n"
    "· “9号楼楼道灯坏了”\n"
    "· “小区门口乱停车”\n"
    "我会登记成工单、告诉您工单号和办理时限，并随时通知进度。\n\n"
    "也可以问我：下次义剪是哪天、我的积分、积分能换什么、服务中心几点开门、助餐点在哪。\n"
    "找人上门修水龙头、理发、陪护，发 /order 点单；对社区有建议，发 /propose。\n"
    "常用命令：/tickets 我的工单　/points 我的积分　/projects 民生实事　/help 帮助"
)
GREETING = "您好！我是{community}的“邻里”小助手，有什么可以帮您？"
THANKS_REPLY = "不客气！有需要随时找我。"


def sos_help_came_thanks(number: str) -> str:
    """To a resident who says help came after their emergency: thanked, and told the desk heard it."""
    return f"不客气！您说的情况已告诉处理紧急求助 {number} 的工作人员。愿一切平安，有需要随时找我。"
REPORT_PROMPT = "请直接描述您遇到的问题（可以附照片），例如：“12号楼电梯坏了，停在半路不动”。"


def welcome(name: str, community: str) -> str:
    return f"{name}您好，欢迎使用{community}“邻里”居民服务！\n\n{HELP}"


ASK_BUILDING = "为了把问题派给您所在网格的网格员，请先选择您住的楼栋（点下面的按钮，或直接发楼号，如“7号楼”）："
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


BTN_SUBMIT_TWO = "✅ 分开提交（两件）"
BTN_SUBMIT_ONE = "合成一件提交"


def confirm_two(first: str, first_text: str, first_place: str | None, second: str, second_text: str,
                second_place: str | None) -> str:
    return "\n".join([
        "📝 您说的像是两件事：",
        f"① {first}：{preview(first_text.strip(), 120)}（地点：{first_place or '未填写'}）",
        f"② {second}：{preview(second_text.strip(), 120)}（地点：{second_place or '未填写'}）",
        "",
        "分开提交，各由承办单位办理；也可以合成一件提交。",
    ])


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
    "missing": "有人走失", "self-harm": "自伤风险", "crisis": "有人要轻生", "help": "呼救",
    "fraud": "电信诈骗",
}
EMERGENCY_CALL = {
    "120": "请立即拨打 120 急救电话！",
    "119": "请立即拨打 119 火警电话！",
    "110": "请立即拨打 110 报警！",
}
HELP_FIRST = "如果有人受伤、起火或遇到危险，请立即拨打 120 / 119 / 110！"
GAS_FIRST = "请立即关掉燃气阀门、打开门窗，离开房间，到室外后拨打 119 或燃气公司抢修电话！"
CRISIS_FIRST = "请立即拨打 110 报警，有人受伤再拨 120！"  # someone seen about to jump: the police come first
# a swindle under way: the money must not leave first, then the call (the anti-fraud line, or the police)
FRAUD_FIRST = "先不要转账、汇款！马上挂断电话，验证码和银行卡密码不要告诉任何人。请拨打 96110（反诈专线）或 110！"
HELPER_LABEL = {"duty": "", "grid_worker": "网格员", "police": "", "property": ""}
EMERGENCY_TIPS = {
    "gas": "不要开关电灯电器、不要点火，不要在屋里打电话；有人头晕恶心，到室外后拨打 120。",
    "fire": "不要乘电梯，用湿毛巾捂住口鼻，沿安全通道撤离。",
    "trapped": "请不要扒门，按电梯里的警铃，耐心等待救援。",
    "self-harm": "您不是一个人，心理援助热线 12356 随时有人接听。",
    "crisis": "请不要离开他（她），在安全距离外一直跟他（她）说话，不要刺激、不要争吵；让围观的人往后退，别拍照起哄。",
    "medical": "敲门不应、门打不开（比如独居老人在屋里），请拨打 110 帮忙开门；请派人到楼下接救护车。",
    "missing": "请准备好走失者的照片、衣着和最后出现的地点。",
    "fraud": "如果钱已经转出去了：马上拨打 110 报警（越早报警，钱越可能被冻结追回），再打银行电话冻结银行卡；"
             "聊天记录、转账记录和对方号码都不要删。",
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


CAPTION_TOO_LONG = "图片说明太长了（最多 {limit} 字），这张图片没有收下。请把说明缩短，或者把文字单独发给我。"
PHOTOS_TOO_MANY = "一个工单最多附 {limit} 张照片，这张没有收下。"
VOICE_TOO_LONG = "语音太长了（最多 10 分钟），没有收下。请分几段发，或者用文字说明。"
VOICE_DRAFT = "收到您的语音留言。工作人员会听语音办理；请确认下面的信息，类别不对可以点“换一类”。"
FILE_DRAFT = "收到您发的文件。工作人员会看文件办理；请确认下面的信息，类别不对可以点“换一类”。"
ATTACHMENT_ADDED = "已附在您正在反映的问题里，工作人员办理时能看到。"
FILE_TOO_BIG = "文件太大了（最多 20MB），没有收下。"


def voice_label(seconds: int) -> str:
    return f"【语音留言 {seconds}秒】"


def file_label(name: str) -> str:
    return f"【文件：{name}】"


BTN_SUPPLEMENT = "补充说明"
BTN_SUPPLEMENT_DONE = "补充完了"
SUPPLEMENT_ADDED = "已补充到工单，承办单位会看到。还有要补充的可以继续发，补充完请点“补充完了”。"
SUPPLEMENT_DONE = "好的，补充说明已全部送达。"
SUPPLEMENT_CLOSED = "这个工单已经办结或关闭了，不能再补充。有新问题请直接告诉我。"


def supplement_ask(number: str) -> str:
    return f"请发送要补充到工单 {number} 的文字、照片或语音，我会转给承办单位。"


LOCATION_OUTSIDE = "这个位置不在本社区范围内。请确认后重新发送位置，或直接输入地点（比如：9号楼2单元）。"


def pin_near(building: str) -> str:
    return f"{building}附近（定位）"


def pin_map(lat: float, lon: float) -> str:
    return f"定位 https://uri.amap.com/marker?position={lon:.6f},{lat:.6f}&coordinate=wgs84"


SOS_ASK_PLACE = "您现在在哪里？点下面的按钮发送位置，或直接输入地点（比如：9号楼2单元、小区东门）。"
BTN_SOS_LOCATION = "📍 发送我现在的位置"


def btn_sos_home(home: str) -> str:
    return f"🏠 在家：{home}"


def sos_ask_building(part: str) -> str:
    """An emergency in a part of a building nobody named (电梯, 楼道): which building, so helpers know where to go."""
    return f"是几号楼的{part}？请直接输入楼号（比如：9号楼2单元），或点下面的按钮发送位置。"


def sos_opened(number: str, kind: str | None, call: str, alerted: list[tuple[str, str]], lift_phone: str) -> str:
    """The resident's answer to an emergency: whom to call first, then exactly who was alerted."""
    if call == "lift":
        first = f"请立即拨打电梯内的应急救援电话 {lift_phone}（也可拨 110）！"
    elif kind == "gas":  # a call inside a gas-filled room can spark: out first, then dial
        first = GAS_FIRST
    elif kind == "crisis":
        first = CRISIS_FIRST
    elif kind == "fraud":
        first = FRAUD_FIRST
    elif kind == "help":  # 救命 / 快来人 with no kind said: every number, and who is coming
        first = HELP_FIRST
    else:
        first = EMERGENCY_CALL.get(call, EMERGENCY_CALL["110"])
    names = "、".join(f"{HELPER_LABEL.get(helper, '')}{name}" for helper, name in alerted)
    told = f"已立即通知：{names}。" if names else "社区值班人员还没有接入机器人，请务必自己拨打急救电话。"
    tip = EMERGENCY_TIPS.get(kind or "", "")
    lines = [f"🚨 {first}", f"🚨 已收到您的紧急求助（{EMERGENCY_KIND.get(kind or '', '紧急求助')}）。{told}"]
    if tip:
        lines.append(tip)
    lines.append(f"求助单号：{number}")
    return "\n".join(lines)


def sos_more_told(number: str, alerted: list[tuple[str, str]]) -> str:
    """A second cry while the first emergency is open: the same case, the words passed on at once."""
    names = "、".join(f"{HELPER_LABEL.get(helper, '')}{name}" for helper, name in alerted)
    told = f"已马上转告：{names}。" if names else ""
    return f"🚨 收到！您的求助 {number} 正在处理，{told}如有危险请立即拨打 120 / 119 / 110。"


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
BTN_WITHDRAW_NO = "不撤回，继续办理"
NOTHING_TAKEN = "好的。有需要随时发给我。"
WITHDRAW_KEPT = "好的，工单 {number} 继续办理。"
WITHDRAW_NOTHING = "您现在没有正在办理的诉求，不需要撤回。想看以前的记录，请发“我的工单”。"
WITHDRAW_WHICH = "您有几件诉求正在办理，要撤回哪一件？点下面的单号："


def withdraw_ask(number: str, category: str, text: str) -> str:
    """Which case a take-back in words would withdraw, said in full so the resident can check it is that one."""
    return f"要撤回这件诉求吗？\n工单 {number}（{category}）\n“{preview(text, 40)}”\n撤回后不再办理。"


def withdraw_choice(number: str, category: str) -> str:
    return f"撤回 {number} {category}"
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


def redeem_cancelled(name: str) -> str:
    return f"好的，这次不兑换「{name}」，积分没有变动。想换的时候再点积分超市就行。"


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


def activities(today: list[str], coming: list[str]) -> str:
    """"有啥活动": what is on today (check-in open), then the dated services to come, then how taking part pays."""
    lines: list[str] = []
    if today:
        lines += ["🎉 今天的活动（到场后按工作人员公布的口令发 /checkin 签到）：", *(f"· {t}" for t in today), ""]
    if coming:
        lines += ["📅 近期社区活动：", *(f"· {c}" for c in coming), ""]
    if not lines:
        lines = ["近期暂无活动安排，有新活动会在通知里告诉您。", ""]
    lines.append("参加志愿服务和社区活动可以获得积分，积分能在积分超市兑换。想报名志愿者，发“我想当志愿者”。")
    return "\n".join(lines)


def volunteer(worker: str | None, phone: str | None) -> str:
    who = f"您的网格员{worker}" + (f"（电话 {phone}）" if phone else "") if worker else "社区工作人员"
    return (f"🙌 欢迎加入志愿服务！请联系{who}报名，也可以到社区党群服务中心登记。\n"
            "参加活动时扫码或发 /checkin 口令签到，就能得到积分，积分可以在积分超市兑换。\n")


def grid_worker(grid_name: str, worker: str, phone: str | None = None) -> str:
    return (
        f"您所在的【{grid_name}】网格员是 {worker}" + (f"，电话 {phone}" if phone else "") + "。\n"
        "有事可以直接发给我，我会登记并派给网格员；需要人工请点“转人工”。"
    )


HUMAN_FORWARDED = "已转给社区工作人员，他们会尽快联系您。"
HUMAN_ALREADY = "已经转给社区工作人员了，请稍候，他们会尽快联系您。"
HUMAN_UNAVAILABLE = "抱歉，人工服务暂未开通。您的问题可以直接发给我登记成工单。"


# -- a 服务码 case claimed in the bot ------
CLAIMED = "已关联工单 {number}。之后的办理进度会在这里通知您，发送 /tickets 可随时查看。"
CLAIMED_BEFORE = "工单 {number} 已经关联到您的账号了。发送 /tickets 查看进度。"
CLAIM_TAKEN = "这个跟踪码已被其他账号认领。如有疑问，请联系社区工作人员。"
CLAIM_NOT_FOUND = "没有找到这个跟踪码对应的诉求，请检查链接是否完整。"

# -- too many messages at once (handlers.flood) ------
FLOOD_SLOW_DOWN = (
    "您好，您的消息我们收到了，请别着急🙂\n"
    "请先等一等我们的回复，再接着发。一下子发得太多，后面的几条可能来不及看到，"
    "请过十几秒再把没说完的话发给我们。"
)
FLOOD_CONFIRM_LATER = "您刚刚已经提交了好几件事，我们都收到了。请过十几秒再点「确认提交」，您写的内容还在，不会丢。"

__all__ = [
    "AGE_SAVED",
    "ASK_AGE",
    "ASK_BUILDING",
    "ASK_LOCATION",
    "ATTACHMENT_ADDED",
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
    "BTN_REDEEM_NO",
    "BTN_REDEEM_YES",
    "BTN_RESOLVED_NO",
    "BTN_RESOLVED_YES",
    "BTN_SKIP",
    "BTN_SOS_LOCATION",
    "BTN_SUBMIT_ONE",
    "BTN_SUBMIT_TWO",
    "BTN_SUPPLEMENT",
    "BTN_SUPPLEMENT_DONE",
    "BTN_WITHDRAW",
    "BTN_WITHDRAW_NO",
    "BTN_WITHDRAW_YES",
    "BUILDING_NOT_MINE",
    "CAPTION_TOO_LONG",
    "CHOOSE_ANY_CATEGORY",
    "CLAIMED",
    "CLAIMED_BEFORE",
    "CLAIM_NOT_FOUND",
    "CLAIM_TAKEN",
    "CRISIS_FIRST",
    "DRAFT_CANCELLED",
    "DRAFT_EXPIRED",
    "EMERGENCY_CALL",
    "EMERGENCY_KIND",
    "EMERGENCY_TIPS",
    "FILE_DRAFT",
    "FILE_TOO_BIG",
    "FLOOD_CONFIRM_LATER",
    "FLOOD_SLOW_DOWN",
    "FRAUD_FIRST",
    "GAS_FIRST",
    "GREETING",
    "HELP",
    "HELPER_LABEL",
    "HELP_FIRST",
    "HUMAN_ALREADY",
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
    "NOTHING_TAKEN",
    "NO_CLASSES",
    "NO_TICKETS",
    "PHOTOS_TOO_MANY",
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
    "SUPPLEMENT_ADDED",
    "SUPPLEMENT_CLOSED",
    "SUPPLEMENT_DONE",
    "THANKS_REPLY",
    "TICKETS_HEADER",
    "TICKET_NOT_FOUND",
    "VOICE_DRAFT",
    "VOICE_TOO_LONG",
    "WITHDRAWN",
    "WITHDRAW_ASK",
    "WITHDRAW_KEPT",
    "WITHDRAW_NOTHING",
    "WITHDRAW_REFUSED",
    "WITHDRAW_WHICH",
    "activities",
    "bound_building",
    "bound_grid",
    "btn_sos_home",
    "canteens",
    "choose_category",
    "classes",
    "clinic",
    "confirm_draft",
    "confirm_two",
    "earn_rules",
    "file_label",
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
    "redeem_cancelled",
    "redeemed",
    "resolved_closed",
    "resolved_done",
    "resolved_offer",
    "shop",
    "sos_ask_building",
    "sos_help_came_thanks",
    "sos_more_told",
    "sos_opened",
    "sos_place_saved",
    "staff_new_ticket",
    "supplement_ask",
    "ticket_detail",
    "ticket_line",
    "ticket_opened",
    "voice_label",
    "volunteer",
    "welcome",
    "withdraw_ask",
    "withdraw_choice",
]


# --- residents take part: partners, orders, wishes, check-ins, proposals, 民生实事, the three lists --------------


def _day(at: datetime) -> str:
    t = local(at)
    return f"{t.month}月{t.day}日"


def _names(names: list[str]) -> str:
    return "、".join(names) or "（无）"


BTN_PARTNER_NEXT = "下一步 ➡️"
BTN_PARTNER_PAUSE = "⏸ 暂停接单"
BTN_PARTNER_RESUME = "▶️ 恢复接单"
PARTNER_CHOOSE = (
    "🤝 欢迎申请成为社区合伙人！\n请选择您能提供的服务（可多选），选好后点“下一步”："
)
PARTNER_CHOOSE_ONE = "请至少选择一项服务。"
PARTNER_PENDING = "您的合伙人申请正在审核中；如需修改，可以重新选择后再提交一次。\n\n"
PARTNER_PROMPT_MARK = "📝 合伙人申请"
PARTNER_SERVICES_LABEL = "服务："
PARTNER_PLACEHOLDER = "例如：周末下午，5号楼底商或上门"
PARTNER_WHEN_WHERE_BAD = "请用一两句话写明时间和地点（100字以内），例如：周末下午，5号楼底商或上门。"
PARTNER_ALREADY = "您已经是社区合伙人了，发送 /partner 可以查看状态或暂停接单。"
PARTNER_PAUSED = "已暂停接单。需要时发送 /partner 点“恢复接单”即可。"
PARTNER_RESUMED = "已恢复接单，有居民点单时会通知您。"


def partner_refused_before(reason: str) -> str:
    return f"您上次的申请未通过，理由：{reason or '未说明'}。欢迎补充后重新申请。\n\n"


def partner_prompt(services: list[str]) -> str:
    return (f"{PARTNER_PROMPT_MARK}\n{PARTNER_SERVICES_LABEL}{_names(services)}\n"
            "请回复本条消息，写明您方便服务的时间和地点，例如：周末下午，5号楼底商或上门。")


def partner_applied(partner_id: int) -> str:
    return f"✅ 已提交合伙人申请（编号 #{partner_id}）。社区工作人员审核后会通知您，谢谢您的热心！"


def partner_status(services: list[str], when: str, where: str, paused: bool, balance: int, done: int,
                   no_shows: int, rating: float | None) -> str:
    lines = [f"🤝 您是社区合伙人（{'已暂停接单' if paused else '接单中'}）",
             f"服务：{_names(services)}", f"时间：{when or '未填写'}　地点：{where or '未填写'}",
             f"已完成点单：{done} 单" + (f"，平均评价 {rating} 星" if rating is not None else ""),
             f"当前积分：{balance} 分"]
    if no_shows:
        lines.append(f"未上门记录：{no_shows} 次")
    lines.append("发送 /myorders 查看接单记录。")
    return "\n".join(lines)


def partner_approved(services: list[str]) -> str:
    return (f"🎉 恭喜！您的社区合伙人申请已通过，服务：{_names(services)}。\n"
            "有居民点单时我会通知您，先点“接单”的合伙人接单。需要暂停时发送 /partner。")


def partner_refused(reason: str) -> str:
    return f"很抱歉，您的社区合伙人申请未通过。\n理由：{reason}\n如有疑问，可以联系社区工作人员，补充后也可重新申请。"


# orders (居民点单，合伙人接单)
BTN_TAKE = "🙋 接单"
BTN_GIVE_BACK = "无法服务，退回"
BTN_ORDER_DONE = "✅ 服务已完成，去评价"
BTN_NO_SHOW = "🚫 没有上门"
BTN_ORDER_CANCEL = "✖️ 取消点单"
STARS = {5: "⭐⭐⭐⭐⭐ 非常满意", 4: "⭐⭐⭐⭐ 满意", 3: "⭐⭐⭐ 一般", 2: "⭐⭐ 不太满意", 1: "⭐ 不满意"}
ORDER_CHOOSE = "🛎 居民点单：请选择您需要的服务，社区合伙人会上门或约好地点为您服务。"
ORDER_PROMPT_MARK = "📝 点单·"
ORDER_SAID_LABEL = "您说："
ORDER_PLACEHOLDER = "例如：明天下午，厨房水龙头漏水，9号楼2单元301"
ORDER_TAKEN_TOAST = "接单成功！"
ORDER_CANCELLED = "已取消这次点单。"
ORDER_NO_SHOW_NOTED = "已记录“没有上门”，社区工作人员会跟进，给您添麻烦了。"
ORDER_GIVEN_BACK = "已退回这单，社区工作人员会另行安排。"
ORDER_STATUS = {"open": "等待接单", "desk": "社区协调中", "taken": "已接单", "done": "已完成", "no_show": "未上门",
                "cancelled": "已取消"}
TAKE_REFUSED = {
    "taken": "这单已经被其他合伙人接了，谢谢您！",
    "closed": "这单已取消或已结束。",
    "not_partner": "您目前不能接单（合伙人申请未通过或已暂停），发送 /partner 查看。",
    "no_service": "这项服务不在您的服务范围内。",
    "own": "不能接自己发起的点单。",
}
ORDER_CLOSE_REFUSED = {
    "already": "这单已经处理过了，无需重复操作。",
    "not_yours": "这不是您的点单。",
    "not_taken": "这单还没有合伙人接单，暂时不能确认。",
    "ok": "",
}


def order_prompt(service: str, said: str | None = None) -> str:
    lines = [f"{ORDER_PROMPT_MARK}{service}"]
    if said:
        lines.append(f"{ORDER_SAID_LABEL}“{preview(said, 200)}”")
        lines.append("要请社区合伙人来帮忙吗？请回复本条消息补充时间和地点（不需要就不用理会）。")
    else:
        lines.append("请回复本条消息，说明需要什么、什么时间、在哪里，例如：明天下午，厨房水龙头漏水，9号楼2单元301。")
    return "\n".join(lines)


def order_text_bad(limit: int, length: int) -> str:
    if not length:
        return "请写明需要什么服务、什么时间、在哪里。"
    return f"内容有 {length} 字，请精简到 {limit} 字以内，写明需要什么、什么时间、在哪里即可。"


def order_placed(order_id: int, service: str, partners: int, hours: int) -> str:
    if not partners:
        return (f"🛎 已收到您的点单 #{order_id}（{service}）。暂时没有提供这项服务的合伙人，"
                "已转社区工作人员协调安排，有进展会通知您。")
    return (f"🛎 已发出点单 #{order_id}（{service}），已通知 {partners} 位合伙人，"
            f"有人接单会马上告诉您；{hours} 小时内无人接单，将转社区工作人员协调。")


def order_offer(order_id: int, service: str, text: str, place: str, resident: str) -> str:
    return (f"🛎 新点单 #{order_id} · {service}\n内容：{preview(text, 300)}\n地点：{place or '见内容'}\n"
            f"居民：{resident}\n先点“接单”的合伙人接单。")


def order_taken_partner(order_id: int, service: str, text: str, place: str) -> str:
    return (f"✅ 您已接下点单 #{order_id}（{service}）。\n内容：{preview(text, 300)}\n地点：{place or '见内容'}\n"
            "请按居民说的时间前往服务；服务完成后由居民确认，确认后积分自动到账。")


def order_taken_resident(order_id: int, service: str, partner: str, at: datetime | None, available: str) -> str:
    when = fmt_time(at) if at else ""
    return (f"🙋 您的点单 #{order_id}（{service}）已由合伙人 {partner} 于 {when} 接单，"
            f"将按您说的时间上门（对方常规服务时间：{available or '未填写'}）。\n"
            "服务完成后请点“服务已完成”并评价；如果对方没来，请点“没有上门”。")


def order_rated(order_id: int, stars: int) -> str:
    return f"感谢您的评价（{stars} 星）！点单 #{order_id} 已完成。"


def order_done_partner(order_id: int, stars: int, points: int, capped: bool, balance: int) -> str:
    if points:
        tail = f"您获得 {points} 积分" + ("（今日此类积分已达上限）" if capped else "") + f"，当前 {balance} 分。"
    else:
        tail = f"今日此类积分已达上限，本单不再加分，当前 {balance} 分。"
    return f"🎉 居民已确认点单 #{order_id} 完成，评价 {stars} 星。{tail}谢谢您！"


def order_no_show_partner(order_id: int) -> str:
    return f"居民反映点单 #{order_id} 您没有上门，已记录。如有误会，请联系社区工作人员说明。"


def order_cancelled_partner(order_id: int) -> str:
    return f"居民取消了点单 #{order_id}，不用再上门了，谢谢您！"


def order_given_back_resident(order_id: int) -> str:
    return f"原接单的合伙人无法为点单 #{order_id} 服务，已转社区工作人员另行安排，有进展会通知您。"


def order_to_desk_resident(order_id: int) -> str:
    return f"您的点单 #{order_id} 暂时没有合伙人接单，已转社区工作人员协调安排，有进展会通知您。"


def order_assigned_partner(order_id: int, service: str, text: str, place: str) -> str:
    return (f"📌 社区工作人员为您指派了点单 #{order_id}（{service}）。\n内容：{preview(text, 300)}\n"
            f"地点：{place or '见内容'}\n请按居民说的时间前往服务；无法服务请点下方“退回”。")


def order_line(order_id: int, service: str, status: str, text: str, at: datetime, rating: int | None) -> str:
    stars = f" {rating}★" if rating else ""
    return f"· #{order_id} {service}【{status}{stars}】{_day(at)} {preview(text, 40)}"


def my_orders(lines: list[str]) -> str:
    if not lines:
        return "您还没有点过单。需要服务时发送 /order。"
    return "🛎 我的点单：\n" + "\n".join(lines)


def partner_orders(lines: list[str], done: int, no_shows: int, rating: float | None, balance: int) -> str:
    head = f"🤝 我接的单（已完成 {done} 单" + (f"，平均 {rating} 星" if rating is not None else "") + \
        (f"，未上门 {no_shows} 次" if no_shows else "") + f"；积分 {balance} 分）："
    return head + ("\n" + "\n".join(lines) if lines else "\n还没有接过单。")


# micro-wishes (微心愿)
BTN_CLAIM = "🙋 认领"
BTN_WISH_DONE = "✅ 已完成"
BTN_WISH_CANCEL = "撤回心愿"
WISH_PROMPT_MARK = "🎁 微心愿"
WISH_PROMPT = f"{WISH_PROMPT_MARK}\n请回复本条消息写下心愿（300字以内），例如：孩子开学想要一个新书包。"
WISH_PLACEHOLDER = "例如：孩子开学想要一个新书包"
WISH_NEEDS_GRID = "请先发送 /start 选择您住的楼栋，心愿会交给您所在网格的志愿者。"
WISHES_NONE = "现在没有待认领的微心愿，谢谢您的爱心！"
WISH_CLAIMED_TOAST = "认领成功！"
WISH_FULFIL_SENT = "已告诉网格员，确认后积分自动到账，谢谢您！"
WISH_CANCELLED = "心愿已撤回。"
WISH_REFUSED = {
    "taken": "这个心愿已经被其他人认领了，谢谢您的爱心！",
    "wrong_state": "这个心愿现在不能这样操作（可能已经完成或撤回）。",
    "not_yours": "这个心愿不是您认领或发布的。",
    "own": "不能认领自己的心愿。",
    "ok": "",
}


def btn_claim(wish_id: int) -> str:
    return f"🙋 认领 #{wish_id}"


def wish_text_bad(limit: int, length: int) -> str:
    if not length:
        return "请写下心愿的内容。"
    return f"心愿有 {length} 字，请精简到 {limit} 字以内。"


def wish_posted(wish_id: int, grid: str) -> str:
    return f"🎁 微心愿 #{wish_id} 已发布到{grid or '社区'}，有人认领时会通知您。"


def wish_offer(wish_id: int, text: str, grid: str) -> str:
    return f"🎁 新的微心愿 #{wish_id}（{grid}）：\n{preview(text, 300)}\n愿意帮忙请点“认领”。"


def wish_line(wish_id: int, text: str, grid: str, at: datetime) -> str:
    return f"· #{wish_id}（{grid}，{_day(at)}）{preview(text, 60)}"


def wishes_list(lines: list[str]) -> str:
    return "🎁 待认领的微心愿：\n" + "\n".join(lines)


def wish_claimed(wish_id: int, text: str) -> str:
    return f"🙋 您认领了微心愿 #{wish_id}：{preview(text, 100)}\n完成后请点“已完成”，网格员确认后积分到账。"


def wish_claimed_owner(wish_id: int, claimer: str) -> str:
    return f"🎁 您的微心愿 #{wish_id} 已由 {claimer} 认领，会尽快和您联系。"


def wish_points(wish_id: int, points: int, capped: bool, balance: int) -> str:
    if not points:
        return f"🎉 微心愿 #{wish_id} 已确认完成！今日此类积分已达上限，当前 {balance} 分。谢谢您！"
    extra = "（今日此类积分已达上限）" if capped else ""
    return f"🎉 微心愿 #{wish_id} 已确认完成，您获得 {points} 积分{extra}，当前 {balance} 分。谢谢您！"


def wish_done_owner(wish_id: int) -> str:
    return f"🎁 您的微心愿 #{wish_id} 已完成，祝您生活顺心！"


def wish_cancelled_claimer(wish_id: int) -> str:
    return f"微心愿 #{wish_id} 已被发布人撤回，不用再准备了，谢谢您的爱心！"


# activity check-in (签到)
CHECKIN_USAGE = "请在 /checkin 后面写上活动现场公布的口令，例如：/checkin 3721"
CHECKIN_UNKNOWN = "没有找到这个活动，请核对口令或二维码（签到只在活动当天有效）。"
CHECKIN_REFUSED = {
    "already": "您已经签到过「{title}」了，每人每场只能签到一次。",
    "ended": "「{title}」的签到已经结束了。",
}


def checked_in(title: str, points: int, capped: bool, balance: int) -> str:
    if not points:
        return f"✅ 签到成功：「{title}」。今日活动积分已达上限，本次不加分，当前 {balance} 分。"
    extra = "（今日活动积分已达上限）" if capped else ""
    return f"✅ 签到成功：「{title}」，获得 {points} 积分{extra}，当前 {balance} 分。"


# points (积分): what each ledger line is
POINTS_REVERSED = "冲正：{note}"
POINTS_EARNED_FOR = "{note}"


def earn_ways(order_points: int, wish_points: int) -> str:
    return (f"\n· 作为合伙人完成点单 +{order_points}分\n· 认领并完成微心愿 +{wish_points}分\n"
            "· 参加活动扫码或口令签到（/checkin）\n积分只能在积分超市兑换。")


# proposals (码上议) and 民生实事
PROPOSE_PROMPT_MARK = "💡 码上议"
PROPOSE_PROMPT = f"{PROPOSE_PROMPT_MARK}\n请回复本条消息写下您的建议（1000字以内），我们会在规定时间内答复您。"
PROPOSE_PLACEHOLDER = "例如：建议在9号楼下加装几件健身器材"
PROJECTS_NONE = "目前还没有公布的民生实事项目。"
BTN_SUBSCRIBE = "🔔 关注进展"
BTN_UNSUBSCRIBE = "🔕 取消关注"
BTN_SUGGEST = "💬 提建议"


def proposal_text_bad(limit: int, length: int) -> str:
    if not length:
        return "请写下建议的内容。"
    return f"您的建议有 {length} 字，请精简到 {limit} 字以内（内容多可以分几条发送）。"


def proposal_received(number: str, due: datetime) -> str:
    return f"💡 已收到您的建议，编号 {number}。我们会在 {_day(due)} 前答复您，谢谢您为社区出主意！"


def proposal_answered(number: str, text: str, answer: str) -> str:
    return f"💡 您的建议 {number} 有答复了：\n您的建议：{preview(text, 80)}\n答复：{answer}"


def proposal_line(number: str, text: str, due: datetime, answer: str | None, answered_at: datetime | None) -> str:
    if answer is not None and answered_at is not None:
        return f"· {number} {preview(text, 30)}\n  ✅ {_day(answered_at)} 答复：{preview(answer, 80)}"
    return f"· {number} {preview(text, 30)}\n  ⏳ 待答复（{_day(due)} 前）"


def my_proposals(lines: list[str]) -> str:
    if not lines:
        return "您还没有提过建议。发送 /propose 就可以提。"
    return "💡 我的建议：\n" + "\n".join(lines)


def project_card(project_id: int, name: str, unit: str, budget: str, steps: list[tuple[str, bool]],
                 subscribers: int, suggestions: int, last: str | None) -> str:
    lines = [f"🏗 民生实事 #{project_id}：{name}", f"责任单位：{unit or '未填写'}　预算：{budget or '未公布'}"]
    if steps:
        lines.append("进度：" + " → ".join(f"{'✅' if done else '⬜'}{step}" for step, done in steps))
    if last:
        lines.append(f"最新进展：{preview(last, 100)}")
    lines.append(f"{subscribers} 人关注 · 收到建议 {suggestions} 条")
    return "\n".join(lines)


def project_subscribed(name: str) -> str:
    return f"已关注「{name}」，有进展会通知您。"


def project_unsubscribed(name: str) -> str:
    return f"已取消关注「{name}」。"


def project_suggest_prompt(project_id: int, name: str) -> str:
    return f"{PROPOSE_PROMPT_MARK}·民生实事 #{project_id} {name}\n请回复本条消息写下您对这个项目的建议（1000字以内）。"


def project_progress(name: str, text: str) -> str:
    return f"🏗 您关注的民生实事「{name}」有新进展：\n{text}"


def council_poll_question(title: str) -> str:
    return f"【议事会】{title}"


# the three lists (需求清单、资源清单、服务清单)
LISTS_NO_GRID = "请先发送 /start 选择您住的楼栋，就能看到本网格的三张清单。"


def list_order(order_id: int, service: str, text: str) -> str:
    return f"· 点单 #{order_id} {service}：{preview(text, 40)}"


def list_wish(wish_id: int, text: str) -> str:
    return f"· 微心愿 #{wish_id}：{preview(text, 40)}"


def list_partner(name: str, services: list[str], when: str, where: str) -> str:
    extra = "，".join(x for x in (when, where) if x)
    return f"· {name}：{_names(services)}" + (f"（{extra}）" if extra else "")


def list_done_order(order_id: int, service: str, rating: int | None) -> str:
    return f"· 点单 #{order_id} {service}" + (f" {rating}★" if rating else "")


def list_done_wish(wish_id: int, text: str) -> str:
    return f"· 微心愿 #{wish_id}：{preview(text, 40)}"


def three_lists(place: str, month: int, needs: list[str], resources: list[str], services: list[str]) -> str:
    def part(title: str, rows: list[str], empty: str) -> str:
        return f"【{title}】\n" + ("\n".join(rows[:20]) + (f"\n…共 {len(rows)} 项" if len(rows) > 20 else "")
                                  if rows else empty)

    return "\n\n".join([
        f"📋 {place} · 三张清单（{month}月）",
        part("需求清单", needs, "暂无待办需求"),
        part("资源清单", resources, "暂无合伙人，欢迎发送 /partner 申请"),
        part("服务清单", services, "本月还没有完成的服务"),
        "点单 /order · 微心愿 /wish · 认领心愿 /wishes · 成为合伙人 /partner",
    ])


__all__ += [
    "BTN_CLAIM",
    "BTN_GIVE_BACK",
    "BTN_NO_SHOW",
    "BTN_ORDER_CANCEL",
    "BTN_ORDER_DONE",
    "BTN_PARTNER_NEXT",
    "BTN_PARTNER_PAUSE",
    "BTN_PARTNER_RESUME",
    "BTN_SUBSCRIBE",
    "BTN_SUGGEST",
    "BTN_TAKE",
    "BTN_UNSUBSCRIBE",
    "BTN_WISH_CANCEL",
    "BTN_WISH_DONE",
    "CHECKIN_REFUSED",
    "CHECKIN_UNKNOWN",
    "CHECKIN_USAGE",
    "LISTS_NO_GRID",
    "ORDER_CANCELLED",
    "ORDER_CHOOSE",
    "ORDER_CLOSE_REFUSED",
    "ORDER_GIVEN_BACK",
    "ORDER_NO_SHOW_NOTED",
    "ORDER_PLACEHOLDER",
    "ORDER_PROMPT_MARK",
    "ORDER_SAID_LABEL",
    "ORDER_STATUS",
    "ORDER_TAKEN_TOAST",
    "PARTNER_ALREADY",
    "PARTNER_CHOOSE",
    "PARTNER_CHOOSE_ONE",
    "PARTNER_PAUSED",
    "PARTNER_PENDING",
    "PARTNER_PLACEHOLDER",
    "PARTNER_PROMPT_MARK",
    "PARTNER_RESUMED",
    "PARTNER_SERVICES_LABEL",
    "PARTNER_WHEN_WHERE_BAD",
    "POINTS_EARNED_FOR",
    "POINTS_REVERSED",
    "PROJECTS_NONE",
    "PROPOSE_PLACEHOLDER",
    "PROPOSE_PROMPT",
    "PROPOSE_PROMPT_MARK",
    "STARS",
    "TAKE_REFUSED",
    "WISHES_NONE",
    "WISH_CANCELLED",
    "WISH_CLAIMED_TOAST",
    "WISH_FULFIL_SENT",
    "WISH_NEEDS_GRID",
    "WISH_PLACEHOLDER",
    "WISH_PROMPT",
    "WISH_PROMPT_MARK",
    "WISH_REFUSED",
    "btn_claim",
    "checked_in",
    "council_poll_question",
    "earn_ways",
    "list_done_order",
    "list_done_wish",
    "list_order",
    "list_partner",
    "list_wish",
    "my_orders",
    "my_proposals",
    "order_assigned_partner",
    "order_cancelled_partner",
    "order_done_partner",
    "order_given_back_resident",
    "order_line",
    "order_no_show_partner",
    "order_offer",
    "order_placed",
    "order_prompt",
    "order_rated",
    "order_taken_partner",
    "order_taken_resident",
    "order_text_bad",
    "order_to_desk_resident",
    "partner_applied",
    "partner_approved",
    "partner_orders",
    "partner_prompt",
    "partner_refused",
    "partner_refused_before",
    "partner_status",
    "project_card",
    "project_progress",
    "project_subscribed",
    "project_suggest_prompt",
    "project_unsubscribed",
    "proposal_answered",
    "proposal_line",
    "proposal_received",
    "proposal_text_bad",
    "three_lists",
    "wish_cancelled_claimer",
    "wish_claimed",
    "wish_claimed_owner",
    "wish_done_owner",
    "wish_line",
    "wish_offer",
    "wish_points",
    "wish_posted",
    "wish_text_bad",
    "wishes_list",
]


# -- everyday talk: a preamble, a phone number asked for, a yes to two matters (handlers.dispatch, services) ------
PREAMBLE_ASK = "好的，您请说，是什么事？\n说说在哪里、出了什么问题就行，比如：“9号楼2单元楼道灯坏了”。"
TWO_MATTERS_PRESS = "请点上面的按钮：“分开提交”两件分别办理，或者“合成一件提交”。"
PHONE_CENTRE = "社区党群服务中心"
PHONE_LIFT = "电梯困人应急救援电话"


def phones(found: list[tuple[str, str]]) -> str:
    """Numbers the community file knows, one line each: (whose, number)."""
    return "\n".join(["📞 联系电话：", *(f"· {who}：{number}" for who, number in found)])


def phone_unknown(whose: str, unit: str | None = None, worker: str | None = None,
                  worker_phone: str | None = None) -> str:
    """No number on file for ``whose``: said plainly, with what the resident can do instead (``unit``: who takes
    such matters here; the grid worker's number when the file has it)."""
    lines = [f"抱歉，我这里还没有{whose}的电话。"]
    lines.append(f"这类事由{unit}办理。" if unit else "")
    lines.append("您可以直接把要反映的事告诉我，我帮您登记转过去；也可以点“转人工”，请工作人员联系您。")
    if worker and worker_phone:
        lines.append(f"您的网格员是 {worker}，电话 {worker_phone}，有事也可以直接找网格员。")
    return "\n".join(x for x in lines if x)


__all__ += ["PHONE_CENTRE", "PHONE_LIFT", "PREAMBLE_ASK", "TWO_MATTERS_PRESS", "phone_unknown", "phones"]


# -- water pouring out (handlers.resident.draft) -------------------------------------------------------------------
# a hazard asked "what if" about (着火了可咋办) is filed as one: whom to call in case it is happening after all
HAZARD_TIP = "⚠️ 如果现在已经着火、闻到燃气味或有人触电，请马上拨打119（有人受伤打120），再告诉我。"
VALVE_TIP = "💧 水止不住的话，先关上家里的总水阀（一般在厨房、卫生间或水表旁边），再把电闸关掉，防止漏电。"

__all__ += ["HAZARD_TIP", "VALVE_TIP"]


# -- how to pay a household bill (handlers.dispatch) ----------------------------------------------------------------
HOW_TO_PAY = (
    "💡 缴费小帮手：\n"
    "· 水费、电费、燃气费、暖气费：可以在手机微信或支付宝的“生活缴费”里交，也可以到供水、供电、燃气公司的营业厅交；\n"
    "· 物业费：到物业服务中心交，或问问物业有没有线上缴费；\n"
    "· 不会用手机的话，可以请家里人或网格员帮忙，也可以点下面的“转人工”。"
)

__all__ += ["HOW_TO_PAY"]


# -- 待补充 unanswered: the sweep reminds the resident once (services.cases.sweep) -----------------------------------
def resident_info_reminder(number: str, since: datetime) -> str:
    return (f"🔔 您的工单 {number} 自 {fmt_time(since)} 起在等您补充信息，补充后才能继续办理。"
            "请直接回复本消息补充；如不再需要，也可以撤回工单。")


__all__ += ["resident_info_reminder"]


def draft_already_sent(number: str) -> str:
    """A button of a draft already confirmed (pressed, or a yes typed): it is in, nothing to do again."""
    return f"这件事已经提交过了，工单号 {number}，不用再点了。想看进度请发“我的工单”。"


def withdraw_followed(numbers: list[str]) -> str:
    """A take-back ("算了 不修了") from a resident whose complaint joined a neighbour's case and who has none of
    their own: the case is the neighbour's, so it stays and is handled; nothing for them to do."""
    which = "、".join(numbers)
    return (f"您反映的事和邻居先提交的诉求是同一件（工单号 {which}），已记在这件诉求下。这件诉求是邻居提交的，"
            "只有提交的人能撤回，我们会继续办理；您这边不用再做什么，不想管了也没关系。想看进度请发“我的工单”。")


def confirm_again(number: str) -> str:
    """确认 typed again just after a typed (or pressed) 确认 filed the case: it is in, as the button says."""
    return f"这件事已经提交过了，工单号 {number}，不用再确认了。想看进度请发“我的工单”。"


def follower_rating_thanks(number: str, code: str) -> str:
    """A neighbour whose complaint joined the case rated it: their answer is kept; 不满意 reopens it as the author's."""
    if code == "u":
        return (f"很抱歉没有让您满意。工单 {number} 已重新办理，并已上报上一级督办。\n"
                "如愿意，可以直接回复本消息说说哪里不满意（也可以不回复）。")
    return f"感谢您的评价！您对工单 {number} 的评价已记录。有需要随时找我。"


def rating_unsatisfied_heard(number: str) -> str:
    """不满意 typed with the reason ("不满意 还是有味道"): the reason went to the desk, so it is not asked for again."""
    return (f"很抱歉没有让您满意。工单 {number} 已重新办理，并已上报上一级督办。\n"
            "您说的情况已经转给承办人员，他们会重新处理。")


__all__ += ["confirm_again", "draft_already_sent", "follower_rating_thanks", "rating_unsatisfied_heard",
            "withdraw_followed"]


# -- a topic or a place said before the matter; a place corrected just after filing (handlers.resident.followup) ----
_MATTER_EXAMPLES = {
    "dispute": "“楼上漏水到我家，邻居不肯修，想请社区帮忙调解”",
    "repair": "“9号楼2单元楼道灯坏了”",
    "property": "“3号楼门口的垃圾好几天没人清”",
    "sanitation": "“东门花坛边上堆满了垃圾”",
    "legal": "“房东不退押金，想问问怎么办”",
}


def ask_matter(topic: str | None, hint: str | None, place: str | None) -> str:
    """A topic ("调解") or a place ("我在3号楼") said alone: asked what happened, with an example of that kind."""
    head = f"好的，是{topic}方面的事。" if topic else "好的。"
    where = f"地点记下了：{place}。" if place else ""
    ask = "请说说具体出了什么事" + ("" if place else "、在哪里")
    return f"{head}{where}{ask}，比如：{_MATTER_EXAMPLES.get(hint or '', '“9号楼2单元楼道灯坏了”')}。"


def place_corrected(number: str, place: str) -> str:
    return f"好的，已把工单 {number} 的地点改为：{place}。工作人员会按新地点处理。"


def place_fixed(number: str, status: str) -> str:
    """The case can no longer be moved here (being handled, closed, or a neighbour's case joined)."""
    return (f"工单 {number} 现在{status}，地点在这里改不了了。\n"
            "请点下面的“转人工”，或者直接回复那条工单消息，说明正确的地点，工作人员会帮您更正。")


__all__ += ["ask_matter", "place_corrected", "place_fixed"]
