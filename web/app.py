"""The Starlette application: every route, the static files (htmx and our small scripts, no CDN), and headers that
keep tokens in URLs from leaking (no Referer), pages from being framed except by Telegram, and scripts to our own.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web import board, open311, resident, signin, telegram, texts
from web.core import HERE, Web, message, render

CSP = ("default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'self' https://web.telegram.org https://*.telegram.org")


class SecurityHeaders:
    """Headers on every response (a plain ASGI wrapper: no per-request task, unlike BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers = list(msg.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                            (b"content-security-policy", CSP.encode())]
                if not path.startswith(("/static/", "/open311/")):
                    headers.append((b"cache-control", b"no-store"))
                msg["headers"] = headers
            await send(msg)

        await self.app(scope, receive, with_headers)


async def index(request: Request) -> Response:
    return render(request, "index.html")


async def not_found(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/open311/"):
        return JSONResponse([{"code": 404, "description": "not found"}], status_code=404)
    return message(request, texts.NOT_FOUND, 404, back="/")  # a mistyped link: a way on, not a dead end


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    return message(request, texts.NOT_FOUND, 405)


def create_app(web: Web, **starlette: Any) -> Starlette:
    """The web side of linli over ``web`` (database, community, engine, clock, hooks)."""
    routes = [
        Route("/", index, methods=["GET"]),
        *telegram.routes,
        *resident.routes,
        *signin.routes,
        *board.routes,
        *open311.routes,
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: method_not_allowed}, **starlette)
    app.state.web = web
    app.add_middleware(SecurityHeaders)
    return app


__all__ = ["create_app"]
