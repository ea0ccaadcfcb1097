"""Case cards in desk chats and what a case owes the people around it, written to the outbox.

A card (the case with its buttons: 签收 · 转派 · 需补充 · 办结 · 升级) goes to the handling unit's chat (else the
staff chat) when a case opens, is reassigned or escalated, and is redrawn whenever its status changes. Every
``owe_*`` function writes outbox rows inside the caller's transaction, so the change and what it owes people
commit together; the sender (``bot.sender`` through ``handlers.owed``) draws and sends them. Every room that
changes a case calls this module; it imports no room, so nothing loops.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup

from handlers import keyboards, texts
from handlers.deps import Deps
from handlers.names import complaint_name, level_name, unit_name
from services import outbox
from services.cases import clocks, duplicates, followup, intake
from services.cases import desk as reports
from services.cases.sweep import Escalation, Reminder, ReminderKind
from services.outbox import Priority
from services.people import roles
from storage.models import OPEN_STATUSES, OutboxKind, PostKind, Resident, Ticket, TicketStatus

S = TicketStatus
WORKING: frozenset[TicketStatus] = frozenset({S.SIGNED, S.IN_PROGRESS})  # signed for: 需补充 and 办结 possible


# --- where and what -----------------------------------------------------------------------------------


def group_desks(d: Deps, ticket: Ticket) -> set[int]:
    """The group chats that are desks for ``ticket``: its unit's chat, the staff chat, the escalation chats."""
    unit = d.community.unit(ticket.unit)
    chats = {d.staff_chat_id, unit.chat_id if unit else None, *(e.chat_id for e in d.community.escalation)}
    return {c for c in chats if c is not None}


async def is_desk(d: Deps, chat_id: int, ticket: Ticket) -> bool:
    """Whether ``chat_id`` is a desk for ``ticket``: one of :func:`group_desks`, or the private chat of a worker
    of its grid (the community file's or granted the role) who is not the case's own resident (nobody handles
    their own complaint). Cards there carry buttons; elsewhere they are for reading. Reads only for a private
    chat (a group's id is negative)."""
    if chat_id in group_desks(d, ticket):
        return True
    if chat_id <= 0 or not ticket.grid_code:
        return False
    async with d.db.session() as s:
        if not await roles.works_grid(s, chat_id, ticket.grid_code, d.community):
            return False
        owner = await s.get(Resident, ticket.resident_id)
    return owner is None or owner.tg_user_id != chat_id


def unit_chat(d: Deps, unit_code: str) -> int | None:
    """The unit's chat, else the staff chat, else nowhere."""
    return intake.unit_chat(d.community, d.staff_chat_id, unit_code)


def case_category(d: Deps, t: Ticket) -> str:
    """What a case is about, as the desk reads it: an emergency's kind (紧急求助·火情), else its category's name."""
    if t.emergency:
        return texts.emergency_category(texts.EMERGENCY_KIND.get(t.emergency_kind or ""))
    return complaint_name(d, t.category)


_PLAIN_HEADERS = frozenset({texts.CARD_HEADER_NEW, texts.CARD_HEADER_TICKET, texts.CARD_HEADER_ESCALATION})
"""The headers a card is drawn with when nothing more is known of it (a redraw, ``/case``): an emergency's card
shows its own instead, as when it was first posted."""


def card_text(d: Deps, t: Ticket, resident_name: str, grid: str | None, header: str,
              supervision: str | None = None, recorder: str | None = None, *, read_only: bool = False) -> str:
    """The card: what, where (the grid and its worker), who, by when, how it came in, how it stands, and its
    latest 督办 (``supervision``: the line ``handlers.desk.supervision.card_line`` draws). A case no longer open
    has no traffic light (its deadline no longer runs); ``read_only``: a supervisor's, without the reply hint."""
    now = d.now()
    info = d.community.grid(grid) if grid else None
    if t.emergency and header in _PLAIN_HEADERS:  # redrawn or brought back: still marked 🚨 with its kind
        header = texts.card_header_sos(texts.EMERGENCY_KIND.get(t.emergency_kind or "", "紧急求助"))
    return texts.staff_card(
        header, t.number, case_category(d, t), unit_name(d, t.unit), t.location, t.text,
        clocks.effective_due(t, now), resident_name,
        texts.grid_label(grid, info.name if info else None, info.worker_name if info else None),
        texts.STATUS.get(t.status, t.status),
        texts.COLOUR_MARK[clocks.colour(t, now)] if t.status in OPEN_STATUSES else "",
        level_name(d, t.escalation_level), t.result if t.status not in OPEN_STATUSES else None,
        texts.source_label(t.channel, _recorder(d, t, recorder), t.contact_phone), supervision, read_only,
    )


