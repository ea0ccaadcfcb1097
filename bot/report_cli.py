"""`linli report`: the figures of a week, month, quarter or date range as text, JSON, CSV (one row per case) or
XLSX, for the whole community or one unit or grid; `--chart FILE` draws the PNG too.

    linli report --period 2026-11 | --week 2026-W48 | --quarter 2026Q4 | --from 2026-11-01 --to 2026-11-30
                 [--unit X] [--grid A03] [--format text|json|csv|xlsx] [--out FILE] [--chart FILE]

Dates are local (Asia/Shanghai). Every mistake (unknown unit or grid, a period not begun yet, --to before --from,
an output that cannot be written) is one line on stderr and exit status 2, and no file is left half-written. An
empty period is no mistake: its rates show "—".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.settings import Settings

FORMATS = ("text", "json", "csv", "xlsx")


class BadInput(Exception):
    """One line for stderr, exit 2."""


def add_report_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The `report` subcommand's arguments, for bot/__main__.py's subparsers."""
    p = sub.add_parser("report", help="figures of a period (text, json, csv, xlsx; --chart for a PNG)")
    p.add_argument("--period", help="2026-11 (month), 2026-W48 (ISO week) or 2026Q4 (quarter)")
    p.add_argument("--week", help="ISO week, e.g. 2026-W48")
    p.add_argument("--quarter", help="quarter, e.g. 2026Q4")
    p.add_argument("--from", dest="date_from", help="first day, e.g. 2026-11-01 (with --to)")
    p.add_argument("--to", dest="date_to", help="last day, inclusive (with --from)")
    p.add_argument("--unit", help="one handling unit's code")
    p.add_argument("--grid", help="one grid's code, e.g. A03")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--out", help="write to this file instead of the terminal (required for xlsx)")
    p.add_argument("--chart", help="also draw the report's PNG chart to this file")
    p.add_argument("--as-of", dest="as_of", help="judge as of this local moment (default: now), e.g. 2026-12-01T10:00")
    return p


def _period(args: argparse.Namespace, now: datetime) -> Any:
    from services.reports.periods import check_not_future, date_range, parse_period

    given = [x for x in (args.period, args.week, args.quarter) if x]
    ranged = args.date_from or args.date_to
    if len(given) + bool(ranged) != 1:
        raise BadInput("请只指定一个时间段：--period、--week、--quarter，或 --from 与 --to")
    if ranged:
        if not (args.date_from and args.date_to):
            raise BadInput("--from 和 --to 要一起写")
        period = date_range(args.date_from, args.date_to)
    else:
        period = parse_period(given[0])
        if (args.week and period.kind.value != "week") or (args.quarter and period.kind.value != "quarter"):
            raise BadInput(f"{given[0]!r} 不是{'周（如 2026-W48）' if args.week else '季度（如 2026Q4）'}")
    return check_not_future(period, now)


def _as_of(text: str | None) -> datetime:
    from services import SHANGHAI

    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"--as-of {text!r} 无法识别：请写 2026-12-01T10:00 这样的时间") from None
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment


def _writable(path: str | None, what: str) -> Path | None:
    """Refuse an output that cannot be written before any work is done."""
    if not path:
        return None
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise BadInput(f"{what} {path} 是一个文件夹，不能写入")
    if not folder.is_dir():
        raise BadInput(f"{what} 的文件夹不存在：{folder}")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise BadInput(f"没有权限写入 {what} {path}")
    return target


def _filter(args: argparse.Namespace, community: Any) -> Any:
    from services.reports.figures import Filter

    unit = grid = None
    if args.unit:
        found = community.unit(args.unit.strip().lower())
        if found is None:
            raise BadInput(f"不认识的承办单位 {args.unit!r}（可用：{'、'.join(u.code for u in community.units)}）")
        unit = found.code
    if args.grid:
        info = community.grid(args.grid)
        if info is None:
            raise BadInput(f"不认识的网格 {args.grid!r}（可用：{'、'.join(g.code for g in community.grids)}）")
        grid = info.code
    return Filter(unit=unit, grid=grid)


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from services.community.model import load_community
    from services.reports import export
    from services.reports.figures import build_report
    from storage.db import Database

    now = _as_of(args.as_of)
    period = _period(args, now)
    community = load_community(settings.community_file)
    filt = _filter(args, community)
    out = _writable(args.out, "--out")
    chart = _writable(args.chart, "--chart")
    if args.format == "xlsx" and out is None:
        raise BadInput("--format xlsx 需要 --out 文件名")
    if chart is not None:
        from services.reports import charts

        charts.cjk_font()  # no CJK font: say so before any work
    db = Database(settings.database_url)
    try:
        await db.migrate_async()
        async with db.session() as s:
            report = await build_report(s, period, community=community, now=now, filt=filt)
            cases = await export.cases_for(s, report) if args.format in ("csv", "xlsx") else []
    finally:
        await db.dispose()
    if args.format == "xlsx":
        data = export.xlsx_bytes(report, cases)
    else:
        text = {"text": export.to_text, "json": lambda r: export.to_json(r) + "\n"}.get(args.format)
        data = (text(report) if text else export.to_csv(cases)).encode("utf-8")
    try:
        if chart is not None:
            charts.report_chart(report, chart)
        if out is not None:
            export.write_atomic(out, data)
        else:
            sys.stdout.write(data.decode("utf-8"))
    except OSError as exc:
        raise BadInput(f"无法写入 {exc.filename or out}：{exc.strerror or exc}") from None
    if out is not None:
        print(f"已写入 {out}", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from services.reports.periods import ReportError

    try:
        return asyncio.run(_run(args, settings))
    except (BadInput, ReportError) as exc:
        print(f"linli report: {exc}", file=sys.stderr)
        return 2


__all__ = ["add_report_parser", "cmd_report"]
