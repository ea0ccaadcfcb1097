"""A grid worker's desk in their private chat: /queue (the open cases of their grids), /case LL-… (its card, with
the buttons), /note LL-… (an internal note), /rate LL-… 满意 (回访 by phone). The same checks as in a group decide
each case (``handlers.desk.access``: the private chat is a desk for the cases of the worker's grids, never their own).
A supervisor's /case LL-… here shows the card to read (no buttons). Anyone else typing a desk command privately is
told, as before, that it is for the work groups.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import access
from handlers.deps import deps
from handlers.desk import followup, queue, relays
from handlers.desk.access import PRIVATE, in_private
from services.people import roles


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A desk command in a private chat: a grid worker's /queue /case /note, else the refusal."""
    msg = update.effective_message
    command = (msg.text or "").split(None, 1)[0].split("@", 1)[0].lstrip("/").lower()
    grants = await access.grants_of(deps(context), update.effective_user.id) if command in PRIVATE else frozenset()
    grids = roles.grids_of(grants)
    if command == "case" and roles.is_supervisor(grants):  # a supervisor reads a case here (without buttons)
        await queue.on_case(update, context)
    elif not grids:
        await in_private(update, context)
    elif command == "queue":
        await queue.on_private_queue(update, context, grids)
    elif command == "case":
        await queue.on_case(update, context)
    elif command == "rate":
        await followup.on_rate(update, context)
    else:
        await relays.on_note(update, context)


__all__ = ["on_command"]
