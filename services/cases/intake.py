"""Every way a case comes in (the bot, staff recording a phone call, the 服务码 page, Open311, an import)
ends here: one complaint, one case, and what it owes people written in the same transaction.

::

    open_case ──similar open case at the same place?──▶ the newcomer follows it (duplicates.link)
              └─no──▶ lifecycle.open_dispatched (受理 + 派单) with its channel, place and grid
    then owed: the number (or the case joined) to the resident, the card to the unit's desk, the card to the
    grid workers of the case's grid (the file's and the granted), a word to whoever recorded it for someone, a
    warning for a cluster

The words are drawn when sent (``OutboxKind.NOTIFY`` rows name what to say; the sender's renderer says it),
so front ends without the bot's catalogue (the web page, Open311) owe exactly what the bot would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services import outbox
from services.cases import drafts, duplicates, events, lifecycle
from services.cases.duplicates import Hotspot
from services.community.model import Community
from services.outbox import Priority
from services.people import roles
from storage.db import Database
from storage.models import Channel, OutboxKind, OutboxMessage, PostKind, Resident, Ticket, TicketEventKind


@dataclass(frozen=True)
class Intake:
    """What a new case is: its words and place, and how it came in."""

    category: str
    text: str
    location: str | None = None
    grid_code: str | None = None  # the grid of the place named; None: the resident's own
    photos: Sequence[str] = ()
    attachments: Sequence[dict[str, Any]] = ()
    channel: Channel = Channel.TELEGRAM
    recorded_by: int | None = None  # Telegram id of the staff member or grid worker who recorded it (代录)
    contact_name: str | None = None
    contact_phone: str | None = None
    notify: dict[str, Any] = field(default_factory=dict)  # where the resident hears back, if not Telegram
    receipt: dict[str, Any] = field(default_factory=dict)  # how the bot shows the number (kept on its NOTIFY row)


@dataclass(frozen=True)
class Opened:
    """What taking the complaint did: a new case, or the resident joined an open one (``linked``)."""

    ticket: Ticket
    linked: bool
    own: bool  # linked to the resident's own open case: they said it again
    hotspot: Hotspot | None


def unit_chat(community: Community, staff_chat_id: int | None, unit_code: str) -> int | None:
    """Where a unit's cards go: its chat, else the staff chat, else nowhere."""
    unit = community.unit(unit_code)
    return (unit.chat_id if unit and unit.chat_id else None) or staff_chat_id


async def look(source: AsyncSession | Database, *, resident: Resident, intake: Intake,
               now: datetime) -> duplicates.Looked:
    """The duplicate check for ``open_case``, made before its write transaction (a read, outside the lock), in a
    session or on a connection of its own (``source`` the database)."""
    return await duplicates.look(source, category=intake.category, text=intake.text,
                                 grid_code=intake.grid_code or resident.grid_code, location=intake.location, now=now)


async def open_case(s: AsyncSession, *, resident: Resident, intake: Intake, community: Community,
                    staff_chat_id: int | None, now: datetime, looked: duplicates.Looked | None = None) -> Opened:
    """Take one complaint: join a similar open case at the same place, or open a new one; owe what it owes.

    ``looked``: :func:`look` made before this transaction, so only what changed since is checked under the lock."""
    opened = await _open(s, resident=resident, intake=intake, community=community, staff_chat_id=staff_chat_id,
                         now=now, looked=looked, draft_seen=None)
    assert opened is not None
    return opened


async def open_draft(s: AsyncSession, *, resident: Resident, intake: Intake, community: Community,
                     staff_chat_id: int | None, now: datetime, seen: datetime,
                     looked: duplicates.Looked | None = None, known: drafts.Known | None = None) -> Opened | None:
    """:func:`open_case` for the resident's draft confirmed, taken in the same transaction if it is still the one
    read (``seen``: its ``updated_at``); None when it is not (a second tap, a newer draft): nothing written.

    The duplicate check under the lock and the hotspot count ride in the draft's ``DELETE … RETURNING``. ``known``:
    the draft and resident as this process last wrote them, not read this update (``drafts.take_known``: raises
    ``drafts.NotAsKnown`` or ``drafts.Capped`` for the caller's transaction to roll back)."""
    return await _open(s, resident=resident, intake=intake, community=community, staff_chat_id=staff_chat_id,
                       now=now, looked=looked, draft_seen=seen, known=known)


