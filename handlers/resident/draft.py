"""The complaint draft: free text understood into a case the resident confirms.

Draft stages (kept in the database, so a restart in the middle loses nothing)::

    a topic or a place alone ("调解", "我在3号楼") ──▶ an empty draft (the topic's category as a hint, the place)
            └──▶ "what happened?" ──the matter──▶ as below, in the hinted kind where the words allow it

    text ──classify──▶ confident complaint ──place known?──▶ CONFIRMING ──确认──▶ ticket
            │                                 └─no──▶ ASKING_LOCATION ──text/location──┘
            ├─ unsure among complaints ──▶ CHOOSING_CATEGORY ──button──▶ (place?) ──▶ CONFIRMING
            ├─ service / action ──▶ answered at once, no draft (``handlers.dispatch``)
            └─ nothing understood ──▶ polite answer, menu, 转人工
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from telegram import Message, Update
from telegram.ext import ContextTypes

from handlers import flood, keyboards, texts
from handlers.deps import Deps, deps
from handlers.names import complaint_choices, complaint_name
from handlers.people import drop_written, forget, note_written, pressable, resident_of, speaker
from handlers.replies import answer_quietly, drop_buttons, owed_now
from handlers.resident import conversation, start
from intents import Result
from intents.discourse import agrees
from intents.emergency import hazard_feared, pouring
from intents.followup import keeps_as_is, place_alone, place_correction, topic_only
from intents.places import Place, match_building, named_place, place_or_home, read_place, talk_not_place
from services.cases import corrections, drafts, intake
from services.cases.drafts import DraftStage
from services.cases.events import resident_actor
from services.community.model import PLACELESS, Category
from storage.models import CorrectionSource, Draft, Resident, Ticket, TicketFollower

MAX_TEXT = 4096


@dataclass(frozen=True)
class DraftView:
    """What a reply needs from a draft, copied out before its session closes."""

    text: str
    category: str | None
    location: str | None
    photos: int
    stage: str
    candidates: list[str]
    stamp: str
    split: dict[str, Any] | None = None  # a second matter said while this one waited (see ``another_matter``)
    resident_id: int | None = None  # whose draft, and its ``updated_at`` as shown: to note the message showing it
    seen: datetime | None = None
    hint: str | None = None  # the category a topic said alone points to ("调解"), while the matter is awaited

    @classmethod
    def of(cls, d: Draft) -> DraftView:
        cands = [c["id"] if isinstance(c, dict) else str(c) for c in d.candidates if not _is_note(c)]
        return cls(d.text, d.category, d.location, len(d.photos), d.stage, cands, draft_stamp(d), split_of(d),
                   d.resident_id, d.updated_at, hint_of(d))


def _is_split(candidate: object) -> bool:
    return isinstance(candidate, dict) and "split" in candidate


def _is_note(candidate: object) -> bool:
    """A candidate entry that is no category to choose: where a second matter begins, or a topic's hint."""
    return isinstance(candidate, dict) and ("split" in candidate or "hint" in candidate)


def hint_of(d: Draft) -> str | None:
    """The category a topic said before the matter points to ("调解" → dispute), kept until the matter comes."""
    return next((str(c["hint"]) for c in d.candidates if isinstance(c, dict) and c.get("hint")), None)


def split_of(d: Draft) -> dict[str, Any] | None:
    """Where a second, different matter begins in the draft's text, its category and place; None: one matter."""
    return next((dict(c) for c in d.candidates if _is_split(c)), None) if d.category else None


def draft_stamp(d: Draft) -> str:
    """Which draft a button belongs to: its start time, short (drafts are one per resident)."""
    return drafts.stamp(d)


def infer_place(text: str, resident: Resident) -> str | None:
    """A place named in the text, else the resident's own building; None means ask."""
    return place_or_home(text, resident.building, resident.unit)


