"""The bot's messages: sendMessage, forwardMessage, copyMessage, the editMessage* family and deleteMessage,
plus what every sending method shares (blocked users, reply targets, flood control, captions).

Message ids count per chat, as on Telegram; every message a user or the bot sends is kept by (chat, id)
so replies, forwards, copies and edits can find it.
"""

from __future__ import annotations

import time
from collections import Counter

from bot.emulator.formatting import MAX_CAPTION, MAX_TEXT, parse_text, utf16_len
from bot.emulator.protocol import JSON, ApiError, Params, api, bad_request
from bot.emulator.records import SentMessage, Version

SENDING_METHODS = frozenset(
    {"sendmessage", "sendphoto", "senddocument", "sendvoice", "sendmediagroup", "sendpoll", "copymessage",
     "forwardmessage"}
)


class MessagesMixin:
    """The message store and the Bot API methods that create, change or remove messages."""

    def _init_messages(self, first_message_id: int = 1) -> None:
        self._messages: dict[tuple[int, int], JSON] = {}
        self._last_message_id: Counter[int] = Counter()
        self._message_floor = first_message_id - 1  # every chat's ids start after it

    def _new_message(self, chat: JSON, sender: JSON, content: JSON) -> JSON:
        message_id = max(self._last_message_id[chat["id"]], self._message_floor) + 1
        self._last_message_id[chat["id"]] = message_id
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
        return self._caption_content(
            params.text("caption") or "", params.text("parse_mode"), params.json("caption_entities")
        )

    @staticmethod
    def _caption_content(text: str, parse_mode: str | None, entities: list[JSON] | None) -> JSON:
        """The caption keys of a message's content (none for an empty caption), checked as Telegram does."""
        caption, entities = parse_text(text, parse_mode, entities)
        if utf16_len(caption) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        content: JSON = {"caption": caption} if caption else {}
        if caption and entities:
            content["caption_entities"] = entities
        return content

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
        target = self._may_send(params, chat)
        return self._deliver(method, chat, content, markup, target, params.text("parse_mode"))

    def _may_send(self, params: Params, chat: JSON) -> JSON | None:
        """Blocked user, reply target, flood control: the checks before a send; returns the reply target."""
        self._check_not_blocked(chat)
        target = self._reply_target(params, chat)
        self._admit(chat)
        return target

    def _deliver(
        self, method: str, chat: JSON, content: JSON, markup: JSON | None, target: JSON | None, parse_mode: str | None
    ) -> JSON:
        """Store, record and count one bot message that passed `_may_send`."""
        if target is not None:
            content = {**content, "reply_to_message": target}
        if markup and "inline_keyboard" in markup:
            content = {**content, "reply_markup": markup}
        message = self._new_message(chat, self.bot_user, content)
        self._record(method, message, markup, parse_mode)
        self.stats.delivered[chat["id"]] += 1
        return message

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
