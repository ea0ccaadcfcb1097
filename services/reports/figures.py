"""The figures leaders govern by (周调度、月评估、季研判), computed from the tickets and their event history alone.

No counter is kept anywhere: every figure is a SQL aggregate over the tickets received in the period (merged
duplicates excluded, so a case is counted once) joined to their events, grouped by unit × grid × category × channel
in the database and rolled up here into the scopes a report shows (the whole, each unit, grid, category, channel).
The cost therefore follows the period's tickets (``ix_tickets_created_at`` and ``ix_ticket_events_report``, read
over the cohort's range of ticket ids), not all tickets. The per-ticket facts are counted per combination (one small
integer per ticket), not summed column by column. The work is spread over a few connections at once
(:func:`_side_by_side`): the two halves of the period's per-ticket pass, the small queries, and in a report the
previous period and the top problems.

Every figure carries its numerator and denominator; a rate with nothing to measure has value None (shown "—"),
never 0 % or 100 %. Definitions (the cohort is the tickets received in the period, judged as things stand at
``as_of``):

* ``received``: tickets opened (withdrawn ones included, merged duplicates not).
* ``response_rate`` 响应率: signed for within the sign-for limit, over the tickets whose limit has been judged
  (signed, or past the limit unsigned); a reopened or reassigned case is judged on its current round.
* ``on_time_rate`` 按时办结率: resolved by the deadline, over the tickets resolved or past the deadline. The
  deadline is the clocks' (``services.cases.clocks``): time paused in 待补充 moves it, a pause still running too.
* ``resolution_rate`` 解决率: resolved and never reopened, over the tickets resolved at least once.
* ``satisfaction_rate`` 满意率: 满意 + 基本满意 over the rated; ``unrated`` 未评价 over rated + unrated.
  ``unreachable``: 办结 as 无法联系 (the resident could not be reached, so never asked: in neither of those), over
  the received, so a desk that closes cases that way is seen doing it.
* A case closed as 无法联系 (``Rating.UNREACHABLE``, until its resident's reply reopens it) is not a resolution:
  nobody confirmed the matter solved. It is in neither side of 解决率 (as of 满意率), and for 按时办结率 it is
  judged as an unresolved case is (as a withdrawn one): a miss if its deadline passed before it was closed, else not
  judged; it is left out of the median time to resolve. So closing an overdue case that way cannot hide it.
* ``first_response_*``: time from opening to the first signing, in buckets, over the signed tickets.
* ``median_resolve_hours``: median running time of the resolution clock (pauses excluded) of resolved tickets.
* ``reopened``, ``escalations_<level>`` (events), ``withdrawn``, ``warnings`` (hotspot warnings raised in the
  period), ``mediation_<stage>`` (dispute cases by their latest stage), ``mediation_success_rate`` 调解成功率
  (agreement reached over mediations now closed), ``supervised`` / ``supervision_on_time`` (督办 and answers by
  the reply deadline), ``open_red`` / ``open_yellow`` / ``open_green`` (open now, any age, by colour).
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, func, literal, literal_column, or_, text, type_coerce
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased
from sqlalchemy.pool import SingletonThreadPool, StaticPool
from sqlalchemy.types import NullType
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.cases import clocks
from services.cases.duplicates import building_of
from services.community.model import Category, Community, EscalationLevelName
from services.reports.periods import Period, PeriodKind
from storage.db import dialect_name, offloading
from storage.models import (
    OPEN_STATUSES,
    STEP_KINDS,
    Channel,
    HotspotWarning,
    MediationStage,
    Rating,
    Supervision,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketFollower,
    TicketStatus,
    UTCDateTime,
)

S = TicketStatus
K = TicketEventKind
HOUR = 3600
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("first_response_0_1h", 0, HOUR),
    ("first_response_1_4h", HOUR, 4 * HOUR),
    ("first_response_4_8h", 4 * HOUR, 8 * HOUR),
    ("first_response_8_24h", 8 * HOUR, 24 * HOUR),
    ("first_response_24h_plus", 24 * HOUR, None),
)
LEVELS: tuple[str, ...] = tuple(level.value for level in EscalationLevelName)
STAGES: tuple[MediationStage, ...] = tuple(MediationStage)
_AGREED = STAGES.index(MediationStage.AGREEMENT) + 1  # stage ordinals are 1-based; 0 = no mediation
SATISFIED_VALUES = (Rating.SATISFIED.value, Rating.BASICALLY_SATISFIED.value)
RATED_VALUES = (*SATISFIED_VALUES, Rating.UNSATISFIED.value)
OPEN_VALUES = tuple(s.value for s in OPEN_STATUSES)


class FigureKind(StrEnum):
    RATE = "rate"  # value = numerator / denominator, None when the denominator is 0
    COUNT = "count"  # value = numerator; the denominator, when given, is what it is counted out of
    MEDIAN = "median"  # value = numerator (hours); the denominator is how many cases were measured


@dataclass(frozen=True)
class Figure:
    numerator: float | None
    denominator: int | None
    kind: FigureKind = FigureKind.RATE

    @property
    def value(self) -> float | None:
        if self.kind is FigureKind.RATE:
            return self.numerator / self.denominator if self.denominator and self.numerator is not None else None
        return self.numerator

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        return {"value": round(value, 4) if isinstance(value, float) else value,
                "numerator": self.numerator, "denominator": self.denominator}


def rate(hits: int, total: int) -> Figure:
    return Figure(hits, total, FigureKind.RATE)


def count(n: int, out_of: int | None = None) -> Figure:
    return Figure(n, out_of, FigureKind.COUNT)


FIGURE_KEYS: tuple[str, ...] = (
    "received",
    "response_rate",
    "on_time_rate",
    "resolution_rate",
    "satisfaction_rate",
    "unrated",
    "unreachable",
    *(key for key, _, _ in BUCKETS),
    "median_resolve_hours",
    "reopened",
    *(f"escalations_{level}" for level in LEVELS),
    "withdrawn",
    "warnings",
    *(f"mediation_{stage.value}" for stage in STAGES),
    "mediation_success_rate",
    "supervised",
    "supervision_on_time",
    "open_red",
    "open_yellow",
    "open_green",
)
"""Every figure's stable English key, in the order reports list them."""


