"""One understood message, sent to the room that answers it: above the rooms, imported by none of them.

A question or an action (services, my tickets, 转人工, an emergency, help, a greeting) is answered at once and
leaves any draft as it is; everything else is a step of the complaint draft (``handlers.resident.draft``).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import texts
from handlers.deps import deps
from handlers.people import resident_of
from handlers.resident import actions, draft, services, tickets
from intents import Result


async def understand(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Route one resident message: an answer, a draft step, or a polite 'not understood'."""
    d = deps(context)
    msg = update.effective_message
    text = text[: draft.MAX_TEXT]
    if len(text) > 1000:
        await msg.reply_text(texts.TOO_LONG)
    result = d.engine.classify(text)
    top = result.top
    kind = d.engine.model.info[top.id].kind if top else None
    complaint = any(d.engine.model.info[p].kind == "complaint" for p in result.parts)
    if top and not result.ambiguous and kind != "complaint":
        async with d.db.transaction() as s:  # whoever writes is a resident from now on, asked or not
            await resident_of(s, update, d)
        await dispatch(update, context, top.id, text, result)
        if complaint and top.id != "act.sos":  # "我上次报的灯修了没？还有楼道有垃圾": the complaint too
            await draft.take_text(update, context, text, result)
        return
    await draft.take_text(update, context, text, result)
    question = next((p for p in result.parts if p.startswith("svc.")), None)
    if question and complaint and not result.ambiguous:  # "楼道灯坏了，顺便问下理发是哪天": answered after the draft
        await dispatch(update, context, question, text, result)


async def dispatch(update: Update, context: ContextTypes.DEFAULT_TYPE, intent: str, text: str,
                   result: Result | None = None) -> None:
    """An action intent: the resident asked for something to be done or answered, not for a ticket."""
    if intent.startswith("svc."):
        await services.answer(update, context, intent)
    elif intent == "act.my_tickets":
        await tickets.my_tickets(update, context)
    elif intent == "act.human":
        await actions.to_human(update, context, update.effective_message.message_id)
    elif intent == "act.sos":
        await actions.sos(update, context, text, result.emergency.kind if result and result.emergency else None)
    elif intent == "act.help":
        await actions.help_(update, context)
    else:
        await actions.greet(update, context, text, result.resolved_topic if result else None)


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo joins the draft; its caption, if any, is read like a message."""
    caption = await draft.take_photo(update, context)
    if caption:
        await understand(update, context, caption)


__all__ = ["dispatch", "on_photo", "understand"]
