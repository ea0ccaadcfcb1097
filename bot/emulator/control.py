"""The emulator's HTTP control API under /_emu/: the in-process test API for benchmarks and for people
driving the emulator from another process (see client.EmulatorClient)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from bot.emulator.limits import Limits
from bot.emulator.protocol import json_response

if TYPE_CHECKING:
    from bot.emulator.server import BotApiEmulator


class ControlApi:
    """HTTP twin of the in-process API under /_emu/, for benches and people in another process."""

    ACTIONS = frozenset(
        {
            "user", "group", "block", "unblock", "send_text", "reply", "send_photo", "send_document",
            "send_sticker", "send_voice", "send_location", "send_contact", "edit_text", "press",
            "send_album", "inject_raw_update", "fail", "drop", "clear_faults",
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
        return json_response({"ok": True, "result": self.emu.cursor()})

    async def sent(self, request: web.Request) -> web.Response:
        messages = self.emu.messages_after(self._int(request, "chat_id"), self._int(request, "after") or 0)
        return json_response({"ok": True, "result": [m.to_dict() for m in messages], "cursor": self.emu.cursor()})

    async def wait(self, request: web.Request) -> web.Response:
        """Long-poll for the next message to chat_id (or, with message_id, for an edit of it)."""
        chat_id = self._int(request, "chat_id")
        if chat_id is None:
            return json_response({"ok": False, "description": "chat_id is required"}, 400)
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
            return json_response({"ok": False, "description": str(error)}, 408)
        return json_response({"ok": True, "result": found.to_dict(), "cursor": self.emu.cursor()})

    async def answers(self, request: web.Request) -> web.Response:
        after = self._int(request, "after") or 0
        result = [asdict(a) for a in self.emu.callback_answers if a.seq > after]
        return json_response({"ok": True, "result": result})

    async def stats(self, request: web.Request) -> web.Response:
        return json_response({"ok": True, "result": self.emu.stats.to_dict()})

    async def limits(self, request: web.Request) -> web.Response:
        """Body: {"scale": 10}, {"enabled": false} or Limits fields."""
        body = await request.json()
        if "scale" in body:
            self.emu.set_limits(float(body["scale"]))
        else:
            self.emu.set_limits(Limits(**body))
        return json_response({"ok": True, "result": asdict(self.emu.limits)})

    async def act(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in self.ACTIONS:
            return json_response({"ok": False, "description": f"unknown action {action}"}, 404)
        body = await request.json() if request.can_read_body else {}
        try:
            result = getattr(self.emu, action)(**body)
            if asyncio.iscoroutine(result):
                result = await result
        except (TypeError, ValueError) as error:
            return json_response({"ok": False, "description": str(error)}, 400)
        if is_dataclass(result) and not isinstance(result, type):
            result = asdict(result)
        return json_response({"ok": True, "result": True if result is None else result})
