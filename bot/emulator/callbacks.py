"""Inline keyboards and callback queries: validating a bot's inline_keyboard as Telegram does, a user
pressing a button (`press`) and the bot's answerCallbackQuery (the toast or alert the user would see)."""

from __future__ import annotations

from typing import Any

from bot.emulator.protocol import JSON, Params, api, bad_request
from bot.emulator.records import CallbackAnswer

MAX_CALLBACK_DATA = 64


def check_inline_button(button: Any) -> None:
    """Telegram's checks of one inline keyboard button (text, callback_data size, some action)."""
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
        raise bad_request("BUTTON_DATA_INVALID")
    actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
    if not actions:
        raise bad_request("text buttons are unallowed in the inline keyboard")


class CallbacksMixin:
    """Pending callback queries by id: each may be answered once, as on Telegram."""

    def _init_callbacks(self) -> None:
        self._queries: dict[str, JSON] = {}

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

    def _markup(self, params: Params) -> JSON | None:
        markup = params.json("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                check_inline_button(button)
        return markup

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