class ScopeKind(StrEnum):
    ALL = "all"
    UNIT = "unit"
    GRID = "grid"
    CATEGORY = "category"
    CHANNEL = "channel"


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    code: str = ""

    @property
    def key(self) -> str:
        return self.kind.value if self.kind is ScopeKind.ALL else f"{self.kind.value}:{self.code}"


ALL = Scope(ScopeKind.ALL)


@dataclass(frozen=True)
class Filter:
    """What a report is limited to (``--unit``, ``--grid``, or a grid worker's ``grids``); empty: the whole
    community."""

    unit: str | None = None
    grid: str | None = None
    grids: tuple[str, ...] = ()  # any of several grids (the ones a grid worker serves)

    def where(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.unit:
            found.append(col(Ticket.unit) == self.unit)
        if self.grid:
            found.append(col(Ticket.grid_code) == self.grid)
        if self.grids:
            found.append(col(Ticket.grid_code).in_(sorted(self.grids)))
        return found

    def admits(self, unit: str | None, grid: str | None) -> bool:
        return ((not self.unit or unit == self.unit) and (not self.grid or grid == self.grid)
                and (not self.grids or grid in self.grids))


@dataclass(frozen=True)
class ScopeFigures:
    scope: Scope
    name: str  # Chinese name of the scope (unit or grid name, category or channel word)
    figures: Mapping[str, Figure]
    previous: Mapping[str, Figure] = field(default_factory=dict)

    def change(self, key: str) -> float | None:
        """Value now minus value in the previous period; None when either is empty."""
        now, before = self.figures.get(key), self.previous.get(key)
        if now is None or before is None or now.value is None or before.value is None:
            return None
        return now.value - before.value


@dataclass(frozen=True)
class Problem:
    """A repeated problem: complaints of one category at one place (tickets, merged duplicates, followers)."""

    category: str
    place: str
    complaints: int
    cases: int


@dataclass(frozen=True)
class Report:
    period: Period
    previous_period: Period
    as_of: datetime
    filter: Filter
    scopes: Sequence[ScopeFigures]
    top_problems: Sequence[Problem] = ()

    @property
    def overall(self) -> ScopeFigures:
        return self.scopes[0]

    def of(self, kind: ScopeKind) -> list[ScopeFigures]:
        return [s for s in self.scopes if s.scope.kind is kind]


# --- SQL ----------------------------------------------------------------------------------------------


def _seconds(later: Any, earlier: Any, dialect: str) -> ColumnElement[float]:
    """``later - earlier`` in seconds, in SQL (both columns hold naive UTC)."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _cohort(period: Period, filt: Filter) -> list[ColumnElement[bool]]:
    return [col(Ticket.created_at) >= period.since, col(Ticket.created_at) < period.until,
            col(Ticket.status) != S.MERGED, *filt.where()]


Group = tuple[str, str, str, str]


def _dims() -> tuple[ColumnElement[str], ...]:
    """unit, grid ("" for none), category, channel as plain strings (no per-row enum conversion)."""
    t = Ticket
    return (type_coerce(col(t.unit), String()), func.coalesce(type_coerce(col(t.grid_code), String()),
                                                              literal_column("''")),
            type_coerce(col(t.category), String()), type_coerce(col(t.channel), String()))


@dataclass(frozen=True)
class _Codes:
    """The group's four strings as small integers on SQLite (code i + 1: the i-th known value; a value not known
    stays itself, SQLite keeps types per value): it sorts tens of thousands of tickets into groups two to three
    times faster by numbers than by four strings. PostgreSQL hashes its groups and gets the strings."""

    known: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, community: Community, dialect: str) -> _Codes:
        if dialect != "sqlite":
            return cls()
        return cls((tuple(u.code for u in community.units), ("", *(g.code for g in community.grids)),
                    tuple(c.value for c in Category), tuple(c.value for c in Channel)))

    def columns(self) -> tuple[ColumnElement[Any], ...]:
        dims = _dims()
        if not self.known:
            return dims
        return tuple(type_coerce(case({v: i + 1 for i, v in enumerate(values)}, value=d, else_=d), NullType())
                     for d, values in zip(dims, self.known, strict=True))

    def group(self, u: Any, g: Any, c: Any, ch: Any) -> Group:
        if not self.known:
            return u, g, c, ch
        return tuple(self.known[i][v - 1] if isinstance(v, int) else v  # type: ignore[return-value]
                     for i, v in enumerate((u, g, c, ch)))


async def _rows(session: AsyncSession, stmt: Any) -> Sequence[Any]:
    """Core execution: plain rows, none of the ORM's per-row work (reports read up to a period's tickets)."""
    return (await (await session.connection()).execute(stmt)).all()


FLAGS: tuple[str, ...] = ("sign_ok", "sign_judged", "due_ok", "due_judged", "happy", "rated", "unrated", "withdrawn",
                          "unreachable", "closed", "finished")
"""The per-ticket yes/no facts, bit ``i`` of the ``bits`` integer each cohort ticket gets in SQL."""


def _bit(name: str) -> int:
    return 1 << FLAGS.index(name)


def _event_facts(dialect: str, period: Period, filt: Filter) -> tuple[Any, dict[str, Any]]:
    """What the per-ticket pass reads besides the ticket row: the first signing and whether the case was ever
    resolved and ever reopened (``rounds``: 1 resolved, 2 reopened, 3 both) from the columns the lifecycle keeps
    with those events (``first_signed_at``, ``resolved_count``, ``reopened_count``), the mediation stage of
    disputes from the events, and (PostgreSQL) escalations per level. Returns the FROM clause (tickets, maybe
    joined) and the expressions.

    SQLite: a correlated lookup in ``ix_ticket_events_report`` (disputes only; SQLite has no hash join).
    PostgreSQL: one pass over the cohort's mediation and escalation events (their ticket-id range in the partial
    index ``ix_ticket_events_steps``, no table reads), grouped per ticket and hash-joined to the cohort — a lookup
    per ticket costs it several times more."""
    t, e = Ticket, aliased(TicketEvent)
    stage_no = case(*((col(e.mediation_stage) == stage.value, i + 1) for i, stage in enumerate(STAGES)), else_=0)
    rounds = (case((col(t.reopened_count) > 0, 2), else_=0) + case((col(t.resolved_count) > 0, 1), else_=0))
    if dialect == "sqlite":
        mine = col(e.ticket_id) == col(t.id)
        stage = select(func.coalesce(func.max(stage_no), 0)).where(mine, col(e.kind) == K.MEDIATION.value)
        return t, {"first_signed": col(t.first_signed_at), "rounds": rounds, "stage": stage.scalar_subquery()}
    ids = select(func.min(col(t.id)).label("lo"), func.max(col(t.id)).label("hi"), func.count().label("n")).where(
        *_cohort(period, filt)).cte("ids")  # count(): no min/max shortcut walking the primary key from its end
    per_ticket = (
        select(
            col(e.ticket_id).label("ticket_id"),
            func.coalesce(func.max(stage_no).filter(col(e.kind) == K.MEDIATION.value), 0).label("stage"),
            *(func.count().filter(and_(col(e.kind) == K.ESCALATED.value, col(e.level) == level)).label(f"esc_{level}")
              for level in LEVELS),
        )
        .where(col(e.ticket_id).between(select(ids.c.lo).scalar_subquery(), select(ids.c.hi).scalar_subquery()),
               col(e.kind).in_([literal_column(f"'{k}'") for k in STEP_KINDS]))  # as ix_ticket_events_steps
        # says, literally (a generic plan with a bound list could not use that partial index): a tenth of the events
        .group_by(col(e.ticket_id))
        .subquery("ev")
    )
    ev = per_ticket.c
    facts = {"first_signed": col(t.first_signed_at), "rounds": rounds, "stage": func.coalesce(ev.stage, 0),
             **{f"esc_{level}": func.coalesce(ev[f"esc_{level}"], 0) for level in LEVELS}}
    return t.__table__.outerjoin(per_ticket, ev.ticket_id == col(t.id)), facts


def _per_ticket(period: Period, filt: Filter, as_of: datetime, dialect: str, codes: _Codes) -> Any:
    """One row per cohort ticket: its group, its yes/no facts as ``bits``, the time to its first signing (seconds
    on SQLite, an interval on PostgreSQL: compared exactly, no numeric arithmetic), its resolution rounds and
    mediation stage (from the events, see :func:`_event_facts`), and the running time of its resolution clock
    when resolved. ``OFFSET 0`` keeps the database from inlining the event lookups into every
    expression of the outer query that uses them (SQLite flattens such subqueries, PostgreSQL pulls them up)."""
    t = Ticket
    source, facts = _event_facts(dialect, period, filt)
    started = func.coalesce(col(t.clock_started_at), col(t.created_at))
    signed = col(t.signed_at).is_not(None)
    reachable = or_(col(t.rating).is_(None), type_coerce(col(t.rating), String()) != Rating.UNREACHABLE.value)
    resolved = and_(col(t.resolved_at).is_not(None), col(t.resolved_at) >= started, reachable)  # see the docstring
    sign_judged = or_(signed, and_(col(t.sign_due_at) <= as_of,
                                   or_(col(t.closed_at).is_(None), col(t.sign_due_at) <= col(t.closed_at))))
    overdue_unresolved = case(
        (col(t.paused_at).is_not(None), col(t.due_at) <= col(t.paused_at)),  # a running pause moves the deadline
        else_=and_(col(t.due_at) <= as_of, or_(col(t.closed_at).is_(None), col(t.closed_at) >= col(t.due_at))),
    )
    resolve_s: Any = _seconds(col(t.resolved_at), started, dialect) - col(t.paused_seconds)
    if dialect == "sqlite":  # collected as text (see _grouped): 17 significant digits give back the same float
        resolve_s = func.printf("%!.17g", resolve_s)
    is_open = col(t.status).in_(OPEN_VALUES)
    # the yes/no facts as one small integer (bit i: FLAGS[i]), so the GROUP BY counts tickets per combination
    # instead of summing a column per fact; facts that go together in one CASE each (fewer to evaluate per ticket)
    sign = case((signed, case((col(t.signed_at) <= col(t.sign_due_at), _bit("sign_ok") | _bit("sign_judged")),
                              else_=_bit("sign_judged"))),
                (sign_judged, _bit("sign_judged")), else_=0)
    due = case((resolved, case((col(t.resolved_at) <= col(t.due_at), _bit("due_ok") | _bit("due_judged")),
                               else_=_bit("due_judged"))),
               (overdue_unresolved, _bit("due_judged")), else_=0)
    happy = _bit("happy") | _bit("rated")
    rating = case({Rating.SATISFIED.value: happy, Rating.BASICALLY_SATISFIED.value: happy,
                   Rating.UNSATISFIED.value: _bit("rated"), Rating.UNRATED.value: _bit("unrated"),
                   Rating.UNREACHABLE.value: _bit("unreachable")},
                  value=type_coerce(col(t.rating), String()), else_=0)
    ended = case((is_open, 0), else_=_bit("closed") + case((col(t.status) == S.WITHDRAWN.value, _bit("withdrawn")),
                                                            else_=0)
                 + case((col(t.resolved_at).is_not(None), _bit("finished")), else_=0))
    bits = sign + due + rating + ended
    u, g, c, ch = codes.columns()
    extra = [v.label(k) for k, v in facts.items() if k.startswith("esc_")]
    response: Any = (_seconds(facts["first_signed"], col(t.created_at), dialect) if dialect == "sqlite"
                     else facts["first_signed"] - col(t.created_at))
    return (
        select(
            u.label("u"), g.label("g"), c.label("c"), ch.label("ch"), bits.label("bits"),
            response.label("response"),
            # lookups only where they can find something: a reopening follows a resolution (resolved_at is never
            # cleared), mediation is for disputes
            case((col(t.resolved_at).is_not(None), facts["rounds"]), else_=0).label("rounds"),
            case((col(t.category) == Category.DISPUTE.value, facts["stage"]), else_=0).label("stage"),
            case((resolved, resolve_s), else_=None).label("resolve_s"),
            *extra,
        )
        .select_from(source)
        .where(*_cohort(period, filt))
        .offset(0)
        .subquery("per")
    )


@dataclass
class _Grouped:
    sums: dict[Group, dict[str, int]]
    times: dict[Group, list[float]]  # resolution clock seconds of each group's resolved tickets, sorted
    exact: dict[float, str] | None  # PostgreSQL: each time's exact numeric text (see _median)


_BUCKET, _ROUNDS, _STAGE = 1 << len(FLAGS), 1 << (len(FLAGS) + 3), 1 << (len(FLAGS) + 5)
"""Where the first-response bucket (0 none, 1–5, 6 signed before opened), the rounds (0–3) and the mediation stage
(0–6) sit in a ticket's combination of facts, above its yes/no bits."""


