"""Sweep benchmark: the cost of a sweep follows the tickets that are due, not the tickets stored.

`python benchmarks/sweep_bench.py [--sizes 100000,1000000] [--due 0.01] [--dir DIR] [--json]`

For each size it builds a SQLite file with the real schema (Alembic to head), bulk-loads that many
tickets with ``sqlite3.executemany`` (secondary indexes dropped during the load and rebuilt after, as
a bulk import would), of which the ``--due`` fraction have reached a clock mark (half yellow, half red)
and the rest are closed (80 %) or open with a mark still ahead (19 %). It then times, warm, best of
``--repeat``:

- ``indexed``: the sweep's query, ``WHERE next_check_at <= now ORDER BY next_check_at``, through
  ``ix_tickets_next_check_at``;
- ``baseline full_scan``: the same query with ``NOT INDEXED`` — same rows, every ticket read;
- ``baseline clock_scan``: what a sweep without ``next_check_at`` would ask, the clock conditions
  themselves (sign-for limit, 75 %, 100 %), which no index can answer;
- ``indexed_1k``: the indexed query at a ``now`` where exactly 1,000 are due, for equal work at every size;
- ``sweep``: ``services.cases.sweep.sweep`` itself in batches of 500 until nothing is left (ORM load, guarded
  UPDATE per ticket, events), once: first at the ``now`` of the 1,000 earliest, then the rest at NOW;
  then ``idle``: a second sweep at the same ``now``, which finds nothing. ``1k-due sweep`` is that first
  part alone, best of 3 on fresh copies of the file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable without installing the package
    sys.path.insert(0, str(REPO))

from services.cases.sweep import sweep  # noqa: E402
from services.community.model import SAMPLE_COMMUNITY_FILE, load_community  # noqa: E402
from storage.db import Database  # noqa: E402

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
COMMUNITY = load_community(SAMPLE_COMMUNITY_FILE)
CATEGORIES = ("noise", "property", "repair", "sanitation", "parking", "dispute")
RESIDENTS = 1000
OPEN_ALERT = ("signed", "in_progress")

DUE_SQL = "SELECT * FROM tickets{hint} WHERE next_check_at <= ? ORDER BY next_check_at"
CLOCK_SQL = """
SELECT * FROM tickets NOT INDEXED
WHERE status IN ('received', 'dispatched', 'signed', 'in_progress', 'reopened') AND paused_at IS NULL AND (
    (status IN ('received', 'dispatched', 'reopened') AND sign_reminded_at IS NULL AND sign_due_at <= :now)
    OR (breached_at IS NULL AND due_at <= :now)
    OR (breached_at IS NULL AND reminded_at IS NULL AND julianday(:now) >=
        julianday(due_at) - 0.25 * (julianday(due_at) - julianday(coalesce(clock_started_at, created_at))
                                    - paused_seconds / 86400.0)))
