"""Report benchmark: a month of a big street (100,000 tickets) reported in under a second, on SQLite and PostgreSQL,
the time following the period's tickets, not all tickets.

`python benchmarks/report_bench.py [--month 100000] [--older 75000] [--engines sqlite,postgresql] [--repeat 3]
[--baseline REV] [--json]`

For each engine it loads, with the real schema (Alembic to head) and bulk inserts, ``--month`` tickets received in
November 2026 with their event history (created, dispatched, signed, in progress, resolved, rated, closed; some
escalated, reopened, withdrawn, merged, paused, mediated), then times a first (cold) run and ``--repeat`` warm runs
(best–worst) of:

- ``count``: a plain ``SELECT COUNT(*)`` over the same rows (the period's tickets), the floor any report stands on;
- ``old_figures`` / ``old_report``: the report code as it was at ``--baseline`` (``git show``; default the commit
  before the side-by-side path), timed in the same run on the same data, and checked to give the same figures;
- ``figures``: ``services.reports.figures.figures_for`` — every figure for every scope of the month;
- ``report``: ``build_report`` — the same, the previous month beside it, and the top repeated problems;
- ``week``: ``figures_for`` of one week (about a quarter of the month's tickets).

Then it adds ``--older`` tickets to each of the three months before (August–October) and times the same again:
the month's figures should cost about the same with four times the tickets stored.
PostgreSQL runs on the tests' throwaway cluster (``tests/pg.py``); it is skipped, saying why, when there is none.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable without installing the package
    sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402

from services import SHANGHAI  # noqa: E402
from services.community.model import SAMPLE_COMMUNITY_FILE, load_community  # noqa: E402
from services.reports.figures import build_report, figures_for  # noqa: E402
from services.reports.periods import Period, month_of, parse_period  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Ticket  # noqa: E402

COMMUNITY = load_community(SAMPLE_COMMUNITY_FILE)
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
MONTH = parse_period("2026-11")
WEEK = parse_period("2026-W47")
CATEGORIES = ("noise", "property", "repair", "sanitation", "parking", "dispute", "welfare", "utilities")
CHANNELS = ("telegram",) * 6 + ("phone", "12345", "visit", "patrol")
GRIDS = [g.code for g in COMMUNITY.grids]
RESIDENTS = 2000
H = timedelta(hours=1)

TICKET_COLS = ("id", "number", "resident_id", "category", "text", "photos", "status", "unit", "grid_code",
               "created_at", "updated_at", "sign_due_at", "due_at", "closed_at", "merged_into_id", "version",
               "emergency", "escalation_level", "paused_at", "paused_seconds", "signed_at", "resolved_at",
               "rating", "rated_at", "channel", "attachments", "location", "result", "first_signed_at",
               "resolved_count", "reopened_count")
EVENT_COLS = ("ticket_id", "at", "actor", "kind", "from_status", "to_status", "level", "mediation_stage")
BASELINE = "be3705b"  # the report code before the side-by-side path (services/reports/figures.py at that commit)
STAGES = ("applied", "registered", "meeting", "negotiation", "agreement")


def tickets_of(period: Period, n: int, first_id: int, rng: random.Random) -> Iterator[tuple[dict, list[tuple]]]:
    """``n`` tickets received in ``period`` (naive UTC datetimes) with their events."""
    start = period.since.astimezone(UTC).replace(tzinfo=None)
    span = (period.until - period.since).total_seconds()
    moments = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(n))  # ids follow time, as live
    for i, created in enumerate(moments):
        yield _ticket(first_id + i, created, rng)


def _ticket(tid: int, created: datetime, rng: random.Random) -> tuple[dict, list[tuple]]:
    """One ticket received at ``created`` (naive UTC) and its events."""
    cat = rng.choice(CATEGORIES)
    unit = COMMUNITY.unit_for(cat).code
    t = {c: None for c in TICKET_COLS} | {
        "id": tid, "number": f"LL-{created:%Y%m%d}-{tid:06d}", "resident_id": 1 + tid % RESIDENTS,
        "category": cat, "text": "诉求", "photos": "[]", "unit": unit, "grid_code": rng.choice(GRIDS),
        "created_at": created, "updated_at": created, "sign_due_at": created + 2 * H,
        "due_at": created + COMMUNITY.limit_hours(cat) * H, "version": 3, "emergency": False,
        "paused_seconds": 0, "channel": rng.choice(CHANNELS), "attachments": "[]",
        "location": f"{rng.randint(1, 22)}号楼" if rng.random() < 0.6 else None,
        "resolved_count": 0, "reopened_count": 0,  # kept by the lifecycle with the events below
    }
    ev = [(tid, created, "resident:1", "created", None, "received", None, None),
          (tid, created, "system", "dispatched", "received", "dispatched", None, None)]
    roll = rng.random()
    if roll < 0.02:  # merged duplicate
        t |= {"status": "merged", "closed_at": created + H, "merged_into_id": None}
        ev.append((tid, created + H, "staff:1", "merged", "dispatched", "merged", None, None))
    elif roll < 0.05:  # withdrawn before signing
        t |= {"status": "withdrawn", "closed_at": created + 3 * H}
        ev.append((tid, created + 3 * H, "resident:1", "withdrawn", "dispatched", "withdrawn", None, None))
    else:
        signed = created + timedelta(minutes=rng.expovariate(1 / 70))
        t |= {"status": "signed", "signed_at": signed, "first_signed_at": signed}
        ev.append((tid, signed, "staff:1", "status_changed", "dispatched", "signed", None, None))
        if rng.random() < 0.05:
            ev.append((tid, created + 2 * H, "system", "escalated", None, None, "grid", None))
            t["escalation_level"] = "grid"
        if cat == "dispute":
            for k in range(rng.randint(1, 5)):
                ev.append((tid, signed + (k + 1) * H, "staff:1", "mediation", None, None, None, STAGES[k]))
        if roll < 0.10:  # still open, some waiting for the resident
            if rng.random() < 0.3:
                t |= {"status": "pending_info", "paused_at": signed + H}
                ev.append((tid, signed + H, "staff:1", "status_changed", "signed", "pending_info", None, None))
            return t, ev
        resolved = signed + timedelta(hours=rng.expovariate(1 / 40))
        t |= {"status": "resolved", "resolved_at": resolved, "result": "已处理", "resolved_count": 1}
        ev += [(tid, signed + timedelta(minutes=5), "staff:1", "status_changed", "signed", "in_progress", None,
                None),
               (tid, resolved, "staff:1", "status_changed", "in_progress", "resolved", None, None)]
        if roll < 0.20:
            return t, ev  # resolved, waiting for the follow-up
        rating = rng.choices(("satisfied", "basically_satisfied", "unsatisfied", "unrated"), (70, 15, 5, 10))[0]
        t |= {"rating": rating, "rated_at": resolved + 2 * H, "status": "closed", "closed_at": resolved + 2 * H}
        if rating == "unsatisfied":  # reopened, escalated, resolved again
            again = resolved + 30 * H
            t |= {"status": "closed", "resolved_at": again, "closed_at": again + 2 * H, "resolved_count": 2,
                  "reopened_count": 1}
            ev += [(tid, resolved + 2 * H, "resident:1", "status_changed", "resolved", "reopened", None, None),
                   (tid, resolved + 2 * H, "system", "escalated", None, None, "community", None),
                   (tid, again, "staff:1", "status_changed", "in_progress", "resolved", None, None)]
        ev.append((tid, t["closed_at"], "resident:1", "status_changed", "followed_up", "closed", None, None))
    return t, ev


# --- loading ----------------------------------------------------------------------------------------------


def _sqlite_value(v: Any) -> Any:
    return v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v


def load_sqlite(path: Path, periods: list[tuple[Period, int]], first_id: int, seed: int) -> int:
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=OFF")
    con.execute("PRAGMA synchronous=OFF")
    if first_id == 1:
        stamp = _sqlite_value(datetime(2026, 1, 1))
        con.executemany("INSERT INTO grids (code, name, worker_name, buildings) VALUES (?, ?, '', '[]')",
                        [(g, g) for g in GRIDS])
        con.executemany("INSERT INTO residents (id, name, created_at, updated_at) VALUES (?, '居民', ?, ?)",
                        [(i, stamp, stamp) for i in range(1, RESIDENTS + 1)])
    t_sql = f"INSERT INTO tickets ({', '.join(TICKET_COLS)}) VALUES ({', '.join('?' * len(TICKET_COLS))})"
    e_sql = f"INSERT INTO ticket_events ({', '.join(EVENT_COLS)}) VALUES ({', '.join('?' * len(EVENT_COLS))})"
    n = first_id
    for period, count in periods:
        rows, events = [], []
        for t, ev in tickets_of(period, count, n, rng):
            rows.append(tuple(_sqlite_value(t[c]) for c in TICKET_COLS))
            events += [tuple(_sqlite_value(v) for v in e) for e in ev]
        events.sort(key=lambda e: e[1])  # written as they happen: one case's events far apart, as live
        con.executemany(t_sql, rows)
        con.executemany(e_sql, events)
        n += count
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return n


async def load_postgres(url: Any, periods: list[tuple[Period, int]], first_id: int, seed: int) -> int:
    import asyncpg

    rng = random.Random(seed)
    con = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        if first_id == 1:
            await con.copy_records_to_table("grids", records=[(g, g, "", "[]") for g in GRIDS],
                                            columns=["code", "name", "worker_name", "buildings"])
            stamp = datetime(2026, 1, 1)
            await con.copy_records_to_table(
                "residents", records=[(i, "居民", stamp, stamp) for i in range(1, RESIDENTS + 1)],
                columns=["id", "name", "created_at", "updated_at"])
        n = first_id
        for period, count in periods:
            rows, events = [], []
            for t, ev in tickets_of(period, count, n, rng):
                rows.append(tuple(t[c] for c in TICKET_COLS))
                events += ev
            events.sort(key=lambda e: e[1])
            await con.copy_records_to_table("tickets", records=rows, columns=list(TICKET_COLS))
            await con.copy_records_to_table("ticket_events", records=events, columns=list(EVENT_COLS))
            n += count
        await con.execute("VACUUM ANALYZE")  # what autovacuum does soon after: visibility map for index-only scans
        # and again: an ANALYZE autovacuum starts meanwhile holds the horizon back, and the first pass can leave a
        # table's visibility map empty (seen: ticket_events 0 of 7,163 pages all-visible, every lookup a heap read)
        await con.execute("VACUUM")
        return n
    finally:
        await con.close()


# --- timing -----------------------------------------------------------------------------------------------


async def timings(repeat: int, job: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    """The first (cold: plans, caches, connections) and then ``repeat`` warm runs, in ms; ``cpu``: the least CPU
    time this process used in a warm run (all its threads: SQLite's work, not PostgreSQL's), which the machine's
    other load inflates far less than the wall time."""
    t0 = time.perf_counter()
    await job()
    cold = time.perf_counter() - t0
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        await job()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"cold": 1000 * cold, "best": 1000 * min(times), "worst": 1000 * max(times), "cpu": 1000 * min(cpu)}


def baseline_module(rev: str) -> Any:
    """``services/reports/figures.py`` as it was at ``rev`` (the code before the fast path), or None."""
    if not rev:
        return None
    try:
        source = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:services/reports/figures.py"],
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"baseline {rev}: not available ({exc})", file=sys.stderr)
        return None
    module = types.ModuleType("report_figures_baseline")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:services/reports/figures.py", "exec"), module.__dict__)
    return module


def _plain(figs: dict) -> dict:
    """Every figure as (numerator, denominator) per scope key, open-now colours aside (the baseline read them 8 h
    late on SQLite, a bug fixed with the fast path)."""
    return {s.key: {k: (f.numerator, f.denominator) for k, f in d.items() if not k.startswith("open_")}
            for s, d in figs.items()}


async def measure(db: Database, repeat: int, baseline: Any) -> dict[str, Any]:
    async def count() -> int:
        async with db.session() as s:
            stmt = select(func.count()).select_from(Ticket).where(
                Ticket.created_at >= MONTH.since, Ticket.created_at < MONTH.until)  # type: ignore[operator]
            return (await s.exec(stmt)).one()[0]

    def figures(period: Period = MONTH, code: Any = None) -> Callable[[], Awaitable[Any]]:
        async def job() -> Any:
            async with db.session() as s:
                return await (code.figures_for if code else figures_for)(s, period, community=COMMUNITY, as_of=NOW)
        return job

    def report(code: Any = None) -> Callable[[], Awaitable[Any]]:
        async def job() -> Any:
            async with db.session() as s:
                return await (code.build_report if code else build_report)(s, MONTH, community=COMMUNITY, now=NOW)
        return job

    async with db.session() as s:
        total = (await s.exec(select(func.count()).select_from(Ticket))).one()[0]
    rows = await count()
    out: dict[str, Any] = {"stored": total, "month_tickets": rows, "count": await timings(repeat, count)}
    if baseline is not None:  # first, so that the fast path never runs on caches the baseline warmed
        out["old_figures"] = await timings(repeat, figures(code=baseline))
        out["old_report"] = await timings(repeat, report(baseline))
    out["figures"] = await timings(repeat, figures())
    out["report"] = await timings(repeat, report())
    out["week"] = await timings(repeat, figures(WEEK))
    figs = await figures()()
    whole = next(f for s, f in figs.items() if s.kind.value == "all")
    out["check"] = {k: (whole[k].numerator, whole[k].denominator) for k in ("received", "response_rate",
                                                                          "satisfaction_rate")}
    if baseline is not None:
        out["same_as_baseline"] = _plain(figs) == _plain(await figures(code=baseline)())
    return out


async def run_engine(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    baseline = baseline_module(args.baseline)
    older = [(month_of(datetime(2026, m, 1).date()), args.older) for m in (8, 9, 10)]
    if engine == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="report-bench-"))
        path = folder / "bench.db"
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.migrate_async()
        await db.dispose()
        t0 = time.perf_counter()
        nxt = load_sqlite(path, [(MONTH, args.month)], 1, args.seed)
        load_s = time.perf_counter() - t0
        db = Database(f"sqlite+aiosqlite:///{path}")
        first = await measure(db, args.repeat, baseline)
        await db.dispose()
        load_sqlite(path, older, nxt, args.seed + 1)
        db = Database(f"sqlite+aiosqlite:///{path}")
        second = await measure(db, args.repeat, baseline)
        await db.dispose()
        return {"engine": engine, "load_s": load_s, "month_only": first, "with_older": second}
    pg = _pg_helper()
    with pg.postgres_server() as server:
        url = await pg.create_database(server)
        try:
            db = Database(url)
            await db.migrate_async()
            t0 = time.perf_counter()
            nxt = await load_postgres(url, [(MONTH, args.month)], 1, args.seed)
            load_s = time.perf_counter() - t0
            first = await measure(db, args.repeat, baseline)
            await load_postgres(url, older, nxt, args.seed + 1)
            second = await measure(db, args.repeat, baseline)
            await db.dispose()
        finally:
            await pg.drop_database(server, url)
    return {"engine": engine, "load_s": load_s, "month_only": first, "with_older": second}


def _pg_helper() -> Any:
    spec = importlib.util.spec_from_file_location("linli_tests_pg", REPO / "tests" / "pg.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["linli_tests_pg"] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--month", type=int, default=100_000)
    ap.add_argument("--older", type=int, default=75_000, help="tickets added to each of the 3 months before")
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--baseline", default=BASELINE, help="git revision whose report code is timed beside ('' none)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = []
    for engine in args.engines.split(","):
        try:
            results.append(asyncio.run(run_engine(engine.strip(), args)))
        except Exception as exc:  # no PostgreSQL here: say so, keep the other engine's figures
            if type(exc).__name__ != "PgUnavailable":
                raise
            print(f"{engine}: skipped ({exc})", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2, default=str))
        return 0
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, load average {os.getloadavg()[0]:.1f}")
    print(f"warm best–worst of {args.repeat} (cold first run); before = {args.baseline or '(none)'}")
    print("| engine | tickets stored | month's tickets | COUNT(*) | month's figures before | month's figures | "
          "full report before | full report | one week | same figures |")
    print("|---|---|---|---|---|---|---|---|---|---|")

    def ms(m: dict[str, Any], key: str) -> str:
        t = m.get(key)
        return f"{t['best']:.0f}–{t['worst']:.0f} ms ({t['cold']:.0f})" if t else "—"

    for r in results:
        for key in ("month_only", "with_older"):
            m = r[key]
            print(f"| {r['engine']} | {m['stored']:,} | {m['month_tickets']:,} | {m['count']['best']:.1f} ms | "
                  f"{ms(m, 'old_figures')} | {ms(m, 'figures')} | {ms(m, 'old_report')} | {ms(m, 'report')} | "
                  f"{ms(m, 'week')} | {m.get('same_as_baseline', '—')} |")
    print("\nCPU of this process, least of the warm runs (SQLite: the database's work too; PostgreSQL: the client's):")
    for r in results:
        for key in ("month_only", "with_older"):
            m = r[key]
            keys = [k for k in ("old_figures", "figures", "old_report", "report", "week") if k in m]
            print(f"  {r['engine']} {m['stored']:,} stored: " + ", ".join(f"{k} {m[k]['cpu']:.0f} ms" for k in keys))
    for r in results:
        print(f"{r['engine']}: loaded in {r['load_s']:.1f} s; check {r['month_only']['check']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
