"""Every sentence the bot says, in one place (Simplified Chinese).

Handlers never inline user-facing strings: wording is reviewed here, and a later translation or a
tone change touches one file. Functions take plain values, never Telegram objects.
"""

from __future__ import annotations

from datetime import datetime

from services import local

# -- main menu (reply keyboard) ------
MENU_REPORT = "我要反映"
MENU_TICKETS = "我的工单"
MENU_SERVICES = "便民服务"
MENU_POINTS = "我的积分"
MENU_GRID = "联系网格员"
MENU_ROWS = [[MENU_REPORT, MENU_TICKETS], [MENU_SERVICES, MENU_POINTS, MENU_GRID]]
MENU_PLACEHOLDER = "直接输入您要反映的问题…"

# -- buttons ------
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

STATUS = {
    "received": "已受理",
    "dispatched": "已派单",
    "signed": "已签收",
    "in_progress": "办理中",
    "pending_info": "待补充",
    "resolved": "已办结",
    "followed_up": "已回访",
    "closed": "已关闭",
    "withdrawn": "已撤回",
    "merged": "已合并",
    "reopened": "重新办理",
}

EVENT = {
    "created": "居民提交诉求",
    "withdrawn": "居民撤回",
    "status_changed": "状态变更",
    "dispatched": "派单",
    "note": "备注",
    "reply": "答复",
    "escalated": "升级处理",
    "merged": "合并",
    "rated": "评价",
    "linked": "居民补充反映",
    "reassigned": "转派",
    "reminded": "催办提醒",
    "mediation": "调解进展",
}
EVENT_MEETING_REMINDED = "调解会议提醒"

WEEKDAYS = "一二三四五六日"

# -- greetings and help ------
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
REPORT_PROMPT = "请直接描述您遇到的问题（可以附照片），例如：“12号楼电梯坏了，困在半路”。"


def welcome(name: str, community: str) -> str:
    return f"{name}您好，欢迎使用{community}“邻里”居民服务！\n\n{HELP}"


ASK_BUILDING = "为了把问题派给您所在网格的网格员，请先选择您住的楼栋："
ASK_AGE = "您是否已年满65周岁？（用于爱心义剪等敬老服务，可跳过）"
AGE_SAVED = "已记录，谢谢！"
BAD_DEEP_LINK = "这个二维码链接无效或已过期。"


def bound_grid(grid_name: str, worker: str) -> str:
    return f"已为您绑定【{grid_name}】，网格员：{worker}。"


def bound_building(building: str, grid_name: str | None, worker: str | None) -> str:
    if grid_name:
        return f"已记录：{building}，属于【{grid_name}】，网格员：{worker}。"
    return f"已记录：{building}。"


# -- the complaint draft ------
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


# -- emergencies ------
def sos_opened(number: str) -> str:
    return (
        "🚨 已收到紧急求助，已立即通知网格员和社区值班人员！\n"
        "⚠️ 如有生命危险，请马上拨打 110（报警）、120（急救）、119（火警）。\n"
        f"求助单号：{number}"
    )


def staff_sos(number: str, resident: str, grid: str | None, text: str) -> str:
    return f"🚨🚨 紧急求助 {number}\n居民：{resident}　网格：{grid or '未绑定'}\n内容：{preview(text, 500)}"


# -- tickets ------
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

# -- services ------
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

# -- grid worker / people ------
def grid_worker(grid_name: str, worker: str) -> str:
    return (
        f"您所在的【{grid_name}】网格员是 {worker}。\n"
        "有事可以直接发给我，我会登记并派给网格员；需要人工请点“转人工”。"
    )


HUMAN_FORWARDED = "已转给社区工作人员，他们会尽快联系您。"
HUMAN_UNAVAILABLE = "抱歉，人工服务暂未开通。您的问题可以直接发给我登记成工单。"


def staff_forward_header(resident: str, tg_user_id: int, grid: str | None) -> str:
    return f"👤 居民 {resident}（ID {tg_user_id}，网格 {grid or '未绑定'}）请求人工服务："


