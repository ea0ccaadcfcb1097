"""A report as JSON (one object per scope, figures under stable English keys), CSV (one row per case), XLSX (a
sheet of figures, a sheet of cases; openpyxl) and Chinese text for the command line.

Files are written atomically (a temporary file beside the target, then renamed), so a failure leaves nothing
half-written. The text here is the command line's; what the bot says in a chat belongs to the handlers' catalogue.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services import local
from services.reports.figures import (
    BUCKETS,
    CASE_COLUMNS,
    CATEGORY_NAMES,
    FIGURE_KEYS,
    LEVELS,
    STAGES,
    Figure,
    FigureKind,
    Report,
    ScopeFigures,
    ScopeKind,
    case_rows,
)

EMPTY = "—"
LABELS: Mapping[str, str] = {
    "received": "受理",
    "response_rate": "响应率",
    "on_time_rate": "按时办结率",
    "resolution_rate": "解决率",
    "satisfaction_rate": "满意率",
    "unrated": "未评价",
    "unreachable": "无法联系办结",
    **dict(zip((k for k, _, _ in BUCKETS), ("首响1小时内", "首响1–4小时", "首响4–8小时", "首响8–24小时",
                                             "首响24小时以上"), strict=True)),
    "median_resolve_hours": "办结用时中位数",
    "reopened": "重新办理",
    **dict(zip((f"escalations_{lv}" for lv in LEVELS), ("上报网格", "上报社区", "上报街道"), strict=True)),
    "withdrawn": "撤回",
    "warnings": "集中反映预警",  # hotspot warnings raised, not the cases' red/yellow lights
    **dict(zip((f"mediation_{s.value}" for s in STAGES), ("调解·申请", "调解·登记", "调解·会议", "调解·协商",
                                                           "调解·协议", "调解·回访"), strict=True)),
    "mediation_success_rate": "调解成功率",
    "supervised": "督办",
    "supervision_on_time": "督办按时答复率",
    "open_red": "在办·红灯",
    "open_yellow": "在办·黄灯",
    "open_green": "在办·绿灯",
}
CASE_HEADERS: Mapping[str, str] = {
    "number": "工单号", "created_at": "受理时间", "channel": "渠道", "category": "类别", "unit": "承办单位",
    "grid": "网格", "status": "状态", "emergency": "紧急", "sign_due_at": "签收时限", "signed_at": "签收时间",
    "due_at": "办结时限", "resolved_at": "办结时间", "closed_at": "关闭时间", "paused_seconds": "暂停秒数",
    "on_time": "按时办结", "rating": "评价", "escalation_level": "上报层级", "reopened": "重新办理",
    "merged_into": "合并到",
}
UNREACHABLE_LEGEND = ("无法联系办结（居民一直联系不上而办结，未回访）不算解决，单独计数："
                      "不计入满意率、未评价和解决率（分子分母都不计）；按时办结率中，办结前已超过办理时限的计为未按时办结，未超时的不计入。")
LEGEND: tuple[str, ...] = ("括号内为分子/分母，“—”表示没有可计算的工单。", UNREACHABLE_LEGEND)
"""How the figures are counted, beside every report (text, XLSX, the board's figures page)."""
SCOPE_TITLES: Mapping[ScopeKind, str] = {
    ScopeKind.UNIT: "按承办单位", ScopeKind.GRID: "按网格", ScopeKind.CATEGORY: "按类别", ScopeKind.CHANNEL: "按渠道",
}


# --- formatting ---------------------------------------------------------------------------------------------


def show(figure: Figure | None) -> str:
    """A figure as people read it: ``62.5%（5/8）``, ``3``, ``27.0小时（4件）``, or ``—`` when empty."""
    if figure is None:
        return EMPTY
    if figure.kind is FigureKind.RATE:
        value = figure.value
        shown = EMPTY if value is None else f"{value * 100:.1f}%"
        return f"{shown}（{figure.numerator}/{figure.denominator}）"
    if figure.kind is FigureKind.MEDIAN:
        return EMPTY if figure.value is None else f"{figure.value:.1f}小时（{figure.denominator}件）"
    return str(figure.numerator)


def show_change(scope: ScopeFigures, key: str) -> str:
    delta = scope.change(key)
    if delta is None:
        return ""
    figure = scope.figures[key]
    if figure.kind is FigureKind.RATE:
        return f"{delta * 100:+.1f}个百分点"
    if figure.kind is FigureKind.MEDIAN:
        return f"{delta:+.1f}小时"
    return f"{delta:+.0f}"


def _when(value: Any) -> Any:
    return local(value).strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else value


# --- JSON ----------------------------------------------------------------------------------------------------


def scope_dict(scope: ScopeFigures) -> dict[str, Any]:
    return {
        "scope": scope.scope.key,
        "kind": scope.scope.kind.value,
        "code": scope.scope.code,
        "name": scope.name,
        "figures": {k: scope.figures[k].as_dict() for k in FIGURE_KEYS if k in scope.figures},
        "previous": {k: scope.previous[k].as_dict() for k in FIGURE_KEYS if k in scope.previous},
        "change": {k: scope.change(k) for k in FIGURE_KEYS if k in scope.figures},
    }


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "period": report.period.label,
        "from": report.period.first.isoformat(),
        "to": report.period.last.isoformat(),
        "previous_period": report.previous_period.label,
        "as_of": local(report.as_of).isoformat(),
        "filter": {"unit": report.filter.unit, "grid": report.filter.grid},
        "scopes": [scope_dict(s) for s in report.scopes],
        "top_problems": [{"category": p.category, "place": p.place, "complaints": p.complaints, "cases": p.cases}
                         for p in report.top_problems],
    }


