"""Figures people govern by, in chat: ``/report`` on demand and the 周调度/月评估/季研判 pushes.

::

    /report [week|month|quarter|lastweek|本周|上个月|季…|2026-W11|2026-03|2026Q1] [unit|grid]   (none: 本周; in a
        desk chat, or privately; a grid worker's covers the grids they serve, staff and supervisors' the whole
        community)
        ──▶ services.reports.figures.build_report ──▶ a short text + the PNG chart (+ the trend for a month or a
            quarter) ──same transaction──▶ outbox (the chart's bytes in report_charts) ──sender──▶ the chat
    tick (bot.jobs.desk_tick, every minute) ──▶ services.reports.schedule.due_reports: Monday 08:00 last week,
        the 1st last month, a quarter's first day last quarter ──▶ drawn, then claimed in the transaction that
        owes them: the whole community's to the staff chat and every escalation chat, each unit's own to its
        chat; a restart neither repeats (the claim) nor skips (due until claimed) one. A new install (no
        report of that kind ever claimed) sends its first one only if its moment is under a day old; an
        older one is claimed without sending, so nobody gets last quarter's figures the day the bot starts

Every figure shows its numerator and denominator, an empty measure "—", and the change against the period
before. Charts are drawn off the event loop (matplotlib, one at a time).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, ContextTypes

from handlers import access, cards, texts
from handlers.deps import KEY, Deps, deps
from handlers.desk import supervision
from handlers.desk.access import desk_or_private
from handlers.names import complaint_name
from handlers.order import EARLY
from services import local, outbox
from services.cases import desk as desks
from services.outbox import Priority
from services.people import audit, roles
from services.people.roles import Action, Grant
from services.reports import chart_store, charts, schedule
from services.reports.export import LABELS, show, show_change
from services.reports.figures import (
    BUCKETS,
    CATEGORY_NAMES,
    LEVELS,
    STAGES,
    Figure,
    Filter,
    Report,
    ScopeKind,
    build_report,
    trend,
)
from services.reports.periods import Period, PeriodError, PeriodKind, check_not_future, current, parse_period
from storage.models import RoleName

log = logging.getLogger(__name__)

K = PeriodKind
WORDS: dict[str, tuple[PeriodKind, int]] = {  # what /report understands: (kind, periods back)
    "week": (K.WEEK, 0), "lastweek": (K.WEEK, 1),
    "month": (K.MONTH, 0), "lastmonth": (K.MONTH, 1),
    "quarter": (K.QUARTER, 0), "lastquarter": (K.QUARTER, 1),
    # the ways people say them in Chinese: 周 / 这周 / 上周, 月 / 这个月 / 上个月, 季 / 本季度 / 上季度 …
    **dict.fromkeys(("周", "本周", "这周", "这一周", "本星期", "这星期", "这个星期", "星期", "礼拜", "这礼拜",
                     "这个礼拜"), (K.WEEK, 0)),
    **dict.fromkeys(("上周", "上一周", "上星期", "上个星期", "上礼拜", "上个礼拜"), (K.WEEK, 1)),
    **dict.fromkeys(("月", "本月", "这月", "这个月", "当月"), (K.MONTH, 0)),
    **dict.fromkeys(("上月", "上个月", "上一个月"), (K.MONTH, 1)),
    **dict.fromkeys(("季", "季度", "本季", "本季度", "这季", "这季度", "这个季度"), (K.QUARTER, 0)),
    **dict.fromkeys(("上季", "上季度", "上个季度", "上一季度", "上一个季度"), (K.QUARTER, 1)),
}
DEFAULT_PERIOD = "本周"  # a bare /report
TREND = {K.WEEK: 0, K.MONTH: 6, K.QUARTER: 4}  # periods in the trend (chart and lines)
TOP = {K.WEEK: 3, K.MONTH: 5, K.QUARTER: 5, K.RANGE: 5}  # repeated problems listed
SCOPE_LINES = 10  # units or grids listed: the text stays one readable message
TEXT_LIMIT = 4000  # Telegram's 4,096 with room to spare
KEEP_CHARTS = timedelta(days=7)  # a sent chart's bytes are dropped after this
FIRST_RUN_WITHIN = timedelta(days=1)  # a kind's very first report goes only if its moment is this recent
MAIN = ("received", "response_rate", "on_time_rate", "resolution_rate", "satisfaction_rate", "unrated")
BRIEF = ("response_rate", "on_time_rate", "satisfaction_rate")
_drawing = threading.Lock()  # matplotlib draws one chart at a time


# --- reading /report --------------------------------------------------------------------------------------


class Refusal(Exception):
    """What to answer instead of a report."""


def read_period(word: str, now: datetime) -> tuple[Period, bool]:
    """A word (week, 上月…) or a label (2026-W11, 2026-03, 2026Q1) → (period, still running); PeriodError when it
    names none or one that has not begun."""
    today = local(now).date()
    found = WORDS.get(word.strip().lower().removesuffix("报表"))  # 月报表, 周报表 are the same ask
    if found is not None:
        kind, back = found
        period = current(kind, now)
        for _ in range(back):
            period = period.previous()
    else:
        period = check_not_future(parse_period(word), now)
    return period, period.first <= today <= period.last


def read_scope(word: str, d: Deps) -> Filter | None:
    """A unit (code or name) or a grid (code or name); None when it is neither."""
    c = d.community
    unit = c.unit(word.strip().lower()) or next((u for u in c.units if u.name == word.strip()), None)
    if unit is not None:
        return Filter(unit=unit.code)
    grid = c.grid(word.strip().upper()) or next((g for g in c.grids if g.name == word.strip()), None)
    return Filter(grid=grid.code) if grid is not None else None


def read(words: list[str], d: Deps, now: datetime) -> tuple[Period, bool, Filter | None]:
    """Staff type a bare ``/report`` (or ``/report A03``) for this week's figures: no period means 本周; the usage
    answers only a period it cannot read or too many words."""
    if len(words) > 2:
        raise Refusal(texts.REPORT_USAGE)
    if not words:
        words = [DEFAULT_PERIOD]
    elif len(words) == 1 and words[0].strip().lower().removesuffix("报表") not in WORDS:
        alone = read_scope(words[0], d)  # a scope alone: this week's figures for it
        if alone is not None:
            period, so_far = read_period(DEFAULT_PERIOD, now)
            return period, so_far, alone
    try:
        period, so_far = read_period(words[0], now)
    except PeriodError as exc:
        raise Refusal(texts.report_bad_period(str(exc))) from None
    filt = None
    if len(words) == 2:
        filt = read_scope(words[1], d)
        if filt is None:
            raise Refusal(texts.report_unknown_scope(words[1], [u.code for u in d.community.units],
                                                     [g.code for g in d.community.grids]))
    return period, so_far, filt


def _supervised_units(d: Deps, grants: frozenset[Grant]) -> set[str] | None:
    """The units a viewer who is only a scoped supervisor may see; None when nothing limits them (staff, grid
    workers, admins and the street's supervisors see every report)."""
    if any(g.role is not RoleName.SUPERVISOR or not g.scope for g in grants):
        return None
    units: set[str] = set()
    for g in grants:
        if d.community.escalation_level(g.scope) is not None:
            return None
        units.add(g.scope)
    return units


def served_grids(grants: frozenset[Grant]) -> list[str] | None:
    """The grids a viewer who is only a grid worker serves (the community file's ``worker_tg_id`` and ``/grant``
    gridworker, both in ``grants``): their reports cover those; None when any other role lets them see the whole
    community (staff, supervisors, admins)."""
    roles_held = [g for g in grants if g.role is not RoleName.RESIDENT]
    if not roles_held or any(g.role is not RoleName.GRIDWORKER for g in roles_held):
        return None
    return roles.grids_of(roles_held) or None


def grids_filter(grids: list[str]) -> Filter:
    return Filter(grid=grids[0]) if len(grids) == 1 else Filter(grids=tuple(grids))


def default_filter(d: Deps, chat_id: int, private: bool, limited: set[str] | None) -> Filter:
    """No scope asked: a unit's chat gets its unit, a supervisor of one unit that unit, the others everything."""
    if private:
        return Filter(unit=next(iter(limited))) if limited and len(limited) == 1 else Filter()
    units = desks.desk_units(d.community, chat_id, d.staff_chat_id)
    return Filter(unit=next(iter(units))) if isinstance(units, set) and len(units) == 1 else Filter()


def scope_name(d: Deps, filt: Filter) -> str:
    if filt.unit:
        unit = d.community.unit(filt.unit)
        return unit.name if unit else filt.unit
    if filt.grid:
        grid = d.community.grid(filt.grid)
        return f"{grid.name}（{grid.code}）" if grid else filt.grid
    if filt.grids:
        return "、".join(g.name if (g := d.community.grid(code)) else code for code in filt.grids)
    return d.community.name


# --- drawing a report -------------------------------------------------------------------------------------


@dataclass
class Rendered:
    text: str
    charts: list[tuple[bytes, str]] = field(default_factory=list)  # PNG, caption


def _figure_lines(report: Report, overdue: int) -> list[str]:
    whole = report.overall
    f = whole.figures
    lines = [texts.report_figure(LABELS[k], show(f[k]), show_change(whole, k)) for k in MAIN]
    lines.append(texts.report_pairs([(LABELS[k][2:], show(f[k])) for k, _, _ in BUCKETS],
                                    texts.REPORT_FIRST_RESPONSE))
    lines.append(texts.report_pairs([(LABELS[k], show(f[k])) for k in ("median_resolve_hours", "reopened",
                                                                       "withdrawn", "unreachable")]))
    lines.append(texts.report_pairs([(LABELS[f"escalations_{lv}"], show(f[f"escalations_{lv}"])) for lv in LEVELS]
                                    + [(LABELS["warnings"], show(f["warnings"]))]))
    lines.append(texts.report_pairs([(LABELS[f"mediation_{s.value}"][3:], show(f[f"mediation_{s.value}"]))
                                     for s in STAGES] + [(LABELS["mediation_success_rate"],
                                                          show(f["mediation_success_rate"]))],
                                    texts.REPORT_MEDIATION))
    lines.append(texts.report_pairs([(LABELS[k], show(f[k])) for k in ("supervised", "supervision_on_time")]))
    lines.append(texts.report_overdue_supervisions(overdue))
    if "open_red" in f:
        lines.append(texts.report_open(show(f["open_red"]), show(f["open_yellow"]), show(f["open_green"])))
    return lines


def _brief(f: Mapping[str, Figure]) -> list[tuple[str, str]]:
    return [(LABELS["received"], show(f["received"])), *((LABELS[k], show(f[k])) for k in BRIEF)]


def compose(report: Report, kind: PeriodKind, name: str, so_far: bool, overdue: int,
            points: list[tuple[Period, dict[str, Figure]]],
            category_name: Callable[[str], str] | None = None) -> str:
    """The report as one chat message: the whole with every figure, then units (or grids), problems, trend.
    ``category_name``: a category as the cards and /queue name it (the report said 维修 where they say 设施报修)."""
    lines = [texts.report_header(texts.REPORT_KIND[kind.value], name, report.period.title, report.as_of, so_far,
                                 report.previous_period.title)]
    lines += _figure_lines(report, overdue)
    by_grid = bool(report.filter.unit or report.filter.grids)  # a unit's, or a grid worker's several grids
    rows = report.of(ScopeKind.GRID if by_grid else ScopeKind.UNIT)
    if report.filter.grid:
        rows = []
    if rows:
        lines.append(texts.REPORT_SECTION["grid" if by_grid else "unit"])
        lines += [texts.report_scope_line(r.name, _brief(r.figures)) for r in rows[:SCOPE_LINES]]
        if len(rows) > SCOPE_LINES:
            lines.append(texts.report_more(len(rows) - SCOPE_LINES))
    if report.top_problems:
        lines.append(texts.REPORT_SECTION["problems"])
        lines += [texts.report_problem_line(category_name(p.category) if category_name
                                            else CATEGORY_NAMES.get(p.category, p.category), p.place, p.complaints,
                                            p.cases) for p in report.top_problems]
    if points:
        lines.append(texts.report_trend_title(len(points)))
        # the periods before the first case (a new install): one line, not a line of zeros and dashes each
        empty = next((i for i, (_, figs) in enumerate(points) if figs["received"].numerator), len(points))
        if empty > 1:
            lines.append(texts.report_trend_nothing(points[0][0].label, points[empty - 1][0].label))
            points = points[empty:]
        lines += [texts.report_scope_line(p.label, _brief(figs)) for p, figs in points]
    return texts.preview_lines("\n".join(lines), TEXT_LIMIT)


def _draw(report: Report, points: list[tuple[Period, dict[str, Figure]]], trend_title: str,
          name: str) -> list[bytes]:
    """The report's PNG (and the trend's): in a worker thread, one drawing at a time."""
    with _drawing:
        found = [chart_store.png_of(lambda path: charts.report_chart(report, path, scope=name))]
        if points:
            found.append(chart_store.png_of(lambda path: charts.trend_chart(points, path, title=trend_title)))
    return found


async def render(d: Deps, period: Period, filt: Filter, *, kind: PeriodKind, now: datetime,
                 so_far: bool) -> Rendered:
    """Figures, words and charts of one report (read only: nothing is owed yet)."""
    name = scope_name(d, filt)
    periods = TREND.get(kind, 0)
    async with d.db.session() as s:
        report = await build_report(s, period, community=d.community, now=now, filt=filt, top=TOP[kind])
        points = (await trend(s, period, community=d.community, now=now, periods=periods, filt=filt, known=report)
                  if periods else [])
    overdue = await supervision.overdue_count(d, now, filt.unit, filt.grid, filt.grids)
    text = compose(report, kind, name, so_far, overdue, points, lambda code: complaint_name(d, code))
    label = texts.REPORT_KIND[kind.value]
    try:
        pngs = await asyncio.to_thread(_draw, report, points, texts.report_trend_chart_title(name, len(points)), name)
    except charts.ChartFontMissing as exc:  # the words still go; the admin sees why in the log
        log.error("report chart not drawn: %s", exc)
        return Rendered(texts.preview_lines(f"{text}\n{texts.REPORT_CHART_MISSING}", TEXT_LIMIT))
    captions = [texts.report_chart_caption(label, name, period.title),
                texts.report_trend_caption(label, name, len(points))]
    return Rendered(text, list(zip(pngs, captions, strict=False)))


async def owe(s: AsyncSession, d: Deps, chats: list[int], rendered: Rendered, *, priority: int) -> None:
    """The words, then each chart, to every chat (in the caller's transaction); one stored PNG serves all."""
    for chat in chats:
        await cards.owe_message(s, d, chat, rendered.text, priority=priority)
    stored = [(await chart_store.save(s, png, title=caption, now=d.now()), caption)
              for png, caption in rendered.charts]
    for chat in chats:
        for chart_id, caption in stored:
            await outbox.owe(s, chat_id=chat, now=d.now(), text=caption, priority=priority,
                             payload={chart_store.PAYLOAD_KEY: chart_id})


# --- /report ------------------------------------------------------------------------------------------------


async def on_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/report 时间段 [单位|网格]`` in a desk chat, or privately (a supervisor has no desk)."""
    await _report(update, deps(context), list(context.args or []))
    raise ApplicationHandlerStop


async def _report(update: Update, d: Deps, words: list[str]) -> None:
    msg, user = update.effective_message, update.effective_user
    if not await desk_or_private(d, update, Action.DESK_VIEW, "/report"):
        return
    if not await access.check(d, user.id, Action.DESK_VIEW, via="/report"):
        await msg.reply_text(texts.REPORT_NO_ROLE)
        return
    now = d.now()
    private = update.effective_chat.type == "private"
    grants = await access.grants_of(d, user.id)
    limited = _supervised_units(d, grants)
    served = served_grids(grants)
    try:
        period, so_far, asked = read(words, d, now)
    except Refusal as refusal:
        await msg.reply_text(str(refusal))
        return
    if served is not None:  # a grid worker: the grids they serve, wherever they ask
        if asked is not None and (asked.unit or asked.grid not in served):
            roles.refused(user.id, Action.DESK_VIEW, f"grid:{asked.grid or asked.unit}", "/report", now=now,
                          chat_id=msg.chat_id)
            async with d.db.transaction() as s:
                await audit.flush_refusals(s)
            await msg.reply_text(texts.report_out_of_grids(served))
            return
        asked = asked or grids_filter(served)
    filt = asked or default_filter(d, msg.chat_id, private, limited)
    if limited is not None and filt.unit not in limited:  # a unit's supervisor: that unit's reports only
        roles.refused(user.id, Action.DESK_VIEW, f"unit:{filt.unit or '*'}", "/report", now=now, chat_id=msg.chat_id)
        async with d.db.transaction() as s:
            await audit.flush_refusals(s)
        await msg.reply_text(texts.REPORT_OUT_OF_SCOPE)
        return
    rendered = await render(d, period, filt, kind=period.kind, now=now, so_far=so_far)
    async with d.db.transaction() as s:
        await owe(s, d, [msg.chat_id], rendered, priority=Priority.REPLY)
    d.wake_sender()


# --- the scheduled pushes -------------------------------------------------------------------------------------


def audiences(d: Deps) -> list[tuple[Filter, list[int]]]:
    """Who gets a scheduled report: the whole community's to the staff chat and every escalation chat, each unit's
    own to its chat (a unit without a chat of its own is in the whole)."""
    whole = list(dict.fromkeys(c for c in (d.staff_chat_id, *(e.chat_id for e in d.community.escalation))
                               if c is not None))
    found = [(Filter(), whole)] if whole else []
    found += [(Filter(unit=u.code), [u.chat_id]) for u in d.community.units
              if u.chat_id is not None and u.chat_id not in whole]
    return found


async def with_supervisors(d: Deps, found: list[tuple[Filter, list[int]]]) -> list[tuple[Filter, list[int]]]:
    """``audiences`` plus each supervisor (督办, e.g. the street's 纪工委) in a private chat: the whole report for one
    of every case or of an escalation level, their unit's for one of a unit. A supervisor is seldom in the
    desk's group, and the figures are what they supervise by."""
    async with d.db.session() as s:
        grants = [r for r in await roles.all_roles(s) if r.role == RoleName.SUPERVISOR]
    merged = {f: list(chats) for f, chats in found}
    for g in grants:
        key = Filter(unit=g.scope) if g.scope and d.community.unit(g.scope) is not None else Filter()
        chats = merged.setdefault(key, [])
        if g.tg_user_id not in chats:
            chats.append(g.tg_user_id)
    return [(f, chats) for f, chats in merged.items() if chats]


async def tick(app: Application) -> int:
    """Send the 周调度/月评估/季研判 that are due, each once; returns how many. Wired into ``bot.jobs.desk_tick``."""
    d: Deps = app.bot_data[KEY]
    now = d.now()
    async with d.db.session() as s:
        due = await schedule.due_reports(s, now)
        new = await schedule.never_claimed(s) if due else set()
    sent = 0
    for item in due:
        stale = item.kind in new and now - item.due_at > FIRST_RUN_WITHIN  # a new install: no old news
        made = [] if stale else [(await render(d, item.period, filt, kind=item.kind, now=now, so_far=False), chats)
                                 for filt, chats in await with_supervisors(d, audiences(d))]
        async with d.db.transaction() as s:
            if not await schedule.claim(s, item, now):  # another run sent it meanwhile
                continue
            for rendered, chats in made:
                await owe(s, d, chats, rendered, priority=Priority.BACKGROUND)
        if stale:
            log.info("scheduled report %s %s: first run, long past, not sent", item.kind.value, item.period.label)
            continue
        log.info("scheduled report %s %s owed to %d chats", item.kind.value, item.period.label,
                 sum(len(c) for _, c in made))
        sent += 1
    if due:
        async with d.db.transaction() as s:
            await chart_store.purge(s, now - KEEP_CHARTS)
    if sent:
        d.wake_sender()
    return sent


def register(app: Application) -> None:
    """Ahead of the router's catch-alls, which would answer a command in a private chat or a group."""
    app.add_handler(CommandHandler("report", on_report), group=EARLY)


__all__ = [
    "Rendered",
    "audiences",
    "compose",
    "on_report",
    "read",
    "read_period",
    "read_scope",
    "register",
    "render",
    "served_grids",
    "tick",
    "with_supervisors",
]