# -- not understood and bad input ------
NOT_UNDERSTOOD = (
    "抱歉，我没太明白您的意思。🙏\n"
    "您可以换个说法描述问题，或者用下面的菜单；需要人工的话点“转人工”。"
)
MEDIA_UNSUPPORTED = {
    "sticker": "收到您的表情啦😊 有问题请直接用文字告诉我。",
    "voice": "暂时听不了语音，请用文字描述一下，谢谢！",
    "audio": "暂时无法处理音频，请用文字描述一下，谢谢！",
    "video": "暂时无法处理视频，请发照片或用文字描述，谢谢！",
    "document": "暂时无法处理文件，请发照片或用文字描述，谢谢！",
    "contact": "收到名片。如需留联系电话，请在描述问题时一并写上。",
    "location": "收到位置。请再用文字说明是什么问题。",
    "other": "暂时无法处理这类消息，请用文字描述，谢谢！",
}
LOCATION_SAVED = "📍 位置已记录。"
TOO_LONG = "内容较长，我先按前面的部分理解；完整内容会一并提交。"
EMPTY_TEXT = "请用文字告诉我您遇到的问题。"
UNKNOWN_COMMAND = "没有这个命令。发送 /help 查看能做什么。"
GROUP_ONLY_PRIVATE = "请私聊我使用居民服务：点我的头像，再点“发消息”。"
STALE_BUTTON = "这个按钮已失效，请重新操作。"
ERROR = "抱歉，系统出了点问题，您的内容没有丢失，请稍后再试。"


def staff_error(update_id: int | None, error: str) -> str:
    return f"⚠️ 处理更新 {update_id} 时出错：{error}"


# -- formatting helpers ------
def fmt_time(at: datetime) -> str:
    t = local(at)
    return f"{t.month}月{t.day}日 {t:%H:%M}"


