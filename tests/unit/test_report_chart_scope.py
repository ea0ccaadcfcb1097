"""The report chart shows the report it comes with: a grid's report is titled and barred as that grid (it was drawn
as "金桂社区" beside the grid's unit), every rate keeps its colour in the legend even when nothing was measured, the
"—" of an empty rate sits inside the axes, and the first-response counts start at 0 (an axis from -0.04 to 0.04
when nothing was signed yet)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from matplotlib.colors import to_hex

from services.reports import charts
from services.reports.figures import ALL, BUCKETS, Filter, Report, Scope, ScopeFigures, ScopeKind, count, rate
from services.reports.periods import parse_period

WEEK = parse_period("2026-W14")


def _figures(received: int, signed: int) -> dict:
    figs = {"received": count(received), "response_rate": rate(signed, received), "on_time_rate": rate(0, 0),
            "resolution_rate": rate(0, 0), "satisfaction_rate": rate(0, 0)}
    figs.update({key: rate(0, signed) for key, _, _ in BUCKETS})
    return figs


def _report(filt: Filter) -> Report:
    whole = ScopeFigures(ALL, "金桂社区", _figures(1, 0))
    unit = ScopeFigures(Scope(ScopeKind.UNIT, "juweihui"), "金桂社区居民委员会", _figures(1, 0))
    grid = ScopeFigures(Scope(ScopeKind.GRID, "A03"), "第三网格", _figures(1, 0))
    return Report(WEEK, WEEK.previous(), datetime(2026, 3, 31, 10, tzinfo=UTC), filt, [whole, unit, grid])


def test_rows_follow_the_report_scope() -> None:
    assert [r.name for r in charts.chart_rows(_report(Filter(grid="A03")), "第三网格（A03）")] == ["第三网格（A03）"]
    assert [r.name for r in charts.chart_rows(_report(Filter(unit="juweihui")), "居委会")] == ["居委会", "第三网格"]
    assert [r.name for r in charts.chart_rows(_report(Filter(grids=("A03",))))] == ["金桂社区", "第三网格"]
    assert [r.name for r in charts.chart_rows(_report(Filter()))] == ["金桂社区", "金桂社区居民委员会"]


def test_a_grid_chart_with_nothing_measured_reads_right(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    charts.cjk_font()
    drawn = []
    real_save = charts._save
    monkeypatch.setattr(charts, "_save", lambda fig, path: (drawn.append(fig), real_save(fig, path))[1])
    path = charts.report_chart(_report(Filter(grid="A03")), tmp_path / "c.png", scope="第三网格（A03）")
    assert path.read_bytes().startswith(b"\x89PNG")
    [fig] = drawn
    assert fig._suptitle.get_text().startswith("第三网格（A03） 2026年第14周")
    left, right = fig.axes
    assert [t.get_text() for t in left.get_xticklabels()] == ["第三网格（A03）"]
    legend = left.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [label for _, label in charts.RATES]
    assert [to_hex(h.get_facecolor()) for h in legend.legend_handles] == list(charts.COLOURS)
    lo, hi = left.get_xlim()
    dashes = [t.get_position()[0] for t in left.texts if t.get_text() == "—"]
    assert len(dashes) == 3 and all(lo <= x <= hi for x in dashes)  # 按时办结率, 解决率, 满意率: nothing measured
    assert right.get_ylim()[0] == 0 and right.get_ylim()[1] >= 1
