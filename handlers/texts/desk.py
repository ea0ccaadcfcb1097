"""What the staff desk reads: case cards, their buttons, relays, queues, figures and mediation.

Part of the catalogue (``handlers.texts``): every sentence the bot says lives in one of its modules."""

from __future__ import annotations

from datetime import datetime

from handlers.texts.common import fmt_time, preview


def staff_sos(number: str, resident: str, grid: str | None, text: str, *, kind_label: str = "紧急求助",
              place: str | None = None, phone: str | None = None) -> str:
    who = resident + (f"（{phone}）" if phone else "")
    return (f"🚨🚨 {kind_label} {number}\n居民：{who}　网格：{grid or '未绑定'}\n"
            f"地点：{place or '未知，正在询问居民'}\n内容：{preview(text, 500)}")


def staff_sos_place(number: str, place: str) -> str:
    return f"📍 紧急求助 {number} 的地点：{place}"


def card_header_sos(kind_label: str) -> str:
    return f"🚨 紧急求助·{kind_label}"


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
           "12345": "12345热线", "web": "服务码", "open311": "Open311"}


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
               level: str | None, result: str | None, source: str | None = None) -> str:
    lines = [
        f"{header} {number}",
        f"类别：{category}　承办：{unit}",
        f"网格：{grid or '未绑定'}　居民：{resident}",
        *([f"来源：{source}"] if source else []),
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


def for_recorder(name: str, phone: str | None, text: str) -> str:
    who = name or "居民"
    return f"📞 代录工单进展，请转告 {who}" + (f"（{phone}）" if phone else "") + f"：\n{text}"


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
    "CARD_HEADER_ESCALATION",
    "CARD_HEADER_NEW",
    "CARD_HEADER_TICKET",
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
    "STAFF_NO_OTHER_UNIT",
    "STAFF_NO_ROLE",
    "STAFF_NO_ROLE_VIEW",
    "STAFF_NO_TICKET",
    "STAFF_PROMPTED",
    "STAFF_REFUSED",
    "STAFF_RELAYED",
    "STAFF_RELAY_FAILED",
    "STAFF_SIGNED",
    "STAFF_SIGN_FIRST",
    "TICKET_NOT_FOUND_STAFF",
    "batch_card",
    "batch_line",
    "board",
    "btn_batch_show",
    "btn_batch_sign",
    "card_header_escalated",
    "card_header_reassigned",
    "card_header_sos",
    "for_recorder",
    "grid_label",
    "mediation_meeting",
    "mediation_recorded",
    "queue_header",
    "queue_line",
    "queue_more",
    "rates",
    "rating_request",
    "rating_thanks",
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
    "staff_sos_place",
    "staff_unreachable",
    "ticket_recorded",
]