def preview(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- staff desk ------
# Buttons on a case card in a staff chat (签收 · 转派 · 需补充 · 办结 · 升级) and the resident's rating.
BTN_SIGN = "签收"
BTN_REASSIGN = "转派"
BTN_NEED_INFO = "需补充"
BTN_RESOLVE = "办结"
BTN_ESCALATE = "升级"
BTN_UNIT_BACK = "↩️ 返回"
BTN_RATE = {"s": "满意", "b": "基本满意", "u": "不满意"}
COLOUR_MARK = {"red": "🔴", "yellow": "🟡", "green": "🟢"}
ESCALATION_REASON = {
    "breached": "超过办理时限",
    "sign_overdue": "超时未签收",
    "sos": "紧急求助",
    "unsatisfied": "居民不满意",
    "manual": "工作人员升级",
}
CARD_HEADER_NEW = "🆕 新工单"
CARD_HEADER_TICKET = "📋 工单"
CARD_HEADER_ESCALATION = "⬆️ 升级工单"
REASSIGN_REASON = "工作人员转派"


def card_header_escalated(level: str, reason: str) -> str:
    return f"⬆️ 升级至{level}（{reason}）"


def card_header_reassigned(from_unit: str) -> str:
    return f"🔀 转派工单（原承办：{from_unit}）"


def staff_card(header: str, number: str, category: str, unit: str, location: str | None, text: str,
               due: datetime, resident: str, grid: str | None, status: str, colour: str,
               level: str | None, result: str | None) -> str:
    lines = [
        f"{header} {number}",
        f"类别：{category}　承办：{unit}",
        f"网格：{grid or '未绑定'}　居民：{resident}",
        f"地点：{location or '未填写'}",
        f"内容：{preview(text, 500)}",
        f"时限：{fmt_time(due)} {colour}",
        f"状态：{status}" + (f"　已升级：{level}" if level else ""),
    ]
    if result:
        lines.append(f"办理结果：{preview(result, 300)}")
    lines.append("直接回复本消息即可答复居民；/note 记内部备注。")
    return "\n".join(lines)


STAFF_SIGNED = "已签收，请尽快办理。"
STAFF_NOT_HERE = "本群不能办理这个工单。"
STAFF_NO_ROLE = (
    "您没有办理这个工单的权限：需要承办单位或上级的工作人员、所在网格的网格员或管理员。请联系管理员设置角色。"
)
STAFF_NO_ROLE_VIEW = "只有工作人员、网格员和管理员可以查看工单统计。请联系管理员设置角色。"
STAFF_COMMAND_PRIVATE = (
    "这是工作人员在工作群里用的命令，私聊里不能使用。有诉求请直接告诉我，发送 /help 查看能做什么。"
)
STAFF_NO_TICKET = "找不到这个工单。"
STAFF_SIGN_FIRST = "请先签收。"
STAFF_CHOOSE_UNIT = "请选择转派给哪个单位。"
STAFF_NO_OTHER_UNIT = "没有其他单位可以转派。"
STAFF_PROMPTED = "请在群里回复刚才的提示消息。"
STAFF_NOT_DESK = "本群不是工作群。居民服务请私聊我。"
STAFF_RELAYED = "✅ 已转达居民。"
STAFF_RELAY_FAILED = "⚠️ 居民暂时收不到消息（可能已屏蔽机器人），答复已记录。"
STAFF_NOTE_SAVED = "📝 备注已记录，居民看不到。"
STAFF_NOTE_USAGE = "用法：/note LL-20260317-0001 备注内容，或回复工单消息发送“/note 备注内容”。"
STAFF_EMPTY_TEXT = "请用文字填写。"
STAFF_REFUSED = {
    "not_allowed": "当前状态不能这样操作。",
    "final": "这个工单已经结束，不能再操作。",
    "same_status": "已经是这个状态了。",
    "result_required": "办结需要填写办理结果。",
    "not_previous_status": "当前状态不能这样操作。",
    "reason_required": "转派需要说明原因。",
    "unknown_unit": "没有这个单位。",
    "same_unit": "已经由这个单位承办。",
}


def staff_refused(reason: str, status: str) -> str:
    return f"{STAFF_REFUSED.get(reason, STAFF_REFUSED['not_allowed'])}（当前状态：{status}）"


def staff_conflict(status: str) -> str:
    return f"操作未生效：工单刚被其他人处理过，当前状态：{status}。卡片已刷新，请再看一下。"


def staff_reassigned(unit: str) -> str:
    return f"已转派给：{unit}。"


def staff_escalated(level: str) -> str:
    return f"已升级至：{level}。"


def staff_ask_result(number: str) -> str:
    return f"✍️ 办结 {number}：请直接回复本消息，写明办理结果（会告知居民）。"


def staff_ask_info(number: str) -> str:
    return f"❓ {number} 需补充：请直接回复本消息，写明需要居民补充什么（会转告居民，办理时限暂停计时）。"


ASK_RESULT_PLACEHOLDER = "办理结果…"
ASK_INFO_PLACEHOLDER = "需要居民补充的内容…"


def staff_resolved(number: str) -> str:
    return f"✅ {number} 已办结，结果已告知居民，稍后自动回访。"


def staff_info_asked(number: str) -> str:
    return f"✅ 已请居民补充 {number}，办理时限暂停计时，居民回复后会发到这里。"


def staff_resident_said(number: str, resident: str, text: str, resumed: bool) -> str:
    head = f"💬 居民 {resident} 补充了 {number}（时限恢复计时）：" if resumed else f"💬 居民 {resident} 回复 {number}："
    return f"{head}\n{preview(text, 1500)}\n\n直接回复本消息即可答复居民。"


def staff_reminder(number: str, kind: str, due: datetime) -> str:
    if kind == "sign_overdue":
        return f"⏰ 催办 {number}：已超过签收时限仍未签收，请尽快签收办理。"
    return f"🟡 催办 {number}：办理时限已用去四分之三，请于 {fmt_time(due)} 前办结。"


def staff_meeting(number: str, at: datetime) -> str:
    return f"📅 调解会议提醒 {number}：{fmt_time(at)} 召开，请做好准备。"


def resident_staff_reply(number: str, unit: str, text: str) -> str:
    return f"💬 {unit}答复（工单 {number}）：\n{preview(text, 1500)}\n\n如需回复，请直接回复本消息。"


def resident_need_info(number: str, unit: str, question: str) -> str:
    return (
        f"❓ {unit}需要您补充信息（工单 {number}）：\n{preview(question, 1500)}\n\n"
        "请直接回复本消息补充，补充后继续办理。"
    )


def resident_resolved(number: str, unit: str, result: str) -> str:
    return (
        f"✅ 您的工单 {number} 已办结。\n承办单位：{unit}\n"
        f"办理结果：{preview(result, 1500)}\n\n稍后会请您评价办理情况。"
    )


RESIDENT_SENT = "已转给承办单位，有答复会第一时间通知您。"
RESIDENT_INFO_THANKS = "收到您的补充，已转给承办单位继续办理。"
RESIDENT_TICKET_CLOSED = "这个工单已经结束了。如有新问题，请直接描述，我帮您重新登记。"


def rating_request(number: str, result: str | None) -> str:
    lines = [f"📞 回访：您的工单 {number} 已办结。"]
    if result:
        lines.append(f"办理结果：{preview(result, 300)}")
    lines.append("请您对办理情况做个评价：")
    return "\n".join(lines)


def rating_thanks(number: str, code: str) -> str:
    if code == "u":
        return (
            f"很抱歉没有让您满意。工单 {number} 已重新办理，并已上报上一级督办。\n"
            "如愿意，可以直接回复本消息说说哪里不满意（也可以不回复）。"
        )
    return f"感谢您的评价！工单 {number} 已办结归档。有需要随时找我。"


RATING_NOT_YOURS = "只能评价您本人提交的工单。"
RATING_CLOSED = "这个工单已经评价过或已关闭，谢谢您！"


def queue_header(scope: str, count: int) -> str:
    return f"📋 {scope}未办结工单：{count} 件"


def queue_line(number: str, category: str, status: str, due: datetime) -> str:
    return f"· {number} {category}【{status}】时限 {fmt_time(due)}"


def queue_more(count: int) -> str:
    return f"…另有 {count} 件未列出"


QUEUE_ALL = "全部"
QUEUE_EMPTY = "当前没有未办结的工单 👍"


def board(rows: list[tuple[str, int, int, int]]) -> str:
    if not rows:
        return QUEUE_EMPTY
    lines = ["📊 未办结工单看板（🔴超时 🟡临期 🟢正常）"]
    lines += [f"· {unit}：🔴{r} 🟡{y} 🟢{g}" for unit, r, y, g in rows]
    total = [sum(col) for col in zip(*(row[1:] for row in rows), strict=True)]
    lines.append(f"合计：🔴{total[0]} 🟡{total[1]} 🟢{total[2]}")
    return "\n".join(lines)


def rates(days: int, response: float | None, resolution: float | None, satisfaction: float | None,
          counts: tuple[str, str, str], unrated: int) -> str:
    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.0%}"

    return "\n".join([
        f"📈 近{days}天三率",
        f"响应率（按时签收）：{pct(response)}（{counts[0]}）",
        f"办结率（按时办结）：{pct(resolution)}（{counts[1]}）",
        f"满意率：{pct(satisfaction)}（{counts[2]}）",
        f"未评价：{unrated} 件",
    ])


