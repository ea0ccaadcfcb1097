"""The 服务码 page (``/s/<grid>``): a one-page form anyone can file with, no account, no JavaScript needed (htmx
only adds the live category suggestion); and the tracking page (``/t/<token>``) with the case's progress and,
after 办结, the rating buttons; while it is open, its author may withdraw it (撤回, asked twice).

Protection: per-address and per-grid rate limits (429 with Retry-After), a size limit on photos checked before
the body is read (413), the photo re-encoded with its metadata dropped (415 when it is no image), a honeypot
field bots fill in, and duplicates joined as in chat (``open_case``). A POST on ``/t/<token>/…`` is authorised by
the token in its path (128 random bits; no cookie is involved), so another site cannot forge one without knowing it:
it needs no CSRF token.
"""

from __future__ import annotations

import asyncio
import logging
import math

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.cases import followup, tickets
from services.cases.events import resident_actor
from services.community.model import Category
from services.web import intake, tokens
from storage.models import Rating, TicketEventKind, TicketStatus
from web import texts
from web.core import Web, client_ip, message, render, see_other, web_of

log = logging.getLogger(__name__)
HONEYPOT = "website"  # a field people never see; bots fill in every field
COMMENT_MAX = 500  # what a resident may add to their rating
RATINGS = {"s": Rating.SATISFIED, "b": Rating.BASICALLY_SATISFIED, "u": Rating.UNSATISFIED}
PUBLIC_EVENTS = {TicketEventKind.CREATED, TicketEventKind.DISPATCHED, TicketEventKind.STATUS_CHANGED,
                 TicketEventKind.REPLY, TicketEventKind.REASSIGNED, TicketEventKind.ESCALATED,
                 TicketEventKind.RATED, TicketEventKind.WITHDRAWN, TicketEventKind.MERGED}


def _categories(request: Request) -> list[tuple[str, str]]:
    w = web_of(request)
    return [(c.value, w.category_name(c.value)) for c in Category]


def _form_page(request: Request, grid: object, status: int = 200, *, form: intake.WebForm | None = None,
               errors: list[str] = ()) -> Response:  # type: ignore[assignment]
    return render(request, "intake.html", status, grid=grid, form=form or intake.WebForm(""), errors=list(errors),
                  categories=_categories(request), honeypot=HONEYPOT)


async def form_page(request: Request) -> Response:
    w = web_of(request)
    grid = w.community.grid(request.path_params["grid"])
    if grid is None:
        return message(request, texts.UNKNOWN_GRID, 404)
    return _form_page(request, grid)


async def suggest(request: Request) -> Response:
    """The live suggestion (htmx): the category the engine reads in what has been typed so far."""
    w = web_of(request)
    wait = w.suggest_limits.check({"ip": client_ip(request)}, w.now())
    if wait is not None:
        return Response("", status_code=429, headers={"Retry-After": str(math.ceil(wait))})
    form = await request.form()
    text = str(form.get("text") or "")[:intake.TEXT_MAX]
    found = intake.suggest(w.engine, text)
    return render(request, "suggest.html", suggestion=found,
                  name=w.category_name(found.category) if found.category else None)


