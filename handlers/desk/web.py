"""/web: staff open the board. In a private chat, a Mini App button (when the site is https, as Telegram requires)
and a one-time sign-in link for an ordinary browser (10 minutes, one use); in a desk group the link is sent
privately, never to the group, where anyone could use it first. Only people with a staff role (``desk.view``)
get one; the board checks every request again on the server.

"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update, WebAppInfo
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes

from handlers import access, texts
from handlers.deps import deps
from services.people.roles import Action
from services.web import auth

WEB_URL = "linli.web_url"  # bot_data: the web side's public address (set by the bot's wiring when it runs)

async def on_web(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    msg, user = update.effective_message, update.effective_user
    base = context.application.bot_data.get(WEB_URL)
    if not base:
        await msg.reply_text(texts.WEB_OFF)
        return
    if not await access.check(d, user.id, Action.DESK_VIEW, via="/web"):
        await msg.reply_text(texts.WEB_NO_ROLE)
        return
    async with d.db.transaction() as s:
        token = await auth.create_link(s, tg_user_id=user.id, now=d.now())
    login_url = f"{base}/login/{token}"
    https = base.startswith("https://")
    rows = []
    if https:
        if msg.chat.type == "private":  # Telegram allows Mini App buttons only in private chats
            rows.append([InlineKeyboardButton(texts.BTN_WEB_APP, web_app=WebAppInfo(f"{base}/app"))])
        rows.append([InlineKeyboardButton(texts.BTN_WEB_LINK, url=login_url)])
    markup = InlineKeyboardMarkup(rows) if rows else None
    text = texts.web_text(login_url, https=https)
    no_preview = LinkPreviewOptions(is_disabled=True)  # a preview would fetch the link (it would stay unused)
    if msg.chat.type == "private":
        await msg.reply_text(text, reply_markup=markup, link_preview_options=no_preview)
        return
    try:
        await context.bot.send_message(user.id, text, reply_markup=markup, link_preview_options=no_preview)
    except TelegramError:
        await msg.reply_text(texts.WEB_START_FIRST)
        return
    await msg.reply_text(texts.WEB_SENT_PRIVATELY)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("web", on_web))


__all__ = ["WEB_URL", "on_web", "register"]
