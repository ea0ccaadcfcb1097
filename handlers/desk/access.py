"""Who may work a case from which chat: a desk chat for the case, and a role that covers it, checked on every press
and every typed command; refusals are answered in words that fit the place and logged on ``linli.audit``.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import access, cards, texts
from handlers.deps import Deps
from services.people import roles
from services.people.roles import Action
from storage.models import Ticket

COMMANDS = ("queue", "board", "rates", "case", "note", "mediate")  # the desk's commands (groups only)


def desk_chats(d: Deps) -> set[int]:
    """Every chat that is a desk: the staff chat, unit chats, escalation chats."""
    chats = {d.staff_chat_id, *(u.chat_id for u in d.community.units), *(e.chat_id for e in d.community.escalation)}
    return {c for c in chats if c is not None}


async def may_act(d: Deps, chat_id: int, user_id: int | None, ticket: Ticket, *, via: str) -> str | None:
    """None when the user may work ``ticket`` from ``chat_id``, else the refusal to show (and it is logged).

    Both must hold: the chat is a desk for the case, and the user's role covers it (staff of its unit or of
    an escalation level it reached, the grid worker of its grid, an admin): checked on every press."""
    if not cards.desk_for(d, chat_id, ticket):
        roles.refused(user_id, Action.TICKET_ACT, f"chat:{chat_id}", via)
        return texts.STAFF_NOT_HERE
    if not await access.check(d, user_id, Action.TICKET_ACT, roles.ticket_scope(ticket, d.community), via=via):
        return texts.STAFF_NO_ROLE
    return None


async def typed_may_act(d: Deps, update: Update, ticket: Ticket, via: str) -> bool:
    """:func:`may_act` for a command or a reply typed in a chat: a refusal is answered there."""
    msg = update.effective_message
    refusal = await may_act(d, msg.chat_id, update.effective_user.id, ticket, via=via)
    if refusal is not None:
        await msg.reply_text(refusal)
    return refusal is None


async def at_desk(d: Deps, update: Update, action: Action, via: str) -> bool:
    """Whether a desk command was typed in a desk chat; elsewhere it is refused, logged and answered."""
    msg = update.effective_message
    if msg.chat_id in desk_chats(d):
        return True
    roles.refused(update.effective_user.id, action, f"chat:{msg.chat_id}", via)
    await msg.reply_text(texts.STAFF_NOT_DESK)
    return False


async def may_view(d: Deps, update: Update, via: str) -> bool:
    """/queue /board /rates: a desk chat and a staff role (any unit, grid worker or admin); else say why."""
    msg = update.effective_message
    if not await at_desk(d, update, Action.DESK_VIEW, via):
        return False
    if not await access.check(d, update.effective_user.id, Action.DESK_VIEW, via=via):
        await msg.reply_text(texts.STAFF_NO_ROLE_VIEW)
        return False
    return True


async def in_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A staff command typed in a private chat (a resident trying, or staff in the wrong place)."""
    msg = update.effective_message
    command = (msg.text or "").split(None, 1)[0].split("@", 1)[0]
    roles.refused(update.effective_user.id, Action.DESK_VIEW, f"chat:{msg.chat_id}", command)
    await msg.reply_text(texts.STAFF_COMMAND_PRIVATE)


__all__ = ["COMMANDS", "at_desk", "desk_chats", "in_private", "may_act", "may_view", "typed_may_act"]