async def submit(request: Request) -> Response:
    w = web_of(request)
    grid = w.community.grid(request.path_params["grid"])
    if grid is None:
        return message(request, texts.UNKNOWN_GRID, 404)
    now = w.now()
    keys = {"ip": client_ip(request), "ip_hour": client_ip(request), "grid": grid.code}
    wait = w.form_limits.check(keys, now)
    if wait is not None:
        return message(request, texts.TOO_MANY.format(minutes=max(1, math.ceil(wait / 60))), 429, title="请稍后再试",
                       headers={"Retry-After": str(math.ceil(wait))})
    limit = w.config.max_photo_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + 64 * 1024:
        return message(request, texts.PHOTO_ERRORS["too_big"].format(mb=limit // 2**20), 413)
    try:
        raw = await request.form(max_files=1, max_fields=20, max_part_size=limit + 1)
    except MultiPartException as exc:
        too_big = "exceeded maximum size" in str(exc)
        return message(request, texts.PHOTO_ERRORS["too_big"].format(mb=limit // 2**20) if too_big
                       else texts.BAD_FORM, 413 if too_big else 400)
    if raw.get(HONEYPOT):  # a bot: answered as if all went well, nothing kept
        log.info("web form: honeypot filled from %s", client_ip(request))
        return message(request, "已收到。", 200, title="已提交")
    form = intake.WebForm.of(**{k: str(raw.get(k) or "") for k in ("text", "location", "phone", "name", "category")})
    errors = [texts.FORM_ERRORS[e] for e in form.errors()]
    upload = raw.get("photo")
    photo: bytes | None = None
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(limit + 1)
        cleaned = await asyncio.to_thread(intake.clean_photo, data, max_bytes=limit)
        if isinstance(cleaned, intake.PhotoError):
            status = 413 if cleaned is intake.PhotoError.TOO_BIG else 415
            return _form_page(request, grid, status, form=form, errors=[
                *errors, texts.PHOTO_ERRORS[cleaned.value].format(mb=limit // 2**20)])
        photo = cleaned
    if errors and photo is None:  # the resident's own mistakes, nothing decoded or written: not counted
        w.form_limits.refund(keys)
    if errors:  # a browser cannot be given a file back: the resident is told to choose the photo again
        return _form_page(request, grid, 400, form=form,
                          errors=[*errors, texts.PHOTO_AGAIN] if photo is not None else errors)
    photos: list[str] = []
    if photo is not None:
        try:
            if w.hooks.upload_photo is None:
                raise RuntimeError("no photo store")
            photos.append(await w.hooks.upload_photo(photo))
        except Exception as exc:  # Telegram away, no chat to keep it in: nothing is written
            log.warning("web form: photo upload failed: %s", exc)
            return _form_page(request, grid, 503, form=form, errors=[texts.PHOTO_UPLOAD_FAILED])
    async with w.db.transaction() as s:
        filed = await intake.file_case(s, form, grid_code=grid.code, photos=photos, engine=w.engine,
                                       community=w.community, staff_chat_id=w.staff_chat_id, now=now)
    w.hooks.wake()
    return see_other(f"/t/{filed.token}?new=1")


async def tracking(request: Request) -> Response:
    w = web_of(request)
    async with w.db.session() as s:
        found = await tokens.find(s, request.path_params["token"])
        if found is None:
            return message(request, texts.NO_CASE, 404)
        return await _tracking_page(request, s, found)


async def _tracking_page(request: Request, s: AsyncSession, found: tokens.Tracked, *, asking: bool = False,
                         status: int = 200) -> Response:
    """The case's page; ``asking``: with the 撤回 question open (the first press without JavaScript)."""
    w = web_of(request)
    t = found.ticket
    assert t.id is not None
    view = await tickets.resident_view(s, t, await tokens.holders(s, found))
    steps = [e for e in view.events if e.kind in PUBLIC_EVENTS]  # never another resident's words
    claim = (f"https://t.me/{w.config.bot_username}?start=t-{request.path_params['token']}"
             if w.config.bot_username else None)
    return render(request, "tracking.html", status, c=t, steps=steps, tracked=found, claim=claim, own=view.words,
                  author=view.author, place=view.place,
                  new=request.query_params.get("new") == "1", token=request.path_params["token"],
                  ratable=found.is_author and t.status in followup.RATABLE and t.rating is None,
                  done=request.query_params.get("rated"), asking=asking,
                  withdrawn=request.query_params.get("withdrawn") == "1" and t.status is TicketStatus.WITHDRAWN)


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _withdraw_refused(request: Request, token: str, status: tokens.WithdrawStatus) -> Response:
    """Why it cannot be withdrawn, politely; to htmx as the part of the page it swaps (it swaps no 4xx)."""
    text = texts.WITHDRAW_REFUSED[status.value]
    if _htmx(request):
        return render(request, "withdraw.html", token=token, refused=text)
    code = {tokens.WithdrawStatus.NOT_FOUND: 404, tokens.WithdrawStatus.NOT_YOURS: 403}.get(status, 409)
    return message(request, text, code, back=f"/t/{token}" if code != 404 else None)


async def withdraw(request: Request) -> Response:
    """撤回 in two presses: the first asks (htmx swaps the question in; without JavaScript the page comes back
    with it), the second (``confirm=yes``) withdraws through the bot's own rule and tells the desk's card."""
    w = web_of(request)
    token = request.path_params["token"]
    form = await request.form()
    if form.get("confirm") != "yes":
        async with w.db.session() as s:
            found = await tokens.find(s, token)
            if found is None:
                return _withdraw_refused(request, token, tokens.WithdrawStatus.NOT_FOUND)
            if not found.withdrawable:
                status = (tokens.WithdrawStatus.NOT_YOURS if not found.is_author
                          else tokens.WithdrawStatus.ALREADY_WITHDRAWN
                          if found.ticket.status is TicketStatus.WITHDRAWN else tokens.WithdrawStatus.NOT_OPEN)
                return _withdraw_refused(request, token, status)
            if _htmx(request):
                return render(request, "withdraw.html", token=token, c=found.ticket, asking=True)
            return await _tracking_page(request, s, found, asking=True)
    async with w.db.transaction() as s:
        done = await tokens.withdraw(s, token, now=w.now())
        if done.ok and done.ticket is not None:
            await w.hooks.withdrawn(s, done.ticket)
    if not done.ok:
        return _withdraw_refused(request, token, done.status)
    w.hooks.wake()
    log.info("web: case %s withdrawn by its resident", done.ticket.number if done.ticket else "?")
    return see_other(f"/t/{token}?withdrawn=1")


async def rate(request: Request) -> Response:
    w = web_of(request)
    token = request.path_params["token"]
    form = await request.form()
    code = str(form.get("rating") or "")
    rating = RATINGS.get(code)
    if rating is None:
        return message(request, texts.RATE_CLOSED, 400)
    comment = " ".join(str(form.get("comment") or "").split())[:COMMENT_MAX] or None  # why, if they said
    async with w.db.transaction() as s:
        found = await tokens.find(s, token)
        if found is None:
            return message(request, texts.NO_CASE, 404)
        if not found.is_author:
            return message(request, texts.RATE_NOT_YOURS, 403)
        t = found.ticket
        outcome = await followup.rate(s, t, rating, comment, w.now(), community=w.community,
                                      actor=resident_actor(t.resident_id))
        if outcome.ok:
            await w.hooks.rated(s, t, outcome.escalation)
    if not outcome.ok:
        return message(request, texts.RATE_CLOSED, 409, back=f"/t/{token}")
    w.hooks.wake()
    return see_other(f"/t/{token}?rated={'u' if rating is Rating.UNSATISFIED else '1'}")


async def photo(request: Request) -> Response:
    """The case's photo, for the person who filed it (their token), fetched from Telegram's file store."""
    w = web_of(request)
    async with w.db.session() as s:
        found = await tokens.find(s, request.path_params["token"])
    index = request.path_params["index"]
    if found is None or not found.is_author or index >= len(found.ticket.photos):
        return message(request, texts.NOT_FOUND, 404)
    return await photo_response(w, found.ticket.photos[index])


async def photo_response(w: Web, file_id: str) -> Response:
    data = w.photos.get(file_id)
    if data is None and w.hooks.fetch_photo is not None:
        try:
            data = await w.hooks.fetch_photo(file_id)
        except Exception as exc:  # Telegram away: the page shows the photo missing, not an error
            log.warning("photo %s: %s", file_id, exc)
            data = None
        if data is not None:
            w.photos[file_id] = data
            while len(w.photos) > 64:
                w.photos.pop(next(iter(w.photos)))
    if data is None:
        return Response(status_code=404)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


routes = [
    Route("/s/{grid}", form_page, methods=["GET"]),
    Route("/s/{grid}", submit, methods=["POST"]),
    Route("/s/{grid}/suggest", suggest, methods=["POST"]),
    Route("/t/{token}", tracking, methods=["GET"]),
    Route("/t/{token}/rate", rate, methods=["POST"]),
    Route("/t/{token}/withdraw", withdraw, methods=["POST"]),
    Route("/t/{token}/photo/{index:int}", photo, methods=["GET"]),
]
