"""What the emulator records of the bot's behaviour, in the shapes tests read: sent messages with their edit
history, callback answers, the ordered event log and the counters a broadcast benchmark reads."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import asdict, dataclass, field

from bot.emulator.protocol import JSON


@dataclass(slots=True)
class Version:
    """One state of a bot message: the original send or an edit, stamped with its cursor seq."""

    seq: int
    method: str
    text: str | None
    caption: str | None
    reply_markup: JSON | None


@dataclass(slots=True)
class Button:
    """An inline keyboard button flattened row by row; `index` is 1-based (the console's numbering)."""

    index: int
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(slots=True)
class SentMessage:
    """A message the bot sent, kept current through edits; `history[0]` is how it was first sent."""

    seq: int
    message_id: int
    chat_id: int
    method: str
    date: int
    text: str | None = None
    caption: str | None = None
    entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    reply_to_message_id: int | None = None
    photo: str | None = None  # file_id of the largest size
    document: str | None = None  # file_id
    voice: str | None = None  # file_id
    media_group_id: str | None = None  # shared by the messages of one album (sendMediaGroup)
    poll: JSON | None = None  # a native poll (sendPoll), kept current: counts, is_closed
    parse_mode: str | None = None
    deleted: bool = False
    history: list[Version] = field(default_factory=list)
    raw: JSON = field(default_factory=dict, repr=False)
    recorded: float = 0.0  # time.monotonic() when the emulator accepted it (latency measurements)

    @property
    def edited(self) -> bool:
        return len(self.history) > 1

    @property
    def body(self) -> str:
        """Text or caption, whichever the message has (tests rarely care which)."""
        return self.text if self.text is not None else self.caption or ""

    @property
    def buttons(self) -> list[Button]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        flat = itertools.chain.from_iterable(rows)
        return [
            Button(index, b.get("text", ""), b.get("callback_data"), b.get("url"))
            for index, b in enumerate(flat, start=1)
        ]

    @property
    def keyboard(self) -> list[str]:
        """Texts of a reply keyboard (ReplyKeyboardMarkup), if one was attached."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [b if isinstance(b, str) else b.get("text", "") for b in itertools.chain.from_iterable(rows)]

    def to_dict(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: JSON) -> SentMessage:
        values = dict(data)
        values["history"] = [Version(**v) for v in values.get("history", [])]
        return cls(**values)


@dataclass(slots=True)
class CallbackAnswer:
    """An answerCallbackQuery call, i.e. the toast/alert a user would see after pressing a button."""

    seq: int
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None = None


@dataclass(slots=True)
class Event:
    """One bot action in order: kind is "send", "edit", "delete" or "answer"; `seq` is its cursor."""

    seq: int
    kind: str
    chat_id: int | None
    message: SentMessage | None = None
    answer: CallbackAnswer | None = None


@dataclass(slots=True)
class Stats:
    """Counters a broadcast benchmark reads: accepted sends, 429s and 403s per chat, calls per method."""

    delivered: Counter[int] = field(default_factory=Counter)
    rate_limited: Counter[int] = field(default_factory=Counter)
    forbidden: Counter[int] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)

    @property
    def too_many_requests(self) -> int:
        return self.rate_limited.total()

    @property
    def forbidden_total(self) -> int:
        return self.forbidden.total()

    @property
    def delivered_total(self) -> int:
        return self.delivered.total()

    def to_dict(self) -> JSON:
        return {
            "delivered": {str(k): v for k, v in self.delivered.items()},
            "rate_limited": {str(k): v for k, v in self.rate_limited.items()},
            "forbidden": {str(k): v for k, v in self.forbidden.items()},
            "calls": dict(self.calls),
            "delivered_total": self.delivered_total,
            "too_many_requests": self.too_many_requests,
            "forbidden_total": self.forbidden_total,
        }

