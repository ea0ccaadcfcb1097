"""`linli open311 add NAME | revoke NAME | list`: the systems allowed to file cases through Open311
(``POST /open311/v2/requests.json`` with ``api_key``). A new key is printed once; only its SHA-256 is kept."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from bot.settings import Settings


def add_open311_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("open311", help="Open311 clients: add NAME (prints its API key), revoke NAME, list")
    p.add_argument("action", choices=("add", "revoke", "list"))
    p.add_argument("name", nargs="?", help="the client's name (add, revoke)")
    return p


def cmd_open311(args: argparse.Namespace, settings: Settings) -> int:
    if args.action in ("add", "revoke") and not (args.name or "").strip():
        print("请给出客户端名称，例如：linli open311 add 区级平台", file=sys.stderr)
        return 2
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from services.web import open311
    from storage.db import Database

    db = Database(settings.database_url)
    now = datetime.now(UTC)
    try:
        await db.migrate_async()
        if args.action == "list":
            async with db.session() as s:
                for c in await open311.clients(s):
                    print(f"{c.name}\t{'已停用' if c.revoked_at else '有效'}\t{c.created_at:%Y-%m-%d}")
            return 0
        async with db.transaction() as s:
            if args.action == "add":
                from sqlalchemy.exc import IntegrityError

                try:
                    key = await open311.add_client(s, name=args.name, now=now)
                except IntegrityError:
                    print(f"已有同名客户端：{args.name}", file=sys.stderr)
                    return 2
                print(f"已添加 Open311 客户端 {args.name}。API key（只显示这一次，请妥善保存）：\n{key}")
                return 0
            if not await open311.revoke_client(s, name=args.name, now=now):
                print(f"没有这个有效的客户端：{args.name}", file=sys.stderr)
                return 2
            print(f"已停用 Open311 客户端 {args.name}。")
            return 0
    finally:
        await db.dispose()


__all__ = ["add_open311_parser", "cmd_open311"]
