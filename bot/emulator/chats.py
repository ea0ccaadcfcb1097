"""Simulated people and chats: private chats share their user's id, group ids are negative (-100... for
supergroups), and a user who blocks the bot makes sends to them fail with Telegram's 403 and tells the bot
with a my_chat_member update. Bot API methods: getChat, sendChatAction."""

from __future__ import annotations

import time

from bot.emulator.protocol import JSON, ApiError, Params, api, bad_request

BOT_FORBIDDEN = "Forbidden: bot was blocked by the user"


class ChatsMixin:
    """Users, chats, group admin rights and blocks, and resolving a request's chat_id to a chat."""

    def _init_chats(self) -> None:
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, JSON] = {}
        self.group_admins: set[int] = set()  # groups where the bot is admin and so sees every message
        self.blocked: set[int] = set()

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        username: str | None = None,
        *,
        last_name: str | None = None,
    ) -> JSON:
        """Create (or rename) a user; their private chat has the same id, as on Telegram."""
        if user_id <= 0:
            raise ValueError("user ids are positive; use group() for group chats")
        existing = self.users.get(user_id)
        user: JSON = existing or {"id": user_id, "is_bot": False, "first_name": f"用户{user_id}"}
        user.setdefault("language_code", "zh-hans")
        for key, value in (("first_name", first_name), ("username", username), ("last_name", last_name)):
            if value is not None:
                user[key] = value
        self.users[user_id] = user
        chat = self.chats.setdefault(user_id, {"id": user_id, "type": "private"})
        chat.update({k: user[k] for k in ("first_name", "last_name", "username") if k in user})
        return user

    def group(
        self,
        chat_id: int,
        title: str | None = None,
        *,
        chat_type: str | None = None,
        username: str | None = None,
        bot_is_admin: bool = False,
    ) -> JSON:
        """Create a group chat. Ids starting -100 are supergroups, like Telegram's."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        kind = chat_type or ("supergroup" if str(chat_id).startswith("-100") else "group")
        chat = self.chats.setdefault(chat_id, {"id": chat_id, "type": kind, "title": f"群{chat_id}"})
        if title is not None:
            chat["title"] = title
        if username is not None:
            chat["username"] = username
        if bot_is_admin:
            self.group_admins.add(chat_id)
        return chat

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them now fail with 403, and the bot is told (my_chat_member)."""
        if user_id not in self.blocked:
            self.blocked.add(user_id)
            self._member_update(user_id, "member", "kicked")

    def unblock(self, user_id: int) -> None:
        if user_id in self.blocked:
            self.blocked.discard(user_id)
            self._member_update(user_id, "kicked", "member")

    def _member_update(self, user_id: int, old: str, new: str) -> None:
        user = self.user(user_id)

        def member(status: str) -> JSON:
            extra = {"until_date": 0} if status == "kicked" else {}
            return {"status": status, "user": self.bot_user, **extra}

        self._enqueue(
            "my_chat_member",
            {
                "chat": self.chats[user_id],
                "from": user,
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def _chat(self, params: Params, name: str = "chat_id") -> JSON:
        value = params.raw(name)
        if value in (None, ""):
            raise bad_request(f"{name} is empty")
        if isinstance(value, str) and value.startswith("@"):
            found = next((c for c in self.chats.values() if c.get("username") == value[1:]), None)
            if found is None:
                raise bad_request("chat not found")
            return found
        try:
            chat = self.chats.get(int(value))
        except (TypeError, ValueError):
            chat = None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _check_not_blocked(self, chat: JSON) -> None:
        if chat["type"] == "private" and chat["id"] in self.blocked:
            self.stats.forbidden[chat["id"]] += 1
            raise ApiError(403, BOT_FORBIDDEN)

    @api("sendChatAction")
    async def _send_chat_action(self, params: Params) -> bool:
        chat = self._chat(params)
        if not params.text("action"):
            raise bad_request("action is empty")
        self._check_not_blocked(chat)
        return True

    @api("getChat")
    async def _get_chat(self, params: Params) -> JSON:
        chat = self._chat(params)
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}
