"""Health and metrics: ``/healthz`` (the database answers, a leader is known, the inbox is not stuck) and
``/metrics`` in the Prometheus text format.

Counters (prometheus-client) count what happens in this process: updates handled, updates skipped, Bot API calls
answered 429, runs of the desk tick's parts. With several worker processes they are kept in prometheus-client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by ``linli run --workers``), so any worker's ``/metrics``
shows the sum over all. What the database knows (inbox lag, outbox depth by kind, open cases by colour) is read
from it at each scrape, so it is the same whichever worker answers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func
from sqlmodel import select

from bot.cluster import Cluster
from services import inbox
from services.web.board import board
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MAX_LAG = 120.0  # seconds the oldest waiting update may wait before the worker calls itself unhealthy

disable_created_metrics()  # no *_created series: one line per counter is all a dashboard reads

UPDATES = Counter("linli_updates_processed", "Updates handled, by outcome (done; error: raised past the error "
                  "handler); those given up are linli_inbox_rows{status=\"failed\"}", ["outcome"])
ACCEPTED = Counter("linli_updates_accepted", "Updates written to the inbox, by how they came (webhook, polling); "
                   "repeats of an update already there are not counted", ["via"])
REPEATED = Counter("linli_updates_repeated", "Deliveries of an update the inbox already had (changed nothing)")
SKIPPED = Counter("linli_updates_skipped", "Updates that did not parse and were skipped (bot.updates.Skipped)")
TOO_MANY = Counter("linli_telegram_429", "Bot API calls answered 429 Too Many Requests")
JOB_RUNS = Counter("linli_job_runs", "Runs of the periodic jobs' parts, by job and outcome", ["job", "outcome"])


def too_many_requests() -> None:
    TOO_MANY.inc()


@dataclass(frozen=True)
class Health:
    ok: bool
    body: dict[str, object]


async def health(db: Database, cluster: Cluster, now: datetime | None = None) -> Health:
    """Whether this worker can serve: the database answers, somebody leads, the inbox is being worked off."""
    now = now or datetime.now(UTC)
    body: dict[str, object] = {"worker": cluster.name, "is_leader": cluster.is_leader}
    try:
        async with db.session() as s:
            lag = await inbox.lag(s, now)
            leader = await cluster.leader(s)
    except Exception as exc:  # the one thing /healthz exists to say
        body.update(database=f"unreachable: {type(exc).__name__}", leader=None)
        return Health(False, body)
    body.update(database="ok", leader=leader,
                inbox={"pending": lag.pending, "lag_seconds": round(lag.oldest_seconds, 3)})
    problems = [p for p, bad in (("no leader", leader is None), ("inbox stuck", lag.oldest_seconds > MAX_LAG)) if bad]
    if problems:
        body["problems"] = problems
    return Health(not problems, body)


async def _from_database(db: Database, cluster: Cluster, now: datetime, today: datetime) -> CollectorRegistry:
    """Gauges read from the database now (``now``: the wall clock, for the inbox; ``today``: the bot's clock, for the
    cases' colours): the same answer from every worker."""
    registry = CollectorRegistry(auto_describe=False)
    async with db.session() as s:
        lag = await inbox.lag(s, now)
        by_status = await inbox.counts(s)
        depth = (await s.exec(select(OutboxMessage.kind, func.count()).where(
            OutboxMessage.status == OutboxStatus.PENDING).group_by(OutboxMessage.kind))).all()
        tally = (await board(s, scope=None, now=today)).whole
        leader = await cluster.leader(s)
    gauges = [
        ("linli_inbox_pending", "Updates accepted and not yet handled", lag.pending),
        ("linli_inbox_lag_seconds", "How long the oldest update not yet handled has waited", lag.oldest_seconds),
        ("linli_leader_known", "1 when a worker holds the leader's lock", 1.0 if leader else 0.0),
    ]
    for name, doc, value in gauges:
        registry.register(_Static(GaugeMetricFamily(name, doc, value=value)))
    rows = GaugeMetricFamily("linli_inbox_rows", "Inbox rows by status (handled rows are kept two days)",
                             labels=["status"])
    for status, n in sorted(by_status.items()):
        rows.add_metric([status], n)
    outbox = GaugeMetricFamily("linli_outbox_depth", "Owed messages not yet sent, by kind", labels=["kind"])
    for kind, n in sorted((str(getattr(k, "value", k)), int(n)) for k, n in depth):
        outbox.add_metric([kind], n)
    cases = GaugeMetricFamily("linli_open_cases", "Open cases by the colour of their clock", labels=["colour"])
    for colour in ("green", "yellow", "red"):
        cases.add_metric([colour], getattr(tally, colour))
    for family in (rows, outbox, cases):
        registry.register(_Static(family))
    return registry


class _Static:
    """A collector that yields one family computed beforehand (the database was read asynchronously)."""

    def __init__(self, family: GaugeMetricFamily) -> None:
        self.family = family

    def collect(self):  # type: ignore[no-untyped-def]
        yield self.family


def _counters() -> CollectorRegistry:
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


async def render(db: Database, cluster: Cluster, clock: Callable[[], datetime] | None = None) -> tuple[bytes, str]:
    """The /metrics page: this deployment's counters, then the database's gauges (``clock``: the bot's)."""
    counters = generate_latest(_counters())
    now = datetime.now(UTC)
    try:
        gauges = generate_latest(await _from_database(db, cluster, now, clock() if clock else now))
    except Exception as exc:  # the database is away: the counters still answer, and say so
        gauges, up = f"# database unreachable: {type(exc).__name__}\n".encode(), 0
    else:
        up = 1
    gauges += f"# HELP linli_database_up 1 when the database answered this scrape\n# TYPE linli_database_up gauge\n" \
              f"linli_database_up {up}\n".encode()
    return counters + gauges, CONTENT_TYPE_LATEST


__all__ = ["ACCEPTED", "JOB_RUNS", "MAX_LAG", "MULTIPROC_ENV", "REPEATED", "SKIPPED", "TOO_MANY", "UPDATES",
           "Health", "health", "render", "too_many_requests"]