ORDER BY next_check_at
"""


@dataclass
class Figures:
    size: int
    due: int
    create_s: float
    indexed_ms: float
    full_scan_ms: float
    clock_scan_ms: float
    indexed_1k_ms: float
    sweep_1k_s: float
    sweep_s: float
    idle_sweep_ms: float
    reminders: int
    escalations: int

    @property
    def full_scan_ratio(self) -> float:
        return self.full_scan_ms / self.indexed_ms

    @property
    def sweep_per_due_us(self) -> float:
        return self.sweep_s / self.due * 1e6


# --- building the database --------------------------------------------------------------------------


class _Clock:
    """Naive-UTC text as SQLAlchemy stores it, cached per minute (a million strftime calls add up)."""

    def __init__(self) -> None:
        self._cache: dict[int, str] = {}

    def __call__(self, minutes: int | None) -> str | None:
        if minutes is None:
            return None
        text = self._cache.get(minutes)
        if text is None:
            moment = NOW.replace(tzinfo=None) + timedelta(minutes=minutes)
            text = self._cache[minutes] = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
        return text


COLUMNS = (
    "id, number, resident_id, category, text, location, photos, status, unit, created_at, updated_at,"
    " sign_due_at, due_at, closed_at, signed_at, resolved_at, reminded_at, next_check_at, version, emergency,"
    " paused_seconds"
)


def _rows(size: int, due_every: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """Tickets relative to NOW (minutes): every ``due_every``-th is due, the rest closed or not yet due."""
    rnd = random.Random(seed)
    at = _Clock()
    limits = {c: COMMUNITY.limit_hours(c) * 60 for c in CATEGORIES}
    units = {c: COMMUNITY.unit_for(c).code for c in CATEGORIES}
    for i in range(size):
        category = CATEGORIES[i % len(CATEGORIES)]
        limit = limits[category]
        signed = resolved = reminded = closed = None
        if i % due_every == 0:  # due now: half at yellow (75-95 %), half past the deadline
            status = OPEN_ALERT[i // due_every % 2]
            if i // due_every % 4 < 2:
                created = -int(limit * rnd.uniform(0.76, 0.95))
                check = created + limit * 3 // 4
            else:
                created = -int(limit * rnd.uniform(1.01, 1.5))
                reminded = created + limit * 3 // 4
                check = created + limit
            signed = created + 30
        elif rnd.random() < 0.8 / (1 - 1 / due_every):  # closed: nothing left to check
            status = "closed"
            created = -rnd.randrange(limit, 90 * 24 * 60)
            signed, resolved, closed = created + 30, created + limit // 2, created + limit // 2 + 90
            check = None
        else:  # open, next mark still ahead
            created = -rnd.randrange(0, limit // 2)
            if rnd.random() < 0.2:
                status, check = "received", created + 120
                if check <= 0:
                    status, signed, check = "signed", created + 30, created + limit * 3 // 4
            else:
                status, signed, check = "in_progress", created + 30, created + limit * 3 // 4
        yield (
            i + 1,
            f"LL-BENCH-{i + 1:07d}",
            i % RESIDENTS + 1,
            category,
            "楼上装修太吵",
            f"{i % 22 + 1}号楼",
            "[]",
            status,
            units[category],
            at(created),
            at(created),
            at(created + 120),
            at(created + limit),
            at(closed),
            at(signed),
            at(resolved),
            at(reminded),
            at(check),
            0,
            0,
            0,
        )


def build(path: Path, size: int, due_fraction: float, seed: int) -> float:
    """A migrated database with ``size`` tickets; returns the seconds it took."""
    started = time.perf_counter()
    Database(f"sqlite+aiosqlite:///{path}").migrate()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets' AND sql IS NOT NULL"
        ).fetchall()
        conn.execute("BEGIN")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.executemany(
            "INSERT INTO residents (id, tg_user_id, name, created_at, updated_at) VALUES (?, ?, '', ?, ?)",
            [(r, 10_000 + r, _Clock()(0), _Clock()(0)) for r in range(1, RESIDENTS + 1)],
        )
        placeholders = ", ".join("?" * len(COLUMNS.split(",")))
        due_every = max(1, round(1 / due_fraction))
        conn.executemany(f"INSERT INTO tickets ({COLUMNS}) VALUES ({placeholders})", _rows(size, due_every, seed))
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return time.perf_counter() - started


# --- timing -----------------------------------------------------------------------------------------


def best_ms(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    result, best = None, float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best * 1000, result


def _plan(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> str:
    return " | ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


@dataclass
class _Swept:
    seconds: float = 0.0
    checked: int = 0
    reminders: int = 0
    escalations: int = 0


async def _sweep_until_done(db: Database, now: datetime) -> _Swept:
    """The bot's job: batches of 500, each its own transaction, until a batch comes back short."""
    out = _Swept()
    started = time.perf_counter()
    more = True
    while more:
        async with db.transaction() as s:
            report = await sweep(s, now, COMMUNITY)
        out.checked += report.checked
        out.reminders += len(report.reminders)
        out.escalations += len(report.escalations)
        more = report.more
    out.seconds = time.perf_counter() - started
    return out


async def _sweep_once(path: Path, now: datetime) -> _Swept:
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        return await _sweep_until_done(db, now)
    finally:
        await db.dispose()


def _best_first_sweep(path: Path, cutoff: datetime, repeat: int) -> _Swept:
    """The 1,000-earliest sweep on fresh copies of the database, best of ``repeat`` (the machine is shared)."""
    runs = []
    for _ in range(repeat):
        copy = path.with_suffix(".copy.db")
        shutil.copy(path, copy)
        runs.append(asyncio.run(_sweep_once(copy, cutoff)))
        copy.unlink()
    return min(runs, key=lambda r: r.seconds)


async def _sweeps(path: Path, cutoff: datetime) -> tuple[_Swept, _Swept, float]:
    """First the 1,000 earliest (equal work at every size), then the rest, then an idle second sweep."""
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        first = await _sweep_until_done(db, cutoff)
        rest = await _sweep_until_done(db, NOW)
        started = time.perf_counter()
        async with db.transaction() as s:
            idle = await sweep(s, NOW, COMMUNITY)
        assert idle.checked == 0 and idle.empty, "second sweep at the same now must find nothing"
        return first, rest, (time.perf_counter() - started) * 1000
    finally:
        await db.dispose()


