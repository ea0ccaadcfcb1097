"""Report charts on their way to desk chats: drawn to PNG bytes, kept in ``report_charts`` in the transaction that
owes them (outbox rows name the row: ``{"chart": id}``), read by the sender, purged once old and sent.

A table row rather than a file: it commits or rolls back with the outbox rows that need it, works the same on
SQLite and PostgreSQL, and one row serves every chat a report goes to.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from storage.models import OutboxMessage, OutboxStatus, ReportChart

PAYLOAD_KEY = "chart"


def png_of(draw: Callable[[Path], Path]) -> bytes:
    """Run a chart function that writes a PNG file (``charts.report_chart``…) and return its bytes."""
    with tempfile.TemporaryDirectory(prefix="linli-chart-") as folder:
        return draw(Path(folder) / "chart.png").read_bytes()


async def save(session: AsyncSession, png: bytes, *, title: str, now: datetime) -> int:
    row = ReportChart(png=png, title=title[:128], created_at=require_aware(now))
    session.add(row)
    await session.flush()
    assert row.id is not None
    return row.id


async def load(session: AsyncSession, chart_id: int) -> bytes | None:
    row = await session.get(ReportChart, chart_id)
    return row.png if row is not None else None


async def purge(session: AsyncSession, before: datetime) -> int:
    """Drop charts made before ``before`` that no unsent outbox row still names; how many."""
    require_aware(before)
    old = set((await session.exec(select(ReportChart.id).where(col(ReportChart.created_at) < before))).all())
    if not old:
        return 0
    waiting = (await session.exec(select(OutboxMessage.payload).where(
        OutboxMessage.status == OutboxStatus.PENDING))).all()
    needed = {p.get(PAYLOAD_KEY) for p in waiting if isinstance(p, dict)}
    doomed = sorted(i for i in old if i not in needed)
    if doomed:
        await session.exec(delete(ReportChart).where(col(ReportChart.id).in_(doomed)))  # type: ignore[call-overload]
    return len(doomed)


__all__ = ["PAYLOAD_KEY", "load", "png_of", "purge", "save"]
