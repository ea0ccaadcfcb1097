"""Printable QR posters that bind residents to their grid.

A grid worker pins an A4 poster in the lobby of each building; a resident scans the QR code, Telegram opens
the bot with ``/start g-A03`` and the /start handler binds them to grid A03. This module only draws: it
takes a loaded :class:`~services.community.model.Community` and returns a Pillow image, so it needs no bot, no
database and no network. Chinese must render with a real CJK font, never as empty boxes ("tofu"): a
poster printed with tofu is wasted paper, so :func:`find_cjk_font` refuses fonts that lack the glyphs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from services.community.model import Community, GridInfo

# A4 portrait at 200 dpi: sharp print, a PNG of a few hundred KB.
DPI = 200
A4_MM = (210, 297)
PAGE_SIZE = tuple(round(mm / 25.4 * DPI) for mm in A4_MM)  # (1654, 2339)

CALL_TO_ACTION = "扫码加入邻里"
CALL_TO_ACTION_SUB = "随时反映问题、查询服务"
SCAN_HINT = "请用 Telegram 扫一扫"
WEB_HINT = "没有 Telegram？手机扫码在网页反映"  # under the 服务码 (the web form ``/s/<grid>``)
DEFAULT_BOT_USERNAME = "linli_bot"
GLYPH_PROBE = "邻"  # a character every simplified-Chinese font has and Latin fonts lack

# Colours: a warm community red, and pure black kept for the QR modules only (tests find the code by it).
RED = (183, 28, 28)
RED_LIGHT = (255, 244, 242)
INK = (33, 33, 33)
GREY = (97, 97, 97)
WHITE = (255, 255, 255)
QR_DARK = (0, 0, 0)

CJK_FONT_ENV = "LINLI_CJK_FONT"
INSTALL_HINT = "apt-get install fonts-wqy-microhei"
# Debian/Ubuntu locations of fonts-noto-cjk, fonts-wqy-microhei and fonts-wqy-zenhei (and Fedora's noto-cjk).
KNOWN_CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
FC_MATCH_PATTERNS = ("Noto Sans CJK SC", ":lang=zh-cn")

# Telegram usernames: 5–32 characters, letters, digits and underscores, starting with a letter.
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")


class FontNotFound(RuntimeError):
    """No usable CJK font; the message says how to install one or point LINLI_CJK_FONT at one."""


class UnknownGrid(LookupError):
    """The grid code is not in the community file; the message lists the codes that are."""

    def __init__(self, community: Community, code: str) -> None:
        known = "、".join(g.code for g in community.grids) or "（无）"
        super().__init__(f"未知网格：{code}（{community.name}的网格有 {known}）")
        self.code = code


# --- deep link and QR --------------------------------------------------------------------------------


def normalize_username(bot_username: str) -> str:
    """``@Linli_Bot`` → ``Linli_Bot``; raises ValueError for a name Telegram would not accept."""
    name = bot_username.strip().removeprefix("@")
    if not _USERNAME.match(name):
        raise ValueError(f"机器人用户名不合法：{bot_username!r}（应为 5–32 位字母、数字或下划线，以字母开头）")
    return name


def deep_link(bot_username: str, grid_code: str) -> str:
    """The t.me link whose ``start`` payload ``g-<code>`` the /start handler binds to a grid."""
    return f"https://t.me/{normalize_username(bot_username)}?start=g-{grid_code.strip().upper()}"


def intake_link(web_url: str, grid_code: str) -> str:
    """The 服务码: the grid's web form (``/s/<code>``) at the web side's public address (``BASE_URL``)."""
    return f"{web_url.strip().rstrip('/')}/s/{grid_code.strip().upper()}"


def qr_matrix(data: str) -> list[list[bool]]:
    """QR modules (True = dark) including the 4-module quiet zone; level M survives a scuffed poster."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.get_matrix()


