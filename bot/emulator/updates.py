"""Updates: the queue of what users did, delivered to the bot by getUpdates long polling with Telegram's
offset semantics, allowed_updates filtering and 409 Conflict when a second poller takes over (or a webhook
is set: then webhook.py delivers the same queue)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
from collections import deque

from bot.emulator.protocol import JSON, ApiError, Params, api
from bot.emulator.waiting import Signal, wait_until

CANT_POLL_WITH_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
# What Telegram delivers when getUpdates never set allowed_updates (of the kinds the emulator makes; Telegram
# leaves out only chat_member and the reaction updates by default, so polls and their answers are in).
DEFAULT_UPDATE_TYPES = frozenset(
    {"message", "edited_message", "callback_query", "my_chat_member", "inline_query", "channel_post", "poll",
     "poll_answer"}
)


class UpdatesMixin:
    """Unconfirmed updates in order; a getUpdates offset confirms (forgets) the ones before it."""

    def _init_updates(self, first_update_id: int = 1) -> None:
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._updates: deque[JSON] = deque()
        self._next_update_id = first_update_id
        self._poll_generation = 0
        self.parked_polls = 0  # getUpdates requests currently held open
        self._parked_generations: set[int] = set()
        self._updates_signal = Signal()

    def _enqueue(self, kind: str, payload: JSON) -> None:
        """Snapshot the payload as an update; types excluded by allowed_updates are dropped like Telegram."""
        if kind not in self.allowed_updates:
            return
        self._updates.append({"update_id": self._next_update_id, kind: copy.deepcopy(payload)})
        self._next_update_id += 1
        self._updates_signal.fire()

    def inject_raw_update(self, update: JSON) -> int:
        """Queue `update` exactly as given, malformed fields and all (no allowed_updates filter), so a test
        can check the bot skips what it cannot read and keeps polling. Without an update_id it gets the
        next one; with one, later updates are numbered after it. Returns the update_id."""
        if not isinstance(update, dict):
            raise ValueError(f"an update is a JSON object, not {type(update).__name__}")
        raw = copy.deepcopy(update)
        update_id = raw.setdefault("update_id", self._next_update_id)
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            raise ValueError(f"update_id must be an integer (getUpdates offsets count on it), not {update_id!r}")
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._updates.append(raw)
        self._updates_signal.fire()
        return update_id

    def number_after(self, update_id: int) -> None:
        """Later updates are numbered after ``update_id``: for a test that also posted updates of its own to the
        bot's webhook, so the ones queued here are never taken for repeats of those."""
        self._next_update_id = max(self._next_update_id, update_id + 1)

    def _set_allowed_updates(self, params: Params) -> None:
        """getUpdates and setWebhook may change which update types are delivered (an empty list: defaults)."""
        allowed = params.json("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by the bot."""
        return len(self._updates)

    @property
    def updates_injected(self) -> int:
        """Updates ever queued for the bot (those filtered by privacy mode or allowed_updates excluded)."""
        return self._next_update_id - 1

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

        await wait_until(self._updates_signal, find, timeout, lambda: "no getUpdates request is waiting")

    async def wait_for_updates_consumed(
        self,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 (test API takes a timeout)
    ) -> None:
        """Until the bot has confirmed (via getUpdates offset) every injected update."""

        def find() -> bool | None:
            return True if not self._updates else None

        await wait_until(
            self._updates_signal, find, timeout, lambda: f"{len(self._updates)} updates unconsumed"
        )

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

    @api("getUpdates")
    async def _get_updates(self, params: Params) -> list[JSON]:
        """Long polling: hold until an update exists or `timeout` passes. A newer poll ends an older one
        with 409, as Telegram does when two bot instances poll."""
        if self.webhook_url:
            raise ApiError(409, CANT_POLL_WITH_WEBHOOK)
        limit = min(max(params.integer("limit", 100) or 100, 1), 100)
        self._set_allowed_updates(params)
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
            while (
                not self._updates
                and not self._closing
                and not self.webhook_url
                and (remaining := deadline - loop.time()) > 0
            ):
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await self._updates_signal.wait()
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only one bot "
                        "instance is running",
                    )
            if self.webhook_url:
                raise ApiError(409, "Conflict: terminated by setWebhook request")
        finally:
            self.parked_polls -= 1
            self._parked_generations.discard(generation)