def _counted(facts: int) -> tuple[str, ...]:
    """The sums one ticket with this combination of facts adds 1 to (see :func:`_grouped`)."""
    bits, bucket, rounds, stage = facts % _BUCKET, facts // _BUCKET % 8, facts // _ROUNDS % 4, facts // _STAGE
    yes = {name for i, name in enumerate(FLAGS) if bits >> i & 1}
    found = [name for name in FLAGS[:FLAGS.index("closed")] if name in yes]  # closed, finished: only through what
    # follows
    if bucket:
        found.append("responded")
        if bucket <= len(BUCKETS):
            found.append(BUCKETS[bucket - 1][0])
    if rounds >= 2:
        found.append("reopened")
    if rounds in (1, 3):
        found.append("resolved_ever")
        if "unreachable" not in yes:  # 无法联系: no resolution to judge (see the module's docstring)
            found.append("solve_judged")
    if rounds == 1 and "finished" in yes and "unreachable" not in yes:
        found.append("solved")
    if stage > 0:
        found += ["mediations", f"stage_{STAGES[stage - 1].value}"] if stage <= len(STAGES) else ["mediations"]
        if "closed" in yes:
            found.append("mediation_closed")
            if stage >= _AGREED:
                found.append("mediation_agreed")
    return tuple(found)


