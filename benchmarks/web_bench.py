"""Web benchmark: the board's case list over 100,000 tickets (p50 and p99 per page) and the 服务码 form
(submissions per second), each beside a bare Starlette "hello" route served the same way in the same run.

`python benchmarks/web_bench.py [--tickets 100000] [--pages 200] [--forms 300] [--concurrency 8] [--json]`

The database is SQLite (the default backend) with the real schema (Alembic to head), loaded with the report
benchmark's tickets (``report_bench.tickets_of``: four months, about 10 % still open, events included). The web
app is the real one (``web.create_app``) served by uvicorn exactly as ``linli run`` serves it (``web.server``, one
process, one event loop, 127.0.0.1); requests go over real HTTP with httpx (keep-alive) from the same process,
so every figure includes the client's share, the hello route's too. A signed-in admin (every case visible)
reads:

- ``first``: the first page of the whole list (newest 50, and the count of all matches);
- ``walk``: pages 2, 3, … following the list's cursor (keyset paging: page 200 costs what page 2 does);
- ``open``, ``red``, ``noise_A03``, ``web``: first pages filtered by status, colour (computed in SQL), category
  and grid, channel — each with its count.

Then ``--forms`` form posts (no photo; rate limits off for the run, each a new complaint, duplicate detection
on), one at a time and ``--concurrency`` at a time; the same for ``GET /hello``.

Measured (2 cores, Python 3.11, SQLite, 100,000 tickets; ms per page, p50 / p99):

    hello 0.58 / 1.33 · first page (with the count) 7.4 / 28 · pages 2… 9.3 / 28 · open 6.0 / 8.2
    · red (colour in SQL) 26 / 33 · noise in A03 18 / 25 · channel web (no match: a full scan) 38 / 47
    forms: 70 submissions/s one at a time, 66/s eight at a time (one SQLite writer); hello 1,045/s and 1,500/s
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from intents import Engine  # noqa: E402
from services import SHANGHAI  # noqa: E402
from services.community.model import SAMPLE_COMMUNITY_FILE, load_community  # noqa: E402
from services.people import roles  # noqa: E402
from services.reports.periods import parse_period  # noqa: E402
from services.web import auth  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import RoleName  # noqa: E402
from web import Config, Hooks, Web, create_app  # noqa: E402
from web.core import SESSION_COOKIE  # noqa: E402
from web.server import WebServer  # noqa: E402

_spec = importlib.util.spec_from_file_location("report_bench", Path(__file__).with_name("report_bench.py"))
report_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report_bench)  # type: ignore[union-attr]

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
ADMIN = 9001
FILTERS = {
    "open": "status=open",
    "red": "status=open&colour=red",
    "noise_A03": "category=noise&grid=A03",
    "web": "channel=web",
}
TEXTS = ("楼道灯坏了", "垃圾没人清", "楼上装修太吵", "地下车库漏水", "电梯经常停", "小区门口乱停车")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 2), "p99_ms": round(pct(ms, 99), 2),
            "mean_ms": round(statistics.fmean(ms), 2)}


async def timed(client: httpx.AsyncClient, url: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    r = await client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    assert r.status_code == 200, (url, r.status_code, r.text[:200])
    return elapsed, r


async def load(path: Path, tickets: int) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.migrate_async()
    await db.dispose()
    months = [parse_period(m) for m in ("2026-08", "2026-09", "2026-10", "2026-11")]
    each = tickets // len(months)
    await asyncio.to_thread(report_bench.load_sqlite, path, [(m, each) for m in months], 1, 11)


async def rate(n: int, concurrency: int, make: Any) -> float:
    """Requests per second for ``n`` requests, ``concurrency`` at a time."""
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            await make(i)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - started)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--pages", type=int, default=200, help="requests per list scenario")
    ap.add_argument("--forms", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "web.db"
        started = time.perf_counter()
        await load(path, args.tickets)
        load_s = time.perf_counter() - started
        db = Database(f"sqlite+aiosqlite:///{path}")
        community = load_community(SAMPLE_COMMUNITY_FILE)
        async with db.transaction() as s:
            await roles.grant(s, tg_user_id=ADMIN, role=RoleName.ADMIN, granted_by=None, now=NOW)
            session = await auth.open_session(s, tg_user_id=ADMIN, via="bench", now=NOW)
        web = Web(db=db, community=community, engine=Engine.from_file(None), hooks=Hooks(), clock=lambda: NOW,
                  config=Config(secret=b"bench", bot_token="1:x", per_ip=None, per_ip_hour=None, per_grid=None,
                                suggest_per_ip=None))
        server = WebServer(create_app(web), port=0)
        hello = WebServer(Starlette(routes=[Route("/hello", lambda r: PlainTextResponse("hello"))]), port=0)
        await server.start()
        await hello.start()
        results: dict[str, Any] = {"tickets": args.tickets, "load_s": round(load_s, 1),
                                   "python": platform.python_version(), "machine": platform.machine()}
        try:
            limits = httpx.Limits(max_keepalive_connections=args.concurrency, max_connections=args.concurrency)
            async with httpx.AsyncClient(base_url=server.url, cookies={SESSION_COOKIE: session}, limits=limits,
                                         timeout=60) as client, \
                    httpx.AsyncClient(base_url=hello.url, limits=limits, timeout=60) as bare:
                for _ in range(5):  # warm: templates compiled, caches filled, connections open
                    await timed(client, "/board/cases")
                    await timed(bare, "/hello")
                lists: dict[str, Any] = {}
                lists["hello"] = summary([(await timed(bare, "/hello"))[0] for _ in range(args.pages)])
                lists["first"] = summary([(await timed(client, "/board/cases"))[0] for _ in range(args.pages)])
                walk, before = [], None
                while len(walk) < args.pages:
                    url = "/board/cases" + (f"?before={before}" if before else "")
                    ms, r = await timed(client, url)
                    if before is not None:
                        walk.append(ms)
                    found = r.text.split("before=")
                    before = found[-1].split('"')[0] if len(found) > 1 else None
                    if before is None:
                        break
                lists["walk"] = summary(walk)
                for name, query in FILTERS.items():
                    lists[name] = summary([(await timed(client, f"/board/cases?{query}"))[0]
                                           for _ in range(max(20, args.pages // 4))])
                results["case_list"] = lists

                async def post(i: int) -> None:
                    r = await client.post("/s/A03", data={"text": f"{TEXTS[i % len(TEXTS)]}，第{i}次，{i % 22 + 1}号楼",
                                                          "location": f"{i % 22 + 1}号楼"})
                    assert r.status_code == 303, (r.status_code, r.text[:300])

                async def get_hello(i: int) -> None:
                    r = await bare.get("/hello")
                    assert r.status_code == 200

                forms = {
                    "form_per_s_1": round(await rate(args.forms, 1, post), 1),
                    "hello_per_s_1": round(await rate(args.forms, 1, get_hello), 1),
                    f"form_per_s_{args.concurrency}": round(await rate(args.forms, args.concurrency,
                                                                       lambda i: post(i + args.forms)), 1),
                    f"hello_per_s_{args.concurrency}": round(await rate(args.forms, args.concurrency, get_hello), 1),
                }
                results["forms"] = forms
        finally:
            await server.stop()
            await hello.stop()
            await db.dispose()
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return
    print(f"{args.tickets} tickets loaded in {results['load_s']} s (SQLite, Python {results['python']})")
    print(f"{'page':<12}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for name, row in results["case_list"].items():
        print(f"{name:<12}{row['n']:>6}{row['p50_ms']:>10}{row['p99_ms']:>10}{row['mean_ms']:>10}")
    for name, value in results["forms"].items():
        print(f"{name:<18}{value:>10}/s")


if __name__ == "__main__":
    asyncio.run(main())
