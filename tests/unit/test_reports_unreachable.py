"""A case closed as 无法联系 (its resident never answered 需补充) is no resolution: 解决率 leaves it out on both sides
(as 满意率 does), 按时办结率 judges it as an unresolved case (a miss only if its deadline had passed when it was
closed), in every place the rates are shown: the report's figures, /rates, the cases sheet of the exports.

November 2026 (noise: 168 h to resolve, juweihui), as of 1 December 10:00:

A  2日09:00, signed 09:30, 待补充 from 10:00 (deadline 9日09:00 slides), closed 无法联系 12日09:00: not overdue
   when closed.
B  3日09:00, signed 09:30, still working at its deadline 10日09:00, 待补充 from 11日09:00, closed 无法联系 20日09:00:
   overdue before it was ever put to 待补充, a miss.
C  6日09:00, signed 09:10, resolved 7日09:00, 满意.
D  16日09:00, signed 09:10, 待补充 10:00, closed 无法联系 17日, then its resident answers: reopened, done again,
   resolved 18日09:00 (on time), 满意.
"""

from services.cases import followup
from services.cases.desk import close_unreachable
from services.cases.events import resident_actor, staff_actor
from services.reports import export
from services.reports.figures import ALL, build_report, case_rows, figures_for
from storage.db import Database
from storage.models import Rating, Ticket
from tests.unit.test_reports import NOV, NOW, C, S, World, at, values


async def _close(w: World, name: str, when) -> None:
    async with w.db.transaction() as s:
        t = await s.get(Ticket, w.ids[name])
        assert (await close_unreachable(s, t, actor=staff_actor(1), now=when, result="多次联系不上居民")).ok


async def unreachable_month(db: Database) -> World:
    from services.people.residents import sync_grids

    w = World(db)
    async with db.transaction() as s:
        await sync_grids(s, C)
    await w.open("A", "noise", at(2))
    await w.walk("A", (S.SIGNED, at(2, 9, 30)), (S.PENDING_INFO, at(2, 10)))
    await _close(w, "A", at(12))
    await w.open("B", "noise", at(3))
    await w.walk("B", (S.SIGNED, at(3, 9, 30)), (S.PENDING_INFO, at(11)))
    await _close(w, "B", at(20))
    await w.open("C", "noise", at(6))
    await w.walk("C", (S.SIGNED, at(6, 9, 10)), (S.IN_PROGRESS, at(6, 10)), (S.RESOLVED, at(7)))
    await w.rate("C", Rating.SATISFIED, at(7, 12))
    await w.open("D", "noise", at(16))
    await w.walk("D", (S.SIGNED, at(16, 9, 10)), (S.PENDING_INFO, at(16, 10)))
    await _close(w, "D", at(17))
    async with db.transaction() as s:
        t = await s.get(Ticket, w.ids["D"])
        assert (await followup.reopen_unreachable(s, t, actor=resident_actor(t.resident_id), now=at(17, 12),
                                                  note="前几天住院了，现在楼上还在吵")).ok
        assert t.rating is None  # being done again: no longer closed as 无法联系
    await w.walk("D", (S.SIGNED, at(17, 13)), (S.IN_PROGRESS, at(17, 14)), (S.RESOLVED, at(18)))
    await w.rate("D", Rating.SATISFIED, at(18, 12))
    return w


async def test_the_report_does_not_count_an_unreachable_close_as_resolved(any_db: Database) -> None:
    await unreachable_month(any_db)
    async with any_db.session() as s:
        figs = values((await figures_for(s, NOV, community=C, as_of=NOW))[ALL])
    assert figs["received"] == (4, None)
    assert figs["unreachable"] == (2, 4)  # A and B, counted apart
    assert figs["satisfaction_rate"] == (2, 2)  # C and D
    assert figs["resolution_rate"] == (1, 2)  # C (D was reopened) of C and D: A and B on neither side
    assert figs["on_time_rate"] == (2, 3)  # C and D on time, B a miss; A not judged
    assert figs["median_resolve_hours"][1] == 2  # the time to resolve of C and D only


async def test_rates_and_the_cases_sheet_agree(db: Database) -> None:
    w = await unreachable_month(db)
    async with db.session() as s:
        rates = await followup.rates(s, at(1), at(1, month=12), now=NOW)
        rows = {r["number"]: r for r in await case_rows(s, NOV, as_of=NOW)}
        numbers = {name: (await s.get(Ticket, i)).number for name, i in w.ids.items()}
    assert (rates.resolution.hits, rates.resolution.total) == (2, 3)  # /rates' 按时办结率
    assert rates.unreachable == 2 and (rates.satisfaction.hits, rates.satisfaction.total) == (2, 2)
    assert [rows[numbers[n]]["on_time"] for n in "ABCD"] == [None, False, True, True]


async def test_the_legend_says_how_it_is_counted(db: Database, tmp_path) -> None:
    from openpyxl import load_workbook

    await unreachable_month(db)
    async with db.session() as s:
        report = await build_report(s, NOV, community=C, now=NOW)
        cases = await export.cases_for(s, report)
    text = export.to_text(report)
    assert "无法联系办结" in text and "不计入满意率、未评价和解决率" in text
    assert "解决率 50.0%（1/2）" in text and "按时办结率 66.7%（2/3）" in text
    path = export.write_xlsx(report, cases, tmp_path / "r.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["指标", "工单", "说明"]
    assert any("无法联系办结" in (row[0].value or "") for row in book["说明"].iter_rows())
    lines = [[c.value for c in row] for row in book["指标"].iter_rows(min_row=2)]
    assert next(x for x in lines if x[0] == "all" and x[2] == "resolution_rate")[3:6] == [0.5, 1, 2]
