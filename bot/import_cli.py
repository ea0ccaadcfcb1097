"""`linli import FILE.csv|FILE.xlsx --channel 12345|信箱|来访 [--mapping map.toml]`: cases from the 12345 hotline's
exports or the mailboxes, each row once (re-importing the same file adds nothing), bad rows reported by line while
the good ones go in, and a summary at the end. A file that cannot be read at all (wrong encoding, a required column
missing) is one line on stderr and exit status 2, with nothing written. Cards for the new cases are owed to the
desks and sent by the bot when it runs."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from bot.settings import Settings


def add_import_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("import", help="import cases from a 12345 / mailbox export (CSV or XLSX)")
    p.add_argument("file", help="the CSV (UTF-8 or GBK) or XLSX file")
    p.add_argument("--channel", required=True, help="12345, 信箱 or 来访")
    p.add_argument("--mapping", help="TOML naming the file's columns ([columns]) and categories ([categories])")
    return p


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from services.web.imports import CHANNELS, ImportFileError, Mapping_

    channel = CHANNELS.get(args.channel.strip().lower()) or CHANNELS.get(args.channel.strip())
    if channel is None:
        print(f"未知渠道：{args.channel}（可用：12345、信箱、来访）", file=sys.stderr)
        return 2
    try:
        mapping = Mapping_.load(args.mapping)
        summary = asyncio.run(_run(args.file, channel, mapping, settings))
    except ImportFileError as exc:
        print(f"导入失败：{exc}", file=sys.stderr)
        return 2
    for line, reason in summary.refused:
        print(f"第 {line} 行：{reason}", file=sys.stderr)
    print(f"导入完成：新增 {summary.added} 件，已存在 {summary.already} 件，拒绝 {len(summary.refused)} 行。")
    return 0


async def _run(path: str, channel: object, mapping: object, settings: Settings) -> object:
    from intents import Engine
    from services.community.model import load_community
    from services.people.residents import sync_grids
    from services.web.imports import import_file
    from storage.db import Database

    community = load_community(settings.community_file)
    engine = Engine.from_file(settings.taxonomy_file)
    db = Database(settings.database_url)
    try:
        await db.migrate_async()
        async with db.transaction() as s:
            await sync_grids(s, community)
        return await import_file(db, path, channel=channel, mapping=mapping, engine=engine,  # type: ignore[arg-type]
                                 community=community, staff_chat_id=settings.staff_chat_id, now=datetime.now(UTC))
    finally:
        await db.dispose()


__all__ = ["add_import_parser", "cmd_import"]
