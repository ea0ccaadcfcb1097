"""Learning from the desk: the words of a case and the category a person said they are, kept as training rows
(``linli intents export`` → ``python -m intents.train --taxonomy … rows.csv``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.community.model import Community
from storage.models import CorrectionSource, IntentCorrection

COLUMNS = ("text", "label", "source", "at")


async def record(session: AsyncSession, *, text: str, label: str, source: CorrectionSource, now: datetime,
                 predicted: str | None = None, ticket_id: int | None = None, actor: str = "") -> bool:
    """Keep one row; nothing when the label is what the engine had said already (nothing to learn)."""
    if not text.strip() or label == predicted:
        return False
    session.add(IntentCorrection(text=text.strip(), label=label, predicted=predicted, source=source,
                                 ticket_id=ticket_id, actor=actor, at=require_aware(now)))
    await session.flush()
    return True


def category_of_unit(community: Community, unit_code: str, current: str) -> str | None:
    """What a 转派 says about the category: the new unit's category when it handles exactly one (a unit that
    handles several says nothing certain), and nothing when it handles the current one too."""
    unit = community.unit(unit_code)
    if unit is None or current in unit.categories or len(unit.categories) != 1:
        return None
    return str(unit.categories[0])


async def rows(session: AsyncSession, since: datetime | None = None) -> list[IntentCorrection]:
    stmt = select(IntentCorrection).order_by(col(IntentCorrection.id))
    if since is not None:
        stmt = stmt.where(col(IntentCorrection.at) >= require_aware(since))
    return list((await session.exec(stmt)).all())


def to_csv(found: Iterable[IntentCorrection]) -> str:
    """The training CSV ``intents.train`` reads beside the taxonomy: text,label,source,at."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in found:
        writer.writerow([r.text, r.label, r.source.value, r.at.isoformat()])
    return out.getvalue()


__all__ = ["COLUMNS", "category_of_unit", "record", "rows", "to_csv"]
