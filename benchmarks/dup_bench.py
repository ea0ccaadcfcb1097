"""Duplicate and hotspot benchmark: their cost follows the cases at one place in the window, not the tickets stored.

`python benchmarks/dup_bench.py [--sizes 1000,100000,1000000] [--recent 600] [--repeat 20] [--rounds 3] [--dir DIR]
[--json]`

For each size it builds a SQLite file with the real schema (Alembic to head) and bulk-loads that many tickets with
``sqlite3.executemany`` (secondary indexes dropped during the load and rebuilt after, as a bulk import would):
``--recent`` of them opened within the last 72 hours (a busy street's three days: six categories over the 22
buildings of the sample community, 70 % still open, one in ten with a linked duplicate), the rest older (up to three
years back, 80 % closed), spread over the same categories and buildings, so at a million the building asked about
holds some 7,500 old cases of the category. The recent part is the same at every size: equal work.

Timed, warm, best of ``--repeat``, in ``--rounds`` rounds (every size measured again in turn once all are built,
each figure the best of its rounds: a busy spell of the shared machine then hits every size alike), through the
real services on the bot's own database layer; in wall time, in the process's CPU time (every thread: SQLite's work
runs in aiosqlite's), and as the statements each check ran, alone on a plain sqlite3 connection (the database's
share, without the ORM, the driver's thread hops and the similarity work):

- ``look``: ``duplicates.look``, the check made before the write lock (one read: the category's open cases of the
  last 72 h at that building, or in its grid for cases that name no building; the new text tokenised once);
- ``under lock``: what the confirm's write transaction still reads (``duplicates.Check``: the ids of the look's
  matches still open and of tickets newer than the look, with the hotspot counts, as columns the bot reads in the
  draft's ``DELETE … RETURNING``, here in a ``SELECT``; then the case to join, if one matched);
- ``full``: ``find_duplicate`` without a look (what a caller with no look pays);
- ``hotspot``: ``check_hotspot`` alone, one statement counting the place's cases and links of the last day (rolled
  back; the bot reads the same counts under the lock, above);
- baselines, measured the same way: ``old dup`` the check as it was before (the category's 200 newest open cases
  of the window loaded, the place and similarity worked out in Python, the new text tokenised once per
  candidate) and ``old hotspot`` (every case of the category of the last day loaded and its building parsed).

Each query's plan is checked to be an index search (never a scan of ``tickets``; SQLite picks the place index or
the category/time one, whichever its statistics say reads less) and printed with ``--json``; every answer is checked
to be the same as the baseline's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable without installing the package
    sys.path.insert(0, str(REPO))

from sqlalchemy import event  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from services.cases import duplicates  # noqa: E402
from services.cases.tickets import building_of  # noqa: E402
from services.community.model import SAMPLE_COMMUNITY_FILE, load_community  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import OPEN_STATUSES, Ticket, TicketFollower  # noqa: E402

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
COMMUNITY = load_community(SAMPLE_COMMUNITY_FILE)
CATEGORIES = ("noise", "property", "repair", "sanitation", "parking", "dispute")
GRID_OF = {b: g.code for g in COMMUNITY.grids for b in g.buildings if b.endswith("号楼")}
BUILDINGS = list(GRID_OF)
RESIDENTS = 1000
TEXTS = {
    "noise": ["楼上天天装修吵得睡不着", "楼上装修太吵了", "晚上广场舞音乐太响", "楼下商铺音响吵"],
    "property": ["物业费乱涨价", "物业不给开发票", "保安态度差"],
    "repair": ["电梯坏了停在半路不动", "楼道灯坏了好几天", "水管漏水了"],
    "sanitation": ["门口垃圾堆了三天没人收", "垃圾桶满了没人清", "楼道里有人乱扔垃圾"],
    "parking": ["门口有车乱停堵住消防通道", "小区门口乱停车", "电动车乱停占了通道"],
    "dispute": ["和邻居因为漏水吵起来了", "邻居养狗天天叫", "邻居占用公共走廊"],
}
ASK = {"category": "noise", "text": "9号楼楼上天天装修，吵死了", "grid_code": GRID_OF["9号楼"],
       "location": "9号楼2单元"}
WINDOW_MIN = int(duplicates.DUPLICATE_WINDOW.total_seconds() // 60)
YEARS_MIN = 3 * 365 * 24 * 60
OPEN = sorted(str(s) for s in OPEN_STATUSES)


def _at(minutes: int) -> str:
    """Naive-UTC text as SQLAlchemy stores it."""
    return (NOW.replace(tzinfo=None) + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S.%f")


COLUMNS = ("id, number, resident_id, category, text, location, building, grid_code, photos, status, unit,"
           " created_at, updated_at, sign_due_at, due_at, version, emergency, paused_seconds")


def _rows(size: int, recent: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """The oldest first (ids grow with time, as they do): ``size - recent`` old cases, then the recent ones."""
    rnd = random.Random(seed)
    old = max(0, size - recent)
    units = {c: COMMUNITY.unit_for(c).code for c in CATEGORIES}
    stamps = sorted(-rnd.randrange(WINDOW_MIN + 60, YEARS_MIN) for _ in range(old))
    stamps += sorted(-rnd.randrange(1, WINDOW_MIN - 60) for _ in range(size - old))
    for i, minutes in enumerate(stamps):
        category = CATEGORIES[rnd.randrange(len(CATEGORIES))]
        building = BUILDINGS[rnd.randrange(len(BUILDINGS))]
        is_recent = i >= old
        status = (rnd.choice(OPEN) if rnd.random() < 0.7 else "closed") if is_recent else \
            ("closed" if rnd.random() < 0.8 else rnd.choice(OPEN))
        at = _at(minutes)
        yield (i + 1, f"LL-BENCH-{i + 1:07d}", i % RESIDENTS + 1, category, rnd.choice(TEXTS[category]),
               f"{building}{rnd.randrange(1, 5)}单元", building, GRID_OF[building], "[]", status, units[category],
               at, at, _at(minutes + 120), _at(minutes + 7 * 24 * 60), 0, 0, 0)


def build(path: Path, size: int, recent: int, seed: int) -> float:
    """A migrated database with ``size`` tickets (and a linked duplicate for one in ten); the seconds it took."""
    started = time.perf_counter()
    Database(f"sqlite+aiosqlite:///{path}").migrate()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN"
                               " ('tickets', 'ticket_followers') AND sql IS NOT NULL").fetchall()
        conn.execute("BEGIN")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.executemany("INSERT INTO grids (code, name, worker_name, buildings) VALUES (?, ?, '', '[]')",
                         [(g.code, g.name) for g in COMMUNITY.grids])
        conn.executemany(
            "INSERT INTO residents (id, tg_user_id, name, created_at, updated_at) VALUES (?, ?, '', ?, ?)",
            [(r, 10_000 + r, _at(0), _at(0)) for r in range(1, RESIDENTS + 1)],
        )
        placeholders = ", ".join("?" * len(COLUMNS.split(",")))
        conn.executemany(f"INSERT INTO tickets ({COLUMNS}) VALUES ({placeholders})", _rows(size, recent, seed))
        conn.execute("INSERT INTO ticket_followers (ticket_id, resident_id, linked_at, text)"
                     " SELECT id, (resident_id % ?) + 1, datetime(created_at, '+1 hour'), '' FROM tickets"
                     " WHERE id % 10 = 0", (RESIDENTS,))
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return time.perf_counter() - started


# --- the checks as they were before (the baselines) -------------------------------------------------


async def old_find_duplicate(session: Any, *, category: str, text: str, grid_code: str | None,
                             location: str | None, now: datetime) -> Ticket | None:
    """``find_duplicate`` before this change: the category's 200 newest open cases of the window, filtered and
    compared in Python, the new text tokenised again for every candidate."""
    building = building_of(location)
    since = now - duplicates.DUPLICATE_WINDOW
    stmt = (select(Ticket).where(Ticket.category == category, col(Ticket.created_at) >= since,
                                 col(Ticket.status).in_(OPEN_STATUSES))
            .order_by(col(Ticket.created_at).desc()).limit(duplicates.MAX_CANDIDATES))
    best: tuple[float, Ticket] | None = None
    for ticket in (await session.exec(stmt)).all():
        other = building_of(ticket.location)
        same = building == other if building and other else grid_code is not None and ticket.grid_code == grid_code
        if not same:
            continue
        score = duplicates.similarity(text, ticket.text)
        if score >= duplicates.SIMILARITY_THRESHOLD and (best is None or score > best[0]):
            best = (score, ticket)
    return best[1] if best else None


async def old_hotspot_counts(session: Any, *, category: str, grid_code: str | None, location: str | None,
                             now: datetime) -> tuple[int, int]:
    """The hotspot count before this change: every case of the category of the last day loaded (and those with a
    link of the last day), their building parsed in Python."""
    building, since = building_of(location), now - duplicates.HOTSPOT_WINDOW
    opened = select(Ticket.location, Ticket.grid_code).where(Ticket.category == category,
                                                             col(Ticket.created_at) >= since)
    linked = (select(Ticket.location, Ticket.grid_code)
              .join(TicketFollower, col(TicketFollower.ticket_id) == col(Ticket.id))
              .where(Ticket.category == category, col(TicketFollower.linked_at) >= since))
    in_building = in_grid = 0
    for stmt in (opened, linked):
        for loc, grid in (await session.exec(stmt)).all():
            in_building += building is not None and building_of(loc) == building
            in_grid += grid_code is not None and grid == grid_code
    return in_building, in_grid


# --- timing -----------------------------------------------------------------------------------------


@dataclass
class Figures:
    size: int
    recent: int
    create_s: float
    candidates: int  # open cases of the category at the place in the window (what the look reads)
    old_candidates: int  # what the old check loaded
    look_ms: float
    under_lock_ms: float
    full_ms: float
    hotspot_ms: float
    old_dup_ms: float
    old_hotspot_ms: float
    cpu_ms: dict[str, float]  # the same checks' best process CPU time
    sql_us: dict[str, float]  # their statements alone, on a plain sqlite3 connection (``sql_us``)
    statements: dict[str, int]
    plans: dict[str, str]


class Statements:
    """Counts the statements run on an engine while ``on``."""

    def __init__(self, db: Database) -> None:
        self.n, self.on, self.seen = 0, False, []
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.on and not statement.lstrip().upper().startswith("BEGIN"):
            self.n += 1
            self.seen.append((statement, parameters))


CPU: dict[str, float] = {}  # best process CPU ms per check of the size being measured (see ``best_ms``)


async def best_ms(fn: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, Any]:
    """Best wall ms of ``repeat`` runs; the best process CPU ms (every thread: SQLite works in aiosqlite's) goes to
    ``CPU[fn.__name__]``: on a shared machine a run preempted by other work shows it in wall time, far less in CPU."""
    result, best, best_cpu = None, float("inf"), float("inf")
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = await fn()
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    CPU[fn.__name__] = best_cpu * 1000
    return best * 1000, result


def sql_us(path: Path, seen: list[tuple[str, Any]], repeat: int) -> float:
    """Best µs of the statements a check ran, run again on a plain sqlite3 connection (rolled back): the database's
    own share, without the ORM, the driver's thread hops and the similarity work around it."""
    conn = sqlite3.connect(path)
    try:
        for statement, parameters in seen:  # warm
            conn.execute(statement, parameters).fetchall()
        conn.rollback()
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            for statement, parameters in seen:
                conn.execute(statement, parameters).fetchall()
            best = min(best, time.perf_counter() - started)
            conn.rollback()
        return best * 1e6
    finally:
        conn.close()


def plan(path: Path, statement: str, parameters: Any) -> str:
    conn = sqlite3.connect(path)
    try:
        return " | ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", parameters))
    finally:
        conn.close()