async def _open(s: AsyncSession, *, resident: Resident, intake: Intake, community: Community,
                staff_chat_id: int | None, now: datetime, looked: duplicates.Looked | None,
                draft_seen: datetime | None, known: drafts.Known | None = None) -> Opened | None:
    grid = intake.grid_code or resident.grid_code
    check = await duplicates.Check.of(s, category=intake.category, text=intake.text, grid_code=grid,
                                      location=intake.location, now=now, looked=looked)
    if draft_seen is not None:  # the grid's granted workers ride in the draft's DELETE … RETURNING, too
        await check.lock(s)
        assert resident.id is not None
        returning, params = [*check.columns(), roles.granted_column()], {**check.params(), "granted_grid": grid}
        if known is not None:
            values: dict[str, Any] | None = await drafts.take_known(s, known, returning=returning, params=params)
        else:
            values = await drafts.take_with(s, resident.id, seen=draft_seen, returning=returning, params=params)
        if values is None:
            return None
        granted = roles.granted_from(grid, values.get("granted_ids"))
    else:
        granted = await roles.granted_workers(s, [grid])  # before the lock (PostgreSQL's)
        await check.lock(s)
        values = await check.read(s)
    linked, ticket, added = await _join(s, check, values, resident=resident, intake=intake, now=now)
    if linked:
        assert ticket is not None
        if intake.photos:
            ticket.photos = [*ticket.photos, *intake.photos]
            s.add(ticket)
    else:
        ticket = added = await lifecycle.open_dispatched(
            s, resident=resident, category=intake.category, text=intake.text, location=intake.location,
            photos=list(intake.photos), community=community, now=now, grid_code=grid, channel=intake.channel,
            recorded_by=intake.recorded_by, contact_name=intake.contact_name, contact_phone=intake.contact_phone,
            attachments=list(intake.attachments))
    hotspot = await check.hotspot(s, values, added=added)
    opened = Opened(ticket, linked, linked and ticket.resident_id == resident.id, hotspot)
    await owe_opened(s, opened, resident=resident, intake=intake, community=community,
                     staff_chat_id=staff_chat_id, now=now, granted=granted)
    return opened


async def _join(s: AsyncSession, check: duplicates.Check, values: dict[str, Any], *, resident: Resident,
                intake: Intake, now: datetime) -> tuple[bool, Ticket | None, Ticket | None]:
    """Join the open case this complaint duplicates, if any: (joined, the case, the case it counts with in the
    hotspot count: None unless the resident became a new follower). The candidates read as a JSON array (no look
    before) give the case's key and author; the case itself is read by the INSERT of the event that records the
    joining (``duplicates.record_link``), not by a statement of its own."""
    assert resident.id is not None
    if "dup_rows" in values:
        found = check.candidate(values)  # open at the place when read, under the lock
        if found is None:
            return False, None, None
        if found.resident_id == resident.id:  # said again by its own author: keep what the repeat adds
            return True, await duplicates.record_link(s, found.id, resident.id, now, note=intake.text), None
        if not await duplicates.add_follower(s, found.id, resident.id, now, text=intake.text.strip()):
            return True, await s.get(Ticket, found.id), None  # following it already: nothing to record
        joined = await duplicates.record_link(s, found.id, resident.id, now, note=intake.text.strip())
        return True, joined, joined
    dup = await check.duplicate(s, values)
    if dup is None:
        return False, None, None
    if dup.resident_id == resident.id:
        await events.record_event(s, dup, kind=TicketEventKind.LINKED, actor=events.resident_actor(resident.id),
                                  now=now, note=intake.text)
        return True, dup, None
    status = (await duplicates.link(s, dup, resident, now, text=intake.text)).status
    if status == duplicates.LinkStatus.NOT_OPEN:
        return False, None, None
    return True, dup, dup if status == duplicates.LinkStatus.LINKED else None


