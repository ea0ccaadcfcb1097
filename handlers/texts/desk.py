"""What the staff desk reads: case cards, their buttons, relays, queues, figures and mediation.

Part of the catalogue (``handlers.texts``): every sentence the bot says lives in one of its modules."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.texts.common import fmt_time, preview
from services import local


def staff_sos(number: str, resident: str, grid: str | None, text: str, *, kind_label: str = "紧急求助",
              place: str | None = None, phone: str | None = None) -> str:
    who = resident + (f"（{phone}）" if phone else "")
    return (f"🚨🚨 {kind_label} {number}\n居民：{who}　网格：{grid or '未绑定'}\n"
            f"地点：{place or '未知，正在询问居民'}\n内容：{preview(text, 500)}")


def staff_sos_place(number: str, place: str) -> str:
    return f"📍 紧急求助 {number} 的地点：{place}"


def staff_sos_more(number: str, words: str) -> str:
    return f"🚨 紧急求助 {number} 居民又说：{preview(words, 500)}"


def staff_sos_help_came(number: str, resident: str, words: str) -> str:
    """Under an emergency's card: the resident says help came (救护车到了), so the desk knows where things stand."""
    return f"🚑 紧急求助 {number}：居民{resident}说：“{preview(words, 300)}”"


def card_header_sos(kind_label: str) -> str:
    return f"🚨 紧急求助·{kind_label}"


def emergency_category(kind_label: str | None) -> str:
    """An emergency's 类别 on its card and in queues: its kind (急病或受伤, 火情 …), never the category that only
    chose the unit holding it (a fall is "other")."""
    return f"紧急求助·{kind_label}" if kind_label else "紧急求助"


def staff_forward_header(resident: str, tg_user_id: int, grid: str | None) -> str:
    return f"👤 居民 {resident}（ID {tg_user_id}，网格 {grid or '未绑定'}）请求人工服务："


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


CHANNEL = {"telegram": "机器人", "phone": "电话", "visit": "来访", "letter": "信件", "patrol": "走访",
           "12345": "12345热线", "web": "服务码", "open311": "外部平台"}


def grid_label(code: str | None, name: str | None, worker: str | None) -> str:
    if not code:
        return "未绑定"
    return f"{code} {name or ''}".strip() + (f"（网格员 {worker}）" if worker else "")


def source_label(channel: str, recorder: str | None, phone: str | None) -> str | None:
    """How the case came in, when not through the bot by the resident themself."""
    if channel == "telegram" and not recorder:
        return None
    line = CHANNEL.get(channel, channel)
    if recorder:
        line += f"，{recorder}代录"
    return line + (f"，联系电话 {phone}" if phone else "")


def staff_card(header: str, number: str, category: str, unit: str, location: str | None, text: str,
               due: datetime, resident: str, grid: str | None, status: str, colour: str,
               level: str | None, result: str | None, source: str | None = None,
               supervision: str | None = None, read_only: bool = False) -> str:
    """A case card; ``colour`` "" for a case no longer open (no traffic light); ``read_only``: for a supervisor, who
    reads and may 督办 but never handles (no buttons, nothing to answer the resident with)."""
    lines = [
        f"{header} {number}",
        f"类别：{category}　承办：{unit}",
        f"网格：{grid or '未绑定'}　居民：{resident}",
        *([f"来源：{source}"] if source else []),
        f"地点：{location or '未填写'}",
        f"内容：{preview(text, 500)}",
        f"时限：{fmt_time(due)} {colour}".rstrip(),
        f"状态：{status}" + (f"　已升级：{level}" if level else ""),
        *([supervision] if supervision else []),
    ]
    if result:
        lines.append(f"办理结果：{preview(result, 300)}")
    lines.append(card_read_only(number) if read_only else "直接回复本消息即可答复居民；/note 记内部备注。")
    return "\n".join(lines)


def card_read_only(number: str) -> str:
    """The last line of a supervisor's card in place of the desk's reply hint."""
    return f"（只读）如需督办，发送 /supervise {number} 督办原因 [回复期限]"


STAFF_SIGNED = "已签收，请尽快办理。"
CASE_USAGE = "用法：/case 工单号，如 /case LL-20261201-0007，调出这个工单的卡片和按钮。"


def queue_button(mark: str, number: str) -> str:
    """The case's day and number of the day (🔴0302-0002): the number alone repeats every day, so a month's queue
    showed four "🔴0002" buttons nobody could tell apart."""
    _, day, seq = [*number.split("-"), "", ""][:3]
    return f"{mark}{day[4:8]}-{seq}" if len(day) == 8 and seq else f"{mark}{number}"

BTN_RECATEGORIZE_CASE = "🏷 改类别"
STAFF_CHOOSE_CATEGORY = "请选择正确的类别"


def staff_recategorized(category: str) -> str:
    return f"已改为「{category}」，机器人会从这次更正中学习。"

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
STAFF_PROMPTED_PRIVATE = "请直接回复刚才的提示消息。"
STAFF_NOT_YOUR_GRID = "这个工单不在您负责的网格，私聊里不能办理。"
STAFF_OWN_CASE = "这是您本人反映的诉求，不能由您自己办理，承办单位会处理。"
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


def staff_escalated_top(level: str) -> str:
    """升级 pressed on a case the top level already holds: nothing is posted again."""
    return f"已在最高一级（{level}）办理，不能再升级。"


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


def staff_resident_reopened(number: str, resident: str, text: str) -> str:
    """A resident who could not be reached answered after all: the case closed as 无法联系 is done again."""
    return (f"🔄 {number} 曾按无法联系办结，居民 {resident} 现在回复了，工单已重新办理，请重新签收：\n"
            f"{preview(text, 1500)}\n\n直接回复本消息即可答复居民。")


def staff_resident_said(number: str, resident: str, text: str, resumed: bool) -> str:
    head = f"💬 居民 {resident} 补充了 {number}（时限恢复计时）：" if resumed else f"💬 居民 {resident} 回复 {number}："
    return f"{head}\n{preview(text, 1500)}\n\n直接回复本消息即可答复居民。"


def staff_reminder(number: str, kind: str, due: datetime) -> str:
    if kind == "sign_overdue":
        return f"⏰ 催办 {number}：已超过签收时限仍未签收，请尽快签收办理。"
    if kind == "overdue":
        return staff_overdue_reminder(number, due)
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


def resident_signed(number: str, unit: str, handler: str, due: datetime) -> str:
    who = f"，承办人：{handler}" if handler else ""
    return f"📌 您的工单 {number} 已由{unit}签收{who}，将在 {fmt_time(due)} 前办结。"


def resident_reassigned(number: str, unit: str) -> str:
    return f"🔀 您的工单 {number} 已转交{unit}办理，办理时限不变。"


def resident_resolved(number: str, unit: str, result: str) -> str:
    return (
        f"✅ 您的工单 {number} 已办结。\n承办单位：{unit}\n"
        f"办理结果：{preview(result, 1500)}\n\n稍后会请您评价办理情况。"
    )


RESIDENT_SENT = "已转给承办单位，有答复会第一时间通知您。"
RESIDENT_INFO_THANKS = "收到您的补充，已转给承办单位继续办理。"
RESIDENT_TICKET_CLOSED = "这个工单已经结束了。如有新问题，请直接描述，我帮您重新登记。"
RESIDENT_REOPENED = "收到您的回复，工单已重新办理，已转给承办单位，有进展会第一时间通知您。"


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


def queue_line(number: str, category: str, status: str, due: datetime, late: timedelta | None = None) -> str:
    """``late``: how long past its deadline a red case is (how bad it is, without working it out from the date)."""
    return f"· {number} {category}【{status}】时限 {fmt_time(due)}" + (f"，{overdue_for(late)}" if late else "")


