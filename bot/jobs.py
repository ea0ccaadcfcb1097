"""Periodic work, run by PTB's JobQueue: what no single message triggers.

Every minute (``DESK_EVERY``) one desk tick runs, in order: the sweep (催办 reminders and escalations
when clocks run out, owed to the unit's or the level's chat), follow-up rating requests (回访),
closing unanswered follow-ups as 未评价, and mediation meeting reminders. Whatever a part owes people is
written to the outbox in the transaction of its change and sent by the sender. Each part is a coroutine
taking the Application, so a test runs exactly one tick at a clock time it chose
(``await jobs.sweep_tick(app)``). Time always comes from ``Deps.now()``; one failed part never stops the
others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.ext import Application, ContextTypes

from bot import metrics
from handlers import cards, texts
from handlers.deps import KEY, Deps
from handlers.desk import participation, reports, supervision
from services import outbox
from services.cases import drafts, followup, mediation, sweep, working_time
from services.outbox import Priority
from services.reports import schedule as report_schedule
from storage.models import Ticket

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(minutes=10)
DESK_EVERY = timedelta(seconds=60)
DESK_JOB = "desk"
MEETING_LEAD = timedelta(hours=2)  # remind a mediation meeting this long before it starts
MAX_SWEEP_ROUNDS = 100  # a full batch means "sweep again now"; bounded so one tick always ends


def _deps(app: Application) -> Deps:
    return app.bot_data[KEY]


async def _guarded(what: str, step: Awaitable[object]) -> object:
    """Run one post of a tick; a failure is logged and answered None, and the tick goes on."""
    try:
        result = await step
    except Exception:  # one failed post or part must not stop the rest of the tick
        log.exception("desk tick: %s failed", what)
        metrics.JOB_RUNS.labels(what, "failed").inc()
        return None
    metrics.JOB_RUNS.labels(what, "ok").inc()
    return result


async def sweep_tick(app: Application) -> sweep.SweepReport:
    """Sweep until no batch is left; each round's reminders and escalations are owed in its own transaction."""
    d = _deps(app)
    now = d.now()
    reminders: list[sweep.Reminder] = []
    escalations: list[sweep.Escalation] = []
    chases: list[sweep.InfoChase] = []
    checked = conflicts = 0
    for _ in range(MAX_SWEEP_ROUNDS):
        async with d.db.transaction() as s:
            report = await sweep.sweep(s, now, d.community)
            for r in report.reminders:
                await cards.owe_reminder(s, d, r)
            for e in report.escalations:
                await cards.owe_escalation(s, d, e)
            for c in report.chases:
                await _owe_chase(s, d, c)
        reminders += report.reminders
        escalations += report.escalations
        chases += report.chases
        checked, conflicts = checked + report.checked, conflicts + report.conflicts
        if not report.more:
            break
    if reminders or escalations or chases:
        log.info("sweep: %d reminders, %d escalations, %d 待补充 chases", len(reminders), len(escalations), len(chases))
        d.wake_sender()
    return sweep.SweepReport(tuple(reminders), tuple(escalations), checked, conflicts, more=False,
                             chases=tuple(chases))


async def _owe_chase(s: AsyncSession, d: Deps, chase: sweep.InfoChase) -> None:
    """待补充 unanswered: a reminder to the resident, or a word under the case's card to the desk that asked."""
    t = await s.get(Ticket, chase.ticket_id)
    if t is None:
        return
    if chase.kind is sweep.ChaseKind.RESIDENT:
        await cards.owe_residents(s, d, t, texts.resident_info_reminder(t.number, chase.since), followers=False)
    else:
        await cards.owe_under_card(s, d, t, texts.staff_info_unanswered(t.number, chase.since), chat_id=chase.chat_id,
                                   markup=cards.unreachable_buttons(d, t))  # [无法联系，办结]


async def followup_tick(app: Application) -> tuple[int, int]:
    """Ask for ratings that are due, close the ones nobody answered; returns (asked, expired)."""
    d = _deps(app)
    now = d.now()
    async with d.db.transaction() as s:
        due = [t for t in await followup.due_followups(s, now, delay=d.followup_delay)
               if await followup.mark_requested(s, t, now)]
        for t in due:
            await cards.owe_rating(s, d, t)
        expired = await followup.expire_unrated(s, now, after=d.rating_window, delay=d.followup_delay)
        for t in expired:
            await cards.owe_refresh(s, d, t)
    if due or expired:
        d.wake_sender()
    return len(due), len(expired)