async def take_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, result: Result) -> None:
    """A message that is no question or action: the answer to "where?", a step of the draft, or not understood.

    The draft read with the speaker (before the write lock) is changed in hand and written in one guarded
    statement; if it changed meanwhile, it is read again under the lock and the step decided again. It is shown
    only once written: a process killed in between leaves nothing shown that is not kept."""
    d = deps(context)
    msg = update.effective_message
    now = d.now()
    who = await speaker(d, update)
    r, row = who.resident, who.draft
    planned = _text_step(d, r, row, text, result, now) if r is not None else None
    if r is None or planned is not None:
        async with d.db.transaction() as s:
            if r is None:  # first contact: whoever writes is a resident from now on
                r, row = await resident_of(s, update, d), None
                planned = _text_step(d, r, row, text, result, now)
            if planned is not None and not await drafts.save(s, planned, seen=row.updated_at if row else None):
                planned = _text_step(d, r, await drafts.read(s, r.id), text, result, now)
                if planned is not None:
                    await drafts.save(s, planned, seen=drafts.ANY)
        forget()
        if planned is not None:  # a 确认 pressed next knows what it confirms without a read
            note_written(context, r, planned)
    if planned is None:
        if await conversation.more_of_the_answer(update, context, text):
            return  # words going on with an answer to 需补充, to its case
        await msg.reply_text(texts.NOT_UNDERSTOOD, reply_markup=keyboards.human(d.callback_secret, msg.message_id))
    else:
        await show_draft(msg, d, DraftView.of(planned))


def _text_step(d: Deps, r: Resident, row: Draft | None, text: str, result: Result, now: datetime) -> Draft | None:
    """The draft after this text (``row``: the resident's draft row as read, stale or not), or None when the text
    is no step of a complaint (nothing to write)."""
    live = drafts.live(row, now)
    if live is not None and live.stage == DraftStage.ASKING_LOCATION:
        words = text.strip()
        if agrees(words):  # "中", "好的" to "where?": no place, asked again
            return drafts.changed(live, now=now)
        if words.strip("。.！!") in NO_PLACE:  # they cannot say: the case goes without one (the desk can ask)
            return drafts.changed(live, now=now, stage=DraftStage.CONFIRMING)
        if named_place(words) is None and (len(words) > PLACE_ANSWER_MAX or talk_not_place(words)):  # the matter
            return drafts.changed(live, now=now, text=f"{live.text}\n{words}".strip(),
                                  stage=DraftStage.CONFIRMING)  # 地点：（未填写）; the desk can ask
        if (said := place_correction(words) or place_alone(words)) is not None:  # "在3号楼那边", "不对 是4号楼"
            return drafts.changed(live, now=now, location=_placed(live, said), stage=DraftStage.CONFIRMING)
        if _ASKS.search(words):  # a question back: "今天几号来修啊" is asked again, "3号楼门口 啥时候修？" is its place
            named = named_place(words)
            return drafts.changed(live, now=now, **({"location": named, "stage": DraftStage.CONFIRMING} if named
                                                    else {}))
        return drafts.changed(live, now=now, location=words[:200], stage=DraftStage.CONFIRMING)
    return complaint_step(d, r, row, text, result, now)


# a question typed back to "where?" ("今天几号来修啊", "能不能快点来", "要多久"): no place, whatever its length
_ASKS = re.compile(r"[？?]|[吗嘛][啊呀]?$|几号|几点|哪天|什么时候|啥时候|多久|多长时间|能不能|可不可以|会不会|有没有人|"
                   r"谁来")


NO_PLACE = frozenset({"不知道", "不清楚", "说不清", "说不好", "不晓得", "俺也不知道", "我也不知道", "跳过", "没有"})
PLACE_ANSWER_MAX = 15  # an answer to "where?" longer than this that names no place is more words about the matter