# -- mediation (调解) ------
MEDIATION_STAGE = {
    "applied": "申请", "registered": "登记", "meeting": "会议", "negotiation": "协商", "agreement": "协议",
    "follow_up": "回访",
}
MEDIATE_USAGE = (
    "用法：/mediate 工单号 阶段 [时间] [备注]，阶段依次为 登记、会议、协商、协议、回访；"
    "会议需写时间，如 2026-11-25 14:00。"
)
TICKET_NOT_FOUND_STAFF = "没有找到这个工单，或本群不能处理它。"
MEDIATE_REFUSED = {
    "not_dispute": "只有矛盾纠纷类工单走调解流程。",
    "not_active": "这个工单已撤回或合并，不能再调解。",
    "out_of_order": "调解要按 申请→登记→会议→协商→协议→回访 的顺序记录。",
    "meeting_time_required": "会议阶段请写上时间，如 2026-11-25 14:00。",
    "meeting_time_unexpected": "只有会议阶段需要时间。",
}


def mediation_recorded(number: str, stage: str, when: datetime | None) -> str:
    return f"已记录 {number} 调解进展：{stage}" + (f"，会议时间 {fmt_time(when)}" if when else "") + "。"


def mediation_meeting(number: str, when: datetime | None, note: str) -> str:
    at = fmt_time(when) if when else "另行通知"
    return f"📅 您的调解事项（工单 {number}）定于 {at} 召开调解会议" + (f"，{note}" if note else "") + "。请准时参加。"


