"""Updates of different chats run concurrently; updates of one chat run in order.

PTB's default handles one update at a time, so one slow resident (or a staff group throttled to 20
posts a minute) would hold up everybody. Fully concurrent handling would let one resident's three
quick messages race each other into their draft. A lock per chat gives both: residents don't wait
for each other, and each conversation stays in the order it was typed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def wait_idle(self) -> None:
        """Until no update is being handled (tests and benchmarks use it as a barrier)."""
        await self._idle.wait()

    @staticmethod
    def _key(update: object) -> int:
        if isinstance(update, Update):
            if update.effective_chat is not None:
                return update.effective_chat.id
            if update.effective_user is not None:
                return update.effective_user.id
        return 0

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """The chat's turn first, then one of the ``max_concurrent_updates`` slots (PTB's order is the other way
        round): an update waiting behind its own chat holds no slot, so one chat's long queue (a resident's flood,
        a group throttled to 20 posts a minute) never leaves the other chats waiting for a free one."""
        await self.do_process_update(update, coroutine)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self._key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._busy += 1
        self._idle.clear()
        try:
            async with lock, self._semaphore:
                await coroutine
        finally:
            if not lock.locked() and self._locks.get(key) is lock:
                del self._locks[key]  # no one waiting: forget the chat (bounded memory)
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
