"""Open311 GeoReport v2 over the same cases (no HTTP here: parameters in, spec-shaped dictionaries out).

* ``services.json``: one service per complaint category (``service_code`` = the category code).
* ``requests.json`` (GET): filtered by ``service_request_id`` (comma-separated), ``service_code``, ``status``
  (open, closed, or both), ``start_date``/``end_date`` (W3C date-times); without dates, the last 90 days; never
  more than 1,000 requests, newest first — as the spec says.
* ``requests.json`` (POST): another system files a case, with its API key; the case enters the same lifecycle
  (``services.cases.intake.open_case``) with channel ``open311``.

Every read is stripped of personal data: no name, phone, Telegram id or room number; phone and ID numbers inside
the words are masked; the address is the building (or the community). Datetimes are ISO 8601 with the offset
(+08:00). An error is a list of ``{"code", "description"}`` with the HTTP status the caller should answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intents import Engine
from services import SHANGHAI, local, require_aware
from services.cases import clocks
from services.cases.duplicates import building_of
from services.cases.intake import Intake, open_case
from services.community.model import Category, Community
from services.people.residents import offline_resident
from services.web.tokens import digest, new_token
from storage.models import OPEN_STATUSES, Channel, Open311Client, Ticket, TicketStatus

DEFAULT_DAYS = 90
MAX_REQUESTS = 1000
NEAR_M = 300  # a reported point this close to a known building is that building
S = TicketStatus
STATUS_NOTES: Mapping[TicketStatus, str] = {
    S.RECEIVED: "已受理", S.DISPATCHED: "已派单，等待承办单位签收", S.SIGNED: "承办单位已签收", S.IN_PROGRESS: "办理中",
    S.PENDING_INFO: "待补充材料", S.REOPENED: "重新办理", S.WITHDRAWN: "已撤回", S.MERGED: "已合并到相同诉求",
}
_PHONE_LIKE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{17}[\dXx])(?!\d)")
_ROOM = re.compile(r"\d+\s*(?:室|号房|户)")


class Open311Error(Exception):
    """A refusal in the spec's shape: ``[{"code": status, "description": ...}]`` answered with ``status``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description

    def body(self) -> list[dict[str, Any]]:
        return [{"code": self.status, "description": self.description}]


def mask(text: str | None) -> str:
    """Words with phone and ID numbers, and room numbers, hidden."""
    if not text:
        return ""
    return _ROOM.sub("***", _PHONE_LIKE.sub(lambda m: m[0][:3] + "****" if len(m[0]) > 7 else "****", text))


def iso(moment: datetime | None) -> str | None:
    return local(moment).isoformat(timespec="seconds") if moment is not None else None


def parse_datetime(value: str, name: str) -> datetime:
    """A W3C date-time (``2026-03-01T00:00:00+08:00``, ``…Z``); a bare date or a time without offset is read in
    Asia/Shanghai. Anything else is a 400 naming the parameter."""
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), SHANGHAI)
        found = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise Open311Error(400, f"{name} is not a W3C date-time (e.g. 2026-03-01T00:00:00+08:00): {value!r}") \
            from None
    return found if found.tzinfo is not None else found.replace(tzinfo=SHANGHAI)


# --- services ------------------------------------------------------------------------------------------------------


def services(engine: Engine) -> list[dict[str, Any]]:
    info = engine.model.info
    return [{"service_code": c.value, "service_name": info[c.value].name if c.value in info else c.value,
             "description": f"{info[c.value].name if c.value in info else c.value}类诉求", "metadata": False,
             "type": "realtime", "keywords": "", "group": "接诉即办"} for c in Category]


# --- requests (read) -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()  # "open", "closed"
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str], *, now: datetime) -> Query:
        """The GET parameters checked: unknown codes, bad statuses and bad or reversed dates are 400s."""
        def split(name: str) -> tuple[str, ...]:
            return tuple(x.strip() for x in (params.get(name) or "").split(",") if x.strip())
        codes = split("service_code")
        unknown = [c for c in codes if c not in {x.value for x in Category}]
        if unknown:
            raise Open311Error(400, f"unknown service_code: {', '.join(unknown)}")
        statuses = tuple(x.lower() for x in split("status"))
        if any(x not in ("open", "closed") for x in statuses):
            raise Open311Error(400, "status must be open or closed (comma-separated for both)")
        start = parse_datetime(params["start_date"], "start_date") if params.get("start_date") else None
        end = parse_datetime(params["end_date"], "end_date") if params.get("end_date") else None
        if start and end and end < start:
            raise Open311Error(400, "end_date is before start_date")
        ids = split("service_request_id")
        if not ids and start is None and end is None:
            start = require_aware(now) - timedelta(days=DEFAULT_DAYS)
        elif not ids and start is None and end is not None:
            start = end - timedelta(days=DEFAULT_DAYS)
        return cls(ids, codes, statuses, start, end)


def _address(t: Ticket, community: Community) -> str:
    building = building_of(t.location)
    if building:
        return f"{community.name}{building}"
    grid = community.grid(t.grid_code) if t.grid_code else None
    return f"{community.name}{grid.name}" if grid else community.name


def _point(t: Ticket, community: Community) -> tuple[float | None, float | None]:
    building = building_of(t.location)
    found = next((b for b in community.building_points if b.name == building), None) if building else None
    return (found.lat, found.lon) if found else (None, None)