def overdue_for(late: timedelta) -> str:
    hours = int(late.total_seconds() // 3600)
    return f"已超时{hours // 24}天" if hours >= 24 else f"已超时{max(hours, 1)}小时"


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


def rates(scope: str, days: int, response: str, on_time: str, satisfaction: str, unrated: str,
          unreachable: str = "0") -> str:
    """/rates: the chat's own scope named (a unit's chat sees its unit), the figures shown as the reports show them
    (the same names, numerator/denominator); cases closed as 无法联系 counted apart (never asked to rate)."""
    return "\n".join([
        f"📈 {scope}｜近{days}天受理的工单",
        f"响应率（按时签收）：{response}",
        f"按时办结率：{on_time}",
        f"满意率：{satisfaction}",
        f"未评价：{unrated} 件",
        *([f"无法联系办结（未回访，不算解决，不计入满意率；办结前已超时的计为未按时办结）：{unreachable} 件"]
          if unreachable != "0" else []),
        "更多数字：/report 本月",
    ])


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


# -- the outbox: combined cards, people who cannot be reached, cases recorded for someone ------
STAFF_BATCH_REPLY = "这条消息合并了多个工单，请先点对应工单的「详情」，再回复那张工单卡片。"


def batch_card(count: int, lines: list[str]) -> str:
    return f"🆕 新工单 {count} 件（积压较多，合并发送；点「详情」看完整卡片）\n" + "\n".join(lines)


def batch_line(number: str, category: str, location: str | None, status: str) -> str:
    return f"· {number} {category}｜{location or '地点未填写'}｜{status}"


def btn_batch_sign(short: str) -> str:
    return f"签收 {short}"


def btn_batch_show(short: str) -> str:
    return f"详情 {short}"


def staff_unreachable(number: str, resident: str, phone: str | None) -> str:
    contact = f"，电话 {phone}" if phone else "，请通过网格员联系"
    return f"⚠️ 工单 {number} 的居民{resident or ''}已屏蔽机器人，消息发不出去{contact}。"


def staff_group_unreachable(chat_id: int) -> str:
    return f"⚠️ 机器人无法在群 {chat_id} 发消息（可能被移出群或没有发言权限），请检查该群设置。"


def ticket_recorded(number: str, name: str, phone: str | None, category: str, unit: str, due: datetime) -> str:
    who = (name or "居民") + (f"（{phone}）" if phone else "")
    return (f"✅ 已为 {who} 登记工单 {number}\n类别：{category}\n承办单位：{unit}\n办理时限：{fmt_time(due)} 前\n"
            "办理进展会发给您，请转告居民。")


def staff_resident_resolved(number: str, resident: str) -> str:
    return f"✅ 居民{resident or ''}确认工单 {number} 的问题已解决，工单已办结，稍后回访。"


RECORD_REFUSED = "只有工作人员和网格员可以代录工单。"
RECORD_USAGE = (
    "代录工单：私聊我发 /record，按提示一步步填写；或者一行写完（群里也可以）：\n"
    "/record 渠道｜姓名 电话｜地点｜问题\n渠道为 电话、来访、信件、走访、12345，例如：\n"
    "/record 电话｜张大爷 13900001111｜9号楼2单元｜楼道灯坏了好几天"
)
RECORD_ASK_CHANNEL = "代录工单：这个问题是怎么反映来的？"
RECORD_ASK_WHO = "反映人的姓名和电话？（如“张大爷 13900001111”，不知道就回复“跳过”）"
RECORD_ASK_PLACE = "问题在哪里？（如“9号楼2单元”，不清楚就回复“跳过”）"
RECORD_ASK_TEXT = "请写下反映的问题："
RECORD_TEXT_REQUIRED = "问题内容不能空着，请写下居民反映的问题。"
RECORD_USE_BUTTONS = "请点上面的按钮选择；不想登记了可以点“取消”。"
RECORD_CANCELLED = "已取消，没有登记工单。"
RECORD_SKIP_WORDS = ("跳过", "不知道", "无", "没有", "-")


def record_channel_chosen(channel: str) -> str:
    return f"渠道：{channel}"


def record_preview(state: dict) -> str:
    who = " ".join(x for x in (state.get("name"), state.get("phone")) if x) or "未留姓名电话"
    return (f"请确认后选择类别（第一个是我的建议）：\n渠道：{state.get('channel')}\n反映人：{who}\n"
            f"地点：{state.get('place') or '未填写'}\n问题：{preview(state.get('text') or '', 500)}")


SUPPLEMENT_MEDIA_NOTE = "居民补充了照片或语音"


def staff_supplement_caption(number: str, resident: str) -> str:
    return f"📎 居民{resident or ''}补充（工单 {number}）"


def for_recorder(name: str, phone: str | None, text: str) -> str:
    who = name or "居民"
    return f"📞 代录工单进展，请转告 {who}" + (f"（{phone}）" if phone else "") + f"：\n{text}"



# -- the web board (/web) ------
WEB_OFF = "网页工作台没有开启。"
WEB_NO_ROLE = "网页工作台只对社区工作人员开放。如需使用，请联系管理员分配角色。"
WEB_SENT_PRIVATELY = "登录链接已私信发给您（10 分钟内有效，只能用一次）。"
WEB_START_FIRST = "请先私聊我发送 /start，我才能把登录链接私信给您。"
BTN_WEB_APP = "打开工作台"
BTN_WEB_LINK = "在浏览器中登录"


def web_text(login_url: str, *, https: bool) -> str:
    lines = ["工作台：红黄绿总览、工单列表、数据与周报，也可以签收、答复、办结。"]
    if https:
        lines.append("点“打开工作台”直接进入；或点“在浏览器中登录”（10 分钟内有效，只能用一次）。")
    else:
        lines.append(f"在浏览器中打开下面的链接登录（10 分钟内有效，只能用一次）：\n{login_url}")
    return "\n".join(lines)

__all__ = [
    "ASK_INFO_PLACEHOLDER",
    "ASK_RESULT_PLACEHOLDER",
    "BTN_ESCALATE",
    "BTN_NEED_INFO",
    "BTN_RATE",
    "BTN_REASSIGN",
    "BTN_RECATEGORIZE_CASE",
    "BTN_RESOLVE",
    "BTN_SIGN",
    "BTN_UNIT_BACK",
    "BTN_WEB_APP",
    "BTN_WEB_LINK",
    "CARD_HEADER_ESCALATION",
    "CARD_HEADER_NEW",
    "CARD_HEADER_TICKET",
    "CASE_USAGE",
    "CHANNEL",
    "COLOUR_MARK",
    "ESCALATION_REASON",
    "MEDIATE_REFUSED",
    "MEDIATE_USAGE",
    "MEDIATION_STAGE",
    "QUEUE_ALL",
    "QUEUE_EMPTY",
    "RATING_CLOSED",
    "RATING_NOT_YOURS",
    "REASSIGN_REASON",
    "RECORD_ASK_CHANNEL",
    "RECORD_ASK_PLACE",
    "RECORD_ASK_TEXT",
    "RECORD_ASK_WHO",
    "RECORD_CANCELLED",
    "RECORD_REFUSED",
    "RECORD_SKIP_WORDS",
    "RECORD_TEXT_REQUIRED",
    "RECORD_USAGE",
    "RECORD_USE_BUTTONS",
    "RESIDENT_INFO_THANKS",
    "RESIDENT_SENT",
    "RESIDENT_TICKET_CLOSED",
    "STAFF_BATCH_REPLY",
    "STAFF_CHOOSE_CATEGORY",
    "STAFF_CHOOSE_UNIT",
    "STAFF_COMMAND_PRIVATE",
    "STAFF_EMPTY_TEXT",
    "STAFF_NOTE_SAVED",
    "STAFF_NOTE_USAGE",
    "STAFF_NOT_DESK",
    "STAFF_NOT_HERE",
    "STAFF_NOT_YOUR_GRID",
    "STAFF_NO_OTHER_UNIT",
    "STAFF_NO_ROLE",
    "STAFF_NO_ROLE_VIEW",
    "STAFF_NO_TICKET",
    "STAFF_OWN_CASE",
    "STAFF_PROMPTED",
    "STAFF_PROMPTED_PRIVATE",
    "STAFF_REFUSED",
    "STAFF_RELAYED",
    "STAFF_RELAY_FAILED",
    "STAFF_SIGNED",
    "STAFF_SIGN_FIRST",
    "SUPPLEMENT_MEDIA_NOTE",
    "TICKET_NOT_FOUND_STAFF",
    "WEB_NO_ROLE",
    "WEB_OFF",
    "WEB_SENT_PRIVATELY",
    "WEB_START_FIRST",
    "batch_card",
    "batch_line",
    "board",
    "btn_batch_show",
    "btn_batch_sign",
    "card_header_escalated",
    "card_header_reassigned",
    "card_header_sos",
    "emergency_category",
    "for_recorder",
    "grid_label",
    "mediation_meeting",
    "mediation_recorded",
    "overdue_for",
    "queue_button",
    "queue_header",
    "queue_line",
    "queue_more",
    "rates",
    "rating_request",
    "rating_thanks",
    "record_channel_chosen",
    "record_preview",
    "resident_need_info",
    "resident_reassigned",
    "resident_resolved",
    "resident_signed",
    "resident_staff_reply",
    "source_label",
    "staff_ask_info",
    "staff_ask_result",
    "staff_card",
    "staff_conflict",
    "staff_escalated",
    "staff_forward_header",
    "staff_group_unreachable",
    "staff_info_asked",
    "staff_meeting",
    "staff_reassigned",
    "staff_recategorized",
    "staff_refused",
    "staff_reminder",
    "staff_resident_resolved",
    "staff_resident_said",
    "staff_resolved",
    "staff_sos",
    "staff_sos_help_came",
    "staff_sos_more",
    "staff_sos_place",
    "staff_supplement_caption",
    "staff_unreachable",
    "ticket_recorded",
    "web_text",
]


# --- residents take part: applications, orders, proposals, 议事会, 民生实事, the lists (desk side) -------------


def _names(names: list[str]) -> str:
    return "、".join(names) or "（无）"


def _when(at: datetime) -> str:
    return fmt_time(at)


BTN_APPROVE = "✅ 通过"
BTN_REFUSE = "❌ 拒绝"
PARTNER_DECIDED = "这份申请已经处理过了。"
REFUSE_PROMPT_MARK = "✍️ 拒绝理由"
REFUSE_PLACEHOLDER = "例如：资质材料不全，请补充后再申请"
REFUSE_REASON_EMPTY = "请写明拒绝理由，会转告申请人。"


def partner_card(partner_id: int, name: str, services: list[str], when: str, where: str, grid: str | None) -> str:
    return (f"🤝 合伙人申请 #{partner_id}\n申请人：{name}（{grid or '未绑定网格'}）\n服务：{_names(services)}\n"
            f"时间：{when or '未填写'}\n地点：{where or '未填写'}")


def partner_refuse_prompt(partner_id: int) -> str:
    return f"{REFUSE_PROMPT_MARK}·合伙人申请 #{partner_id}\n请回复本条消息写明理由，会转告申请人。"


def partner_decided(partner_id: int, approved: bool, by: str, reason: str | None) -> str:
    if approved:
        return f"✅ 申请 #{partner_id} 已由 {by} 通过，已通知申请人。"
    return f"❌ 申请 #{partner_id} 已由 {by} 拒绝，理由已转告申请人：{reason}"


def partner_line(partner_id: int, name: str, services: list[str], when: str, where: str, paused: bool) -> str:
    return f"· #{partner_id} {name}{'（暂停）' if paused else ''}：{_names(services)}，{when or '—'}，{where or '—'}"


def partners_summary(waiting: int, lines: list[str]) -> str:
    head = f"🤝 社区合伙人：待审核 {waiting} 份" + ("（见下方）" if waiting else "")
    return head + ("\n在岗合伙人：\n" + "\n".join(lines) if lines else "\n还没有在岗的合伙人。")


ASSIGN_USAGE = "用法：/assign 点单号 合伙人，合伙人写 #申请编号、@用户名 或数字ID，例如：/assign 12 #3"
ASSIGN_NO_PARTNER = "没有找到这位合伙人（需是审核通过的合伙人），请用 /partners 查看编号。"
TAKE_REFUSED_DESK = {
    "taken": "这单已经有合伙人接了。",
    "closed": "这单已取消或已结束，或点单号不存在。",
    "not_partner": "这位合伙人目前不能接单（未通过审核或已暂停）。",
    "no_service": "这位合伙人不提供这项服务。",
    "own": "不能把居民自己的点单指派给他本人。",
}


def desk_order_unmatched(order_id: int, service: str, text: str, resident: str, place: str) -> str:
    return (f"🛎 点单 #{order_id}（{service}）暂无合伙人提供这项服务，请协调安排。\n居民：{resident}　"
            f"地点：{place or '见内容'}\n内容：{preview(text, 300)}\n指派：/assign {order_id} #合伙人编号")


def desk_order_expired(order_id: int, service: str, text: str, resident: str, place: str, hours: int) -> str:
    return (f"⏰ 点单 #{order_id}（{service}）{hours} 小时无人接单，请协调安排。\n居民：{resident}　"
            f"地点：{place or '见内容'}\n内容：{preview(text, 300)}\n指派：/assign {order_id} #合伙人编号")


def desk_order_given_back(order_id: int, service: str, partner: str, text: str) -> str:
    return (f"↩️ 合伙人 {partner} 退回了点单 #{order_id}（{service}），请另行安排。\n内容：{preview(text, 300)}\n"
            f"指派：/assign {order_id} #合伙人编号")


def desk_order_no_show(order_id: int, service: str, partner: str, resident: str) -> str:
    return f"🚫 居民 {resident} 反映点单 #{order_id}（{service}）合伙人 {partner} 没有上门，已记录，请跟进。"


def desk_order_line(order_id: int, service: str, text: str, resident: str, at_desk: bool, until: datetime) -> str:
    state = "待协调" if at_desk else f"等待接单（{_when(until)} 前）"
    return f"· #{order_id} {service}【{state}】{resident}：{preview(text, 40)}"


def desk_orders(lines: list[str]) -> str:
    if not lines:
        return "🛎 目前没有等待接单的点单。"
    return "🛎 等待接单的点单：\n" + "\n".join(lines) + "\n指派：/assign 点单号 #合伙人编号"


def order_assigned(order_id: int, partner: str) -> str:
    return f"📌 已把点单 #{order_id} 指派给 {partner}，已通知对方和居民。"


# proposals (码上议)
PROPOSAL_CARD_MARK = "💡 码上议 "
ANSWER_USAGE = ("用法：/answer 建议编号 答复内容，例如：/answer JY-20260317-0007 已列入今年计划。"
                "也可以直接回复建议卡片。")
ANSWER_REFUSED = {
    "already": "建议 {number} 已经答复过了：{answer}",
    "unknown": "没有找到建议 {number}，请核对编号。",
}


def proposal_card(number: str, resident: str, grid: str | None, text: str, due: datetime,
                  project: str | None) -> str:
    about = f"\n关于民生实事：{project}" if project else ""
    return (f"{PROPOSAL_CARD_MARK}{number}\n居民：{resident}（{grid or '未绑定网格'}）{about}\n"
            f"内容：{preview(text, 1000)}\n答复期限：{_when(due)}\n直接回复本条消息即可答复居民。")


def answer_bad(limit: int) -> str:
    return f"请写下答复内容（{limit} 字以内）。"


def answer_sent(number: str, on_time: bool) -> str:
    return f"✅ 已答复建议 {number}，已转告居民" + ("。" if on_time else "（已超过答复期限）。")


def desk_proposal_line(number: str, text: str, due: datetime, overdue: bool) -> str:
    return f"· {number}{' ⚠️已超期' if overdue else ''}（{_when(due)} 前）{preview(text, 40)}"


def _rate_line(label: str, f: tuple[int, int, int, int, float | None, float | None]) -> str:
    received, on_time, late, overdue, rate, days = f
    pct = "—" if rate is None else f"{rate:.0%}"
    mean = "—" if days is None else f"{days} 天"
    return (f"{label}：收到 {received} 条，按时答复 {on_time}，超期答复 {late}，超期未答复 {overdue}；"
            f"办复率 {pct}，平均答复 {mean}")


def desk_proposals(lines: list[str], month: tuple, overall: tuple) -> str:  # type: ignore[type-arg]
    body = "💡 待答复的建议：\n" + "\n".join(lines) if lines else "💡 没有待答复的建议。"
    return "\n".join([body, "", _rate_line("本月", month), _rate_line("累计", overall)])


# 议事会
TOPIC_STATUS = {"open": "命题中", "polling": "投票中", "closed": "已结束投票", "published": "已公布"}
COUNCIL_USAGE = (
    "议事会：\n/council new 题目 [建议编号…] 新建议题\n/council add 议题号 建议编号… 归入建议\n"
    "/council poll 议题号 网格 选项一/选项二/… 向网格居民投票\n/council close 议题号 结束投票\n"
    "/council publish 议题号 结果 公布议事结果"
)
COUNCIL_POLL_USAGE = ("用法：/council poll 议题号 网格编号 选项一/选项二/选项三，"
                      "例如：/council poll 1 A03 健身器材/停车位")
COUNCIL_PUBLISH_USAGE = "用法：/council publish 议题号 议事结果"
COUNCIL_POLL_REFUSED = {
    "no_residents": "{grid}还没有绑定的居民（或都设置了不接收通知），无法发起投票。",
    "not_open": "议题 #{topic} 已经发起过投票或已结束。",
    "bad_options": "请给出 {low}–{high} 个不同的选项（每个 {length} 字以内），用 / 隔开。",
    "unknown": "没有议题 #{topic}。",
}


def council_line(topic_id: int, title: str, status: str, grouped: int) -> str:
    return f"· #{topic_id} {preview(title, 40)}【{status}】归入建议 {grouped} 条"


def council_list(lines: list[str]) -> str:
    if not lines:
        return "📋 还没有议事会议题。\n\n" + COUNCIL_USAGE
    return "📋 议事会议题：\n" + "\n".join(lines) + "\n\n" + COUNCIL_USAGE


def council_created(topic_id: int, title: str, grouped: list[str], unknown: list[str]) -> str:
    lines = [f"📋 已建议题 #{topic_id}：{title}"]
    if grouped:
        lines.append("归入建议：" + "、".join(grouped))
    if unknown:
        lines.append("没有找到：" + "、".join(unknown))
    lines.append(f"下一步：/council poll {topic_id} 网格编号 选项一/选项二")
    return "\n".join(lines)


def council_grouped(topic_id: int, grouped: list[str], unknown: list[str]) -> str:
    text = f"议题 #{topic_id} 归入建议：{'、'.join(grouped) or '无'}"
    return text + (f"；没有找到：{'、'.join(unknown)}" if unknown else "")


def council_unknown(topic_id: int) -> str:
    return f"没有议题 #{topic_id}。"


def council_polled(topic_id: int, grid: str, voters: int, options: list[str]) -> str:
    return (f"🗳 议题 #{topic_id} 的投票已发给{grid} {voters} 位居民，选项：{'、'.join(options)}。\n"
            f"结束投票：/council close {topic_id}")


def council_not_polling(topic_id: int) -> str:
    return f"议题 #{topic_id} 没有在投票中（可能还没发起，或已经结束）。"


def council_not_closed(topic_id: int) -> str:
    return f"议题 #{topic_id} 还不能公布：请先结束投票（/council close {topic_id}），每个议题只公布一次。"


def council_tally(topic_id: int, title: str, counts: list[tuple[str, int]], voters: int, asked: int) -> str:
    rows = "\n".join(f"· {option}：{n} 票" for option, n in counts)
    return (f"🗳 议题 #{topic_id}「{title}」投票结束：{voters}/{asked} 位居民投票\n{rows}\n"
            f"公布结果：/council publish {topic_id} 结果")


def council_outcome(title: str, counts: list[tuple[str, int]], voters: int, outcome: str) -> str:
    rows = "\n".join(f"· {option}：{n} 票" for option, n in counts)
    return f"议题：{title}\n居民投票（{voters} 人参与）：\n{rows}\n议事结果：{outcome}\n感谢大家参与！"


def council_answer(title: str, outcome: str) -> str:
    return f"您的建议已提交议事会「{title}」讨论，议事结果：{outcome}"


def council_published(topic_id: int, grid: str, recipients: int, answered: int) -> str:
    extra = f"，并答复了归入的 {answered} 条建议" if answered else ""
    return f"📢 议题 #{topic_id} 的议事结果已作为通知发给{grid} {recipients} 位居民{extra}。"


# 民生实事
PROJECT_USAGE = (
    "民生实事：\n/project new 名称|责任单位|预算|节点一、节点二、节点三 新建项目\n"
    "/project update 项目号 进展 向关注的居民推送进展\n"
    "/project done 项目号 第几个节点 [说明] 标记节点完成\n/project 查看全部"
)


def project_created(project_id: int, name: str, steps: list[str]) -> str:
    return f"🏗 已建民生实事 #{project_id}：{name}" + (f"\n节点：{' → '.join(steps)}" if steps else "")


def project_line(project_id: int, name: str, done: int, total: int, subscribers: int, suggestions: int) -> str:
    return f"· #{project_id} {name}：进度 {done}/{total}，{subscribers} 人关注，建议 {suggestions} 条"


def project_list(lines: list[str]) -> str:
    if not lines:
        return "🏗 还没有民生实事项目。\n\n" + PROJECT_USAGE
    return "🏗 民生实事：\n" + "\n".join(lines)


def project_unknown(project_id: int) -> str:
    return f"没有民生实事 #{project_id}（或节点序号不对、进展内容为空）。"


def project_updated(project_id: int, told: int) -> str:
    return f"✅ 民生实事 #{project_id} 的进展已推送给 {told} 位关注的居民。"


def milestone_reached(step: str, words: str) -> str:
    return f"✅ 节点「{step}」已完成。" + (f"{words}" if words else "")


# the three lists at the desk
LISTS_USAGE = ("用法：/lists [网格] 查看三张清单；/lists publish 网格 立即发给网格居民；"
               "/lists monthly 网格 on|off 每月初自动发布")


def lists_monthly(grid: str, on: bool) -> str:
    return f"已{'开启' if on else '关闭'}{grid}三张清单的每月发布" + ("（每月初发送上月清单）。" if on else "。")


def lists_published(grid: str, count: int) -> str:
    if not count:
        return f"{grid}还没有可以接收通知的居民。"
    return f"📢 已把{grid}的三张清单作为通知发给 {count} 位居民。"


__all__ += [
    "ANSWER_REFUSED",
    "ANSWER_USAGE",
    "ASSIGN_NO_PARTNER",
    "ASSIGN_USAGE",
    "BTN_APPROVE",
    "BTN_REFUSE",
    "COUNCIL_POLL_REFUSED",
    "COUNCIL_POLL_USAGE",
    "COUNCIL_PUBLISH_USAGE",
    "COUNCIL_USAGE",
    "LISTS_USAGE",
    "PARTNER_DECIDED",
    "PROJECT_USAGE",
    "PROPOSAL_CARD_MARK",
    "REFUSE_PLACEHOLDER",
    "REFUSE_PROMPT_MARK",
    "REFUSE_REASON_EMPTY",
    "TAKE_REFUSED_DESK",
    "TOPIC_STATUS",
    "answer_bad",
    "answer_sent",
    "council_answer",
    "council_created",
    "council_grouped",
    "council_line",
    "council_list",
    "council_not_closed",
    "council_not_polling",
    "council_outcome",
    "council_polled",
    "council_published",
    "council_tally",
    "council_unknown",
    "desk_order_expired",
    "desk_order_given_back",
    "desk_order_line",
    "desk_order_no_show",
    "desk_order_unmatched",
    "desk_orders",
    "desk_proposal_line",
    "desk_proposals",
    "lists_monthly",
    "lists_published",
    "milestone_reached",
    "order_assigned",
    "partner_card",
    "partner_decided",
    "partner_line",
    "partner_refuse_prompt",
    "partners_summary",
    "project_created",
    "project_line",
    "project_list",
    "project_unknown",
    "project_updated",
    "proposal_card",
]


# --- figures people govern by: /report and the 周调度/月评估/季研判 pushes; 督办; /history -------------------------

REPORT_KIND = {"week": "周调度", "month": "月评估", "quarter": "季研判", "range": "报表"}
REPORT_SECTION = {"unit": "【各承办单位】", "grid": "【各网格】", "problems": "【反复出现的问题】"}
REPORT_USAGE = (
    "用法：/report [时间段] [单位或网格]\n"
    "时间段（不写即本周）：周（本周、这周）、月（本月、这个月）、季度（本季度）；上周、上个月、上季度；"
    "也可写 week、month、quarter、lastweek、lastmonth、lastquarter；"
    "或写明 2026-W11、2026-03、2026Q1。\n"
    "范围（可不写）：承办单位代码或名称（如 wuye），或网格编号（如 A03）。\n"
    "例如：/report、/report lastmonth wuye、/report 2026-03 A03"
)
REPORT_NO_ROLE = "只有工作人员、网格员、督办人员和管理员可以查看报表和督办。请联系管理员设置角色。"
REPORT_OUT_OF_SCOPE = "您只能查看自己负责的单位的报表。"


def report_out_of_grids(grids: list[str]) -> str:
    return f"网格员只能查看自己负责的网格（{'、'.join(grids)}）的报表。不写范围即可查看。"
REPORT_CHART_MISSING = "（报表图暂时画不出来：服务器缺少中文字体，已通知管理员。文字报表照常。）"


def report_header(kind: str, scope: str, period: str, as_of: datetime, so_far: bool, previous: str) -> str:
    return (f"📊 {kind}｜{scope}\n{period}" + ("（进行中）" if so_far else "") + f"，截至 {fmt_time(as_of)}\n"
            f"括号内为分子/分母，“—”表示没有可计算的工单；较上期即与{previous}相比\n"
            # why 响应率 can be lower than "signed within 1 hour": a reopened or reassigned case is signed anew
            "响应率、按时办结率按工单最新一轮办理计（重新办理、转派后重新计算），首次响应按第一次签收计\n"
            + REPORT_UNREACHABLE_LEGEND)


# the same rule as services.reports.export.UNREACHABLE_LEGEND (the CLI, XLSX and the board's figures page)
REPORT_UNREACHABLE_LEGEND = ("无法联系办结不算解决，单独计数：不计入满意率、未评价和解决率；"
                             "按时办结率中，办结前已超时的计为未按时，未超时的不计入")


def report_figure(label: str, shown: str, change: str) -> str:
    return f"· {label} {shown}" + (f"，较上期 {change}" if change else "")


def report_pairs(pairs: list[tuple[str, str]], title: str = "") -> str:
    return "· " + (f"{title}：" if title else "") + "，".join(f"{label} {value}" for label, value in pairs)


def report_open(red: str, yellow: str, green: str) -> str:
    return f"· 当前在办：🔴{red} 🟡{yellow} 🟢{green}"


def report_overdue_supervisions(count: int) -> str:
    return f"· 逾期未答复的督办：{count} 件" + ("（/supervisions 查看）" if count else "")


def report_scope_line(name: str, pairs: list[tuple[str, str]]) -> str:
    return f"· {name}：" + "，".join(f"{label} {value}" for label, value in pairs)


def report_problem_line(category: str, place: str, complaints: int, cases: int) -> str:
    return f"· {category}·{place}：{complaints} 次反映（{cases} 件工单）"


def report_trend_title(count: int) -> str:
    return f"【近{count}期走势】"


def report_trend_nothing(first: str, last: str) -> str:
    return f"· {first} 至 {last}：没有受理工单"


def report_more(count: int) -> str:
    return f"…另有 {count} 项未列出"


def report_chart_caption(kind: str, scope: str, period: str) -> str:
    return f"📈 {kind}｜{scope} {period}：四率与首次响应用时"


def report_trend_caption(kind: str, scope: str, count: int) -> str:
    return f"📈 {kind}｜{scope} 近{count}期四率走势"


def report_trend_chart_title(scope: str, count: int) -> str:
    """Drawn in the chart (the CJK font has no emoji)."""
    return f"{scope} 近{count}期四率走势"


REPORT_FIRST_RESPONSE = "首次响应"
REPORT_MEDIATION = "调解"


def report_unknown_scope(word: str, units: list[str], grids: list[str]) -> str:
    return (f"不认识“{word}”：请写承办单位代码（{'、'.join(units)}）或网格编号（{'、'.join(grids)}）。\n\n"
            + REPORT_USAGE)


def report_bad_period(reason: str) -> str:
    return f"{reason}。\n\n{REPORT_USAGE}"


# 督办: a supervisor presses the handling unit on a case; the unit answers by a deadline.
SUPERVISION_MARK = "🔔 督办 "
CARD_HEADER_SUPERVISED = "🔔 督办工单"
SUPERVISE_USAGE = (
    "用法：/supervise 工单号 督办原因 [回复期限]\n"
    "回复期限可写 3天、2个工作日、48小时，或 11-30 18:00；不写默认 3 天。\n"
    "例如：/supervise LL-20260317-0001 超期未办结，请说明原因 3天"
)
SUPERVISE_NO_ROLE = "只有督办人员（如街道纪工委）和管理员可以督办工单。请联系管理员设置角色。"
SUPERVISE_REFUSED = {
    "reason_required": "请写明督办原因。",
    "deadline_passed": "回复期限必须晚于现在。",
    "not_active": "这个工单已撤回或已合并，不能督办。",
    "already_answered": "这条督办已经答复过了。",
    "empty_answer": "答复内容不能为空。",
}
SUPERVISOR_READ_ONLY = "督办人员只能查看工单、发督办，不能办理工单。"
ANSWER_CASE_USAGE = "用法：/answer 工单号 答复内容（答复督办），或直接回复督办消息。"
SUPERVISIONS_NONE = "当前没有待答复的督办 👍"


def supervise_done(number: str, unit: str, reply_by: datetime) -> str:
    return f"🔔 已督办 {number}（承办：{unit}），回复期限 {fmt_time(reply_by)}。承办单位答复后会通知您。"


def staff_withdrawn(number: str) -> str:
    return f"↩️ 居民已撤回工单 {number}，不再办理。"


def staff_supervised(number: str, reason: str, reply_by: datetime) -> str:
    return (f"{SUPERVISION_MARK}{number}\n督办原因：{preview(reason, 500)}\n回复期限：{fmt_time(reply_by)}\n"
            f"请直接回复本消息答复督办，或发送 /answer {number} 答复内容。")


def supervision_line(reason: str, reply_by: datetime, answered: bool, on_time: bool | None, overdue: bool) -> str:
    """The card's line about its latest 督办."""
    state = ("已答复（按时）" if on_time else "已答复（逾期）") if answered else ("⚠️ 已逾期" if overdue else "待答复")
    return f"督办：{preview(reason, 60)}　回复期限 {fmt_time(reply_by)}　{state}"


def supervision_nothing_pending(number: str) -> str:
    return f"{number} 没有待答复的督办。"


def supervision_answered(number: str, on_time: bool) -> str:
    return f"✅ 已答复 {number} 的督办" + ("（按时）。" if on_time else "（已超过回复期限）。")


def supervisor_told_answer(number: str, unit: str, answer: str, on_time: bool) -> str:
    return f"📨 督办答复 {number}（{unit}，{'按时' if on_time else '逾期'}）：\n{preview(answer, 1500)}"


def staff_supervision_overdue(number: str, reason: str, reply_by: datetime) -> str:
    return (f"{SUPERVISION_MARK}{number} ⚠️ 已逾期\n督办原因：{preview(reason, 200)}\n"
            f"回复期限 {fmt_time(reply_by)} 已过，仍未答复。"
            f"请尽快直接回复本消息答复督办，或发送 /answer {number} 答复内容。")


def supervisor_told_overdue(number: str, unit: str, reply_by: datetime) -> str:
    return (f"⚠️ 您督办的 {number}（{unit}）到回复期限 {fmt_time(reply_by)} 仍未答复。"
            f"承办单位已收到提醒；发 /history {number} 可查看办理记录。")


def supervisions_header(count: int, overdue: int) -> str:
    return f"🔔 待答复的督办：{count} 件，其中逾期 {overdue} 件"


def supervision_item(number: str, unit: str, reason: str, reply_by: datetime, overdue: bool) -> str:
    return f"· {'⚠️' if overdue else '⏳'} {number} {unit}：{preview(reason, 40)}（回复期限 {fmt_time(reply_by)}）"


def board_supervisions(count: int, overdue: int) -> str:
    return f"🔔 督办：待答复 {count} 件，其中逾期 {overdue} 件"


# /history: every action on a case, refusals included.
HISTORY_USAGE = "用法：/history 工单号 [页码]，例如 /history LL-20260317-0001"
HISTORY_NO_ROLE = (
    "您没有查看这个工单记录的权限：需要承办单位或上级的工作人员、所在网格的网格员、督办人员或管理员。"
)
HISTORY_EMPTY = "这个工单还没有任何记录。"
HISTORY_SYSTEM = "系统"
HISTORY_CHAT_STAFF = "工作人员群"
HISTORY_CHAT_PRIVATE = "私聊"
HISTORY_REFUSED = "⛔ 被拒绝："
BTN_HISTORY_OLDER = "◀ 较早"
BTN_HISTORY_NEWER = "较新 ▶"
HISTORY_EVENT = {
    "created": "提交诉求", "withdrawn": "撤回", "status_changed": "状态", "dispatched": "派单",
    "note": "内部备注", "reply": "答复居民", "escalated": "升级", "merged": "合并", "rated": "评价",
    "linked": "重复反映并入", "reassigned": "转派", "reminded": "催办提醒", "mediation": "调解",
    "supervised": "督办", "supervision_answered": "答复督办",
}
HISTORY_VIA = {
    "button:ss": "点「签收」", "button:sr": "点「转派」", "button:sru": "选择转派单位", "button:sk": "点「改类别」",
    "button:skc": "选择类别", "button:sx": "刷新卡片", "button:sv": "点「详情」", "button:sp": "点「需补充」",
    "button:sd": "点「办结」", "button:se": "点「升级」", "reply:ticket": "回复工单卡片",
    "reply:escalation": "回复升级卡片", "reply:relay": "回复居民消息", "reply:ask_result": "填写办结结果",
    "reply:ask_info": "填写需补充内容", "reply:supervision": "回复督办消息", "/history": "查看记录",
    "button:hp": "翻看记录",
}
HISTORY_ACTION = {
    "ticket.act": "办理", "ticket.view": "查看记录", "ticket.supervise": "督办", "ticket.record": "代录",
    "desk.view": "查看", "callback": "按钮",
}
HISTORY_RATING = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意", "unrated": "未评价",
                  "unreachable": "无法联系（未回访）"}


