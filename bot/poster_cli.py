"""`linli poster A03` / `linli poster --all`: print-ready QR posters that bind residents to their grid, with the
grid's 服务码 (its web form) beside the bot's code when ``BASE_URL`` names the web side's public address.

Kept apart from bot/__main__.py so that Pillow and qrcode load only for this command, not for the bot.
Every failure a desk worker can cause (unknown grid, missing font, bad username, bad community file) is
one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.settings import Settings

DEFAULT_OUT = "var/posters"


def add_poster_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The `poster` subcommand's arguments, for bot/__main__.py's subparsers."""
    p = sub.add_parser("poster", help="write A4 QR posters (PNG + PDF) that bind residents to a grid")
    p.add_argument("grid", nargs="?", help="grid code, e.g. A03")
    p.add_argument("--all", action="store_true", help="one poster per grid in the community file")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--bot-username", help="the bot's @username for the QR link (default $BOT_USERNAME)")
    return p


def _bot_username(args: argparse.Namespace) -> str:
    """--bot-username, else $BOT_USERNAME, else the default with a note: a wrong name makes a dead QR code."""
    from services.community.posters import DEFAULT_BOT_USERNAME

    name = getattr(args, "bot_username", None) or os.environ.get("BOT_USERNAME", "").strip()
    if name:
        return name
    print(f"注意：未设置 BOT_USERNAME，二维码使用默认机器人 @{DEFAULT_BOT_USERNAME}"
          "（用 --bot-username 或 BOT_USERNAME 指定你的机器人）。", file=sys.stderr)
    return DEFAULT_BOT_USERNAME


def cmd_poster(args: argparse.Namespace, settings: Settings) -> int:
    """Write poster-<CODE>.png and .pdf for one grid or all; prints one line per poster."""
    from services.community.model import CommunityFileError, load_community
    from services.community.posters import (
        FontNotFound,
        UnknownGrid,
        find_cjk_font,
        intake_link,
        missing_glyphs,
        normalize_username,
        poster_text,
        render_poster,
        save_poster,
    )

    grid_arg: str | None = getattr(args, "grid", None)
    want_all = bool(getattr(args, "all", False))
    if bool(grid_arg) == want_all:
        print("用法：linli poster <网格编号> 或 linli poster --all（二选一）", file=sys.stderr)
        return 2
    try:
        community = load_community(settings.community_file)
        if not want_all and community.grid(grid_arg or "") is None:
            raise UnknownGrid(community, (grid_arg or "").strip())  # before the username note: one line
        codes = [g.code for g in community.grids] if want_all else [grid_arg or ""]
        username = normalize_username(_bot_username(args))
        font = find_cjk_font()
    except (UnknownGrid, FontNotFound, CommunityFileError, ValueError) as exc:  # ValueError: bad bot username
        print(exc, file=sys.stderr)
        return 2

    web_url = settings.base_url  # the web side's public address: the 服务码 is only printed where phones reach it
    if web_url is None:
        print("注意：未设置 BASE_URL（网页的公网地址），海报上只有机器人的二维码，没有服务码。", file=sys.stderr)
    out = Path(getattr(args, "out", None) or DEFAULT_OUT)
    for code in codes:
        text = poster_text(community, code, username, web_url)
        grid = community.grid(code)
        assert grid is not None  # checked above
        if missing := missing_glyphs(font, text.all_text()):
            print(f"警告：字体 {font.name} 缺少这些字：{''.join(missing)}（海报上会显示为方框）", file=sys.stderr)
        img = render_poster(community, grid.code, username, font_path=font, web_url=web_url)
        png, pdf = save_poster(img, out, f"poster-{grid.code}")
        web = f"  服务码 ← {intake_link(web_url, grid.code)}" if web_url else ""
        print(f"{grid.code} {grid.name}: {png}  {pdf}  ← https://{text.link}{web}")
    return 0
