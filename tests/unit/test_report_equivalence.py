"""The fast report path (one GROUP BY per half period with correlated event lookups, side-by-side connections,
times collected per group) gives exactly the figures of a plain computation in Python over the tickets and their
events, on a realistic mixed data set: the benchmark's generator (signings, resolutions, ratings, reopenings,
escalations, withdrawals, merges, pauses, mediations), a few restarted clocks, emergencies and street escalations
added, two months plus the previous one, on SQLite and PostgreSQL."""

import asyncio
import importlib.util
import random
import statistics
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlmodel import select

from services.cases import clocks
from services.people.residents import sync_grids
from services.reports.figures import (
    ALL,
    BUCKETS,
    LEVELS,
    STAGES,
    Figure,
    FigureKind,
    Filter,
    Scope,
    ScopeKind,
    build_report,
    count,
    figures_for,
    rate,
    trend,
)
from services.reports.periods import Period, parse_period
from storage.db import Database
from storage.models import OPEN_STATUSES, MediationStage, Resident, Ticket, TicketEvent, TicketEventKind, TicketStatus

REPO = Path(__file__).resolve().parents[2]
S = TicketStatus
HOUR = 3600


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("linli_report_bench", REPO / "benchmarks" / "report_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("linli_report_bench", module)
    spec.loader.exec_module(module)
    return module


RB = _bench()
C = RB.COMMUNITY
NOW = RB.NOW
NOV = parse_period("2026-11")


def _aware(v: Any) -> Any:
    return v.replace(tzinfo=UTC) if isinstance(v, datetime) else v


async def load(db: Database, rng: random.Random) -> None:
    """About 1,300 tickets over October and November (and a few in December), written with the real schema."""
    tickets: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    first = 1
    # a few tickets of a unit and a category the community no longer has, and of no grid (SQLite numbers the known
    # ones in its GROUP BY; the others must come through as themselves)
    odd = random.Random(3)
    unreachable = random.Random(5)  # its own draws: the generator's data stays as it was
    for period, n in ((parse_period("2026-10"), 500), (NOV, 800), (parse_period("2026-W49"), 30)):
        for t, ev in RB.tickets_of(period, n, first, rng):
            row = {k: _aware(v) for k, v in t.items()} | {"photos": [], "attachments": []}
            roll = odd.random()
            if roll < 0.02:
                row["unit"] = "jiedao_old"
            elif roll < 0.04:
                row["category"] = "pets"
            elif roll < 0.07:
                row["grid_code"] = None
            if rng.random() < 0.05 and row["resolved_at"] is not None:  # a restarted clock (reassigned, reopened)
                row["clock_started_at"] = row["created_at"] + timedelta(hours=rng.random() * 20)
                row["paused_seconds"] = rng.choice((0, 600, 7200))
            if rng.random() < 0.02:
                row["emergency"] = True
            if unreachable.random() < 0.04 and row["resolved_at"] is not None:  # 办结 as 无法联系, no verdict
                row["rating"] = "unreachable"
            tickets.append(row)
            for e in ev:
                tid, at, actor, kind, from_s, to_s, level, stage = e
                if kind == "escalated" and rng.random() < 0.2:
                    level = "street"
                events.append({"ticket_id": tid, "at": _aware(at), "actor": actor, "kind": kind,
                               "from_status": from_s, "to_status": to_s, "level": level, "mediation_stage": stage})
        first += n
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    async with db.transaction() as s:
        await sync_grids(s, C)
        residents = sorted({t["resident_id"] for t in tickets})
        con = await s.connection()
        await con.execute(insert(Resident), [{"id": i, "name": "居民", "created_at": stamp, "updated_at": stamp}
                                             for i in residents])
        await con.execute(insert(Ticket), tickets)
        await con.execute(insert(TicketEvent), events)


# --- the plain computation ----------------------------------------------------------------------------------


async def plain(db: Database, period: Period, as_of: datetime, filt: Filter | None = None,
                snapshot: bool = True) -> dict[Scope, dict[str, tuple[Any, Any]]]:
    """Every figure of every scope, ticket by ticket in Python, from the definitions in figures.py's docstring."""
    filt = filt or Filter()
    async with db.session() as s:
        everything = list((await s.exec(select(Ticket))).all())
        history = list((await s.exec(select(TicketEvent))).all())
    by_ticket: dict[int, list[TicketEvent]] = defaultdict(list)
    for e in history:
        by_ticket[e.ticket_id].append(e)

    def admitted(t: Ticket) -> bool:
        return (not filt.unit or t.unit == filt.unit) and (not filt.grid or t.grid_code == filt.grid)

    def scopes(t: Ticket) -> list[Scope]:
        return [ALL, Scope(ScopeKind.UNIT, t.unit), Scope(ScopeKind.GRID, t.grid_code or ""),
                Scope(ScopeKind.CATEGORY, t.category), Scope(ScopeKind.CHANNEL, t.channel.value)]

    sums: dict[Scope, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    times: dict[Scope, list[float]] = defaultdict(list)
    sums[ALL]
    for t in everything:
        if not (period.since <= t.created_at < period.until) or t.status is S.MERGED or not admitted(t):
            continue
        ev = by_ticket[t.id]
        changed = [e for e in ev if e.kind is TicketEventKind.STATUS_CHANGED]
        started = t.clock_started_at or t.created_at
        unreachable = t.rating is not None and t.rating.value == "unreachable"  # no resolution (figures.py)
        resolved = t.resolved_at is not None and t.resolved_at >= started and not unreachable
        is_open = t.status in OPEN_STATUSES
        if t.paused_at is not None:
            overdue = t.due_at <= t.paused_at
        else:
            overdue = t.due_at <= as_of and (t.closed_at is None or t.closed_at >= t.due_at)
        signings = [e.at for e in changed if e.to_status is S.SIGNED]
        reopened = t.resolved_at is not None and any(e.to_status is S.REOPENED for e in changed)
        resolved_ever = t.resolved_at is not None and any(e.to_status is S.RESOLVED for e in changed)
        finished = t.resolved_at is not None and not is_open
        stage = 0
        if t.category == "dispute":
            stage = max((STAGES.index(e.mediation_stage) + 1 for e in ev
                         if e.kind is TicketEventKind.MEDIATION and e.mediation_stage), default=0)
        flags = {
            "received": True,
            "sign_ok": t.signed_at is not None and t.signed_at <= t.sign_due_at,
            "sign_judged": t.signed_at is not None or (
                t.sign_due_at <= as_of and (t.closed_at is None or t.sign_due_at <= t.closed_at)),
            "due_ok": resolved and t.resolved_at <= t.due_at,
            "due_judged": resolved or overdue,
            "happy": t.rating is not None and t.rating.value in ("satisfied", "basically_satisfied"),
            "rated": t.rating is not None and t.rating.value in ("satisfied", "basically_satisfied", "unsatisfied"),
            "unrated": t.rating is not None and t.rating.value == "unrated",
            "unreachable": unreachable,
            "withdrawn": t.status is S.WITHDRAWN,
            "reopened": reopened,
            "resolved_ever": resolved_ever,
            "solve_judged": resolved_ever and not unreachable,
            "solved": resolved_ever and not reopened and finished and not unreachable,
            "responded": bool(signings),
            "mediations": stage > 0,
            "mediation_closed": stage > 0 and not is_open,
            "mediation_agreed": stage >= STAGES.index(MediationStage.AGREEMENT) + 1 and not is_open,
        }
        if signings:
            secs = (min(signings) - t.created_at).total_seconds()
            for key, low, high in BUCKETS:
                flags[key] = secs >= low and (high is None or secs < high)
        for i, st in enumerate(STAGES):
            flags[f"stage_{st.value}"] = stage == i + 1
        for e in ev:
            if e.kind is TicketEventKind.ESCALATED:
                for sc in scopes(t):
                    sums[sc][f"esc_{e.level}"] += 1
        for sc in scopes(t):
            for k, v in flags.items():
                sums[sc][k] += int(v)
            if resolved:
                times[sc].append((t.resolved_at - started).total_seconds() - t.paused_seconds)
    if snapshot:
        for t in everything:
            if t.status in OPEN_STATUSES and admitted(t):
                for sc in scopes(t):
                    sums[sc][f"open_{clocks.colour(t, as_of).value}"] += 1

    out: dict[Scope, dict[str, tuple[Any, Any]]] = {}
    for sc, n in sums.items():
        received = n["received"]
        figs: dict[str, Figure] = {
            "received": count(received),
            "response_rate": rate(n["sign_ok"], n["sign_judged"]),
            "on_time_rate": rate(n["due_ok"], n["due_judged"]),
            "resolution_rate": rate(n["solved"], n["solve_judged"]),
            "satisfaction_rate": rate(n["happy"], n["rated"]),
            "unrated": rate(n["unrated"], n["rated"] + n["unrated"]),
            "unreachable": count(n["unreachable"], received),
            **{key: rate(n[key], n["responded"]) for key, _, _ in BUCKETS},
            "median_resolve_hours": Figure(
                round(statistics.median(times[sc]) / HOUR, 2) if times[sc] else None, len(times[sc]),
                FigureKind.MEDIAN),
            "reopened": count(n["reopened"], n["resolved_ever"]),
            **{f"escalations_{lv}": count(n[f"esc_{lv}"], received) for lv in LEVELS},
            "withdrawn": count(n["withdrawn"], received),
            "warnings": count(0),
            **{f"mediation_{st.value}": count(n[f"stage_{st.value}"], n["mediations"]) for st in STAGES},
            "mediation_success_rate": rate(n["mediation_agreed"], n["mediation_closed"]),
            "supervised": count(0, received),
            "supervision_on_time": rate(0, 0),
        }
        if snapshot:
            total = n["open_red"] + n["open_yellow"] + n["open_green"]
            for colour in ("red", "yellow", "green"):
                figs[f"open_{colour}"] = count(n[f"open_{colour}"], total)
        out[sc] = values(figs)
    return out


def values(figs: dict[str, Figure]) -> dict[str, tuple[Any, Any]]:
    """Numerator and denominator of every figure; the median as a float (PostgreSQL's is an exact Decimal)."""
    return {k: (float(f.numerator) if f.kind is FigureKind.MEDIAN and f.numerator is not None else f.numerator,
                f.denominator) for k, f in figs.items()}


def fast(figs: dict[Scope, dict[str, Figure]]) -> dict[Scope, dict[str, tuple[Any, Any]]]:
    return {sc: values(f) for sc, f in figs.items()}


async def test_fast_figures_equal_the_plain_computation(any_db: Database) -> None:
    await load(any_db, random.Random(7))
    async with any_db.session() as s:
        month = await figures_for(s, NOV, community=C, as_of=NOW)
        week = await figures_for(s, parse_period("2026-W46"), community=C, as_of=NOW)
        unit = await figures_for(s, NOV, community=C, as_of=NOW, filt=Filter(unit="wuye"))
        grid = await figures_for(s, NOV, community=C, as_of=NOW, filt=Filter(grid="A03"), snapshot=False)
        report = await build_report(s, NOV, community=C, now=NOW)
        points = await trend(s, NOV, community=C, now=NOW, periods=3)
        reused = await trend(s, NOV, community=C, now=NOW, periods=3, known=report)  # the chat's report does this
    assert fast(month)[ALL]["received"][0] > 700
    expected = await plain(any_db, NOV, NOW)
    diff = {(sc.key, k): (v, expected.get(sc, {}).get(k)) for sc, f in fast(month).items() for k, v in f.items()
            if expected.get(sc, {}).get(k) != v}
    assert not diff, sorted(diff.items())[:10]
    assert fast(month) == expected
    assert fast(week) == await plain(any_db, parse_period("2026-W46"), NOW)
    assert fast(unit) == await plain(any_db, NOV, NOW, Filter(unit="wuye"))
    assert fast(grid) == await plain(any_db, NOV, NOW, Filter(grid="A03"), snapshot=False)
    october = await plain(any_db, NOV.previous(), NOW, snapshot=False)
    assert {x.scope: values(dict(x.figures)) for x in report.scopes} == fast(month)
    assert {x.scope: values(dict(x.previous)) for x in report.scopes if x.scope in october} == {
        sc: f for sc, f in october.items() if sc in {x.scope for x in report.scopes}}
    assert [p for p, _ in points] == [parse_period("2026-09"), NOV.previous(), NOV]
    assert values(points[1][1]) == october[ALL]
    assert values(points[2][1]) == (await plain(any_db, NOV, NOW, snapshot=False))[ALL]
    assert [(p, values(f)) for p, f in reused] == [(p, values(f)) for p, f in points]
    some = fast(month)[ALL]
    assert all(some[k][0] for k in ("unreachable", "reopened", "escalations_street", "mediation_agreement", "withdrawn",
                                    "open_red", "open_yellow", "first_response_4_8h"))  # the data set exercises them
    assert {Scope(ScopeKind.UNIT, "jiedao_old"), Scope(ScopeKind.CATEGORY, "pets"), Scope(ScopeKind.GRID, "")} <= set(
        month)


async def test_reports_at_once_share_a_few_spare_connections(db: Database, monkeypatch) -> None:
    """Three reports at once (and nested calls) take spare connections without waiting for them: the spare ones
    run their work on their caller's connection, the figures are the same, and every connection comes back."""
    from services.reports import figures

    await load(db, random.Random(11))
    async with db.session() as s:
        alone = await build_report(s, NOV, community=C, now=NOW)

    async def one() -> Any:
        async with db.session() as s:
            return await build_report(s, NOV, community=C, now=NOW)

    together = await asyncio.gather(one(), one(), one())
    assert figures._BUDGET.spare == figures.SPARE_CONNECTIONS
    monkeypatch.setattr(figures._BUDGET, "spare", 0)  # none to spare: all on the caller's connection
    async with db.session() as s:
        sequential = await build_report(s, NOV, community=C, now=NOW)
    assert figures._BUDGET.spare == 0

    def shown(r: Any) -> list[Any]:
        return [(x.scope, values(dict(x.figures)), values(dict(x.previous))) for x in r.scopes] + [r.top_problems]

    assert all(shown(r) == shown(alone) for r in (*together, sequential))


# --- the columns the lifecycle keeps for reports, against the events they stand for ----------------------------


def _migration() -> Any:
    path = REPO / "storage" / "migrations" / "versions" / "0015_event_facts.py"
    spec = importlib.util.spec_from_file_location("linli_migration_0015", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def from_events(db: Database) -> dict[int, tuple[Any, int, int]]:
    """Each ticket's first signing and counts of resolutions and reopenings, read from its events."""
    async with db.session() as s:
        history = list((await s.exec(select(TicketEvent))).all())
        ids = list((await s.exec(select(Ticket.id))).all())
    found: dict[int, tuple[Any, int, int]] = {i: (None, 0, 0) for i in ids}
    for e in history:
        if e.kind is not TicketEventKind.STATUS_CHANGED:
            continue
        first, resolved, reopened = found[e.ticket_id]
        if e.to_status is S.SIGNED and (first is None or e.at < first):
            first = e.at
        found[e.ticket_id] = (first, resolved + (e.to_status is S.RESOLVED), reopened + (e.to_status is S.REOPENED))
    return found


async def on_rows(db: Database) -> dict[int, tuple[Any, int, int]]:
    async with db.session() as s:
        return {t.id: (t.first_signed_at, t.resolved_count, t.reopened_count)
                for t in (await s.exec(select(Ticket))).all()}


async def test_columns_kept_by_the_lifecycle_agree_with_the_events(any_db: Database) -> None:
    """Cases moved by the real lifecycle (reopened twice, signed again after a reassignment, signed and then
    reassigned and not signed again, resolved by the resident's word unsigned): their row's first signing and
    counts are what their events say, the fast figures equal the plain ones, and the migration's backfill, run on
    rows written without the columns (cases from before it), gives the same."""
    from services.cases.events import staff_actor
    from services.cases.lifecycle import confirm_resolved, open_dispatched, reassign, transition
    from services.people.residents import get_or_create_resident

    async with any_db.transaction() as s:
        await sync_grids(s, C)
    start = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
    plans: dict[str, list[Any]] = {
        "reopened twice": [S.SIGNED, S.IN_PROGRESS, S.RESOLVED, S.REOPENED, S.SIGNED, S.IN_PROGRESS, S.RESOLVED,
                           S.REOPENED, S.DISPATCHED, S.SIGNED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED],
        "signed after reassignment": ["reassign", S.SIGNED, "reassign", S.SIGNED, S.IN_PROGRESS, S.RESOLVED],
        "signed then reassigned": [S.SIGNED, "reassign"],
        "resolved unsigned": ["confirm"],
        "reopened, resolved by the resident": [S.SIGNED, S.IN_PROGRESS, S.RESOLVED, S.REOPENED, "confirm"],
    }
    for k, (name, steps) in enumerate(plans.items()):
        when = start + timedelta(days=k)
        async with any_db.transaction() as s:
            r = await get_or_create_resident(s, tg_user_id=7000 + k, name=name, now=when)
            t = await open_dispatched(s, resident=r, category="noise", text=name, location="3号楼", photos=[],
                                      community=C, now=when)
        for step in steps:
            when += timedelta(hours=3)
            async with any_db.transaction() as s:
                t = await s.get(Ticket, t.id)
                if step == "reassign":
                    unit = next(u.code for u in C.units if u.code != t.unit)
                    done = await reassign(s, t, unit=unit, reason="不归我们", actor=staff_actor(1), now=when,
                                          community=C)
                elif step == "confirm":
                    done = await confirm_resolved(s, t, actor=staff_actor(1), now=when)
                else:
                    done = await transition(s, t, step, actor=staff_actor(1), now=when, result="已处理")
            assert done.ok, (name, step, done)
    expected = await from_events(any_db)
    assert await on_rows(any_db) == expected
    assert sorted(v[1:] for v in expected.values()) == [(0, 0), (1, 0), (1, 0), (2, 1), (3, 2)]
    assert sum(v[0] is not None for v in expected.values()) == 4
    async with any_db.session() as s:
        month = fast(await figures_for(s, NOV, community=C, as_of=NOW))
    assert month == await plain(any_db, NOV, NOW)
    assert month[ALL]["reopened"] == (2, 4) and month[ALL]["resolution_rate"] == (2, 4)

    async with any_db.transaction() as s:  # as before the migration: nothing on the rows
        con = await s.connection()
        await con.execute(Ticket.__table__.update().values(first_signed_at=None, resolved_count=0,
                                                           reopened_count=0))
        await con.run_sync(_migration().backfill)
    assert await on_rows(any_db) == expected
    async with any_db.session() as s:
        assert fast(await figures_for(s, NOV, community=C, as_of=NOW)) == month


async def test_backfill_gives_the_generators_columns(any_db: Database) -> None:
    """On the benchmark's data set the migration's backfill writes what the generator wrote with the events."""
    await load(any_db, random.Random(5))
    written = await on_rows(any_db)
    assert written == await from_events(any_db)
    async with any_db.transaction() as s:
        await (await s.connection()).run_sync(_migration().backfill)
    assert await on_rows(any_db) == written