async def _grouped(session: AsyncSession, period: Period, filt: Filter, as_of: datetime, dialect: str,
                   codes: _Codes) -> _Grouped:
    """Sums per (unit, grid, category, channel) of the cohort, with the resolution times for the medians, from one
    GROUP BY over :func:`_per_ticket` by group and combination of facts (one integer: yes/no bits, first-response
    bucket, rounds, stage), counting tickets: a database counts rows per combination far faster than it sums
    thirty conditional columns per ticket, and each combination is decoded once. The times come back as one list
    per row: an array on PostgreSQL, text on SQLite, instead of a row per ticket; escalations per level
    (PostgreSQL) as sums."""
    p = _per_ticket(period, filt, as_of, dialect, codes).c

    def at_least(seconds: int) -> ColumnElement[bool]:
        return p.response >= (seconds if dialect == "sqlite" else timedelta(seconds=seconds))

    bucket = case((p.response.is_(None), 0),
                  *((at_least(low) if high is None else and_(at_least(low), ~at_least(high)), i + 1)
                    for i, (_, low, high) in enumerate(BUCKETS)),
                  else_=len(BUCKETS) + 1)  # signed, in no bucket (before it was opened): responded all the same
    combo = p.bits + bucket * _BUCKET + p.rounds * _ROUNDS + p.stage * _STAGE
    exact = dialect != "sqlite"  # numeric seconds on PostgreSQL, sent as their exact text (see _median)
    times: Any = func.group_concat(p.resolve_s) if not exact else type_coerce(
        func.string_agg(type_coerce(p.resolve_s, NullType()).cast(String()), literal_column("','")), NullType())
    esc = [k for k in (f"esc_{level}" for level in LEVELS) if k in p]
    keys = (p.u, p.g, p.c, p.ch, combo)
    rows = await _rows(session, select(*keys, func.count(), times, *(func.sum(p[k]) for k in esc)).group_by(*keys))
    sums: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    texts: dict[Any, list[str]] = defaultdict(list)
    known: dict[int, tuple[str, ...]] = {}
    for u, g, c, ch, facts, n, values, *escalated in rows:
        group = u, g, c, ch
        names = known.get(facts)
        if names is None:
            names = known[facts] = _counted(facts)
        into = sums[group]
        into["received"] += n
        for name in names:
            into[name] += n
        for k, v in zip(esc, escalated, strict=True):
            into[k] += int(v or 0)
        if values:
            texts[group].append(values)
    found = _Grouped({codes.group(*g): v for g, v in sums.items()}, {}, {} if exact else None)
    for group, parts in texts.items():
        strings = ",".join(parts).split(",")
        values = list(map(float, strings))
        if found.exact is not None:
            found.exact.update(zip(values, strings, strict=True))
        values.sort()
        found.times[codes.group(*group)] = values
    return found


