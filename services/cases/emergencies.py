"""Emergencies routed by kind: who is alerted, which number the resident is told to call first, which unit
holds the case. The table is the rule; ``open_emergency`` applies it in one transaction.

::

    kind      call  alerted                                   case goes to
    medical   120   community duty, grid worker               community (other)
    fire      119   community duty, grid worker, property     safety
    gas       119   community duty, grid worker, property     safety
    crime     110   police post, community duty               safety
    trapped   96333 property, community duty                 repair (property)
    missing   110   police post, grid worker, community duty  safety
    self-harm 120   community duty, grid worker               community (other)
    crisis    110   police post, community duty, grid worker  safety
    fraud     96110 police post, community duty               safety
    help      110   community duty, grid worker               what the message is about, else safety
    (unknown) 110   community duty, grid worker               safety

``crisis`` is someone else seen about to take their life (楼顶边上站着要跳): the bystander calls the police first
(and 120) and stays with them; ``self-harm`` is the resident speaking of themself (the helpline, 120).

``fraud`` is a swindle under way (a caller wants a transfer, a code, money in a 安全账户) or just done: the
resident is told first not to pay and to hang up, then 96110 (the anti-fraud line) or 110; done, 110 at once
and the bank (the sooner, the likelier the money is frozen). The police post's desk takes it.

``help`` is a cry for help that names no kind (救命, 快来人): the duty and the grid worker go, and the case goes
to the unit of what the message is about when the engine knows it (水管爆了，快来人 → the property), so the
right desk has it at once.

The resident's answer is owed first (priority REPLY, never behind a desk's backlog), the alerts at once after
(ALERT), and the case is red and escalated to the community level from its first minute (``sweep.open_sos``).

A resident in trouble writes again and again (救命 … 快点 … 他不动了): while their emergency is open and recent
(``REPEAT_WINDOW``), each new cry joins it (:func:`add_words`: a note on the case, the words sent to everyone
alerted) instead of opening another red case for the same trouble.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import outbox
from services.cases import events, intake, lifecycle
from services.cases.sweep import SosResult, open_sos
from services.cases.tickets import building_of
from services.community.model import Category, Community
from services.outbox import Priority
from services.people import roles
from storage.models import OPEN_STATUSES, OutboxKind, PostKind, Resident, Ticket, TicketEventKind, TicketStatus

REPEAT_WINDOW = timedelta(minutes=30)  # a cry this soon after the last, its case still open, is the same trouble


class Helper(StrEnum):
    """Who an emergency alerts."""

    DUTY = "duty"  # the community's duty group (else the staff chat)
    GRID_WORKER = "grid_worker"  # the grid worker of the place's grid, in private
    POLICE = "police"  # the police post's desk
    PROPERTY = "property"  # the property management's desk


@dataclass(frozen=True)
class Route:
    call: str  # what the resident is told to dial first: "120", "119", "110", "96110" (anti-fraud), or the lift line
    helpers: tuple[Helper, ...]
    category: Category


ROUTES: dict[str | None, Route] = {
    "medical": Route("120", (Helper.DUTY, Helper.GRID_WORKER), Category.OTHER),
    "fire": Route("119", (Helper.DUTY, Helper.GRID_WORKER, Helper.PROPERTY), Category.SAFETY),
    "gas": Route("119", (Helper.DUTY, Helper.GRID_WORKER, Helper.PROPERTY), Category.SAFETY),
    "crime": Route("110", (Helper.POLICE, Helper.DUTY), Category.SAFETY),
    "trapped": Route("lift", (Helper.PROPERTY, Helper.DUTY), Category.REPAIR),
    "missing": Route("110", (Helper.POLICE, Helper.GRID_WORKER, Helper.DUTY), Category.SAFETY),
    "self-harm": Route("120", (Helper.DUTY, Helper.GRID_WORKER), Category.OTHER),
    "crisis": Route("110", (Helper.POLICE, Helper.DUTY, Helper.GRID_WORKER), Category.SAFETY),
    "fraud": Route("96110", (Helper.POLICE, Helper.DUTY), Category.SAFETY),
    None: Route("110", (Helper.DUTY, Helper.GRID_WORKER), Category.SAFETY),
}


@dataclass(frozen=True)
class Alerted:
    """One helper reached: what they are (for the resident: "网格员 李秀英") and where the alert went."""

    helper: Helper
    name: str
    chat_id: int


def route(kind: str | None) -> Route:
    return ROUTES.get(kind, ROUTES[None])


def helpers_for(kind: str | None, *, community: Community, staff_chat_id: int | None,
                grid_code: str | None, granted: Sequence[int] = ()) -> list[Alerted]:
    """Who this kind of emergency alerts, as the community file names them (and ``granted``: the workers granted
    the grid, :func:`granted_of`); one entry per chat, in order.

    A helper the community has no chat for is left out (never claimed to the resident)."""
    found: list[Alerted] = []
    em = community.emergency
    for helper in route(kind).helpers:
        if helper is Helper.DUTY:
            chat, name = em.duty_chat_id or staff_chat_id, em.duty_name
        elif helper is Helper.GRID_WORKER:  # the file's worker, then those granted the grid (``granted``), each once
            grid = community.grid(grid_code) if grid_code else None
            for worker in roles.grid_worker_ids(community, grid_code, granted):
                mine = grid is not None and worker == grid.worker_tg_id
                if all(a.chat_id != worker for a in found):
                    found.append(Alerted(helper, grid.worker_name if mine and grid else "", worker))
            continue
        else:
            code = em.police_unit if helper is Helper.POLICE else em.property_unit
            unit = community.unit(code)
            chat, name = intake.unit_chat(community, staff_chat_id, code), unit.name if unit else code
        if chat is not None and all(a.chat_id != chat for a in found):
            found.append(Alerted(helper, name, chat))
    return found


async def granted_of(s: AsyncSession, grid_code: str | None) -> list[int]:
    """The workers granted ``grid_code`` by an admin (one read; none for no grid): alerted as the file's worker is."""
    return (await roles.granted_workers(s, [grid_code])).get(grid_code or "", []) if grid_code else []