def complaint_step(d: Deps, r: Resident, row: Draft | None, text: str, result: Result,
                   now: datetime) -> Draft | None:
    """A complaint's words: joined to the draft being written (within ``JOIN_WINDOW``) or a new draft, then its
    category and place settled where the words allow. None: no complaint and no draft to join."""
    live = drafts.live(row, now)
    joining = live is not None and (now - live.updated_at <= drafts.JOIN_WINDOW or not live.text)
    if live is not None and live.text and (alone := place_alone(text) or place_correction(text)) is not None:
        return drafts.changed(live, now=now, location=_placed(live, alone))  # "3号楼", "不对 是4号楼": its place
    if live is not None and live.text and keeps_as_is(text):
        return drafts.changed(live, now=now)  # "不换了" to the draft shown: as it is, the words not its matter
    if joining and live is not None and live.text and _said_again(live.text, text):
        return drafts.changed(live, now=now)  # the same words sent twice (a double tap, a resend): kept once
    if not (joining and live is not None and live.text):  # no matter being written: a topic or a place alone?
        awaited = _awaiting_matter(r, row if joining else None, text, now)
        if awaited is not None:
            return awaited
    complaints = [m for m in result.intents if d.engine.model.info[m.id].kind == "complaint"]
    if not joining and not complaints:
        return None
    draft = drafts.appended(row, r.id, text, now).draft  # type: ignore[arg-type]
    if joining:
        result = d.engine.classify(draft.text)
        complaints = [m for m in result.intents if d.engine.model.info[m.id].kind == "complaint"] or complaints
    if draft.category and draft.stage == DraftStage.CONFIRMING:  # category settled: more words, same case
        other = another_matter(d, live, draft, text, now) if joining else None
        if other is not None:
            return other
        place = named_place(text)
        return drafts.changed(draft, now=now, location=place) if place else draft
    confident = complaints and not result.ambiguous and result.top.id == complaints[0].id
    hint = hint_of(draft)
    if hint is not None and (not confident or any(m.id == hint for m in complaints)):
        return _with_category(d, r, draft, hint, now)  # "调解" … the matter: the kind the resident asked for
    if confident:
        return _with_category(d, r, draft, complaints[0].id, now)
    if complaints:
        return drafts.changed(draft, now=now, stage=DraftStage.CHOOSING_CATEGORY,
                              candidates=[{"id": m.id, "score": round(m.score, 3)} for m in complaints[:3]])
    return draft  # joined words that say nothing new: show the draft as it stands


def _said_again(written: str, text: str) -> bool:
    """Whether the words are the draft's last words again ("俺家门口的灯坏了" sent twice, punctuation aside)."""
    last = written.strip().rsplit("\n", 1)[-1]
    return bool(text.strip()) and _bare_words(last) == _bare_words(text)


def _bare_words(text: str) -> str:
    return re.sub(r"[^\w]+|_", "", text)


def _placed(live: Draft, said: Place) -> str:
    """The draft's place once a place is said alone or corrected ("楼道灯坏了" … "3号楼", "3号楼门口的井盖没了" …
    "不对 是4号楼"): a building said alone keeps the spot inside it the draft named (3号楼楼道, 4号楼门口); the words
    are no more of the matter, so they are not added to it."""
    if not said.building or said.spot or said.floor or said.room:
        return said.text
    for before in (live.location, live.text):
        old = read_place(before) if before else None
        if old is None or not (old.spot or old.floor or old.room):
            continue
        rest = old.text.removeprefix(old.building or "").removeprefix(old.unit or "")  # 楼道, 601室门口
        inside = read_place(rest)
        if inside is not None and inside.in_building:  # 楼道, 电梯, 门口, a room; never 东门, a place of its own
            return said.text + rest
    return said.text


def _awaiting_matter(r: Resident, row: Draft | None, text: str, now: datetime) -> Draft | None:
    """A topic said alone ("调解", "我要报修") or a place alone ("我在3号楼", "3号楼"): no matter yet, so no draft
    of these words. An empty draft is kept instead, with the topic's category as a hint and the place as the
    matter's place, and the resident is asked what happened. ``row``: a draft still waiting for its matter (or
    None); its photos, place and hint are kept. None: the words are more than that."""
    topic = topic_only(text)
    place = place_alone(text) if topic is None else None
    if topic is None and place is None:
        return None
    draft = drafts.appended(row, r.id, "", now).draft
    hint = topic.hint if topic is not None else hint_of(draft)
    fields: dict[str, Any] = {"candidates": [{"hint": hint}] if hint else []}
    if place is not None:
        fields["location"] = place.text
    return drafts.changed(draft, now=now, stage=DraftStage.COLLECTING, **fields)


MIN_MATTER = 6  # characters: "还有9号楼" adds to a matter, "小区门口乱停车堵住了" is one of its own


