"""A local Telegram Bot API emulator: a real HTTP server a python-telegram-bot 22 bot can talk to.

Telegram is unreachable from the development machines, so tests, benchmarks and the terminal chat
run the real bot against this server instead. It keeps the Bot API's observable behaviour (long
polling and offsets, per-chat message ids, Telegram's error texts, 403 for blocked users, 429 flood
control, HTML/MarkdownV2 entity parsing) so that bugs which would surface on Telegram surface here.

This module is the aiohttp app, the routing of /bot<token>/<method> to the registered Bot API methods,
and the `BotApiEmulator` facade. The methods live with their family, as mixins of that one object:
updates (getUpdates), webhook (setWebhook and delivery), faults (injected failures),
messages (send/edit/delete), media (sendPhoto, ...), polls (sendPoll, stopPoll, answers), callbacks (inline keyboards),
chats (users, groups, blocks), files (store and downloads), profile (getMe, commands), activity (what
simulated users do) and observing (what tests read). Each mixin creates the state it owns in its
`_init_*` method; they share one object, so one mixin may use another's state and helpers.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

from aiohttp import web

from bot.emulator.activity import UserActivityMixin
from bot.emulator.callbacks import MAX_CALLBACK_DATA, CallbacksMixin
from bot.emulator.chats import ChatsMixin
from bot.emulator.control import ControlApi
from bot.emulator.faults import Fault, FaultsMixin, drop_connection
from bot.emulator.files import FilesMixin, StoredFile, tiny_png
from bot.emulator.formatting import MAX_CAPTION, MAX_TEXT, parse_text, utf16_len
from bot.emulator.limits import Limits, RateLimiter
from bot.emulator.media import MediaMixin
from bot.emulator.messages import SENDING_METHODS, MessagesMixin
from bot.emulator.observing import ObservingMixin
from bot.emulator.polls import PollsMixin
from bot.emulator.profile import ProfileMixin
from bot.emulator.protocol import (
    JSON,
    METHODS,
    ApiError,
    ApiHandler,
    Params,
    Upload,
    api,
    bad_request,
    json_response,
    read_params,
)
from bot.emulator.records import Button, CallbackAnswer, Event, SentMessage, Stats, Version
from bot.emulator.updates import DEFAULT_UPDATE_TYPES, UpdatesMixin
from bot.emulator.webhook import WebhookMixin

log = logging.getLogger(__name__)

# Names this module defined before the split, still importable from here.
__all__ = [
    "DEFAULT_UPDATE_TYPES",
    "JSON",
    "MAX_CALLBACK_DATA",
    "MAX_CAPTION",
    "MAX_TEXT",
    "SENDING_METHODS",
    "ApiError",
    "BotApiEmulator",
    "Button",
    "CallbackAnswer",
    "Event",
    "Fault",
    "Params",
    "SentMessage",
    "Stats",
    "StoredFile",
    "Upload",
    "Version",
    "api",
    "bad_request",
    "parse_text",
    "read_params",
    "tiny_png",
    "utf16_len",
]


class BotApiEmulator(
    FaultsMixin,
    UserActivityMixin,
    CallbacksMixin,
    MessagesMixin,
    MediaMixin,
    PollsMixin,
    FilesMixin,
    ChatsMixin,
    UpdatesMixin,
    WebhookMixin,
    ProfileMixin,
    ObservingMixin,
):
    """Bot API server plus the simulated Telegram users and chats around it.

    Inject user activity with `send_text`/`press`/..., observe the bot through `sent`, `wait_for`
    and `stats`. All state lives in the event loop that runs the server; nothing here is threadsafe.
    """

    def __init__(
        self,
        token: str | None = None,
        bot_username: str = "linli_bot",
        limits: Limits | float | None = None,
        *,
        bot_name: str = "邻里",
        bot_id: int | None = None,
        privacy_mode: bool = True,
        webhook_retry_delay: float = 0.5,
        first_update_id: int = 1,
        first_message_id: int = 1,
        files_dir: Path | None = None,
    ) -> None:
        """`webhook_retry_delay`: seconds before a failed webhook delivery is retried (doubling). `first_update_id`,
        `first_message_id`: where update ids and every chat's message ids start (Telegram's only grow: a bot whose
        database outlives this emulator starts them after the last ones it has seen). `files_dir`: where uploaded files
        are kept across restarts (the demo's ``var/``), None: in memory only."""
        self.token = token
        if bot_id is None:
            prefix = (token or "").partition(":")[0]
            bot_id = int(prefix) if prefix.isdigit() else 7_000_000_001
        self.bot_user: JSON = {"id": bot_id, "is_bot": True, "first_name": bot_name, "username": bot_username}
        self.privacy_mode = privacy_mode
        self.set_limits(limits)
        self.stats = Stats()
        self._ids = itertools.count(1)  # file numbers, callback query ids
        self._init_chats()
        self._init_messages(first_message_id)
        self._init_callbacks()
        self._init_files(files_dir)
        self._init_polls()
        self._init_updates(first_update_id)
        self._init_webhook(webhook_retry_delay)
        self._init_faults()
        self._init_profile()
        self._init_observing()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0

    # ----------------------------------------------------------------- lifecycle

    def set_limits(self, limits: Limits | float | None) -> None:
        """Replace flood control: a Limits, a scale factor over Telegram's defaults, or None (defaults)."""
        if limits is None:
            limits = Limits()
        elif not isinstance(limits, Limits):
            limits = Limits().scaled(float(limits))
        self.limits = limits
        self._limiter = RateLimiter(limits)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.add_routes(self._control_routes())
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._closing = False
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host, self.port = self._runner.addresses[0][:2]

    async def stop(self) -> None:
        """Release long polls first so shutdown doesn't wait for their timeouts."""
        self._closing = True
        self._updates_signal.fire()
        self._wake_all()
        await self._stop_delivery()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # ----------------------------------------------------------------- HTTP routing

    async def _handle_api(self, request: web.Request) -> web.Response:
        if self.token is not None and request.match_info["token"] != self.token:
            return json_response(ApiError(401, "Unauthorized").payload(), 401)
        method = request.match_info["method"].lower()
        handler = METHODS.get(method)
        if handler is None:
            return json_response(ApiError(404, "Not Found").payload(), 404)
        self.stats.calls[method] += 1
        # An injected fault answers instead of the method, or drops the connection before or after it runs.
        fault = self._take_fault(method)
        if fault is not None and not fault.drops:
            error = fault.error()
            return json_response(error.payload(), error.code)
        if fault is not None and not fault.after_recording:
            return drop_connection(request)
        response = await self._call(method, handler, request)
        return response if fault is None else drop_connection(request)

    async def _call(self, method: str, handler: ApiHandler, request: web.Request) -> web.Response:
        """Run one Bot API method; its result or error in Telegram's JSON shape."""
        try:
            result = await handler(self, await read_params(request))
        except ApiError as error:
            return json_response(error.payload(), error.code)
        except Exception as error:  # an emulator bug: tell the bot (PTB raises NetworkError) and the log
            log.exception("emulator failed in %s", method)
            return json_response(ApiError(500, f"Internal Server Error: {error!r}").payload(), 500)
        return json_response({"ok": True, "result": result})

    def _control_routes(self) -> list[web.RouteDef]:
        return ControlApi(self).routes()