@dataclass(frozen=True)
class EmergencyCase:
    sos: SosResult
    alerted: list[Alerted]

    @property
    def ticket(self) -> Ticket:
        return self.sos.ticket


async def open_emergency(s: AsyncSession, *, resident: Resident, kind: str | None, text: str, location: str | None,
                         grid_code: str | None, community: Community, staff_chat_id: int | None, reply_chat: int | None,
                         now: datetime, about: Category | None = None) -> EmergencyCase:
    """Open the red case and owe, in this transaction: the resident's answer first (who was alerted, whom to
    call), the alerts to each helper, and the card to the case's unit (buttons there) and to the level's chat."""
    r = route(kind)
    category = about if kind not in ROUTES and about is not None else r.category
    sos = await open_sos(s, resident=resident, text=text, location=location, photos=[], community=community,
                         now=now, category=category, grid_code=grid_code, kind=kind)
    t = sos.ticket
    assert t.id is not None
    alerted = helpers_for(kind, community=community, staff_chat_id=staff_chat_id, grid_code=t.grid_code,
                          granted=await granted_of(s, t.grid_code))
    if reply_chat is not None:
        await outbox.owe(s, chat_id=reply_chat, now=now, kind=OutboxKind.NOTIFY, ticket_id=t.id,
                         priority=Priority.REPLY,
                         payload={"say": "sos_opened", "kind": kind, "alerted": [[a.helper, a.name] for a in alerted]})
    for a in alerted:
        await outbox.owe(s, chat_id=a.chat_id, now=now, kind=OutboxKind.NOTIFY, ticket_id=t.id,
                         priority=Priority.ALERT, payload={"say": "sos_alert", "kind": kind})
    level = community.escalation_level(sos.escalation.level)
    header = {"sos": kind or ""}
    chats = [intake.unit_chat(community, staff_chat_id, t.unit), level.chat_id if level else None]
    for chat in dict.fromkeys(c for c in chats if c is not None):
        await outbox.owe(s, chat_id=chat, now=now, kind=OutboxKind.CARD, ticket_id=t.id, priority=Priority.ALERT,
                         payload={"post": PostKind.TICKET.value, **header})
    return EmergencyCase(sos, alerted)