def another_matter(d: Deps, live: Draft | None, joined: Draft, text: str, now: datetime) -> Draft | None:
    """A second, different complaint typed while the first waits for 确认 ("楼上装修太吵" … "还有门口乱停车", or the
    same kind at another place: "9号楼楼道灯坏了" … "东门路灯也不亮"):
    the draft keeps both words, remembers where the second begins, its category and place, and is shown as two
    matters to submit apart or as one. None: the words add to the first (same kind, a place, too short, unsure)."""
    if live is None or not live.category or live.stage != DraftStage.CONFIRMING or split_of(live) is not None:
        return None
    words = text.strip()
    own = d.engine.classify(words)
    top = own.top
    if (len(words) < MIN_MATTER or top is None or own.ambiguous or top.score < d.engine.floor
            or d.engine.model.info[top.id].kind != "complaint" or top.id == "other"):
        return None
    place = named_place(words)
    if top.id == live.category and (not place or not live.location or _same_place(place, live.location)):
        return None  # the same kind at the same place (or none said): more words about the same matter
    split = {"split": len(live.text) + 1 if live.text else 0, "id": top.id, "location": place}
    return drafts.changed(joined, now=now, candidates=[split])


def _same_place(a: str, b: str) -> bool:
    """"9号楼" and "9号楼2单元" are one place said more or less exactly; "东门" and "9号楼楼道" are two."""
    return a in b or b in a


def halves(d: Deps, r: Resident, draft: Draft, split: dict[str, Any], message_id: int | None
           ) -> tuple[intake.Intake, intake.Intake]:
    """The two cases of a draft holding two matters: the first as the draft stood (its photos, its receipt the
    edit of the draft), the second from where its words begin, at the place it named (else the first's)."""
    at = int(split["split"])
    first = drafts.copied(draft, text=draft.text[:at].strip(), candidates=[])
    second = drafts.copied(draft, text=draft.text[at:].strip(), category=split["id"], candidates=[], photos=[],
                           attachments=[], location=split.get("location") or draft.location)
    return _intake(d, r, first, message_id), _intake(d, r, second, None)


def _with_category(d: Deps, r: Resident, draft: Draft, category: str, now: datetime) -> Draft:
    """The category settled: the place is the one the words name (an unnamed building's 楼道 or 电梯 completed
    with the resident's own), else the one they answered or shared, else their home; none: ask (not for a matter
    about a person, such as 低保 or 赡养费: ``PLACELESS``)."""
    named = named_place(draft.text)
    said = read_place(draft.location) if draft.location else None  # a building said before the matter ("我在3号楼")
    building, unit = (said.building, said.unit) if said is not None and said.building else (r.building, r.unit)
    place = place_or_home(draft.text, building, unit) if named else (draft.location or infer_place("", r))
    placeless = category in PLACELESS  # StrEnum members: a plain id finds its member
    stage = DraftStage.CONFIRMING if place or placeless else DraftStage.ASKING_LOCATION
    if hint_of(draft) is None:
        return drafts.changed(draft, now=now, category=category, location=place, stage=stage)
    rest = [c for c in draft.candidates if not (isinstance(c, dict) and "hint" in c)]  # the hint is spent
    return drafts.changed(draft, now=now, category=category, location=place, stage=stage, candidates=rest)


async def show_draft(msg: Message, d: Deps, view: DraftView) -> None:
    """The draft as the resident sees it. The message offering 确认提交 is noted on the draft, so that a 确认 typed
    later edits it as the button does: a hint written behind (``Database.hint``), batched with others and off
    this update's one write transaction; lost, the typed yes's number comes as a message of its own."""
    sec = d.callback_secret
    if not view.text:  # a topic or a place said alone: what happened is still to come
        await msg.reply_text(texts.ask_matter(complaint_name(d, view.hint) if view.hint else None, view.hint,
                                              view.location))
    elif view.stage == DraftStage.ASKING_LOCATION:
        await msg.reply_text(texts.ASK_LOCATION)
    elif view.stage == DraftStage.CHOOSING_CATEGORY or not view.category:
        choices = [(c, complaint_name(d, c)) for c in view.candidates] or complaint_choices(d)
        await msg.reply_text(texts.choose_category(view.text),
                             reply_markup=keyboards.categories(sec, choices, view.stamp, more=_more(view)))
    elif view.split is not None:
        at = int(view.split["split"])
        await msg.reply_text(
            texts.confirm_two(complaint_name(d, view.category), view.text[:at], view.location,
                              complaint_name(d, view.split["id"]), view.text[at:],
                              view.split.get("location") or view.location),
            reply_markup=keyboards.confirm_two(sec, view.stamp))
    else:
        unit = d.community.unit_for(Category(view.category))
        hours = d.community.limit_hours(Category(view.category))
        summary = texts.confirm_draft(complaint_name(d, view.category), view.text, view.location, unit.name,
                                      texts.limit_text(hours), view.photos)
        tip = f"{texts.VALVE_TIP}\n\n" if pouring(view.text) else ""  # what stops the worst of it before anyone comes
        if hazard_feared(view.text):  # read as a what-if: whom to call if it is happening after all
            tip += f"{texts.HAZARD_TIP}\n\n"
        shown = await msg.reply_text(tip + summary, reply_markup=keyboards.confirm_draft(sec, view.stamp))
        if view.resident_id is not None and view.seen is not None:  # a 确认 typed later edits this message
            d.db.hint(*drafts.shown_hint(view.resident_id, shown.message_id, seen=view.seen))


