"""One understood message, sent to the room that answers it: above the rooms, imported by none of them.

A question or an action (services, my tickets, 转人工, an emergency, help, a greeting) is answered at once and
leaves any draft as it is; everything else is a step of the complaint draft (``handlers.resident.draft``).
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import ContextTypes

from handlers import keyboards, texts
from handlers.deps import deps
from handlers.people import resident_now
from handlers.resident import actions, draft, followup, orders, proposals, rating, services, tickets, wishes
from intents import Result
from intents.discourse import asks_done, asks_how_to_pay, asks_wish, courtesy, hails, preamble, redeemed, thanks
from intents.followup import place_introduced
from intents.places import named_place


async def understand(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, read: Result | None = None) -> None:
    """Route one resident message: an answer, a draft step, or a polite 'not understood'. ``read``: the engine's
    reading of these very words, when the router already had it (words that were not the answer to 待补充), so
    they are not read twice."""
    d = deps(context)
    msg = update.effective_message
    if len(text) > draft.MAX_TEXT:
        read = None  # that reading was of the whole text; this one is of its first MAX_TEXT characters
    text = text[: draft.MAX_TEXT]
    if len(text) > 1000:
        await msg.reply_text(texts.TOO_LONG)
    if await draft.confirm_typed(update, context, text):  # "好的" to 确认提交吗？ is a yes, not thanks
        return
    if await followup.confirm_again(update, context, text):  # "确认" again once the case is in: its number
        return
    result = read if read is not None else d.engine.classify(text)
    if result.emergency is None:  # an emergency is never a rating, a preamble or a progress question
        if await actions.help_came(update, context, text):  # "救护车到了 谢谢": onto their open emergency, thanked
            return
        if await rating.typed(update, context, text):  # "满意", "还行吧 就是慢了点" to 回访: as the button
            return
        if await followup.correct_place(update, context, text):  # "不对 是4号楼" just after filing: the case moves
            return
        if await followup.let_go(update, context, text):  # "算了", "不换了" with no draft: nothing to do
            return
        if place_introduced(text) is not None:  # "你好 我是8号楼的老张 想反映个事": the place kept, what is asked
            await draft.take_text(update, context, text, result)
            return
        if preamble(text):  # "俺想反映个事": what, is still to come; no draft of these words
            await resident_now(d, update)
            await msg.reply_text(texts.PREAMBLE_ASK)
            return
        if asks_how_to_pay(text):  # "电费咋交 俺不会弄手机": where to pay, and someone to help
            await resident_now(d, update)
            await msg.reply_text(texts.HOW_TO_PAY, reply_markup=keyboards.human(d.callback_secret, msg.message_id))
            return
        if hails(text) or courtesy(text):  # "在不在", "有人吗", "麻烦你们了": the whole message, nothing else in it
            await resident_now(d, update)
            await dispatch(update, context, "act.greeting", text, result)
            return
    top = result.top
    kind = d.engine.model.info[top.id].kind if top else None
    complaint = any(d.engine.model.info[p].kind == "complaint" for p in result.parts)
    if top and not result.ambiguous and kind != "complaint":
        await resident_now(d, update)  # whoever writes is a resident from now on, asked or not (first contact)
        await dispatch(update, context, top.id, text, result)
        if complaint and top.id not in ("act.sos", "act.withdraw"):  # "我上次报的灯修了没？还有楼道有垃圾": that too
            await draft.take_text(update, context, text, result)
        return
    if (top is None or result.ambiguous) and await actions.sos_more(update, context, text):
        return  # words about an emergency still open (他还是不动): to everyone alerted
    if result.emergency is None and asks_done(text) and await tickets.progress_of_kind(
            update, context, _kinds(context, result)):
        return  # "电梯修了没" with their own lift case open: its progress, not a second case
    if await _participation(update, context, text, result):
        return
    await draft.take_text(update, context, text, result)
    question = next((p for p in result.parts if p.startswith("svc.")), None)
    if question and complaint and not result.ambiguous:  # "楼道灯坏了，顺便问下理发是哪天": answered after the draft
        await dispatch(update, context, question, text, result)


async def _participation(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, result: Result) -> bool:
    """Words that ask for a service at home ("能不能找人上门修一下水龙头") are an order for a partner, not a case
    (a public place named makes it a case again); a confident suggestion is a proposal (码上议) with a reply date."""
    if named_place(text) is None and await orders.offer_from_text(update, context, text):
        return True
    if asks_wish(text):  # "我想许个微心愿": the wish's prompt, as /wish gives it
        await wishes.ask_wish(update.effective_message)
        return True
    if (want := redeemed(text)) and _in_shop(context, want):  # "我要换毛巾": the shop, with its 兑换 buttons
        await services.answer(update, context, "svc.shop")
        return True
    top = result.top
    if top is not None and top.id == "suggestion" and not result.ambiguous and result.parts == ["suggestion"]:
        return await proposals.propose_text(update, context, text) or True
    return False


def _in_shop(context: ContextTypes.DEFAULT_TYPE, want: str) -> bool:
    """Whether the points shop has what the resident named ("毛巾" for 纯棉毛巾, "洗衣皂" for 洗衣皂（2块装）)."""
    for item in deps(context).community.shop:
        core = re.sub(r"[（(].*?[）)]", "", item.name).strip()
        if core and (core in want or (len(want) >= 2 and (want in core or core[-2:] in want))):
            return True
    return False


async def dispatch(update: Update, context: ContextTypes.DEFAULT_TYPE, intent: str, text: str,
                   result: Result | None = None) -> None:
    """An action intent: the resident asked for something to be done or answered, not for a ticket."""
    if intent.startswith("svc."):
        await services.answer(update, context, intent)
    elif intent == "act.my_tickets":
        await tickets.my_tickets(update, context)
    elif intent == "act.withdraw":
        about = next((m.id for m in result.intents if _intent_kind(context, m.id) == "complaint"
                      and m.score >= deps(context).engine.floor), None) if result else None
        about = about or (result.resolved_topic if result else None)  # "水管我自己修好了，不用来了"
        await tickets.take_back(update, context, text, about)
    elif intent == "act.human":
        await actions.to_human(update, context, update.effective_message.message_id, text)
    elif intent == "act.sos":
        about = next((p for p in result.parts if _intent_kind(context, p) == "complaint"), None) if result else None
        await actions.sos(update, context, text, result.emergency.kind if result and result.emergency else None,
                          about)
    elif intent == "act.help":
        await actions.help_(update, context)
    elif intent == "act.greeting" and not (result and result.resolved_topic) and thanks(text):
        await update.effective_message.reply_text(texts.THANKS_REPLY, reply_markup=keyboards.main_menu())
    else:
        await actions.greet(update, context, text, result.resolved_topic if result else None)


def _kinds(context: ContextTypes.DEFAULT_TYPE, result: Result) -> list[str]:
    """The complaint categories a message names (an earlier report's first), "other" aside: which open case a
    progress question may be about."""
    named = [m.id for m in result.intents if _intent_kind(context, m.id) == "complaint" and m.id != "other"]
    return [result.progress_topic, *named] if result.progress_topic else named


def _intent_kind(context: ContextTypes.DEFAULT_TYPE, intent: str) -> str | None:
    """What an intent is to the engine's model: a complaint, a service question or an action."""
    info = deps(context).engine.model.info.get(intent)
    return info.kind if info else None


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo joins the draft (or a case being added to); its caption, if any, is read like a message."""
    msg = update.effective_message
    if await tickets.supplement(update, context, photo=msg.photo[-1].file_id, caption=msg.caption):
        return
    caption = await draft.take_photo(update, context)
    if caption:
        await understand(update, context, caption)


MAX_FILE_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram


async def on_voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Elderly residents speak rather than type: a voice message goes under the case's card for staff to hear."""
    msg = update.effective_message
    media = msg.voice or msg.video_note or msg.audio
    seconds = int(media.to_dict().get("duration") or 0)  # the raw seconds (PTB is moving this to a timedelta)
    if seconds > draft.MAX_VOICE_SECONDS:
        await msg.reply_text(texts.VOICE_TOO_LONG)
        return
    item = {"kind": "voice", "file_id": media.file_id, "duration": seconds}
    if not await tickets.supplement(update, context, attachment=item):
        await draft.take_attachment(update, context, item, texts.voice_label(seconds))


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file (a letter, a scan): kept with the case like a voice message."""
    msg = update.effective_message
    doc = msg.document
    if (doc.file_size or 0) > MAX_FILE_BYTES:
        await msg.reply_text(texts.FILE_TOO_BIG)
        return
    item = {"kind": "document", "file_id": doc.file_id, "name": doc.file_name or ""}
    if not await tickets.supplement(update, context, attachment=item):
        await draft.take_attachment(update, context, item, texts.file_label(doc.file_name or "文件"))


__all__ = ["dispatch", "on_document", "on_photo", "on_voice", "understand"]