async def add_place(s: AsyncSession, t: Ticket, *, place: str, kind: str | None, community: Community,
                    staff_chat_id: int | None, actor: str, now: datetime,
                    grid_code: str | None = None) -> list[Alerted]:
    """The resident said where the emergency is: kept on the case, and every helper alerted again with it.

    ``grid_code``: the grid of the building the place names, for a case that had none (a resident with no home
    saved): its grid worker is alerted now, with the whole alert, not just the place. A case its desk asked about
    (需补充, "在几号楼？") is answered by it as by any words of hers: the clock runs again and the desk that asked is
    told the place too (it is no helper of most kinds, and waited for an answer that never came)."""
    granted = await roles.granted_workers(s, [t.grid_code, grid_code])  # the grid before and after, one read
    before = {a.chat_id for a in helpers_for(kind, community=community, staff_chat_id=staff_chat_id,
                                              grid_code=t.grid_code, granted=granted.get(t.grid_code or "", []))}
    t.location = place[:255]
    t.building = building_of(t.location)
    if grid_code and t.grid_code is None:
        t.grid_code = grid_code
    t.updated_at = now
    s.add(t)
    await events.record_event(s, t, kind=TicketEventKind.NOTE, actor=actor, now=now, note=f"地点：{place}")
    alerted = helpers_for(kind, community=community, staff_chat_id=staff_chat_id, grid_code=t.grid_code,
                          granted=granted.get(t.grid_code or "", []))
    for a in alerted:
        say = "sos_place" if a.chat_id in before else "sos_alert"
        await outbox.owe(s, chat_id=a.chat_id, now=now, kind=OutboxKind.NOTIFY, ticket_id=t.id,
                         priority=Priority.ALERT, payload={"say": say, "kind": kind})
    desk = intake.unit_chat(community, staff_chat_id, t.unit)
    answered = t.status is TicketStatus.PENDING_INFO and (await lifecycle.answer_info(s, t, actor=actor, now=now)).ok
    if answered and desk is not None and desk not in {a.chat_id for a in alerted}:
        await outbox.owe(s, chat_id=desk, now=now, kind=OutboxKind.NOTIFY, ticket_id=t.id,
                         priority=Priority.ALERT, payload={"say": "sos_place", "kind": kind})
    if desk is not None and t.id is not None:
        await outbox.owe_refresh(s, ticket_id=t.id, chat_id=desk, now=now)
    return alerted


async def recent_of(s: AsyncSession, resident_id: int, now: datetime) -> Ticket | None:
    """The resident's emergency opened within ``REPEAT_WINDOW`` and still open, if any."""
    q = (select(Ticket)
         .where(Ticket.resident_id == resident_id, col(Ticket.emergency).is_(True),
                col(Ticket.status).in_(OPEN_STATUSES), Ticket.created_at >= now - REPEAT_WINDOW)
         .order_by(col(Ticket.id).desc()).limit(1))
    return (await s.exec(q)).first()


async def open_of(s: AsyncSession, resident_id: int) -> Ticket | None:
    """The resident's latest emergency still open, however long ago it was opened (an ambulance may take longer
    than ``REPEAT_WINDOW``, and the case stays open until its desk closes it)."""
    q = (select(Ticket)
         .where(Ticket.resident_id == resident_id, col(Ticket.emergency).is_(True),
                col(Ticket.status).in_(OPEN_STATUSES))
         .order_by(col(Ticket.id).desc()).limit(1))
    return (await s.exec(q)).first()


async def note_arrival(s: AsyncSession, t: Ticket, *, text: str, actor: str, now: datetime) -> None:
    """The resident says help came (救护车到了, 消防车来了): a note on the case for its desk, no new alert to anyone
    (nothing is wrong any more than it was; the desk decides what follows)."""
    await events.record_event(s, t, kind=TicketEventKind.NOTE, actor=actor, now=now,
                              note=f"居民说：{text.strip()[:500]}")
    t.updated_at = now
    s.add(t)


async def add_words(s: AsyncSession, t: Ticket, *, text: str, kind: str | None, community: Community,
                    staff_chat_id: int | None, actor: str, now: datetime) -> list[Alerted]:
    """The resident cried out again: the words noted on the case and sent at once to everyone the case alerted
    (and whoever the new words' kind alerts, when they name another: 摔倒了 … 着火了)."""
    words = text.strip()[:500]
    await events.record_event(s, t, kind=TicketEventKind.NOTE, actor=actor, now=now, note=f"居民又说：{words}")
    t.updated_at = now
    s.add(t)
    granted = await granted_of(s, t.grid_code)
    alerted = helpers_for(t.emergency_kind, community=community, staff_chat_id=staff_chat_id, grid_code=t.grid_code,
                          granted=granted)
    for extra in helpers_for(kind, community=community, staff_chat_id=staff_chat_id, grid_code=t.grid_code,
                             granted=granted):
        if kind != t.emergency_kind and all(a.chat_id != extra.chat_id for a in alerted):
            alerted.append(extra)
    assert t.id is not None
    for a in alerted:
        await outbox.owe(s, chat_id=a.chat_id, now=now, kind=OutboxKind.NOTIFY, ticket_id=t.id,
                         priority=Priority.ALERT, payload={"say": "sos_more", "words": words})
    return alerted


__all__ = ["REPEAT_WINDOW", "ROUTES", "Alerted", "EmergencyCase", "Helper", "Route", "add_place", "add_words",
           "helpers_for", "note_arrival", "open_emergency", "open_of", "recent_of", "route"]
