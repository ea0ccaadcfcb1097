"""What every page needs: the dependencies the wiring passes in, the templates, the signed-in person, errors.

``web`` imports neither ``handlers`` nor ``bot``: the bot's wiring (``bot.web_wiring``) passes plain values and
callables in — the database, the community, the intents engine, the clock, and hooks for what a change owes
the chat (redraw the card, tell the resident, wake the sender) and for photos kept by Telegram.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from intents import Engine
from services import local
from services.cases.sweep import Escalation
from services.community.model import Community
from services.people import audit, roles
from services.people.roles import Action, Grant
from services.web import auth, limits
from storage.db import Database
from storage.models import Ticket
from web import texts

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "linli_session"


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def _nothing(*_: Any) -> None:
    return None


async def _told_nobody(*_: Any) -> int:
    return 0


@dataclass
class Hooks:
    """What a change made from the web owes the chat, done by the bot's code (inside the caller's transaction),
    and Telegram's file store for photos. The defaults do nothing (a web server without a bot)."""

    wake: Callable[[], None] = lambda: None
    signed: Callable[[AsyncSession, Ticket, str], Awaitable[None]] = _nothing  # (s, ticket, staff name)
    resolved: Callable[[AsyncSession, Ticket, str], Awaitable[None]] = _nothing  # (s, ticket, result)
    replied: Callable[[AsyncSession, Ticket, str], Awaitable[int]] = _told_nobody  # people told
    rated: Callable[[AsyncSession, Ticket, Escalation | None], Awaitable[None]] = _nothing
    withdrawn: Callable[[AsyncSession, Ticket], Awaitable[None]] = _nothing  # the resident withdrew it (撤回)
    upload_photo: Callable[[bytes], Awaitable[str]] | None = None  # JPEG bytes -> Telegram file_id
    fetch_photo: Callable[[str], Awaitable[bytes | None]] | None = None  # file_id -> bytes
    # the bot's runtime: the webhook's body (a Telegram update as JSON) into the inbox, committed when it returns
    # (ValueError: it is no update at all); the worker's health (ok, details) and its /metrics page (body, type)
    accept_update: Callable[[bytes], Awaitable[None]] | None = None
    health: Callable[[], Awaitable[tuple[bool, dict[str, Any]]]] | None = None
    metrics: Callable[[], Awaitable[tuple[bytes, str]]] | None = None


@dataclass
class Config:
    base_url: str = "http://127.0.0.1:8080"
    bot_token: str = ""  # checks Mini App init data
    bot_username: str | None = None  # for the claim link t.me/<bot>?start=t-<token>
    secret: bytes = b""  # form tokens
    webhook_secret: str | None = None  # X-Telegram-Bot-Api-Secret-Token of POST /telegram/webhook (none: no webhook)
    init_data_max_age: timedelta = auth.INIT_DATA_MAX_AGE
    max_photo_bytes: int = 10 * 1024 * 1024
    per_ip: limits.Rule | None = field(default_factory=lambda: limits.Rule(5, timedelta(minutes=10)))
    per_ip_hour: limits.Rule | None = field(default_factory=lambda: limits.Rule(20, timedelta(hours=1)))
    per_grid: limits.Rule | None = field(default_factory=lambda: limits.Rule(60, timedelta(hours=1)))
    suggest_per_ip: limits.Rule | None = field(default_factory=lambda: limits.Rule(120, timedelta(minutes=1)))

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")