async def meeting_tick(app: Application) -> int:
    """Remind unit chats of mediation meetings starting within ``MEETING_LEAD``, each once: the reminder is
    owed and recorded in one transaction, so it goes exactly once across restarts. Returns how many."""
    d = _deps(app)
    now = d.now()
    async with d.db.transaction() as s:
        meetings = await mediation.meetings_to_remind(s, now, MEETING_LEAD)
        for m in meetings:
            assert m.meeting_at is not None
            t = await s.get(Ticket, m.ticket_id)
            if t is not None:
                await cards.owe_under_card(s, d, t, texts.staff_meeting(t.number, m.meeting_at))
            await mediation.meeting_reminded(s, m, now)
    if meetings:
        d.wake_sender()
    return len(meetings)


CALENDAR_CLAIM = "calendar"  # services.reports.schedule.claim_once: the warning for a year, once ever
CALENDAR_DONE = "linli.calendar_done"  # bot_data: years this process found claimed (no write a minute all December)


async def calendar_tick(app: Application) -> int | None:
    """In December, when next year's holidays are known neither to chinese-calendar nor to the community file and
    its limits count working time: the staff chat (else each unit's chat) is told once, through the outbox, how
    to list them. Returns the year warned of, None when nothing was owed."""
    d = _deps(app)
    now = d.now()
    year = working_time.next_year_unknown(now, d.community.working_time) if d.community.uses_working_time else None
    done: set[int] = app.bot_data.setdefault(CALENDAR_DONE, set())
    if year is None or year in done:
        return None
    chats = [d.staff_chat_id] if d.staff_chat_id else sorted({u.chat_id for u in d.community.units if u.chat_id})
    if not chats:
        return None
    text = texts.staff_calendar_unknown(year, working_time.calendar_version())
    async with d.db.transaction() as s:
        claimed = await report_schedule.claim_once(s, CALENDAR_CLAIM, str(year), now)
        for chat in chats if claimed else []:
            await outbox.owe(s, chat_id=chat, now=now, text=text, priority=Priority.BACKGROUND)
    done.add(year)
    if not claimed:
        return None
    log.warning("next year's holidays unknown: %d, the desk told", year)
    d.wake_sender()
    return year


async def desk_tick(app: Application) -> None:
    """One tick of everything the desk does on its own."""
    parts: list[tuple[str, Callable[[Application], Awaitable[object]]]] = [
        ("sweep", sweep_tick), ("follow-up", followup_tick), ("meetings", meeting_tick),
        ("participation", participation.tick),  # orders nobody took go to the desk; monthly three lists
        ("督办", supervision.tick),  # a 督办 past its reply deadline: the desk and the supervisor told, once
        ("reports", reports.tick),  # 周调度 Monday 08:00, 月评估 on the 1st, 季研判 at a quarter's start, each once
        ("calendar", calendar_tick),  # December: next year's holidays unknown, the desk told once
    ]
    for name, part in parts:
        await _guarded(name, part(app))


async def desk_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await desk_tick(context.application)


async def purge_stale_drafts(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Drop drafts abandoned for longer than drafts.STALE_AFTER, so a resident starts afresh."""
    d: Deps = context.application.bot_data[KEY]
    async with d.db.transaction() as s:
        n = await drafts.purge_stale(s, d.now())
    metrics.JOB_RUNS.labels("purge-drafts", "ok").inc()
    if n:
        log.info("purged %d stale drafts", n)


def schedule(app: Application, every: timedelta = DESK_EVERY) -> None:
    if app.job_queue is None:  # installed without the job-queue extra: nothing periodic runs
        log.warning("no job queue: stale drafts are not purged, clocks are not swept")
        return
    app.job_queue.run_repeating(purge_stale_drafts, interval=PURGE_EVERY, first=PURGE_EVERY, name="purge-drafts")
    app.job_queue.run_repeating(desk_job, interval=every, first=every, name=DESK_JOB)
