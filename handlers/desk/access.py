"""Who may work a case from which chat: a desk chat for the case (a grid worker's private chat is one for their
grid's cases, never their own), and a role that covers it, checked on every press and every typed command; refusals
are answered in words that fit the place and logged on ``linli.audit``.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import access, cards, texts
from handlers.deps import KEY, Deps
from services.people import audit, roles
from services.people.roles import Action, Scope
from storage.models import Resident, Ticket

COMMANDS = ("queue", "board", "rates", "case", "note", "rate", "mediate")  # the desk's commands (groups; see PRIVATE)
PRIVATE = ("queue", "case", "note", "rate")  # those a grid worker also uses privately, on their grids' cases


def desk_chats(d: Deps) -> set[int]:
    """Every chat that is a desk: the staff chat, unit chats, escalation chats."""
    chats = {d.staff_chat_id, *(u.chat_id for u in d.community.units), *(e.chat_id for e in d.community.escalation)}
    return {c for c in chats if c is not None}


async def _trail(d: Deps, chat_id: int, user_id: int | None, action: Action, ticket: Ticket, scope: Scope,
                 via: str, refused: bool) -> None:
    """The attempt into the audit table with its chat and case: a refusal (kept by ``roles.refused``, flushed
    here with any kept elsewhere) or the allowed action."""
    async with d.db.transaction() as s:
        await audit.flush_refusals(s)
        if not refused:
            await audit.record(s, user_id=user_id, action=action, allowed=True, now=d.now(), chat_id=chat_id,
                               ticket_id=ticket.id, scope=str(scope), via=via)


async def may_act(d: Deps, chat_id: int, user_id: int | None, ticket: Ticket, *, via: str) -> str | None:
    """None when the user may work ``ticket`` from ``chat_id``, else the refusal to show (and it is logged).

    Both must hold: the chat is a desk for the case, and the user's role covers it (staff of its unit or of
    an escalation level it reached, the grid worker of its grid, an admin): checked on every press. Every
    attempt, allowed or refused, is kept in the audit table with its chat and case (``/history``)."""
    scope = roles.ticket_scope(ticket, d.community)
    refusal = None
    if not await cards.is_desk(d, chat_id, ticket):
        roles.refused(user_id, Action.TICKET_ACT, f"chat:{chat_id}", via, now=d.now(), ticket_id=ticket.id)
        refusal = await not_here(d, chat_id, ticket)
    else:
        grants = await access.grants_of(d, user_id) if user_id is not None else frozenset()
        if not roles.can(grants, Action.TICKET_ACT, scope):
            roles.refused(user_id, Action.TICKET_ACT, scope, via, now=d.now(), chat_id=chat_id, ticket_id=ticket.id)
            refusal = texts.SUPERVISOR_READ_ONLY if roles.is_supervisor(grants) else texts.STAFF_NO_ROLE
    await _trail(d, chat_id, user_id, Action.TICKET_ACT, ticket, scope, via, refusal is not None)
    return refusal


async def not_here(d: Deps, chat_id: int, ticket: Ticket) -> str:
    """Why ``chat_id`` is no desk for the case: a group that is not one, a private chat outside its grid, or its
    own resident's (a grid worker never handles their own complaint)."""
    if chat_id <= 0:
        return texts.STAFF_NOT_HERE
    async with d.db.session() as s:
        owner = await s.get(Resident, ticket.resident_id)
    return texts.STAFF_OWN_CASE if owner is not None and owner.tg_user_id == chat_id else texts.STAFF_NOT_YOUR_GRID


async def may_on_case(d: Deps, chat_id: int, user_id: int | None, action: Action, ticket: Ticket, *,
                      via: str, keep_allowed: bool = True) -> bool:
    """Whether the user's role allows ``action`` on ``ticket`` (reading its history, a 督办) wherever they are;
    the attempt is kept in the audit table with its chat and case (an allowed one unless ``keep_allowed`` is
    False: reading a history is no act on the case)."""
    scope = roles.ticket_scope(ticket, d.community)
    grants = await access.grants_of(d, user_id) if user_id is not None else frozenset()
    allowed = roles.can(grants, action, scope)
    if not allowed:
        roles.refused(user_id, action, scope, via, now=d.now(), chat_id=chat_id, ticket_id=ticket.id)
    if keep_allowed or not allowed:
        await _trail(d, chat_id, user_id, action, ticket, scope, via, not allowed)
    return allowed


async def desk_or_private(d: Deps, update: Update, action: Action, via: str) -> bool:
    """Commands that also work in a private chat (a supervisor has no desk): a desk chat or a private chat; a
    command typed in any other group is refused, logged and answered."""
    if update.effective_chat is not None and update.effective_chat.type == "private":
        return True
    return await at_desk(d, update, action, via)


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
    """A staff command typed in a private chat by someone it is not for there (a resident trying, staff in the
    wrong place; a grid worker's /queue /case /note are ``handlers.desk.private``'s). Staff, supervisors and grid
    workers are told where it works and what they can do here instead, not sent to /help like a resident."""
    msg = update.effective_message
    command = (msg.text or "").split(None, 1)[0].split("@", 1)[0]
    roles.refused(update.effective_user.id, Action.DESK_VIEW, f"chat:{msg.chat_id}", command)
    grants = await access.grants_of(context.bot_data[KEY], update.effective_user.id)
    if not roles.can(grants, Action.DESK_VIEW):
        await msg.reply_text(texts.STAFF_COMMAND_PRIVATE)
        return
    await msg.reply_text(texts.staff_command_private(command, grid_worker=bool(roles.grids_of(grants)),
                                                     supervisor=roles.is_supervisor(grants)))


__all__ = ["COMMANDS", "PRIVATE", "at_desk", "desk_chats", "desk_or_private", "in_private", "may_act", "may_on_case",
           "may_view", "not_here", "typed_may_act"]
