"""A local Telegram Bot API emulator: a real HTTP server a python-telegram-bot 22 bot can talk to.

Telegram is unreachable from the development machines, so tests, benchmarks and the terminal chat
run the real bot against this server instead. It keeps the Bot API's observable behaviour (long
polling and offsets, per-chat message ids, Telegram's error texts, 403 for blocked users, 429 flood
control, HTML/MarkdownV2 entity parsing) so that bugs which would surface on Telegram surface here.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import copy
import itertools
import json
import logging
import re
import struct
import time
import zlib
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from typing import Any, TypeVar

from aiohttp import web

from bot.emulator.limits import Limits, RateLimiter

log = logging.getLogger(__name__)

JSON = dict[str, Any]
T = TypeVar("T")

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
SENDING_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument", "copymessage", "forwardmessage"})
# What Telegram delivers when getUpdates never set allowed_updates.
DEFAULT_UPDATE_TYPES = frozenset(
    {"message", "edited_message", "callback_query", "my_chat_member", "inline_query", "channel_post"}
)


class ApiError(Exception):
    """A Bot API failure, rendered exactly like Telegram's `{"ok": false, ...}` responses."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


def utf16_len(text: str) -> int:
    """Telegram measures offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- formatted text


class _Builder:
    """Accumulates plain text plus entities while a markup parser walks the source."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.entities: list[JSON] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += utf16_len(text)

    def open(self, kind: str, **extra: Any) -> JSON:
        return {"type": kind, "offset": self.length, **extra}

    def close(self, entity: JSON) -> None:
        if (length := self.length - entity["offset"]) > 0:
            entity["length"] = length
            self.entities.append(entity)

    def result(self) -> tuple[str, list[JSON]]:
        return "".join(self.parts), sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))


def _cant_parse(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}  # fmt: skip