def history_header(number: str, page: int, pages: int, total: int) -> str:
    return f"🗂 {number} 办理记录（共 {total} 条，第 {page}/{pages} 页）"


def history_line(at: datetime, who: str, where: str | None, what: str, refused: bool) -> str:
    t = local(at)
    return (f"{t:%m-%d %H:%M} {who}" + (f"（{where}）" if where else "") + "："
            + (HISTORY_REFUSED if refused else "") + preview(what, 160))


def history_resident(name: str | None) -> str:
    return f"居民{name}" if name else "居民"


def history_staff(name: str | None, user_id: int) -> str:
    return name or f"用户{user_id}"


def history_supervisor(name: str | None, user_id: int) -> str:
    return f"督办人员{name or user_id}"


def history_unit_chat(name: str) -> str:
    return f"{name}群"


def history_other_chat(chat_id: int) -> str:
    return f"群{chat_id}"


def history_status(frm: str | None, to: str) -> str:
    return f"状态 {frm} → {to}" if frm else f"状态 → {to}"


def history_with(label: str, detail: str | None) -> str:
    return f"{label}：{detail}" if detail else label


def history_supervised(reason: str | None, reply_by: datetime) -> str:
    return f"督办：{reason or ''}（回复期限 {fmt_time(reply_by)}）"