def request_dict(t: Ticket, *, community: Community, names: Mapping[str, str], now: datetime) -> dict[str, Any]:
    """One service request as the spec names its fields, with no personal data."""
    unit = community.unit(t.unit)
    is_open = t.status in OPEN_STATUSES
    if is_open:
        notes = STATUS_NOTES.get(t.status, "")
    elif t.result and t.status in (S.RESOLVED, S.FOLLOWED_UP, S.CLOSED):
        notes = "已办结：" + mask(t.result)
    else:
        notes = STATUS_NOTES.get(t.status, "已关闭")
    lat, lon = _point(t, community)
    return {
        "service_request_id": t.number,
        "status": "open" if is_open else "closed",
        "status_notes": notes,
        "service_name": names.get(t.category, t.category),
        "service_code": t.category,
        "description": mask(t.text),
        "agency_responsible": unit.name if unit else t.unit,
        "service_notice": "",
        "requested_datetime": iso(t.created_at),
        "updated_datetime": iso(t.updated_at),
        "expected_datetime": iso(clocks.effective_due(t, now)) if is_open else iso(t.due_at),
        "address": _address(t, community),
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": None,
    }


async def find_requests(s: AsyncSession, q: Query) -> list[Ticket]:
    stmt = select(Ticket).where(col(Ticket.status) != S.MERGED)
    if q.ids:
        stmt = stmt.where(col(Ticket.number).in_([x.upper() for x in q.ids]))
    if q.service_codes:
        stmt = stmt.where(col(Ticket.category).in_(q.service_codes))
    if q.statuses and set(q.statuses) != {"open", "closed"}:
        opened = col(Ticket.status).in_([x.value for x in OPEN_STATUSES])
        stmt = stmt.where(opened if q.statuses[0] == "open" else ~opened)
    if q.start is not None:
        stmt = stmt.where(col(Ticket.created_at) >= q.start)
    if q.end is not None:
        stmt = stmt.where(col(Ticket.created_at) <= q.end)
    stmt = stmt.order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc()).limit(MAX_REQUESTS)
    return list((await s.exec(stmt)).all())


async def find_request(s: AsyncSession, number: str) -> Ticket | None:
    t = (await s.exec(select(Ticket).where(Ticket.number == number.strip().upper()))).first()
    return t if t is not None and t.status is not S.MERGED else None


# --- clients and their keys ------------------------------------------------------------------------------------------


async def add_client(s: AsyncSession, *, name: str, now: datetime) -> str:
    """A new client and its API key (shown once; only its SHA-256 is kept)."""
    key = new_token(24)
    s.add(Open311Client(name=name.strip()[:64], key_hash=digest(key), created_at=require_aware(now)))
    await s.flush()
    return key


async def client_of(s: AsyncSession, api_key: str | None) -> Open311Client | None:
    if not api_key:
        return None
    row = (await s.exec(select(Open311Client).where(Open311Client.key_hash == digest(api_key.strip())))).first()
    return row if row is not None and row.revoked_at is None else None


async def revoke_client(s: AsyncSession, *, name: str, now: datetime) -> bool:
    done = await s.exec(update(Open311Client).where(  # type: ignore[call-overload]
        col(Open311Client.name) == name, col(Open311Client.revoked_at).is_(None)).values(revoked_at=now))
    return bool(done.rowcount)


async def clients(s: AsyncSession) -> list[Open311Client]:
    return list((await s.exec(select(Open311Client).order_by(col(Open311Client.id)))).all())


# --- requests (create) ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filed:
    ticket: Ticket
    linked: bool


async def file_request(s: AsyncSession, params: Mapping[str, str], *, client: Open311Client, community: Community,
                       staff_chat_id: int | None, now: datetime) -> Filed:
    """POST requests.json: a case from another system, checked field by field (400 naming the field)."""
    code = (params.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    if code not in {c.value for c in Category}:
        raise Open311Error(400, f"unknown service_code: {code}")
    text = " ".join((params.get("description") or "").split())
    if len(text) < 4:
        raise Open311Error(400, "description is required (at least 4 characters)")
    if len(text) > 4000:
        raise Open311Error(400, "description is longer than 4000 characters")
    location = " ".join((params.get("address_string") or "").split())[:255]
    lat_s, lon_s = (params.get("lat") or "").strip(), (params.get("long") or "").strip()
    if lat_s or lon_s:
        try:
            lat, lon = float(lat_s), float(lon_s)
        except ValueError:
            raise Open311Error(400, "lat and long must both be decimal degrees") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise Open311Error(400, "lat/long out of range")
        near = community.nearest_building(lat, lon)
        if not location:
            location = near[0] if near and near[1] <= NEAR_M else f"{lat:.6f},{lon:.6f}"
    if not location and not (params.get("address_id") or "").strip():
        raise Open311Error(400, "a location is required: lat and long, address_string or address_id")
    location = location or (params.get("address_id") or "").strip()[:255]
    phone = re.sub(r"[\s-]", "", params.get("phone") or "")[:32] or None
    name = " ".join(x for x in ((params.get("last_name") or "").strip(), (params.get("first_name") or "").strip())
                    if x)[:64]
    building = building_of(location)
    info = community.grid_for_building(building) if building else None
    resident = await offline_resident(s, name=name or f"外部平台来件·{client.name}", phone=phone, building=building,
                                      grid_code=info.code if info else None, now=now)
    opened = await open_case(s, resident=resident, intake=Intake(
        category=code, text=text, location=location, grid_code=info.code if info else None,
        channel=Channel.OPEN311, contact_name=name or None, contact_phone=phone,
    ), community=community, staff_chat_id=staff_chat_id, now=now)
    return Filed(opened.ticket, opened.linked)


__all__ = ["DEFAULT_DAYS", "MAX_REQUESTS", "Filed", "Open311Error", "Query", "add_client", "client_of", "clients",
           "file_request", "find_request", "find_requests", "iso", "mask", "parse_datetime", "request_dict",
           "revoke_client", "services"]
