"""Telegram's webhook, health and metrics: the routes a deployment's proxy and monitoring talk to.

``POST /telegram/webhook`` takes an update only with the right ``X-Telegram-Bot-Api-Secret-Token`` (else 403 and
nothing changes), stores it through the bot's hook and answers 200 only once it is committed; a body that is no
update at all gets 400, one too large 413; when the database cannot take it, 503, and Telegram delivers it again.
``GET /healthz`` answers 200 or 503 with the worker's view (JSON); ``GET /metrics`` the Prometheus text.
Without the bot's hooks (a web server alone) the webhook is not there and ``/healthz`` just says ok.
"""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from web.core import web_of

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # bytes; Telegram's updates are a few kilobytes


def _refuse(status: int, text: str) -> Response:
    return PlainTextResponse(text, status_code=status)


async def _body(request: Request) -> bytes | None:
    """The body, or None when it is larger than MAX_BODY (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def webhook(request: Request) -> Response:
    w = web_of(request)
    accept, secret = w.hooks.accept_update, w.config.webhook_secret
    if accept is None or not secret:
        return _refuse(404, "no webhook here")
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode("utf-8")):
        return _refuse(403, "forbidden")
    body = await _body(request)
    if body is None:
        return _refuse(413, "too large")
    try:
        await accept(body)
    except ValueError as exc:  # not JSON, or no update: Telegram never sends that, so nobody is waiting for it
        return _refuse(400, f"no update: {exc}"[:200])
    except Exception:  # the database cannot take it now: Telegram delivers it again later
        log.exception("webhook: an update could not be stored")
        return _refuse(503, "try again")
    return Response(status_code=200)


async def health(request: Request) -> Response:
    hook = web_of(request).hooks.health
    if hook is None:
        return PlainTextResponse("ok")
    ok, body = await hook()
    return JSONResponse(body, status_code=200 if ok else 503)


async def metrics(request: Request) -> Response:
    hook = web_of(request).hooks.metrics
    if hook is None:
        return _refuse(404, "no metrics here")
    body, content_type = await hook()
    return Response(body, media_type=content_type)


routes = [
    Route("/telegram/webhook", webhook, methods=["POST"]),
    Route("/healthz", health, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]

__all__ = ["MAX_BODY", "SECRET_HEADER", "routes"]
