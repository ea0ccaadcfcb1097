"""`linli import`: 12345 and mailbox exports (CSV in UTF-8 or GBK, XLSX) become cases once each, bad rows are
reported by line while good rows go in, and an unreadable file (missing column, wrong encoding) writes nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from linli_web_tests import COMMUNITY, ENGINE, Clock
from openpyxl import Workbook
from sqlmodel import select

from bot.__main__ import main
from services.people.residents import sync_grids
from services.web.imports import ImportFileError, Mapping_, import_file
from storage.models import CaseSource, Channel, Ticket, TicketEvent, TicketEventKind

HEADER = "工单编号,来电时间,诉求类别,诉求内容,诉求地址,来电人,联系电话"
ROWS = [
    "GD2026031700001,2026-03-17 08:12,噪音扰民,9号楼楼上每天晚上装修到十一点,9号楼,王先生,13800001111",
    "GD2026031700002,2026-03-17 08:40,,小区东门路灯坏了好几盏晚上很黑,东门,李女士,13800002222",
    ",2026-03-17 09:00,环境卫生,没有编号的一行,12号楼,,",
    "GD2026031700003,2026-03-17 09:30,环境卫生,,12号楼,,",
    "GD2026031700001,2026-03-17 09:45,噪音扰民,同一个编号又出现了一次,9号楼,,",
    "GD2026031700004,2026-03-17 10:05,市容环卫,12号楼门口垃圾三天没人清运,12号楼,赵先生,",
]


def write_csv(path: Path, encoding: str, rows: list[str] = ROWS, header: str = HEADER) -> Path:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


async def run(db, path: Path, mapping: Mapping_ | None = None, channel: Channel = Channel.HOTLINE):
    async with db.transaction() as s:
        await sync_grids(s, COMMUNITY)
    return await import_file(db, path, channel=channel, mapping=mapping or Mapping_(), engine=ENGINE,
                             community=COMMUNITY, staff_chat_id=-100500, now=Clock()())


async def tickets(db) -> list[Ticket]:
    async with db.session() as s:
        return list((await s.exec(select(Ticket).order_by(Ticket.id))).all())


async def test_a_gbk_export_goes_in_once_with_bad_rows_reported_by_line(db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "12345.csv", "gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really GBK
    summary = await run(db, path)
    assert (summary.added, summary.already) == (3, 0)
    assert summary.refused == [(4, "缺少工单编号"), (5, "诉求内容为空"),
                               (6, "工单编号 GD2026031700001 与第 2 行重复")]
    found = await tickets(db)
    assert [t.category for t in found] == ["noise", "repair", "sanitation"]  # file's word, engine, engine
    assert {t.channel for t in found} == {Channel.HOTLINE}
    assert found[0].contact_phone == "13800001111" and found[0].grid_code == "A03"
    async with db.session() as s:
        notes = (await s.exec(select(TicketEvent.note).where(TicketEvent.kind == TicketEventKind.NOTE))).all()
        sources = (await s.exec(select(CaseSource.source_ref).order_by(CaseSource.id))).all()
    assert "导入：来源编号 GD2026031700001，原始时间 2026-03-17 08:12" in notes
    assert sources == ["GD2026031700001", "GD2026031700002", "GD2026031700004"]
    again = await run(db, path)
    assert (again.added, again.already, len(again.refused)) == (0, 3, 3)
    assert len(await tickets(db)) == 3


async def test_utf8_with_bom_and_xlsx_read_the_same(db, tmp_path: Path) -> None:
    summary = await run(db, write_csv(tmp_path / "a.csv", "utf-8-sig", ROWS[:2]))
    assert summary.added == 2
    book = Workbook()
    sheet = book.active
    for line in [HEADER, *ROWS[:2], "GD2026031700009,2026-03-18 10:00,,8号楼电梯坏了,8号楼,,"]:
        sheet.append(line.split(","))
    buf = io.BytesIO()
    book.save(buf)
    (tmp_path / "b.xlsx").write_bytes(buf.getvalue())
    summary = await run(db, tmp_path / "b.xlsx")
    assert (summary.added, summary.already) == (1, 2)


async def test_the_same_number_in_another_channel_is_another_case(db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", "utf-8", ROWS[:1])
    assert (await run(db, path)).added == 1
    assert (await run(db, path, channel=Channel.LETTER)).added == 1


async def test_a_missing_column_or_a_wrong_encoding_writes_nothing(db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", "utf-8", ["1,2026-03-17,噪音,太吵"], header="编号,时间,类别,备注")
    with pytest.raises(ImportFileError, match="缺少必需的列：诉求内容"):
        await run(db, path)
    utf16 = tmp_path / "b.csv"
    utf16.write_bytes(("\n".join([HEADER, *ROWS])).encode("utf-16"))
    with pytest.raises(ImportFileError, match="编码无法识别"):
        await run(db, utf16)
    assert await tickets(db) == []


async def test_a_mapping_names_other_columns_and_categories(db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", "gbk", ["X-1,楼道里堆满杂物,卫生类", "X-2,楼上漏水到我家,房屋类"],
                     header="信件号,信件正文,分类")
    mapping_file = tmp_path / "map.toml"
    mapping_file.write_text('[columns]\nnumber = "信件号"\ntext = "信件正文"\ncategory = "分类"\n'
                            '[categories]\n"卫生类" = "sanitation"\n"房屋类" = "property"\n', encoding="utf-8")
    summary = await run(db, path, Mapping_.load(mapping_file), Channel.LETTER)
    assert summary.added == 2
    assert [t.category for t in await tickets(db)] == ["sanitation", "property"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[categories]\n"x" = "nonsense"\n', encoding="utf-8")
    with pytest.raises(ImportFileError, match="未知类别"):
        Mapping_.load(bad)


def test_the_command_line_prints_a_summary_and_exits_2_on_a_bad_file(tmp_path: Path, capsys, monkeypatch) -> None:
    db_file = tmp_path / "cli.db"
    for name in ("BOT_TOKEN", "COMMUNITY_FILE", "TAXONOMY_FILE", "STAFF_CHAT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db_file}")
    monkeypatch.chdir(tmp_path)
    path = write_csv(tmp_path / "x.csv", "gbk")
    assert main(["import", str(path), "--channel", "12345"]) == 0
    out = capsys.readouterr()
    assert "新增 3 件，已存在 0 件，拒绝 3 行" in out.out and "第 4 行：缺少工单编号" in out.err
    assert main(["import", str(path), "--channel", "12345"]) == 0
    assert "新增 0 件，已存在 3 件" in capsys.readouterr().out
    assert main(["import", str(path), "--channel", "传真"]) == 2
    (tmp_path / "e.csv").write_bytes(b"\xff\xfe\x00garbage\x00")
    assert main(["import", str(tmp_path / "e.csv"), "--channel", "信箱"]) == 2
    assert "导入失败" in capsys.readouterr().err


