"""Report charts (PNG, matplotlib's Agg backend, no display): the main rates per unit beside the first-response
times, and the trend of the main rates over the last periods.

Labels are Chinese, drawn in the CJK font the install provides (found like the posters' font:
``$LINLI_CJK_FONT``, Noto CJK or WenQuanYi, fontconfig). Each chart is checked while it is drawn: a glyph the
font lacks (matplotlib's "Glyph … missing" warning) is an error, never a PNG full of boxes.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.community import posters
from services.reports.figures import BUCKETS, Figure, Report, ScopeFigures, ScopeKind
from services.reports.periods import Period, ReportError

RATES: tuple[tuple[str, str], ...] = (
    ("response_rate", "响应率"),
    ("on_time_rate", "按时办结率"),
    ("resolution_rate", "解决率"),
    ("satisfaction_rate", "满意率"),
)
BUCKET_LABELS = ("1小时内", "1–4小时", "4–8小时", "8–24小时", "24小时以上")
COLOURS = ("#b71c1c", "#ef6c00", "#2e7d32", "#1565c0")
DPI = 120


if TYPE_CHECKING:
    from matplotlib import font_manager
    from matplotlib.figure import Figure as MplFigure


@lru_cache(maxsize=1)
def _mpl() -> tuple[Any, Any]:
    """matplotlib (Agg backend) on first use: charts are drawn a few times a week, and importing it (with numpy)
    would cost the running bot some 50 MB from its start."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    return font_manager, Figure


class ChartFontMissing(ReportError):
    """No CJK font, or one lacking a glyph a chart needs; the message says which and how to fix it."""


@lru_cache(maxsize=1)
def cjk_font() -> Path:
    """The CJK font charts use (checked to draw Chinese), registered with matplotlib."""
    try:
        path = posters.find_cjk_font()
    except posters.FontNotFound as exc:
        raise ChartFontMissing(
            f"找不到中文字体，无法画报表图：请安装 {posters.INSTALL_HINT}（或 fonts-noto-cjk），"
            f"或设置 {posters.CJK_FONT_ENV}=/path/to/font.ttc（{exc}）") from None
    _mpl()[0].fontManager.addfont(str(path))
    return path


def missing_glyphs(text: str) -> str:
    """Characters of ``text`` the chart font would draw as boxes ("" when all are there)."""
    return "".join(posters.missing_glyphs(cjk_font(), text))


def _props(size: float = 10) -> font_manager.FontProperties:
    return _mpl()[0].FontProperties(fname=str(cjk_font()), size=size)


def _pct(figure: Figure | None) -> float | None:
    value = figure.value if figure is not None else None
    return None if value is None else value * 100


def _save(fig: MplFigure, path: Path) -> Path:
    """Write the PNG atomically (a temporary file renamed), so a failure leaves nothing half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".chart-", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=DPI)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _draw_checked(draw: object, path: Path) -> Path:
    """Run ``draw()`` (returns the figure) with matplotlib's missing-glyph warnings turned into errors."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = draw()  # type: ignore[operator]
        fig.canvas.draw()  # lay out every text now, so missing glyphs are reported before saving
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    if missing:
        raise ChartFontMissing(f"字体 {cjk_font().name} 缺少字形：{missing[0]}")
    return _save(fig, path)


def _rate_bars(ax: object, rows: Sequence[ScopeFigures]) -> None:
    props = _props(9)
    names = [r.name for r in rows]
    width = 0.8 / len(RATES)
    for i, (key, _) in enumerate(RATES):
        xs, heights, empties = [], [], []
        for j, row in enumerate(rows):
            value = _pct(row.figures.get(key))
            x = j + (i - (len(RATES) - 1) / 2) * width
            if value is None:
                empties.append(x)
            else:
                xs.append(x)
                heights.append(value)
        ax.bar(xs, heights, width, color=COLOURS[i])  # type: ignore[attr-defined]
        for x, h in zip(xs, heights, strict=True):  # the value on each bar: a 0 % bar is still seen as measured
            ax.text(x, h + 1, f"{h:.0f}", ha="center", va="bottom", fontproperties=_props(7))  # type: ignore[attr-defined]
        for x in empties:  # nothing measured: say so, never draw a 0 % bar
            ax.text(x, 2, "—", ha="center", va="bottom", fontproperties=props)  # type: ignore[attr-defined]
    ax.set_xticks(range(len(names)))  # type: ignore[attr-defined]
    ax.set_xticklabels(names, fontproperties=props, rotation=20 if len(names) > 1 else 0,  # type: ignore[attr-defined]
                       ha="right" if len(names) > 1 else "center")
    # every group's place, measured or not: a series with nothing measured has no bar to widen the axis, and its
    # "—" marks would fall outside it
    ax.set_xlim(-0.5, len(names) - 0.5)  # type: ignore[attr-defined]
    ax.set_ylim(0, 118)  # type: ignore[attr-defined]
    ax.set_ylabel("%（“—”：无可计算的工单）", fontproperties=props)  # type: ignore[attr-defined]
    # the legend from the colours themselves: an empty series' bars carry no colour to show
    from matplotlib.patches import Patch

    handles = [Patch(color=COLOURS[i], label=label) for i, (_, label) in enumerate(RATES)]
    ax.legend(handles=handles, prop=props, loc="upper center", ncols=len(RATES), frameon=False)  # type: ignore[attr-defined]


