"""民生实事: projects the street commits to (name, unit, budget, milestones); residents subscribe and get progress.

A progress update is one row; the caller owes it to every subscriber in the same transaction. Suggestions
on a project are proposals (码上议) carrying its id, so they get a number and a deadline like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from storage.db import dialect_insert, dialect_name
from storage.models import Project, ProjectSubscription, ProjectUpdate, Proposal, Resident

MAX_MILESTONES = 12
MAX_UPDATE = 1000


async def create(session: AsyncSession, *, name: str, unit: str, budget: str, milestones: list[str], by: int | None,
                 now: datetime) -> Project:
    require_aware(now)
    name = name.strip()
    if not name:
        raise ValueError("a project needs a name")
    steps = [{"name": m.strip()[:64], "done_at": None} for m in milestones if m.strip()][:MAX_MILESTONES]
    project = Project(name=name[:128], unit=unit.strip()[:128], budget=budget.strip()[:64], milestones=steps,
                      created_by=by, created_at=now, updated_at=now)
    session.add(project)
    await session.flush()
    return project


async def subscribe(session: AsyncSession, project_id: int, resident_id: int, now: datetime) -> bool:
    """True when newly subscribed (a second press changes nothing)."""
    insert = dialect_insert(await dialect_name(session))
    done = await session.exec(insert(ProjectSubscription.__table__).values(  # type: ignore[call-overload]
        project_id=project_id, resident_id=resident_id, at=require_aware(now)).on_conflict_do_nothing())
    return bool(done.rowcount)


async def unsubscribe(session: AsyncSession, project_id: int, resident_id: int) -> bool:
    done = await session.exec(delete(ProjectSubscription).where(  # type: ignore[call-overload]
        col(ProjectSubscription.project_id) == project_id, col(ProjectSubscription.resident_id) == resident_id))
    return bool(done.rowcount)


async def subscribed(session: AsyncSession, project_id: int, resident_id: int) -> bool:
    row = (await session.exec(select(ProjectSubscription.id).where(
        ProjectSubscription.project_id == project_id, ProjectSubscription.resident_id == resident_id))).first()
    return row is not None


async def subscribers(session: AsyncSession, project_id: int) -> list[int]:
    """Telegram ids of the project's subscribers."""
    rows = (await session.exec(select(Resident.tg_user_id).join(
        ProjectSubscription, col(ProjectSubscription.resident_id) == col(Resident.id))
        .where(ProjectSubscription.project_id == project_id).order_by(col(ProjectSubscription.id)))).all()
    return [t for t in rows if t is not None]


async def add_update(session: AsyncSession, project_id: int, *, text: str, by: int | None, now: datetime,
                     milestone: int | None = None) -> tuple[Project, ProjectUpdate] | None:
    """A progress note (and, with ``milestone``, that step marked reached); None for an unknown project or step."""
    require_aware(now)
    project = await session.get(Project, project_id)
    text = text.strip()[:MAX_UPDATE]
    if project is None or not text:
        return None
    if milestone is not None:
        if not 0 <= milestone < len(project.milestones):
            return None
        steps = [dict(m) for m in project.milestones]
        steps[milestone]["done_at"] = steps[milestone]["done_at"] or now.isoformat()
        project.milestones = steps
    project.updated_at = now
    session.add(project)
    row = ProjectUpdate(project_id=project_id, text=text, at=now, by=by)
    session.add(row)
    await session.flush()
    return project, row


@dataclass(frozen=True)
class ProjectView:
    """What the board shows of a project: progress and the suggestions it received."""

    project: Project
    done: int
    total: int
    subscribers: int
    suggestions: int
    answered: int
    last_update: ProjectUpdate | None


async def views(session: AsyncSession) -> list[ProjectView]:
    found = []
    for p in (await session.exec(select(Project).order_by(col(Project.id)))).all():
        subs = (await session.exec(select(func.count()).select_from(ProjectSubscription).where(
            ProjectSubscription.project_id == p.id))).one()
        props = (await session.exec(select(Proposal.answered_at).where(Proposal.project_id == p.id))).all()
        last = (await session.exec(select(ProjectUpdate).where(ProjectUpdate.project_id == p.id)
                                   .order_by(col(ProjectUpdate.id).desc()))).first()
        done = sum(1 for m in p.milestones if m.get("done_at"))
        found.append(ProjectView(p, done, len(p.milestones), int(subs), len(props),
                                 sum(1 for a in props if a is not None), last))
    return found


__all__ = ["ProjectView", "add_update", "create", "subscribe", "subscribed", "subscribers", "unsubscribe", "views"]
