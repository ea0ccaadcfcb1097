"""Which update goes where. `register(app)` is the only thing `bot.app` needs from handlers."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers import access, desk, dispatch, flood, keyboards, texts
from handlers.admin import award
from handlers.admin import roles as admin_roles
from handlers.callbacks import unpack
from handlers.deps import deps
from handlers.desk import access as desk_access
from handlers.desk import buttons as desk_buttons
from handlers.desk import council as desk_council
from handlers.desk import participation as desk_participation
from handlers.desk import private as desk_private
from handlers.desk import record
from handlers.desk import relays as desk_relays
from handlers.desk import web as desk_web
from handlers.errors import on_error
from handlers.grid import activities, notices
from handlers.order import LATE, SEEN
from handlers.people import resident_of, speaker
from handlers.resident import (
    actions,
    conversation,
    draft,
    mute,
    orders,
    partners,
    proposals,
    rating,
    services,
    start,
    tickets,
    wishes,
)
from intents.discourse import takes_back
from intents.emergency import detect as detect_emergency
from services.cases.tickets import find_ticket_number
from services.people import roles
from storage.models import RoleName

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
MEDIA = {
    "sticker": filters.Sticker.ALL,
    "voice": filters.VOICE | filters.VIDEO_NOTE,
    "audio": filters.AUDIO,
    "video": filters.VIDEO | filters.ANIMATION,
    "document": filters.Document.ALL,
    "contact": filters.CONTACT,
}


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = (update.effective_message.text or "").strip()
    if not text:
        await update.effective_message.reply_text(texts.EMPTY_TEXT)
        return
    if await desk_relays.on_private_reply(update, context):  # a grid worker answering a card or prompt of their grid
        return
    menu = {
        texts.MENU_REPORT: _report_prompt,
        texts.MENU_TICKETS: tickets.my_tickets,
        texts.MENU_SERVICES: services.menu,
        texts.MENU_POINTS: services.my_points,
        texts.MENU_GRID: _grid_worker,
    }.get(text)
    if menu:
        await menu(update, context)
        return
    urgent = detect_emergency(text) is not None  # an emergency is never filed away as words to an older case
    if await _in_flow(update, context, text, urgent=urgent):  # the answer to a step the bot asked for
        return
    heard = None if urgent else await conversation.resident_text(update, context, text)
    if heard:  # to the unit, or to 需补充
        return
    if not any(c.isalnum() for c in text):  # emoji or punctuation only: nothing to act on
        await update.effective_message.reply_text(texts.MEDIA_UNSUPPORTED["sticker"])
        return
    number = find_ticket_number(text)
    if number and len(text) <= 30 and not takes_back(text):  # "撤销LL-…" is a take-back, not a look
        await tickets.show_ticket(update, context, number)
        return
    if await start.typed_home(update, context, text):  # 我住7号楼: the building question answered by typing
        return
    if await start.typed_age(update, context, text):  # 我今年70了: the age question answered by typing
        return
    await dispatch.understand(update, context, text, read=heard.read if heard is not None else None)


async def _in_flow(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, *, urgent: bool) -> bool:
    """A private message while the user is in a multi-step chat: where an emergency is, words to add to a case,
    a step of a recording. The speaker's one read decides (the rest of the update asks it too). ``urgent``: the
    words are an emergency, which a resident's words to an older case never hold back (a staff member recording
    a case types what the resident said, emergency words included, and stays in the recording)."""
    d = deps(context)
    flow = (await speaker(d, update)).flow(d.now())
    if flow == actions.SOS_FLOW:
        return await actions.sos_place(update, context, text)
    if flow == tickets.SUPPLEMENT_FLOW and not urgent:
        return await tickets.supplement(update, context, text=text)
    if flow == record.FLOW:
        return await record.step(update, context, text)
    return False


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared location: where an emergency is, else the place of the complaint being written."""
    loc = update.effective_message.location
    place = draft.pin_place(deps(context), loc.latitude, loc.longitude)
    if place is not None and await actions.sos_place(update, context, place, pinned=True):
        return
    await draft.on_location(update, context)


async def _report_prompt(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.REPORT_PROMPT)