def _more(view: DraftView) -> bool:
    """Whether the chooser adds 其他问题 (every category): not beside the candidate 其他, which a resident cannot tell
    from it (其他 opens a draft whose 换一类 still offers every category)."""
    return bool(view.candidates) and "other" not in view.candidates


async def on_draft_button(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, arg: str) -> None:
    """确认 / 换一类 / a category / 取消 on the draft shown. The draft comes from the speaker read; the write
    checks it is still that draft (a second tap, or a button of an earlier draft, finds nothing to act on)."""
    d = deps(context)
    q = update.callback_query
    now = d.now()
    category, _, stamp = arg.rpartition(".") if action == "cat" else ("", "", arg)
    if action == "cat" and category not in {c.value for c in Category}:
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    if action == "ok":
        known = await _confirm_known(update, context, stamp, now)
        if known is CAPPED or (known is None and flood.cap_deferred(update) and await flood.confirms_capped(d, update)):
            await answer_quietly(q, texts.FLOOD_CONFIRM_LATER, show_alert=True)  # the draft stays for later
            return
        if known is not None:
            _opened(context, update)
            await answer_quietly(q)  # the number comes as an edit of this draft, which also takes its buttons away
            return
    who = await speaker(d, update)
    r = who.resident
    draft = drafts.live(who.draft, now) if r is not None else None
    if draft is not None and draft_stamp(draft) != stamp:
        draft = None  # a button of an earlier draft: never acts on the one in progress
    opened = view = None
    if r is None or draft is None or not draft.text:
        draft = None
    elif action == "x":
        async with d.db.transaction() as s:
            taken = await drafts.take(s, r.id, seen=draft.updated_at)
        draft = draft if taken else None
    elif action == "rc":
        view = await _write_view(d, draft, drafts.changed(draft, now=now, stage=DraftStage.CHOOSING_CATEGORY,
                                                          candidates=[]))
    elif action == "cat":  # the resident's own choice: a row the engine learns from
        top = d.engine.classify(draft.text).top
        chosen = _with_category(d, r, draft, category, now)
        async with d.db.transaction() as s:
            if await drafts.save(s, chosen, seen=draft.updated_at):
                await corrections.record(s, text=draft.text, label=category, predicted=top.id if top else None,
                                         source=CorrectionSource.RESIDENT_CHOICE, now=now,
                                         actor=resident_actor(r.id))
                view = DraftView.of(chosen)
        if view is not None:
            note_written(context, r, chosen)
    elif action == "two" and draft.stage == DraftStage.CONFIRMING and (split := split_of(draft)) is not None:
        cases = halves(d, r, draft, split, q.message.message_id if q.message else None)
        async with d.db.transaction() as s:  # each case's duplicate candidates compared under the lock, no look
            if await drafts.take(s, r.id, seen=draft.updated_at):
                # in the order said, so the numbers and receipts come in that order too (two residents confirming
                # the same two matters in opposite orders at one instant: PostgreSQL detects the lock cycle, one
                # transaction rolls back whole, its draft stays and the press can be repeated)
                for case in cases:
                    opened = await intake.open_case(s, resident=r, intake=case, community=d.community,
                                                    staff_chat_id=d.staff_chat_id, now=now)
    elif action == "ok" and draft.stage == DraftStage.CONFIRMING and draft.category:
        opened = await confirm(d, r, draft, q.message.message_id if q.message else None, now)
    else:
        view = DraftView.of(draft)
    forget()
    if opened or (action == "x" and draft is not None):
        drop_written(context, update.effective_user.id)
    if action == "x":
        await q.answer()
        await q.edit_message_text(texts.DRAFT_CANCELLED if draft is not None else texts.DRAFT_EXPIRED)
        return
    if opened:
        d.wake_sender()
        owed_now(context, update)  # the number is on its way: an error from here on must not invite a repeat
        await answer_quietly(q)  # the number comes as an edit of this draft, which also takes its buttons away
        return
    if draft is None or view is None:
        sent = await _sent_since(d, r, stamp) if r is not None and action in ("ok", "two") else None
        await q.answer(texts.draft_already_sent(sent) if sent else texts.DRAFT_EXPIRED, show_alert=True)
        await drop_buttons(q)
        return
    await q.answer()
    if action == "rc":
        await q.edit_message_text(texts.CHOOSE_ANY_CATEGORY,
                                  reply_markup=keyboards.categories(d.callback_secret, complaint_choices(d),
                                                                    view.stamp, more=False))
        return
    await drop_buttons(q)
    await show_draft(q.message, d, view)