# -- roles and notices ------
ROLE_NAMES = {"resident": "居民", "gridworker": "网格员", "staff": "工作人员", "admin": "管理员"}
GRANT_USAGE = (
    "用法：/grant 用户 角色 [范围]。用户写 @用户名 或数字ID，也可以回复对方的消息发送 /grant 角色 [范围]。"
    "角色为 gridworker（范围写网格编号，如 A03）、staff（范围写单位代码，或上级层级 community、street）或 admin。"
)
REVOKE_USAGE = "用法：/revoke 用户 角色 [范围]，与 /grant 的写法相同。"


def grant_unknown_user(name: str) -> str:
    return (f"我还不认识 {name}：请对方先给我发一条消息（或在有我的群里说句话），"
            "或者回复对方的消息发送 /grant 角色 [范围]，也可以写对方的数字ID。")
GRANT_REFUSED = "只有管理员可以设置角色。"
GRANT_ERRORS = {
    "bad_role": "角色只能是 gridworker、staff 或 admin。",
    "scope_required": "网格员要写网格编号，工作人员要写单位代码。",
    "scope_unexpected": "管理员不需要写范围。",
    "unknown_grid": "没有这个网格编号。",
    "unknown_unit": "没有这个单位代码。",
}


def role_label(role: str, scope: str) -> str:
    return ROLE_NAMES.get(role, role) + (f"（{scope}）" if scope else "")


def role_granted(user_id: int, role: str, scope: str, new: bool) -> str:
    return f"已设置 {user_id} 为{role_label(role, scope)}。" if new else f"{user_id} 已经是{role_label(role, scope)}。"


def role_revoked(user_id: int, role: str, scope: str, found: bool) -> str:
    label = role_label(role, scope)
    return f"已取消 {user_id} 的{label}角色。" if found else f"{user_id} 没有{label}角色。"


NOTICE_KINDS = {"outage": "停水停电", "fraud": "反诈提醒", "council": "议事会通知", "signup": "活动报名",
                "general": "一般通知"}