def to_json(report: Report) -> str:
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2)


# --- CSV and XLSX --------------------------------------------------------------------------------------------


async def cases_for(session: AsyncSession, report: Report) -> list[dict[str, Any]]:
    return await case_rows(session, report.period, filt=report.filter, as_of=report.as_of)


def to_csv(cases: Iterable[Mapping[str, Any]]) -> str:
    """One row per case, times local (Asia/Shanghai), booleans as 1/0, empty as ''."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CASE_COLUMNS)
    for row in cases:
        writer.writerow([_csv_value(_when(row[c])) for c in CASE_COLUMNS])
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    return value


def xlsx_bytes(report: Report, cases: Sequence[Mapping[str, Any]]) -> bytes:
    from openpyxl import Workbook  # only the xlsx export needs it

    book = Workbook()
    sheet = book.active
    sheet.title = "指标"
    sheet.append(["范围", "名称", "指标", "数值", "分子", "分母", "上期数值", "变化", "指标名称", "时间段"])
    for scope in report.scopes:
        for key in FIGURE_KEYS:
            figure = scope.figures.get(key)
            if figure is None:
                continue
            before = scope.previous.get(key)
            value, change = figure.value, scope.change(key)
            sheet.append([
                scope.scope.key, scope.name, key,
                EMPTY if value is None else round(value, 4) if isinstance(value, float) else value,
                figure.numerator, figure.denominator,
                None if before is None or before.value is None else round(before.value, 4),
                None if change is None else round(change, 4),
                LABELS.get(key, key), report.period.label,
            ])
    sheet.freeze_panes = "A2"
    cases_sheet = book.create_sheet("工单")
    cases_sheet.append([CASE_HEADERS[c] for c in CASE_COLUMNS])
    for row in cases:
        cases_sheet.append([_when(row[c]) for c in CASE_COLUMNS])
    cases_sheet.freeze_panes = "A2"
    legend = book.create_sheet("说明")
    for line in LEGEND:
        legend.append([line])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder: all or nothing."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_xlsx(report: Report, cases: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    return write_atomic(path, xlsx_bytes(report, cases))


# --- text (command line) -------------------------------------------------------------------------------------

MAIN_KEYS = ("response_rate", "on_time_rate", "resolution_rate", "satisfaction_rate", "unrated")


def _line(scope: ScopeFigures) -> str:
    f = scope.figures
    parts = [f"受理 {show(f['received'])}"] + [f"{LABELS[k]} {show(f[k])}" for k in MAIN_KEYS]
    return "，".join(parts)


def to_text(report: Report) -> str:
    """The report in Chinese for a terminal: the whole in full, then one line per unit, grid, category, channel."""
    whole = report.overall
    f = whole.figures
    lines = [f"{whole.name} {report.period.title} 诉求办理报表（截至 {local(report.as_of):%Y-%m-%d %H:%M}）"]
    if report.filter.unit or report.filter.grid:
        lines.append("范围：" + "，".join(x for x in (
            f"承办单位 {report.filter.unit}" if report.filter.unit else "",
            f"网格 {report.filter.grid}" if report.filter.grid else "") if x))
    lines += ["说明：" + line for line in LEGEND]
    lines.append(_line(whole))
    lines.append("首次响应：" + "，".join(f"{LABELS[k][2:]} {show(f[k])}" for k, _, _ in BUCKETS))
    lines.append(f"办结用时中位数 {show(f['median_resolve_hours'])}；重新办理 {show(f['reopened'])}；"
                 f"撤回 {show(f['withdrawn'])}；无法联系办结（未回访） {show(f['unreachable'])}")
    lines.append("上报：" + "，".join(f"{LABELS[f'escalations_{lv}'][2:]} {show(f[f'escalations_{lv}'])}"
                                      for lv in LEVELS) + f"；预警 {show(f['warnings'])}")
    lines.append("调解：" + "，".join(f"{LABELS[f'mediation_{s.value}'][3:]} {show(f[f'mediation_{s.value}'])}"
                                      for s in STAGES) + f"；调解成功率 {show(f['mediation_success_rate'])}")
    lines.append(f"督办 {show(f['supervised'])}，按时答复率 {show(f['supervision_on_time'])}")
    if "open_red" in f:
        lines.append(f"当前在办：红灯 {show(f['open_red'])}，黄灯 {show(f['open_yellow'])}，"
                     f"绿灯 {show(f['open_green'])}")
    changes = [f"{LABELS[k]} {c}" for k in ("received", *MAIN_KEYS) if (c := show_change(whole, k))]
    lines.append(f"与上期（{report.previous_period.title}）相比：" + ("，".join(changes) if changes else EMPTY))
    for kind, title in SCOPE_TITLES.items():
        rows = report.of(kind)
        if rows:
            lines.append(f"【{title}】")
            lines += [f"  {r.name}：{_line(r)}" for r in rows]
    if report.top_problems:
        lines.append("【反复出现的问题】")
        lines += [f"  {CATEGORY_NAMES.get(p.category, p.category)} · {p.place}：{p.complaints} 次反映"
                  f"（{p.cases} 件工单）" for p in report.top_problems]
    return "\n".join(lines) + "\n"


__all__ = [
    "CASE_HEADERS",
    "EMPTY",
    "LABELS",
    "LEGEND",
    "UNREACHABLE_LEGEND",
    "cases_for",
    "report_dict",
    "scope_dict",
    "show",
    "show_change",
    "to_csv",
    "to_json",
    "to_text",
    "write_atomic",
    "write_xlsx",
    "xlsx_bytes",
]
