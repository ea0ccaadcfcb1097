"""The board for desk staff and supervisors: red/yellow/green per unit and grid, the case list with filters, a
case's page with its whole history and photos and the desk's moves, the figures of a period with their chart,
and the Monday report (周调度).

Every request is checked on the server: a session, a staff role (``desk.view``) for any page, ``ticket.view`` for
a case, ``ticket.act`` for a move and to see the resident's name and phone. Moves go through the same services as
the card's buttons (``services.web.desk``) and owe the chat what the buttons owe (the card redrawn, the resident
told), so the chat card shows what was done here.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date
from pathlib import Path

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.cases import clocks
from services.cases.events import staff_actor
from services.cases.lifecycle import Outcome, TransitionResult
from services.people.roles import Action, ticket_scope
from services.reports import charts, export, figures, periods, schedule
from services.web import board as queries
from services.web import desk
from storage.models import KnownUser, Ticket
from web import texts
from web.core import Staff, check, message, render, see_other, staff_of, web_of
from web.resident import photo_response


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def home(request: Request) -> Response:
    staff = await staff_of(request, via="web:board")
    if not isinstance(staff, Staff):
        return staff
    w = web_of(request)
    scope = queries.visible(staff.grants, w.community)
    async with w.db.session() as s:
        found = await queries.board(s, scope=scope, now=w.now())
    units = [(u.code, u.name, found.units[u.code]) for u in w.community.units if u.code in found.units]
    grids = [(g.code, f"{g.code} {g.name}", found.grids[g.code]) for g in w.community.grids if g.code in found.grids]
    if "" in found.grids:
        grids.append(("", "未分网格", found.grids[""]))
    return render(request, "board.html", staff=staff, board=found, units=units, grids=grids)


async def cases(request: Request) -> Response:
    staff = await staff_of(request, via="web:cases")
    if not isinstance(staff, Staff):
        return staff
    w = web_of(request)
    q = request.query_params
    filt = queries.CaseFilter(status=q.get("status", ""), colour=q.get("colour", ""), category=q.get("category", ""),
                              unit=q.get("unit", ""), grid=q.get("grid", ""), channel=q.get("channel", ""),
                              since=_day(q.get("since")), until=_day(q.get("until")))
    before = int(q["before"]) if q.get("before", "").isdigit() else None
    async with w.db.session() as s:
        page = await queries.case_page(s, scope=queries.visible(staff.grants, w.community), filt=filt, now=w.now(),
                                       before=before)
    keep = {k: v for k, v in q.items() if k != "before" and v}
    return render(request, "cases.html", staff=staff, page=page, filt=filt, keep=keep,
                  categories=[(c, w.category_name(c)) for c in figures.CATEGORY_NAMES])


async def _case(request: Request, staff: Staff, via: str) -> tuple[queries.CaseView | None, Response | None]:
    w = web_of(request)
    async with w.db.session() as s:
        view = await queries.case_view(s, request.path_params["number"].upper())
    if view is None:
        return None, message(request, texts.NOT_FOUND, 404)
    t = view.ticket
    if not await check(w, staff.tg_user_id, Action.CASE_VIEW, grants=staff.grants, via=via,
                       scope=ticket_scope(t, w.community), ticket_id=t.id):
        return None, message(request, texts.NO_CASE_ROLE, 403, title="没有权限")
    return view, None


async def case_page(request: Request) -> Response:
    staff = await staff_of(request, via="web:case")
    if not isinstance(staff, Staff):
        return staff
    view, refusal = await _case(request, staff, "web:case")
    if view is None:
        return refusal  # type: ignore[return-value]
    w = web_of(request)
    t = view.ticket
    error = request.query_params.get("error")
    status = texts.STATUS.get(request.query_params.get("status", ""), texts.STATUS[t.status.value])
    error_text = (texts.ACT_CONFLICT.format(status=status) if error == "conflict" else texts.EMPTY_REPLY
                  if error == "empty" else texts.ACT_REFUSED.get(error or "", texts.ACT_REFUSED["not_allowed"])
                  .format(status=status)) if error else None
    return render(request, "case.html", staff=staff, view=view, c=t, csrf=staff.csrf(w.config.secret),
                  desk=queries.may_act(staff.grants, t, w.community), colour=clocks.colour(t, w.now()),
                  due=clocks.effective_due(t, w.now()), unsigned=t.status in clocks.UNSIGNED,
                  working=t.status in desk.WORKING, done=request.query_params.get("done"), error=error,
                  error_text=error_text)


async def act(request: Request) -> Response:
    """签收 · 答复 · 办结 from the case page, checked and applied as the card's buttons are."""
    what = request.path_params["action"]
    if what not in ("sign", "reply", "resolve"):
        return message(request, texts.NOT_FOUND, 404)
    staff = await staff_of(request, via=f"web:{what}")
    if not isinstance(staff, Staff):
        return staff
    w = web_of(request)
    form = await request.form()
    if str(form.get("csrf") or "") != staff.csrf(w.config.secret):
        return message(request, texts.CSRF, 403)
    view, refusal = await _case(request, staff, f"web:{what}")
    if view is None:
        return refusal  # type: ignore[return-value]
    t = view.ticket
    back = f"/board/cases/{t.number}"
    if not await check(w, staff.tg_user_id, Action.TICKET_ACT, grants=staff.grants, via=f"web:{what}",
                       scope=ticket_scope(t, w.community), ticket_id=t.id):
        return message(request, texts.NO_ACT_ROLE, 403, title="没有权限", back=back)
    words = " ".join(str(form.get("text") or "").split()) if what != "resolve" else str(form.get("text") or "").strip()
    if what in ("reply", "resolve") and not words:
        return see_other(f"{back}?error=" + ("empty" if what == "reply" else "result_required"))
    actor, now = staff_actor(staff.tg_user_id), w.now()
    told = 0
    async with w.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        assert row is not None
        if what == "sign":
            version = str(form.get("version") or "")
            result = await desk.sign(s, row, version=int(version) if version.isdigit() else -1, actor=actor,
                                     now=now)
            if result.ok:
                await w.hooks.signed(s, row, await _name(s, staff.tg_user_id))
        elif what == "resolve":
            result = await desk.resolve(s, row, result=words, actor=actor, now=now)
            if result.ok:
                await w.hooks.resolved(s, row, words)
        else:
            await desk.reply(s, row, text=words, actor=actor, now=now)
            told = await w.hooks.replied(s, row, words)
            result = TransitionResult(Outcome.OK)
        status = row.status
    if not result.ok:
        return see_other(f"{back}?error=" + ("conflict" if result.outcome is Outcome.CONFLICT
                                             else (result.reason or "not_allowed")) + f"&status={status.value}")
    w.hooks.wake()
    done = "reply_nobody" if what == "reply" and not told else what
    return see_other(f"{back}?done={done}")