def _recorder(d: Deps, t: Ticket, known: str | None) -> str | None:
    """Who recorded a case for someone (代录): a grid worker by the community file's name, else the name the bot
    knows them by (``known``, from the directory), else their id."""
    if t.recorded_by is None:
        return None
    for g in d.community.grids:
        if g.worker_tg_id == t.recorded_by:
            return f"网格员{g.worker_name}"
    return known or str(t.recorded_by)


def card_buttons(d: Deps, t: Ticket) -> InlineKeyboardMarkup | None:
    """The buttons that can do something in the ticket's status, each carrying number.version."""
    arg = f"{t.number}.{t.version}"

    def b(label: str, action: str) -> InlineKeyboardButton:
        return keyboards.button(d.callback_secret, label, action, arg)

    if t.status in clocks.UNSIGNED:
        return keyboards.inline([b(texts.BTN_SIGN, "ss"), b(texts.BTN_REASSIGN, "sr"), b(texts.BTN_NEED_INFO, "sp")],
                                [b(texts.BTN_RESOLVE, "sd"), b(texts.BTN_ESCALATE, "se")])
    if t.status in WORKING:
        return keyboards.inline([b(texts.BTN_REASSIGN, "sr"), b(texts.BTN_NEED_INFO, "sp")],
                                [b(texts.BTN_RESOLVE, "sd"), b(texts.BTN_ESCALATE, "se")])
    if t.status is S.PENDING_INFO:
        return keyboards.inline([b(texts.BTN_ESCALATE, "se")])
    return None


def unreachable_buttons(d: Deps, t: Ticket) -> InlineKeyboardMarkup:
    """[无法联系，办结] under the desk's word that a 待补充 question went unanswered (``handlers.desk.buttons``)."""
    asked = int(t.paused_at.timestamp()) if t.paused_at is not None else 0  # the question it is for
    return keyboards.inline([keyboards.button(d.callback_secret, texts.BTN_CLOSE_UNREACHABLE, "su",
                                              f"{t.number}.{asked}")])


def rating_buttons(d: Deps, number: str) -> InlineKeyboardMarkup:
    return keyboards.inline([keyboards.button(d.callback_secret, label, "rt", f"{number}.{code}")
                             for code, label in texts.BTN_RATE.items()])


# --- what a change owes (outbox rows in the caller's transaction) ------------------------------------------


async def owe_card(s: AsyncSession, d: Deps, ticket: Ticket, *, chat_id: int | None = None,
                   header: str | None = None, kind: PostKind = PostKind.TICKET,
                   priority: int = Priority.DESK) -> None:
    """The case card to the handling unit's chat (else the staff chat, or ``chat_id``), with its first photo;
    the other photos and any voice or file go under it. Drawn when sent, so it shows the case as it is then."""
    assert ticket.id is not None
    target = chat_id or unit_chat(d, ticket.unit)
    if target is None:
        return
    payload: dict[str, Any] = {"header": header or texts.CARD_HEADER_NEW, "post": kind.value}
    if ticket.photos:
        payload["photo"] = ticket.photos[0]
    await outbox.owe(s, chat_id=target, now=d.now(), kind=OutboxKind.CARD, ticket_id=ticket.id, priority=priority,
                     payload=payload)
    await intake.owe_media(s, ticket, target, now=d.now(), photos=ticket.photos[1:],
                           attachments=ticket.attachments, priority=priority)


async def owe_read_only_card(s: AsyncSession, d: Deps, ticket: Ticket, *, chat_id: int) -> None:
    """A supervisor's card to read (``card_text(read_only=True)``, no buttons), posted as a read-only post so
    :func:`owe_refresh` redraws it with the case's other cards."""
    assert ticket.id is not None
    await outbox.owe(s, chat_id=chat_id, now=d.now(), ticket_id=ticket.id, priority=Priority.REPLY,
                     payload={READ_ONLY_CARD: True})


