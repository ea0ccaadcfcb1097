"""Load benchmark: N simulated residents through the Bot API emulator against `linli run` as it is deployed.

`python benchmarks/load_bench.py [--residents 200] [--setups sqlite,pg1,pg2,pg4] [--runs 2] [--limiter off|on]
[--base DIR --setups pg1,base-pg1,…] [--statements] [--py-spy DIR]`

Each setup is the real command in its own processes: ``sqlite`` is `linli run` (one process, polling, SQLite
file), ``pgN`` is `linli run --webhook --workers N` on PostgreSQL (uvicorn's supervisor, N worker processes,
the emulator delivering every update to the webhook with the secret header). PostgreSQL is a throwaway cluster
started here (``tests/pg.py``) unless ``LINLI_BENCH_PG_URL`` names a server; every run gets a fresh database.

All residents at once, each one step after another, waiting for the bot's answer before the next: ``/start
g-A0x`` (a grid), a complaint in a building (answered with the preview), 确认 (answered with the number). Measured
per run: updates/s (updates injected / wall time from the first injection to the last answer), reply latency
p50/p99 (injection to the emulator recording the answer), errors (steps not answered within ``--timeout``), the
cases stored, and the CPU spent per update over the same window (from ``/proc``: the bot's processes, the
PostgreSQL server's, and this process, the emulator; on a shared machine a better yardstick than updates/s), with
the database's transactions per update. ``--statements`` turns on ``pg_stat_statements`` (the cluster started
here only) and prints each statement's calls per update; ``--py-spy DIR`` records the bot's processes with py-spy
(``--gil``, raw) over the window. The emulator's flood limits are off; ``--limiter off`` (the default) also turns
the bot's own pacing off (``RATE_LIMIT=false``) so the workers, not the rate budget, are measured. The emulator
runs in this process and delivers webhook updates one at a time by default (``--connections N``: N POSTs at once,
as Telegram does with up to 40 connections): with one, intake is serial and handling is spread over the workers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable without installing the package
    sys.path.insert(0, str(REPO))

from sqlalchemy import func  # noqa: E402
from sqlalchemy.engine import URL, make_url  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot import cluster  # noqa: E402
from bot.emulator import BotApiEmulator, Limits  # noqa: E402
from bot.runtime import WEBHOOK_PATH  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers import texts  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Ticket  # noqa: E402

TOKEN = "123456:LOAD-BENCH"
STAFF = -100500
SECRET = "load-bench_secret"
START = 90.0  # seconds for cold workers to be up
PROBLEMS = ["楼道灯坏了好几天", "门口垃圾堆满没人清", "车库门口有车乱停堵路", "物业费乱收费", "家里停水了",
            "楼上天天装修，吵死了", "电梯坏了三天了", "下水道堵了"]


def _pg_module():
    spec = importlib.util.spec_from_file_location("linli_tests_pg", REPO / "tests" / "pg.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["linli_tests_pg"] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Setup:
    name: str
    workers: int
    postgres: bool
    repo: Path = REPO  # the checkout whose `linli run` is measured


def parse_setups(text: str, base: Path | None = None) -> list[Setup]:
    """``sqlite``, ``pgN``; ``base-sqlite``, ``base-pgN``: the same from the checkout ``--base`` (another worktree),
    interleaved with this one's in every run, so both see the same machine."""
    found = []
    for part in text.split(","):
        part = part.strip()
        bare = part.removeprefix("base-")
        repo = REPO
        if bare != part:
            if base is None:
                raise SystemExit(f"{part!r} needs --base DIR (the checkout to compare with)")
            repo = base
        if bare == "sqlite":
            found.append(Setup(part, 1, False, repo))
        elif bare.startswith("pg") and bare[2:].isdigit():
            found.append(Setup(part, int(bare[2:]), True, repo))
        else:
            raise SystemExit(f"unknown setup {part!r} (sqlite, pg1, pg2, pg4 …, base-pg1 …)")
    return found


@dataclass
class Result:
    setup: str
    run: int
    residents: int
    updates: int
    seconds: float
    latencies: list[float]
    errors: int
    cases: int
    bot_cpu: float = 0.0  # seconds of CPU over the window: the bot's processes
    pg_cpu: float = 0.0  # … the PostgreSQL server's (sqlite: 0)
    bench_cpu: float = 0.0  # … this process (the emulator and the residents)
    transactions: int = 0  # commits and rollbacks in the run's database (PostgreSQL)
    connections: int = 0  # connections opened to it (a pool's overflow opens and closes them)
    statements: list[tuple[int, str]] | None = None  # (calls, query) from pg_stat_statements

    def ms(self, seconds: float) -> float:
        return seconds * 1000 / self.updates if self.updates else float("nan")

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        return (f"{self.setup:<7} run {self.run}: {self.updates:>5} updates in {self.seconds:6.2f} s = "
                f"{self.per_second:7.1f}/s  p50 {self.pct(0.5):7.1f} ms  p99 {self.pct(0.99):7.1f} ms  "
                f"errors {self.errors}  cases {self.cases}  CPU ms/update bot {self.ms(self.bot_cpu):.2f} "
                f"pg {self.ms(self.pg_cpu):.2f} bench {self.ms(self.bench_cpu):.2f}  "
                f"tx/update {self.transactions / max(1, self.updates):.2f} connections {self.connections}")


TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and of its children it has waited for), from /proc/<pid>/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), sum(int(f) for f in fields[11:15]) / TICK  # ppid; utime stime cutime cstime


def tree_cpu(root: int) -> float:
    """CPU seconds of a process and all its descendants, the live ones and those reaped (``cutime``): each second
    counted once."""
    stats = {int(p): st for p in os.listdir("/proc") if p.isdigit() and (st := _stat(int(p))) is not None}
    kids: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        kids.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1]
            todo += kids.get(pid, [])
    return total


def tree_pids(root: int) -> list[int]:
    stats = {int(p): st for p in os.listdir("/proc") if p.isdigit() and (st := _stat(int(p))) is not None}
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += [p for p, (ppid, _) in stats.items() if ppid == pid]
    return found


def self_cpu() -> float:
    t = os.times()
    return t.user + t.system


def child_env(emulator: BotApiEmulator, database_url: str, port: int, limiter: bool) -> dict[str, str]:
    names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    env.update(BOT_TOKEN=TOKEN, BOT_API_URL=emulator.base_url, BOT_FILE_URL=emulator.base_file_url,
               DATABASE_URL=database_url, STAFF_CHAT_ID=str(STAFF), PYTHONUNBUFFERED="1",
               LOG_LEVEL=os.environ.get("LINLI_BENCH_LOG", "WARNING"),
               BASE_URL=f"http://127.0.0.1:{port}", WEBHOOK_SECRET=SECRET, RATE_LIMIT="true" if limiter else "false")
    return env


async def _wait(check, timeout: float, what: str, log: Path) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} not within {timeout} s; see {log}")
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def deployed(emulator: BotApiEmulator, setup: Setup, database_url: str, workdir: Path,
                   limiter: bool) -> AsyncIterator[int]:
    port = _pg_module().free_port()
    argv = [sys.executable, "-m", "bot", "run", "--web-port", str(port)]
    if setup.postgres:
        argv += ["--webhook", "--workers", str(setup.workers)]
    log = workdir / f"{setup.name}.log"
    since = emulator.polls
    with log.open("wb") as out:
        env = child_env(emulator, database_url, port, limiter) | {"PYTHONPATH": str(setup.repo)}
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=setup.repo, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=out, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    db = Database(database_url)
    try:
        if setup.postgres:
            await _wait(lambda: emulator.webhook_url == f"http://127.0.0.1:{port}{WEBHOOK_PATH}", START, "setWebhook",
                        log)

            async def all_up() -> bool:
                async with db.session() as s:
                    return len(await cluster.workers_of(s)) == setup.workers

            await _wait(all_up, START, f"{setup.workers} workers", log)
        else:
            await _wait(lambda: emulator.polls > since, START, "the first poll", log)
        yield process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        await db.dispose()


async def resident(emulator: BotApiEmulator, uid: int, i: int, timeout: float,  # noqa: ASYNC109
                   latencies: list[float]) -> tuple[int, int]:
    """One resident's three steps; (updates sent, steps unanswered)."""
    emulator.user(uid, f"居民{i}")
    sent = errors = 0

    async def step(act, predicate, edited=None):
        nonlocal sent, errors
        cursor = emulator.cursor()
        began = time.monotonic()
        await act()
        sent += 1
        try:
            if edited is not None:  # the answer is that message edited (the draft into the case's number)
                found = await emulator.wait_for_edit(uid, edited, predicate, after=cursor, timeout=timeout)
            else:
                found = await emulator.wait_for(uid, predicate, after=cursor, timeout=timeout)
        except TimeoutError:
            errors += 1
            return None
        latencies.append(time.monotonic() - began)
        return found

    if await step(lambda: emulator.send_text(uid, f"/start g-A0{1 + i % 6}"), None) is None:
        return sent, errors
    text = f"{1 + i % 22}号楼{PROBLEMS[i % len(PROBLEMS)]}"
    preview = await step(lambda: emulator.send_text(uid, text), None)
    if preview is None:
        return sent, errors
    # the first answer to the complaint; the preview with 确认 may follow it (a question about the place first)
    with contextlib.suppress(TimeoutError):
        preview = await emulator.wait_for(uid, lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons),
                                          timeout=timeout)
    confirm = next((b for b in preview.buttons if b.text == texts.BTN_CONFIRM), None)
    if confirm is not None:
        await step(lambda: emulator.press(uid, preview.message_id, confirm.callback_data), "LL-",
                   edited=preview.message_id)
    return sent, errors


