"""What grid workers read when they write a notice, and what residents receive from it.

Part of the catalogue (``handlers.texts``): every sentence the bot says lives in one of its modules."""

from __future__ import annotations

from datetime import datetime

from handlers.texts.common import fmt_time

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


__all__ = [
    "BTN_NOTICE_CANCEL",
    "BTN_NOTICE_NOW",
    "BTN_NOTICE_SCHEDULE",
    "BTN_NOTICE_SEND",
    "BTN_NOTICE_WITHDRAW",
    "NOTICE_ALL_GRIDS",
    "NOTICE_ALREADY_MUTED",
    "NOTICE_ASK_TIME",
    "NOTICE_CANCELLED",
    "NOTICE_CHOOSE_AUDIENCE",
    "NOTICE_CHOOSE_KIND",
    "NOTICE_COMMUNITY",
    "NOTICE_EMPTY",
    "NOTICE_GONE",
    "NOTICE_HINTS",
    "NOTICE_KINDS",
    "NOTICE_MUTED",
    "NOTICE_NOBODY",
    "NOTICE_NOT_MUTED",
    "NOTICE_REFUSED",
    "NOTICE_TEMPLATES",
    "NOTICE_TIME_PAST",
    "NOTICE_TIME_SET",
    "NOTICE_TIME_UNREADABLE",
    "NOTICE_TIME_WENT_BY",
    "NOTICE_TOMORROW_EVENING",
    "NOTICE_TOMORROW_MORNING",
    "NOTICE_TONIGHT",
    "NOTICE_UNMUTED",
    "notice_ask_text",
    "notice_grid",
    "notice_message",
    "notice_photo_taken",
    "notice_preview",
    "notice_progress",
    "notice_report",
    "notice_scheduled",
    "notice_time_too_far",
    "notice_too_long",
]


# --- activity check-in and micro-wishes (what grid workers read) -------------------------------------------------

ACTIVITY_CHOOSE = "📍 开启活动签到：请选择活动（括号里是每人签到可得的积分），我会给您签到二维码和口令。"
ACTIVITY_DEFAULT_TITLE = "社区活动"
BTN_ACTIVITY_OTHER = "其他社区活动"
BTN_WISH_CONFIRM = "✅ 确认完成"


def activity_button(name: str, points: int) -> str:
    return f"{name}（{points}分）"


def activity_opened(title: str, word: str, ends_at: datetime, points: int, link: str) -> str:
    return (f"📍 「{title}」签到已开启，至 {fmt_time(ends_at)} 截止。\n"
            f"请居民扫描上面的二维码，或私聊我发送：/checkin {word}\n口令：{word}　每人一次，可得 {points} 积分。\n"
            f"链接：{link}")


def wish_posted_worker(wish_id: int, text: str, by: str) -> str:
    return f"🎁 网格里有新的微心愿 #{wish_id}（{by} 发布）：{text}"


def wish_claimed_worker(wish_id: int, text: str, claimer: str) -> str:
    return f"🙋 微心愿 #{wish_id} 已由 {claimer} 认领：{text}"


def wish_confirm_ask(wish_id: int, text: str, claimer: str) -> str:
    return f"🎁 {claimer} 说微心愿 #{wish_id} 已完成：{text}\n核实后请点“确认完成”，积分会记给认领人。"


def wish_confirmed(wish_id: int) -> str:
    return f"✅ 已确认微心愿 #{wish_id} 完成，积分已记给认领人。"


__all__ += [
    "ACTIVITY_CHOOSE",
    "ACTIVITY_DEFAULT_TITLE",
    "BTN_ACTIVITY_OTHER",
    "BTN_WISH_CONFIRM",
    "activity_button",
    "activity_opened",
    "wish_claimed_worker",
    "wish_confirm_ask",
    "wish_confirmed",
    "wish_posted_worker",
]
