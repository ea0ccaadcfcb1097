"""What admins read when they grant and revoke roles.

Part of the catalogue (``handlers.texts``): every sentence the bot says lives in one of its modules."""

from __future__ import annotations

ROLE_NAMES = {"resident": "居民", "gridworker": "网格员", "staff": "工作人员", "admin": "管理员", "supervisor": "督办"}
GRANT_ROLES = {  # every role /grant gives (id → how admins write it), in the order the bot lists them
    "gridworker": "网格员（gridworker；范围写网格编号，如 A03）",
    "staff": "工作人员（staff，也可写 坐席、值班；范围写单位代码，如 juweihui，或上级层级 community、street）",
    "supervisor": "督办（supervisor，也可写 督办员、督办人员；范围不写即全部工单，或写单位代码）",
    "admin": "管理员（admin；不写范围）",
}
_ROLE_LINES = "\n".join(f"· {line}" for line in GRANT_ROLES.values())
GRANT_USAGE = (
    "用法：/grant 用户 角色 [范围]。用户写 @用户名 或数字ID，也可以回复对方的消息发送 /grant 角色 [范围]。"
    "角色可以是：\n"
    + _ROLE_LINES + "\n例如：/grant 2002 网格员 A03"
)
REVOKE_USAGE = "用法：/revoke 用户 角色 [范围]，与 /grant 的写法相同。"


def grant_unknown_user(name: str) -> str:
    return (f"我还不认识 {name}：请对方先给我发一条消息（或在有我的群里说句话），"
            "或者回复对方的消息发送 /grant 角色 [范围]，也可以写对方的数字ID。")


GRANT_REFUSED = "只有管理员可以设置角色。"
GRANT_ERRORS = {
    "bad_role": "角色只能是：\n" + _ROLE_LINES + "\n例如：/grant 2002 网格员 A03",
    "scope_required": "网格员要写网格编号，工作人员要写单位代码。",
    "scope_unexpected": "管理员不需要写范围。",
    "unknown_grid": "没有这个网格编号。",
    "unknown_unit": "没有这个单位代码。",
}


def role_label(role: str, scope: str) -> str:
    return ROLE_NAMES.get(role, role) + (f"（{scope}）" if scope else "")


def role_granted(user_id: int, role: str, scope: str, new: bool) -> str:
    return f"已设置 {user_id} 为{role_label(role, scope)}。" if new else f"{user_id} 已经是{role_label(role, scope)}。"


def role_out_of_reach(user_id: int, role: str, scope: str, *, blocked: bool) -> str:
    """To the admin who granted a role to someone the bot cannot write to privately (Telegram's rule: a bot may
    only write to people who started it), so nobody waits for messages that cannot arrive."""
    why = "已经屏蔽了机器人" if blocked else "还没有私聊过机器人"
    return (f"⚠️ {user_id} {why}：按 Telegram 的规定，机器人无法主动给对方发私信，{role_label(role, scope)}的工单卡片、"
            "督办、提醒都到不了。请对方在 Telegram 里打开机器人，点“开始”（或发送 /start）"
            + ("，并解除屏蔽" if blocked else "") + "。在那之前，请在工作群里处理与对方有关的事。")


def role_revoked(user_id: int, role: str, scope: str, found: bool) -> str:
    label = role_label(role, scope)
    return f"已取消 {user_id} 的{label}角色。" if found else f"{user_id} 没有{label}角色。"


__all__ = [
    "GRANT_ERRORS",
    "GRANT_REFUSED",
    "GRANT_ROLES",
    "GRANT_USAGE",
    "REVOKE_USAGE",
    "ROLE_NAMES",
    "grant_unknown_user",
    "role_granted",
    "role_label",
    "role_out_of_reach",
    "role_revoked",
]


# --- /award and /reverse: volunteering as points, corrections as reversing lines ---------------------------------

AWARD_USAGE = (
    "用法：/award 用户 积分 原因，例如：/award @li_xy 20 清洁家园行动。用户写 @用户名 或数字ID，"
    "也可以回复对方的消息发送 /award 积分 原因。"
)
AWARD_NOT_POSITIVE = "积分要写正整数，例如 20。记错了要扣回，请用 /reverse 记录号 原因。"
AWARD_NO_REASON = "请写明原因，例如：/award @li_xy 20 清洁家园行动。"
REVERSE_USAGE = "用法：/reverse 记录号 原因，例如：/reverse 123 重复登记。记录号在 /award 的回复里。"
REVERSE_REFUSED = {
    "unknown": "没有记录号 #{number}。",
    "already": "记录 #{number} 已经冲正过了，每条记录只能冲正一次。",
    "is_reversal": "记录 #{number} 本身就是冲正记录，不能再冲正；如需更正请重新 /award。",
    "overdraw": "记录 #{number} 的积分已被使用，冲正后余额会小于零（现有 {balance} 分），无法冲正。",
}


def award_unknown_user(name: str) -> str:
    return f"找不到用户 {name}：对方需要先私聊我一次（发送 /start），或者回复对方的消息发送 /award 积分 原因。"


def award_too_many(limit: int) -> str:
    return f"一次最多记 {limit} 分；更多请分次登记并写清原因。"


def award_reason_too_long(limit: int) -> str:
    return f"原因请写在 {limit} 字以内。"


def award_limit_reached(name: str, limit: int) -> str:
    return f"{name} 今天的志愿服务积分已达上限（每天 {limit} 分），这次没有记分。"


def awarded(name: str, points: int, reason: str, entry_id: int, capped: bool, asked: int) -> str:
    text = f"✅ 已为 {name} 记 {points} 积分（{reason}），记录号 #{entry_id}，已通知本人。"
    if capped:
        text += f"\n（申请 {asked} 分，已达每日上限，只记了 {points} 分。）"
    return text


def awarded_resident(points: int, reason: str, by: str, balance: int) -> str:
    return f"⭐ 感谢您的付出！{by} 为您记录了 {points} 积分：{reason}。当前 {balance} 分，可到积分超市兑换。"


def reversed_line(number: int, entry_id: int, delta: int, balance: int) -> str:
    return f"✅ 已冲正记录 #{number}（冲正记录 #{entry_id}，{delta:+d} 分），当前余额 {balance} 分，已通知本人。"


def reversed_resident(delta: int, reason: str, balance: int) -> str:
    return f"您的积分有一笔更正：{delta:+d} 分（{reason}）。当前 {balance} 分，如有疑问请联系社区工作人员。"


__all__ += [
    "AWARD_NOT_POSITIVE",
    "AWARD_NO_REASON",
    "AWARD_USAGE",
    "REVERSE_REFUSED",
    "REVERSE_USAGE",
    "award_limit_reached",
    "award_reason_too_long",
    "award_too_many",
    "award_unknown_user",
    "awarded",
    "awarded_resident",
    "reversed_line",
    "reversed_resident",
]