async def _name(s: AsyncSession, tg_user_id: int) -> str:
    found = (await s.exec(select(KnownUser.name).where(KnownUser.tg_user_id == tg_user_id))).first()
    return found or "工作人员"


async def case_photo(request: Request) -> Response:
    staff = await staff_of(request, via="web:photo")
    if not isinstance(staff, Staff):
        return staff
    view, refusal = await _case(request, staff, "web:photo")
    if view is None:
        return refusal  # type: ignore[return-value]
    index = request.path_params["index"]
    if index >= len(view.ticket.photos):
        return message(request, texts.NOT_FOUND, 404)
    return await photo_response(web_of(request), view.ticket.photos[index])


def _period(request: Request) -> periods.Period:
    w = web_of(request)
    text = request.query_params.get("period", "")
    try:
        return periods.check_not_future(periods.parse_period(text), w.now()) if text else \
            schedule.latest_closed(periods.PeriodKind.WEEK, w.now())
    except periods.ReportError:
        return schedule.latest_closed(periods.PeriodKind.WEEK, w.now())


async def _report(request: Request, staff: Staff) -> tuple[figures.Report, figures.Filter]:
    w = web_of(request)
    filt = figures.Filter(unit=request.query_params.get("unit") or None)
    async with w.db.session() as s:
        report = await figures.build_report(s, _period(request), community=w.community, now=w.now(), filt=filt)
    return report, filt


async def figures_page(request: Request) -> Response:
    staff = await staff_of(request, via="web:figures")
    if not isinstance(staff, Staff):
        return staff
    report, _ = await _report(request, staff)
    return render(request, "figures.html", staff=staff, report=report, show=export.show, labels=export.LABELS,
                  legend=export.LEGEND, main=export.MAIN_KEYS, kinds=export.SCOPE_TITLES, query=request.url.query)


async def chart(request: Request) -> Response:
    staff = await staff_of(request, via="web:chart")
    if not isinstance(staff, Staff):
        return staff
    report, _ = await _report(request, staff)
    try:
        png = await asyncio.to_thread(_chart_png, report)
    except charts.ChartFontMissing:
        return Response(texts.REPORT_NO_FONT, status_code=503, media_type="text/plain; charset=utf-8")
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


def _chart_png(report: figures.Report) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = charts.report_chart(report, Path(tmp) / "chart.png")
        return path.read_bytes()


async def monday(request: Request) -> Response:
    """周调度: last week's report as the bot sends it on Monday, with its chart."""
    staff = await staff_of(request, via="web:report")
    if not isinstance(staff, Staff):
        return staff
    report, _ = await _report(request, staff)
    return render(request, "report.html", staff=staff, report=report, text=export.to_text(report))


routes = [
    Route("/board", home, methods=["GET"]),
    Route("/board/cases", cases, methods=["GET"]),
    Route("/board/cases/{number}", case_page, methods=["GET"]),
    Route("/board/cases/{number}/{action}", act, methods=["POST"]),
    Route("/board/cases/{number}/photo/{index:int}", case_photo, methods=["GET"]),
    Route("/board/figures", figures_page, methods=["GET"]),
    Route("/board/figures/chart.png", chart, methods=["GET"]),
    Route("/board/report", monday, methods=["GET"]),
]