async def _grid_worker(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    async with d.db.session() as s:
        r = await resident_of(s, update, d)
        grid = d.community.grid(r.grid_code) if r.grid_code else None
        await s.commit()
    msg = update.effective_message
    if grid is None:
        await start.ask_building(msg, d)
        return
    await msg.reply_text(texts.grid_worker(grid.name, grid.worker_name, grid.phone),
                         reply_markup=keyboards.human(d.callback_secret, msg.message_id))


async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    m = update.effective_message
    kind = next((k for k, f in MEDIA.items() if f.check_update(update)), "other") if m else "other"
    await m.reply_text(texts.MEDIA_UNSUPPORTED.get(kind, texts.MEDIA_UNSUPPORTED["other"]))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.UNKNOWN_COMMAND)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: in a desk chat the desk's commands; privately, someone with a role (staff, grid worker, supervisor,
    admin) gets their own commands, a resident the resident help. Any other group: as any command there."""
    d, msg = deps(context), update.effective_message
    private = msg.chat.type == "private"
    desk_chat = msg.chat_id in desk_access.desk_chats(d)
    if not private and not desk_chat:
        await on_group_command(update, context)
        return
    grants = await access.grants_of(d, update.effective_user.id)
    has = {g.role for g in grants}
    staff, admin = RoleName.STAFF in has, RoleName.ADMIN in has
    grid_worker, supervisor = bool(roles.grids_of(grants)), roles.is_supervisor(grants)
    if private and not (staff or admin or grid_worker or supervisor):
        await actions.help_(update, context)
        return
    await msg.reply_text(texts.staff_help(desk_chat=desk_chat, staff=staff, grid_worker=grid_worker,
                                          supervisor=supervisor, admin=admin),
                         reply_markup=keyboards.main_menu() if private else None)


async def on_group_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.GROUP_ONLY_PRIVATE)


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every inline button: verify the signature, then route; forged or stale data gets an alert."""
    q = update.callback_query
    d = deps(context)
    cb = unpack(d.callback_secret, q.data)
    if cb is not None and cb.action in desk_buttons.ACTIONS:  # staff cards in desk chats: own checks
        await desk_buttons.on_button(update, context, cb.action, cb.arg)
        return
    if cb is not None and cb.action == "rt":  # the rating buttons check their chat and owner themselves
        await rating.on_rating(update, context, cb.arg)
        return
    if cb is None or q.message is None or q.message.chat.type != "private":
        roles.refused(q.from_user.id, "callback", f"chat:{q.message.chat.id if q.message else '-'}",
                      f"data:{q.data!r}")
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    a, arg = cb.action, cb.arg
    if a in ("ok", "two", "rc", "cat", "x"):
        await draft.on_draft_button(update, context, a, arg)
    elif a in ("tk", "wd", "wdy", "wdn"):
        await tickets.on_ticket_button(update, context, a, arg)
    elif a in ("svc", "buy", "buyy", "buyn"):
        await services.on_button(update, context, a, arg)
    elif a == "bld":
        await start.on_building(update, context, arg)
    elif a in ("rcc", "rck", "rcx"):
        await record.on_button(update, context, a, arg)
    elif a in ("tsp", "tspx"):
        await tickets.on_supplement_button(update, context, a, arg)
    elif a in ("rs", "rsn"):
        await actions.on_resolved(update, context, a, arg)
    elif a == "bldn":
        await q.answer()
        await (start.answer_offer(q, texts.BUILDING_NOT_MINE) if arg == start.RECEIPT
               else q.edit_message_text(texts.BUILDING_NOT_MINE))
    elif a == "age":
        await start.on_age(update, context, arg)
    elif a == "fw" and arg.isdigit():
        await q.answer()
        await actions.to_human(update, context, int(arg))
    else:
        await q.answer(texts.STALE_BUTTON, show_alert=True)


def register(app: Application) -> None:
    private_cmd = filters.ChatType.PRIVATE
    flood.register(app)  # first of all: a flood is dropped before anything reads or writes
    app.add_handler(TypeHandler(Update, access.remember_user), group=SEEN)
    app.add_handler(TypeHandler(Update, access.remember_late), group=LATE)
    app.add_handler(CommandHandler("start", start.start, filters=private_cmd))
    app.add_handler(CommandHandler(["tickets", "mytickets"], tickets.my_tickets, filters=private_cmd))
    app.add_handler(CommandHandler("points", services.my_points, filters=private_cmd))
    app.add_handler(CommandHandler("services", services.menu, filters=private_cmd))
    app.add_handler(CommandHandler("help", on_help))
    record.register(app)  # /record in a private chat or a desk chat, before the catch-alls below
    desk_web.register(app)  # /web: the board's sign-in, likewise
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(PRIVATE & filters.PHOTO, dispatch.on_photo))
    app.add_handler(MessageHandler(PRIVATE & (filters.VOICE | filters.VIDEO_NOTE | filters.AUDIO), dispatch.on_voice))
    app.add_handler(MessageHandler(PRIVATE & filters.Document.ALL, dispatch.on_document))
    app.add_handler(MessageHandler(PRIVATE & filters.LOCATION, on_location))
    app.add_handler(CommandHandler(desk_access.COMMANDS, desk_private.on_command, filters=private_cmd))
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, on_unknown_command))
    app.add_handler(MessageHandler(PRIVATE, on_media))
    desk.register(app)
    partners.register(app)  # residents taking part: ahead of the notice composer, whose text handler would
    orders.register(app)  # otherwise see the replies to their prompts first
    wishes.register(app)
    proposals.register(app)
    activities.register(app)
    award.register(app)
    desk_participation.register(app)
    desk_council.register(app)
    notices.register(app)
    mute.register(app)
    admin_roles.register(app)
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, on_group_command))
    app.add_handler(CallbackQueryHandler(on_callback))
    app.add_error_handler(on_error)