__all__ += [
    "ANSWER_CASE_USAGE",
    "BTN_HISTORY_NEWER",
    "BTN_HISTORY_OLDER",
    "CARD_HEADER_SUPERVISED",
    "HISTORY_ACTION",
    "HISTORY_CHAT_PRIVATE",
    "HISTORY_CHAT_STAFF",
    "HISTORY_EMPTY",
    "HISTORY_EVENT",
    "HISTORY_NO_ROLE",
    "HISTORY_RATING",
    "HISTORY_REFUSED",
    "HISTORY_SYSTEM",
    "HISTORY_USAGE",
    "HISTORY_VIA",
    "REPORT_CHART_MISSING",
    "REPORT_FIRST_RESPONSE",
    "REPORT_KIND",
    "REPORT_MEDIATION",
    "REPORT_NO_ROLE",
    "REPORT_OUT_OF_SCOPE",
    "REPORT_SECTION",
    "REPORT_UNREACHABLE_LEGEND",
    "REPORT_USAGE",
    "SUPERVISE_NO_ROLE",
    "SUPERVISE_REFUSED",
    "SUPERVISE_USAGE",
    "SUPERVISIONS_NONE",
    "SUPERVISION_MARK",
    "SUPERVISOR_READ_ONLY",
    "board_supervisions",
    "history_header",
    "history_line",
    "history_other_chat",
    "history_resident",
    "history_staff",
    "history_status",
    "history_supervised",
    "history_supervisor",
    "history_unit_chat",
    "history_with",
    "report_bad_period",
    "report_chart_caption",
    "report_figure",
    "report_header",
    "report_more",
    "report_open",
    "report_out_of_grids",
    "report_overdue_supervisions",
    "report_pairs",
    "report_problem_line",
    "report_scope_line",
    "report_trend_caption",
    "report_trend_chart_title",
    "report_trend_nothing",
    "report_trend_title",
    "report_unknown_scope",
    "staff_supervised",
    "staff_supervision_overdue",
    "staff_withdrawn",
    "supervise_done",
    "supervision_answered",
    "supervision_item",
    "supervision_line",
    "supervision_nothing_pending",
    "supervisions_header",
    "supervisor_told_answer",
    "supervisor_told_overdue",
]