async def _escalations(session: AsyncSession, period: Period, filt: Filter,
                       codes: _Codes) -> list[tuple[Group, str, int]]:
    """Escalation events of the cohort per group and level."""
    t, e = Ticket, TicketEvent
    dims = codes.columns()
    esc = (select(*dims, type_coerce(col(e.level), String()), func.count())
           .select_from(t).join(e, and_(col(e.ticket_id) == col(t.id), col(e.kind) == K.ESCALATED.value))
           .where(*_cohort(period, filt)).group_by(*dims, col(e.level)))
    return [(codes.group(u, g, c, ch), level, int(n)) for u, g, c, ch, level, n in await _rows(session, esc)]


async def _open_colours(session: AsyncSession, filt: Filter, now: datetime,
                        dialect: str) -> list[tuple[Group, str, int]]:
    """Open tickets now (any age) per group and colour, by the clocks' rule (``clocks.colour``) in SQL: red when
    the resolution clock (stopped while 待补充) has used its limit or the case is an open emergency, yellow from
    three quarters of it."""
    t = Ticket
    started = func.coalesce(col(t.clock_started_at), col(t.created_at))
    at_now = literal(now, UTCDateTime())  # stored as naive UTC like the columns (a bare datetime would go in as is)
    clock_now = case((and_(col(t.paused_at).is_not(None), col(t.paused_at) < now), col(t.paused_at)), else_=at_now)
    used = _seconds(clock_now, started, dialect) - col(t.paused_seconds)
    limit = _seconds(col(t.due_at), started, dialect) - col(t.paused_seconds)
    colour = case((col(t.emergency), "red"), (used >= limit, "red"), (used * 4 >= limit * 3, "yellow"),
                  else_="green")
    dims = _dims()
    stmt = (select(*dims, colour, func.count()).where(col(t.status).in_(OPEN_VALUES), *filt.where())
            .group_by(*dims, colour))
    return [((u, g, c, ch), str(k), int(n)) for u, g, c, ch, k, n in await _rows(session, stmt)]


async def _warnings(session: AsyncSession, period: Period, community: Community) -> list[tuple[str, str, str]]:
    """(unit, grid, category) of each hotspot warning raised in the period."""
    stmt = select(HotspotWarning).where(col(HotspotWarning.raised_at) >= period.since,
                                        col(HotspotWarning.raised_at) < period.until)
    found = []
    for w in (await session.exec(stmt)).all():
        if w.scope_kind == "grid":
            grid = w.scope
        else:
            info = community.grid_for_building(w.scope)
            grid = info.code if info else ""
        try:
            unit = community.unit_for(w.category).code
        except ValueError:
            unit = ""
        found.append((unit, grid, w.category))
    return found


async def _supervisions(session: AsyncSession, period: Period, filt: Filter,
                        as_of: datetime) -> list[tuple[Group, bool, bool]]:
    """(group, judged, answered on time) per 督办 issued on a cohort ticket; read from the 督办 side (few rows)."""
    t = Ticket
    stmt = (select(*_dims(), col(Supervision.reply_by), col(Supervision.answered_at))
            .select_from(Supervision).join(t, col(t.id) == col(Supervision.ticket_id))
            .where(col(Supervision.issued_at) >= period.since, *_cohort(period, filt)))
    found = []
    for u, g, c, ch, reply_by, answered in (await session.exec(stmt)).all():  # type: ignore[call-overload]
        judged = answered is not None or reply_by <= as_of
        found.append(((u, g, c, ch), judged, answered is not None and answered <= reply_by))
    return found


# --- rolling up -------------------------------------------------------------------------------------------


def _scopes_of(group: Group) -> tuple[Scope, ...]:
    unit, grid, cat, channel = group
    return (ALL, Scope(ScopeKind.UNIT, unit), Scope(ScopeKind.GRID, grid), Scope(ScopeKind.CATEGORY, cat),
            Scope(ScopeKind.CHANNEL, channel))


SNAPSHOT_ONLY = ("open_red", "open_yellow", "open_green")  # what stands now, not what a period did


