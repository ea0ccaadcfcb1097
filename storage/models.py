"""All tables in one place (SQLModel, table=True).

Timestamps: every datetime column uses :class:`UTCDateTime`, which stores naive UTC (SQLite has no
time zone type) and hands back aware UTC datetimes, so arithmetic with an aware ``now`` never mixes
naive and aware values. Enum columns are plain strings (:class:`StrEnumType`) so adding a status
later needs no database migration, only a new enum member.
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Dialect, ExecutionContext
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# Named constraints keep Alembic's batch mode (SQLite table rebuilds) able to find them later.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



def empty_list() -> list[Any]:
    """``default_factory`` for list columns: pydantic inspects a factory's signature each time it builds a model,
    ~85 µs for the builtin ``list`` (no signature to find), a few for a plain function."""
    return []


def empty_dict() -> dict[str, Any]:
    """``default_factory`` for dict columns (see :func:`empty_list`)."""
    return {}

class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetime in Python, naive UTC in the database (same on SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass a timezone-aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StrEnumType(TypeDecorator[StrEnum]):
    """A StrEnum stored as VARCHAR: no native ENUM type, so new members need no migration."""

    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[StrEnum], length: int = 32) -> None:
        super().__init__(length)
        self.enum_cls = enum_cls
        self.length = length

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum_cls(value).value  # rejects unknown strings before they reach the table

    def process_result_value(self, value: str | None, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum_cls(value)


class TicketStatus(StrEnum):
    """The whole 接诉即办 lifecycle; later work adds transitions, not members."""

    RECEIVED = "received"  # 已受理
    DISPATCHED = "dispatched"  # 已派单
    SIGNED = "signed"  # 已签收
    IN_PROGRESS = "in_progress"  # 办理中
    PENDING_INFO = "pending_info"  # 待补充
    RESOLVED = "resolved"  # 已办结
    FOLLOWED_UP = "followed_up"  # 已回访
    CLOSED = "closed"  # 已关闭
    WITHDRAWN = "withdrawn"  # 已撤回
    MERGED = "merged"  # 已合并
    REOPENED = "reopened"  # 重新办理


OPEN_STATUSES: frozenset[TicketStatus] = frozenset(
    {
        TicketStatus.RECEIVED,
        TicketStatus.DISPATCHED,
        TicketStatus.SIGNED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.PENDING_INFO,
        TicketStatus.REOPENED,
    }
)


class TicketEventKind(StrEnum):
    CREATED = "created"
    WITHDRAWN = "withdrawn"
    STATUS_CHANGED = "status_changed"
    DISPATCHED = "dispatched"
    NOTE = "note"
    REPLY = "reply"
    ESCALATED = "escalated"
    MERGED = "merged"
    RATED = "rated"
    REASSIGNED = "reassigned"  # 转派: another unit takes the case (event.unit, reason in note)
    REMINDED = "reminded"  # 催办: a clock reached yellow or the sign-for limit
    LINKED = "linked"  # a duplicate complaint joined the case as a follower
    MEDIATION = "mediation"  # a dispute mediation stage (event.mediation_stage, meeting_at)
    SUPERVISED = "supervised"  # 督办 issued by a supervisor (reason in note; services.cases.supervision)
    SUPERVISION_ANSWERED = "supervision_answered"  # the handling unit answered a 督办 (answer in note)


class Rating(StrEnum):
    """The resident's verdict at follow-up (回访); UNRATED is set when nobody answers, UNREACHABLE when the case was
    closed because its resident could not be reached (nobody to ask): never by a resident."""

    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意
    UNRATED = "unrated"  # 未评价 (no answer in time)
    UNREACHABLE = "unreachable"  # 无法联系: closed because the resident could not be reached, so never asked (no 回访)


class MediationStage(StrEnum):
    """人民调解 stages of a dispute ticket, in order."""

    APPLIED = "applied"  # 申请
    REGISTERED = "registered"  # 登记
    MEETING = "meeting"  # 会议
    NEGOTIATION = "negotiation"  # 协商
    AGREEMENT = "agreement"  # 协议
    FOLLOW_UP = "follow_up"  # 回访


class AgeBand(StrEnum):
    SENIOR = "65+"
    UNDER_65 = "under65"


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _created_at(context: ExecutionContext) -> Any:
    """Insert default of ``next_check_at``: a new ticket is due for its first check at once, so the
    sweep arms its clocks even when it was opened by code that knows nothing about them."""
    return context.get_current_parameters().get("created_at")


class Grid(SQLModel, table=True):
    """A 网格: a few buildings looked after by one grid worker (mirrors the community file)."""

    __tablename__ = "grids"

    code: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=64)
    worker_name: str = Field(default="", max_length=64)
    worker_tg_id: int | None = Field(default=None, sa_type=BigInteger)
    buildings: list[str] = Field(default_factory=empty_list, sa_type=JSON)


class Resident(SQLModel, table=True):
    """A resident: a Telegram user, or (``tg_user_id`` None) someone whose case staff recorded for them (代录)."""

    __tablename__ = "residents"

    id: int | None = Field(default=None, primary_key=True)
    tg_user_id: int | None = Field(default=None, sa_type=BigInteger, unique=True, index=True)
    name: str = Field(default="", max_length=128)
    phone: str | None = Field(default=None, max_length=32)
    grid_code: str | None = Field(default=None, foreign_key="grids.code", index=True, max_length=16)
    building: str | None = Field(default=None, max_length=32)
    unit: str | None = Field(default=None, max_length=32)
    age_band: AgeBand | None = Field(default=None, sa_type=StrEnumType(AgeBand, 16))
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    unreachable_at: datetime | None = _utc(default=None)  # a message to them got 403 (blocked the bot)


class Channel(StrEnum):
    """How a case reached the desk (受理渠道)."""

    TELEGRAM = "telegram"  # the resident wrote to the bot
    PHONE = "phone"  # 电话: recorded by staff (代录)
    VISIT = "visit"  # 来访
    LETTER = "letter"  # 信件
    PATROL = "patrol"  # 走访: met on a grid worker's round
    HOTLINE = "12345"  # 12345 热线
    WEB = "web"  # 服务码 page
    OPEN311 = "open311"


class Ticket(SQLModel, table=True):
    """A complaint (诉求) with its number, handling unit and deadlines."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_due_at", "status", "due_at"),
        Index("ix_tickets_status_resolved_at", "status", "resolved_at"),
        Index("ix_tickets_category_created_at", "category", "created_at"),
        Index("ix_tickets_created_at", "created_at"),  # reports: the tickets received in a period
        # duplicates and hotspots: a category's recent cases at one building, or in one grid
        Index("ix_tickets_place_building", "category", "building", "created_at"),
        Index("ix_tickets_place_grid", "category", "grid_code", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True, max_length=32)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    category: str = Field(max_length=32)
    text: str = Field(sa_type=Text)
    location: str | None = Field(default=None, max_length=255)
    building: str | None = Field(default=None, max_length=32)  # "10号楼" when the location names one (kept with it)
    photos: list[str] = Field(default_factory=empty_list, sa_type=JSON)
    status: TicketStatus = Field(default=TicketStatus.RECEIVED, sa_type=StrEnumType(TicketStatus))
    unit: str = Field(max_length=32)
    grid_code: str | None = Field(default=None, foreign_key="grids.code", max_length=16)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    sign_due_at: datetime = _utc()
    due_at: datetime = _utc(index=True)
    closed_at: datetime | None = _utc(default=None)
    merged_into_id: int | None = Field(default=None, foreign_key="tickets.id")
    # --- lifecycle (services.cases: lifecycle, clocks, sweep, followup) ---------------------------------
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # optimistic guard
    result: str | None = Field(default=None, sa_type=Text)  # 办理结果, required to resolve
    resume_status: TicketStatus | None = Field(default=None, sa_type=StrEnumType(TicketStatus))
    emergency: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    emergency_kind: str | None = Field(default=None, max_length=16)  # medical, fire, gas, crime, trapped, …
    escalation_level: str | None = Field(default=None, max_length=16)  # grid / community / street
    clock_started_at: datetime | None = _utc(default=None)  # None: the resolution clock runs from created_at
    paused_at: datetime | None = _utc(default=None)  # set while 待补充 stops the resolution clock
    paused_seconds: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    signed_at: datetime | None = _utc(default=None)
    resolved_at: datetime | None = _utc(default=None)
    # what reports would otherwise look up in the events, kept with them by services.cases.lifecycle: the first
    # signing ever (signed_at is cleared by reassignment and reopening) and how often it was resolved and reopened
    first_signed_at: datetime | None = _utc(default=None)
    resolved_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    reopened_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    sign_reminded_at: datetime | None = _utc(default=None)
    reminded_at: datetime | None = _utc(default=None)  # yellow reminder sent for the current clock
    breached_at: datetime | None = _utc(default=None)  # red escalation done for the current clock
    overdue_steps: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # further periods red, alerted
    info_chased: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # 待补充 chases given (0, 1, 2)
    next_check_at: datetime | None = _utc(default=None, index=True, sa_column_kwargs={"default": _created_at})
    followup_sent_at: datetime | None = _utc(default=None)
    rating: Rating | None = Field(default=None, sa_type=StrEnumType(Rating))
    rated_at: datetime | None = _utc(default=None)
    rating_comment: str | None = Field(default=None, sa_type=Text)
    # --- intake (how the case came in, who recorded it, what came with it) -------------------------------
    channel: Channel = Field(default=Channel.TELEGRAM, sa_type=StrEnumType(Channel, 16),
                             sa_column_kwargs={"server_default": "telegram"})
    recorded_by: int | None = Field(default=None, sa_type=BigInteger)  # Telegram id of whoever recorded it (代录)
    contact_name: str | None = Field(default=None, max_length=64)
    contact_phone: str | None = Field(default=None, max_length=32)
    attachments: list[dict[str, Any]] = Field(default_factory=empty_list, sa_type=JSON)  # voice, documents


