"""Periodic work, run by PTB's JobQueue: housekeeping that no single message triggers."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import Application, ContextTypes

from handlers.deps import KEY, Deps
from services import drafts

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(minutes=10)


async def purge_stale_drafts(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Drop drafts abandoned for longer than drafts.STALE_AFTER, so a resident starts afresh."""
    d: Deps = context.application.bot_data[KEY]
    async with d.db.transaction() as s:
        n = await drafts.purge_stale(s, d.now())
    if n:
        log.info("purged %d stale drafts", n)


def schedule(app: Application) -> None:
    if app.job_queue is None:  # installed without the job-queue extra: nothing periodic runs
        log.warning("no job queue: stale drafts are not purged")
        return
    app.job_queue.run_repeating(purge_stale_drafts, interval=PURGE_EVERY, first=PURGE_EVERY, name="purge-drafts")
