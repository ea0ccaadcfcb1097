"""Drive an emulator running in another process through its /_emu/ control API.

A benchmark or a second terminal uses this the way tests use BotApiEmulator in-process:
inject user activity, then wait for or list what the bot sent.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import aiohttp

from bot.emulator.limits import Limits
from bot.emulator.records import CallbackAnswer, SentMessage

JSON = dict[str, Any]


class EmulatorError(RuntimeError):
    """The control API refused a request (bad arguments, unknown chat, ...)."""


class EmulatorClient:
    """Async client for the control API; `url` is the emulator root, e.g. BotApiEmulator.url."""

    def __init__(self, url: str, *, session: aiohttp.ClientSession | None = None) -> None:
        self.url = url.rstrip("/")
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> EmulatorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        async with self.session.request(method, f"{self.url}/_emu/{path}", **kwargs) as response:
            body = await response.json()
        if response.status == 408:
            raise TimeoutError(body.get("description"))
        if not body.get("ok"):
            raise EmulatorError(body.get("description") or f"HTTP {response.status}")
        return body["result"]

    async def _act(self, action: str, **arguments: Any) -> Any:
        return await self._call("POST", action, json={k: v for k, v in arguments.items() if v is not None})

    @staticmethod
    def _query(**values: Any) -> dict[str, str]:
        return {k: str(v) for k, v in values.items() if v is not None}

    # ----------------------------------------------------------------- users, chats, injection

    async def user(self, user_id: int, first_name: str | None = None, username: str | None = None) -> JSON:
        return await self._act("user", user_id=user_id, first_name=first_name, username=username)

    async def group(self, chat_id: int, title: str | None = None, *, bot_is_admin: bool = False) -> JSON:
        return await self._act("group", chat_id=chat_id, title=title, bot_is_admin=bot_is_admin or None)

    async def block(self, user_id: int) -> None:
        await self._act("block", user_id=user_id)

    async def unblock(self, user_id: int) -> None:
        await self._act("unblock", user_id=user_id)

    async def send_text(self, user_id: int, text: str, chat_id: int | None = None) -> JSON:
        return await self._act("send_text", user_id=user_id, text=text, chat_id=chat_id)

    async def reply(self, user_id: int, to_message_id: int, text: str, chat_id: int | None = None) -> JSON:
        return await self._act(
            "reply", user_id=user_id, to_message_id=to_message_id, text=text, chat_id=chat_id
        )

    async def send_photo(self, user_id: int, caption: str | None = None, chat_id: int | None = None) -> JSON:
        return await self._act("send_photo", user_id=user_id, caption=caption, chat_id=chat_id)

    async def send_sticker(self, user_id: int, chat_id: int | None = None) -> JSON:
        return await self._act("send_sticker", user_id=user_id, chat_id=chat_id)

    async def send_voice(self, user_id: int, chat_id: int | None = None) -> JSON:
        return await self._act("send_voice", user_id=user_id, chat_id=chat_id)

    async def send_location(
        self, user_id: int, latitude: float, longitude: float, chat_id: int | None = None
    ) -> JSON:
        return await self._act(
            "send_location", user_id=user_id, latitude=latitude, longitude=longitude, chat_id=chat_id
        )

    async def send_contact(self, user_id: int, phone: str, chat_id: int | None = None) -> JSON:
        return await self._act("send_contact", user_id=user_id, phone=phone, chat_id=chat_id)

    async def send_document(self, user_id: int, name: str = "文件.pdf", chat_id: int | None = None) -> JSON:
        return await self._act("send_document", user_id=user_id, name=name, chat_id=chat_id)

    async def press(
        self, user_id: int, message_id: int, callback_data: str, chat_id: int | None = None, *, forge: bool = False
    ) -> str:
        return await self._act(
            "press", user_id=user_id, message_id=message_id, callback_data=callback_data, chat_id=chat_id,
            forge=forge or None,
        )

    async def send_album(
        self, user_id: int, n_photos: int = 2, caption: str | None = None, chat_id: int | None = None
    ) -> list[JSON]:
        return await self._act("send_album", user_id=user_id, n_photos=n_photos, caption=caption, chat_id=chat_id)

    async def inject_raw_update(self, update: JSON) -> int:
        return await self._act("inject_raw_update", update=update)

    # ----------------------------------------------------------------- faults

    async def fail(
        self,
        method: str,
        status: int = 500,
        *,
        times: int = 1,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> JSON:
        """See BotApiEmulator.fail; returns the pending fault as a dict."""
        return await self._act(
            "fail", method=method, status=status, times=times, description=description, retry_after=retry_after
        )

    async def drop(self, method: str, *, times: int = 1, after_recording: bool = False) -> JSON:
        """See BotApiEmulator.drop; returns the pending fault as a dict."""
        return await self._act("drop", method=method, times=times, after_recording=after_recording)

    async def clear_faults(self, method: str | None = None) -> None:
        await self._act("clear_faults", method=method)

    # ----------------------------------------------------------------- observing

    async def cursor(self) -> int:
        return await self._call("GET", "cursor")

    async def sent(self, chat_id: int | None = None, *, after: int | None = None) -> list[SentMessage]:
        result = await self._call("GET", "sent", params=self._query(chat_id=chat_id, after=after))
        return [SentMessage.from_dict(m) for m in result]

    async def wait_for(
        self,
        chat_id: int,
        contains: str | None = None,
        *,
        after: int | SentMessage | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 (mirrors BotApiEmulator.wait_for; enforced server-side)
    ) -> SentMessage:
        """Next message to `chat_id` after `after` (cursor or SentMessage; default: server's now)."""
        seq = after.seq if isinstance(after, SentMessage) else after
        params = self._query(chat_id=chat_id, after=seq, timeout=timeout, contains=contains)
        return SentMessage.from_dict(await self._call("GET", "wait", params=params))

    async def wait_for_edit(
        self,
        chat_id: int,
        message_id: int,
        *,
        after: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 (mirrors BotApiEmulator.wait_for_edit)
    ) -> SentMessage:
        params = self._query(chat_id=chat_id, message_id=message_id, after=after, timeout=timeout)
        return SentMessage.from_dict(await self._call("GET", "wait", params=params))

    async def callback_answers(self, *, after: int | None = None) -> list[CallbackAnswer]:
        result = await self._call("GET", "answers", params=self._query(after=after))
        return [CallbackAnswer(**a) for a in result]

    async def stats(self) -> JSON:
        return await self._call("GET", "stats")

    async def set_limits(self, limits: Limits | float) -> JSON:
        """A Limits, or a scale factor over Telegram's defaults."""
        body = asdict(limits) if isinstance(limits, Limits) else {"scale": limits}
        return await self._call("POST", "limits", json=body)