NOTICE_TEMPLATES = {
    "outage": "⚠️【停水停电通知】",
    "fraud": "🚨【反诈提醒】",
    "council": "📋【议事会通知】",
    "signup": "🙋【活动报名】",
    "general": "📢【社区通知】",
}
NOTICE_HINTS = {
    "outage": "请写明范围、时间和恢复时间，如：9号楼 11月25日 9:00-12:00 停水，请提前储水。",
    "fraud": "请写明骗局手法和提醒要点。",
    "council": "请写明议事会时间、地点和议题。",
    "signup": "请写明活动内容、时间、地点和报名方式。",
    "general": "请写下通知内容。",
}
NOTICE_REFUSED = "只有网格员和管理员可以发通知。"
NOTICE_CHOOSE_KIND = "请选择通知类型："
NOTICE_CHOOSE_AUDIENCE = "发给谁？"
NOTICE_EMPTY = "通知内容不能为空，请重新输入。"
BTN_NOTICE_SCHEDULE = "定时发送"
BTN_NOTICE_NOW = "不定时（返回预览）"
BTN_NOTICE_WITHDRAW = "撤回这条定时通知"
NOTICE_TONIGHT = "今晚 20:00"
NOTICE_TOMORROW_MORNING = "明早 8:00"
NOTICE_TOMORROW_EVENING = "明晚 20:00"
NOTICE_ASK_TIME = "什么时候发？点下面的时间，或直接输入，如“11-25 08:00”“2026-11-25 8:00”“20:00”（北京时间）。"
NOTICE_TIME_UNREADABLE = "没看懂这个时间。请这样写：11-25 08:00、2026-11-25 8:00 或 20:00，或点菜单里的按钮。"
NOTICE_TIME_PAST = "这个时间已经过了，请选一个以后的时间。"
NOTICE_TIME_SET = "已设定发送时间，请看下面的预览。"
NOTICE_TIME_WENT_BY = "预约的发送时间已经过了。请点「定时发送」重新选时间（或选「不定时」后确认立即发送）。"
NOTICE_ALL_GRIDS = "我负责的全部网格"
NOTICE_COMMUNITY = "全社区"
BTN_NOTICE_SEND = "确认发送"
BTN_NOTICE_CANCEL = "取消"
NOTICE_CANCELLED = "已取消，这条通知没有发出。"
NOTICE_GONE = "这条通知已经发出或取消了。"
NOTICE_NOBODY = "这个范围里还没有登记的居民，通知没有发出。"
NOTICE_MUTED = "好的，以后一般通知不再打扰您；停水停电和反诈等紧急通知仍会发送。发 /unmute 恢复接收。"
NOTICE_ALREADY_MUTED = "您已经关闭了一般通知。发 /unmute 恢复接收。"
NOTICE_UNMUTED = "已恢复接收社区通知。"
NOTICE_NOT_MUTED = "您一直在接收社区通知。"


def notice_grid(code: str, name: str) -> str:
    return f"网格 {code} {name}"


def notice_message(kind: str, text: str) -> str:
    """What residents receive."""
    return f"{NOTICE_TEMPLATES.get(kind, NOTICE_TEMPLATES['general'])}\n{text}"


def notice_ask_text(kind: str) -> str:
    return (f"类型：{NOTICE_KINDS.get(kind, kind)}。{NOTICE_HINTS.get(kind, NOTICE_HINTS['general'])}\n"
            "可以附一张图片：发图片时把通知文字写在图片说明里。")


def notice_too_long(limit: int, photo: bool) -> str:
    where = "带图片的通知（图片说明）" if photo else "通知"
    return f"{where}太长了，请控制在 {limit} 字以内。"


def notice_photo_taken(limit: int) -> str:
    return f"已收到图片。请再发送通知文字（{limit} 字以内）。"


def notice_time_too_far(days: int) -> str:
    return f"最多只能提前 {days} 天预约发送。"


def notice_preview(kind: str, text: str, audience: str, count: int, urgent: bool, *, photo: bool = False,
                   send_at: datetime | None = None) -> str:
    note = "（紧急通知，关闭通知的居民也会收到）" if urgent else ""
    lines = ["通知预览", "——————", notice_message(kind, text), "——————"]
    if photo:
        lines.append("附图：1 张（随通知一起发出）")
    lines += [f"发送范围：{audience}", f"收件居民：{count} 人{note}",
              f"发送时间：{fmt_time(send_at)}（定时）" if send_at else "发送时间：确认后立即发送",
              f"确认无误请点「{BTN_NOTICE_SEND}」。"]
    return "\n".join(lines)


def notice_scheduled(at: datetime, count: int) -> str:
    return f"⏰ 已预约：{fmt_time(at)} 发给 {count} 位居民。到时间前可以撤回。"


def notice_progress(done: int, total: int) -> str:
    return f"正在发送：{done}/{total}"


def notice_report(total: int, sent: int, unreachable: int, failed: int) -> str:
    return (f"通知发送完毕：共 {total} 人，已送达 {sent} 人，"
            f"无法送达（已屏蔽机器人）{unreachable} 人，发送失败 {failed} 人。")
