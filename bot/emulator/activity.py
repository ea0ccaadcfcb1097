"""What simulated users do: type text, reply, send media, share a location or contact, edit a message.

Each becomes a message in its chat and, if the bot may see it (group privacy mode), an update for the bot.
Pressing an inline button lives with the callbacks (`press`).
"""

from __future__ import annotations

import re
import time

from bot.emulator.files import tiny_png
from bot.emulator.formatting import utf16_len
from bot.emulator.media import MAX_ALBUM
from bot.emulator.protocol import JSON

# A leading bot command, which Telegram marks with a bot_command entity.
COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
PLACEHOLDER_OGG = b"OggS\x00" + bytes(64)


class UserActivityMixin:
    """Injection methods tests call; they return the message as the bot will receive it."""

    async def send_text(
        self, user_id: int, text: str, chat_id: int | None = None, *, reply_to: int | None = None
    ) -> JSON:
        """A user types `text`. A leading command gets its bot_command entity, as Telegram adds it."""
        content: JSON = {"text": text}
        if match := COMMAND.match(text):
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

    async def send_album(
        self, user_id: int, n_photos: int = 2, caption: str | None = None, chat_id: int | None = None
    ) -> list[JSON]:
        """A user sends `n_photos` (2-10) photos as one album: as Telegram delivers it, each photo is its own
        message and update, all sharing one media_group_id, and the caption rides on the first."""
        if not 2 <= n_photos <= MAX_ALBUM:
            raise ValueError(f"an album has 2-{MAX_ALBUM} photos, not {n_photos}")
        group = str(13_000_000_000_000_000 + next(self._ids))
        return [
            await self.send_photo(user_id, caption if i == 0 else None, chat_id, media_group_id=group)
            for i in range(n_photos)
        ]

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

    async def send_voice(
        self, user_id: int, duration: int = 3, chat_id: int | None = None, *, data: bytes | None = None
    ) -> JSON:
        """A voice note, downloadable through getFile. The default bytes only start like an OGG file; pass
        real audio as `data` for a bot that decodes it."""
        stored = self._store_file("voice", data if data is not None else PLACEHOLDER_OGG, mime_type="audio/ogg")
        return self._user_message(user_id, chat_id, {"voice": self._voice(stored, duration)})

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