# -- keeping after cases (services.cases.sweep): still red at the top level; 待补充 the resident never answered ------
ESCALATION_REASON["overdue"] = "超期仍未办结"  # one more level each further period a case stays red


def staff_overdue_reminder(number: str, due: datetime) -> str:
    return f"🔴 催办 {number}：办理时限 {fmt_time(due)} 已过，至今仍未办结，请督促承办单位尽快办结。"


def staff_info_unanswered(number: str, since: datetime) -> str:
    return (f"⏳ 工单 {number} 自 {fmt_time(since)} 起待居民补充信息，居民至今未回复（已提醒过居民）。"
            "请电话联系居民；确实联系不上的，可点下方按钮按无法联系办结。")


__all__ += ["staff_info_unanswered", "staff_overdue_reminder"]


# -- 待补充 the resident never answers: the desk closes it as 无法联系 (the button under the desk's chase) ------------
BTN_CLOSE_UNREACHABLE = "无法联系，办结"
RESULT_UNREACHABLE = "多次联系居民未获回复，按无法联系办结。"  # the case's 办理结果 (card, 回访, history)


def staff_closed_unreachable(number: str) -> str:
    return f"✅ {number} 已按无法联系办结，已告知居民。"


def staff_unreachable_stale(number: str, status: str) -> str:
    """A second press, or a case that moved on since (the resident answered): nothing changes."""
    return f"这个按钮已失效：工单 {number} 在这次提醒之后已有变化（当前：{status}），未做任何改动。"