async def _measure(path: Path, size: int, recent: int, repeat: int, create_s: float) -> Figures:
    db = Database(f"sqlite+aiosqlite:///{path}")
    meter = Statements(db)
    try:
        async def look() -> duplicates.Looked:
            async with db.session() as s:
                return await duplicates.look(s, now=NOW, **ASK)

        looked = await look()  # warm: jieba's dictionary, the connection

        async def under_lock() -> Ticket | None:
            async with db.session() as s:  # what the confirm's write transaction reads
                check = await duplicates.Check.of(s, now=NOW, looked=looked, **ASK)
                values = await check.read(s)  # in the bot: columns of the draft's DELETE … RETURNING
                return await check.duplicate(s, values)  # (the warning, if the counts call for one: ``hotspot``)

        async def full() -> Ticket | None:
            async with db.session() as s:
                return await duplicates.find_duplicate(s, now=NOW, **ASK)

        async def hotspot() -> Any:
            async with db.session() as s:  # never committed: the warning it may raise is rolled back
                found = await duplicates.check_hotspot(s, category=ASK["category"], grid_code=ASK["grid_code"],
                                                       location=ASK["location"], now=NOW)
                await s.rollback()
                return found

        async def old_dup() -> Ticket | None:
            async with db.session() as s:
                return await old_find_duplicate(s, now=NOW, **ASK)

        async def old_hotspot() -> tuple[int, int]:
            async with db.session() as s:
                return await old_hotspot_counts(s, category=ASK["category"], grid_code=ASK["grid_code"],
                                                location=ASK["location"], now=NOW)

        statements: dict[str, int] = {}
        plans: dict[str, str] = {}
        sql_times: dict[str, float] = {}
        for name, fn in (("look", look), ("under_lock", under_lock), ("full", full), ("hotspot", hotspot)):
            meter.on, meter.n, meter.seen = True, 0, []
            await fn()
            meter.on = False
            statements[name] = meter.n
            plans[name] = " || ".join(plan(path, sql, params) for sql, params in meter.seen)
            sql_times[name] = sql_us(path, meter.seen, repeat)
        for name, p in plans.items():  # an index search bounded by category and time or place, never a scan
            assert "SCAN tickets" not in p and "SEARCH tickets USING" in p, (name, p)
        look_ms, _ = await best_ms(look, repeat)
        under_lock_ms, found_locked = await best_ms(under_lock, repeat)
        full_ms, found = await best_ms(full, repeat)
        hotspot_ms, _ = await best_ms(hotspot, repeat)
        old_dup_ms, old_found = await best_ms(old_dup, repeat)
        old_hotspot_ms, old_counts = await best_ms(old_hotspot, repeat)
        assert (found and found.id) == (old_found and old_found.id) == (found_locked and found_locked.id), \
            "the bounded check must find what the old one found"
        async with db.session() as s:
            t = Ticket.__table__.c  # type: ignore[attr-defined]
            since = NOW - duplicates.DUPLICATE_WINDOW
            open_ = t.status.in_(OPEN)
            candidates = (await s.exec(select(t.id).where(  # type: ignore[call-overload]
                t.category == ASK["category"], t.created_at >= since, open_,
                (t.building == "9号楼")))).all()
            old_candidates = (await s.exec(select(t.id).where(  # type: ignore[call-overload]
                t.category == ASK["category"], t.created_at >= since, open_).limit(duplicates.MAX_CANDIDATES))).all()
            hot = duplicates._count(ASK["category"], NOW - duplicates.HOTSPOT_WINDOW, t.building == "9号楼")
            in_building = (await s.exec(select(hot))).one()  # type: ignore[call-overload]
        assert in_building == old_counts[0], "the hotspot count in SQL must agree with the old one"
        return Figures(size, recent, create_s, len(candidates), len(old_candidates), look_ms, under_lock_ms, full_ms,
                       hotspot_ms, old_dup_ms, old_hotspot_ms, dict(CPU), sql_times, statements, plans)
    finally:
        await db.dispose()


