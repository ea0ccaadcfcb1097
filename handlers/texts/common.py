"""Sentences every audience shares: statuses, history lines, errors, and the time and preview formats.

Part of the catalogue (``handlers.texts``): every sentence the bot says lives in one of its modules."""

from __future__ import annotations

from datetime import datetime, timedelta

from services import local

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


def fmt_time(at: datetime) -> str:
    t = local(at)
    return f"{t.month}月{t.day}日 {t:%H:%M}"


def preview_lines(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, lines kept whole where they fit (a photo caption's 1,024)."""
    if len(text) <= limit:
        return text
    kept = ""
    for line in text.split("\n"):
        if len(kept) + len(line) + 2 > limit:
            break
        kept += line + "\n"
    return (kept or text[: limit - 1]).rstrip("\n") + "…"


def preview(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "EMPTY_TEXT",
    "ERROR",
    "EVENT",
    "EVENT_MEETING_REMINDED",
    "GROUP_ONLY_PRIVATE",
    "LOCATION_SAVED",
    "MEDIA_UNSUPPORTED",
    "NOT_UNDERSTOOD",
    "STALE_BUTTON",
    "STATUS",
    "TOO_LONG",
    "UNKNOWN_COMMAND",
    "WEEKDAYS",
    "fmt_time",
    "preview",
    "preview_lines",
    "staff_error",
]


# --- residents take part: a staff command tried by someone without the role -----------------------------------------

PARTICIPATION_REFUSED = "抱歉，这个操作需要社区工作人员或管理员的权限。"

__all__ += ["PARTICIPATION_REFUSED"]


CLOCK_USAGE = "用法：/clock 查看演示时间；/clock +30m、+1h、+2d 拨快"


def demo_clock(now: datetime, ahead: timedelta) -> str:
    """The terminal demo's clock: its time and how far it runs ahead, in days, hours and minutes."""
    minutes = int(ahead.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "", f"{mins}分钟" if mins else ""]
    gap = "".join(parts)
    return f"演示时间：{local(now):%Y-%m-%d %H:%M}（" + (f"比真实时间快 {gap}）" if gap else "与真实时间一致）")


__all__ += ["CLOCK_USAGE", "demo_clock"]