def _days(window: timedelta) -> str:
    days = window.total_seconds() / 86400
    return f"{days:g} 天" if days >= 1 else f"{window.total_seconds() / 3600:g} 小时"


def resident_closed_unreachable(number: str, unit: str, window: timedelta) -> str:
    """To the resident, by the outbox, instead of any 回访: why the case was closed, and how to go on (a reply within
    ``window`` reopens it, see ``handlers.resident.conversation``)."""
    return (f"📌 您的工单 {number} 一直在等您补充信息，{unit}多次联系您都没有联系上，只好先按“无法联系”办结，"
            f"不再回访。如问题仍未解决，请在 {_days(window)}内直接回复本消息告诉我们，工单会重新办理；"
            "之后请重新发送您的诉求，我们会重新为您登记。")


def follower_closed_unreachable(number: str, unit: str, window: timedelta) -> str:
    """To a neighbour whose complaint joined the case: the reporter could not be reached for what the desk needed."""
    return (f"📌 您反映的问题已并入工单 {number}。{unit}需要报告人补充信息，多次联系都没有联系上，只好先按“无法联系”"
            f"办结，不再回访。如问题仍未解决，请在 {_days(window)}内直接回复本消息并说明具体位置和情况，"
            "工单会重新办理；之后请重新发送您的诉求。")


