"""Sending one outbox row: how each kind of owed message looks when it goes out (called by ``bot.sender``).

One row is one Bot API call (a desk's backlog of cards is combined into one message), so a row that fails
can be retried without repeating anything that already went. Telegram's errors are left to the caller,
which marks the row; what went out is returned (``Delivered``) for the caller to record in the same
transaction as the mark: where each card was posted, so a staff reply to it reaches the case.

The one row that edits several messages, a refresh (a case's cards in every chat they were posted to), edits
only in chats that can take an edit now (``soon``); the cards in a chat that cannot (a desk group's twenty a
minute used up) are owed as a refresh row of that chat (``Delivered.redraws``, written with the mark), which
waits for its chat as any row does: the sender task never sleeps on another chat's limit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot, InlineKeyboardMarkup, InputMediaPhoto, Message, ReplyKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from handlers import cards, keyboards, texts
from handlers.deps import Deps
from handlers.desk import supervision
from handlers.names import complaint_name, unit_name
from handlers.replies import under
from handlers.resident import start
from services import outbox
from services.cases import desk as reports
from services.cases import emergencies
from services.cases.tickets import with_owner
from services.outbox import REDRAW_POSTS, Claim, Priority
from services.participation import council
from services.reports import chart_store
from storage.models import KnownUser, OutboxKind, PostKind, Resident, Ticket, TicketPost

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024  # Telegram's limit for a photo's caption
Pace = Callable[[int], Awaitable[None]]
Soon = Callable[[int], bool]  # True when a chat can take a message now (without the sender waiting long for it)


def _always(_chat_id: int) -> bool:
    return True


@dataclass(frozen=True)
class Posted:
    """A bot message about a case in a desk chat, to be recorded as a TicketPost."""

    ticket_id: int
    chat_id: int
    message_id: int
    kind: PostKind
    media: bool = False
    batch: bool = False


@dataclass(frozen=True)
class Redraw:
    """A case's cards in one chat that a refresh left to a refresh row of that chat (it could not take them now)."""

    ticket_id: int
    chat_id: int
    posts: tuple[int, ...]  # TicketPost ids
    upto: int | None


@dataclass
class Delivered:
    message_id: int | None = None
    posts: list[Posted] = field(default_factory=list)
    poll: tuple[str, int, int] | None = None  # a 议事会 poll: (Telegram's poll id, topic, chat), recorded too
    redraws: list[Redraw] = field(default_factory=list)  # owed with the mark: edits a refresh left for later


async def _ticket(d: Deps, ticket_id: int | None) -> tuple[Ticket, str] | None:
    if ticket_id is None:
        return None
    return await with_owner(d.db, ticket_id)


def _markup(payload: dict) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    data = payload.get("markup")
    if not data:
        return None
    return ReplyKeyboardMarkup.de_json(data, None) if "keyboard" in data else InlineKeyboardMarkup.de_json(data, None)


async def send(bot: Bot, d: Deps, claims: Sequence[Claim], pace: Pace, *, soon: Soon = _always) -> Delivered:
    """Send what ``claims`` owe (several only for combined cards); raises Telegram's errors as they come.

    ``soon``: whether a chat can take a message now; a refresh leaves its edits in a chat that cannot for later."""
    head = claims[0]
    if head.kind is OutboxKind.CARD:
        return await (_send_cards(bot, d, claims, pace) if len(claims) > 1 else _send_card(bot, d, head, pace))
    if head.kind is OutboxKind.REFRESH:
        return await _refresh(bot, d, head, pace, soon)
    if head.kind is OutboxKind.UNDER_CARD:
        return await _send_under_card(bot, d, head, pace)
    if head.kind is OutboxKind.MEDIA:
        return await _send_media(bot, d, head, pace)
    if head.payload.get(cards.READ_ONLY_CARD):
        return await _send_card(bot, d, head, pace, read_only=True)
    if head.payload.get("poll"):
        return await _send_poll(bot, head, pace)
    if head.payload.get(chart_store.PAYLOAD_KEY):
        return await _send_chart(bot, d, head, pace)
    text = head.text or ""
    markup = _markup(head.payload)
    if head.kind is OutboxKind.NOTIFY:
        text = await _notify_text(d, head)
        if not text:
            return Delivered()
        if (offer := head.payload.get("offer")) is not None and (found := start.building_offer(d, int(offer))):
            text, markup = f"{text}\n\n{found[0]}", found[1]
        if (edit := head.payload.get("edit")) and (done := await _edit_into(bot, head, int(edit), text, markup, pace)):
            return done
    await pace(head.chat_id)
    sent = await bot.send_message(head.chat_id, text, reply_markup=markup)
    return Delivered(sent.message_id)


