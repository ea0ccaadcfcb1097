"""The bot's media messages: sendPhoto, sendDocument, sendVoice and sendMediaGroup (albums), each file by
upload, attach://, file_id or URL. Every message is recorded with its file_id so a test can read what a
chat received."""

from __future__ import annotations

from typing import Any

from bot.emulator.protocol import JSON, ApiError, Params, api, bad_request

MAX_ALBUM = 10
# InputMedia types Telegram accepts in an album; the emulator keeps photos and documents.
_ALBUM_TYPES = frozenset({"photo", "video", "audio", "document"})
_EMULATED_ALBUM_TYPES = frozenset({"photo", "document"})


def _invalid_media(detail: str) -> ApiError:
    return bad_request(f"can't parse InputMedia: {detail}")


class MediaMixin:
    """Sending methods whose content is a stored file (see files.FilesMixin for the store)."""

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

    @api("sendVoice")
    async def _send_voice(self, params: Params) -> JSON:
        chat = self._chat(params)
        caption = self._caption(params)
        markup = self._markup(params)
        stored = self._input_file(params, "voice", "voice")
        voice = self._voice(stored, params.integer("duration", 0) or 0)
        return self._send("sendVoice", params, chat, {"voice": voice, **caption}, markup)

    @api("sendMediaGroup")
    async def _send_media_group(self, params: Params) -> list[JSON]:
        """An album: 1-10 items (a single item is sent as an ordinary message, as TDLib does), one
        media_group_id shared by its messages, no reply_markup. A refused album sends nothing. Flood
        control counts the album once, so a fresh chat can receive ten photos as on Telegram."""
        media = params.json("media")
        if media is None:
            raise bad_request('parameter "media" is required')
        if not isinstance(media, list):
            raise bad_request("expected an Array of InputMedia")
        if not media:
            raise bad_request("there are no messages to send")
        if len(media) > MAX_ALBUM:
            raise bad_request("too many messages to send as an album")
        kinds = [self._album_kind(item) for item in media]
        if "document" in kinds and set(kinds) != {"document"}:
            raise bad_request("document can't be mixed with other media types")
        contents = [self._album_content(item, kind, params) for item, kind in zip(media, kinds, strict=True)]
        chat = self._chat(params)
        target = self._may_send(params, chat)
        group: JSON = {"media_group_id": str(13_000_000_000_000_000 + next(self._ids))} if len(media) > 1 else {}
        return [
            self._deliver("sendMediaGroup", chat, {**content, **group}, None, target, item.get("parse_mode"))
            for item, content in zip(media, contents, strict=True)
        ]

    @staticmethod
    def _album_kind(item: Any) -> str:
        if not isinstance(item, dict):
            raise _invalid_media("expected an Object")
        kind = str(item.get("type") or "")
        if kind not in _ALBUM_TYPES:
            raise _invalid_media(f'type "{kind}" can\'t be used in sendMediaGroup')
        if kind not in _EMULATED_ALBUM_TYPES:
            raise _invalid_media(f'type "{kind}" is not emulated (albums of photos or documents only)')
        return kind

    def _album_content(self, item: JSON, kind: str, params: Params) -> JSON:
        """One album item's message content: its file (checked before any is stored) and caption."""
        value = item.get("media")
        if not isinstance(value, str) or not value:
            raise _invalid_media("media not found")
        if value.startswith("attach://") and value.removeprefix("attach://") not in params.uploads:
            raise _invalid_media("media not found")
        caption = self._caption_content(
            str(item.get("caption") or ""), item.get("parse_mode"), item.get("caption_entities")
        )
        stored = self._resolve_file(value, None, params.uploads, "media", kind)
        if kind == "photo":
            return {"photo": self._photo_sizes(stored), **caption}
        return {"document": self._document(stored), **caption}
