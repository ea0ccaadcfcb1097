"""What admins read when they grant and revoke roles.

Part of the catalogue (``handlers.texts``): every sentence the bot says lives in one of its modules."""

from __future__ import annotations

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


__all__ = [
    "GRANT_ERRORS",
    "GRANT_REFUSED",
    "GRANT_USAGE",
    "REVOKE_USAGE",
    "ROLE_NAMES",
    "grant_unknown_user",
    "role_granted",
    "role_label",
    "role_revoked",
]