@dataclass
class Web:
    """The state every route reads (``request.app.state.web``)."""

    db: Database
    community: Community
    engine: Engine
    config: Config = field(default_factory=Config)
    hooks: Hooks = field(default_factory=Hooks)
    clock: Callable[[], datetime] = _utc_now
    staff_chat_id: int | None = None
    admins: frozenset[int] = frozenset()
    form_limits: limits.Limits = field(init=False)
    suggest_limits: limits.Limits = field(init=False)
    photos: dict[str, bytes] = field(default_factory=dict)  # a few photos fetched from Telegram, newest last
    templates: Environment = field(init=False)

    def __post_init__(self) -> None:
        c = self.config
        self.form_limits = limits.Limits.of(ip=c.per_ip, ip_hour=c.per_ip_hour, grid=c.per_grid)
        self.suggest_limits = limits.Limits.of(ip=c.suggest_per_ip)
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                                     autoescape=select_autoescape(("html",)), trim_blocks=True, lstrip_blocks=True)
        self.templates.globals.update(t=texts, community=self.community, local=local, event_label=event_label,
                                      actor_label=actor_label)
        self.templates.filters["when"] = lambda d: local(d).strftime("%Y-%m-%d %H:%M") if d else "—"
        self.templates.filters["day"] = lambda d: local(d).strftime("%m-%d %H:%M") if d else "—"

    def now(self) -> datetime:
        return self.clock()

    def category_name(self, code: str) -> str:
        info = self.engine.model.info.get(code)
        return info.name if info else code

    def unit_name(self, code: str) -> str:
        unit = self.community.unit(code)
        return unit.name if unit else code

    def level_name(self, level: str | None) -> str:
        found = self.community.escalation_level(level) if level else None
        return found.name if found else (level or "")

    def grid_name(self, code: str | None) -> str:
        grid = self.community.grid(code) if code else None
        return f"{grid.code} {grid.name}" if grid else (code or "未分网格")


def event_label(e: Any) -> str:
    """A history line's words: the status it reached, else what happened."""
    if e.to_status is not None and e.kind.value in ("status_changed", "dispatched", "created"):
        return texts.STATUS.get(e.to_status.value, e.to_status.value)
    if e.kind.value == "rated" and e.rating is not None:
        return f"评价：{texts.RATING.get(e.rating.value, '')}"
    return texts.EVENT.get(e.kind.value, e.kind.value)


def actor_label(actor: str) -> str:
    """Who acted, without anyone's Telegram id."""
    kind = actor.split(":", 1)[0]
    return {"staff": "工作人员", "resident": "居民", "system": "系统", "import": "导入"}.get(kind, "")


def web_of(request: Request) -> Web:
    return request.app.state.web


def render(request: Request, template: str, status: int = 200, *, headers: dict[str, str] | None = None,
           **context: Any) -> HTMLResponse:
    w = web_of(request)
    html = w.templates.get_template(template).render(request=request, w=w, **context)
    return HTMLResponse(html, status_code=status, headers=headers)


def message(request: Request, text: str, status: int, *, title: str = "提示", headers: dict[str, str] | None = None,
            **context: Any) -> HTMLResponse:
    return render(request, "message.html", status, headers=headers, title=title, text=text, **context)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "-"


# --- the signed-in person ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staff:
    tg_user_id: int
    grants: frozenset[Grant]
    session: str

    def csrf(self, secret: bytes) -> str:
        return auth.csrf_token(self.session, secret)


async def staff_of(request: Request, *, via: str) -> Staff | Response:
    """The signed-in person if they may use the board (``desk.view``); else the page that says why."""
    w = web_of(request)
    token = request.cookies.get(SESSION_COOKIE)
    async with w.db.session() as s:
        user = await auth.session_user(s, token, now=w.now())
        grants = await roles.roles_of(s, user, admins=w.admins, community=w.community) if user else frozenset()
    if user is None or token is None:
        return message(request, texts.SIGNIN_NEEDED, 401, title="请登录")
    if not await check(w, user, Action.DESK_VIEW, grants=grants, via=via):
        return message(request, texts.NO_ROLE, 403, title="没有权限")
    return Staff(user, grants, token)


async def check(w: Web, user: int, action: Action, *, grants: frozenset[Grant], via: str,
                scope: roles.Scope = roles.NOWHERE, ticket_id: int | None = None) -> bool:
    """``roles.can``; a refusal is logged on ``linli.audit`` and kept in the audit table, as in chat."""
    allowed = roles.can(grants, action, scope)
    if not allowed:
        roles.refused(user, action, scope, via, now=w.now(), ticket_id=ticket_id)
    if audit.has_kept():
        async with w.db.transaction() as s:
            await audit.flush_refusals(s)
    return allowed


def set_session(response: Response, w: Web, token: str) -> Response:
    response.set_cookie(SESSION_COOKIE, token, max_age=int(auth.SESSION_TTL.total_seconds()), path="/",
                        httponly=True, secure=w.config.secure, samesite="lax")
    return response


__all__ = ["SESSION_COOKIE", "Config", "Hooks", "Staff", "Web", "check", "client_ip", "message", "render",
           "see_other", "set_session", "staff_of", "web_of"]