CAPPED: Any = object()  # ``_confirm_known``: the presser is at the flood cap; nothing written


async def _confirm_known(update: Update, context: ContextTypes.DEFAULT_TYPE, stamp: str, now: datetime) -> Any:
    """确认 pressed on the draft this process last wrote for the presser (``people.pressable``), with no read first:
    the draft's ``DELETE`` checks that it is the presser's and still as written, and that the resident's place is
    as it was (else its transaction rolls back: None, take the press the ordinary way); it counts the complaints
    confirmed in the window when the flood guard left the cap to it (``CAPPED``: nothing written). The case opened
    or joined otherwise, as :func:`confirm` opens it from the draft read."""
    known = pressable(context, update, stamp, now)
    if known is None:
        return None
    d, q, user = deps(context), update.callback_query, update.effective_user
    r, draft = known
    cap = d.flood.drafts if flood.cap_deferred(update) else 0
    taking = drafts.Known(user.id, r, draft, cap=cap, since=now - timedelta(seconds=d.flood.window))
    case = _intake(d, r, draft, q.message.message_id if q.message else draft.shown_message_id)
    try:
        async with d.db.transaction() as s:
            return await intake.open_draft(s, resident=r, intake=case, community=d.community,
                                           staff_chat_id=d.staff_chat_id, now=now, seen=draft.updated_at,
                                           known=taking)
    except drafts.Capped:
        return CAPPED
    except drafts.NotAsKnown:  # changed since, elsewhere or in a way not remembered: read it as usual
        drop_written(context, user.id)
        return None


def _opened(context: ContextTypes.DEFAULT_TYPE, update: Update) -> None:
    """A case opened or joined by a press: what was remembered of the draft is gone, the number is owed."""
    forget()
    drop_written(context, update.effective_user.id)
    deps(context).wake_sender()
    owed_now(context, update)  # the number is on its way: an error from here on must not invite a repeat


async def confirm(d: Deps, r: Resident, draft: Draft, pressed: int | None, now: datetime) -> intake.Opened | None:
    """确认, pressed or typed: the draft opens its case (or joins one), None when it is no longer the draft read.
    The number is owed as an edit of the draft's message (``pressed``, else the one that shows it: a yes typed),
    which also takes its buttons away, so either way there is one receipt and nothing left to press."""
    case = _intake(d, r, draft, pressed or draft.shown_message_id)
    async with d.db.transaction() as s:  # the draft taken, if still the one read, with the case it opens and the
        # duplicate check's candidates (compared under the lock: no look before it, a statement saved)
        return await intake.open_draft(s, resident=r, intake=case, community=d.community,
                                       staff_chat_id=d.staff_chat_id, now=now, seen=draft.updated_at)


SENT_WITHIN = timedelta(hours=2)  # a case opened this long after a draft began is no longer taken for it


