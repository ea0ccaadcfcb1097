"""Native polls: the bot's sendPoll and stopPoll, and a user answering (``answer_poll``), which reaches the bot as a
``poll_answer`` update (non-anonymous polls: who chose what) and a ``poll`` update (the poll's new counts), as
Telegram sends them for polls the bot itself sent."""

from __future__ import annotations

from typing import Any

from bot.emulator.protocol import JSON, Params, api, bad_request

MAX_QUESTION = 300
MAX_OPTION = 100
MIN_OPTIONS, MAX_OPTIONS = 2, 12  # Bot API 9.1 allows up to 12 options


def _option_text(option: Any) -> str:
    """An option as PTB sends it (an InputPollOption object) or as a plain string."""
    text = option.get("text") if isinstance(option, dict) else option
    return str(text or "").strip()


class PollsMixin:
    """Polls the bot sent, by poll id: the poll object (shared with its stored message) and each user's choice."""

    def _init_polls(self) -> None:
        self._polls: dict[str, JSON] = {}
        self._poll_votes: dict[str, dict[int, list[int]]] = {}
        self._poll_places: dict[str, tuple[int, int]] = {}  # poll id -> (chat id, message id)

    @api("sendPoll")
    async def _send_poll(self, params: Params) -> JSON:
        chat = self._chat(params)
        question = (params.text("question") or "").strip()
        if not question:
            raise bad_request("poll question must be non-empty")
        if len(question) > MAX_QUESTION:
            raise bad_request("poll question length must not exceed 300")
        raw = params.json("options")
        if not isinstance(raw, list):
            raise bad_request("can't parse options JSON object")
        options = [_option_text(o) for o in raw]
        if len(options) < MIN_OPTIONS:
            raise bad_request("poll must have at least 2 option")
        if len(options) > MAX_OPTIONS:
            raise bad_request(f"poll can't have more than {MAX_OPTIONS} options")
        if any(not o or len(o) > MAX_OPTION for o in options):
            raise bad_request("poll options length must not exceed 100")
        anonymous = params.raw("is_anonymous") not in (False, "false", "False", 0, "0")
        poll_id = str(5_000_000_000_000_000_000 + next(self._ids))
        kind = params.text("type") or "regular"
        revoting = params.raw("allows_revoting") not in (False, "false", "False", 0, "0") and kind != "quiz"
        poll: JSON = {
            "id": poll_id, "question": question,
            "options": [{"text": o, "voter_count": 0, "persistent_id": str(i)} for i, o in enumerate(options)],
            "total_voter_count": 0, "is_closed": False, "is_anonymous": anonymous, "type": kind,
            "allows_multiple_answers": params.flag("allows_multiple_answers"), "allows_revoting": revoting,
            "members_only": params.flag("members_only"),
        }  # fmt: skip
        message = self._send("sendPoll", params, chat, {"poll": poll}, self._markup(params))
        self._polls[poll_id] = message["poll"]
        self._poll_votes[poll_id] = {}
        self._poll_places[poll_id] = (chat["id"], message["message_id"])
        return message

    @api("stopPoll")
    async def _stop_poll(self, params: Params) -> JSON:
        chat = self._chat(params)
        message = self._messages.get((chat["id"], params.integer("message_id") or 0))
        if message is None:
            raise bad_request("message to stop poll not found")
        poll = message.get("poll")
        if poll is None or message.get("from", {}).get("id") != self.bot_user["id"]:
            raise bad_request("message with poll to stop not found")
        if poll["is_closed"]:
            raise bad_request("poll has already been closed")
        poll["is_closed"] = True
        self._enqueue("poll", poll)
        return poll

    def poll_of(self, chat_id: int, message_id: int) -> JSON | None:
        """The poll a bot message carries (kept current: counts, closed), or None."""
        message = self._messages.get((chat_id, message_id))
        return message.get("poll") if message else None

    async def answer_poll(self, user_id: int, chat_id: int, message_id: int, option_ids: list[int]) -> str:
        """A user chooses options of a poll (an empty list retracts their vote); returns the poll id.

        The bot gets a ``poll_answer`` update for a non-anonymous poll and a ``poll`` update with the counts."""
        poll = self.poll_of(chat_id, message_id)
        if poll is None:
            raise ValueError(f"no poll in message {message_id} of chat {chat_id}")
        if poll["is_closed"]:
            raise ValueError("the poll is closed")
        chosen = sorted(set(option_ids))
        if any(not 0 <= i < len(poll["options"]) for i in chosen):
            raise ValueError(f"no such option in {option_ids}")
        if len(chosen) > 1 and not poll["allows_multiple_answers"]:
            raise ValueError("this poll takes one answer")
        votes = self._poll_votes.setdefault(poll["id"], {})
        if user_id in votes and not poll["allows_revoting"]:
            raise ValueError("this poll does not allow changing a vote")
        for i in votes.pop(user_id, []):
            poll["options"][i]["voter_count"] -= 1
        if chosen:
            votes[user_id] = chosen
            for i in chosen:
                poll["options"][i]["voter_count"] += 1
        poll["total_voter_count"] = len(votes)
        if not poll["is_anonymous"]:
            self._enqueue("poll_answer", {
                "poll_id": poll["id"], "user": self.user(user_id), "option_ids": chosen,
                "option_persistent_ids": [poll["options"][i]["persistent_id"] for i in chosen],
            })
        self._enqueue("poll", poll)
        return str(poll["id"])