async def _edit_into(bot: Bot, claim: Claim, message_id: int, text: str, markup: InlineKeyboardMarkup | None,
                     pace: Pace) -> Delivered | None:
    """A case's number as an edit of the draft the resident confirmed (one call, which also takes the draft's
    buttons away). Done again after a crash it changes nothing ("not modified" is success); None when the draft
    cannot be edited any more (deleted by the resident, too old): the number then goes as a new message."""
    await pace(claim.chat_id)
    try:
        await bot.edit_message_text(text, chat_id=claim.chat_id, message_id=message_id, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc):
            log.info("could not edit message %s/%s into a receipt (%s): sent anew", claim.chat_id, message_id, exc)
            return None
    return Delivered(message_id)


async def _notify_text(d: Deps, claim: Claim) -> str:
    """The words a NOTIFY row names (written by services that have no catalogue), about its case as it is now."""
    found = await _ticket(d, claim.ticket_id)
    if found is None:
        return ""
    t, name = found
    say = claim.payload.get("say")
    category = complaint_name(d, t.category)
    if say == "opened":
        return texts.ticket_opened(t.number, category, unit_name(d, t.unit), t.due_at)
    if say == "recorded":
        return texts.ticket_recorded(t.number, name, t.contact_phone, category, unit_name(d, t.unit), t.due_at)
    if say == "linked":
        return texts.linked_existing(t.number, texts.STATUS.get(t.status, t.status), bool(claim.payload.get("own")))
    kind = claim.payload.get("kind")
    kind_label = texts.EMERGENCY_KIND.get(kind or "", "紧急求助")
    if say == "sos_opened":
        route = emergencies.route(kind)
        return texts.sos_opened(t.number, kind, route.call, [tuple(a) for a in claim.payload.get("alerted", [])],
                                d.community.emergency.lift_phone)
    if say == "sos_alert":
        phone = await _phone(d, t)
        return texts.staff_sos(t.number, name, t.grid_code, t.text, kind_label=kind_label, place=t.location,
                               phone=phone)
    if say == "sos_place":
        return texts.staff_sos_place(t.number, t.location or "")
    if say == "sos_more":
        return texts.staff_sos_more(t.number, str(claim.payload.get("words", "")))
    if say == "hotspot":
        since = datetime.fromisoformat(claim.payload["since"])
        hours = int((d.now() - since).total_seconds() // 3600)
        return texts.hotspot_alert(complaint_name(d, claim.payload["category"]), claim.payload["scope"],
                                   int(claim.payload["count"]), hours)
    log.warning("outbox: nothing to say for %r", say)
    return ""


async def _recorder_name(d: Deps, t: Ticket) -> str | None:
    """The name the bot knows whoever recorded the case by (the directory of users it has met)."""
    if t.recorded_by is None:
        return None
    async with d.db.session() as s:
        known = await s.get(KnownUser, t.recorded_by)
    return known.name if known and known.name else None


async def _phone(d: Deps, t: Ticket) -> str | None:
    async with d.db.session() as s:
        owner = await s.get(Resident, t.resident_id)
    return t.contact_phone or (owner.phone if owner else None)


def _header(payload: dict) -> str:
    if "sos" in payload:  # an emergency's card: its kind, so the desk knows at a glance
        return texts.card_header_sos(texts.EMERGENCY_KIND.get(payload["sos"] or "", "紧急求助"))
    return payload.get("header") or texts.CARD_HEADER_NEW


async def _send_card(bot: Bot, d: Deps, claim: Claim, pace: Pace, *, read_only: bool = False) -> Delivered:
    """A case card; ``read_only``: a supervisor's (no buttons, no reply hint), recorded to be redrawn all the same."""
    found = await _ticket(d, claim.ticket_id)
    if found is None:
        return Delivered()
    t, name = found
    kind = PostKind.READ_ONLY if read_only else PostKind(claim.payload.get("post", PostKind.TICKET.value))
    header = texts.CARD_HEADER_TICKET if read_only else _header(claim.payload)
    text = cards.card_text(d, t, name, t.grid_code, header, await supervision.card_line(d, t.id),
                           await _recorder_name(d, t), read_only=read_only)
    markup = cards.card_buttons(d, t) if not read_only and await cards.is_desk(d, claim.chat_id, t) else None
    await pace(claim.chat_id)
    photo = claim.payload.get("photo")
    if photo:
        sent = await bot.send_photo(claim.chat_id, photo, caption=texts.preview_lines(text, CAPTION_LIMIT),
                                    reply_markup=markup)
    else:
        sent = await bot.send_message(claim.chat_id, text, reply_markup=markup)
    assert t.id is not None
    return Delivered(sent.message_id, [Posted(t.id, claim.chat_id, sent.message_id, kind, media=bool(photo))])


def _batch_view(d: Deps, tickets: Sequence[Ticket]) -> tuple[str, InlineKeyboardMarkup]:
    """Several cases in one message: a line each, and for each 签收 (when it still can be) and 详情."""
    lines, rows = [], []
    for t in tickets:
        lines.append(texts.batch_line(t.number, complaint_name(d, t.category), t.location,
                                      texts.STATUS.get(t.status, t.status)))
        short = t.number.rsplit("-", 1)[-1]
        row = [keyboards.button(d.callback_secret, texts.btn_batch_show(short), "sv", f"{t.number}.{t.version}")]
        if t.status in cards.clocks.UNSIGNED:
            row.insert(0, keyboards.button(d.callback_secret, texts.btn_batch_sign(short), "ss",
                                           f"{t.number}.{t.version}"))
        rows.append(row)
    return texts.batch_card(len(tickets), lines), InlineKeyboardMarkup(rows)


async def _send_cards(bot: Bot, d: Deps, claims: Sequence[Claim], pace: Pace) -> Delivered:
    """A desk's backlog: the cards behind the first one combined into one message, each case once with its buttons.

    One case can owe the chat several cards (escalated for signing late and for finishing late in one sweep, its
    unit's and its levels' chats all the staff chat): it is listed, and recorded, once."""
    tickets: list[Ticket] = []
    for ticket_id in dict.fromkeys(c.ticket_id for c in claims if c.ticket_id is not None):
        if (found := await _ticket(d, ticket_id)) is not None:
            tickets.append(found[0])
    if not tickets:
        return Delivered()
    text, markup = _batch_view(d, tickets)
    await pace(claims[0].chat_id)
    sent = await bot.send_message(claims[0].chat_id, text, reply_markup=markup)
    return Delivered(sent.message_id, [Posted(t.id, claims[0].chat_id, sent.message_id,  # type: ignore[arg-type]
                                              PostKind.TICKET, batch=True) for t in tickets])


async def _card_under(d: Deps, ticket_id: int | None, chat_id: int) -> TicketPost | None:
    if ticket_id is None:
        return None
    async with d.db.session() as s:
        return await reports.latest_card(s, ticket_id, chat_id=chat_id)


async def _send_under_card(bot: Bot, d: Deps, claim: Claim, pace: Pace) -> Delivered:
    card = await _card_under(d, claim.ticket_id, claim.chat_id)
    await pace(claim.chat_id)
    sent = await bot.send_message(claim.chat_id, claim.text or "",
                                  reply_parameters=under(card.message_id if card else None),
                                  reply_markup=_markup(claim.payload))
    posts = [Posted(claim.ticket_id, claim.chat_id, sent.message_id, PostKind.RELAY)] if claim.ticket_id else []
    return Delivered(sent.message_id, posts)


async def _send_media(bot: Bot, d: Deps, claim: Claim, pace: Pace) -> Delivered:
    """Photos as one album (or one photo), a voice message or a file, under the case's card in the chat."""
    card = await _card_under(d, claim.ticket_id, claim.chat_id)
    reply = under(card.message_id if card else None)
    await pace(claim.chat_id)
    photos: list[str] = claim.payload.get("photos") or []
    item: dict = claim.payload.get("attachment") or {}
    caption = claim.text
    sent: Message
    if len(photos) > 1:
        album = [InputMediaPhoto(p, caption=caption if i == 0 else None) for i, p in enumerate(photos)]
        sent = (await bot.send_media_group(claim.chat_id, album, reply_parameters=reply))[0]
    elif photos:
        sent = await bot.send_photo(claim.chat_id, photos[0], caption=caption, reply_parameters=reply)
    elif item.get("kind") == "voice":
        sent = await bot.send_voice(claim.chat_id, item["file_id"], caption=caption, reply_parameters=reply)
    elif item.get("kind") == "document":
        sent = await bot.send_document(claim.chat_id, item["file_id"], caption=caption, reply_parameters=reply)
    else:
        return Delivered()
    posts = [Posted(claim.ticket_id, claim.chat_id, sent.message_id, PostKind.RELAY)] if claim.ticket_id else []
    return Delivered(sent.message_id, posts)


async def _send_poll(bot: Bot, claim: Claim, pace: Pace) -> Delivered:
    """A native, non-anonymous poll (议事会): its answers arrive as poll_answer updates naming the poll id."""
    poll = claim.payload["poll"]
    await pace(claim.chat_id)
    sent = await bot.send_poll(claim.chat_id, poll["question"], poll["options"], is_anonymous=False)
    found = (sent.poll.id, int(poll["topic"]), claim.chat_id) if sent.poll else None
    return Delivered(sent.message_id, poll=found)


async def _send_chart(bot: Bot, d: Deps, claim: Claim, pace: Pace) -> Delivered:
    """A report's chart: the PNG kept in ``report_charts`` with its caption (the words alone if it is gone)."""
    async with d.db.session() as s:
        png = await chart_store.load(s, int(claim.payload[chart_store.PAYLOAD_KEY]))
    caption = texts.preview_lines(claim.text or "", CAPTION_LIMIT)
    await pace(claim.chat_id)
    if png is None:
        if not caption:
            return Delivered()
        sent = await bot.send_message(claim.chat_id, caption)
    else:
        sent = await bot.send_photo(claim.chat_id, png, caption=caption or None)
    return Delivered(sent.message_id)


async def _refresh(bot: Bot, d: Deps, claim: Claim, pace: Pace, soon: Soon) -> Delivered:
    """Redraw the case's cards posted by ``upto`` (the newest when the refresh was owed; later ones were drawn
    fresh), or only the ``posts`` an earlier refresh left to this row: status, colour, and buttons only where they
    still work. A card that is gone or unchanged is fine; a message combining several cases is drawn again whole.

    A chat that cannot take an edit now (``soon``) keeps its cards, in order, for a refresh row of its own
    (returned as ``Delivered.redraws``): waiting here would hold the sender task, and every chat behind it, for up
    to a group's minute per edit. Each card is edited by one row only, so none is edited twice or left out."""
    ticket_id, upto = claim.ticket_id, claim.payload.get("upto")
    only = claim.payload.get(REDRAW_POSTS)
    if ticket_id is None or (upto is None and only is None):
        return Delivered()
    wanted = set(only) if only is not None else None
    async with d.db.session() as s:
        t = await s.get(Ticket, ticket_id)
        posts = [p for p in await reports.posts_of(s, ticket_id, reports.DRAWN_KINDS) if p.id is not None
                 and (p.id in wanted if wanted is not None else p.id <= upto)]
        owner = await s.get(Resident, t.resident_id) if t else None
        batches = {(p.chat_id, p.message_id): await reports.batch_tickets(s, p.chat_id, p.message_id)
                   for p in posts if p.batch}  # (message ids are per chat)
    if t is None:
        return Delivered()
    name = owner.name if owner else ""
    supervised = await supervision.card_line(d, t.id)
    recorder = await _recorder_name(d, t)
    later: dict[int, list[int]] = {}
    for p in posts:
        assert p.id is not None
        if p.chat_id in later or not soon(p.chat_id):  # a chat's cards keep their order: once one waits, the rest do
            later.setdefault(p.chat_id, []).append(p.id)
            continue
        await pace(p.chat_id)
        try:
            if p.batch:
                text, markup = _batch_view(d, batches[(p.chat_id, p.message_id)])
                await bot.edit_message_text(text, chat_id=p.chat_id, message_id=p.message_id, reply_markup=markup)
                continue
            read_only = p.kind is PostKind.READ_ONLY  # a supervisor's: still no buttons
            header = texts.CARD_HEADER_ESCALATION if p.kind is PostKind.ESCALATION else texts.CARD_HEADER_TICKET
            text = cards.card_text(d, t, name, t.grid_code, header, supervised, recorder, read_only=read_only)
            markup = cards.card_buttons(d, t) if not read_only and await cards.is_desk(d, p.chat_id, t) else None
            if p.media:
                await bot.edit_message_caption(chat_id=p.chat_id, message_id=p.message_id, reply_markup=markup,
                                               caption=texts.preview_lines(text, CAPTION_LIMIT))
            else:
                await bot.edit_message_text(text, chat_id=p.chat_id, message_id=p.message_id, reply_markup=markup)
        except (RetryAfter, NetworkError) as exc:
            if isinstance(exc, BadRequest):  # PTB's BadRequest is a NetworkError: handled below
                _refresh_refused(p, exc)
                continue
            raise  # 429, 5xx, network: the whole row is tried again (edits are idempotent; nothing was left yet)
        except TelegramError as exc:
            _refresh_refused(p, exc)
    return Delivered(redraws=[Redraw(t.id, chat, tuple(ids), upto) for chat, ids in later.items()])


def _refresh_refused(p: TicketPost, exc: TelegramError) -> None:
    if "not modified" not in str(exc):  # deleted by staff, too old to edit, bot left: the next card shows it
        log.warning("could not refresh card %s/%s: %s", p.chat_id, p.message_id, exc)


async def record(s: AsyncSession, delivered: Delivered, now: datetime) -> None:
    """Where each card went (and which topic a council poll belongs to), in the transaction that marks its row
    sent; and the refresh rows for the cards a refresh left to their own chats, so no edit is lost with the mark."""
    for r in delivered.redraws:
        await outbox.owe_redraw(s, ticket_id=r.ticket_id, chat_id=r.chat_id, posts=list(r.posts), upto=r.upto,
                                now=now)
    for p in delivered.posts:
        await reports.record_post(s, p.ticket_id, p.chat_id, p.message_id, p.kind, now, media=p.media,
                                  batch=p.batch)
    if delivered.poll is not None and delivered.message_id is not None:
        poll_id, topic_id, chat_id = delivered.poll
        await council.record_poll(s, poll_id=poll_id, topic_id=topic_id, chat_id=chat_id,
                                  message_id=delivered.message_id, now=now)


async def on_unreachable(s: AsyncSession, d: Deps, claim: Claim, now: datetime) -> None:
    """403: a resident blocked the bot (the desk is told, so someone phones them), or the bot left a group."""
    t = await s.get(Ticket, claim.ticket_id) if claim.ticket_id else None
    if claim.chat_id > 0:
        person = (await s.exec(reports.resident_by_tg_query(claim.chat_id))).first()
        if person is not None and person.unreachable_at is None:
            person.unreachable_at = now
            s.add(person)
        if t is not None:
            await cards.owe_under_card(s, d, t, texts.staff_unreachable(t.number, person.name if person else "",
                                                                        person.phone if person else None),
                                       priority=Priority.DESK)
        return
    if d.staff_chat_id is not None and claim.chat_id != d.staff_chat_id:
        await outbox.owe(s, chat_id=d.staff_chat_id, now=now, text=texts.staff_group_unreachable(claim.chat_id),
                         ticket_id=claim.ticket_id, priority=Priority.DESK)


__all__ = ["Delivered", "Posted", "Redraw", "Soon", "on_unreachable", "record", "send"]
