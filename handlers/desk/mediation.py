"""人民调解 in the staff chat: `/mediate LL-… 登记|会议 2026-11-25 14:00|协商|协议|回访 [备注]`.

Dispute tickets go through 申请 → 登记 → 会议 → 协商 → 协议 → 回访 (services.cases.lifecycle keeps the
order); the meeting time is sent at once to the parties who use the bot: the ticket's resident and the
neighbours whose complaints joined the case.
"""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from handlers import cards, texts
from handlers.deps import deps
from handlers.desk.access import at_desk, typed_may_act
from services import when
from services.cases import events, mediation, tickets
from services.cases.desk import ticket_by_number
from services.people.roles import Action
from storage.models import MediationStage, Ticket

STAGES = {
    "申请": MediationStage.APPLIED, "登记": MediationStage.REGISTERED, "会议": MediationStage.MEETING,
    "协商": MediationStage.NEGOTIATION, "协议": MediationStage.AGREEMENT, "回访": MediationStage.FOLLOW_UP,
}


def parse(text: str, now: datetime) -> tuple[str | None, MediationStage | None, datetime | None, str]:
    """`/mediate LL-… 会议 2026-11-25 14:00 地点…` → (number, stage, meeting time in Shanghai, note)."""
    parts = [*text.split(None, 3), "", "", ""][1:4]
    number = tickets.parse_ticket_number(parts[0]) if parts[0] else None
    stage = STAGES.get(parts[1])
    if stage is not MediationStage.MEETING:  # only 会议 has a time: "登记 10:30已电话联系" is all note
        return number, stage, None, parts[2].strip()
    meeting_at, note = when.parse_prefix(parts[2], now)
    return number, stage, meeting_at, note


async def on_mediate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    d = deps(context)
    if not await at_desk(d, update, Action.TICKET_ACT, "/mediate"):
        return
    number, stage, meeting_at, note = parse(msg.text or "", d.now())
    if number is None or stage is None:
        await msg.reply_text(texts.MEDIATE_USAGE)
        return
    async with d.db.session() as s:
        found = await ticket_by_number(s, number)
    if found is None:
        await msg.reply_text(texts.TICKET_NOT_FOUND_STAFF)
        return
    if not await typed_may_act(d, update, found, "/mediate"):
        return
    async with d.db.transaction() as s:
        t = await s.get(Ticket, found.id)
        result = await mediation.record_mediation(
            s, t, stage, actor=events.staff_actor(update.effective_user.id), now=d.now(), meeting_at=meeting_at,
            note=note or None,
        )
        if result.ok and stage is MediationStage.MEETING:  # the parties who use the bot hear the time
            await cards.owe_residents(s, d, t, texts.mediation_meeting(number, meeting_at, note))
    if not result.ok:
        await msg.reply_text(texts.MEDIATE_REFUSED[result.reason.value])
        return
    d.wake_sender()
    await msg.reply_text(texts.mediation_recorded(number, texts.MEDIATION_STAGE[stage.value], meeting_at))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("mediate", on_mediate, filters=filters.ChatType.GROUPS))
