"""`linli roles list | grant USER_ID ROLE [SCOPE] | revoke USER_ID ROLE [SCOPE]`: roles from the shell.

The way to name the first admin besides ``LINLI_ADMINS``. Grid and unit codes are checked against the
community file; every mistake is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from storage.db import Database


def add_roles_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The `roles` subcommand's arguments, for bot/__main__.py's subparsers."""
    p = sub.add_parser("roles", help="list, grant or revoke roles (gridworker, staff, admin)")
    actions = p.add_subparsers(dest="roles_cmd")
    actions.add_parser("list", help="every granted role")
    for name in ("grant", "revoke"):
        a = actions.add_parser(name, help=f"{name} a role")
        a.add_argument("user", help="Telegram user id, or @username of someone the bot has met")
        a.add_argument("role", help="gridworker, staff or admin")
        a.add_argument("scope", nargs="?", default="",
                       help="grid code (gridworker), unit code or escalation level (staff)")
    return p


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from services.community.model import load_community
    from services.people import roles
    from storage.db import Database

    command = getattr(args, "roles_cmd", None) or "list"
    db = Database(settings.database_url)
    try:
        await db.migrate_async()
        if command == "list":
            env = sorted(settings.admins)
            workers = [(g.worker_tg_id, g.code) for g in load_community(settings.community_file).grids
                       if g.worker_tg_id]
            async with db.session() as s:
                rows = await roles.all_roles(s)
                away = await roles.out_of_reach(s, [*(r.tg_user_id for r in rows), *env, *(w for w, _ in workers)])
            for r in rows:
                by = r.granted_by if r.granted_by is not None else "cli"
                print(f"{r.tg_user_id}\t{r.role.value}\t{r.scope or '-'}\t{r.granted_at:%Y-%m-%d %H:%M}Z\t{by}"
                      + _away(away, r.tg_user_id))
            if env:
                print(f"{roles.ADMINS_ENV}: {', '.join(map(str, env))}")
            for user, grid in workers:
                if user in away:
                    print(f"{user}\tgridworker\t{grid}\t(community file){_away(away, user)}")
            if not rows and not env:
                print("（还没有设置任何角色）")
            if away:
                print(f"{NOT_STARTED_NOTE}: {', '.join(map(str, sorted(away)))}")
            return 0
        revoking = command == "revoke"
        try:
            g = roles.check_grant(args.role, args.scope, None if revoking else load_community(settings.community_file))
        except roles.GrantError as exc:
            print(f"无法{'取消' if revoking else '设置'}角色：{exc.reason}", file=sys.stderr)
            return 2
        user_id = await _user_id(db, args.user)
        if user_id is None:
            print(f"不认识的用户：{args.user}（写数字ID，或先让对方给机器人发一条消息）", file=sys.stderr)
            return 2
        away: dict = {}
        async with db.transaction() as s:
            if revoking:
                changed = await roles.revoke(s, tg_user_id=user_id, role=g.role, scope=g.scope)
            else:
                changed = await roles.grant(s, tg_user_id=user_id, role=g.role, scope=g.scope,
                                            granted_by=None, now=datetime.now(UTC))
                away = await roles.out_of_reach(s, [user_id])
        word = "revoked" if revoking else "granted"
        print(f"{word}: {user_id} {g.role.value} {g.scope or '-'}" + ("" if changed else " (no change)")
              + _away(away, user_id))
        if away:
            print(f"{user_id} {NOT_STARTED_NOTE}", file=sys.stderr)
        return 0
    finally:
        await db.dispose()


NOT_STARTED_NOTE = ("收不到机器人私信（Telegram 规定机器人只能私聊点过“开始”的人：请对方打开机器人发送 /start，"
                    "屏蔽了的先解除屏蔽）")


def _away(away: dict, user: int) -> str:
    """The mark of someone the bot cannot write to privately (``services.people.roles.out_of_reach``)."""
    if user not in away:
        return ""
    return "\t⚠ 已屏蔽机器人" if away[user] is not None else "\t⚠ 未私聊过机器人"


async def _user_id(db: Database, user: str) -> int | None:
    if user.lstrip("-").isdigit():
        return int(user)
    from services.people import directory

    async with db.session() as s:
        known = await directory.find(s, user)
    return known.tg_user_id if known else None


def cmd_roles(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


__all__ = ["add_roles_parser", "cmd_roles"]
