"""The bot's own profile: getMe, its command menus per scope and language, and the setters the emulator
accepts without keeping (descriptions, name, menu button, close/logOut)."""

from __future__ import annotations

import json
import re

from bot.emulator.protocol import JSON, Params, api, bad_request


class ProfileMixin:
    """Command lists keyed by (scope, language_code), as Telegram keeps one list per pair."""

    def _init_profile(self) -> None:
        self.commands: dict[str, list[JSON]] = {}

    @api("getMe")
    async def _get_me(self, params: Params) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @api("setMyDescription", "setMyShortDescription", "setMyName", "setChatMenuButton", "close", "logOut")
    async def _accept(self, params: Params) -> bool:
        return True

    @staticmethod
    def _commands_key(params: Params) -> str:
        scope = params.json("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True) + "|" + (params.text("language_code") or "")

    @api("setMyCommands")
    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 BotCommand objects")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", "")).lstrip("/")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("command description is empty")
        self.commands[self._commands_key(params)] = commands
        return True

    @api("getMyCommands")
    async def _get_my_commands(self, params: Params) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])

    @api("deleteMyCommands")
    async def _delete_my_commands(self, params: Params) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True
