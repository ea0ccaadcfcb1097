"""Updates that cannot be read are skipped, not allowed to stop polling for everyone.

python-telegram-bot parses a getUpdates answer as one list: a single update it cannot parse (a field of the
wrong type, ``"from": 1.5``) makes the whole batch fail, the offset never moves, and the same batch is asked
for again and again — nobody is answered and the log fills with tracebacks. This request object checks each
update of a getUpdates answer on its own; one that does not parse (or names its chat or sender by anything but
an integer) is replaced by an empty update with the
same ``update_id`` (so the offset moves past it and no handler sees it), logged once and counted. NUL characters
are taken out of every string first: PostgreSQL refuses them in text columns (the whole update would fail).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from telegram import Update

from bot.metrics import SKIPPED
from bot.transport import AiohttpRequest

log = logging.getLogger(__name__)


class Skipped:
    """How many updates were skipped since start (a counter for the logs and the metrics), each counted once
    even when a poll repeats it before its offset is confirmed."""

    count = 0
    seen: ClassVar[dict[int, None]] = {}

    @classmethod
    def note(cls, update_id: int, why: Exception) -> bool:
        """Count (and log) a skipped update once; False when it was counted already."""
        if update_id in cls.seen:
            return False
        cls.seen[update_id] = None
        while len(cls.seen) > 1000:
            del cls.seen[next(iter(cls.seen))]
        cls.count += 1
        SKIPPED.inc()
        log.warning("update %s skipped: it does not parse (%s: %s); %d skipped since start",
                    update_id, type(why).__name__, why, cls.count)
        return True


class SkippingRequest(AiohttpRequest):
    """The request object for getUpdates only (``ApplicationBuilder.get_updates_request``)."""

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        data = super().parse_json_payload(payload)
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, list):
            if b"\\u0000" in payload:  # JSON's NUL: PostgreSQL stores no NUL in text, and no one means one
                result = _without_nul(result)
            data["result"] = [_readable(item) for item in result]
        return data


def _readable(item: Any) -> Any:
    try:
        update = Update.de_json(item, None)
        if not _ids_readable(update):
            raise TypeError("a chat or user id that is no integer")
    except Exception as exc:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if not isinstance(update_id, int):
            raise  # without an id the offset cannot move past it: let PTB report it as it does
        Skipped.note(update_id, exc)
        return {"update_id": update_id}
    return item


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def _ids_readable(update: Update) -> bool:
    """PTB does not check the types it parses, but files every update under its chat and its sender: an id that is
    a list or an object would fail there (unhashable), before any handler or the error handler could see it."""
    return all(isinstance(x.id, int) for x in (update.effective_chat, update.effective_user) if x is not None)


__all__ = ["Skipped", "SkippingRequest"]
