"""Import cases from the 12345 hotline's exports and the mailboxes (CSV or XLSX): one row, one case, with its
source number kept, so importing the same file again creates nothing twice (``case_sources`` is unique on channel
and source number).

* Encoding: UTF-8 (with or without BOM) or GBK/GB18030, as 12345 exports usually are, detected by decoding: a
  file that is neither is refused whole, naming the problem.
* Columns: found by their usual Chinese headers (工单编号, 诉求内容, 诉求类别, 诉求地址, 来电人,
  联系电话, 来电时间 …) or named in a mapping file (TOML ``[columns]`` and ``[categories]``). A missing
  required column refuses the file whole, before anything is written.
* Rows: each is its own transaction; a row that cannot be read is reported with its line number and the reason
  while the good rows go in. The category comes from the file's column when it maps to ours, else from the
  intents engine reading the words.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from intents import Engine
from services.cases import events
from services.cases.duplicates import building_of
from services.cases.intake import Intake, open_case
from services.community.model import Category, Community
from services.people.residents import offline_resident
from services.reports.figures import CATEGORY_NAMES
from services.web.intake import suggest
from storage.db import Database
from storage.models import CaseSource, Channel, TicketEventKind

CHANNELS: Mapping[str, Channel] = {
    "12345": Channel.HOTLINE, "hotline": Channel.HOTLINE, "热线": Channel.HOTLINE,
    "信箱": Channel.LETTER, "letter": Channel.LETTER, "信件": Channel.LETTER,
    "来访": Channel.VISIT, "visit": Channel.VISIT,
}
# the resident's name when a row gives none: the channel as staff call it (the codes are no name to show)
UNNAMED: Mapping[Channel, str] = {Channel.HOTLINE: "12345热线来件", Channel.LETTER: "信箱来件",
                                  Channel.VISIT: "来访登记"}
UNNAMED_OTHER = "外部平台来件"
ALIASES: Mapping[str, tuple[str, ...]] = {
    "number": ("工单编号", "工单号", "编号", "受理编号", "来件编号", "信件编号", "登记编号", "source_number"),
    "text": ("诉求内容", "来电内容", "反映内容", "问题描述", "内容", "来信内容", "诉求描述", "text"),
    "category": ("诉求类别", "问题分类", "类别", "分类", "诉求分类", "category"),
    "location": ("诉求地址", "事发地址", "地址", "事发地点", "location"),
    "name": ("来电人", "姓名", "来信人", "来访人", "联系人", "name"),
    "phone": ("联系电话", "来电号码", "电话", "手机", "联系方式", "phone"),
    "time": ("来电时间", "受理时间", "登记时间", "来信时间", "来访时间", "时间", "time"),
}
REQUIRED = ("number", "text")
NAMES = {"number": "工单编号", "text": "诉求内容"}
MAX_REF = 64
MAX_TEXT = 4000


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (nothing was written); the message is one Chinese line."""


@dataclass(frozen=True)
class Mapping_:
    columns: Mapping[str, str] = field(default_factory=dict)  # field -> header
    categories: Mapping[str, str] = field(default_factory=dict)  # the file's word -> our category code

    @classmethod
    def load(cls, path: str | Path | None) -> Mapping_:
        if path is None:
            return cls()
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ImportFileError(f"映射文件无法读取：{path}（{exc}）") from None
        columns = {str(k): str(v) for k, v in (data.get("columns") or {}).items()}
        unknown = sorted(set(columns) - set(ALIASES))
        if unknown:
            raise ImportFileError(f"映射文件 [columns] 有未知字段：{', '.join(unknown)}（可用：{', '.join(ALIASES)}）")
        categories = {str(k).strip(): str(v).strip() for k, v in (data.get("categories") or {}).items()}
        bad = sorted(v for v in categories.values() if v not in {c.value for c in Category})
        if bad:
            raise ImportFileError(f"映射文件 [categories] 有未知类别：{', '.join(bad)}")
        return cls(columns, categories)