READ_ONLY_CARD = "read_only_card"  # the payload's mark of a supervisor's card (a plain row: never combined)


async def owe_refresh(s: AsyncSession, d: Deps, ticket: Ticket) -> None:
    """Redraw every card of the case (after a change of status, version or level)."""
    assert ticket.id is not None
    target = unit_chat(d, ticket.unit)
    if target is not None:
        await outbox.owe_refresh(s, ticket_id=ticket.id, chat_id=target, now=d.now())


async def owe_under_card(s: AsyncSession, d: Deps, ticket: Ticket, text: str, *, chat_id: int | None = None,
                         priority: int = Priority.DESK, markup: InlineKeyboardMarkup | None = None) -> None:
    """Words (with inline buttons: ``markup``) under the case's newest card in ``chat_id``; else under the newest
    card in a desk group (else in its unit's chat), and under the private card of each worker of its grid who has
    one (they may be the ones who asked the resident)."""
    assert ticket.id is not None
    chats = [chat_id]
    if chat_id is None:
        card = await reports.latest_card(s, ticket.id)
        chats = [card.chat_id if card and card.chat_id < 0 else unit_chat(d, ticket.unit)]
        private = dict.fromkeys(p.chat_id for p in await reports.posts_of(s, ticket.id) if p.chat_id > 0)
        chats += [c for c in private if await roles.works_grid(s, c, ticket.grid_code, d.community)]
    payload = {"markup": markup.to_dict()} if markup is not None else None
    for chat in dict.fromkeys(chats):
        if chat is not None:
            await outbox.owe(s, chat_id=chat, now=d.now(), kind=OutboxKind.UNDER_CARD, text=text,
                             ticket_id=ticket.id, priority=priority, payload=payload)


async def owe_under_cards(s: AsyncSession, d: Deps, ticket: Ticket, text: str, *,
                          priority: int = Priority.DESK) -> None:
    """Words under the case's card in every desk group that has one (an emergency's: its unit's chat and the
    community level's, both acting on it), else as :func:`owe_under_card` puts them; and under grid workers'
    private cards as it does."""
    assert ticket.id is not None
    posts = await reports.posts_of(s, ticket.id)
    groups = dict.fromkeys(p.chat_id for p in posts if p.chat_id < 0)
    if not groups:
        await owe_under_card(s, d, ticket, text, priority=priority)
        return
    for chat in groups:
        await owe_under_card(s, d, ticket, text, chat_id=chat, priority=priority)
    for chat in dict.fromkeys(p.chat_id for p in posts if p.chat_id > 0):
        if await roles.works_grid(s, chat, ticket.grid_code, d.community):
            await owe_under_card(s, d, ticket, text, chat_id=chat, priority=priority)


async def owe_message(s: AsyncSession, d: Deps, chat_id: int | None, text: str, *, ticket_id: int | None = None,
                      markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None,
                      priority: int = Priority.DESK) -> bool:
    """Plain words (with inline buttons) to one chat; False when there is nobody to write to."""
    if chat_id is None:
        return False
    payload = {"markup": markup.to_dict()} if markup is not None else {}
    await outbox.owe(s, chat_id=chat_id, now=d.now(), text=text, ticket_id=ticket_id, priority=priority,
                     payload=payload)
    return True


async def owe_residents(s: AsyncSession, d: Deps, t: Ticket, text: str, *, followers: bool = True,
                        priority: int = Priority.DESK, markup: InlineKeyboardMarkup | None = None) -> int:
    """Words to the case's resident (and the neighbours following it); returns how many people will get them.

    A case recorded for someone without Telegram (代录) goes to whoever recorded it, to pass on."""
    ids = [t.resident_id, *(await duplicates.followers(s, t.id) if followers else [])]
    told = 0
    for rid in dict.fromkeys(ids):
        person = await s.get(Resident, rid)
        if person is None:
            continue
        if person.tg_user_id is not None:
            told += await owe_message(s, d, person.tg_user_id, text, ticket_id=t.id, priority=priority,
                                      markup=markup)
        elif t.recorded_by is not None:
            told += await owe_message(s, d, t.recorded_by, texts.for_recorder(person.name, person.phone, text),
                                      ticket_id=t.id, priority=priority)
    return told


