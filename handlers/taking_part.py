"""What the rooms of residents taking part share: where the desk is, who may act, and ForceReply prompts.

A prompt's first line is a marker (``📝 点单·水电维修``, ``✍️ 拒绝理由·合伙人申请 #3``) and its answer is a
reply to it, so the step and its data travel with the message itself: nothing to keep in memory, nothing lost
in a restart, and in a desk chat any staff member may answer it. Handlers of these rooms sit in group
``GROUP`` (ahead of the router's catch-alls, which they stop when they answer) and are registered ahead of the
notice composer, whose text handler would otherwise see the answers first.
"""

from __future__ import annotations

import re

from telegram import ForceReply, Message, Update
from telegram.ext import filters

from handlers import access, cards, texts
from handlers.deps import Deps
from handlers.desk.access import desk_chats
from handlers.order import EARLY
from handlers.replies import under
from services.people import roles
from services.people.roles import NOWHERE, Action, Scope

GROUP = EARLY
PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS
_ID = re.compile(r"#(\d+)")


def desk_chat(d: Deps) -> int | None:
    """Where applications, orders nobody took and proposals go: the participation unit's chat, else the staff
    chat."""
    return cards.unit_chat(d, d.community.participation_unit().code)


def service_name(d: Deps, code: str) -> str:
    offer = d.community.participation.service(code)
    return offer.name if offer else code


def pattern(*actions: str) -> re.Pattern[str]:
    """Callback data of these actions (the signature is checked by the handler)."""
    return re.compile(rf"^1\|({'|'.join(actions)})\|")


class RepliesTo(filters.MessageFilter):
    """A text that replies to one of the bot's prompts starting with ``markers``."""

    def __init__(self, *markers: str) -> None:
        super().__init__(name=f"RepliesTo{markers}")
        self.markers = markers

    def filter(self, message: Message) -> bool:
        to = message.reply_to_message
        return bool(to and to.from_user and to.from_user.is_bot and (to.text or "").startswith(self.markers))


def prompt_id(message: Message) -> int | None:
    """The ``#<id>`` a prompt's first line names (the application, order or project it asks about)."""
    to = message.reply_to_message
    found = _ID.search(((to.text or "") if to else "").split("\n", 1)[0])
    return int(found.group(1)) if found else None


async def ask(message: Message, text: str, placeholder: str) -> None:
    """A prompt answered by replying to it (ForceReply), threaded under ``message``."""
    await message.reply_text(text, reply_parameters=under(message.message_id),
                             reply_markup=ForceReply(input_field_placeholder=placeholder[:64]))


async def may(d: Deps, update: Update, action: Action, via: str, scope: Scope = NOWHERE) -> bool:
    """A staff command or button: in a desk chat or a private chat, by someone whose role allows ``action``.
    A refusal is logged and answered (a button's with an alert)."""
    user = update.effective_user
    chat = update.effective_chat
    q = update.callback_query
    if chat is not None and chat.type != "private" and chat.id not in desk_chats(d):
        roles.refused(user.id if user else None, action, f"chat:{chat.id}", via)
        refusal = texts.STAFF_NOT_DESK
    elif await access.check(d, user.id if user else None, action, scope, via=via):
        return True
    else:
        refusal = texts.PARTICIPATION_REFUSED
    if q is not None:
        await q.answer(refusal, show_alert=True)
    else:
        await update.effective_message.reply_text(refusal)
    return False


__all__ = ["GROUP", "GROUPS", "PRIVATE", "RepliesTo", "ask", "desk_chat", "may", "pattern", "prompt_id",
           "service_name"]
