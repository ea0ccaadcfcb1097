"""The bot's media messages: sendPhoto and sendDocument, by upload, attach://, file_id or URL."""

from __future__ import annotations

from bot.emulator.protocol import JSON, Params, api


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
