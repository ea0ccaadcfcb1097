"""`linli audit --case LL-… | --user ID | --from 2026-11-01 --to 2026-11-30 [--format text|json|csv]`: who tried and
did what on the cases, from which chat, when, allowed or refused (the audit table and the cases' own history).

Dates are local (Asia/Shanghai), --to inclusive. Every mistake is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
from dataclasses import asdict
from datetime import timedelta

from bot.settings import Settings

FORMATS = ("text", "json", "csv")


class BadInput(Exception):
    """One line for stderr, exit 2."""


def add_audit_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("audit", help="who did or tried what on cases (by case, user or dates)")
    p.add_argument("--case", help="a case number, e.g. LL-20261122-0007")
    p.add_argument("--user", help="a Telegram user id")
    p.add_argument("--from", dest="date_from", help="first day, e.g. 2026-11-01")
    p.add_argument("--to", dest="date_to", help="last day, inclusive")
    p.add_argument("--format", choices=FORMATS, default="text")
    return p


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from services.cases.desk import ticket_by_number
    from services.cases.tickets import parse_ticket_number
    from services.people import audit
    from services.reports.periods import date_range, parse_day
    from storage.db import Database

    if sum(bool(x) for x in (args.case, args.user)) > 1:
        raise BadInput("--case 和 --user 只能选一个（可以再加 --from/--to 限定日期）")
    since = until = None
    if args.date_from or args.date_to:
        if args.date_from and args.date_to:
            period = date_range(args.date_from, args.date_to)
            since, until = period.since, period.until
        else:
            day = parse_day(args.date_from or args.date_to, "--from" if args.date_from else "--to")
            period = date_range(day.isoformat(), day.isoformat())
            since, until = (period.since, None) if args.date_from else (None, period.until)
    if not (args.case or args.user or since):
        raise BadInput("请指定 --case 工单号、--user 用户ID，或 --from/--to 日期")
    user_id = None
    if args.user:
        if not args.user.strip().lstrip("-").isdigit():
            raise BadInput(f"--user 应为数字用户ID，现为 {args.user!r}")
        user_id = int(args.user)
    number = None
    if args.case:
        number = parse_ticket_number(args.case)
        if number is None:
            raise BadInput(f"工单号 {args.case!r} 无法识别：应为 LL-20261122-0007 这样的号码")
    db = Database(settings.database_url)
    try:
        await db.migrate_async()
        async with db.session() as s:
            if number is not None:
                ticket = await ticket_by_number(s, number)
                if ticket is None or ticket.id is None:
                    raise BadInput(f"没有工单 {number}")
                lines = [x for x in await audit.for_case(s, ticket.id)
                         if (since is None or x.at >= since) and (until is None or x.at < until)]
            elif user_id is not None:
                lines = await audit.for_user(s, user_id, since=since, until=until)
            else:
                assert since is not None
                lines = await audit.between(s, since, until or since + timedelta(days=36500))
    finally:
        await db.dispose()
    sys.stdout.write(render(lines, args.format))
    return 0


def render(lines: list, fmt: str) -> str:
    from services import local

    rows = [asdict(x) | {"at": local(x.at).strftime("%Y-%m-%d %H:%M:%S")} for x in lines]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["at", "actor", "chat_id", "action", "allowed", "number", "via",
                                                 "note"])
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    if not rows:
        return "（没有记录）\n"
    return "".join(
        f"{r['at']}  {r['actor']:<16} {('chat:' + str(r['chat_id'])) if r['chat_id'] is not None else '-':<16} "
        f"{'允许' if r['allowed'] else '拒绝'}  {r['action']:<28} {r['number'] or '-':<18} {r['via']} {r['note']}"
        .rstrip() + "\n"
        for r in rows)


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    from services.reports.periods import ReportError

    try:
        return asyncio.run(_run(args, settings))
    except (BadInput, ReportError) as exc:
        print(f"linli audit: {exc}", file=sys.stderr)
        return 2


__all__ = ["add_audit_parser", "cmd_audit", "render"]