__all__ += ["BTN_CLOSE_UNREACHABLE", "RESIDENT_REOPENED", "RESULT_UNREACHABLE", "follower_closed_unreachable",
            "resident_closed_unreachable", "staff_closed_unreachable", "staff_resident_reopened",
            "staff_unreachable_stale"]


# -- a case filed on the web (服务码 page): its resident reads the desk's replies on the tracking page ---------------
STAFF_RELAYED_WEB = "✅ 答复已记录。该工单由居民在网页提交，答复会显示在居民的工单查询页上。"


def staff_info_asked_web(number: str) -> str:
    return (f"✅ 已记录对 {number} 的补充要求，办理时限暂停计时。该工单由居民在网页提交，机器人无法把问题发给居民，"
            "请电话联系居民补充。")


__all__ += ["STAFF_RELAYED_WEB", "staff_info_asked_web"]


# -- a case whose resident has no Telegram (recorded from a call or a visit, imported from 12345 or Open311) --------
# the bot cannot reach them: staff are told whom to phone or visit, with what the case holds (nothing masked)
def _offline_contact(name: str | None, phone: str | None) -> str:
    who = " ".join(x for x in (name, phone) if x)
    return f"：{who}" if phone else f"：{who}（工单没有留电话，请上门或通过网格员联系）" if who else \
        "（工单没有留姓名电话，请通过网格员上门联系）"


OFFLINE_RECORDER_TOO = "代录人也已私聊收到这条消息，可由其转告。"


def staff_relayed_offline(name: str | None, phone: str | None, recorder_too: bool = False) -> str:
    return ("✅ 答复已记录。这位居民没有使用 Telegram（电话、来访登记或热线转来的工单），机器人无法转达，"
            f"请电话或上门告知{_offline_contact(name, phone)}。" + (OFFLINE_RECORDER_TOO if recorder_too else ""))


def staff_info_asked_offline(number: str, name: str | None, phone: str | None, recorder_too: bool = False) -> str:
    return (f"✅ 已记录对 {number} 的补充要求，办理时限暂停计时。这位居民没有使用 Telegram，机器人无法把问题发给居民，"
            f"请电话或上门询问{_offline_contact(name, phone)}。"
            + (OFFLINE_RECORDER_TOO if recorder_too else "")
            + "\n问到后，请回复上面的“需补充”提示消息，写下居民的回答，办理时限即恢复计时。")


def staff_resolved_offline(number: str, name: str | None, phone: str | None, recorder_too: bool = False) -> str:
    return (f"✅ {number} 已办结。这位居民没有使用 Telegram，机器人无法告知，"
            f"请电话或上门告知办理结果{_offline_contact(name, phone)}。"
            + (OFFLINE_RECORDER_TOO if recorder_too else "")
            + f"\n回访后发 /rate {number} 满意（或 基本满意、不满意）记下居民的评价。")


def staff_info_answered(number: str) -> str:
    return f"✅ 已记录居民对 {number} 的补充，办理时限恢复计时。"


__all__ += ["OFFLINE_RECORDER_TOO", "staff_info_answered", "staff_info_asked_offline", "staff_relayed_offline",
            "staff_resolved_offline"]


# -- found trying the desk as staff, a supervisor and a grid worker (a month of cases) ----------------------------
def staff_command_private(command: str, *, grid_worker: bool = False, supervisor: bool = False) -> str:
    """A desk command staff typed in a private chat: where it works, and what works here instead."""
    here = ["/report 看报表（如 /report 上周）", "/history 工单号 看办理记录"]
    if grid_worker:
        here.insert(0, "/queue 看本网格的工单，/case 工单号 调出卡片")
    if supervisor:
        here.append("/supervisions 看待答复的督办，/supervise 工单号 原因 督办")
    here.append("/record 代录工单")
    return f"{command} 只能在工作群里使用（本单位的群里看本单位的）。私聊里可以用：\n" + "\n".join(
        f"· {x}" for x in here)


def case_elsewhere(number: str, unit: str) -> str:
    return f"工单 {number} 由{unit}承办，本群不能办理。请在{unit}的工作群或工作人员群里发 /case {number}。"


SUPERVISIONS_PRIVATE_STAFF = "待答复的督办请在工作群里发 /supervisions 查看（各单位的群里看本单位的）。"
HISTORY_NOTE = {  # codes the system writes on its events, as staff read them in /history
    "yellow": "即将超时（黄灯）", "sign_overdue": "超过签收时限仍未签收", "overdue": "仍然超时，再次提醒",
    "info_resident": "提醒居民补充", "info_desk": "居民一直未补充，已告知工作群", "unrated": "居民未评价，自动关闭",
    "unreachable": "按无法联系办结，期满自动关闭（未回访）",
}