class _HtmlEntities(HTMLParser):
    """Telegram's HTML parse mode: a fixed tag set, strictly nested, everything else an error."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.out = _Builder()
        self.stack: list[tuple[str, JSON | None]] = []
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]

    def _byte_offset(self) -> int:
        line, col = self.getpos()
        return len(self.source[: self.line_starts[line - 1] + col].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        kind = _HTML_TAGS.get(tag)
        if kind is None or (tag == "span" and values.get("class") != "tg-spoiler"):
            raise _cant_parse(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        if tag == "code" and self.stack and self.stack[-1][0] == "pre":
            pre = self.stack[-1][1]
            language = (values.get("class") or "").removeprefix("language-")
            if pre is not None and language:
                pre["language"] = language
            self.stack.append((tag, None))
            return
        entity = self.out.open(kind)
        if tag == "a":
            entity["url"] = values.get("href") or ""
        elif tag == "blockquote" and "expandable" in values:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = values.get("emoji-id") or ""
        self.stack.append((tag, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _cant_parse(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise _cant_parse(f"Unexpected end tag at byte offset {self._byte_offset()}")
        if self.stack[-1][0] != tag:
            expected = self.stack[-1][0]
            raise _cant_parse(
                f'Unmatched end tag at byte offset {self._byte_offset()}, expected "</{expected}>", '
                f'found "</{tag}>"'
            )
        _, entity = self.stack.pop()
        if entity is not None:
            self.out.close(entity)

    def handle_data(self, data: str) -> None:
        self.out.add(data)

    def handle_comment(self, data: str) -> None:
        raise _cant_parse(f"Unsupported comment at byte offset {self._byte_offset()}")

    def parse(self) -> tuple[str, list[JSON]]:
        self.feed(self.source)
        self.close()
        if self.stack:
            raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"')
        return self.out.result()


_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_MARKERS = (
    ("||", "spoiler"),
    ("__", "underline"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
)
_MD1_MARKERS = (("*", "bold"), ("_", "italic"))
_MD_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\(((?:\\.|[^)\\])*)\)")
_MD_UNESCAPE = re.compile(r"\\(.)")


def _byte_at(text: str, index: int) -> int:
    return len(text[:index].encode())


def _find_closing(text: str, token: str, start: int, v2: bool) -> int:
    """Index of the next `token` at or after `start`, skipping backslash-escaped characters in V2."""
    i = start
    while i < len(text):
        if v2 and text[i] == "\\":
            i += 2
        elif text.startswith(token, i):
            return i
        else:
            i += 1
    return -1


class _MarkdownEntities:
    """Telegram's MarkdownV2 (strict: reserved characters must be escaped) and legacy Markdown."""

    def __init__(self, source: str, v2: bool) -> None:
        self.src = source
        self.v2 = v2
        self.out = _Builder()
        self.opened: dict[str, tuple[JSON, int]] = {}

    def _unescape(self, text: str) -> str:
        return _MD_UNESCAPE.sub(r"\1", text) if self.v2 else text

    def _code(self, i: int, fence: str) -> int:
        end = _find_closing(self.src, fence, i + len(fence), self.v2)
        if end < 0:
            raise _cant_parse(f"Can't find end of the entity starting at byte offset {_byte_at(self.src, i)}")
        body, extra = self.src[i + len(fence) : end], {}
        if fence == "```":
            first, newline, rest = body.partition("\n")
            if newline and re.fullmatch(r"[\w+#.-]+", first):
                body, extra = rest, {"language": first}
        entity = self.out.open("pre" if fence == "```" else "code", **extra)
        self.out.add(self._unescape(body))
        self.out.close(entity)
        return end + len(fence)

    def _link(self, i: int) -> int | None:
        match = _MD_LINK.match(self.src, i)
        if match is None:
            return None
        entity = self.out.open("text_link", url=self._unescape(match.group(2)))
        self.out.add(self._unescape(match.group(1)))
        self.out.close(entity)
        return match.end()

    def _toggle(self, kind: str, i: int) -> None:
        if kind in self.opened:
            self.out.close(self.opened.pop(kind)[0])
        else:
            self.opened[kind] = (self.out.open(kind), _byte_at(self.src, i))

    def _step(self, i: int) -> int:
        src, char = self.src, self.src[i]
        if char == "\\" and i + 1 < len(src) and (self.v2 or src[i + 1] in "_*`["):
            self.out.add(src[i + 1])
            return i + 2
        if src.startswith("```", i) or char == "`":
            return self._code(i, "```" if src.startswith("```", i) else "`")
        if char == "[" and (end := self._link(i)) is not None:
            return end
        for token, kind in _MD2_MARKERS if self.v2 else _MD1_MARKERS:
            if src.startswith(token, i):
                self._toggle(kind, i)
                return i + len(token)
        if self.v2 and char == ">" and (i == 0 or src[i - 1] == "\n"):
            self._toggle("blockquote", i)
            return i + 1
        if char == "\n" and "blockquote" in self.opened:
            self._toggle("blockquote", i)
        if self.v2 and char in _MD2_RESERVED:
            raise _cant_parse(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        self.out.add(char)
        return i + 1

    def parse(self) -> tuple[str, list[JSON]]:
        i = 0
        while i < len(self.src):
            i = self._step(i)
        if "blockquote" in self.opened:
            self._toggle("blockquote", i)
        if self.opened:
            start = min(offset for _, offset in self.opened.values())
            raise _cant_parse(f"Can't find end of the entity starting at byte offset {start}")
        return self.out.result()


def parse_text(
    text: str, parse_mode: str | None, entities: list[JSON] | None = None
) -> tuple[str, list[JSON]]:
    """Plain text and entities as Telegram would store them for `text` sent with `parse_mode`."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _HtmlEntities(text).parse()
    if mode in ("markdownv2", "markdown"):
        return _MarkdownEntities(text, v2=mode == "markdownv2").parse()
    if mode:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    return text, list(entities or [])


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class Version:
    """One state of a bot message: the original send or an edit, stamped with its cursor seq."""

    seq: int
    method: str
    text: str | None
    caption: str | None
    reply_markup: JSON | None


@dataclass(slots=True)
class Button:
    """An inline keyboard button flattened row by row; `index` is 1-based (the console's numbering)."""

    index: int
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(slots=True)
class SentMessage:
    """A message the bot sent, kept current through edits; `history[0]` is how it was first sent."""

    seq: int
    message_id: int
    chat_id: int
    method: str
    date: int
    text: str | None = None
    caption: str | None = None
    entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    reply_to_message_id: int | None = None
    photo: str | None = None
    document: str | None = None
    parse_mode: str | None = None
    deleted: bool = False
    history: list[Version] = field(default_factory=list)
    raw: JSON = field(default_factory=dict, repr=False)
    recorded: float = 0.0  # time.monotonic() when the emulator accepted it (latency measurements)

    @property
    def edited(self) -> bool:
        return len(self.history) > 1

    @property
    def body(self) -> str:
        """Text or caption, whichever the message has (tests rarely care which)."""
        return self.text if self.text is not None else self.caption or ""

    @property
    def buttons(self) -> list[Button]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        flat = itertools.chain.from_iterable(rows)
        return [
            Button(index, b.get("text", ""), b.get("callback_data"), b.get("url"))
            for index, b in enumerate(flat, start=1)
        ]

    @property
    def keyboard(self) -> list[str]:
        """Texts of a reply keyboard (ReplyKeyboardMarkup), if one was attached."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [b if isinstance(b, str) else b.get("text", "") for b in itertools.chain.from_iterable(rows)]

    def to_dict(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: JSON) -> SentMessage:
        values = dict(data)
        values["history"] = [Version(**v) for v in values.get("history", [])]
        return cls(**values)


@dataclass(slots=True)
class CallbackAnswer:
    """An answerCallbackQuery call, i.e. the toast/alert a user would see after pressing a button."""

    seq: int
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None = None


@dataclass(slots=True)
class Event:
    """One bot action in order: kind is "send", "edit", "delete" or "answer"; `seq` is its cursor."""

    seq: int
    kind: str
    chat_id: int | None
    message: SentMessage | None = None
    answer: CallbackAnswer | None = None


@dataclass(slots=True)
class Stats:
    """Counters a broadcast benchmark reads: accepted sends, 429s and 403s per chat, calls per method."""

    delivered: Counter[int] = field(default_factory=Counter)
    rate_limited: Counter[int] = field(default_factory=Counter)
    forbidden: Counter[int] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)

    @property
    def too_many_requests(self) -> int:
        return self.rate_limited.total()

    @property
    def forbidden_total(self) -> int:
        return self.forbidden.total()

    @property
    def delivered_total(self) -> int:
        return self.delivered.total()

    def to_dict(self) -> JSON:
        return {
            "delivered": {str(k): v for k, v in self.delivered.items()},
            "rate_limited": {str(k): v for k, v in self.rate_limited.items()},
            "forbidden": {str(k): v for k, v in self.forbidden.items()},
            "calls": dict(self.calls),
            "delivered_total": self.delivered_total,
            "too_many_requests": self.too_many_requests,
            "forbidden_total": self.forbidden_total,
        }


@dataclass(slots=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None

    def as_file(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass(slots=True)
class Upload:
    filename: str | None
    content_type: str | None
    data: bytes


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A real (orange) PNG, so downloaded "photos" open in any viewer and have true dimensions."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _image_size(data: bytes) -> tuple[int, int]:
    if data.startswith(b"\x89PNG") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    return 1280, 960


class _Signal:
    """Wakes every current waiter at once. `fire` is sync so plain methods (block()) can notify.

    `wait()` captures the current event when called, so check-then-wait without an await in between
    can never miss a fire.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    def wait(self) -> Awaitable[bool]:
        return self._event.wait()


async def _wait_until(
    signal: _Signal,
    find: Callable[[], T | None],
    timeout: float,  # noqa: ASYNC109 (the documented test API takes a timeout)
    why: Callable[[], str],
) -> T:
    """Re-evaluate `find` whenever `signal` fires until it returns something or `timeout` passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (found := find()) is None:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(why())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(remaining):
                await signal.wait()
    return found


# --------------------------------------------------------------------------- request parameters


class Params:
    """Bot API parameters from query, JSON, urlencoded or multipart bodies, with Telegram's coercions.

    python-telegram-bot sends every value as a string and nested objects as JSON strings.
    """

    def __init__(self, values: JSON, uploads: dict[str, Upload] | None = None) -> None:
        self.values = {k: v for k, v in values.items() if v is not None}
        self.uploads = uploads or {}

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def number(self, name: str, default: float = 0.0) -> float:
        value = self.values.get(name)
        try:
            return default if value in (None, "") else float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        return self.values.get(name) in (True, 1, "true", "True", "1")

    def json(self, name: str) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None


async def read_params(request: web.Request) -> Params:
    values: JSON = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise bad_request("request body must be a JSON object")
            values.update(body)
        else:
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    uploads[name] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    values[name] = value
    return Params(values, uploads)


ApiHandler = Callable[["BotApiEmulator", Params], Awaitable[Any]]
_API: dict[str, ApiHandler] = {}


def api(*names: str) -> Callable[[ApiHandler], ApiHandler]:
    """Register a Bot API method (Telegram matches method names case-insensitively)."""

    def register(handler: ApiHandler) -> ApiHandler:
        for name in names:
            _API[name.lower()] = handler
        return handler

    return register


_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_FORBIDDEN = "Forbidden: bot was blocked by the user"


# --------------------------------------------------------------------------- the emulator


class BotApiEmulator:
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
    ) -> None:
        self.token = token
        if bot_id is None:
            prefix = (token or "").partition(":")[0]
            bot_id = int(prefix) if prefix.isdigit() else 7_000_000_001
        self.bot_user: JSON = {"id": bot_id, "is_bot": True, "first_name": bot_name, "username": bot_username}
        self.privacy_mode = privacy_mode
        self.set_limits(limits)
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, JSON] = {}
        self.group_admins: set[int] = set()  # groups where the bot is admin and so sees every message
        self.blocked: set[int] = set()
        self.sent: list[SentMessage] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.events: list[Event] = []  # events[i].seq == i + 1
        self.stats = Stats()
        self.commands: dict[str, list[JSON]] = {}
        self.files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._by_chat: defaultdict[int, list[SentMessage]] = defaultdict(list)
        self._sent_index: dict[tuple[int, int], SentMessage] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._last_message_id: Counter[int] = Counter()
        self._queries: dict[str, JSON] = {}
        self._updates: deque[JSON] = deque()
        self._ids = itertools.count(1)
        self._next_update_id = 1
        self._seq = 0
        self._poll_generation = 0
        self.parked_polls = 0  # getUpdates requests currently held open
        self._parked_generations: set[int] = set()
        self._closing = False
        self._updates_signal = _Signal()
        self._activity = _Signal()
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
        self._activity.fire()
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

    # ----------------------------------------------------------------- users and chats

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        username: str | None = None,
        *,
        last_name: str | None = None,
    ) -> JSON:
        """Create (or rename) a user; their private chat has the same id, as on Telegram."""
        if user_id <= 0:
            raise ValueError("user ids are positive; use group() for group chats")
        existing = self.users.get(user_id)
        user: JSON = existing or {"id": user_id, "is_bot": False, "first_name": f"用户{user_id}"}
        user.setdefault("language_code", "zh-hans")
        for key, value in (("first_name", first_name), ("username", username), ("last_name", last_name)):
            if value is not None:
                user[key] = value
        self.users[user_id] = user
        chat = self.chats.setdefault(user_id, {"id": user_id, "type": "private"})
        chat.update({k: user[k] for k in ("first_name", "last_name", "username") if k in user})
        return user

    def group(
        self,
        chat_id: int,
        title: str | None = None,
        *,
        chat_type: str | None = None,
        username: str | None = None,
        bot_is_admin: bool = False,
    ) -> JSON:
        """Create a group chat. Ids starting -100 are supergroups, like Telegram's."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        kind = chat_type or ("supergroup" if str(chat_id).startswith("-100") else "group")
        chat = self.chats.setdefault(chat_id, {"id": chat_id, "type": kind, "title": f"群{chat_id}"})
        if title is not None:
            chat["title"] = title
        if username is not None:
            chat["username"] = username
        if bot_is_admin:
            self.group_admins.add(chat_id)
        return chat

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them now fail with 403, and the bot is told (my_chat_member)."""
        if user_id not in self.blocked:
            self.blocked.add(user_id)
            self._member_update(user_id, "member", "kicked")

    def unblock(self, user_id: int) -> None:
        if user_id in self.blocked:
            self.blocked.discard(user_id)
            self._member_update(user_id, "kicked", "member")

    def _member_update(self, user_id: int, old: str, new: str) -> None:
        user = self.user(user_id)

        def member(status: str) -> JSON:
            extra = {"until_date": 0} if status == "kicked" else {}
            return {"status": status, "user": self.bot_user, **extra}

        self._enqueue(
            "my_chat_member",
            {
                "chat": self.chats[user_id],
                "from": user,
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    # ----------------------------------------------------------------- injecting user activity

    async def send_text(
        self, user_id: int, text: str, chat_id: int | None = None, *, reply_to: int | None = None
    ) -> JSON:
        """A user types `text`. A leading command gets its bot_command entity, as Telegram adds it."""
        content: JSON = {"text": text}
        if match := _COMMAND.match(text):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}]
        return self._user_message(user_id, chat_id, content, reply_to=reply_to)

    async def reply(self, user_id: int, to_message_id: int, text: str, chat_id: int | None = None) -> JSON:
        """A user replies to a (bot or user) message with text."""
        return await self.send_text(user_id, text, chat_id, reply_to=to_message_id)

    async def send_photo(
        self,
        user_id: int,
        caption: str | None = None,
        chat_id: int | None = None,
        *,
        data: bytes | None = None,
        media_group_id: str | None = None,
    ) -> JSON:
        """A user sends a photo; photos of one album share ``media_group_id`` (each is its own update)."""
        stored = self._store_file("photo", data if data is not None else tiny_png(), mime_type="image/png")
        content: JSON = {"photo": self._photo_sizes(stored)}
        if caption:
            content["caption"] = caption
        if media_group_id:
            content["media_group_id"] = media_group_id
        return self._user_message(user_id, chat_id, content)

    async def send_document(
        self, user_id: int, name: str = "文件.pdf", chat_id: int | None = None, *, data: bytes = b"%PDF-1.4\n"
    ) -> JSON:
        stored = self._store_file("document", data, file_name=name, mime_type="application/octet-stream")
        return self._user_message(user_id, chat_id, {"document": self._document(stored)})

    async def send_sticker(self, user_id: int, emoji: str = "👍", chat_id: int | None = None) -> JSON:
        stored = self._store_file("sticker", b"RIFF\x00\x00\x00\x00WEBP", mime_type="image/webp")
        sticker = {
            "file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "type": "regular",
            "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": emoji,
        }  # fmt: skip
        return self._user_message(user_id, chat_id, {"sticker": sticker})

    async def send_voice(self, user_id: int, duration: int = 3, chat_id: int | None = None) -> JSON:
        stored = self._store_file("voice", b"OggS\x00" + bytes(64), mime_type="audio/ogg")
        voice = {
            "file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
            "duration": duration, "mime_type": "audio/ogg", "file_size": len(stored.data),
        }  # fmt: skip
        return self._user_message(user_id, chat_id, {"voice": voice})

    async def send_location(
        self, user_id: int, latitude: float, longitude: float, chat_id: int | None = None
    ) -> JSON:
        return self._user_message(
            user_id, chat_id, {"location": {"latitude": latitude, "longitude": longitude}}
        )

    async def send_contact(
        self, user_id: int, phone: str, chat_id: int | None = None, *, first_name: str | None = None
    ) -> JSON:
        user = self.user(user_id)
        contact = {"phone_number": phone, "first_name": first_name or user["first_name"], "user_id": user_id}
        return self._user_message(user_id, chat_id, {"contact": contact})

    async def edit_text(self, user_id: int, message_id: int, text: str, chat_id: int | None = None) -> JSON:
        """A user edits one of their own text messages (the bot gets an edited_message update)."""
        chat_id = user_id if chat_id is None else chat_id
        message = self._messages.get((chat_id, message_id))
        if message is None or message.get("from", {}).get("id") != user_id or "text" not in message:
            raise ValueError(f"user {user_id} has no text message {message_id} in chat {chat_id}")
        message.update(text=text, edit_date=int(time.time()))
        self._enqueue("edited_message", message)
        return message

    async def press(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        chat_id: int | None = None,
        *,
        forge: bool = False,
    ) -> str:
        """Press an inline button on a bot message; returns the callback query id.

        Like a real client, only a button that is currently on the message can be pressed. With
        `forge=True` any data is sent (a modified client: unsigned, re-signed, over 64 bytes, or a
        button the bot already removed); the message must still be a bot message in the chat.
        """
        chat_id = user_id if chat_id is None else chat_id
        sent = self._sent_index.get((chat_id, message_id))
        if sent is None or sent.deleted:
            raise ValueError(f"no bot message {message_id} in chat {chat_id}")
        if not forge and callback_data not in {b.callback_data for b in sent.buttons}:
            raise ValueError(f"message {message_id} has no button with callback_data {callback_data!r}")
        query_id = str(4_000_000_000_000_000 + next(self._ids))
        query = {
            "id": query_id,
            "from": self.user(user_id),
            "message": self._messages[(chat_id, message_id)],
            "chat_instance": str(abs(chat_id) * 7919),
            "data": callback_data,
        }
        self._queries[query_id] = query
        self._enqueue("callback_query", query)
        return query_id

    def _user_message(
        self, user_id: int, chat_id: int | None, content: JSON, *, reply_to: int | None = None
    ) -> JSON:
        user = self.user(user_id)
        chat_id = user_id if chat_id is None else chat_id
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ValueError(f"unknown chat {chat_id}; create it with emu.group()")
        if chat_id == user_id:
            self.unblock(user_id)  # writing to a bot you blocked restarts it, as in Telegram clients
        message = self._new_message(chat, user, content)
        if reply_to is not None:
            target = self._messages.get((chat_id, reply_to))
            if target is None:
                raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
            message["reply_to_message"] = self._without_reply(target)
        if self._bot_sees(chat, message):
            self._enqueue("message", message)
        return message

    def _bot_sees(self, chat: JSON, message: JSON) -> bool:
        """Group privacy mode: without admin rights a bot only gets commands, mentions and replies to it."""
        if chat["type"] == "private" or not self.privacy_mode or chat["id"] in self.group_admins:
            return True
        text = message.get("text") or message.get("caption") or ""
        replied_from = message.get("reply_to_message", {}).get("from", {})
        return (
            text.startswith("/")
            or f"@{self.bot_user['username']}" in text
            or replied_from.get("id") == self.bot_user["id"]
        )

    def _new_message(self, chat: JSON, sender: JSON, content: JSON) -> JSON:
        self._last_message_id[chat["id"]] += 1
        message_id = self._last_message_id[chat["id"]]
        message = {
            "message_id": message_id,
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        self._messages[(chat["id"], message_id)] = message
        return message

    @staticmethod
    def _without_reply(message: JSON) -> JSON:
        return {k: v for k, v in message.items() if k != "reply_to_message"}

    def _enqueue(self, kind: str, payload: JSON) -> None:
        """Snapshot the payload as an update; types excluded by allowed_updates are dropped like Telegram."""
        if kind not in self.allowed_updates:
            return
        self._updates.append({"update_id": self._next_update_id, kind: copy.deepcopy(payload)})
        self._next_update_id += 1
        self._updates_signal.fire()

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by the bot."""
        return len(self._updates)

    @property
    def updates_injected(self) -> int:
        """Updates ever queued for the bot (those filtered by privacy mode or allowed_updates excluded)."""
        return self._next_update_id - 1

    # ----------------------------------------------------------------- observing the bot

    def cursor(self) -> int:
        """A position in the bot's activity; wait_for(after=cursor) sees only what happens later."""
        return self._seq

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return list(self._by_chat.get(chat_id, []))

    def last_to(self, chat_id: int) -> SentMessage | None:
        messages = self._by_chat.get(chat_id)
        return messages[-1] if messages else None

    def message(self, chat_id: int, message_id: int) -> SentMessage | None:
        return self._sent_index.get((chat_id, message_id))

    @property
    def deliveries(self) -> Counter[int]:
        return self.stats.delivered

    def _after(self, after: int | SentMessage | None) -> int:
        if after is None:
            return self._seq
        return after.seq if isinstance(after, SentMessage) else after

    def messages_after(self, chat_id: int | None, after: int | SentMessage | None) -> list[SentMessage]:
        seq = self._after(after) if after is not None else 0
        source = self.sent if chat_id is None else self._by_chat.get(chat_id, [])
        return source[bisect.bisect_right(source, seq, key=lambda m: m.seq) :]

    async def wait_for(
        self,
        chat_id: int,
        predicate: Callable[[SentMessage], bool] | str | None = None,
        *,
        after: int | SentMessage | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 (the documented test API takes a timeout)
    ) -> SentMessage:
        """The first message to `chat_id` sent after `after` (a cursor or an earlier SentMessage;
        default: now) that satisfies `predicate` (a callable, or a substring of the text/caption)."""
        seq = self._after(after)
        accept = _as_predicate(predicate)

        def find() -> SentMessage | None:
            return next((m for m in self.messages_after(chat_id, seq) if accept(m)), None)

        def why() -> str:
            recent = [f"#{m.message_id}: {m.body[:60]!r}" for m in self.messages_to(chat_id)[-5:]]
            return f"no matching message to chat {chat_id} after cursor {seq} in {timeout}s; recent: {recent}"

        return await _wait_until(self._activity, find, timeout, why)

    async def wait_for_edit(
        self,
        chat_id: int,
        message_id: int,
        predicate: Callable[[SentMessage], bool] | str | None = None,
        *,
        after: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 (the documented test API takes a timeout)
    ) -> SentMessage:
        """The message once it has been edited after cursor `after` (default: now) and matches."""
        seq = self._after(after)
        accept = _as_predicate(predicate)

        def find() -> SentMessage | None:
            sent = self._sent_index.get((chat_id, message_id))
            if sent and any(v.seq > seq for v in sent.history[1:]) and accept(sent):
                return sent
            return None

        def why() -> str:
            return f"message {message_id} in chat {chat_id} not edited after cursor {seq} in {timeout}s"

        return await _wait_until(self._activity, find, timeout, why)

    async def wait_for_answer(
        self,
        callback_query_id: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 (test API takes a timeout)
    ) -> CallbackAnswer:
        """The bot's answerCallbackQuery for a press."""

        def find() -> CallbackAnswer | None:
            return next((a for a in self.callback_answers if a.callback_query_id == callback_query_id), None)

        return await _wait_until(
            self._activity,
            find,
            timeout,
            lambda: f"callback query {callback_query_id} not answered in {timeout}s",
        )

    @property
    def polls(self) -> int:
        """getUpdates requests received so far; pass it as `since` to wait_for_poll for a newer one."""
        return self._poll_generation

    async def wait_for_poll(
        self,
        *,
        since: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 (test API takes a timeout)
    ) -> None:
        """Until some getUpdates request is parked waiting (the bot is long-polling right now).

        With `since` (an earlier `polls`), only a request made after that counts: a killed bot
        process can leave its last request parked, so a restarted one must be told apart from it.
        """

        def find() -> bool | None:
            if since is not None:
                return True if self._parked_generations and max(self._parked_generations) > since else None
            return True if self.parked_polls else None

        await _wait_until(self._updates_signal, find, timeout, lambda: "no getUpdates request is waiting")

    async def wait_for_updates_consumed(
        self,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 (test API takes a timeout)
    ) -> None:
        """Until the bot has confirmed (via getUpdates offset) every injected update."""

        def find() -> bool | None:
            return True if not self._updates else None

        await _wait_until(
            self._updates_signal, find, timeout, lambda: f"{len(self._updates)} updates unconsumed"
        )

    def activity(self) -> Awaitable[bool]:
        """Resolves at the next bot action (send/edit/delete/answer); for watchers like the console."""
        return self._activity.wait()

    def events_after(self, after: int) -> list[Event]:
        """Every bot action since cursor `after`, in order."""
        return self.events[max(after, 0) :]

    def _bump(
        self, kind: str, message: SentMessage | None = None, answer: CallbackAnswer | None = None
    ) -> int:
        """Advance the cursor for one bot action and wake everything waiting on bot activity."""
        self._seq += 1
        chat_id = message.chat_id if message else None
        self.events.append(Event(self._seq, kind, chat_id, message, answer))
        self._activity.fire()
        return self._seq

    # ----------------------------------------------------------------- HTTP plumbing

    async def _handle_api(self, request: web.Request) -> web.Response:
        if self.token is not None and request.match_info["token"] != self.token:
            return _json(ApiError(401, "Unauthorized").payload(), 401)
        method = request.match_info["method"].lower()
        handler = _API.get(method)
        if handler is None:
            return _json(ApiError(404, "Not Found").payload(), 404)
        self.stats.calls[method] += 1
        try:
            result = await handler(self, await read_params(request))
        except ApiError as error:
            return _json(error.payload(), error.code)
        except Exception as error:  # an emulator bug: tell the bot (PTB raises NetworkError) and the log
            log.exception("emulator failed in %s", method)
            return _json(ApiError(500, f"Internal Server Error: {error!r}").payload(), 500)
        return _json({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if self.token is not None and request.match_info["token"] != self.token:
            return _json(ApiError(401, "Unauthorized").payload(), 401)
        path = request.match_info["path"]
        stored = self._files_by_path.get(path)
        if stored is None:
            return _json(ApiError(404, "Not Found").payload(), 404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    def _control_routes(self) -> list[web.RouteDef]:
        return _ControlApi(self).routes()

    # ----------------------------------------------------------------- shared pieces of methods

    def _chat(self, params: Params, name: str = "chat_id") -> JSON:
        value = params.raw(name)
        if value in (None, ""):
            raise bad_request(f"{name} is empty")
        if isinstance(value, str) and value.startswith("@"):
            found = next((c for c in self.chats.values() if c.get("username") == value[1:]), None)
            if found is None:
                raise bad_request("chat not found")
            return found
        try:
            chat = self.chats.get(int(value))
        except (TypeError, ValueError):
            chat = None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _check_not_blocked(self, chat: JSON) -> None:
        if chat["type"] == "private" and chat["id"] in self.blocked:
            self.stats.forbidden[chat["id"]] += 1
            raise ApiError(403, _BOT_FORBIDDEN)

    def _admit(self, chat: JSON) -> None:
        """Flood control for message-sending methods only (edits and answers are not counted)."""
        retry_after = self._limiter.acquire(chat["id"], is_group=chat["type"] in ("group", "supergroup"))
        if retry_after is not None:
            self.stats.rate_limited[chat["id"]] += 1
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)

    def _formatted(self, params: Params, name: str, entities_name: str) -> tuple[str, list[JSON]]:
        text = params.text(name) or ""
        return parse_text(text, params.text("parse_mode"), params.json(entities_name))

    def _caption(self, params: Params) -> JSON:
        caption, entities = self._formatted(params, "caption", "caption_entities")
        if utf16_len(caption) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        content: JSON = {"caption": caption} if caption else {}
        if caption and entities:
            content["caption_entities"] = entities
        return content

    def _markup(self, params: Params) -> JSON | None:
        markup = params.json("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                _check_inline_button(button)
        return markup

    def _reply_target(self, params: Params, chat: JSON) -> JSON | None:
        reply = params.json("reply_parameters") or {}
        message_id = reply.get("message_id") or params.integer("reply_to_message_id")
        if not message_id:
            return None
        try:
            target = self._messages.get((int(reply.get("chat_id") or chat["id"]), int(message_id)))
        except (TypeError, ValueError):
            target = None
        if target is None:
            if reply.get("allow_sending_without_reply") or params.flag("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return self._without_reply(target)

    def _send(self, method: str, params: Params, chat: JSON, content: JSON, markup: JSON | None) -> JSON:
        """Checks shared by every sending method, then store, record and count the message."""
        self._check_not_blocked(chat)
        target = self._reply_target(params, chat)
        self._admit(chat)
        if target is not None:
            content = {**content, "reply_to_message": target}
        if markup and "inline_keyboard" in markup:
            content = {**content, "reply_markup": markup}
        message = self._new_message(chat, self.bot_user, content)
        self._record(method, message, markup, params.text("parse_mode"))
        self.stats.delivered[chat["id"]] += 1
        return message

    def _record(self, method: str, message: JSON, markup: JSON | None, parse_mode: str | None) -> SentMessage:
        photo = message.get("photo")
        sent = SentMessage(
            seq=self._seq + 1,
            message_id=message["message_id"],
            chat_id=message["chat"]["id"],
            method=method,
            date=message["date"],
            text=message.get("text"),
            caption=message.get("caption"),
            entities=list(message.get("entities") or message.get("caption_entities") or []),
            reply_markup=markup,
            reply_to_message_id=(message.get("reply_to_message") or {}).get("message_id"),
            photo=photo[-1]["file_id"] if photo else None,
            document=(message.get("document") or {}).get("file_id"),
            parse_mode=parse_mode,
            raw=message,
            recorded=time.monotonic(),
        )
        sent.history.append(Version(sent.seq, method, sent.text, sent.caption, markup))
        self.sent.append(sent)
        self._by_chat[sent.chat_id].append(sent)
        self._sent_index[(sent.chat_id, sent.message_id)] = sent
        self._bump("send", sent)
        return sent

    def _editable(self, params: Params) -> tuple[JSON, SentMessage]:
        if "inline_message_id" in params:
            raise bad_request("message to edit not found")  # inline mode is not emulated
        chat = self._chat(params)
        message_id = params.integer("message_id")
        message = self._messages.get((chat["id"], message_id or 0))
        if message is None:
            raise bad_request("message to edit not found")
        sent = self._sent_index.get((chat["id"], message["message_id"]))
        if sent is None:
            raise bad_request("message can't be edited")
        self._check_not_blocked(chat)
        return message, sent

    def _apply_edit(
        self, method: str, message: JSON, sent: SentMessage, changes: JSON, markup: JSON | None
    ) -> JSON:
        inline = markup if markup and "inline_keyboard" in markup else None
        same_content = all((message.get(k) or None) == (v or None) for k, v in changes.items())
        unchanged = same_content and message.get("reply_markup") == inline
        if unchanged:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the "
                "same as a content and reply markup of the current message"
            )
        for key, value in changes.items():
            if value:
                message[key] = value
            else:
                message.pop(key, None)
        if inline is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = inline
        message["edit_date"] = int(time.time())
        sent.text, sent.caption, sent.reply_markup = message.get("text"), message.get("caption"), inline
        sent.entities = list(message.get("entities") or message.get("caption_entities") or [])
        sent.history.append(Version(self._seq + 1, method, sent.text, sent.caption, inline))
        self._bump("edit", sent)
        return message

    def _store_file(
        self, kind: str, data: bytes, *, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        number = next(self._ids)
        suffix = {"photo": ".jpg", "voice": ".oga", "sticker": ".webp"}.get(kind, "")
        path = (
            f"{kind}s/{file_name}" if file_name and kind == "document" else f"{kind}s/file_{number}{suffix}"
        )
        if path in self._files_by_path:
            path = f"{kind}s/file_{number}_{file_name}"
        stored = StoredFile(
            file_id=f"AgAC-emu-{kind}-{number:06d}",
            file_unique_id=f"AQAD{number:06d}",
            kind=kind,
            data=data,
            file_path=path,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[path] = stored
        return stored

    def _input_file(self, params: Params, name: str, kind: str) -> StoredFile:
        """A file parameter: a multipart upload, attach://name, an existing file_id or an HTTP URL."""
        value = params.text(name)
        upload = params.uploads.get(name)
        if value and value.startswith("attach://"):
            upload = params.uploads.get(value.removeprefix("attach://"))
        if upload is not None:
            mime = upload.content_type or ("image/jpeg" if kind == "photo" else "application/octet-stream")
            return self._store_file(kind, upload.data, file_name=upload.filename, mime_type=mime)
        if not value:
            raise bad_request(f"there is no {name} in the request")
        if value.startswith(("http://", "https://")):
            return self._store_file(kind, b"", file_name=value.rsplit("/", 1)[-1] or None)
        stored = self.files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
        return stored

    @staticmethod
    def _photo_sizes(stored: StoredFile) -> list[JSON]:
        width, height = _image_size(stored.data)
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        return [{**size, "width": width, "height": height}]

    @staticmethod
    def _document(stored: StoredFile) -> JSON:
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return document

    def _confirm(self, offset: int) -> None:
        """getUpdates offset semantics: a positive offset forgets earlier updates, a negative one keeps
        only the last |offset| updates."""
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        elif offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
        self._updates_signal.fire()

    # ----------------------------------------------------------------- Bot API methods

    @api("getMe")
    async def _get_me(self, params: Params) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @api("getUpdates")
    async def _get_updates(self, params: Params) -> list[JSON]:
        """Long polling: hold until an update exists or `timeout` passes. A newer poll ends an older one
        with 409, as Telegram does when two bot instances poll."""
        limit = min(max(params.integer("limit", 100) or 100, 1), 100)
        allowed = params.json("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES
        self._confirm(params.integer("offset", 0) or 0)
        self._poll_generation += 1
        self._updates_signal.fire()
        if not self._updates:
            await self._hold_poll(self._poll_generation, params.number("timeout", 0.0))
        return list(itertools.islice(self._updates, limit))

    async def _hold_poll(self, generation: int, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        self.parked_polls += 1
        self._parked_generations.add(generation)
        self._updates_signal.fire()
        try:
            while not self._updates and not self._closing and (remaining := deadline - loop.time()) > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await self._updates_signal.wait()
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only one bot "
                        "instance is running",
                    )
        finally:
            self.parked_polls -= 1
            self._parked_generations.discard(generation)

    @api("deleteWebhook")
    async def _delete_webhook(self, params: Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
            self._updates_signal.fire()
        return True

    @api("getWebhookInfo")
    async def _get_webhook_info(self, params: Params) -> JSON:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    @api("setMyDescription", "setMyShortDescription", "setMyName", "setChatMenuButton", "close", "logOut")
    async def _accept(self, params: Params) -> bool:
        return True

    @staticmethod
    def _commands_key(params: Params) -> str:
        scope = params.json("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True) + "|" + (params.text("language_code") or "")

    @api("setMyCommands")
    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 BotCommand objects")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", "")).lstrip("/")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("command description is empty")
        self.commands[self._commands_key(params)] = commands
        return True

    @api("getMyCommands")
    async def _get_my_commands(self, params: Params) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])

    @api("deleteMyCommands")
    async def _delete_my_commands(self, params: Params) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    @api("sendMessage")
    async def _send_message(self, params: Params) -> JSON:
        chat = self._chat(params)
        text, entities = self._formatted(params, "text", "entities")
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        content: JSON = {"text": text, **({"entities": entities} if entities else {})}
        return self._send("sendMessage", params, chat, content, self._markup(params))

    @api("sendPhoto")
    async def _send_photo(self, params: Params) -> JSON:
        chat = self._chat(params)
        caption = self._caption(params)
        markup = self._markup(params)
        stored = self._input_file(params, "photo", "photo")
        return self._send("sendPhoto", params, chat, {"photo": self._photo_sizes(stored), **caption}, markup)

    @api("sendDocument")
    async def _send_document(self, params: Params) -> JSON:
        chat = self._chat(params)
        caption = self._caption(params)
        markup = self._markup(params)
        stored = self._input_file(params, "document", "document")
        return self._send(
            "sendDocument", params, chat, {"document": self._document(stored), **caption}, markup
        )

    def _source_message(self, params: Params, verb: str) -> JSON:
        source_chat = self._chat(params, "from_chat_id")
        source = self._messages.get((source_chat["id"], params.integer("message_id") or 0))
        if source is None:
            raise bad_request(f"message to {verb} not found")
        return source

    _CONTENT_KEYS = (
        "text", "entities", "photo", "caption", "caption_entities", "document",
        "sticker", "voice", "location", "contact",
    )  # fmt: skip

    @api("forwardMessage")
    async def _forward_message(self, params: Params) -> JSON:
        chat = self._chat(params)
        source = self._source_message(params, "forward")
        content = {k: source[k] for k in self._CONTENT_KEYS if k in source}
        content["forward_origin"] = {"type": "user", "date": source["date"], "sender_user": source["from"]}
        return self._send("forwardMessage", params, chat, content, None)

    @api("copyMessage")
    async def _copy_message(self, params: Params) -> JSON:
        chat = self._chat(params)
        source = self._source_message(params, "copy")
        content = {k: source[k] for k in self._CONTENT_KEYS if k in source}
        if "caption" in params and "text" not in content:
            content = {k: v for k, v in content.items() if k not in ("caption", "caption_entities")}
            content.update(self._caption(params))
        message = self._send("copyMessage", params, chat, content, self._markup(params))
        return {"message_id": message["message_id"]}

    @api("editMessageText")
    async def _edit_message_text(self, params: Params) -> JSON:
        message, sent = self._editable(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._formatted(params, "text", "entities")
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        changes = {"text": text, "entities": entities}
        return self._apply_edit("editMessageText", message, sent, changes, self._markup(params))

    @api("editMessageCaption")
    async def _edit_message_caption(self, params: Params) -> JSON:
        message, sent = self._editable(params)
        if "text" in message:
            raise bad_request("there is no caption in the message to edit")
        caption = self._caption(params)
        changes = {"caption": caption.get("caption"), "caption_entities": caption.get("caption_entities")}
        return self._apply_edit("editMessageCaption", message, sent, changes, self._markup(params))

    @api("editMessageReplyMarkup")
    async def _edit_message_reply_markup(self, params: Params) -> JSON:
        message, sent = self._editable(params)
        return self._apply_edit("editMessageReplyMarkup", message, sent, {}, self._markup(params))

    @api("deleteMessage")
    async def _delete_message(self, params: Params) -> bool:
        chat = self._chat(params)
        key = (chat["id"], params.integer("message_id") or 0)
        if self._messages.pop(key, None) is None:
            raise bad_request("message to delete not found")
        if (sent := self._sent_index.get(key)) is not None:
            sent.deleted = True
            self._bump("delete", sent)
        return True

    @api("answerCallbackQuery")
    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        if self._queries.pop(query_id, None) is None:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.text("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        answer = CallbackAnswer(self._seq + 1, query_id, text, params.flag("show_alert"), params.text("url"))
        self.callback_answers.append(answer)
        self._bump("answer", answer=answer)
        return True

    @api("getFile")
    async def _get_file(self, params: Params) -> JSON:
        stored = self.files.get(params.text("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.as_file()

    @api("sendChatAction")
    async def _send_chat_action(self, params: Params) -> bool:
        chat = self._chat(params)
        if not params.text("action"):
            raise bad_request("action is empty")
        self._check_not_blocked(chat)
        return True

    @api("getChat")
    async def _get_chat(self, params: Params) -> JSON:
        chat = self._chat(params)
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
        raise bad_request("BUTTON_DATA_INVALID")
    actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
    if not actions:
        raise bad_request("text buttons are unallowed in the inline keyboard")


def _as_predicate(predicate: Callable[[SentMessage], bool] | str | None) -> Callable[[SentMessage], bool]:
    if predicate is None:
        return lambda _: True
    if isinstance(predicate, str):
        return lambda m: predicate in m.body
    return predicate


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.json_response(payload, status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False))


# --------------------------------------------------------------------------- control API


class _ControlApi:
    """HTTP twin of the in-process API under /_emu/, for benches and people in another process."""

    ACTIONS = frozenset(
        {
            "user", "group", "block", "unblock", "send_text", "reply", "send_photo", "send_document",
            "send_sticker", "send_voice", "send_location", "send_contact", "edit_text", "press",
        }
    )  # fmt: skip

    def __init__(self, emu: BotApiEmulator) -> None:
        self.emu = emu

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_emu/cursor", self.cursor),
            web.get("/_emu/sent", self.sent),
            web.get("/_emu/wait", self.wait),
            web.get("/_emu/answers", self.answers),
            web.get("/_emu/stats", self.stats),
            web.post("/_emu/limits", self.limits),
            web.post("/_emu/{action}", self.act),
        ]

    @staticmethod
    def _int(request: web.Request, name: str) -> int | None:
        value = request.query.get(name)
        return int(value) if value not in (None, "") else None

    async def cursor(self, request: web.Request) -> web.Response:
        return _json({"ok": True, "result": self.emu.cursor()})

    async def sent(self, request: web.Request) -> web.Response:
        messages = self.emu.messages_after(self._int(request, "chat_id"), self._int(request, "after") or 0)
        return _json({"ok": True, "result": [m.to_dict() for m in messages], "cursor": self.emu.cursor()})

    async def wait(self, request: web.Request) -> web.Response:
        """Long-poll for the next message to chat_id (or, with message_id, for an edit of it)."""
        chat_id = self._int(request, "chat_id")
        if chat_id is None:
            return _json({"ok": False, "description": "chat_id is required"}, 400)
        after, message_id = self._int(request, "after"), self._int(request, "message_id")
        timeout = float(request.query.get("timeout", "5"))
        contains = request.query.get("contains")
        try:
            if message_id is None:
                found = await self.emu.wait_for(chat_id, contains, after=after, timeout=timeout)
            else:
                found = await self.emu.wait_for_edit(
                    chat_id, message_id, contains, after=after, timeout=timeout
                )
        except TimeoutError as error:
            return _json({"ok": False, "description": str(error)}, 408)
        return _json({"ok": True, "result": found.to_dict(), "cursor": self.emu.cursor()})

    async def answers(self, request: web.Request) -> web.Response:
        after = self._int(request, "after") or 0
        result = [asdict(a) for a in self.emu.callback_answers if a.seq > after]
        return _json({"ok": True, "result": result})

    async def stats(self, request: web.Request) -> web.Response:
        return _json({"ok": True, "result": self.emu.stats.to_dict()})

    async def limits(self, request: web.Request) -> web.Response:
        """Body: {"scale": 10}, {"enabled": false} or Limits fields."""
        body = await request.json()
        if "scale" in body:
            self.emu.set_limits(float(body["scale"]))
        else:
            self.emu.set_limits(Limits(**body))
        return _json({"ok": True, "result": asdict(self.emu.limits)})

    async def act(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in self.ACTIONS:
            return _json({"ok": False, "description": f"unknown action {action}"}, 404)
        body = await request.json() if request.can_read_body else {}
        try:
            result = getattr(self.emu, action)(**body)
            if asyncio.iscoroutine(result):
                result = await result
        except (TypeError, ValueError) as error:
            return _json({"ok": False, "description": str(error)}, 400)
        return _json({"ok": True, "result": True if result is None else result})
