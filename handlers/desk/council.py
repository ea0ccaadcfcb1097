"""议事会 and 民生实事 at the desk: /council (命题 with grouped proposals — 点题 by a native poll to a grid's
residents — 答题 published to the grid as a notice) and /project (new, progress to subscribers, milestones).

::

    /council new <题目> [JY-… …]    /council add <n> JY-…    /council poll <n> <网格> 选项一/选项二/…
    /council close <n>            /council publish <n> <结果>
    /project new 名称|单位|预算|节点一、节点二    /project update <n> <进展>    /project done <n> <第几个节点> [说明]

The polls go out through the outbox (one per resident, paced, resumed after a restart); their answers are
counted by ``handlers.resident.proposals.on_poll_answer``. Publishing answers the grouped proposals that are
still open with the outcome, so they count in 办复率.
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, ContextTypes

from handlers import cards, texts
from handlers.deps import deps
from handlers.replies import owed_now
from handlers.resident.proposals import poll_payload
from handlers.taking_part import GROUP, may
from services import outbox
from services.outbox import Priority
from services.participation import council, projects, proposals
from services.participation.common import tg_of
from services.people.roles import Action
from storage.models import CouncilTopic, Project, ProposalStatus

_OPTIONS = re.compile(r"\s*[/／|｜;；]\s*")
_FIELDS = re.compile(r"\s*[|｜]\s*")
_STEPS = re.compile(r"\s*[、,，;；]\s*")


def _id(arg: str) -> int | None:
    arg = arg.lstrip("#")
    return int(arg) if arg.isascii() and arg.isdigit() else None


async def on_council(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    if not await may(d, update, Action.PARTICIPATION, "/council"):
        raise ApplicationHandlerStop
    args = list(context.args or [])
    verb = args[0].lower() if args else ""
    step = {"new": _new, "add": _add, "poll": _poll, "close": _close, "publish": _publish}.get(verb)
    if step is None:
        await _list(update, context)
    else:
        await step(update, context, args[1:])
    raise ApplicationHandlerStop


async def _list(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    async with d.db.session() as s:
        found = await council.topics(s)
        lines = [texts.council_line(t.id, t.title, texts.TOPIC_STATUS[t.status.value],
                                    len(await council.grouped_proposals(s, t.id))) for t in found]
    await update.effective_message.reply_text(texts.council_list(lines))


async def _new(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> None:
    d, msg = deps(context), update.effective_message
    numbers = [a.upper() for a in args if proposals.find_number(a.upper()) == a.upper()]
    title = " ".join(a for a in args if a.upper() not in numbers).strip()
    if not title or len(title) > council.MAX_QUESTION:
        await msg.reply_text(texts.COUNCIL_USAGE)
        return
    async with d.db.transaction() as s:
        topic, grouped, unknown = await council.create_topic(s, title=title, by=update.effective_user.id,
                                                             now=d.now(), numbers=numbers)
    await msg.reply_text(texts.council_created(topic.id, topic.title, grouped, unknown))


async def _add(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> None:
    d, msg = deps(context), update.effective_message
    topic_id = _id(args[0]) if args else None
    if topic_id is None or len(args) < 2:
        await msg.reply_text(texts.COUNCIL_USAGE)
        return
    async with d.db.transaction() as s:
        if await s.get(CouncilTopic, topic_id) is None:
            await msg.reply_text(texts.council_unknown(topic_id))
            return
        grouped, unknown = await council.group(s, topic_id, args[1:])
    await msg.reply_text(texts.council_grouped(topic_id, grouped, unknown))


async def _poll(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> None:
    """点题: a native poll to every resident of the grid, through the outbox."""
    d, msg = deps(context), update.effective_message
    topic_id = _id(args[0]) if args else None
    grid = d.community.grid(args[1]) if len(args) > 1 else None
    options = _OPTIONS.split(" ".join(args[2:]).strip()) if len(args) > 2 else []
    if topic_id is None or grid is None:
        await msg.reply_text(texts.COUNCIL_POLL_USAGE)
        return
    async with d.db.transaction() as s:
        started = await council.start_poll(s, topic_id, grid_code=grid.code, options=options, now=d.now())
        if started.status is council.PollStatus.OK:
            t = started.topic
            for tg in started.voters:
                await outbox.owe(s, chat_id=tg, now=d.now(), payload=poll_payload(t.id, t.title, t.options),
                                 priority=Priority.BACKGROUND)
    if started.status is not council.PollStatus.OK:
        await msg.reply_text(texts.COUNCIL_POLL_REFUSED[started.status.value].format(
            grid=grid.name, topic=topic_id, low=council.MIN_OPTIONS, high=council.MAX_OPTIONS,
            length=council.MAX_OPTION))
        return
    owed_now(context, update)
    d.wake_sender()
    await msg.reply_text(texts.council_polled(topic_id, grid.name, len(started.voters), started.topic.options))


async def _close(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> None:
    d, msg = deps(context), update.effective_message
    topic_id = _id(args[0]) if args else None
    if topic_id is None:
        await msg.reply_text(texts.COUNCIL_USAGE)
        return
    async with d.db.transaction() as s:
        result = await council.close(s, topic_id, d.now())
    if result is None:
        await msg.reply_text(texts.council_not_polling(topic_id))
        return
    await msg.reply_text(texts.council_tally(topic_id, result.topic.title, list(result.counts), result.voters,
                                             result.asked))


async def _publish(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> None:
    """答题: the outcome to the grid as a notice; grouped proposals still open are answered with it."""
    d, msg, user = deps(context), update.effective_message, update.effective_user
    topic_id = _id(args[0]) if args else None
    outcome = " ".join(args[1:]).strip()
    if topic_id is None or not outcome:
        await msg.reply_text(texts.COUNCIL_PUBLISH_USAGE)
        return
    async with d.db.transaction() as s:
        topic = await s.get(CouncilTopic, topic_id)
        if topic is None:
            await msg.reply_text(texts.council_unknown(topic_id))
            return
        result = await council.tally(s, topic)
        text = texts.council_outcome(topic.title, list(result.counts), result.voters, outcome)
        done = await council.publish(s, topic_id, outcome=outcome, by=user.id, now=d.now(), text=text)
        answered = 0
        if done is not None:
            for p in await council.grouped_proposals(s, topic_id):
                if p.status is ProposalStatus.OPEN and (await proposals.answer(
                        s, p.number, text=texts.council_answer(topic.title, outcome), by=user.id, now=d.now())).ok:
                    answered += 1
                    await cards.owe_message(s, d, await tg_of(s, p.resident_id), texts.proposal_answered(
                        p.number, p.text, texts.council_answer(topic.title, outcome)))
    if done is None:
        await msg.reply_text(texts.council_not_closed(topic_id))
        return
    owed_now(context, update)
    d.wake_sender()
    grid = d.community.grid(done.topic.grid_code or "")
    await msg.reply_text(texts.council_published(topic_id, grid.name if grid else "", done.recipients, answered))


# --- 民生实事 -------------------------------------------------------------------------------------------------------


async def on_project(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d, msg, user = deps(context), update.effective_message, update.effective_user
    if not await may(d, update, Action.PARTICIPATION, "/project"):
        raise ApplicationHandlerStop
    args = list(context.args or [])
    verb = args[0].lower() if args else ""
    if verb == "new":
        fields = _FIELDS.split(" ".join(args[1:]).strip())
        if len(fields) < 2 or not fields[0]:
            await msg.reply_text(texts.PROJECT_USAGE)
            raise ApplicationHandlerStop
        name, unit, budget, steps = [*fields, "", "", ""][:4]
        async with d.db.transaction() as s:
            p = await projects.create(s, name=name, unit=unit, budget=budget, milestones=_STEPS.split(steps),
                                      by=user.id, now=d.now())
        await msg.reply_text(texts.project_created(p.id, p.name, [m["name"] for m in p.milestones]))
    elif verb in ("update", "done"):
        await _progress(update, context, args[1:], milestone=verb == "done")
    else:
        async with d.db.session() as s:
            found = await projects.views(s)
        await msg.reply_text(texts.project_list([texts.project_line(v.project.id, v.project.name, v.done, v.total,
                                                                    v.subscribers, v.suggestions) for v in found]))
    raise ApplicationHandlerStop


async def _progress(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str], *, milestone: bool) -> None:
    """A progress note (``done``: a milestone reached) to every subscriber through the outbox."""
    d, msg, user = deps(context), update.effective_message, update.effective_user
    project_id = _id(args[0]) if args else None
    step = _id(args[1]) if milestone and len(args) > 1 else None
    words = " ".join(args[2:] if milestone else args[1:]).strip()
    if project_id is None or (milestone and step is None) or (not milestone and not words):
        await msg.reply_text(texts.PROJECT_USAGE)
        return
    async with d.db.transaction() as s:
        before = await s.get(Project, project_id)
        if milestone and before is not None and step is not None and 1 <= step <= len(before.milestones):
            words = texts.milestone_reached(before.milestones[step - 1]["name"], words)
        done = await projects.add_update(s, project_id, text=words, by=user.id, now=d.now(),
                                         milestone=step - 1 if step is not None else None)
        told = 0
        if done is not None:
            p, _row = done
            for tg in await projects.subscribers(s, project_id):
                told += await cards.owe_message(s, d, tg, texts.project_progress(p.name, words))
    if done is None:
        await msg.reply_text(texts.project_unknown(project_id))
        return
    owed_now(context, update)
    d.wake_sender()
    await msg.reply_text(texts.project_updated(project_id, told))


def register(app: Application) -> None:
    """In desk chats and staff members' private chats (the role and the chat are checked on every use)."""
    app.add_handler(CommandHandler("council", on_council), group=GROUP)
    app.add_handler(CommandHandler("project", on_project), group=GROUP)


__all__ = ["on_council", "on_project", "register"]