def measure(directory: Path, size: int, recent: int, repeat: int, seed: int) -> Figures:
    path = directory / f"dup-{size}.db"
    path.unlink(missing_ok=True)
    create_s = build(path, size, recent, seed)
    return asyncio.run(_measure(path, size, recent, repeat, create_s))


def best_of(a: Figures, b: Figures) -> Figures:
    """Two rounds of one size: each time the better (a slow round on a shared machine is other work's)."""
    out = {}
    for key, value in asdict(a).items():
        other = getattr(b, key)
        if key.endswith("_ms") and not isinstance(value, dict):
            out[key] = min(value, other)
        elif key in ("cpu_ms", "sql_us"):
            out[key] = {k: min(v, other[k]) for k, v in value.items()}
        else:
            out[key] = value
    return Figures(**out)


def _table(results: list[Figures]) -> str:
    head = (f"{'tickets':>9} {'create s':>8} {'at place':>8} | {'look ms':>7} {'under lock':>10} {'full ms':>7}"
            f" {'hotspot':>7} | {'old dup ms':>10} {'old loads':>9} {'old hotspot':>11}")
    lines = [head, "-" * len(head)]
    for f in results:
        lines.append(f"{f.size:>9,} {f.create_s:>8.1f} {f.candidates:>8} | {f.look_ms:>7.2f} {f.under_lock_ms:>10.2f}"
                     f" {f.full_ms:>7.2f} {f.hotspot_ms:>7.2f} | {f.old_dup_ms:>10.2f} {f.old_candidates:>9}"
                     f" {f.old_hotspot_ms:>11.2f}")
    lines.append("statements per check: " + ", ".join(f"{k} {v}" for k, v in results[-1].statements.items()))
    if len(results) > 1:
        a, b = results[0], results[-1]
        lines.append(f"{b.size // a.size:,}x the tickets: look {b.look_ms / a.look_ms:.2f}x, under lock"
                     f" {b.under_lock_ms / a.under_lock_ms:.2f}x, full {b.full_ms / a.full_ms:.2f}x, hotspot"
                     f" {b.hotspot_ms / a.hotspot_ms:.2f}x (old dup {b.old_dup_ms / a.old_dup_ms:.2f}x, old hotspot"
                     f" {b.old_hotspot_ms / a.old_hotspot_ms:.2f}x)")
        lines.append("in CPU time (ms at each size; the ratio): " + ", ".join(
            f"{k} {' / '.join(f'{f.cpu_ms[k]:.2f}' for f in results)} ({b.cpu_ms[k] / a.cpu_ms[k]:.2f}x)"
            for k in a.cpu_ms))
        lines.append("their statements alone (sqlite3, µs at each size; the ratio): " + ", ".join(
            f"{k} {' / '.join(f'{f.sql_us[k]:.0f}' for f in results)} ({b.sql_us[k] / a.sql_us[k]:.2f}x)"
            for k in a.sql_us))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000", help="comma-separated ticket counts")
    parser.add_argument("--recent", type=int, default=600, help="tickets of the last 72 h (default 600)")
    parser.add_argument("--repeat", type=int, default=20, help="timings: best of N")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measure every size this many times, in turn, and keep each figure's best (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", type=Path, help="where to build the databases (default: a temporary directory)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    print(f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, {platform.machine()}")
    sys.stdout.flush()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        results = []
        for size in sizes:
            results.append(measure(Path(tmp), size, args.recent, args.repeat, args.seed))
            print(f"built and measured {size:,} tickets", file=sys.stderr)
        for round_ in range(2, args.rounds + 1):  # the sizes again, in turn: a busy spell hits every size alike
            for i, size in enumerate(sizes):
                path = Path(tmp) / f"dup-{size}.db"
                again = asyncio.run(_measure(path, size, args.recent, args.repeat, results[i].create_s))
                results[i] = best_of(results[i], again)
            print(f"round {round_} measured", file=sys.stderr)
    print(_table(results))
    if args.json:
        print(json.dumps([asdict(f) for f in results], indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