async def owe_followers(s: AsyncSession, d: Deps, t: Ticket, text: str) -> int:
    """Words to the neighbours whose complaints joined the case (on Telegram), not its resident; how many."""
    told = 0
    for rid in dict.fromkeys(await duplicates.followers(s, t.id)):
        person = await s.get(Resident, rid)
        if person is not None and person.tg_user_id is not None and rid != t.resident_id:
            told += await owe_message(s, d, person.tg_user_id, text, ticket_id=t.id)
    return told


async def owe_escalation(s: AsyncSession, d: Deps, esc: Escalation) -> None:
    """An escalation: old cards show the level, and the card goes to the level's chat (else the staff chat)."""
    t = await s.get(Ticket, esc.ticket_id)
    if t is None:
        return
    await owe_refresh(s, d, t)
    header = texts.card_header_escalated(level_name(d, esc.level) or esc.level,
                                         texts.ESCALATION_REASON.get(esc.reason.value, esc.reason.value))
    await owe_card(s, d, t, chat_id=esc.chat_id or d.staff_chat_id, header=header, kind=PostKind.ESCALATION)


async def owe_reminder(s: AsyncSession, d: Deps, reminder: Reminder) -> None:
    """催办 under the ticket's card in its unit's chat (else the staff chat). A yellow one also redraws the cards:
    their 时限 line drew the case green, and a card still 🟢 under a 🟡 催办 reads as a contradiction."""
    t = await s.get(Ticket, reminder.ticket_id)
    target = reminder.chat_id or d.staff_chat_id
    if t is not None and target is not None:
        await owe_under_card(s, d, t, texts.staff_reminder(reminder.number, reminder.kind.value, reminder.due_at),
                             chat_id=target, priority=Priority.BACKGROUND)
        if reminder.kind is ReminderKind.YELLOW:
            await owe_refresh(s, d, t)


async def owe_rating(s: AsyncSession, d: Deps, t: Ticket) -> bool:
    """回访: ask the resident to rate, once the follow-up delay has passed (bot.jobs), unless they already did (满意
    said before), and each neighbour following the case who has not, with the same buttons: all were told at 办结
    that they would be asked (``followup.unrated_followers``). A resident without Telegram whose case someone
    recorded (代录): the recorder is asked to phone them and record the answer with /rate (no buttons); one nobody
    recorded (imported, a platform's): the desk is, under the case's card (and the grid worker's private copy). A
    case filed on the web is rated on its tracking page."""
    text, markup = texts.rating_request(t.number, t.result), rating_buttons(d, t.number)
    told = 0
    owner = await s.get(Resident, t.resident_id)
    offline = t.status is S.RESOLVED and owner is not None and owner.tg_user_id is None
    if offline and t.recorded_by is not None:
        private_ok = await roles.works_grid(s, t.recorded_by, t.grid_code, d.community)  # /rate works privately
        told += await owe_message(s, d, t.recorded_by, texts.recorder_rating_request(
            t.number, owner.name, t.contact_phone or owner.phone, t.result, private_ok=private_ok), ticket_id=t.id)
    elif offline and not await reports.tracked_on_web(s, t.id) and (off := await reports.offline_contact(s, t)):
        # nobody recorded it (12345 / mailbox import, a platform's post): the desk phones, as a recorder would
        await owe_under_card(s, d, t, texts.desk_rating_request(t.number, off.name, off.phone, t.result))
        told += 1
    elif t.status is S.RESOLVED:
        told += await owe_residents(s, d, t, text, followers=False, markup=markup)
    for person in await followup.unrated_followers(s, t):
        told += await owe_message(s, d, person.tg_user_id, text, ticket_id=t.id, markup=markup)
    return bool(told)


__all__ = [
    "READ_ONLY_CARD",
    "WORKING",
    "card_buttons",
    "card_text",
    "case_category",
    "group_desks",
    "is_desk",
    "owe_card",
    "owe_escalation",
    "owe_followers",
    "owe_message",
    "owe_rating",
    "owe_read_only_card",
    "owe_refresh",
    "owe_reminder",
    "owe_residents",
    "owe_under_card",
    "owe_under_cards",
    "rating_buttons",
    "unit_chat",
    "unreachable_buttons",
]