async def owe_opened(s: AsyncSession, opened: Opened, *, resident: Resident, intake: Intake, community: Community,
                     staff_chat_id: int | None, now: datetime, granted: dict[str, list[int]] | None = None) -> None:
    """The number to the resident first (or to whoever recorded it), then the cards, then any warning: one insert.

    The grid workers granted the role (not only the community file's) get the card and the warning: ``granted``
    (:func:`services.people.roles.granted_workers` of the case's grid, read by the caller), else one read here."""
    t = opened.ticket
    assert t.id is not None
    rows: list[OutboxMessage] = []
    told = resident.tg_user_id if intake.channel is Channel.TELEGRAM else intake.recorded_by
    if told is not None:
        what = "linked" if opened.linked else ("recorded" if intake.recorded_by else "opened")
        rows.append(outbox.new_row(chat_id=told, now=now, kind=OutboxKind.NOTIFY, ticket_id=t.id,
                                   priority=Priority.REPLY,
                                   payload={**intake.receipt, "say": what, "own": opened.own}))  # numbered first
    h = opened.hotspot
    grids = [None if opened.linked else t.grid_code, h.grid_code if h is not None else None]
    if granted is None or any(g not in granted for g in grids if g):
        granted = await roles.granted_workers(s, grids) if any(grids) else {}
    if not opened.linked:
        rows += card_rows(t, community=community, staff_chat_id=staff_chat_id, now=now,
                          granted=granted.get(t.grid_code or "", ()), author=resident.tg_user_id)
    if h is not None:
        workers = roles.grid_worker_ids(community, h.grid_code, granted.get(h.grid_code or "", ()))
        for chat in dict.fromkeys([staff_chat_id, *workers]):
            if chat is None:
                continue
            rows.append(outbox.new_row(chat_id=chat, now=now, kind=OutboxKind.NOTIFY, ticket_id=t.id,
                                       priority=Priority.BACKGROUND,  # after the cards: never holds them up
                                       payload={"say": "hotspot", "category": h.category, "scope": h.scope,
                                                "count": h.count, "since": h.since.isoformat()}))
    await outbox.owe_rows(s, rows)


async def owe_cards(s: AsyncSession, t: Ticket, *, community: Community, staff_chat_id: int | None, now: datetime,
                    header: str | None = None, priority: int = Priority.DESK, author: int | None = None) -> None:
    """A new case's card to its unit's desk, with its media, and to the grid workers of its grid (privately,
    with the buttons their role allows): the community file's and those granted the role, read here.
    ``author``: the Telegram id of the case's resident, who gets no worker's card of their own case."""
    granted = await roles.granted_workers(s, [t.grid_code])
    await outbox.owe_rows(s, card_rows(t, community=community, staff_chat_id=staff_chat_id, now=now, header=header,
                                       priority=priority, granted=granted.get(t.grid_code or "", ()), author=author))


def card_rows(t: Ticket, *, community: Community, staff_chat_id: int | None, now: datetime,
              header: str | None = None, priority: int = Priority.DESK, granted: Sequence[int] = (),
              author: int | None = None) -> list[OutboxMessage]:
    """:func:`owe_cards`'s rows, not yet written: no read here (``granted``, the grid's workers granted the role,
    is read by the caller in its transaction). A grid worker who is the case's own resident (``author``) gets no
    card of it: they may not handle their own complaint, and they hear of it as its resident."""
    assert t.id is not None
    payload: dict[str, Any] = {"post": PostKind.TICKET.value}
    if header:
        payload["header"] = header
    desk = unit_chat(community, staff_chat_id, t.unit)
    workers = [w for w in roles.grid_worker_ids(community, t.grid_code, granted) if w != author]
    rows: list[OutboxMessage] = []
    for chat in dict.fromkeys([desk, *workers]):
        if chat is None:
            continue
        card = dict(payload)
        if t.photos:
            card["photo"] = t.photos[0]
        rows.append(outbox.new_row(chat_id=chat, now=now, kind=OutboxKind.CARD, ticket_id=t.id, priority=priority,
                                   payload=card))
        rows += media_rows(t, chat, now=now, photos=t.photos[1:], attachments=t.attachments, priority=priority)
    return rows


async def owe_media(s: AsyncSession, t: Ticket, chat_id: int, *, now: datetime, photos: Sequence[str],
                    attachments: Sequence[dict[str, Any]], priority: int = Priority.DESK,
                    caption: str | None = None) -> None:
    """Photos (as albums of up to ten), voice and files under the case's card in ``chat_id``: one row a message."""
    await outbox.owe_rows(s, media_rows(t, chat_id, now=now, photos=photos, attachments=attachments,
                                        priority=priority, caption=caption))


def media_rows(t: Ticket, chat_id: int, *, now: datetime, photos: Sequence[str],
               attachments: Sequence[dict[str, Any]], priority: int = Priority.DESK,
               caption: str | None = None) -> list[OutboxMessage]:
    """:func:`owe_media`'s rows, not yet written."""
    rows = [outbox.new_row(chat_id=chat_id, now=now, kind=OutboxKind.MEDIA, ticket_id=t.id, priority=priority,
                           text=caption if i == 0 else None, payload={"photos": list(photos[i:i + 10])})
            for i in range(0, len(photos), 10)]
    rows += [outbox.new_row(chat_id=chat_id, now=now, kind=OutboxKind.MEDIA, ticket_id=t.id, priority=priority,
                            text=caption, payload={"attachment": dict(item)}) for item in attachments]
    return rows


__all__ = ["Intake", "Opened", "card_rows", "look", "media_rows", "open_case", "open_draft", "owe_cards", "owe_media",
           "owe_opened", "unit_chat"]
