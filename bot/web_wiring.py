"""The web side wired into the bot's process: the same database, community, engine and clock as the bot (the one
``Deps``), hooks that owe the chat what a change made on the web owes (the bot's own ``handlers.cards``, so the
case card shows it), photos kept by Telegram, and uvicorn started after the bot initialised and stopped before
it shuts down (``bot.app`` calls :func:`start` and :func:`stop`).

Photos from the 服务码 form are uploaded once to the staff chat (else a unit's or an escalation chat) and the
message deleted at once: Telegram keeps the file, its ``file_id`` goes into ``ticket.photos`` like any photo a
resident sends in chat, so the card and its album show it, and the board shows it (and every chat photo) by
fetching the file through the Bot API, only for those allowed to see the case.
"""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.error import TelegramError
from telegram.ext import Application

from bot.settings import Settings
from handlers import cards, texts
from handlers.deps import KEY, Deps
from handlers.desk.web import WEB_URL
from handlers.names import unit_name
from services.cases import clocks
from services.cases.sweep import Escalation
from services.web.intake import WEB_NAME
from storage.models import Ticket
from web import Config, Hooks, Web, create_app
from web.server import WebServer

log = logging.getLogger(__name__)
SERVER = "linli.web"  # bot_data: the WebServer, when the web side runs
STATE = "linli.web.state"  # bot_data: its Web (config filled in once the bot knows its username)


def hooks_for(app: Application) -> Hooks:
    d: Deps = app.bot_data[KEY]

    async def signed(s: AsyncSession, t: Ticket, staff_name: str) -> None:
        await cards.owe_refresh(s, d, t)
        await cards.owe_residents(s, d, t, texts.resident_signed(t.number, unit_name(d, t.unit), staff_name,
                                                                 clocks.effective_due(t, d.now())))

    async def resolved(s: AsyncSession, t: Ticket, result: str) -> None:
        await cards.owe_residents(s, d, t, texts.resident_resolved(t.number, unit_name(d, t.unit), result))
        await cards.owe_refresh(s, d, t)

    async def replied(s: AsyncSession, t: Ticket, text: str) -> int:
        return await cards.owe_residents(s, d, t, texts.resident_staff_reply(t.number, unit_name(d, t.unit), text))

    async def rated(s: AsyncSession, t: Ticket, escalation: Escalation | None) -> None:
        await cards.owe_refresh(s, d, t)
        if t.rating_comment:  # what they wrote with it, under the card as a typed rating's words go
            name = t.contact_name or WEB_NAME
            await cards.owe_under_card(s, d, t, texts.staff_resident_said(t.number, name, t.rating_comment, False))
        if escalation is not None:
            await cards.owe_escalation(s, d, escalation)

    async def withdrawn(s: AsyncSession, t: Ticket) -> None:  # as the bot's own 撤回 (handlers.resident.tickets)
        await cards.owe_refresh(s, d, t)
        await cards.owe_under_card(s, d, t, texts.staff_withdrawn(t.number))

    async def upload_photo(data: bytes) -> str:
        chats = [d.staff_chat_id, *(u.chat_id for u in d.community.units), *(e.chat_id for e in d.community.escalation)]
        chat = next((c for c in chats if c is not None), None)
        if chat is None:
            raise RuntimeError("no staff chat to keep photos in")
        sent = await app.bot.send_photo(chat, data, disable_notification=True)
        try:
            await app.bot.delete_message(chat, sent.message_id)
        except TelegramError as exc:  # the file stays Telegram's either way; the stray photo is only untidy
            log.warning("web photo: could not delete the upload message: %s", exc)
        return sent.photo[-1].file_id

    async def fetch_photo(file_id: str) -> bytes | None:
        found = await app.bot.get_file(file_id)
        return bytes(await found.download_as_bytearray())

    return Hooks(wake=d.wake_sender, signed=signed, resolved=resolved, replied=replied, rated=rated,
                 withdrawn=withdrawn, upload_photo=upload_photo, fetch_photo=fetch_photo)


def make_web(app: Application, settings: Settings, token: str) -> Web:
    """The web side's state over ``app``'s Deps (served in this process by :func:`attach`, or by uvicorn's worker
    processes, ``bot.serving.worker_app``)."""
    d: Deps = app.bot_data[KEY]
    web = Web(db=d.db, community=d.community, engine=d.engine, hooks=hooks_for(app), clock=d.clock,
              staff_chat_id=d.staff_chat_id, admins=d.admins,
              config=Config(base_url=settings.web_url, bot_token=token, secret=d.callback_secret))
    app.bot_data[STATE] = web
    app.bot_data[WEB_URL] = settings.base_url  # None until the server knows its own address
    return web


def attach(app: Application, settings: Settings, token: str) -> None:
    """Prepare the web side for ``app`` (started in post_init by :func:`start`)."""
    if settings.web_port is None:
        return
    web = make_web(app, settings, token)
    app.bot_data[SERVER] = WebServer(create_app(web), host=settings.web_host, port=settings.web_port)


async def start(app: Application) -> None:
    server: WebServer | None = app.bot_data.get(SERVER)
    if server is None:
        return
    app.bot_data[STATE].config.bot_username = app.bot.username
    try:
        await server.start()
    except RuntimeError as exc:  # the port is taken: the bot goes on without its web side, and says so
        log.error("%s; the bot runs without its web side (set WEB_PORT or --web-port)", exc)
        del app.bot_data[SERVER]
        app.bot_data[WEB_URL] = None
        return
    if app.bot_data.get(WEB_URL) is None:  # no BASE_URL: the address it listens on (a port 0 picked one)
        app.bot_data[WEB_URL] = server.url
        app.bot_data[STATE].config.base_url = server.url
    log.info("web side on %s (public address %s)", server.url, app.bot_data[WEB_URL])


async def stop(app: Application) -> None:
    server: WebServer | None = app.bot_data.get(SERVER)
    if server is not None:
        await server.stop()


__all__ = ["SERVER", "STATE", "attach", "hooks_for", "make_web", "start", "stop"]
