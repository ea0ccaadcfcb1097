"""`linli intents export [--out FILE] [--since YYYY-MM-DD]`: the desk's corrections as training rows.

Every category staff corrected (改类别, a 转派 that says the category was wrong) and every category a resident
picked from the buttons, as ``text,label,source,at`` — what ``python -m intents.train --taxonomy … FILE``
learns from. Written whole or not at all; mistakes are one line and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from datetime import datetime, time
from pathlib import Path

from bot.settings import Settings


def add_intents_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("intents", help="the understanding engine's training data from the desk")
    actions = p.add_subparsers(dest="intents_cmd")
    e = actions.add_parser("export", help="write the desk's corrections as a training CSV (text,label,source,at)")
    e.add_argument("--out", type=Path, help="the CSV to write (default: standard output)")
    e.add_argument("--since", help="only corrections from this day on (YYYY-MM-DD, Asia/Shanghai)")
    return p


async def _export(args: argparse.Namespace, settings: Settings) -> int:
    from services import SHANGHAI
    from services.cases import corrections
    from storage.db import Database

    since = None
    if args.since:
        try:
            since = datetime.combine(datetime.strptime(args.since, "%Y-%m-%d").date(), time(), SHANGHAI)
        except ValueError:
            print(f"--since 应写成 YYYY-MM-DD：{args.since!r}", file=sys.stderr)
            return 2
    db = Database(settings.database_url)
    try:
        await db.migrate_async()
        async with db.session() as s:
            found = await corrections.rows(s, since)
    finally:
        await db.dispose()
    text = corrections.to_csv(found)
    if args.out is None:
        sys.stdout.write(text)
    else:
        try:
            _write_whole(args.out, text)
        except OSError as exc:
            print(f"无法写入 {args.out}：{exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"已导出 {len(found)} 条更正到 {args.out}", file=sys.stderr)
    return 0


def _write_whole(path: Path, text: str) -> None:
    """Into a temporary file beside it, then renamed: a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_intents(args: argparse.Namespace, settings: Settings) -> int:
    if getattr(args, "intents_cmd", None) != "export":
        print("用法：linli intents export [--out FILE] [--since YYYY-MM-DD]", file=sys.stderr)
        return 2
    return asyncio.run(_export(args, settings))


__all__ = ["add_intents_parser", "cmd_intents"]
