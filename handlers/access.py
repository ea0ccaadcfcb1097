"""Who may do what, asked on the server at every privileged command and press.

The rules are ``services.people.roles``; this module only looks the user's roles up (roles table, ``LINLI_ADMINS``,
the community file's grid workers) and logs every refusal on ``linli.audit`` with the command or button
that tried. Handlers answer the refusal themselves, in words that fit the place.
"""

from __future__ import annotations

import logging
import re

from telegram import Message, Update
from telegram.ext import ContextTypes

from handlers.deps import Deps, deps
from handlers.people import directory_owed, directory_written, forget, owe_directory, pay_directory, speaker
from services.people import audit, directory, residents, roles
from services.people.roles import NOWHERE, Action, Grant, Scope

log = logging.getLogger(__name__)
_USER_ID = re.compile(r"^-?[0-9]+$")  # ASCII digits only ("²".isdigit() is true, int("²") fails)
SEEN = "linli.seen"  # bot_data: user id -> (username, name) already written to the directory


async def grants_of(d: Deps, user_id: int) -> frozenset[Grant]:
    async with d.db.session() as s:
        return await roles.roles_of(s, user_id, admins=d.admins, community=d.community)


async def check(d: Deps, user_id: int | None, action: Action, scope: Scope = NOWHERE, *, via: str) -> bool:
    """Whether the user may; a refusal is logged (``via``: the command or button, for the audit line)."""
    allowed = user_id is not None and roles.can(await grants_of(d, user_id), action, scope)
    if not allowed:
        roles.refused(user_id, action, scope, via, now=d.now())
    if audit.has_kept():  # this refusal and any reported elsewhere since: into the audit table
        async with d.db.transaction() as s:
            await audit.flush_refusals(s)
    return allowed


async def remember_user(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every update: keep the sender's @username in the directory, so an admin can name them in /grant, and a
    resident's name current. Asked once per process per user (and again when the name changes); in a private
    chat the speaker's read (which the rest of the update uses anyway) tells whether anything changed, so a
    restart writes nothing for people already known. Never stops or fails the update."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    seen: dict[int, tuple[str | None, str]] = context.application.bot_data.setdefault(SEEN, {})
    key = (user.username, user.full_name)
    if seen.get(user.id) == key:
        return
    d = deps(context)
    try:
        renamed = False
        if update.effective_chat is not None and update.effective_chat.type == "private":
            who = await speaker(d, update)
            handle = directory.username_of(user.username) if user.username else None
            name = user.full_name.strip()
            renamed = who.resident is not None and bool(name) and who.resident.name != name
            if who.known == (handle, user.full_name[:128]) and not renamed:
                seen[user.id] = key
                return
            text = update.effective_message.text if update.effective_message else None
            if who.resident is None and not (text or "").startswith("/"):  # a first contact (no command, which
                owe_directory(update)  # an early flow may stop): written with the resident the answer creates
                return  # remembered as seen once written and committed (``remember_late``)
        async with d.db.transaction() as s:
            await directory.remember(s, tg_user_id=user.id, username=user.username, name=user.full_name, now=d.now())
            if renamed:
                await residents.rename(s, tg_user_id=user.id, name=user.full_name, now=d.now())
        forget()
    except Exception as exc:  # the directory is a convenience: the update itself must go on
        log.warning("could not remember user %s: %s", user.id, exc)
        return
    seen[user.id] = key


async def remember_late(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """After every handler: the directory row of a first contact whose update wrote nothing (no resident was made),
    in a transaction of its own; one written with the update's own write is remembered as seen (the next update
    reads nothing to check it). Never stops or fails the update."""
    user = update.effective_user
    if user is None:
        return
    if directory_owed(update):
        d = deps(context)
        try:
            async with d.db.transaction() as s:
                await pay_directory(s, update, d)
        except Exception as exc:  # the directory is a convenience
            log.warning("could not remember user %s: %s", user.id, exc)
    if directory_written(update):
        context.application.bot_data.setdefault(SEEN, {})[user.id] = (user.username, user.full_name)


async def target_user(d: Deps, msg: Message, args: list[str]) -> tuple[int | None, list[str], str | None]:
    """Whom a command like /grant names, and the arguments left: a numeric id, an @username the bot has
    seen, or (no such first argument) the author of the message replied to. The third value is the
    @username that was not found, if that is why there is no user."""
    if args and _USER_ID.match(args[0]):
        return int(args[0]), args[1:], None
    if args and args[0].startswith("@"):
        async with d.db.session() as s:
            known = await directory.find(s, args[0])
        return (known.tg_user_id if known else None), args[1:], (None if known else args[0])
    to = msg.reply_to_message
    # in a forum topic every message "replies" to the topic's opening service message: that is no choice
    in_topic_only = to is not None and (to.forum_topic_created is not None or to.message_id == msg.message_thread_id)
    if to is not None and not in_topic_only and to.from_user is not None and not to.from_user.is_bot:
        return to.from_user.id, args, None
    return None, args, None


__all__ = ["check", "grants_of", "remember_user", "target_user"]