__all__ += ["HISTORY_NOTE", "SUPERVISIONS_PRIVATE_STAFF", "case_elsewhere", "staff_command_private"]


# 回访 by phone (/rate): a rating staff got from a resident without Telegram
RATE_USAGE = ("用法：/rate 工单号 满意|基本满意|不满意 [居民的话]\n"
              "电话或上门回访没有 Telegram 的居民后，在这里记下居民的评价，例如：\n"
              "/rate LL-20260317-0001 基本满意 说处理得有点慢")
RATE_TELEGRAM = "这位居民用 Telegram，回访由机器人发给居民本人评价，工作人员不能代为评价。"


def rate_refused(number: str, status: str) -> str:
    return f"工单 {number} 现在不能评价（当前状态：{status}）：办结后、居民评价前才能记录回访评价。"


def staff_rated(number: str, rating: str, reopened: bool) -> str:
    return (f"✅ 已记录 {number} 的回访评价：{rating}。"
            + ("工单已重新办理并升级，请尽快处理。" if reopened else "工单已关闭。"))


__all__ += ["RATE_TELEGRAM", "RATE_USAGE", "rate_refused", "staff_rated"]


# /help for staff, grid workers and supervisors: their own commands (residents keep texts.HELP)
HELP_DESK = (
    "📋 工作群常用命令：\n"
    "· /queue 本群在办工单（按红黄绿）　/board 各单位统计　/rates 近30天三率\n"
    "· /case 工单号 调出工单卡片和按钮（签收、转派、需补充、办结、升级）\n"
    "· 直接回复工单卡片即可答复居民；/note 工单号 内容 记内部备注\n"
    "· /record 代录没有 Telegram 的居民的诉求；/rate 工单号 满意|基本满意|不满意 记电话回访结果\n"
    "· /supervisions 待答复的督办，直接回复督办消息即可答复\n"
    "· /report 报表（如 /report 上周）　/history 工单号 办理记录　/mediate 矛盾调解　/web 网页看板"
)
HELP_PRIVATE_STAFF = ("📋 工作人员：工单的办理请在工作群里进行（群里发 /help 看命令）。私聊里可以用：\n"
                      "· /report 报表（如 /report 上周）　/history 工单号 办理记录\n"
                      "· /record 代录工单　/web 网页看板")
HELP_GRID_WORKER = ("📋 网格员（私聊里可以用）：\n"
                    "· /queue 本网格在办工单　/case 工单号 调出卡片和按钮，直接回复卡片即可答复居民\n"
                    "· /note 工单号 内容 记内部备注　/record 代录工单\n"
                    "· /rate 工单号 满意|基本满意|不满意 记电话回访结果\n"
                    "· /notice 给网格居民发通知　/activity 发起活动签到")
HELP_SUPERVISOR = ("📋 督办人员（私聊里可以用）：\n"
                   "· /case 工单号 查看工单（只读）　/history 工单号 办理记录\n"
                   "· /supervise 工单号 原因 [回复期限] 督办　/supervisions 待答复的督办\n"
                   "· /report 报表（如 /report 上周）")
HELP_ADMIN = "📋 管理员：/grant 授权　/revoke 收回授权　/award 加积分　/reverse 撤销积分"
HELP_ADMIN_DESK = ("· 管理员也能办理工单：在工作群里发 /help 看工作群的命令；私聊里可以用 /report 报表　"
                   "/history 工单号 办理记录　/record 代录工单　/supervise 工单号 原因 督办　/notice 发通知")
HELP_STAFF_AS_RESIDENT = "您本人有诉求时，直接把问题发给我即可，和居民一样登记办理。"


def staff_help(*, desk_chat: bool, staff: bool, grid_worker: bool, supervisor: bool, admin: bool) -> str:
    """What /help says to someone with a role: the union of their roles' sections. In a desk chat the desk's
    commands (and an admin's own below them); privately each role's section, an admin's with where the desk's
    commands are (an admin may act on every case, but only an admin who is also staff had been told how)."""
    if desk_chat:
        return "\n\n".join([HELP_DESK, HELP_ADMIN] if admin else [HELP_DESK])
    admin_part = HELP_ADMIN + "\n" + HELP_ADMIN_DESK
    parts = [p for p, has in ((HELP_PRIVATE_STAFF, staff), (HELP_GRID_WORKER, grid_worker),
                              (HELP_SUPERVISOR, supervisor), (admin_part, admin)) if has]
    return "\n\n".join([*parts, HELP_STAFF_AS_RESIDENT])


__all__ += ["card_read_only"]
__all__ += ["HELP_ADMIN", "HELP_ADMIN_DESK", "HELP_DESK", "HELP_GRID_WORKER", "HELP_PRIVATE_STAFF",
            "HELP_STAFF_AS_RESIDENT", "HELP_SUPERVISOR", "staff_help"]


def recorder_rating_request(number: str, name: str, phone: str | None, result: str | None, *,
                            private_ok: bool) -> str:
    """回访 of a case recorded for a resident without Telegram, to whoever recorded it: they phone the resident
    and record the answer with /rate (no buttons: the resident cannot press them, and the recorder may not)."""
    who = (name or "居民") + (f"（{phone}）" if phone else "")
    lines = [f"📞 回访：代录工单 {number} 已办结，请电话联系 {who}，问问对办理情况是否满意。"]
    if result:
        lines.append(f"办理结果：{preview(result, 300)}")
    where = "在这里或工作群里" if private_ok else "在工作群里"
    lines.append(f"问到后{where}发送 /rate {number} 满意|基本满意|不满意 [居民的话] 记下评价。")
    return "\n".join(lines)


def desk_rating_request(number: str, name: str | None, phone: str | None, result: str | None) -> str:
    """回访 of a case nobody recorded (imported from 12345 or a mailbox, sent by a platform) whose resident has no
    Telegram: under its card at the desk (and the grid worker's copy), so someone phones them and records it."""
    lines = [f"📞 回访：工单 {number} 已办结。来件居民没有使用 Telegram，机器人无法回访，"
             f"请电话或上门问问对办理情况是否满意{_offline_contact(name, phone)}。"]
    if result:
        lines.append(f"办理结果：{preview(result, 300)}")
    lines.append(f"问到后发送 /rate {number} 满意|基本满意|不满意 [居民的话] 记下评价；"
                 "无人记录的，到期按未评价关闭。")
    return "\n".join(lines)


__all__ += ["desk_rating_request", "recorder_rating_request"]


# -- next year's holidays unknown (bot.jobs.calendar_tick, each December once) ----------------------------------------
def staff_calendar_unknown(year: int, version: str) -> str:
    return (f"📅 提醒：chinesecalendar {version} 还不知道 {year} 年的法定节假日和调休，社区配置文件里也没有写。"
            f"从 {year} 年 1 月 1 日起，按工作日、工作小时计算的时限（签收、办结、催办）将只按周一至周五计算，"
            "节假日照常计时、调休上班日不计。\n"
            f"国务院办公厅公布 {year} 年放假安排后，请管理员在社区配置文件的 [working_time] 里逐日写上放假日 "
            f"holidays = [{year}-01-01, …] 和调休上班日 workdays = […]，然后重启机器人；"
            "或升级 chinesecalendar（pip install -U chinesecalendar）到已收录该年的版本。")


__all__ += ["staff_calendar_unknown"]


def staff_place_corrected(number: str, resident: str, before: str | None, after: str) -> str:
    """A resident put the place of their case right just after filing (handlers.resident.followup)."""
    return (f"📍 居民 {resident} 更正了 {number} 的地点：{before or '未填写'} → {after}\n"
            "工单卡片已按新地点更新。")


__all__ += ["staff_place_corrected"]
__all__ += ["staff_escalated_top"]
