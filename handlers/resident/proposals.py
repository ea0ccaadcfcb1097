"""码上议 and 民生实事 for residents: /propose (a number and a reply deadline), /proposals (theirs and the answers),
/projects (subscribe to progress, suggest), and their answers to a 议事会 poll.

The desk answers in its chat (``handlers.desk.participation``) and the resident is told through the outbox.
:func:`propose_text` is for the understanding engine's room (``handlers.dispatch``): a message it hears as a
suggestion can be filed as a proposal (lead: wire it there).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PollAnswerHandler,
    filters,
)

from handlers import cards, keyboards, texts
from handlers.callbacks import unpack
from handlers.deps import deps
from handlers.people import resident_of
from handlers.replies import answer_quietly, owed_now
from handlers.taking_part import GROUP, PRIVATE, RepliesTo, ask, desk_chat, pattern, prompt_id
from services.participation import council, projects, proposals
from storage.models import Project, Proposal

ACTIONS = ("js", "jp")


async def on_propose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = " ".join(context.args or []).strip()
    if not text:
        await ask(update.effective_message, texts.PROPOSE_PROMPT, texts.PROPOSE_PLACEHOLDER)
    else:
        await propose_text(update, context, text)
    raise ApplicationHandlerStop


async def on_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The answer to a proposal prompt (on a 民生实事 project when the prompt names one)."""
    await propose_text(update, context, (update.effective_message.text or "").strip(),
                       project_id=prompt_id(update.effective_message))
    raise ApplicationHandlerStop


async def propose_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, *,
                       project_id: int | None = None) -> bool:
    """File ``text`` as a proposal, tell the resident its number and deadline, and post it to the desk.
    False (and the resident told why) when it is empty or too long."""
    d, msg = deps(context), update.effective_message
    text = text.strip()
    if not text or len(text) > proposals.MAX_TEXT:
        await msg.reply_text(texts.proposal_text_bad(proposals.MAX_TEXT, len(text)))
        return False
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        project = await s.get(Project, project_id) if project_id else None
        p = await proposals.submit(s, resident=r, text=text, community=d.community, now=d.now(),
                                   project_id=project.id if project else None)
        grid = d.community.grid(r.grid_code) if r.grid_code else None
        await cards.owe_message(s, d, desk_chat(d), texts.proposal_card(
            p.number, r.name, grid.name if grid else None, p.text, p.due_at, project.name if project else None))
    owed_now(context, update)
    d.wake_sender()
    await msg.reply_text(texts.proposal_received(p.number, p.due_at))
    return True


async def on_my_proposals(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d, msg = deps(context), update.effective_message
    async with d.db.session() as s:
        r = await resident_of(s, update, d)
        mine = await proposals.of_resident(s, r.id)
        await s.commit()
    await msg.reply_text(texts.my_proposals([_line(p) for p in mine]))
    raise ApplicationHandlerStop


def _line(p: Proposal) -> str:
    return texts.proposal_line(p.number, p.text, p.due_at, p.answer, p.answered_at)


# --- 民生实事 -----------------------------------------------------------------------------------------------------


async def on_projects(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Each project with its progress, and 订阅 / 提建议 buttons."""
    d, msg = deps(context), update.effective_message
    async with d.db.session() as s:
        r = await resident_of(s, update, d)
        found = await projects.views(s)
        subscribed = {v.project.id for v in found if await projects.subscribed(s, v.project.id, r.id)}
        await s.commit()
    if not found:
        await msg.reply_text(texts.PROJECTS_NONE)
        raise ApplicationHandlerStop
    for v in found:
        p = v.project
        follow = texts.BTN_UNSUBSCRIBE if p.id in subscribed else texts.BTN_SUBSCRIBE
        markup = keyboards.inline([keyboards.button(d.callback_secret, follow, "js", str(p.id)),
                                   keyboards.button(d.callback_secret, texts.BTN_SUGGEST, "jp", str(p.id))])
        await msg.reply_text(_project_text(v), reply_markup=markup)
    raise ApplicationHandlerStop


def _project_text(v: projects.ProjectView) -> str:
    p = v.project
    steps = [(m["name"], bool(m.get("done_at"))) for m in p.milestones]
    return texts.project_card(p.id, p.name, p.unit, p.budget, steps, v.subscribers, v.suggestions,
                              v.last_update.text if v.last_update else None)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    q, d = update.callback_query, deps(context)
    cb = unpack(d.callback_secret, q.data)
    if cb is None or q.message is None or q.message.chat.type != "private" or not cb.arg.isdigit():
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        raise ApplicationHandlerStop
    async with d.db.session() as s:
        project = await s.get(Project, int(cb.arg))
    if project is None:
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        raise ApplicationHandlerStop
    if cb.action == "jp":
        await answer_quietly(q)
        await ask(q.message, texts.project_suggest_prompt(project.id, project.name), texts.PROPOSE_PLACEHOLDER)
        raise ApplicationHandlerStop
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        now_subscribed = await projects.subscribe(s, project.id, r.id, d.now())
        if not now_subscribed:
            await projects.unsubscribe(s, project.id, r.id)
    follow = texts.BTN_UNSUBSCRIBE if now_subscribed else texts.BTN_SUBSCRIBE
    await answer_quietly(q, texts.project_subscribed(project.name) if now_subscribed
                         else texts.project_unsubscribed(project.name))
    await q.edit_message_reply_markup(reply_markup=keyboards.inline(
        [keyboards.button(d.callback_secret, follow, "js", str(project.id)),
         keyboards.button(d.callback_secret, texts.BTN_SUGGEST, "jp", str(project.id))]))
    raise ApplicationHandlerStop


# --- 议事会: answers to the poll ------------------------------------------------------------------------------------


async def on_poll_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A resident chose (or retracted) an option of a council poll; answers to unknown or closed polls are
    ignored (Telegram sends them without a chat, so there is nobody to answer here)."""
    d = deps(context)
    a = update.poll_answer
    if a is None or a.user is None:
        return
    async with d.db.transaction() as s:
        await council.vote(s, poll_id=a.poll_id, tg_user_id=a.user.id, option_ids=list(a.option_ids), now=d.now())


def poll_payload(topic_id: int, question: str, options: list[str]) -> dict:
    """What an outbox row carries to send one council poll (``handlers.owed`` sends it and records its id)."""
    return {"poll": {"question": texts.council_poll_question(question)[:300], "options": options,
                     "topic": topic_id}}


def register(app: Application) -> None:
    app.add_handler(CommandHandler("propose", on_propose, filters=PRIVATE), group=GROUP)
    app.add_handler(CommandHandler("proposals", on_my_proposals, filters=PRIVATE), group=GROUP)
    app.add_handler(CommandHandler("projects", on_projects, filters=PRIVATE), group=GROUP)
    app.add_handler(CallbackQueryHandler(on_button, pattern=pattern(*ACTIONS)), group=GROUP)
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND & RepliesTo(texts.PROPOSE_PROMPT_MARK),
                                   on_reply), group=GROUP)
    app.add_handler(PollAnswerHandler(on_poll_answer), group=GROUP)


__all__ = ["ACTIONS", "on_poll_answer", "on_projects", "on_propose", "poll_payload", "propose_text", "register"]