async def _pg_state(database_url: str, statements: bool) -> tuple[int, tuple[int, int], dict[str, int]]:
    """The server's postmaster pid, the database's transactions and connections (sessions) so far, and
    (``statements``) calls by query."""
    db = Database(database_url)
    try:
        async with db.session() as s:
            conn = await s.connection()
            backend = int((await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one())
            stat = _stat(backend)  # while the backend lives: its parent is the postmaster
            tx, sessions = (await conn.exec_driver_sql(
                "SELECT xact_commit + xact_rollback, sessions FROM pg_stat_database "
                "WHERE datname = current_database()")).one()
            calls: dict[str, int] = {}
            if statements:
                rows = (await conn.exec_driver_sql(
                    "SELECT query, calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                    "WHERE d.datname = current_database()")).all()
                for query, n in rows:
                    calls[" ".join(str(query).split())] = calls.get(" ".join(str(query).split()), 0) + int(n)
    finally:
        await db.dispose()
    return (stat[0] if stat else 0), (int(tx), int(sessions)), calls


@contextlib.asynccontextmanager
async def spying(root: int, where: Path | None, name: str) -> AsyncIterator[None]:
    """py-spy on the bot's processes over the measured window (``--py-spy DIR``)."""
    if where is None:
        yield
        return
    spy = os.environ.get("LINLI_BENCH_PYSPY") or shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    where.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (before the window)
    procs = []
    for pid in tree_pids(root):
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()  # noqa: ASYNC240
        if b"resource_tracker" in cmd or b"semaphore_tracker" in cmd:
            continue
        procs.append(await asyncio.create_subprocess_exec(
            spy, "record", "--gil", "-r", "250", "-f", "raw", "-o", str(where / f"{name}-{pid}.txt"), "--pid",
            str(pid), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL))
    try:
        yield
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGINT)
        for p in procs:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(p.wait(), 30)


async def one_run(setup: Setup, run: int, residents: int, database_url: str, workdir: Path, limiter: bool,
                  timeout: float, connections: int, statements: bool = False,  # noqa: ASYNC109
                  spy: Path | None = None) -> Result:
    emulator = BotApiEmulator(bot_username="linli_bot")
    await emulator.start()
    try:
        emulator.webhook_connections = connections
        emulator.set_limits(Limits.off())
        emulator.group(STAFF, "金桂社区工作人员群")
        async with deployed(emulator, setup, database_url, workdir, limiter) as root:
            warm: list[float] = []
            await resident(emulator, 9_000_000, 0, 60.0, warm)  # jieba and the first connections, not measured
            latencies: list[float] = []
            postmaster, tx0, calls0 = (await _pg_state(database_url, statements)) if setup.postgres else (0, (0, 0), {})
            async with spying(root, spy, f"{setup.name}-{run}"):
                cpu0 = (tree_cpu(root), tree_cpu(postmaster) if postmaster else 0.0, self_cpu())
                began = time.monotonic()
                outcome = await asyncio.gather(*(resident(emulator, 1_000_000 + i, i, timeout, latencies)
                                                 for i in range(residents)))
                seconds = time.monotonic() - began
                cpu1 = (tree_cpu(root), tree_cpu(postmaster) if postmaster else 0.0, self_cpu())
            _, tx1, calls1 = (await _pg_state(database_url, statements)) if setup.postgres else (0, (0, 0), {})
            db = Database(database_url)
            try:
                async with db.session() as s:
                    cases = int((await s.exec(select(func.count()).select_from(Ticket))).one()) - 1
            finally:
                await db.dispose()
    finally:
        await emulator.stop()
    calls = sorted(((n - calls0.get(q, 0), q) for q, n in calls1.items() if n > calls0.get(q, 0)), reverse=True)
    return Result(setup.name, run, residents, sum(o[0] for o in outcome), seconds, latencies,
                  sum(o[1] for o in outcome), cases, cpu1[0] - cpu0[0], cpu1[1] - cpu0[1], cpu1[2] - cpu0[2],
                  tx1[0] - tx0[0] - 2, tx1[1] - tx0[1] - 1,  # minus _pg_state's own
                  calls if statements else None)


@contextlib.asynccontextmanager
async def postgres(statements: bool = False) -> AsyncIterator[tuple[object, object]]:
    pg = _pg_module()
    if os.environ.get("LINLI_BENCH_PG_URL"):
        yield pg, pg.PgServer(make_url(os.environ["LINLI_BENCH_PG_URL"]).set(drivername="postgresql+asyncpg"))
        return
    with pg.own_cluster() as cluster:
        if statements:  # a library loaded at start: set it, restart
            import asyncpg

            conn = await asyncpg.connect(pg._dsn(cluster.server.admin_url))
            try:
                await conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            finally:
                await conn.close()
            cluster.stop()
            cluster.start()
        yield pg, cluster.server


async def main_async(args: argparse.Namespace) -> list[Result]:
    setups = parse_setups(args.setups, args.base)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="linli-load-") as tmp:
        workdir = Path(os.environ.get("LINLI_BENCH_KEEP") or tmp)
        async with contextlib.AsyncExitStack() as stack:
            pg = server = None
            if any(s.postgres for s in setups):
                pg, server = await stack.enter_async_context(postgres(args.statements))
            for run in range(1, args.runs + 1):
                for setup in setups:
                    if setup.postgres:
                        url: URL = await pg.create_database(server)  # type: ignore[union-attr]
                        database_url = url.render_as_string(hide_password=False)
                        if args.statements:
                            made = Database(database_url)
                            try:
                                async with made.session() as s:
                                    await (await s.connection()).exec_driver_sql(
                                        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                                    await s.commit()
                            finally:
                                await made.dispose()
                    else:
                        database_url = f"sqlite+aiosqlite:///{workdir / f'linli-{setup.name}-{run}.db'}"
                    try:
                        result = await one_run(setup, run, args.residents, database_url, workdir,
                                               args.limiter == "on", args.timeout, args.connections,
                                               args.statements, Path(args.py_spy) if args.py_spy else None)
                    finally:
                        if setup.postgres:
                            await pg.drop_database(server, url)  # type: ignore[union-attr]
                    print(result.line(), flush=True)
                    for n, query in (result.statements or [])[:25]:
                        print(f"    {n / result.updates:6.2f}/update  {query[:150]}", flush=True)
                    results.append(result)
    return results


def summary(results: list[Result]) -> None:
    print("\nmedian over runs (range):")
    by: dict[str, list[Result]] = {}
    for r in results:
        by.setdefault(r.setup, []).append(r)
    for name, rs in by.items():
        ups = [r.per_second for r in rs]
        p50 = [r.pct(0.5) for r in rs]
        p99 = [r.pct(0.99) for r in rs]
        print(f"  {name:<7} {statistics.median(ups):7.1f}/s ({min(ups):.1f}–{max(ups):.1f})  "
              f"p50 {statistics.median(p50):.0f} ms ({min(p50):.0f}–{max(p50):.0f})  "
              f"p99 {statistics.median(p99):.0f} ms ({min(p99):.0f}–{max(p99):.0f})  "
              f"errors {sum(r.errors for r in rs)}")
        for label, of in (("bot", "bot_cpu"), ("pg", "pg_cpu"), ("bench", "bench_cpu")):
            ms = [r.ms(getattr(r, of)) for r in rs]
            print(f"          CPU ms/update {label:<5} {statistics.median(ms):6.2f} ({min(ms):.2f}–{max(ms):.2f})")
    one, four = by.get("pg1"), by.get("pg4")
    if one and four:
        ratio = statistics.median(r.per_second for r in four) / statistics.median(r.per_second for r in one)
        print(f"  speed-up pg1 → pg4: {ratio:.2f}×")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=200)
    ap.add_argument("--setups", default="sqlite,pg1,pg2,pg4")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--limiter", choices=["off", "on"], default="off")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds a step may wait for its answer")
    ap.add_argument("--connections", type=int, default=1,
                    help="webhook POSTs the emulator makes at once (Telegram: up to 40); 1: one at a time, in order")
    ap.add_argument("--base", default=None, metavar="DIR",
                    help="another checkout (a worktree of the commit to compare with) for the base-… setups")
    ap.add_argument("--statements", action="store_true",
                    help="pg_stat_statements on (the cluster started here): calls of each statement per update")
    ap.add_argument("--py-spy", default=None, metavar="DIR", help="py-spy (raw, --gil) on the bot's processes")
    args = ap.parse_args()
    print(f"load_bench: {args.residents} residents, setups {args.setups}, {args.runs} runs, limiter {args.limiter}, "
          f"{args.connections} webhook connections; "
          f"{platform.processor() or platform.machine()}, nproc {os.cpu_count()}, Python {platform.python_version()}",
          flush=True)
    args.base = Path(args.base).resolve() if args.base else None
    summary(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