def _draw_qr(img: Image.Image, data: str, box: tuple[int, int, int]) -> tuple[int, int, int, int]:
    """Draw the code at (left, top) within ``size`` px, whole pixels per module for crisp scanning.

    Returns the drawn box; the quiet zone stays the page's white."""
    left, top, size = box
    matrix = qr_matrix(data)
    n = len(matrix)
    module = max(1, size // n)
    left += (size - module * n) // 2
    top += (size - module * n) // 2
    draw = ImageDraw.Draw(img)
    draw.rectangle((left, top, left + module * n - 1, top + module * n - 1), fill=WHITE)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                x, y = left + c * module, top + r * module
                draw.rectangle((x, y, x + module - 1, y + module - 1), fill=QR_DARK)
    return left, top, left + module * n, top + module * n


# --- fonts -------------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _ttc_index(path: str) -> int:
    """In a .ttc collection pick the Simplified Chinese face (Noto CJK bundles JP/KR/SC/TC/HK)."""
    if not path.lower().endswith(".ttc"):
        return 0
    for index in range(12):
        try:
            family = ImageFont.truetype(path, 12, index=index).getname()[0] or ""
        except OSError:
            break
        if family.endswith((" SC", " CN")):
            return index
    return 0


@lru_cache(maxsize=64)
def load_font(path: str | Path, size: int) -> ImageFont.FreeTypeFont:
    """A FreeType font at ``size`` px; cached because a poster asks for the same few sizes many times."""
    path = str(path)
    return ImageFont.truetype(path, size, index=_ttc_index(path))


def _glyph_bitmap(font: ImageFont.FreeTypeFont, ch: str) -> bytes:
    size = int(font.size) * 2
    img = Image.new("L", (size, size), 0)
    ImageDraw.Draw(img).text((size // 4, size // 4), ch, font=font, fill=255)
    return img.tobytes()


def renders_glyph(font_path: str | Path, ch: str) -> bool:
    """True when the font draws ``ch`` as a real glyph: some ink, and not the font's .notdef box.

    Pillow has no font fallback and FreeType draws .notdef for a missing character, so comparing with
    the rendering of a noncharacter (U+FFFF, never in any cmap) tells tofu from a glyph."""
    if ch.isspace():
        return True
    try:
        font = load_font(str(font_path), 48)
        bitmap = _glyph_bitmap(font, ch)
    except OSError:
        return False
    return any(bitmap) and bitmap != _glyph_bitmap(font, "\uffff")


def missing_glyphs(font_path: str | Path, text: str) -> list[str]:
    """Characters of ``text`` the font would draw as tofu (a rare character in a name, say)."""
    return sorted({ch for ch in text if not renders_glyph(font_path, ch)})


def _fc_match(pattern: str) -> str | None:
    if not shutil.which("fc-match"):
        return None
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def find_cjk_font() -> Path:
    """``$LINLI_CJK_FONT``, else a known Noto CJK / WenQuanYi path, else what fontconfig offers for Chinese.

    Every candidate must really draw 邻: fc-match happily answers DejaVu Sans for "Noto Sans CJK SC"."""
    override = os.environ.get(CJK_FONT_ENV, "").strip()
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise FontNotFound(f"{CJK_FONT_ENV}={override}: 文件不存在")
        if not renders_glyph(path, GLYPH_PROBE):
            raise FontNotFound(f"{CJK_FONT_ENV}={override}: 该字体没有中文字形（“{GLYPH_PROBE}”显示为方框）")
        return path
    candidates = [*KNOWN_CJK_FONTS, *(f for p in FC_MATCH_PATTERNS if (f := _fc_match(p)))]
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file() and renders_glyph(path, GLYPH_PROBE):
            return path
    raise FontNotFound(
        f"找不到中文字体，无法生成海报。请安装一个：{INSTALL_HINT}（或 fonts-noto-cjk），"
        f"或设置 {CJK_FONT_ENV}=/path/to/font.ttc"
    )


def _bold_variant(font_path: Path) -> Path | None:
    """Noto ships NotoSansCJK-Bold beside -Regular; WenQuanYi has no bold, so titles get a stroke instead."""
    if "Regular" in font_path.name:
        bold = font_path.with_name(font_path.name.replace("Regular", "Bold"))
        if bold.is_file():
            return bold
    return None


# --- layout ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PosterText:
    """Every string a poster shows, so the CLI can check glyph coverage before printing."""

    community: str
    street: str
    grid_title: str
    grid_code: str
    call_to_action: str
    call_to_action_sub: str
    scan_hint: str
    link: str
    worker: str
    buildings: str
    address: str
    web_hint: str = ""  # the 服务码's, when the web side's address is known
    web_link: str = ""

    def all_text(self) -> str:
        return "".join(vars(self).values())


def poster_text(community: Community, grid_code: str, bot_username: str, web_url: str | None = None) -> PosterText:
    """Raises UnknownGrid for a code the community file does not have. ``web_url``: the web side's public address,
    for the 服务码 beside the bot's code (residents without Telegram file on the web form)."""
    grid = _grid(community, grid_code)
    link = deep_link(bot_username, grid.code)
    web = intake_link(web_url, grid.code) if web_url else ""
    return PosterText(
        community=community.name,
        street=f"{community.street} · 邻里服务" if community.street else "邻里服务",
        grid_title=grid.name,
        grid_code=f"网格编号 {grid.code}",
        call_to_action=CALL_TO_ACTION,
        call_to_action_sub=CALL_TO_ACTION_SUB,
        scan_hint=SCAN_HINT,
        link=link.removeprefix("https://"),
        worker=f"{grid.worker_name}　{grid.phone}" if grid.phone else grid.worker_name,  # as on a 网格员公示牌
        buildings="、".join(grid.buildings),
        address=community.address,
        web_hint=WEB_HINT if web else "",
        web_link=web.removeprefix("https://"),
    )


def _grid(community: Community, grid_code: str) -> GridInfo:
    grid = community.grid(grid_code)
    if grid is None:
        raise UnknownGrid(community, grid_code.strip())
    return grid


class _Fonts:
    """Regular and title faces at the sizes asked for; titles are fake-bold (stroke) without a bold face."""

    def __init__(self, font_path: Path) -> None:
        self.regular = font_path
        self.bold = _bold_variant(font_path)

    def get(self, size: int, *, bold: bool = False) -> tuple[ImageFont.FreeTypeFont, int]:
        if bold and self.bold:
            return load_font(self.bold, size), 0
        return load_font(self.regular, size), (max(1, size // 40) if bold else 0)


def _fit(fonts: _Fonts, text: str, size: int, max_width: int, *, bold: bool = False,
         min_size: int = 24) -> tuple[ImageFont.FreeTypeFont, int]:
    """The largest font ≤ ``size`` that fits ``text`` on one line: long community names shrink, not clip."""
    while True:
        font, stroke = fonts.get(size, bold=bold)
        if size <= min_size or font.getlength(text) + 2 * stroke <= max_width:
            return font, stroke
        size -= 4


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: int, sep: str = "、") -> list[str]:
    """Break between list items where possible, inside an item only when it alone is too wide."""
    lines: list[str] = []
    line = ""
    for i, item in enumerate(text.split(sep)):
        piece = item if i == 0 else sep + item
        if not line or font.getlength(line + piece) <= max_width:
            line += piece
            continue
        lines.append(line)
        line = item
    if line:
        lines.append(line)
    out: list[str] = []
    for line in lines:  # an item wider than the line: break by character (Chinese needs no spaces)
        while font.getlength(line) > max_width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and font.getlength(line[:cut]) > max_width:
                cut -= 1
            out.append(line[:cut])
            line = line[cut:]
        out.append(line)
    return out


# (font size, most lines) tried in turn; the card may not push the QR code below ~6 cm.
_BUILDING_FITS = ((50, 2), (44, 3), (40, 3))


def _building_lines(fonts: _Fonts, buildings: tuple[str, ...], width: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The buildings as few lines as fit; a grid with dozens of buildings ends in "等共 N 处" instead."""
    for size, most in _BUILDING_FITS:
        font, _ = fonts.get(size)
        lines = _wrap("、".join(buildings), font, width)
        if len(lines) <= most:
            return font, lines
    for keep in range(len(buildings) - 1, 0, -1):
        lines = _wrap("、".join(buildings[:keep]) + f" 等共 {len(buildings)} 处", font, width)
        if len(lines) <= most:
            return font, lines
    return font, _wrap(f"共 {len(buildings)} 处", font, width)


def _centre(draw: ImageDraw.ImageDraw, y: int, text: str, font: ImageFont.FreeTypeFont, fill: tuple[int, ...],
            stroke: int = 0) -> int:
    """Draw ``text`` centred at height ``y``; returns the y just below it."""
    width = draw.im.size[0]
    draw.text((width // 2, y), text, font=font, fill=fill, anchor="mt", stroke_width=stroke, stroke_fill=fill)
    return y + font.getbbox(text, anchor="mt", stroke_width=stroke)[3]


def render_poster(community: Community, grid_code: str, bot_username: str, *, font_path: str | Path,
                  web_url: str | None = None) -> Image.Image:
    """The A4 poster for one grid as an RGB image at :data:`DPI`.

    Top to bottom: red header with the community's name, the grid's name and code, the call to action,
    the QR code of the deep link (and beside it the 服务码, the grid's web form, when ``web_url`` is given), a card
    naming the grid worker and the buildings, the address.
    Raises UnknownGrid, or ValueError for a bad bot username."""
    t = poster_text(community, grid_code, bot_username, web_url)
    link = "https://" + t.link
    fonts = _Fonts(Path(font_path))
    width, height = PAGE_SIZE
    margin = 120
    inner = width - 2 * margin
    img = Image.new("RGB", PAGE_SIZE, WHITE)
    draw = ImageDraw.Draw(img)

    # header band
    header_h = 400
    draw.rectangle((0, 0, width, header_h), fill=RED)
    title_font, stroke = _fit(fonts, t.community, 136, inner, bold=True)
    street_font, _ = _fit(fonts, t.street, 56, inner)
    title_h = title_font.getbbox(t.community, anchor="mt", stroke_width=stroke)[3]
    block_h = title_h + 44 + street_font.getbbox(t.street, anchor="mt")[3]
    y = _centre(draw, (header_h - block_h) // 2, t.community, title_font, WHITE, stroke)
    _centre(draw, y + 44, t.street, street_font, RED_LIGHT)

    # grid name and code
    font, stroke = _fit(fonts, t.grid_title, 112, inner, bold=True)
    y = _centre(draw, header_h + 90, t.grid_title, font, INK, stroke)
    font, _ = fonts.get(48)
    pill_w = int(font.getlength(t.grid_code)) + 80
    pill_top = y + 36
    draw.rounded_rectangle(((width - pill_w) // 2, pill_top, (width + pill_w) // 2, pill_top + 84), radius=42,
                           outline=RED, width=4)
    _centre(draw, pill_top + 16, t.grid_code, font, RED)

    # call to action
    font, stroke = _fit(fonts, t.call_to_action, 100, inner, bold=True)
    y = _centre(draw, pill_top + 84 + 80, t.call_to_action, font, RED, stroke)
    font, _ = _fit(fonts, t.call_to_action_sub, 60, inner)
    y = _centre(draw, y + 28, t.call_to_action_sub, font, GREY)

    # bottom-up: footer, info card; the QR code gets the space left between
    footer_h = 150
    draw.rectangle((0, height - footer_h, width, height), fill=RED)
    font, _ = _fit(fonts, t.address, 40, inner)
    draw.text((width // 2, height - footer_h // 2), t.address, font=font, fill=WHITE, anchor="mm")

    label_font, label_stroke = fonts.get(50, bold=True)
    label_w = int(max(label_font.getlength(s) for s in ("网格员", "服务楼栋"))) + 48
    pad = 48
    value_w = inner - 2 * pad - label_w
    building_font, building_lines = _building_lines(fonts, _grid(community, grid_code).buildings, value_w)
    value_font, _ = fonts.get(50)
    line_h, building_h = 78, int(building_font.size * 1.56)
    card_h = pad * 2 + line_h + 20 + building_h * len(building_lines)
    card_bottom = height - footer_h - 70
    card_top = card_bottom - card_h
    draw.rounded_rectangle((margin, card_top, width - margin, card_bottom), radius=28, fill=RED_LIGHT)
    x_label, x_value = margin + pad, margin + pad + label_w
    row = card_top + pad
    draw.text((x_label, row), "网格员", font=label_font, fill=RED, stroke_width=label_stroke, stroke_fill=RED)
    draw.text((x_value, row), t.worker, font=value_font, fill=INK)
    row += line_h + 20
    draw.text((x_label, row), "服务楼栋", font=label_font, fill=RED, stroke_width=label_stroke, stroke_fill=RED)
    for line in building_lines:
        draw.text((x_value, row), line, font=building_font, fill=INK)
        row += building_h

    if t.web_link:  # two codes side by side: the bot's and the 服务码
        _two_codes(draw, img, fonts, t, link, top=y + 50, bottom=card_top, inner=inner)
        return img

    # QR code with a frame, the hint and the link in text under it
    hint_font, _ = fonts.get(44)
    link_font, _ = _fit(fonts, t.link, 40, inner)
    below_qr = 30 + 56 + 52 + 50  # gap, hint, link, gap above the card
    qr_top = y + 50
    qr_size = min(880, card_top - below_qr - qr_top - 24)  # ≥ 500 px (6.3 cm) given _BUILDING_FITS
    frame = ((width - qr_size) // 2 - 12, qr_top - 12, (width + qr_size) // 2 + 12, qr_top + qr_size + 12)
    draw.rounded_rectangle(frame, radius=24, outline=RED, width=6)
    _draw_qr(img, link, ((width - qr_size) // 2, qr_top, qr_size))
    y = _centre(draw, frame[3] + 30, t.scan_hint, hint_font, GREY)
    _centre(draw, y + 16, t.link, link_font, GREY)
    return img


def _two_codes(draw: ImageDraw.ImageDraw, img: Image.Image, fonts: _Fonts, t: PosterText, link: str, *, top: int,
               bottom: int, inner: int) -> None:
    """The bot's code (left) and the 服务码 (right), each framed, with its hint and its link in text under it."""
    gap = 80
    column = (inner - gap) // 2
    below_qr = 30 + 56 + 52 + 50  # gap, hint, link, gap above the card
    qr_size = min(column - 24, bottom - below_qr - top - 24)
    centres = (img.width // 2 - (column + gap) // 2, img.width // 2 + (column + gap) // 2)
    web = t.web_link if "://" in t.web_link else "https://" + t.web_link
    for x, data, hint, shown in ((centres[0], link, t.scan_hint, t.link), (centres[1], web, t.web_hint, t.web_link)):
        frame = (x - qr_size // 2 - 12, top - 12, x + qr_size // 2 + 12, top + qr_size + 12)
        draw.rounded_rectangle(frame, radius=24, outline=RED, width=6)
        _draw_qr(img, data, (x - qr_size // 2, top, qr_size))
        hint_font, _ = _fit(fonts, hint, 44, column)
        link_font, _ = _fit(fonts, shown, 36, column)
        draw.text((x, frame[3] + 30), hint, font=hint_font, fill=GREY, anchor="mt")
        draw.text((x, frame[3] + 30 + 56 + 16), shown, font=link_font, fill=GREY, anchor="mt")


def save_poster(img: Image.Image, out_dir: str | Path, stem: str) -> tuple[Path, Path]:
    """Write ``stem.png`` and ``stem.pdf`` (one A4 page at :data:`DPI`) into ``out_dir``, creating it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png, pdf = out / f"{stem}.png", out / f"{stem}.pdf"
    img.save(png, "PNG", dpi=(DPI, DPI), optimize=True)
    # Pillow embeds RGB pages as JPEG: high quality and no chroma subsampling keep QR edges and red text clean.
    img.convert("RGB").save(pdf, "PDF", resolution=DPI, quality=95, subsampling=0, title=stem, creator="linli")
    return png, pdf