def chart_rows(report: Report, scope: str | None = None) -> list[ScopeFigures]:
    """The groups of a report's chart, as its text lists them: the whole (named ``scope``, the report's own name:
    a grid's report is not "the community"), then each unit, or each grid of a unit's report or of a grid worker's
    several grids; a single grid's report has only itself."""
    whole = replace(report.overall, name=scope) if scope else report.overall
    if report.filter.grid:
        return [whole]
    by_grid = bool(report.filter.unit or report.filter.grids)
    return [whole, *report.of(ScopeKind.GRID if by_grid else ScopeKind.UNIT)]


def report_chart(report: Report, path: str | Path, *, scope: str | None = None) -> Path:
    """One PNG for a report: the four rates for the whole and each unit (or grid, see :func:`chart_rows`), and the
    first-response times of the whole. ``scope``: the report's name (a unit's, a grid's), the title's and the whole's
    bar's."""
    path = Path(path)
    rows = chart_rows(report, scope)

    def draw() -> MplFigure:
        fig = _mpl()[1](figsize=(11, 5.2), layout="constrained")
        left, right = fig.subplots(1, 2, width_ratios=(2.2, 1))
        fig.suptitle(f"{rows[0].name} {report.period.title} 诉求办理情况", fontproperties=_props(14))
        _rate_bars(left, rows)
        left.set_title(f"四率（共受理 {report.overall.figures['received'].numerator} 件）", fontproperties=_props(11))
        whole = report.overall.figures
        counts = [int(whole[key].numerator or 0) for key, _, _ in BUCKETS]
        right.bar(range(len(counts)), counts, color="#546e7a")
        right.set_xticks(range(len(counts)))
        right.set_xticklabels(BUCKET_LABELS, fontproperties=_props(9), rotation=20, ha="right")
        right.set_title("首次响应用时（件）", fontproperties=_props(11))
        for x, n in enumerate(counts):
            right.text(x, n, str(n), ha="center", va="bottom", fontproperties=_props(9))
        # counts of cases: from 0, whole numbers (nothing signed yet drew an axis from -0.04 to 0.04)
        right.set_ylim(0, max(max(counts) * 1.15, 1))
        right.yaxis.get_major_locator().set_params(integer=True)
        return fig

    return _draw_checked(draw, path)


def trend_chart(points: Sequence[tuple[Period, dict[str, Figure]]], path: str | Path, *, title: str) -> Path:
    """Lines of the four rates over periods (oldest first); an empty measure leaves a gap, not a 0."""
    path = Path(path)

    def draw() -> MplFigure:
        fig = _mpl()[1](figsize=(9, 4.5), layout="constrained")
        ax = fig.subplots()
        labels = [p.label for p, _ in points]
        for i, (key, label) in enumerate(RATES):
            ys = [_pct(figs.get(key)) for _, figs in points]
            ax.plot(range(len(labels)), [float("nan") if y is None else y for y in ys], marker="o",
                    label=label, color=COLOURS[i])
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, fontproperties=_props(9))
        ax.set_ylim(0, 118)
        ax.set_ylabel("%", fontproperties=_props(9))
        ax.set_title(title, fontproperties=_props(13))
        ax.legend(prop=_props(9), loc="upper center", ncols=len(RATES), frameon=False)
        return fig

    return _draw_checked(draw, path)


__all__ = ["ChartFontMissing", "chart_rows", "cjk_font", "missing_glyphs", "report_chart", "trend_chart"]
