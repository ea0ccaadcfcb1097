"""linli command line: `linli run` (the bot), `linli console` (bot + local emulator in a terminal),
`linli migrate`, `linli check`, `linli poster`, `linli roles`, `linli intents export`, `linli import` (12345 and
mailbox exports), `linli open311` (API clients)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.audit_cli import add_audit_parser, cmd_audit
from bot.import_cli import add_import_parser, cmd_import
from bot.intents_cli import add_intents_parser, cmd_intents
from bot.open311_cli import add_open311_parser, cmd_open311
from bot.poster_cli import add_poster_parser, cmd_poster
from bot.report_cli import add_report_parser, cmd_report
from bot.roles_cli import add_roles_parser, cmd_roles
from bot.settings import Settings, SettingsError, load_settings


def _logging(level: str, quiet: bool = False) -> None:
    logging.basicConfig(
        level=logging.WARNING if quiet else getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)


def cmd_run(settings: Settings) -> int:
    """The bot against BOT_API_URL: polling, or Telegram's webhook (--webhook), in one process or --workers N
    (PostgreSQL); every update goes through the inbox. With no BOT_TOKEN, the local emulator and a terminal chat."""
    if not settings.bot_token:
        print("未设置 BOT_TOKEN：启动本地 Bot API 模拟器和终端对话（Ctrl-D 退出）。", file=sys.stderr)
        return cmd_console(settings)
    from bot import serving as runtime

    if settings.workers > 1:
        runtime.check_workers(settings)
        _logging(settings.log_level)
        return runtime.run_workers(settings)
    _logging(settings.log_level)
    return asyncio.run(runtime.serve(settings))


def cmd_console(settings: Settings) -> int:
    from bot.console import run

    _logging(settings.log_level, quiet=True)
    return asyncio.run(run(settings))


def cmd_migrate(settings: Settings) -> int:
    from storage.db import Database

    Database(settings.database_url).migrate()
    print(f"数据库已迁移到最新版本：{settings.database_url}")
    return 0


def cmd_check(settings: Settings) -> int:
    """Load the community file and taxonomy as the bot would, and say what is wrong."""
    from intents import Engine
    from services.community.model import load_community

    c = load_community(settings.community_file)
    e = Engine.from_file(settings.taxonomy_file)
    print(f"社区：{c.name}，{len(c.grids)} 个网格，{len(c.units)} 个承办单位；诉求分类 {len(e.model.labels)} 个。")
    if c.uses_working_time:
        from datetime import UTC, datetime

        from services.cases.working_time import calendar_warning

        print(calendar_warning(datetime.now(UTC)) or "节假日日历：已包含今后的年份。")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="linli", description="邻里 — 社区接诉即办机器人")
    sub = ap.add_subparsers(dest="cmd")
    for name, text in (("run", "run the bot and its web side (no BOT_TOKEN: local emulator + terminal chat)"),
                       ("console", "local emulator + the bot + a terminal chat")):
        sub.add_parser(name, help=text).add_argument(
            "--web-port", help="the web side's port (default WEB_PORT, 8080; 0: any free port; off: no web side)")
    run_parser = sub.choices["run"]
    run_parser.add_argument("--webhook", action="store_true", default=None,
                            help="take updates at BASE_URL/telegram/webhook (WEBHOOK_SECRET) instead of polling")
    run_parser.add_argument("--workers", type=int, help="worker processes behind --web-port (default WORKERS, 1; "
                            "more than one needs PostgreSQL)")
    sub.add_parser("migrate", help="migrate the database to the latest schema")
    sub.add_parser("check", help="validate the community file and the taxonomy")
    add_poster_parser(sub)
    add_roles_parser(sub)
    add_intents_parser(sub)
    add_report_parser(sub)
    add_audit_parser(sub)
    add_import_parser(sub)
    add_open311_parser(sub)
    args = ap.parse_args(argv)
    try:
        flags = {name: getattr(args, name, None) for name in ("web_port", "webhook", "workers")}
        settings = load_settings(**{name: value for name, value in flags.items() if value is not None})
        handler = {"run": cmd_run, "console": cmd_console, "migrate": cmd_migrate,
                   "check": cmd_check, "poster": lambda s: cmd_poster(args, s),
                   "roles": lambda s: cmd_roles(args, s), "intents": lambda s: cmd_intents(args, s),
                   "report": lambda s: cmd_report(args, s),
                   "audit": lambda s: cmd_audit(args, s), "import": lambda s: cmd_import(args, s),
                   "open311": lambda s: cmd_open311(args, s)}.get(args.cmd or "run")
        return handler(settings)
    except SettingsError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    except ValueError as exc:  # community file or taxonomy errors name file, key/line and problem
        print(f"配置错误: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