STEP_KINDS = ("escalated", "mediation")
STEP_EVENTS = f"kind IN ('{STEP_KINDS[0]}', '{STEP_KINDS[1]}')"
"""The events of ``ix_ticket_events_steps`` (a partial index: a query must say the same to use it)."""


class TicketEvent(SQLModel, table=True):
    """Append-only history of a ticket; never updated or deleted."""

    __tablename__ = "ticket_events"
    # reports read a period's cases' events from this index alone (covering: no table lookups)
    __table_args__ = (Index("ix_ticket_events_report", "ticket_id", "kind", "to_status", "at", "level",
                            "mediation_stage"),
                      # PostgreSQL's reports read a period's escalations and mediations here (a tenth of the events)
                      Index("ix_ticket_events_steps", "ticket_id", "kind", "level", "mediation_stage",
                            postgresql_where=sql_text(STEP_EVENTS), sqlite_where=sql_text(STEP_EVENTS)))

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    at: datetime = _utc()
    actor: str = Field(max_length=64)
    kind: TicketEventKind = Field(sa_type=StrEnumType(TicketEventKind))
    from_status: TicketStatus | None = Field(default=None, sa_type=StrEnumType(TicketStatus))
    to_status: TicketStatus | None = Field(default=None, sa_type=StrEnumType(TicketStatus))
    note: str | None = Field(default=None, sa_type=Text)
    level: str | None = Field(default=None, max_length=16)  # escalation level of an "escalated" event
    unit: str | None = Field(default=None, max_length=32)  # the unit a "reassigned" event hands over to
    rating: Rating | None = Field(default=None, sa_type=StrEnumType(Rating))
    mediation_stage: MediationStage | None = Field(default=None, sa_type=StrEnumType(MediationStage))
    meeting_at: datetime | None = _utc(default=None, index=True)


