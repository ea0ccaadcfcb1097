"""Observing the bot: the cursor, the record of every message it sent (kept current through edits) and the
waits tests use instead of sleeping (`wait_for`, `wait_for_edit`, `wait_for_answer`)."""

from __future__ import annotations

import bisect
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable

from bot.emulator.protocol import JSON
from bot.emulator.records import CallbackAnswer, Event, SentMessage, Version
from bot.emulator.waiting import Signal, wait_until


def as_predicate(predicate: Callable[[SentMessage], bool] | str | None) -> Callable[[SentMessage], bool]:
    """A test's message filter: a callable, a substring of the text/caption, or None for any message."""
    if predicate is None:
        return lambda _: True
    if isinstance(predicate, str):
        return lambda m: predicate in m.body
    return predicate


class ObservingMixin:
    """Every bot action advances one cursor (`seq`), so a wait started from a cursor taken before an
    injection can never miss a fast reply."""

    def _init_observing(self) -> None:
        self.sent: list[SentMessage] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.events: list[Event] = []  # events[i].seq == i + 1
        self._by_chat: defaultdict[int, list[SentMessage]] = defaultdict(list)
        self._sent_index: dict[tuple[int, int], SentMessage] = {}
        self._seq = 0
        self._activity = Signal()  # every bot action
        self._chat_activity: defaultdict[int, Signal] = defaultdict(Signal)  # actions in one chat

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
        accept = as_predicate(predicate)

        def find() -> SentMessage | None:
            return next((m for m in self.messages_after(chat_id, seq) if accept(m)), None)

        def why() -> str:
            recent = [f"#{m.message_id}: {m.body[:60]!r}" for m in self.messages_to(chat_id)[-5:]]
            return f"no matching message to chat {chat_id} after cursor {seq} in {timeout}s; recent: {recent}"

        return await wait_until(self._chat_activity[chat_id], find, timeout, why)

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
        accept = as_predicate(predicate)

        def find() -> SentMessage | None:
            sent = self._sent_index.get((chat_id, message_id))
            if sent and any(v.seq > seq for v in sent.history[1:]) and accept(sent):
                return sent
            return None

        def why() -> str:
            return f"message {message_id} in chat {chat_id} not edited after cursor {seq} in {timeout}s"

        return await wait_until(self._chat_activity[chat_id], find, timeout, why)

    async def wait_for_answer(
        self,
        callback_query_id: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 (test API takes a timeout)
    ) -> CallbackAnswer:
        """The bot's answerCallbackQuery for a press."""

        def find() -> CallbackAnswer | None:
            return next((a for a in self.callback_answers if a.callback_query_id == callback_query_id), None)

        return await wait_until(
            self._activity,
            find,
            timeout,
            lambda: f"callback query {callback_query_id} not answered in {timeout}s",
        )

    def activity(self, chat_id: int | None = None) -> Awaitable[bool]:
        """Resolves at the next bot action (send/edit/delete/answer), or the next in ``chat_id``; for watchers like
        the console. A wait on one chat is woken by that chat only: fifty residents waiting are not all woken by
        every message any of them gets."""
        return (self._activity if chat_id is None else self._chat_activity[chat_id]).wait()

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
        if chat_id is not None and (waiting := self._chat_activity.get(chat_id)) is not None:
            waiting.fire()
        return self._seq

    def _wake_all(self) -> None:
        """Every waiter, whatever it waits for (the emulator is stopping)."""
        self._activity.fire()
        for signal in self._chat_activity.values():
            signal.fire()

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
            voice=(message.get("voice") or {}).get("file_id"),
            media_group_id=message.get("media_group_id"),
            poll=message.get("poll"),
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
