"""Report figures against a small November whose every number is worked out by hand (see ``november``).

Tickets (local times, November 2026, as of 1 December 10:00; noise/dispute go to juweihui (168 h / 120 h),
repair to wuye (24 h); sign-for limit 2 h):

T1 noise  A03  2日09:00, signed 09:30, resolved 3日09:00, 满意 → closed.
T2 noise  A03  5日09:00, signed 12:00 (late), resolved 6日09:00, 不满意 → reopened 6日12:00 + escalated to grid;
               signed 7日10:00 (late again, current round), resolved 28日12:00, past the new deadline (13日12:00);
               not rated again yet (its rating stays 不满意).
               督办 6日10:00 reply by 7日10:00, answered 6日20:00 (on time).
T3 noise  A03  10日09:00, signed 09:10, 待补充 10:00–12日10:00 (48 h paused), resolved 12日11:00 → 未评价 later.
T4 noise  A03  20日09:00, signed 09:05, 待补充 since 10:00 and still waiting (its deadline slides).
T5 repair A01  25日09:00 by phone at 9号楼电梯, never signed: late to sign and overdue (red); swept on 1 Dec:
               escalated grid (sign-for) and community (breached). 督办 27日 reply by 28日, never answered.
T6 repair A01  15日 at 9号楼电梯, merged into T5 on 25日 (not counted; its resident follows T5).
T7 dispute A03 3日09:00, signed 09:30, mediation to 协议, resolved 4日15:00 (30 h), 满意.
T8 dispute A03 4日09:00, signed 09:30, mediation 申请/登记, withdrawn 6日 (a failed mediation).
T10 noise A03  30日23:30 (local: still November), unsigned at 1 Dec 10:00: late to sign, escalated to grid.
T11 noise      1 Dec 00:10 local: December, not in the report.
T9 noise  A03  28 Oct, signed on time, resolved, 满意: the previous period.
"""

import asyncio
import csv
import io
import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from services import SHANGHAI
from services.cases import mediation, supervision
from services.cases.events import staff_actor
from services.cases.followup import expire_unrated, rate
from services.cases.lifecycle import answer_info, open_dispatched, transition
from services.cases.sweep import sweep
from services.people.residents import get_or_create_resident, sync_grids
from services.reports import charts, export
from services.reports.figures import ALL, Filter, Scope, ScopeKind, build_report, figures_for
from services.reports.periods import month_of, parse_period
from storage.db import Database
from storage.models import Channel, HotspotWarning, MediationStage, Rating, Ticket, TicketStatus
from tests.unit.wall_clock import wall_clock_sample

S = TicketStatus
C = wall_clock_sample()
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
NOV = parse_period("2026-11")