class TicketFollower(SQLModel, table=True):
    """A resident whose duplicate complaint was linked to an open case: gets its updates, opens nothing."""

    __tablename__ = "ticket_followers"
    __table_args__ = (UniqueConstraint("ticket_id", "resident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    linked_at: datetime = _utc(index=True)  # hotspots count the links of the last day
    text: str = Field(default="", sa_type=Text)
    # their own 回访 answer (the case's rating stays its author's): asked with the author, once a round of 办结
    rating: Rating | None = Field(default=None, sa_type=StrEnumType(Rating))
    rated_at: datetime | None = _utc(default=None)
    rating_comment: str | None = Field(default=None, sa_type=Text)


class HotspotWarning(SQLModel, table=True):
    """An early warning raised once for repeated complaints of one category in one building or grid."""

    __tablename__ = "hotspot_warnings"
    __table_args__ = (Index("ix_hotspot_warnings_scope", "category", "scope_kind", "scope", "raised_at"),)

    id: int | None = Field(default=None, primary_key=True)
    category: str = Field(max_length=32)
    scope_kind: str = Field(max_length=16)  # "building" or "grid"
    scope: str = Field(max_length=64)
    raised_at: datetime = _utc()
    count: int


class DailyCounter(SQLModel, table=True):
    """Last ticket sequence used on one Asia/Shanghai day. PostgreSQL bumps it with an atomic upsert (its row lock
    orders concurrent openers); SQLite numbers a ticket in its own INSERT under the write lock and only reads this row,
    as a floor (``services.cases.tickets.insert_ticket``)."""

    __tablename__ = "daily_counters"

    day: str = Field(primary_key=True, max_length=8)
    last: int = 0


class PointsEntry(SQLModel, table=True):
    """Points ledger line: + earned, − spent. Balances and stock are sums over this table."""

    __tablename__ = "points_entries"
    __table_args__ = (Index("ix_points_entries_reason_ref", "reason", "ref"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    at: datetime = _utc()
    delta: int
    reason: str = Field(max_length=32)
    ref: str | None = Field(default=None, max_length=64)
    # --- who caused it and why (services.points.ledger; migration 0009) ---
    actor_tg_id: int | None = Field(default=None, sa_type=BigInteger)  # staff, grid worker or resident; None: the bot
    note: str | None = Field(default=None, max_length=255)  # the why in words ("清洁家园行动", "点单 #12")
    reverses_id: int | None = Field(default=None, foreign_key="points_entries.id", unique=True)  # a correction


class Draft(SQLModel, table=True):
    """The complaint a resident is still composing; kept in the database to survive restarts."""

    __tablename__ = "drafts"

    resident_id: int = Field(primary_key=True, foreign_key="residents.id")
    text: str = Field(default="", sa_type=Text)
    category: str | None = Field(default=None, max_length=32)
    candidates: list[Any] = Field(default_factory=empty_list, sa_type=JSON)
    location: str | None = Field(default=None, max_length=255)
    photos: list[str] = Field(default_factory=empty_list, sa_type=JSON)
    attachments: list[dict[str, Any]] = Field(default_factory=empty_list, sa_type=JSON)  # voice, documents
    stage: str = Field(default="collecting", max_length=32)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    # the bot's message showing it with 确认提交: a 确认 typed instead of pressed edits that message into the number
    shown_message_id: int | None = Field(default=None, sa_type=BigInteger)


__all__ = [
    "OPEN_STATUSES",
    "AgeBand",
    "Channel",
    "DailyCounter",
    "Draft",
    "Grid",
    "HotspotWarning",
    "MediationStage",
    "PointsEntry",
    "Rating",
    "Resident",
    "StrEnumType",
    "Ticket",
    "TicketEvent",
    "TicketEventKind",
    "TicketFollower",
    "TicketStatus",
    "UTCDateTime",
]


# --- staff desk (handlers.cards, handlers.desk): where the bot posted each case -------------------------


class PostKind(StrEnum):
    """What a bot message in a staff chat is, so a staff reply to it can be routed without parsing text."""

    TICKET = "ticket"  # the case card with its buttons, in the handling unit's chat (or the staff chat)
    ESCALATION = "escalation"  # the case card posted to an escalation level's chat
    RELAY = "relay"  # the resident's words, a reminder or a notice under a card: a reply goes to the resident
    ASK_RESULT = "ask_result"  # ForceReply prompt after 办结: the reply is the result
    ASK_INFO = "ask_info"  # ForceReply prompt after 需补充: the reply is the question for the resident
    READ_ONLY = "read_only"  # a supervisor's card (/case): redrawn with the case, no buttons, replies not taken


class TicketPost(SQLModel, table=True):
    """One bot message about a ticket in a staff chat; looked up by (chat_id, message_id) on replies."""

    __tablename__ = "ticket_posts"
    # several cases share one message when a desk's backlog of cards is combined (``batch``)
    __table_args__ = (Index("ix_ticket_posts_chat_id_message_id_ticket_id", "chat_id", "message_id", "ticket_id",
                            unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    chat_id: int = Field(sa_type=BigInteger)
    message_id: int = Field(sa_type=BigInteger)
    kind: PostKind = Field(sa_type=StrEnumType(PostKind, 16))
    created_at: datetime = _utc()
    media: bool = Field(default=False, sa_column_kwargs={"server_default": false()})  # a photo: edit its caption
    batch: bool = Field(default=False, sa_column_kwargs={"server_default": false()})  # one message, several cases


__all__ += ["PostKind", "TicketPost"]


# --- roles and notices (services.people.roles, services.notices.broadcast, bot.sender) -------------


class RoleName(StrEnum):
    """Who may do what beyond being a resident (residents hold no Role row: the role is implicit)."""

    RESIDENT = "resident"
    GRIDWORKER = "gridworker"  # scope: a grid code
    STAFF = "staff"  # scope: a handling unit code
    ADMIN = "admin"  # scope: ""
    SUPERVISOR = "supervisor"  # 督办 (e.g. the street's 纪工委): read-only; scope "" (everything) or a unit code


class Role(SQLModel, table=True):
    """One granted role; granted_by is the granting Telegram user, None from the command line."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("tg_user_id", "role", "scope"),)

    id: int | None = Field(default=None, primary_key=True)
    tg_user_id: int = Field(sa_type=BigInteger, index=True)
    role: RoleName = Field(sa_type=StrEnumType(RoleName, 16))
    scope: str = Field(default="", max_length=32)
    granted_by: int | None = Field(default=None, sa_type=BigInteger)
    granted_at: datetime = _utc()


class NoticeKind(StrEnum):
    OUTAGE = "outage"  # 停水停电
    FRAUD = "fraud"  # 反诈提醒
    COUNCIL = "council"  # 议事会通知
    SIGNUP = "signup"  # 活动报名
    GENERAL = "general"  # 一般通知


class AudienceKind(StrEnum):
    GRID = "grid"  # value: one or more grid codes, comma-separated
    BUILDING = "building"  # value: a building ("9号楼")
    COMMUNITY = "community"  # value: ""


class NoticeStatus(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    UNREACHABLE = "unreachable"  # 403: the resident blocked the bot
    FAILED = "failed"


class Notice(SQLModel, table=True):
    """A notice to residents (通知); nothing is sent before it is confirmed."""

    __tablename__ = "notices"

    id: int | None = Field(default=None, primary_key=True)
    author_tg_id: int = Field(sa_type=BigInteger, index=True)
    kind: NoticeKind = Field(sa_type=StrEnumType(NoticeKind, 16))
    urgent: bool = False  # reaches muted residents too
    text: str = Field(sa_type=Text)
    photo_file_id: str | None = Field(default=None, max_length=255)
    audience_kind: AudienceKind = Field(sa_type=StrEnumType(AudienceKind, 16))
    audience_value: str = Field(default="", max_length=255)
    send_at: datetime | None = _utc(default=None)
    status: NoticeStatus = Field(default=NoticeStatus.DRAFT, sa_type=StrEnumType(NoticeStatus, 16))
    total: int = 0
    report_chat_id: int | None = Field(default=None, sa_type=BigInteger)  # where progress is shown
    report_message_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = _utc()
    confirmed_at: datetime | None = _utc(default=None)
    finished_at: datetime | None = _utc(default=None)


class NoticeDelivery(SQLModel, table=True):
    """One notice to one resident; only marked sent after Telegram accepted it."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (
        UniqueConstraint("notice_id", "tg_user_id"),
        Index("ix_notice_deliveries_status_next_try_at", "status", "next_try_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notices.id", index=True)
    tg_user_id: int = Field(sa_type=BigInteger)
    status: DeliveryStatus = Field(default=DeliveryStatus.PENDING, sa_type=StrEnumType(DeliveryStatus, 16))
    attempts: int = 0
    next_try_at: datetime = _utc()
    sent_at: datetime | None = _utc(default=None)
    error: str | None = Field(default=None, max_length=255)


class Mute(SQLModel, table=True):
    """A resident who asked (/mute) not to get notices; urgent ones still reach them."""

    __tablename__ = "notice_mutes"

    tg_user_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    muted_at: datetime = _utc()


__all__ += [
    "AudienceKind",
    "DeliveryStatus",
    "Mute",
    "Notice",
    "NoticeDelivery",
    "NoticeKind",
    "NoticeStatus",
    "Role",
    "RoleName",
]


class KnownUser(SQLModel, table=True):
    """A Telegram user the bot has seen, so people can be named by @username (``/grant @li_xy staff wuye``).

    The Bot API cannot look a user up by username; the bot can only remember the ones it has met."""

    __tablename__ = "known_users"

    tg_user_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    username: str | None = Field(default=None, max_length=64, index=True)  # lower case, without the @
    name: str = Field(default="", max_length=128)
    seen_at: datetime = _utc()


__all__ += ["KnownUser"]


class Conversation(SQLModel, table=True):
    """A staff member's multi-step chat in progress (composing a notice): survives restarts, so their next
    message is still read as the step it answers, never as a resident's complaint."""

    __tablename__ = "conversations"

    tg_user_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    flow: str = Field(max_length=16)
    data: dict[str, Any] = Field(default_factory=empty_dict, sa_type=JSON)
    updated_at: datetime = _utc()


__all__ += ["Conversation"]


# --- the outbox (services.outbox, bot.sender): what the bot owes people because of a committed change ----


class OutboxKind(StrEnum):
    MESSAGE = "message"  # text (and, in payload, inline buttons) as written
    CARD = "card"  # a case card, drawn when sent (current status and buttons); recorded as a TicketPost
    UNDER_CARD = "under_card"  # text threaded under the case's newest card in that chat; recorded as RELAY
    REFRESH = "refresh"  # redraw every card of the case (edits)
    MEDIA = "media"  # the case's photos, voice or files, under its card
    NOTIFY = "notify"  # words named in payload["say"], drawn when sent (for services and front ends without texts)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    UNREACHABLE = "unreachable"  # 403: the person blocked the bot; the desk is told
    FAILED = "failed"  # refused by Telegram (400) or too many attempts


class OutboxMessage(SQLModel, table=True):
    """One message the bot owes someone, written in the transaction of the change that owes it.

    Sent by the one paced sender (``bot.sender``) in order per chat, retried on 429/5xx/network errors,
    resumed after any restart; marked sent only after Telegram accepted it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_try_at", "status", "next_try_at"),
        Index("ix_outbox_chat_id_status_id", "chat_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: OutboxKind = Field(sa_type=StrEnumType(OutboxKind, 16))
    chat_id: int = Field(sa_type=BigInteger)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    priority: int = 2  # 0: the person who just acted, 1: emergency alerts, 2: desk posts, 3: background
    text: str | None = Field(default=None, sa_type=Text)
    payload: dict[str, Any] = Field(default_factory=empty_dict, sa_type=JSON)
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=StrEnumType(OutboxStatus, 16))
    attempts: int = 0
    created_at: datetime = _utc()
    next_try_at: datetime = _utc()
    sent_at: datetime | None = _utc(default=None)
    message_id: int | None = Field(default=None, sa_type=BigInteger)  # what Telegram returned (the first)
    error: str | None = Field(default=None, max_length=255)


__all__ += ["OutboxKind", "OutboxMessage", "OutboxStatus"]


# --- learning from the desk (services.cases.corrections, intents.train) ------------------------------


class CorrectionSource(StrEnum):
    REASSIGN = "reassign"  # staff 转派 the case to a unit of another category
    CORRECTION = "correction"  # staff changed the category on the card
    RESIDENT_CHOICE = "resident_choice"  # the resident picked the category from the buttons


class IntentCorrection(SQLModel, table=True):
    """A message and the category a person said it is: training data the engine learns from (``linli intents
    export`` writes them as text,label,source,at)."""

    __tablename__ = "intent_corrections"

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(sa_type=Text)
    label: str = Field(max_length=32)
    predicted: str | None = Field(default=None, max_length=32)  # what the engine had said, if anything
    source: CorrectionSource = Field(sa_type=StrEnumType(CorrectionSource, 16))
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    actor: str = Field(default="", max_length=64)
    at: datetime = _utc(index=True)


__all__ += ["CorrectionSource", "IntentCorrection"]


# --- reports, supervision and the audit trail (services.reports, services.cases.supervision, services.people.audit)


class ReportRun(SQLModel, table=True):
    """A scheduled report (周调度/月评估/季研判) claimed for sending: one row per kind and period, so a restart
    neither repeats nor skips one."""

    __tablename__ = "report_runs"
    __table_args__ = (UniqueConstraint("kind", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # week / month / quarter
    period: str = Field(max_length=32)  # 2026-W48, 2026-11, 2026Q4
    due_at: datetime = _utc()
    claimed_at: datetime = _utc()


class Supervision(SQLModel, table=True):
    """A 督办 on a case: why, by when the handling unit must answer, and the answer when it came."""

    __tablename__ = "supervisions"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    supervisor_tg_id: int | None = Field(default=None, sa_type=BigInteger)
    reason: str = Field(sa_type=Text)
    issued_at: datetime = _utc()
    reply_by: datetime = _utc(index=True)
    answered_at: datetime | None = _utc(default=None)
    answered_by: str | None = Field(default=None, max_length=64)
    answer: str | None = Field(default=None, sa_type=Text)


class AuditEntry(SQLModel, table=True):
    """One attempt to act: who, from which chat, when, what, on which case, allowed or refused. Append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_tg_user_id_at", "tg_user_id", "at"),
        Index("ix_audit_log_ticket_id_at", "ticket_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc(index=True)
    tg_user_id: int | None = Field(default=None, sa_type=BigInteger)
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    action: str = Field(max_length=64)
    allowed: bool
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id")
    scope: str = Field(default="", max_length=255)
    via: str = Field(default="", max_length=255)
    note: str | None = Field(default=None, sa_type=Text)


__all__ += ["AuditEntry", "ReportRun", "Supervision"]


# --- residents take part (services.participation, services.points; migration 0009) -----------------------


class PartnerStatus(StrEnum):
    PENDING = "pending"  # 待审核
    APPROVED = "approved"  # 已通过: offered matching orders
    REFUSED = "refused"  # 未通过 (reason given)
    PAUSED = "paused"  # 暂停接单 (by the partner)


class Partner(SQLModel, table=True):
    """A 社区合伙人: a resident, volunteer, shop or professional offering services from the community's list."""

    __tablename__ = "partners"

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="residents.id", unique=True)
    name: str = Field(default="", max_length=128)
    services: list[str] = Field(default_factory=empty_list, sa_type=JSON)  # ServiceOffer codes
    available: str = Field(default="", max_length=255)  # when (周末下午)
    area: str = Field(default="", max_length=255)  # where (5号楼底商, 上门)
    grid_code: str | None = Field(default=None, foreign_key="grids.code", max_length=16)
    status: PartnerStatus = Field(default=PartnerStatus.PENDING, sa_type=StrEnumType(PartnerStatus, 16))
    reason: str | None = Field(default=None, sa_type=Text)  # why refused
    decided_by: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = _utc()
    decided_at: datetime | None = _utc(default=None)
    updated_at: datetime = _utc()


class OrderStatus(StrEnum):
    OPEN = "open"  # offered to matching partners, within its window
    DESK = "desk"  # nobody took it in its window (or the partner gave it back): staff assign it
    TAKEN = "taken"  # one partner has it
    DONE = "done"  # the resident confirmed it happened and rated it; the partner's points are written
    NO_SHOW = "no_show"  # the resident said nobody came
    CANCELLED = "cancelled"  # by the resident


class ServiceOrder(SQLModel, table=True):
    """居民点单: a resident asks for a service; exactly one partner takes it (a compare-and-set on status)."""

    __tablename__ = "service_orders"
    __table_args__ = (Index("ix_service_orders_status_window_until", "status", "window_until"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    service: str = Field(max_length=32)
    text: str = Field(sa_type=Text)  # what, in the resident's words
    when_text: str = Field(default="", max_length=255)
    place: str = Field(default="", max_length=255)
    grid_code: str | None = Field(default=None, foreign_key="grids.code", max_length=16)
    status: OrderStatus = Field(default=OrderStatus.OPEN, sa_type=StrEnumType(OrderStatus, 16))
    partner_id: int | None = Field(default=None, foreign_key="partners.id", index=True)
    created_at: datetime = _utc()
    window_until: datetime = _utc()  # not taken by then: to the desk
    taken_at: datetime | None = _utc(default=None)
    closed_at: datetime | None = _utc(default=None)
    rating: int | None = None  # 1–5 stars, with DONE
    points_entry_id: int | None = Field(default=None, foreign_key="points_entries.id")
    updated_at: datetime = _utc()


class OrderEvent(SQLModel, table=True):
    """Append-only history of an order: placed, taken, assigned, given back, no-show, cancelled, done, to the desk."""

    __tablename__ = "order_events"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="service_orders.id", index=True)
    at: datetime = _utc()
    kind: str = Field(max_length=16)
    actor_tg_id: int | None = Field(default=None, sa_type=BigInteger)
    partner_id: int | None = Field(default=None, foreign_key="partners.id")
    note: str | None = Field(default=None, sa_type=Text)


class WishStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"  # one partner or volunteer has it
    FULFILLED = "fulfilled"  # the claimer says it is done; the grid worker confirms
    CONFIRMED = "confirmed"  # points written
    CANCELLED = "cancelled"


class Wish(SQLModel, table=True):
    """微心愿: a small wish of a resident in difficulty (a school bag, a visit, a repair)."""

    __tablename__ = "wishes"

    id: int | None = Field(default=None, primary_key=True)
    grid_code: str | None = Field(default=None, foreign_key="grids.code", max_length=16, index=True)
    resident_id: int | None = Field(default=None, foreign_key="residents.id")  # whose wish, when they posted it
    posted_by: int = Field(sa_type=BigInteger)  # the resident or the grid worker for them
    text: str = Field(sa_type=Text)
    status: WishStatus = Field(default=WishStatus.OPEN, sa_type=StrEnumType(WishStatus, 16))
    claimer_id: int | None = Field(default=None, foreign_key="residents.id")
    created_at: datetime = _utc()
    claimed_at: datetime | None = _utc(default=None)
    fulfilled_at: datetime | None = _utc(default=None)
    confirmed_at: datetime | None = _utc(default=None)
    confirmed_by: int | None = Field(default=None, sa_type=BigInteger)
    points_entry_id: int | None = Field(default=None, foreign_key="points_entries.id")
    updated_at: datetime = _utc()


class Activity(SQLModel, table=True):
    """An activity's check-in, opened by a grid worker: a QR code (``/start act-<token>``) and a code word."""

    __tablename__ = "activities"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=16, unique=True)
    word: str = Field(max_length=8, index=True)
    rule_code: str | None = Field(default=None, max_length=32)  # the [[points.earn]] rule it pays by
    title: str = Field(max_length=128)
    grid_code: str | None = Field(default=None, foreign_key="grids.code", max_length=16)
    created_by: int = Field(sa_type=BigInteger)
    created_at: datetime = _utc()
    ends_at: datetime = _utc()


class ActivityCheckin(SQLModel, table=True):
    """One person checked in at one activity: once (unique), whatever they scan or type."""

    __tablename__ = "activity_checkins"
    __table_args__ = (UniqueConstraint("activity_id", "resident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activities.id", index=True)
    resident_id: int = Field(foreign_key="residents.id")
    at: datetime = _utc()
    points_entry_id: int | None = Field(default=None, foreign_key="points_entries.id")


class ProposalStatus(StrEnum):
    OPEN = "open"  # waiting for the desk's answer
    ANSWERED = "answered"


class Proposal(SQLModel, table=True):
    """码上议: a resident's proposal with its number and reply deadline; 办复率 counts answers on time."""

    __tablename__ = "proposals"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    text: str = Field(sa_type=Text)
    grid_code: str | None = Field(default=None, foreign_key="grids.code", max_length=16)
    project_id: int | None = Field(default=None, foreign_key="projects.id", index=True)  # a 民生实事 suggestion
    topic_id: int | None = Field(default=None, foreign_key="council_topics.id", index=True)  # grouped for 议事会
    status: ProposalStatus = Field(default=ProposalStatus.OPEN, sa_type=StrEnumType(ProposalStatus, 16))
    created_at: datetime = _utc(index=True)
    due_at: datetime = _utc()
    answer: str | None = Field(default=None, sa_type=Text)
    answered_at: datetime | None = _utc(default=None)
    answered_by: int | None = Field(default=None, sa_type=BigInteger)


class TopicStatus(StrEnum):
    OPEN = "open"  # 命题: proposals grouped, question being set
    POLLING = "polling"  # 点题: the poll is out to the grid's residents
    CLOSED = "closed"  # voting over
    PUBLISHED = "published"  # 答题: the outcome went to the grid as a notice


class CouncilTopic(SQLModel, table=True):
    """A 议事会 topic: grouped proposals, a native poll to a grid's residents, the published outcome."""

    __tablename__ = "council_topics"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=255)
    grid_code: str | None = Field(default=None, foreign_key="grids.code", max_length=16)
    options: list[str] = Field(default_factory=empty_list, sa_type=JSON)
    status: TopicStatus = Field(default=TopicStatus.OPEN, sa_type=StrEnumType(TopicStatus, 16))
    created_by: int = Field(sa_type=BigInteger)
    created_at: datetime = _utc()
    polled_at: datetime | None = _utc(default=None)
    closed_at: datetime | None = _utc(default=None)
    outcome: str | None = Field(default=None, sa_type=Text)
    notice_id: int | None = Field(default=None, foreign_key="notices.id")


class CouncilPoll(SQLModel, table=True):
    """One poll message sent to one resident; Telegram's poll id ties their answers to the topic."""

    __tablename__ = "council_polls"

    poll_id: str = Field(primary_key=True, max_length=64)
    topic_id: int = Field(foreign_key="council_topics.id", index=True)
    chat_id: int = Field(sa_type=BigInteger)
    message_id: int = Field(sa_type=BigInteger)
    sent_at: datetime = _utc()


class CouncilVote(SQLModel, table=True):
    """A resident's current choice on a topic (a changed vote replaces it; a retracted one is empty)."""

    __tablename__ = "council_votes"
    __table_args__ = (UniqueConstraint("topic_id", "tg_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    topic_id: int = Field(foreign_key="council_topics.id", index=True)
    tg_user_id: int = Field(sa_type=BigInteger)
    options: list[int] = Field(default_factory=empty_list, sa_type=JSON)
    at: datetime = _utc()


class Project(SQLModel, table=True):
    """民生实事: a project the street commits to, with milestones; subscribers get its progress."""

    __tablename__ = "projects"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    unit: str = Field(default="", max_length=128)
    budget: str = Field(default="", max_length=64)
    milestones: list[dict[str, Any]] = Field(default_factory=empty_list, sa_type=JSON)  # {"name", "done_at"}
    created_by: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class ProjectSubscription(SQLModel, table=True):
    __tablename__ = "project_subscriptions"
    __table_args__ = (UniqueConstraint("project_id", "resident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    resident_id: int = Field(foreign_key="residents.id")
    at: datetime = _utc()


class ProjectUpdate(SQLModel, table=True):
    """A progress note on a project (a milestone reached, works started), sent to its subscribers."""

    __tablename__ = "project_updates"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    text: str = Field(sa_type=Text)
    at: datetime = _utc()
    by: int | None = Field(default=None, sa_type=BigInteger)


class ListPublication(SQLModel, table=True):
    """Whether a grid's three lists go out monthly as a notice, and the month they last did."""

    __tablename__ = "list_publications"

    grid_code: str = Field(primary_key=True, foreign_key="grids.code", max_length=16)
    monthly: bool = False
    last_month: str | None = Field(default=None, max_length=7)  # "2026-03"
    updated_at: datetime = _utc()


__all__ += [
    "Activity",
    "ActivityCheckin",
    "CouncilPoll",
    "CouncilTopic",
    "CouncilVote",
    "ListPublication",
    "OrderEvent",
    "OrderStatus",
    "Partner",
    "PartnerStatus",
    "Project",
    "ProjectSubscription",
    "ProjectUpdate",
    "Proposal",
    "ProposalStatus",
    "ServiceOrder",
    "TopicStatus",
    "Wish",
    "WishStatus",
]


# --- report charts waiting to be sent (handlers.desk.reports, handlers.owed; migration 0011) ------------------


class ReportChart(SQLModel, table=True):
    """A report's PNG, written in the transaction that owes it to desk chats (outbox rows name it in their payload:
    ``{"chart": id}``), so a restart before sending still sends it; one row serves every chat it goes to."""

    __tablename__ = "report_charts"

    id: int | None = Field(default=None, primary_key=True)
    png: bytes = Field(sa_type=LargeBinary)
    title: str = Field(default="", max_length=128)
    created_at: datetime = _utc(index=True)


__all__ += ["ReportChart"]


# --- the web side (services.web, web/; migration 0012) -----------------------------------------------------


class CaseToken(SQLModel, table=True):
    """A tracking token given to whoever filed on the 服务码 page (``/t/<token>``, ``/start t-<token>`` to claim it
    in the bot): the case, and the person it was filed as (its author, or a neighbour who joined it). Only the
    token's SHA-256 is kept, so the table alone opens nobody's page."""

    __tablename__ = "case_tokens"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    resident_id: int = Field(foreign_key="residents.id")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _utc()
    claimed_at: datetime | None = _utc(default=None)
    claimed_by: int | None = Field(default=None, sa_type=BigInteger)  # the Telegram user who claimed it


class WebLogin(SQLModel, table=True):
    """A one-time sign-in link for the board (``/login/<token>``): ten minutes, one use."""

    __tablename__ = "web_logins"

    token_hash: str = Field(primary_key=True, max_length=64)
    tg_user_id: int = Field(sa_type=BigInteger)
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    used_at: datetime | None = _utc(default=None)


class WebSession(SQLModel, table=True):
    """A signed-in board session (the cookie holds the token, the table its SHA-256)."""

    __tablename__ = "web_sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    tg_user_id: int = Field(sa_type=BigInteger, index=True)
    via: str = Field(max_length=16)  # webapp / link
    created_at: datetime = _utc()
    expires_at: datetime = _utc(index=True)


class Open311Client(SQLModel, table=True):
    """Another system allowed to file cases through Open311 ``POST requests.json``, by its API key's SHA-256."""

    __tablename__ = "open311_clients"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _utc()
    revoked_at: datetime | None = _utc(default=None)


class CaseSource(SQLModel, table=True):
    """Where an imported case came from: its channel and the source system's number (12345 工单编号), unique
    together, so importing the same file twice creates nothing twice."""

    __tablename__ = "case_sources"
    __table_args__ = (UniqueConstraint("channel", "source_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: Channel = Field(sa_type=StrEnumType(Channel, 16))
    source_ref: str = Field(max_length=64)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    imported_at: datetime = _utc()


__all__ += ["CaseSource", "CaseToken", "Open311Client", "WebLogin", "WebSession"]


# --- the inbox: updates accepted before they are acknowledged (services.inbox, bot.intake) ---------------------


class InboxStatus(StrEnum):
    PENDING = "pending"  # accepted, not yet handled (leased while a worker handles it)
    DONE = "done"  # handled (whatever the handlers answered)
    SKIPPED = "skipped"  # did not parse as an update: kept so a repeat is recognised, never handled
    FAILED = "failed"  # taken too often without being marked (a worker died on it each time): given up


class InboxUpdate(SQLModel, table=True):
    """One Telegram update, written before Telegram is told it arrived (the webhook's 200, the polling offset),
    handled by whichever worker claims it: one chat's updates in ``update_id`` order, other chats in parallel.
    The primary key is Telegram's ``update_id``, so a repeated delivery changes nothing. Done rows are kept
    for a while (Telegram redelivers for a day at most) and then purged."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_chat_key_status_update_id", "chat_key", "status", "update_id"),
        Index("ix_inbox_status_lease_until", "status", "lease_until"),
    )

    update_id: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    chat_key: int = Field(sa_type=BigInteger)  # the chat (else the user) whose updates go in order; 0: neither
    payload: dict[str, Any] = Field(default_factory=empty_dict, sa_type=JSON)  # the update as Telegram sent it
    status: InboxStatus = Field(default=InboxStatus.PENDING, sa_type=StrEnumType(InboxStatus, 16))
    attempts: int = 0  # claims so far
    received_at: datetime = _utc()
    lease_until: datetime | None = _utc(default=None)  # a claim runs out then unless the worker renews it
    claimed_by: str | None = Field(default=None, max_length=64)  # the worker (host:pid) that holds the claim
    done_at: datetime | None = _utc(default=None)
    error: str | None = Field(default=None, max_length=255)


__all__ += ["InboxStatus", "InboxUpdate"]
