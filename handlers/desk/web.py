"""/web: staff open the board. In a private chat, a Mini App button (when the site is https, as Telegram requires)
and a one-time sign-in link for an ordinary browser (10 minutes, one use); in a desk group the link is sent
privately, never to the group, where anyone could use it first. Only people with a staff role (``desk.view``)
get one; the board checks every request again on the server.

Register with ``register(app)`` (one line in ``handlers.router``, next to ``record.register``).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update, WebAppInfo
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes

from handlers import access
from handlers.deps import deps
from services.people.roles import Action
from services.web import auth

WEB_URL = "linli.web_url"  # bot_data: the web side's public address (set by the bot's wiring when it runs)

# the words (to move into handlers.texts.desk with the rest of the desk's catalogue)
WEB_OFF = "网页工作台没有开启。"
WEB_NO_ROLE = "网页工作台只对社区工作人员开放。如需使用，请联系管理员分配角色。"
WEB_SENT_PRIVATELY = "登录链接已私信发给您（10 分钟内有效，只能用一次）。"
WEB_START_FIRST = "请先私聊我发送 /start，我才能把登录链接私信给您。"
BTN_WEB_APP = "打开工作台"
BTN_WEB_LINK = "在浏览器中登录"


def web_text(login_url: str, *, https: bool) -> str:
    lines = ["工作台：红黄绿总览、工单列表、数据与周报，也可以签收、答复、办结。"]
    if https:
        lines.append("点“打开工作台”直接进入；或点“在浏览器中登录”（10 分钟内有效，只能用一次）。")
    else:
        lines.append(f"在浏览器中打开下面的链接登录（10 分钟内有效，只能用一次）：\n{login_url}")
    return "\n".join(lines)


async def on_web(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    msg, user = update.effective_message, update.effective_user
    base = context.application.bot_data.get(WEB_URL)
    if not base:
        await msg.reply_text(WEB_OFF)
        return
    if not await access.check(d, user.id, Action.DESK_VIEW, via="/web"):
        await msg.reply_text(WEB_NO_ROLE)
        return
    async with d.db.transaction() as s:
        token = await auth.create_link(s, tg_user_id=user.id, now=d.now())
    login_url = f"{base}/login/{token}"
    https = base.startswith("https://")
    rows = []
    if https:
        if msg.chat.type == "private":  # Telegram allows Mini App buttons only in private chats
            rows.append([InlineKeyboardButton(BTN_WEB_APP, web_app=WebAppInfo(f"{base}/app"))])
        rows.append([InlineKeyboardButton(BTN_WEB_LINK, url=login_url)])
    markup = InlineKeyboardMarkup(rows) if rows else None
    text = web_text(login_url, https=https)
    no_preview = LinkPreviewOptions(is_disabled=True)  # a preview would fetch the link (it would stay unused)
    if msg.chat.type == "private":
        await msg.reply_text(text, reply_markup=markup, link_preview_options=no_preview)
        return
    try:
        await context.bot.send_message(user.id, text, reply_markup=markup, link_preview_options=no_preview)
    except TelegramError:
        await msg.reply_text(WEB_START_FIRST)
        return
    await msg.reply_text(WEB_SENT_PRIVATELY)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("web", on_web))


__all__ = ["WEB_URL", "on_web", "register"]