def at(day: int, hour: int = 9, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


class World:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.ids: dict[str, int] = {}
        self._tg = 5000

    async def open(self, name: str, category: str, when: datetime, *, grid: str | None = "A03",
                   location: str | None = None, channel: Channel | None = None) -> int:
        self._tg += 1
        async with self.db.transaction() as s:
            r = await get_or_create_resident(s, tg_user_id=self._tg, name=name, now=when)
            r.grid_code = grid
            s.add(r)
            t = await open_dispatched(s, resident=r, category=category, text=f"{name} 的诉求", location=location,
                                      photos=[], community=C, now=when)
            if channel is not None:
                t.channel = channel
                s.add(t)
        self.ids[name] = t.id
        return t.id

    async def move(self, name: str, to: TicketStatus, when: datetime, **kw) -> None:
        async with self.db.transaction() as s:
            t = await s.get(Ticket, self.ids[name])
            if to is S.SIGNED and t.status is S.PENDING_INFO:
                result = await answer_info(s, t, actor=staff_actor(1), now=when)
            else:
                result = await transition(s, t, to, actor=staff_actor(1), now=when, result="已处理", **kw)
        assert result.ok, (name, to, result)

    async def walk(self, name: str, *steps: tuple[TicketStatus, datetime]) -> None:
        for to, when in steps:
            await self.move(name, to, when)

    async def rate(self, name: str, rating: Rating, when: datetime) -> None:
        async with self.db.transaction() as s:
            t = await s.get(Ticket, self.ids[name])
            assert (await rate(s, t, rating, None, when, community=C)).ok

    async def mediate(self, name: str, *stages: MediationStage, when: datetime) -> None:
        async with self.db.transaction() as s:
            t = await s.get(Ticket, self.ids[name])
            for stage in stages:
                meeting = when + timedelta(days=1) if stage is MediationStage.MEETING else None
                assert (await mediation.record_mediation(s, t, stage, actor=staff_actor(1), now=when,
                                                         meeting_at=meeting)).ok


async def november(db: Database) -> World:
    w = World(db)
    async with db.transaction() as s:
        await sync_grids(s, C)
    await w.open("T9", "noise", at(28, month=10))
    await w.walk("T9", (S.SIGNED, at(28, 10, month=10)), (S.IN_PROGRESS, at(28, 11, month=10)),
                 (S.RESOLVED, at(29, month=10)))
    await w.rate("T9", Rating.SATISFIED, at(29, 12, month=10))

    await w.open("T1", "noise", at(2))
    await w.walk("T1", (S.SIGNED, at(2, 9, 30)), (S.IN_PROGRESS, at(2, 10)), (S.RESOLVED, at(3)))
    await w.rate("T1", Rating.SATISFIED, at(3, 12))

    await w.open("T2", "noise", at(5))
    await w.walk("T2", (S.SIGNED, at(5, 12)), (S.IN_PROGRESS, at(5, 13)), (S.RESOLVED, at(6)))
    await w.rate("T2", Rating.UNSATISFIED, at(6, 12))  # reopens, escalates above the grid level that handled it
    await w.walk("T2", (S.SIGNED, at(7, 10)), (S.IN_PROGRESS, at(7, 11)), (S.RESOLVED, at(28, 12)))

    await w.open("T3", "noise", at(10))
    await w.walk("T3", (S.SIGNED, at(10, 9, 10)), (S.PENDING_INFO, at(10, 10)), (S.SIGNED, at(12, 10)),
                 (S.IN_PROGRESS, at(12, 10, 30)), (S.RESOLVED, at(12, 11)))

    await w.open("T4", "noise", at(20))
    await w.walk("T4", (S.SIGNED, at(20, 9, 5)), (S.PENDING_INFO, at(20, 10)))

    await w.open("T6", "repair", at(15), grid="A01", location="9号楼电梯")
    await w.open("T5", "repair", at(25), grid="A01", location="9号楼电梯", channel=Channel.PHONE)
    async with db.transaction() as s:
        t6, t5 = await s.get(Ticket, w.ids["T6"]), await s.get(Ticket, w.ids["T5"])
        assert (await transition(s, t6, S.MERGED, actor=staff_actor(1), now=at(25, 10), merged_into=t5)).ok

    await w.open("T7", "dispute", at(3))
    await w.walk("T7", (S.SIGNED, at(3, 9, 30)), (S.IN_PROGRESS, at(3, 10)))
    await w.mediate("T7", *list(MediationStage)[:5], when=at(4, 10))
    await w.move("T7", S.RESOLVED, at(4, 15))
    await w.rate("T7", Rating.SATISFIED, at(4, 18))

    await w.open("T8", "dispute", at(4))
    await w.walk("T8", (S.SIGNED, at(4, 9, 30)))
    await w.mediate("T8", MediationStage.APPLIED, MediationStage.REGISTERED, when=at(5))
    await w.move("T8", S.WITHDRAWN, at(6))

    await w.open("T10", "noise", at(30, 23, 30))
    await w.open("T11", "noise", at(1, 0, 10, month=12))

    async with db.transaction() as s:
        for name, issued, by, answered in (("T2", at(6, 10), at(7, 10), at(6, 20)), ("T5", at(27), at(28), None)):
            t = await s.get(Ticket, w.ids[name])
            done = await supervision.supervise(s, t, reason="群众反映强烈", reply_by=by, supervisor_tg_id=77,
                                               now=issued)
            assert done.ok
            if answered:
                assert (await supervision.answer(s, done.supervision, text="已整改", actor=staff_actor(2),
                                                 now=answered)).ok
        s.add(HotspotWarning(category="noise", scope_kind="building", scope="9号楼", raised_at=at(12), count=3))
        s.add(HotspotWarning(category="noise", scope_kind="grid", scope="A03", raised_at=at(2, month=12), count=3))
    async with db.transaction() as s:
        assert len(await expire_unrated(s, at(20))) == 1  # T3: nobody answered
        report = await sweep(s, NOW, C)
    assert {(e.number, e.level.value) for e in report.escalations} >= {
        (await _number(db, w.ids["T5"]), "grid"), (await _number(db, w.ids["T5"]), "community")}
    return w


async def _number(db: Database, ticket_id: int) -> str:
    async with db.session() as s:
        return (await s.get(Ticket, ticket_id)).number


def values(figs) -> dict:
    return {k: (f.numerator, f.denominator) for k, f in figs.items()}


EXPECTED_ALL = {
    "received": (8, None),
    "response_rate": (5, 8),  # T2 (current round), T5, T10 late
    "on_time_rate": (3, 5),  # T1 T3 T7 on time, T2 late, T5 overdue; T4 paused, T8 withdrawn, T10 not due
    "resolution_rate": (3, 4),  # T1 T3 T7 of T1 T2 T3 T7
    "satisfaction_rate": (2, 3),  # T1 T7 of T1 T2(不满意) T7
    "unrated": (1, 4),  # T3
    "unreachable": (0, 8),  # none closed as 无法联系 (tests/e2e/test_desk_unreachable.py counts one)
    "first_response_0_1h": (5, 6),
    "first_response_1_4h": (1, 6),
    "first_response_4_8h": (0, 6),
    "first_response_8_24h": (0, 6),
    "first_response_24h_plus": (0, 6),
    "median_resolve_hours": (27.0, 4),  # 2 (T3, 48 h paused), 24 (T1), 30 (T7), 528 (T2's second round)
    "reopened": (1, 4),
    "escalations_grid": (2, 8),  # T5 and T10 sign-for
    "escalations_community": (2, 8),  # T2 unsatisfied (one above the grid's level that handled it), T5 breached
    "escalations_street": (0, 8),
    "withdrawn": (1, 8),
    "warnings": (1, None),  # the one raised in November
    "mediation_applied": (0, 2),
    "mediation_registered": (1, 2),
    "mediation_meeting": (0, 2),
    "mediation_negotiation": (0, 2),
    "mediation_agreement": (1, 2),
    "mediation_follow_up": (0, 2),
    "mediation_success_rate": (1, 2),
    "supervised": (2, 8),
    "supervision_on_time": (1, 2),
    "open_red": (1, 4),  # T5
    "open_yellow": (0, 4),
    "open_green": (3, 4),  # T4 (paused early), T10, and T11: December's, but open now is open now
}


async def test_every_figure_of_november_by_hand(any_db: Database) -> None:
    await november(any_db)
    async with any_db.session() as s:
        figs = await figures_for(s, NOV, community=C, as_of=NOW)
    assert values(figs[ALL]) == EXPECTED_ALL
    assert figs[ALL]["response_rate"].value == pytest.approx(5 / 8)
    assert figs[ALL]["median_resolve_hours"].value == 27.0


async def test_scopes_by_unit_grid_category_and_channel(db: Database) -> None:
    await november(db)
    async with db.session() as s:
        figs = await figures_for(s, NOV, community=C, as_of=NOW)
    wuye = figs[Scope(ScopeKind.UNIT, "wuye")]
    assert values(wuye)["received"] == (1, None)  # T5 only: T6 was merged
    assert values(wuye)["response_rate"] == (0, 1)
    assert values(wuye)["on_time_rate"] == (0, 1)
    assert wuye["satisfaction_rate"].value is None  # nothing rated: "—", not 0 % or 100 %
    assert wuye["median_resolve_hours"].value is None
    assert values(figs[Scope(ScopeKind.UNIT, "juweihui")])["received"] == (7, None)
    assert values(figs[Scope(ScopeKind.UNIT, "juweihui")])["satisfaction_rate"] == (2, 3)
    assert values(figs[Scope(ScopeKind.GRID, "A01")])["received"] == (1, None)
    assert values(figs[Scope(ScopeKind.GRID, "A03")])["warnings"] == (1, None)  # 9号楼 is in A03
    assert values(figs[Scope(ScopeKind.CATEGORY, "dispute")])["mediation_success_rate"] == (1, 2)
    assert values(figs[Scope(ScopeKind.CHANNEL, "phone")])["received"] == (1, None)
    assert values(figs[Scope(ScopeKind.CHANNEL, "telegram")])["received"] == (7, None)


async def test_report_compares_with_the_previous_period_and_filters(db: Database) -> None:
    await november(db)
    async with db.session() as s:
        report = await build_report(s, NOV, community=C, now=NOW)
        unit_report = await build_report(s, NOV, community=C, now=NOW, filt=Filter(unit="wuye"))
        empty = await build_report(s, parse_period("2026-09"), community=C, now=NOW)
    assert report.previous_period == month_of(at(1, month=10).date())
    overall = report.overall
    assert overall.scope == ALL
    assert overall.previous["received"].numerator == 1  # T9
    assert overall.change("received") == 7
    assert overall.change("satisfaction_rate") == pytest.approx(2 / 3 - 1)
    assert overall.change("open_red") is None  # a snapshot has no previous value
    assert [s.scope.code for s in report.of(ScopeKind.UNIT)] == ["wuye", "juweihui"]  # the file's order
    assert [(p.category, p.place, p.complaints, p.cases) for p in report.top_problems] == [
        ("noise", "网格 A03", 5, 5),  # no place given: the grid stands for it
        ("repair", "9号楼", 3, 1),  # T5, the merged T6 and T6's author now following T5: one case
        ("dispute", "网格 A03", 2, 2),
    ]
    assert [s.scope.code for s in unit_report.of(ScopeKind.UNIT)] == ["wuye"]
    assert unit_report.overall.figures["received"].numerator == 1
    assert empty.overall.figures["received"].numerator == 0
    assert all(empty.overall.figures[k].value is None for k in ("response_rate", "on_time_rate", "resolution_rate",
                                                                 "satisfaction_rate", "unrated"))


async def test_exports_json_csv_xlsx_and_text(db: Database, tmp_path: Path) -> None:
    await november(db)
    async with db.session() as s:
        report = await build_report(s, NOV, community=C, now=NOW)
        cases = await export.cases_for(s, report)
    data = json.loads(export.to_json(report))
    whole = data["scopes"][0]
    assert whole["scope"] == "all" and data["period"] == "2026-11"
    assert whole["figures"]["response_rate"] == {"value": 0.625, "numerator": 5, "denominator": 8}
    assert whole["figures"]["satisfaction_rate"]["denominator"] == 3
    assert whole["change"]["received"] == 7
    wuye = next(x for x in data["scopes"] if x["scope"] == "unit:wuye")
    assert wuye["figures"]["satisfaction_rate"] == {"value": None, "numerator": 0, "denominator": 0}

    rows = list(csv.DictReader(io.StringIO(export.to_csv(cases))))
    assert len(rows) == 9  # T1–T8 and T10, the merged T6 included and marked
    merged = next(r for r in rows if r["status"] == "merged")
    assert merged["merged_into"].startswith("LL-")
    assert {r["created_at"][:7] for r in rows} == {"2026-11"}  # local time

    path = tmp_path / "r.xlsx"
    export.write_xlsx(report, cases, path)
    book = load_workbook(path)
    assert book.sheetnames == ["指标", "工单", "说明"]
    sheet = book["指标"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["范围", "名称", "指标"]
    lines = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    line = next(x for x in lines if x[0] == "all" and x[2] == "response_rate")
    assert line[3:6] == [0.625, 5, 8]
    empty_line = next(x for x in lines if x[0] == "unit:wuye" and x[2] == "satisfaction_rate")
    assert empty_line[3] == "—"
    assert book["工单"].max_row == 10

    text = export.to_text(report)
    assert "响应率 62.5%（5/8）" in text
    assert "满意率 —（0/0）" in text or "满意率 —" in text
    assert "2026年11月" in text


def test_chart_is_a_real_png_with_the_cjk_font(tmp_path: Path) -> None:
    font = charts.cjk_font()
    assert font.is_file()
    assert charts.missing_glyphs("响应率按时办结率满意率") == ""


async def test_chart_of_a_report(db: Database, tmp_path: Path) -> None:
    await november(db)
    async with db.session() as s:
        report = await build_report(s, NOV, community=C, now=NOW)
    path = charts.report_chart(report, tmp_path / "c.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    from PIL import Image

    with Image.open(path) as img:
        assert img.size[0] >= 800


# --- linli report -----------------------------------------------------------------------------------------


async def cli(monkeypatch: pytest.MonkeyPatch, db_url: str, *args: str) -> int:
    from bot.__main__ import main

    monkeypatch.setenv("DATABASE_URL", db_url)
    return await asyncio.to_thread(main, ["report", *args, "--as-of", "2026-12-01T10:00"])


async def test_cli_formats(db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    await november(db)
    assert await cli(monkeypatch, db_url, "--period", "2026-11") == 0
    out = capsys.readouterr().out
    assert "响应率 62.5%（5/8）" in out and "【按承办单位】" in out

    assert await cli(monkeypatch, db_url, "--period", "2026-11", "--unit", "wuye", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["filter"] == {"unit": "wuye", "grid": None}
    assert data["scopes"][0]["figures"]["received"] == {"value": 1, "numerator": 1, "denominator": None}

    xlsx, png = tmp_path / "nov.xlsx", tmp_path / "nov.png"
    assert await cli(monkeypatch, db_url, "--from", "2026-11-01", "--to", "2026-11-30", "--format", "xlsx",
                     "--out", str(xlsx), "--chart", str(png)) == 0
    assert load_workbook(xlsx)["工单"].max_row == 10
    assert png.read_bytes()[:4] == b"\x89PNG"

    assert await cli(monkeypatch, db_url, "--week", "2026-W48", "--grid", "a01", "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["category"] for r in rows] == ["repair"]  # T5 (25 Nov) in grid A01

    assert await cli(monkeypatch, db_url, "--period", "2026-09", "--format", "json") == 0  # empty: allowed
    whole = json.loads(capsys.readouterr().out)["scopes"][0]["figures"]
    assert whole["received"]["value"] == 0 and whole["response_rate"]["value"] is None


@pytest.mark.parametrize(("args", "says"), [
    (("--period", "2026-11", "--unit", "nope"), "不认识的承办单位"),
    (("--period", "2026-11", "--grid", "Z99"), "不认识的网格"),
    (("--period", "2027-01"), "还没有开始"),
    (("--quarter", "2027Q1"), "还没有开始"),
    (("--from", "2026-11-30", "--to", "2026-11-01"), "早于"),
    (("--from", "2026-11-30"), "要一起写"),
    (("--period", "2026-13"), "无法识别"),
    (("--week", "2026-11"), "不是周"),
    (("--period", "2026-11", "--week", "2026-W48"), "只指定一个"),
    (("--period", "2026-11", "--format", "xlsx"), "需要 --out"),
    (("--period", "2026-11", "--out", "/nonexistent/dir/r.json"), "文件夹不存在"),
])
async def test_cli_bad_input_is_one_line_and_exit_2(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                                                    says: str) -> None:
    assert await cli(monkeypatch, db_url, *args) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], captured.err
    assert captured.out == ""


async def test_cli_unwritable_output_leaves_nothing(db: Database, db_url: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    target = locked / "r.xlsx"
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions: make the write itself fail instead
            target.mkdir()
        assert await cli(monkeypatch, db_url, "--period", "2026-11", "--format", "xlsx", "--out", str(target)) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
        assert [p.name for p in locked.iterdir()] == ([target.name] if target.is_dir() else [])
    finally:
        locked.chmod(0o700)
