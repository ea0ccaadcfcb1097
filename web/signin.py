"""Signing in to the board: as a Telegram Mini App (``/app``, its init data checked on the server) or from an
ordinary browser with the one-time link the bot sends (``/login/<token>``). Either ends in a session cookie
(HttpOnly, SameSite=Lax, Secure when the site is https).

Opening a link does not use it: Telegram's link previews fetch URLs too. The page asks for one press, and the
press (a POST) signs in.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.web import auth
from web import texts
from web.core import SESSION_COOKIE, message, render, see_other, set_session, web_of


async def app_page(request: Request) -> Response:
    """The Mini App's entry: a small script reads the init data from the URL fragment and posts it."""
    return render(request, "app.html")


async def webapp(request: Request) -> Response:
    w = web_of(request)
    form = await request.form()
    found = auth.check_init_data(str(form.get("init_data") or ""), w.config.bot_token, now=w.now(),
                                 max_age=w.config.init_data_max_age)
    if isinstance(found, auth.InitDataError):
        return message(request, texts.SIGNIN_FAILED[found.value], 403, title="登录失败")
    async with w.db.transaction() as s:
        token = await auth.open_session(s, tg_user_id=found.id, via="webapp", now=w.now())
    return set_session(see_other("/board"), w, token)


async def link_page(request: Request) -> Response:
    return render(request, "login.html", token=request.path_params["token"])


async def link(request: Request) -> Response:
    w = web_of(request)
    async with w.db.transaction() as s:
        user = await auth.redeem_link(s, request.path_params["token"], now=w.now())
        token = await auth.open_session(s, tg_user_id=user, via="link", now=w.now()) if user else None
    if token is None:
        return message(request, texts.LINK_INVALID, 403, title="链接已失效")
    return set_session(see_other("/board"), w, token)


async def logout(request: Request) -> Response:
    w = web_of(request)
    async with w.db.transaction() as s:
        await auth.close_session(s, request.cookies.get(SESSION_COOKIE))
    response = see_other("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


routes = [
    Route("/app", app_page, methods=["GET"]),
    Route("/auth/webapp", webapp, methods=["POST"]),
    Route("/login/{token}", link_page, methods=["GET"]),
    Route("/login/{token}", link, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
