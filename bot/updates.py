"""Updates that cannot be read are skipped, not allowed to stop polling for everyone.

python-telegram-bot parses a getUpdates answer as one list: a single update it cannot parse (a field of the
wrong type, ``"from": 1.5``) makes the whole batch fail, the offset never moves, and the same batch is asked
for again and again — nobody is answered and the log fills with tracebacks. This request object checks each
update of a getUpdates answer on its own; one that does not parse is replaced by an empty update with the
same ``update_id`` (so the offset moves past it and no handler sees it), logged once and counted.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from telegram import Update
from telegram.request import HTTPXRequest

from bot.metrics import SKIPPED

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


class SkippingRequest(HTTPXRequest):
    """The request object for getUpdates only (``ApplicationBuilder.get_updates_request``)."""

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        data = super().parse_json_payload(payload)
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, list):
            data["result"] = [_readable(item) for item in result]
        return data


def _readable(item: Any) -> Any:
    try:
        Update.de_json(item, None)
    except Exception as exc:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if not isinstance(update_id, int):
            raise  # without an id the offset cannot move past it: let PTB report it as it does
        Skipped.note(update_id, exc)
        return {"update_id": update_id}
    return item


__all__ = ["Skipped", "SkippingRequest"]