async def _sent_since(d: Deps, r: Resident, stamp: str) -> str | None:
    """The number of the case the draft begun at ``stamp`` became (opened, or joined as a neighbour's), if it was
    confirmed: a press on its button again is told so, not asked to describe the matter anew. None: not found."""
    try:
        since = datetime.fromtimestamp(int(stamp, 16), UTC)
    except (ValueError, OverflowError, OSError):
        return None
    until = since + SENT_WITHIN
    own = (select(Ticket.number, col(Ticket.created_at).label("at"))
           .where(Ticket.resident_id == r.id, col(Ticket.created_at) >= since, col(Ticket.created_at) <= until))
    joined = (select(Ticket.number, col(TicketFollower.linked_at).label("at"))
              .join(TicketFollower, col(TicketFollower.ticket_id) == col(Ticket.id))
              .where(TicketFollower.resident_id == r.id, col(TicketFollower.linked_at) >= since,
                     col(TicketFollower.linked_at) <= until))
    async with d.db.session() as s:
        found = [row for stmt in (own, joined) for row in (await s.exec(stmt.order_by("at").limit(1))).all()]
    return min(found, key=lambda row: row[1])[0] if found else None


async def confirm_typed(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """A bare yes typed to the resident's draft waiting for 确认 (many elderly residents answer the question in
    words): confirmed as the button does, within the same flood cap, whatever else the words could be taken for
    (好的 as thanks). A yes to two matters shown asks for the button (which way is the resident's choice) and adds
    nothing. False, nothing done: no such draft, or more than a yes. The number comes as the button's does."""
    if not agrees(text):
        return False
    d = deps(context)
    now = d.now()
    who = await speaker(d, update)  # read already for this update: no statement of its own
    draft = drafts.live(who.draft, now)
    if (who.resident is None or draft is None or draft.stage != DraftStage.CONFIRMING or not draft.category
            or not draft.text):
        return False
    msg = update.effective_message
    if split_of(draft) is not None:  # two matters shown: which way is the resident's to press, not a word to add
        await msg.reply_text(texts.TWO_MATTERS_PRESS)
        return True
    if await flood.confirms_capped(d, update):
        await msg.reply_text(texts.FLOOD_CONFIRM_LATER)
        return True
    opened = await confirm(d, who.resident, draft, None, now)
    forget()
    drop_written(context, update.effective_user.id)
    if opened is None:
        await msg.reply_text(texts.DRAFT_EXPIRED)
        return True
    d.wake_sender()
    owed_now(context, update)  # the number is on its way: an error from here on must not invite a repeat
    return True


async def _write_view(d: Deps, draft: Draft, new: Draft) -> DraftView | None:
    """Write ``new`` over ``draft`` if the row is still that draft; its view, or None when it had changed."""
    async with d.db.transaction() as s:
        return DraftView.of(new) if await drafts.save(s, new, seen=draft.updated_at) else None


def case_grid(d: Deps, r: Resident, location: str | None) -> tuple[str | None, str | None]:
    """(grid, building) of the place a case names: a building of the community file sets the case's grid (so its
    grid worker hears of it and duplicates there are joined), else the resident's own grid."""
    building = match_building(location or "", [b for g in d.community.grids for b in g.buildings])
    grid = d.community.grid_for_building(building) if building else None
    return (grid.code if grid else r.grid_code), building


def _intake(d: Deps, r: Resident, draft: Draft, message_id: int | None) -> intake.Intake:
    """One complaint, one case (``services.cases.intake``). The number is owed with the case and comes as an edit
    of the draft confirmed (``message_id``), with the offer to save a building named for the first time as home
    under it: one message for the press, whatever happens to the process after the commit."""
    grid, building = case_grid(d, r, draft.location)
    receipt: dict[str, Any] = {"edit": message_id} if message_id else {}
    if building and not r.building:  # named for the first time: it may be where they live
        receipt["offer"] = start.buildings(d).index(building)
    return intake.Intake(category=draft.category or "other", text=draft.text, location=draft.location,
                         grid_code=grid, photos=list(draft.photos), attachments=list(draft.attachments),
                         receipt=receipt)


MAX_PHOTOS = 10  # a case's photos: an album's worth
MAX_CAPTION = 1024  # Telegram's caption limit (a longer one comes only from elsewhere than Telegram)
MAX_VOICE_SECONDS = 600


async def take_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """A photo joins the resident's draft (or starts one). Returns its caption, for the caller to read as text.

    Past ``MAX_PHOTOS`` a photo is refused politely (an album of more), as is a caption past Telegram's limit:
    nothing of that message is kept."""
    d = deps(context)
    msg = update.effective_message
    now = d.now()
    file_id = msg.photo[-1].file_id
    if msg.caption and len(msg.caption) > MAX_CAPTION:
        await msg.reply_text(texts.CAPTION_TOO_LONG.format(limit=MAX_CAPTION))
        return None
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        draft = await drafts.get_draft(s, r.id, now=now)
        if draft is not None and len(draft.photos) >= MAX_PHOTOS:
            full = True
        elif draft is not None:
            full, draft = False, await drafts.update_draft(s, r.id, now=now, photos=[*draft.photos, file_id])
        else:
            full, draft = False, (await drafts.add_photo(s, r.id, file_id, now)).draft
        count, has_text = len(draft.photos), bool(draft.text)
    forget()
    if full:
        await msg.reply_text(texts.PHOTOS_TOO_MANY.format(limit=MAX_PHOTOS))
        return None
    if msg.caption:
        await msg.reply_text(texts.PHOTO_ADDED.format(n=count))
        return msg.caption
    if has_text:
        await msg.reply_text(texts.PHOTO_ADDED.format(n=count))
    else:
        await msg.reply_text(texts.PHOTO_NEEDS_TEXT)
    return None


async def take_attachment(update: Update, context: ContextTypes.DEFAULT_TYPE, item: dict[str, Any],
                          label: str) -> None:
    """A voice message or a file: added to the draft being written, or a draft of its own ("语音留言", category
    其他 until the resident picks another with 换一类), so staff can listen to it under the card."""
    d = deps(context)
    msg = update.effective_message
    now = d.now()
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        draft = await drafts.get_draft(s, r.id, now=now)
        if draft is not None and draft.text:
            await drafts.update_draft(s, r.id, now=now, attachments=[*draft.attachments, item])
            view = None
        else:
            await drafts.add_attachment(s, r.id, item, now)
            draft = (await drafts.append_text(s, r.id, label, now)).draft
            chosen = _with_category(d, r, draft, "other", now)
            await drafts.update_draft(s, r.id, now=now, category=chosen.category, location=chosen.location,
                                      stage=chosen.stage)
            view = DraftView.of(chosen)
    forget()
    if view is None:
        await msg.reply_text(texts.ATTACHMENT_ADDED)
        return
    await msg.reply_text(texts.FILE_DRAFT if item.get("kind") == "document" else texts.VOICE_DRAFT)
    await show_draft(msg, d, view)


NEAR_BUILDING_M = 150.0  # a pin this close to a known building is read as that building


def pin_place(d: Deps, lat: float, lon: float) -> str | None:
    """A shared location in words: the nearest building when the community file knows where buildings are, else
    a map link (WGS-84, as Telegram sends it). None: far outside the community."""
    away = d.community.distance_from_centre(lat, lon)
    if away is not None and away > d.community.radius_m:
        return None
    nearest = d.community.nearest_building(lat, lon)
    if nearest is not None and nearest[1] <= NEAR_BUILDING_M:
        return texts.pin_near(nearest[0])
    return texts.pin_map(lat, lon)


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared location answers 'where?' when the bot asked; otherwise it is noted politely."""
    d = deps(context)
    msg = update.effective_message
    loc = msg.location
    now = d.now()
    place = pin_place(d, loc.latitude, loc.longitude)
    if place is None:
        await msg.reply_text(texts.LOCATION_OUTSIDE)
        return
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        draft = await drafts.get_draft(s, r.id, now=now)
        view = None
        if draft is not None and (draft.text or hint_of(draft) or draft.location):  # a draft, or one asking what
            stage = DraftStage.CONFIRMING if draft.category else draft.stage        # happened (a topic, a place)
            view = DraftView.of(await drafts.update_draft(s, r.id, now=now, location=place, stage=stage))
    forget()
    if view is None:
        await msg.reply_text(texts.MEDIA_UNSUPPORTED["location"])
        return
    await msg.reply_text(texts.LOCATION_SAVED)
    await show_draft(msg, d, view)


__all__ = [
    "MAX_TEXT",
    "DraftView",
    "case_grid",
    "complaint_step",
    "infer_place",
    "on_draft_button",
    "on_location",
    "pin_place",
    "show_draft",
    "take_attachment",
    "take_photo",
    "take_text",
]