def decode(data: bytes) -> str:
    """UTF-8 (BOM or not), else GB18030 (a superset of GBK and GB2312); anything else is refused."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("文件编码无法识别：既不是 UTF-8 也不是 GBK，请另存为 UTF-8 或 GBK 的 CSV")


def read_rows(path: str | Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every row, the header first; CSV or XLSX by the file's contents."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"文件无法读取：{path}（{exc.strerror or exc}）") from None
    if data[:4] == b"PK\x03\x04":
        yield from _xlsx_rows(data)
        return
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for row in reader:
            yield start, [c.strip() for c in row]
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(f"CSV 格式错误，第 {reader.line_num} 行：{exc}") from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ImportFileError(f"XLSX 文件无法打开：{exc}") from None
    sheet = book.worksheets[0]
    for i, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield i, ["" if v is None else (v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else str(v)).strip()
                  for v in row]
    book.close()


def header_map(header: Sequence[str], mapping: Mapping_) -> dict[str, int]:
    """Field -> column index; a required field not found refuses the file."""
    index = {h.strip(): i for i, h in enumerate(header) if h.strip()}
    found: dict[str, int] = {}
    for name, aliases in ALIASES.items():
        wanted = mapping.columns.get(name)
        candidates = (wanted,) if wanted else aliases
        for c in candidates:
            if c in index:
                found[name] = index[c]
                break
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        what = "、".join(mapping.columns.get(f) or NAMES[f] for f in missing)
        raise ImportFileError(f"缺少必需的列：{what}（文件的列：{'、'.join(index) or '无'}；可用 --mapping 指定列名）")
    return found


@dataclass
class Summary:
    added: int = 0
    already: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    tickets: list[str] = field(default_factory=list)  # numbers of the cases added


def category_of(raw: str, text: str, *, mapping: Mapping_, engine: Engine) -> str:
    """Ours when the file's word maps to it (the mapping, our code, our names), else what the engine reads."""
    word = raw.strip()
    if word:
        if word in mapping.categories:
            return mapping.categories[word]
        if word in {c.value for c in Category}:
            return word
        for code, name in CATEGORY_NAMES.items():
            if word == name:
                return str(code)
        for code, info in engine.model.info.items():
            if info.kind == "complaint" and word == info.name and code in {c.value for c in Category}:
                return code
    return suggest(engine, text).category or Category.OTHER.value


def _cell(row: Sequence[str], columns: Mapping[str, int], name: str) -> str:
    i = columns.get(name)
    return row[i].strip() if i is not None and i < len(row) else ""


async def import_file(db: Database, path: str | Path, *, channel: Channel, mapping: Mapping_, engine: Engine,
                      community: Community, staff_chat_id: int | None, now: datetime,
                      on_added: Any = None) -> Summary:
    """Import every row of ``path``; each row in its own transaction. ``on_added()`` after each case (wake the
    sender)."""
    rows = read_rows(path)
    try:
        _, header = next(rows)
    except StopIteration:
        raise ImportFileError("文件是空的") from None
    columns = header_map(header, mapping)
    summary = Summary()
    seen: dict[str, int] = {}
    for line, row in rows:
        if not any(row):
            continue
        ref, text = _cell(row, columns, "number"), " ".join(_cell(row, columns, "text").split())
        if not ref:
            summary.refused.append((line, "缺少工单编号"))
            continue
        if len(ref) > MAX_REF:
            summary.refused.append((line, f"工单编号超过 {MAX_REF} 个字符"))
            continue
        if ref in seen:
            summary.refused.append((line, f"工单编号 {ref} 与第 {seen[ref]} 行重复"))
            continue
        seen[ref] = line
        if len(text) < 2:
            summary.refused.append((line, "诉求内容为空"))
            continue
        try:
            added = await _import_row(db, row, columns, ref=ref, text=text[:MAX_TEXT], channel=channel,
                                      mapping=mapping, engine=engine, community=community,
                                      staff_chat_id=staff_chat_id, now=now)
        except IntegrityError:  # the same row imported at the same moment by another run
            added = None
        if added is None:
            summary.already += 1
        else:
            summary.added += 1
            summary.tickets.append(added)
            if on_added is not None:
                on_added()
    return summary


async def _import_row(db: Database, row: Sequence[str], columns: Mapping[str, int], *, ref: str, text: str,
                      channel: Channel, mapping: Mapping_, engine: Engine, community: Community,
                      staff_chat_id: int | None, now: datetime) -> str | None:
    """The case of one row, unless that source number is in already (None)."""
    async with db.transaction() as s:
        known = (await s.exec(select(CaseSource.id).where(CaseSource.channel == channel,
                                                          CaseSource.source_ref == ref))).first()
        if known is not None:
            return None
        location = " ".join(_cell(row, columns, "location").split())[:255]
        building = building_of(location)
        info = community.grid_for_building(building) if building else None
        phone = _cell(row, columns, "phone").replace(" ", "")[:32] or None
        name = _cell(row, columns, "name")[:64]
        resident = await offline_resident(s, name=name or UNNAMED.get(channel, UNNAMED_OTHER), phone=phone,
                                          building=building, grid_code=info.code if info else None, now=now)
        category = category_of(_cell(row, columns, "category"), text, mapping=mapping, engine=engine)
        opened = await open_case(s, resident=resident, intake=Intake(
            category=category, text=text, location=location or None, grid_code=info.code if info else None,
            channel=channel, contact_name=name or None, contact_phone=phone,
        ), community=community, staff_chat_id=staff_chat_id, now=now)
        t = opened.ticket
        assert t.id is not None
        when = _cell(row, columns, "time")
        await events.record_event(s, t, kind=TicketEventKind.NOTE, actor=f"import:{channel.value}", now=now,
                                  note=f"导入：来源编号 {ref}" + (f"，原始时间 {when}" if when else ""))
        s.add(CaseSource(channel=channel, source_ref=ref, ticket_id=t.id, imported_at=now))
        await s.flush()
        return t.number


__all__ = ["ALIASES", "CHANNELS", "UNNAMED", "UNNAMED_OTHER", "ImportFileError", "Mapping_", "Summary", "category_of",
           "decode", "header_map", "import_file", "read_rows"]