def _median(values: Sequence[float], exact: Mapping[float, str] | None) -> Any:
    """The median of the resolution times, as ``statistics.median`` gives it: found among floats (sorting them is
    several times faster than sorting exact decimals), then, on PostgreSQL, taken from the exact values (``exact``:
    each float's numeric text; distinct numerics of microseconds stay distinct floats, in the same order)."""
    ordered = sorted(values)
    n = len(ordered)
    middle = ordered[(n - 1) // 2:n // 2 + 1]
    return statistics.median([Decimal(exact[v]) for v in middle] if exact is not None else middle)


def _figures(sums: Mapping[str, float], medians: Sequence[float], with_snapshot: bool,
             exact: Mapping[float, str] | None = None) -> dict[str, Figure]:
    n = sums.get
    received = int(n("received", 0))
    responded = int(n("responded", 0))
    figures: dict[str, Figure] = {
        "received": count(received),
        "response_rate": rate(int(n("sign_ok", 0)), int(n("sign_judged", 0))),
        "on_time_rate": rate(int(n("due_ok", 0)), int(n("due_judged", 0))),
        "resolution_rate": rate(int(n("solved", 0)), int(n("solve_judged", 0))),
        "satisfaction_rate": rate(int(n("happy", 0)), int(n("rated", 0))),
        "unrated": rate(int(n("unrated", 0)), int(n("rated", 0) + n("unrated", 0))),
        "unreachable": count(int(n("unreachable", 0)), received),
    }
    for key, _, _ in BUCKETS:
        figures[key] = rate(int(n(key, 0)), responded)
    figures["median_resolve_hours"] = Figure(
        round(_median(medians, exact) / HOUR, 2) if medians else None, len(medians), FigureKind.MEDIAN)
    figures["reopened"] = count(int(n("reopened", 0)), int(n("resolved_ever", 0)))
    for level in LEVELS:
        figures[f"escalations_{level}"] = count(int(n(f"esc_{level}", 0)), received)
    figures["withdrawn"] = count(int(n("withdrawn", 0)), received)
    figures["warnings"] = count(int(n("warnings", 0)))
    mediations = int(n("mediations", 0))
    for st in STAGES:
        figures[f"mediation_{st.value}"] = count(int(n(f"stage_{st.value}", 0)), mediations)
    figures["mediation_success_rate"] = rate(int(n("mediation_agreed", 0)), int(n("mediation_closed", 0)))
    figures["supervised"] = count(int(n("supervised", 0)), received)
    figures["supervision_on_time"] = rate(int(n("supervision_ok", 0)), int(n("supervision_judged", 0)))
    if with_snapshot:
        open_total = int(n("open_red", 0) + n("open_yellow", 0) + n("open_green", 0))
        for key in SNAPSHOT_ONLY:
            figures[key] = count(int(n(key, 0)), open_total)
    return figures


@dataclass
class _Acc:
    sums: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    times: list[float] = field(default_factory=list)


async def _tune(session: AsyncSession, dialect: str) -> None:
    """PostgreSQL, for the rest of this transaction only: no JIT (it compiles these one-off aggregate queries for
    longer than they run, 100–300 ms each at 100,000 tickets), and room to group and sort a period's tickets in
    memory (the 4 MB default spills the per-ticket rows to disk)."""
    if dialect == "postgresql":
        await session.exec(text("SET LOCAL jit = off"))  # type: ignore[call-overload]
        await session.exec(text("SET LOCAL work_mem = '64MB'"))  # type: ignore[call-overload]


SIDE_BY_SIDE = 3
"""How many lanes (connections) one call spreads a report's independent queries over."""
SPARE_CONNECTIONS = 6
"""How many connections all reports of this process may open beside their callers' own, together: one full report
uses six. Never waited for: a call that finds none left runs its jobs on its caller's connection, so reports
running at once, or nested calls, can neither exhaust the pool nor wait on each other for it."""


@dataclass
class _Budget:
    spare: int


_BUDGET = _Budget(SPARE_CONNECTIONS)


def _side_engine(session: AsyncSession) -> AsyncEngine | None:
    """The engine more connections can be opened on, or None when this session's connection is the only one (an
    in-memory SQLite database, a session bound to one connection)."""
    bind = session.bind
    if not isinstance(bind, AsyncEngine) or isinstance(bind.sync_engine.pool, StaticPool | SingletonThreadPool):
        return None
    return bind


async def _side_by_side(session: AsyncSession, *jobs: Callable[[AsyncSession], Awaitable[Any]]) -> list[Any]:
    """Run independent read-only jobs at once in up to :data:`SIDE_BY_SIDE` lanes, the first lane on ``session``,
    the others each on a connection of its own taken from :data:`SPARE_CONNECTIONS` (jobs dealt round the lanes,
    one after another within a lane): the database works on them in parallel (PostgreSQL backends, SQLite
    connections each in their own thread). The other connections see what is committed, which is all a report
    reads. All on ``session``, one after another, when no other connection can be had."""
    dialect = await dialect_name(session)
    await _tune(session, dialect)
    engine = _side_engine(session)
    extra = min(len(jobs) - 1, SIDE_BY_SIDE - 1, _BUDGET.spare) if engine is not None else 0
    if extra <= 0:
        return [await job(session) for job in jobs]
    _BUDGET.spare -= extra
    lanes = extra + 1
    results: list[Any] = [None] * len(jobs)

    async def lane(first: int, s: AsyncSession) -> None:
        for k in range(first, len(jobs), lanes):
            results[k] = await jobs[k](s)

    async def side_lane(first: int) -> None:
        async with AsyncSession(engine, expire_on_commit=False) as side:
            await _tune(side, dialect)
            await lane(first, side)

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(lane(0, session))
            for first in range(1, lanes):
                group.create_task(side_lane(first))
    finally:
        _BUDGET.spare += extra
    return results


def _halves(period: Period) -> list[Period]:
    """The period cut in two at a local midnight: the per-ticket pass, the bulk of the work, runs on both halves at
    once (the cohorts are disjoint, their sums add up and their times join)."""
    if period.days < 2:
        return [period]
    mid = period.first + timedelta(days=period.days // 2)
    return [Period(PeriodKind.RANGE, period.first, mid - timedelta(days=1)), Period(PeriodKind.RANGE, mid, period.last)]


async def _collect(session: AsyncSession, period: Period, filt: Filter, as_of: datetime, community: Community,
                   snapshot: bool) -> tuple[dict[Scope, _Acc], dict[float, str] | None]:
    dialect = await dialect_name(session)
    codes = _Codes.of(community, dialect)

    def per_ticket(part: Period) -> Callable[[AsyncSession], Awaitable[_Grouped]]:
        return lambda s: _grouped(s, part, filt, as_of, dialect, codes)

    async def the_rest(s: AsyncSession) -> tuple[Any, ...]:  # small queries, one after another beside the big one
        # escalations: on PostgreSQL counted in the per-ticket pass's one reading of the events
        return (await _escalations(s, period, filt, codes) if dialect == "sqlite" else [],
                await _supervisions(s, period, filt, as_of),
                await _warnings(s, period, community),
                await _open_colours(s, filt, as_of, dialect) if snapshot else [])

    parts = _halves(period)
    *grouped, (escalations, supervisions, warnings, colours) = await _side_by_side(
        session, *(per_ticket(part) for part in parts), the_rest)
    accs: dict[Scope, _Acc] = defaultdict(_Acc)
    accs[ALL]  # the whole is always there, even empty
    exact: dict[float, str] | None = None
    for half in grouped:
        if half.exact is not None:
            exact = (exact or {}) | half.exact
        for group, sums in half.sums.items():
            for scope in _scopes_of(group):
                acc = accs[scope].sums
                for k, v in sums.items():
                    acc[k] += v
        for group, values in half.times.items():  # each group's times sorted: a scope's list is sorted runs
            for scope in _scopes_of(group):
                accs[scope].times.extend(values)
    for group, level, n in escalations:
        for scope in _scopes_of(group):
            accs[scope].sums[f"esc_{level}"] += n
    for group, judged, ok in supervisions:
        for scope in _scopes_of(group):
            accs[scope].sums["supervised"] += 1
            accs[scope].sums["supervision_judged"] += judged
            accs[scope].sums["supervision_ok"] += ok
    for unit, grid, cat in warnings:
        if filt.admits(unit, grid):
            for scope in (ALL, Scope(ScopeKind.UNIT, unit), Scope(ScopeKind.GRID, grid),
                          Scope(ScopeKind.CATEGORY, cat)):
                accs[scope].sums["warnings"] += 1
    for group, colour, n in colours:
        for scope in _scopes_of(group):
            accs[scope].sums[f"open_{colour}"] += n
    return accs, exact


def scope_name(scope: Scope, community: Community) -> str:
    if scope.kind is ScopeKind.ALL:
        return community.name
    if scope.kind is ScopeKind.UNIT:
        unit = community.unit(scope.code)
        return unit.name if unit else scope.code
    if scope.kind is ScopeKind.GRID:
        grid = community.grid(scope.code) if scope.code else None
        return grid.name if grid else (scope.code or "未分网格")
    if scope.kind is ScopeKind.CATEGORY:
        return CATEGORY_NAMES.get(scope.code, scope.code)
    return CHANNEL_NAMES.get(scope.code, scope.code)


CATEGORY_NAMES: Mapping[str, str] = {
    Category.NOISE: "噪音", Category.PROPERTY: "物业", Category.REPAIR: "维修", Category.UTILITIES: "水电气",
    Category.SANITATION: "环境卫生", Category.PARKING: "停车", Category.DISPUTE: "邻里纠纷", Category.SAFETY: "安全",
    Category.CONSTRUCTION: "施工", Category.WELFARE: "民政", Category.LEGAL: "法律", Category.SUGGESTION: "建议",
    Category.OTHER: "其他",
}
CHANNEL_NAMES: Mapping[str, str] = {
    Channel.TELEGRAM: "机器人", Channel.PHONE: "电话", Channel.VISIT: "来访", Channel.LETTER: "信件",
    Channel.PATROL: "走访", Channel.HOTLINE: "12345热线", Channel.WEB: "服务码", Channel.OPEN311: "外部平台",
}


def _order(scope: Scope, community: Community) -> tuple[int, int, str]:
    kinds = list(ScopeKind)
    if scope.kind is ScopeKind.UNIT:
        codes = [u.code for u in community.units]
    elif scope.kind is ScopeKind.GRID:
        codes = [g.code for g in community.grids]
    elif scope.kind is ScopeKind.CATEGORY:
        codes = [c.value for c in Category]
    elif scope.kind is ScopeKind.CHANNEL:
        codes = [c.value for c in Channel]
    else:
        codes = []
    return kinds.index(scope.kind), codes.index(scope.code) if scope.code in codes else len(codes), scope.code


@offloading  # a period of cases: not on the loop's thread (storage.sqlite_async)
async def figures_for(session: AsyncSession, period: Period, *, community: Community, as_of: datetime,
                      filt: Filter = Filter(), snapshot: bool = True) -> dict[Scope, dict[str, Figure]]:
    """Every figure of every scope with tickets in ``period`` (the whole always), as things stand at ``as_of``."""
    require_aware(as_of)
    accs, exact = await _collect(session, period, filt, as_of, community, snapshot)
    return {scope: _figures(acc.sums, acc.times, snapshot, exact) for scope, acc in accs.items()}


@offloading  # a period of cases: not on the loop's thread (storage.sqlite_async)
async def build_report(session: AsyncSession, period: Period, *, community: Community, now: datetime,
                       filt: Filter = Filter(), top: int = 10) -> Report:
    """The report of ``period`` as of ``now``, each scope beside the previous period, with the top problems."""
    require_aware(now)
    before_period = period.previous()

    async def now_(s: AsyncSession) -> dict[Scope, dict[str, Figure]]:
        return await figures_for(s, period, community=community, as_of=now, filt=filt)

    async def before_(s: AsyncSession) -> dict[Scope, dict[str, Figure]]:
        return await figures_for(s, before_period, community=community, as_of=now, filt=filt, snapshot=False)

    async def problems_(s: AsyncSession) -> list[Problem]:
        return await top_problems(s, period, filt=filt, limit=top, community=community) if top else []

    current, before, problems = await _side_by_side(session, now_, before_, problems_)
    if filt.unit:  # a unit's report breaks down by grid, category and channel, not into other units
        current = {s: f for s, f in current.items() if s.kind is not ScopeKind.UNIT or s.code == filt.unit}
    if filt.grid:
        current = {s: f for s, f in current.items() if s.kind is not ScopeKind.GRID or s.code == filt.grid}
    if filt.grids:
        current = {s: f for s, f in current.items() if s.kind is not ScopeKind.GRID or s.code in filt.grids}
    scopes = [
        ScopeFigures(scope, scope_name(scope, community), figs, before.get(scope, _figures({}, [], False)))
        for scope, figs in sorted(current.items(), key=lambda item: _order(item[0], community))
    ]
    return Report(period, before_period, now, filt, scopes, problems)


@offloading  # a period of cases: not on the loop's thread (storage.sqlite_async)
async def trend(session: AsyncSession, period: Period, *, community: Community, now: datetime, periods: int = 4,
                filt: Filter = Filter(), known: Report | None = None) -> list[tuple[Period, dict[str, Figure]]]:
    """The whole's figures over the last ``periods`` periods ending with ``period`` (oldest first). ``known``: a
    report of the same filter as of the same ``now``, whose period and previous period are not computed again."""
    if periods <= 0:
        return []
    have: dict[Period, dict[str, Figure]] = {}
    if known is not None and known.filter == filt and known.as_of == now and known.overall.scope == ALL:
        current = {k: f for k, f in known.overall.figures.items() if k not in SNAPSHOT_ONLY}
        have = {known.period: current, known.previous_period: dict(known.overall.previous)}
    chosen = [period]
    while len(chosen) < periods:
        chosen.append(chosen[-1].previous())
    chosen.reverse()

    def job(p: Period) -> Callable[[AsyncSession], Awaitable[dict[Scope, dict[str, Figure]]]]:
        return lambda s: figures_for(s, p, community=community, as_of=now, filt=filt, snapshot=False)

    todo = [p for p in chosen if p not in have]
    figs = await _side_by_side(session, *(job(p) for p in todo))
    have.update((p, f[ALL]) for p, f in zip(todo, figs, strict=True))
    return [(p, have[p]) for p in chosen]


@offloading  # a period of cases: not on the loop's thread (storage.sqlite_async)
async def top_problems(session: AsyncSession, period: Period, *, filt: Filter = Filter(), limit: int = 10,
                       community: Community | None = None) -> list[Problem]:
    """The problems residents raised most often: complaints (cases, merged duplicates and linked followers)
    per category and building (or location, or grid when no place is known), most first. ``community``: lets
    SQLite group by numbered categories and grids (see :class:`_Codes`), a fifth faster."""
    t = Ticket
    dialect = await dialect_name(session)
    await _tune(session, dialect)
    codes = _Codes.of(community, dialect) if community is not None else _Codes()
    _, grid, category, _ = codes.columns()
    base = [col(t.created_at) >= period.since, col(t.created_at) < period.until, *filt.where()]
    keys = (category, grid, col(t.location))
    merged = col(t.status) == S.MERGED.value
    tickets = await _rows(session, select(*keys, func.count(), _flag(merged)).where(*base).group_by(*keys))
    followers = await _rows(session, select(*keys, func.count()).select_from(TicketFollower)
                            .join(t, col(t.id) == col(TicketFollower.ticket_id)).where(*base).group_by(*keys))

    def named(c: Any, g: Any) -> tuple[str, str]:
        _, grid_code, cat, _ = codes.group("", g, c, "")
        return cat, grid_code

    complaints: Counter[tuple[str, str]] = Counter()
    cases: Counter[tuple[str, str]] = Counter()

    def place(location: str | None, grid: str | None) -> str:
        return building_of(location) or (location or "").strip() or (f"网格 {grid}" if grid else "未知地点")

    for c, g, location, n, n_merged in tickets:
        cat, grid_code = named(c, g)
        complaints[(cat, place(location, grid_code))] += n
        cases[(cat, place(location, grid_code))] += n - int(n_merged or 0)
    for c, g, location, n in followers:
        cat, grid_code = named(c, g)
        complaints[(cat, place(location, grid_code))] += n
    ranked = sorted(complaints.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Problem(cat, where, n, cases[(cat, where)]) for (cat, where), n in ranked[:limit] if n > 1]


# --- cases, one row each (CSV, the XLSX cases sheet) ---------------------------------------------------------


CASE_COLUMNS: tuple[str, ...] = (
    "number", "created_at", "channel", "category", "unit", "grid", "status", "emergency", "sign_due_at", "signed_at",
    "due_at", "resolved_at", "closed_at", "paused_seconds", "on_time", "rating", "escalation_level", "reopened",
    "merged_into",
)


@offloading  # a period of cases: not on the loop's thread (storage.sqlite_async)
async def case_rows(session: AsyncSession, period: Period, *, filt: Filter = Filter(),
                    as_of: datetime) -> list[dict[str, Any]]:
    """Every ticket received in the period (merged ones too, marked), for those who rebuild their own figures."""
    t = Ticket
    stmt = (select(t).where(col(t.created_at) >= period.since, col(t.created_at) < period.until, *filt.where())
            .order_by(col(t.created_at), col(t.id)))
    tickets = list((await session.exec(stmt)).all())
    numbers = {x.id: x.number for x in tickets}
    out = []
    for x in tickets:
        resolved = (x.resolved_at is not None and x.resolved_at >= clocks.started_at(x)
                    and x.rating is not Rating.UNREACHABLE)  # 无法联系: not a resolution (module docstring)
        if resolved:
            on_time: bool | None = x.resolved_at <= x.due_at  # type: ignore[operator]
        else:
            due = clocks.effective_due(x, min(as_of, x.closed_at) if x.closed_at else as_of)
            on_time = False if due <= (min(as_of, x.closed_at) if x.closed_at else as_of) else None
        out.append({
            "number": x.number, "created_at": x.created_at, "channel": x.channel.value, "category": x.category,
            "unit": x.unit, "grid": x.grid_code or "", "status": x.status.value, "emergency": x.emergency,
            "sign_due_at": x.sign_due_at, "signed_at": x.signed_at, "due_at": x.due_at,
            "resolved_at": x.resolved_at, "closed_at": x.closed_at, "paused_seconds": x.paused_seconds,
            "on_time": on_time, "rating": x.rating.value if x.rating else "",
            "escalation_level": x.escalation_level or "", "reopened": x.reopened_count > 0,
            "merged_into": numbers.get(x.merged_into_id, "") if x.merged_into_id else "",
        })
    return out


def scopes_of_kind(scopes: Iterable[ScopeFigures], kind: ScopeKind) -> list[ScopeFigures]:
    return [s for s in scopes if s.scope.kind is kind]


__all__ = [
    "ALL",
    "BUCKETS",
    "CASE_COLUMNS",
    "CATEGORY_NAMES",
    "CHANNEL_NAMES",
    "FIGURE_KEYS",
    "Figure",
    "FigureKind",
    "Filter",
    "Problem",
    "Report",
    "Scope",
    "ScopeFigures",
    "ScopeKind",
    "build_report",
    "case_rows",
    "count",
    "figures_for",
    "rate",
    "scope_name",
    "scopes_of_kind",
    "top_problems",
    "trend",
]