def measure(directory: Path, size: int, due_fraction: float, repeat: int, seed: int) -> Figures:
    path = directory / f"sweep-{size}.db"
    path.unlink(missing_ok=True)
    create_s = build(path, size, due_fraction, seed)
    now = _Clock()(0)
    conn = sqlite3.connect(path)
    try:
        indexed_sql, scan_sql = DUE_SQL.format(hint=""), DUE_SQL.format(hint=" NOT INDEXED")
        plan = _plan(conn, indexed_sql, (now,))
        assert "USING INDEX ix_tickets_next_check_at" in plan, plan
        assert "SCAN tickets" in _plan(conn, scan_sql, (now,))
        indexed_ms, rows = best_ms(lambda: conn.execute(indexed_sql, (now,)).fetchall(), repeat)
        full_scan_ms, scanned = best_ms(lambda: conn.execute(scan_sql, (now,)).fetchall(), repeat)
        clock_scan_ms, clocked = best_ms(lambda: conn.execute(CLOCK_SQL, {"now": now}).fetchall(), repeat)
        assert rows == scanned, "baseline must return the same tickets"
        assert [r[0] for r in rows] == [r[0] for r in clocked], "next_check_at must agree with the clocks"
        # equal work at every size: the moment when exactly 1,000 tickets are due
        cutoff = conn.execute(
            "SELECT next_check_at FROM tickets WHERE next_check_at IS NOT NULL"
            " ORDER BY next_check_at LIMIT 1 OFFSET 999"
        ).fetchone()[0]
        cutoff = min(cutoff, now)  # fewer than 1,000 due (small sizes): all of them
        indexed_1k_ms, thousand = best_ms(lambda: conn.execute(indexed_sql, (cutoff,)).fetchall(), repeat)
        assert len(thousand) >= min(1000, len(rows))
    finally:
        conn.close()
    cutoff_at = datetime.strptime(cutoff, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    best_first = _best_first_sweep(path, cutoff_at, min(repeat, 3))
    first, rest, idle_ms = asyncio.run(_sweeps(path, cutoff_at))
    assert first.checked + rest.checked == len(rows)
    return Figures(
        size=size,
        due=len(rows),
        create_s=create_s,
        indexed_ms=indexed_ms,
        full_scan_ms=full_scan_ms,
        clock_scan_ms=clock_scan_ms,
        indexed_1k_ms=indexed_1k_ms,
        sweep_1k_s=best_first.seconds,
        sweep_s=first.seconds + rest.seconds,
        idle_sweep_ms=idle_ms,
        reminders=first.reminders + rest.reminders,
        escalations=first.escalations + rest.escalations,
    )


def _table(results: list[Figures]) -> str:
    head = (
        f"{'tickets':>9} {'due':>6} {'create s':>8} | {'indexed ms':>10} {'full_scan ms':>12} {'ratio':>6}"
        f" {'clock_scan ms':>13} | {'1k-due query ms':>15} {'1k-due sweep s':>14} |"
        f" {'sweep s':>7} {'µs/due':>7} {'idle ms':>7}"
    )
    lines = [head, "-" * len(head)]
    for f in results:
        lines.append(
            f"{f.size:>9,} {f.due:>6,} {f.create_s:>8.1f} | {f.indexed_ms:>10.2f} {f.full_scan_ms:>12.1f}"
            f" {f.full_scan_ratio:>5.1f}x {f.clock_scan_ms:>13.1f} | {f.indexed_1k_ms:>15.2f} {f.sweep_1k_s:>14.2f} |"
            f" {f.sweep_s:>7.2f} {f.sweep_per_due_us:>7.0f} {f.idle_sweep_ms:>7.2f}"
        )
    if len(results) > 1:
        a, b = results[0], results[-1]
        lines.append(
            f"{b.size // a.size}x the tickets and {b.due / a.due:.0f}x the due ones: indexed query"
            f" {b.indexed_ms / a.indexed_ms:.1f}x, sweep {b.sweep_s / a.sweep_s:.1f}x; same 1,000 due: query"
            f" {b.indexed_1k_ms / a.indexed_1k_ms:.1f}x, sweep {b.sweep_1k_s / a.sweep_1k_s:.1f}x;"
            f" baseline full_scan {b.full_scan_ms / a.full_scan_ms:.1f}x"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated ticket counts")
    parser.add_argument("--due", type=float, default=0.01, help="fraction of tickets due (default 0.01)")
    parser.add_argument("--repeat", type=int, default=5, help="query timings: best of N")
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
            results.append(measure(Path(tmp), size, args.due, args.repeat, args.seed))
            print(f"built and swept {size:,} tickets", file=sys.stderr)
    print(_table(results))
    if args.json:
        print(json.dumps([asdict(f) | {"full_scan_ratio": f.full_scan_ratio} for f in results], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
