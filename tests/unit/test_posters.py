"""QR posters: the link binds to the right grid, the code scans back to it, Chinese is real glyphs (not
tofu), files are print-ready, and every mistake is one clear line with exit status 2."""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bot.poster_cli import cmd_poster
from bot.settings import Settings, load_settings
from services.community import posters
from services.community.model import SAMPLE_COMMUNITY_FILE, Community, load_community
from services.community.posters import (
    DPI,
    PAGE_SIZE,
    FontNotFound,
    UnknownGrid,
    deep_link,
    find_cjk_font,
    load_font,
    poster_text,
    qr_matrix,
    render_poster,
    renders_glyph,
    save_poster,
)

ROOT = Path(__file__).resolve().parents[2]
NO_FONT = "no CJK font installed (apt-get install fonts-wqy-microhei, or set LINLI_CJK_FONT)"
LATIN_ONLY_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
A03_LINK = "https://t.me/linli_bot?start=g-A03"


@pytest.fixture(scope="module")
def community() -> Community:
    return load_community(SAMPLE_COMMUNITY_FILE)


@pytest.fixture(scope="module")
def font() -> Path:
    try:
        return find_cjk_font()
    except FontNotFound:
        pytest.skip(NO_FONT)


@pytest.fixture(scope="module")
def a03_files(community: Community, font: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    img = render_poster(community, "A03", "linli_bot", font_path=font)
    return save_poster(img, tmp_path_factory.mktemp("posters"), "poster-A03")


@pytest.fixture
def settings() -> Settings:
    return load_settings(community_file=SAMPLE_COMMUNITY_FILE)


def poster_args(grid: str | None = None, *, out: Path, all_: bool = False,
                bot_username: str | None = "linli_bot") -> argparse.Namespace:
    return argparse.Namespace(grid=grid, all=all_, out=str(out), bot_username=bot_username)


# --- deep link ---------------------------------------------------------------------------------------


def test_deep_link_carries_the_grid_payload_the_start_handler_reads() -> None:
    assert deep_link("linli_bot", "A03") == A03_LINK
    assert deep_link("@Jingui_Linli_Bot", " a03 ") == "https://t.me/Jingui_Linli_Bot?start=g-A03"
    payload = deep_link("linli_bot", "A-1").split("?start=", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)  # what Telegram allows in a start parameter
    assert payload[2:].upper() == "A-1" and payload.lower().startswith("g-")  # handlers/resident.py's parse


@pytest.mark.parametrize("bad", ["", "bot", "1linli_bot", "linli-bot", "linli bot", "x" * 33])
def test_deep_link_rejects_usernames_telegram_would_not(bad: str) -> None:
    with pytest.raises(ValueError, match="用户名"):
        deep_link(bad, "A03")


# --- the QR code scans back to the link --------------------------------------------------------------


def assert_qr_encodes(img: Image.Image, link: str) -> int:
    """Without a QR decoder: the pure-black pixels (only the QR uses them) sampled at each module's centre
    equal the matrix qrcode makes for ``link``, and the 4-module quiet zone is white. Returns module px."""
    img = img.convert("RGB")
    left, top, right, bottom = img.convert("L").point(lambda v: 255 if v == 0 else 0).getbbox()
    matrix = [row[4:-4] for row in qr_matrix(link)[4:-4]]
    n = len(matrix)
    assert right - left == bottom - top and (right - left) % n == 0, "square code, whole pixels per module"
    module = (right - left) // n
    px = img.load()
    seen = [[px[left + c * module + module // 2, top + r * module + module // 2] == (0, 0, 0) for c in range(n)]
            for r in range(n)]
    assert seen == matrix
    for d in range(1, 4 * module):  # quiet zone
        assert px[left - d, top + module * n // 2] == (255, 255, 255)
        assert px[left + module * n // 2, bottom - 1 + d] == (255, 255, 255)
    return module


def test_qr_modules_in_the_png_match_the_deep_link(a03_files: tuple[Path, Path]) -> None:
    module = assert_qr_encodes(Image.open(a03_files[0]), A03_LINK)
    assert module >= 12, "modules of 1.5 mm at 200 dpi scan from a step back"


def test_many_buildings_do_not_squeeze_the_qr_code(community: Community, font: Path) -> None:
    grid = dataclasses.replace(community.grids[0], buildings=tuple(f"{i}号楼" for i in range(1, 61)))
    crowded = dataclasses.replace(community, grids=(grid, *community.grids[1:]), name="金桂社区" * 8)
    img = render_poster(crowded, "A01", "linli_bot", font_path=font)
    assert img.size == PAGE_SIZE
    assert assert_qr_encodes(img, deep_link("linli_bot", "A01")) >= 10


def _pdf_page_jpeg(pdf: Path) -> Image.Image:
    """Pillow writes an RGB page as one DCTDecode (JPEG) image stream: pull it out to look at the page."""
    data = pdf.read_bytes()
    start = data.index(b"\xff\xd8\xff")
    end = data.rindex(b"\xff\xd9") + 2
    return Image.open(io.BytesIO(data[start:end]))


def test_qr_decodes_with_opencv(a03_files: tuple[Path, Path]) -> None:
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless not installed (optional test dependency)")
    import numpy as np

    detector = cv2.QRCodeDetector()
    for img in (Image.open(a03_files[0]), _pdf_page_jpeg(a03_files[1])):
        bgr = cv2.cvtColor(np.asarray(img.convert("RGB")), cv2.COLOR_RGB2BGR)
        assert detector.detectAndDecode(bgr)[0] == A03_LINK


# --- files -------------------------------------------------------------------------------------------


def test_png_and_pdf_are_print_ready_a4(a03_files: tuple[Path, Path]) -> None:
    png, pdf = a03_files
    assert png.name == "poster-A03.png" and pdf.name == "poster-A03.pdf"
    with Image.open(png) as img:
        assert img.format == "PNG" and img.size == PAGE_SIZE == (1654, 2339)
        assert round(img.info["dpi"][0]) == DPI
    assert 20_000 < png.stat().st_size < 5_000_000
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert 20_000 < len(data) < 10_000_000
    box = re.search(rb"/MediaBox \[ ?0 0 ([\d.]+) ([\d.]+) ?\]", data)
    assert box and abs(float(box[1]) - 595.3) < 2 and abs(float(box[2]) - 841.9) < 2, "A4 in points"
    assert _pdf_page_jpeg(pdf).size == PAGE_SIZE


# --- Chinese renders as glyphs, not tofu -------------------------------------------------------------


def test_cjk_glyph_is_not_the_notdef_box(font: Path) -> None:
    f = load_font(font, 64)
    glyph = f.getmask("邻")
    notdef = f.getmask("\uffff")  # a noncharacter: no font maps it, so FreeType draws .notdef
    assert glyph.getbbox() is not None
    assert (glyph.size, bytes(glyph)) != (notdef.size, bytes(notdef))
    assert renders_glyph(font, "邻")


@pytest.mark.skipif(not LATIN_ONLY_FONT.is_file(), reason="DejaVu Sans not installed (fonts-dejavu-core)")
def test_tofu_detector_catches_a_latin_only_font() -> None:
    assert renders_glyph(LATIN_ONLY_FONT, "A")
    assert not renders_glyph(LATIN_ONLY_FONT, "邻")


def test_every_character_on_the_poster_has_a_glyph(community: Community, font: Path) -> None:
    for grid in community.grids:
        text = poster_text(community, grid.code, "linli_bot").all_text()
        assert posters.missing_glyphs(font, text) == [], grid.code


def test_poster_shows_the_grid_worker_buildings_and_header(community: Community, font: Path) -> None:
    t = poster_text(community, "a03", "linli_bot")
    assert (t.community, t.grid_title, t.worker) == ("金桂社区", "第三网格", "李秀英　13800000003")
    assert "A03" in t.grid_code and t.buildings == "9号楼、10号楼、11号楼、12号楼"
    assert t.link == "t.me/linli_bot?start=g-A03"
    img = render_poster(community, "A03", "linli_bot", font_path=font)
    header = img.crop((0, 0, img.width, 380))
    colours = dict((c, n) for n, c in header.getcolors(1 << 16))
    assert colours.get(posters.RED, 0) > header.width * 200, "a red band"
    assert colours.get(posters.WHITE, 0) > 5_000, "white title text on it"


# --- fonts -------------------------------------------------------------------------------------------


def test_no_cjk_font_says_how_to_install_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINLI_CJK_FONT", raising=False)
    monkeypatch.setattr(posters, "KNOWN_CJK_FONTS", ())
    monkeypatch.setattr(posters, "_fc_match", lambda pattern: str(LATIN_ONLY_FONT))  # fc-match's usual answer
    with pytest.raises(FontNotFound, match="apt-get install fonts-wqy-microhei"):
        find_cjk_font()


def test_cjk_font_env_is_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LINLI_CJK_FONT", str(tmp_path / "nope.ttc"))
    with pytest.raises(FontNotFound, match="不存在"):
        find_cjk_font()
    if LATIN_ONLY_FONT.is_file():
        monkeypatch.setenv("LINLI_CJK_FONT", str(LATIN_ONLY_FONT))
        with pytest.raises(FontNotFound, match="没有中文字形"):
            find_cjk_font()


# --- unknown grid and the command --------------------------------------------------------------------


def test_unknown_grid_is_a_clear_error(community: Community) -> None:
    with pytest.raises(UnknownGrid, match=r"未知网格：Z99.*A01、A02") as err:
        render_poster(community, "Z99", "linli_bot", font_path="/no/font/needed")
    assert "\n" not in str(err.value)


def test_cmd_poster_unknown_grid_exits_2(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("BOT_USERNAME", raising=False)  # no default-username note either: just the one line
    assert cmd_poster(poster_args("Z99", out=tmp_path, bot_username=None), settings) == 2
    err = capsys.readouterr().err.strip()
    assert "Z99" in err and len(err.splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_cmd_poster_needs_a_grid_or_all(settings: Settings, tmp_path: Path) -> None:
    assert cmd_poster(poster_args(None, out=tmp_path), settings) == 2
    assert cmd_poster(poster_args("A03", out=tmp_path, all_=True), settings) == 2


def test_cmd_poster_bad_username_exits_2(settings: Settings, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert cmd_poster(poster_args("A03", out=tmp_path, bot_username="no"), settings) == 2
    assert "用户名" in capsys.readouterr().err


def test_cmd_poster_writes_one_grid(settings: Settings, font: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert cmd_poster(poster_args("a03", out=tmp_path, bot_username="@jingui_bot"), settings) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["poster-A03.pdf", "poster-A03.png"]
    assert "https://t.me/jingui_bot?start=g-A03" in capsys.readouterr().out


def test_cmd_poster_all_and_default_username(settings: Settings, font: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("BOT_USERNAME", raising=False)
    assert cmd_poster(poster_args(None, out=tmp_path, all_=True, bot_username=None), settings) == 0
    codes = [g.code for g in load_community(SAMPLE_COMMUNITY_FILE).grids]
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(f"poster-{c}.png" for c in codes)
    assert len(list(tmp_path.glob("*.pdf"))) == len(codes)
    out, err = capsys.readouterr()
    assert "BOT_USERNAME" in err and "linli_bot" in err
    assert "?start=g-A06" in out


def test_cmd_poster_reads_bot_username_from_env(settings: Settings, font: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BOT_USERNAME", "jingui_linli_bot")
    assert cmd_poster(poster_args("A01", out=tmp_path, bot_username=None), settings) == 0
    out, err = capsys.readouterr()
    assert "t.me/jingui_linli_bot?start=g-A01" in out and "BOT_USERNAME" not in err


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "STAFF_", "COMMUNITY_"))}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120, check=False)


def test_cli_end_to_end(font: Path, tmp_path: Path) -> None:
    if "poster" not in _run_cli("--help", cwd=tmp_path).stdout:
        pytest.skip("`linli poster` is not wired into bot/__main__.py yet (see bot.poster_cli.add_poster_parser)")
    done = _run_cli("poster", "A03", "--out", "tmp", "--bot-username", "linli_bot", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "tmp" / "poster-A03.png").stat().st_size > 20_000
    assert (tmp_path / "tmp" / "poster-A03.pdf").read_bytes().startswith(b"%PDF")
    assert A03_LINK in done.stdout
    bad = _run_cli("poster", "Z99", "--out", "tmp", cwd=tmp_path)
    assert bad.returncode == 2 and "Z99" in bad.stderr and "Traceback" not in bad.stderr


# --- the 服务码 beside the bot's code ------------------------------------------------------------------

WEB_URL = "https://linli.jingui.example.cn"
A03_FORM = "https://linli.jingui.example.cn/s/A03"


def test_the_poster_carries_the_grids_web_form_code_when_the_web_address_is_known(community: Community,
                                                                                  font: Path) -> None:
    """Residents without Telegram file on the 服务码 page (``/s/A03``): its code is printed beside the bot's, each
    scanning back to its own link, at a size a phone reads from a step back."""
    img = render_poster(community, "A03", "linli_bot", font_path=font, web_url=WEB_URL + "/")
    half = img.width // 2
    assert assert_qr_encodes(img.crop((0, 0, half, img.height)), A03_LINK) >= 12
    assert assert_qr_encodes(img.crop((half, 0, img.width, img.height)), A03_FORM) >= 12
    t = poster_text(community, "A03", "linli_bot", WEB_URL)
    assert t.web_link == "linli.jingui.example.cn/s/A03" and "没有 Telegram" in t.web_hint
    assert posters.missing_glyphs(font, t.all_text()) == []  # every character drawn as a real glyph, no tofu
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless not installed (optional test dependency)")
    import numpy as np

    found = cv2.QRCodeDetector().detectAndDecodeMulti(cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR))
    assert set(found[1]) == {A03_LINK, A03_FORM}


def test_the_wenquanyi_font_draws_the_web_hint(community: Community) -> None:
    """fonts-wqy-microhei (what make and CI install): the new words rendered one by one are glyphs, not boxes."""
    wqy = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    if not wqy.is_file():
        pytest.skip("fonts-wqy-microhei not installed")
    t = poster_text(community, "A03", "linli_bot", WEB_URL)
    assert all(renders_glyph(wqy, ch) for ch in t.web_hint if not ch.isascii())
    img = render_poster(community, "A03", "linli_bot", font_path=wqy, web_url=WEB_URL)
    assert img.size == PAGE_SIZE


def test_cmd_poster_prints_the_web_form_code_from_base_url(font: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    with_web = load_settings(community_file=SAMPLE_COMMUNITY_FILE, base_url=WEB_URL)
    assert cmd_poster(poster_args("A03", out=tmp_path), with_web) == 0
    out, err = capsys.readouterr()
    assert A03_FORM in out and "BASE_URL" not in err
    img = Image.open(tmp_path / "poster-A03.png")
    assert assert_qr_encodes(img.crop((img.width // 2, 0, img.width, img.height)), A03_FORM) >= 12
    without = load_settings(community_file=SAMPLE_COMMUNITY_FILE, base_url=None)
    assert cmd_poster(poster_args("A03", out=tmp_path), without) == 0
    out, err = capsys.readouterr()
    assert "/s/A03" not in out and "BASE_URL" in err and "服务码" in err
    assert_qr_encodes(Image.open(tmp_path / "poster-A03.png"), A03_LINK)  # the bot's code alone, as before
