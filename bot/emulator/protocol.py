"""The wire between a bot and the emulator: request parameters, Telegram-style errors, the method registry.

Every Bot API method family (updates, messages, callbacks, chats, files, ...) registers its handlers here
with `@api("methodName")`; the server looks them up by lower-cased name, as Telegram matches them.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from bot.emulator.server import BotApiEmulator

JSON = dict[str, Any]


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


@dataclass(slots=True)
class Upload:
    """A file part of a multipart request, before it becomes a StoredFile."""

    filename: str | None
    content_type: str | None
    data: bytes


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
METHODS: dict[str, ApiHandler] = {}


def api(*names: str) -> Callable[[ApiHandler], ApiHandler]:
    """Register a Bot API method (Telegram matches method names case-insensitively)."""

    def register(handler: ApiHandler) -> ApiHandler:
        for name in names:
            METHODS[name.lower()] = handler
        return handler

    return register


def json_response(payload: Any, status: int = 200) -> web.Response:
    """JSON as Telegram sends it: UTF-8, not ASCII-escaped."""
    return web.json_response(payload, status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False))
