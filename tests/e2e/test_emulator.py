"""The Bot API emulator, exercised by a real python-telegram-bot Application over real HTTP."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.emulator import BotApiEmulator, EmulatorClient, Limits, RateLimiter, run_console

TOKEN = "123456:TEST-TOKEN"
RESIDENT = 1001
WORKER = 1002
GROUP = -100123

MENU = InlineKeyboardMarkup(
    [[InlineKeyboardButton("确认", callback_data="ok"), InlineKeyboardButton("取消", callback_data="cancel")]]
)


def make_bot(emu: BotApiEmulator) -> Bot:
    return Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url)


@asynccontextmanager
async def running_app(emu: BotApiEmulator, *handlers: BaseHandler) -> AsyncIterator[Application]:
    """A real Application long-polling the emulator, stopped cleanly on exit."""
    app = ApplicationBuilder().token(TOKEN).base_url(emu.base_url).base_file_url(emu.base_file_url).build()
    app.add_handlers(list(handlers))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(update.effective_message.text, reply_markup=MENU)


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer("好的")
    await query.edit_message_text(f"已选择：{query.data}")


ECHO = MessageHandler(filters.TEXT & ~filters.COMMAND, echo)
PRESS = CallbackQueryHandler(on_press)


# --------------------------------------------------------------------------- round trips


async def test_text_echo_round_trip_and_no_update_delivered_twice(emulator: BotApiEmulator) -> None:
    seen: list[str] = []

    async def record_and_echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.message.text)
        await echo(update, context)

    emulator.user(RESIDENT, "王阿姨")
    async with running_app(emulator, MessageHandler(filters.TEXT, record_and_echo)):
        cursor = emulator.cursor()
        await emulator.send_text(RESIDENT, "楼上天天装修，吵死了")
        reply = await emulator.wait_for(RESIDENT, after=cursor)
        for text in ("第二条", "第三条"):
            await emulator.send_text(RESIDENT, text)
        third = await emulator.wait_for(RESIDENT, "第三条", after=reply)
        await emulator.wait_for_updates_consumed()

    assert reply.text == "楼上天天装修，吵死了"
    assert reply.method == "sendMessage"
    assert [b.text for b in reply.buttons] == ["确认", "取消"]
    assert [m.text for m in emulator.messages_to(RESIDENT)] == ["楼上天天装修，吵死了", "第二条", "第三条"]
    assert third.message_id > reply.message_id
    assert seen == ["楼上天天装修，吵死了", "第二条", "第三条"]


async def test_command_entity_and_args_in_private_and_group(emulator: BotApiEmulator) -> None:
    calls: list[tuple[int, list[str]]] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        calls.append((update.effective_chat.id, list(context.args or [])))
        await update.effective_message.reply_text("欢迎")

    emulator.group(GROUP, "网格A03工作群")
    async with running_app(emulator, CommandHandler("start", start)):
        message = await emulator.send_text(RESIDENT, "/start g-A03")
        await emulator.wait_for(RESIDENT, "欢迎")
        await emulator.send_text(WORKER, "/start@linli_bot 网格", chat_id=GROUP)
        await emulator.wait_for(GROUP, "欢迎")

    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert calls == [(RESIDENT, ["g-A03"]), (GROUP, ["网格"])]


async def test_inline_keyboard_press_edits_message_and_answers(emulator: BotApiEmulator) -> None:
    async with running_app(emulator, ECHO, PRESS):
        await emulator.send_text(RESIDENT, "报修")
        menu = await emulator.wait_for(RESIDENT)
        cursor = emulator.cursor()
        query_id = await emulator.press(RESIDENT, menu.message_id, "ok")
        edited = await emulator.wait_for_edit(RESIDENT, menu.message_id, after=cursor)
        answer = await emulator.wait_for_answer(query_id)

    assert edited.text == "已选择：ok"
    assert edited.edited and edited.history[0].text == "报修"
    assert edited.buttons == []  # editMessageText without reply_markup drops the keyboard, as on Telegram
    assert (answer.text, answer.show_alert) == ("好的", False)
    with pytest.raises(ValueError, match="no button"):
        await emulator.press(RESIDENT, menu.message_id, "ok")  # the keyboard is gone


async def test_reply_to_bot_message_reaches_bot_in_group_under_privacy_mode(emulator: BotApiEmulator) -> None:
    replies: list[int | None] = []

    async def note(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        replied = update.message.reply_to_message
        replies.append(replied.message_id if replied else None)
        await update.message.reply_text("已记录")

    emulator.group(GROUP, "网格A03工作群")
    async with make_bot(emulator) as bot:
        ticket = await bot.send_message(GROUP, "新工单 #12")
    async with running_app(emulator, MessageHandler(filters.TEXT, note)):
        await emulator.send_text(WORKER, "闲聊不该被机器人看到", chat_id=GROUP)
        await emulator.reply(WORKER, ticket.message_id, "已上门处理", chat_id=GROUP)
        await emulator.wait_for(GROUP, "已记录")

    assert replies == [ticket.message_id]


# --------------------------------------------------------------------------- files


async def test_photo_upload_and_file_download(emulator: BotApiEmulator) -> None:
    downloads: list[bytes] = []

    async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        file = await update.message.photo[-1].get_file()
        data = bytes(await file.download_as_bytearray())
        downloads.append(data)
        await update.message.reply_photo(photo=data[::-1], caption=f"收到 {len(data)} 字节")

    async with running_app(emulator, MessageHandler(filters.PHOTO, on_photo)):
        injected = await emulator.send_photo(RESIDENT, caption="漏水照片")
        sent = await emulator.wait_for(RESIDENT)

    assert injected["caption"] == "漏水照片"
    assert downloads and downloads[0].startswith(b"\x89PNG")
    assert sent.method == "sendPhoto" and sent.photo and sent.caption == f"收到 {len(downloads[0])} 字节"
    async with make_bot(emulator) as bot:
        file = await bot.get_file(sent.photo)
        assert bytes(await file.download_as_bytearray()) == downloads[0][::-1]
        resent = await bot.send_photo(RESIDENT, sent.photo)  # by file_id, no upload
        assert resent.photo[-1].file_id == sent.photo
        with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
            await bot.send_photo(RESIDENT, "no-such-file-id")


async def test_documents_edits_forward_copy_delete_and_commands(emulator: BotApiEmulator) -> None:
    emulator.user(RESIDENT)
    emulator.group(GROUP, "网格A03工作群")
    user_message = await emulator.send_text(RESIDENT, "原话")
    async with make_bot(emulator) as bot:
        await bot.set_my_commands([("start", "开始"), ("help", "帮助")])
        assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
        await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()

        doc = await bot.send_document(GROUP, b"a,b\n1,2\n", filename="工单.csv", caption="导出")
        file = await bot.get_file(doc.document.file_id)
        assert bytes(await file.download_as_bytearray()) == b"a,b\n1,2\n"
        await bot.edit_message_caption(GROUP, doc.message_id, caption="导出（已更新）")
        marked = await bot.edit_message_reply_markup(GROUP, doc.message_id, reply_markup=MENU)

        forwarded = await bot.forward_message(GROUP, RESIDENT, user_message["message_id"])
        copied = await bot.copy_message(RESIDENT, GROUP, doc.message_id)
        assert await bot.send_chat_action(RESIDENT, ChatAction.TYPING)
        chat = await bot.get_chat(GROUP)
        assert await bot.delete_message(GROUP, forwarded.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
            await bot.delete_message(GROUP, forwarded.message_id)

    assert doc.document.file_name == "工单.csv" and doc.caption == "导出"
    assert marked.reply_markup == MENU and marked.caption == "导出（已更新）"
    assert forwarded.text == "原话" and forwarded.forward_origin.sender_user.id == RESIDENT
    assert (chat.title, chat.type) == ("网格A03工作群", "supergroup")
    record = emulator.message(GROUP, doc.message_id)
    assert [v.method for v in record.history] == [
        "sendDocument",
        "editMessageCaption",
        "editMessageReplyMarkup",
    ]
    copy_record = emulator.message(RESIDENT, copied.message_id)
    assert (copy_record.method, copy_record.document) == ("copyMessage", doc.document.file_id)
    assert emulator.message(GROUP, forwarded.message_id).deleted
    assert emulator.deliveries == {GROUP: 2, RESIDENT: 1}


# --------------------------------------------------------------------------- errors and limits


async def test_blocked_user_surfaces_as_forbidden_in_the_bot(emulator: BotApiEmulator) -> None:
    outcomes: list[str] = []

    async def notify(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await context.bot.send_message(int(context.args[0]), "您的工单已受理")
        except Forbidden as error:
            outcomes.append(error.message)
            await update.message.reply_text("对方已屏蔽机器人")

    emulator.user(WORKER, "李师傅")
    emulator.block(WORKER)
    async with running_app(emulator, CommandHandler("notify", notify)):
        await emulator.send_text(RESIDENT, f"/notify {WORKER}")
        await emulator.wait_for(RESIDENT, "对方已屏蔽机器人")

    assert outcomes == ["Forbidden: bot was blocked by the user"]
    assert emulator.stats.forbidden[WORKER] == 1 and emulator.deliveries[WORKER] == 0
    emulator.unblock(WORKER)
    async with make_bot(emulator) as bot:
        await bot.send_message(WORKER, "恢复了")
    assert emulator.deliveries[WORKER] == 1


async def test_per_chat_flood_limit_answers_429_with_retry_after(
    emulator: BotApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 22's forward-compatible RetryAfter.retry_after
    emulator.user(RESIDENT)
    emulator.user(WORKER)
    async with make_bot(emulator) as bot:
        with pytest.raises(RetryAfter) as raised:
            for n in range(20):
                await bot.send_message(RESIDENT, f"第{n}条")
        await bot.send_message(WORKER, "别的聊天不受影响")
        await bot.edit_message_text("编辑不计入限额", chat_id=RESIDENT, message_id=1)

    assert raised.value.retry_after == timedelta(seconds=1)
    assert emulator.deliveries[RESIDENT] == Limits().chat_burst
    assert emulator.stats.rate_limited[RESIDENT] == 1 and emulator.stats.too_many_requests == 1


def test_rate_limiter_buckets_with_a_fake_clock() -> None:
    now = [0.0]
    limiter = RateLimiter(Limits(), clock=lambda: now[0])
    assert all(limiter.acquire(GROUP, is_group=True) is None for _ in range(5))
    assert limiter.acquire(GROUP, is_group=True) == 1  # per-chat burst of 5 used up
    now[0] += 60  # per-chat refilled, but the group bucket (20/min) keeps counting
    sent = sum(limiter.acquire(GROUP, is_group=True) is None for _ in range(30))
    assert sent == 5
    now[0] += 1000
    sent = 0
    for _ in range(100):  # one message a second: the per-chat limit never bites, the group one does
        now[0] += 1
        sent += limiter.acquire(GROUP, is_group=True) is None
    assert 20 + 30 <= sent <= 20 + 34  # burst of 20, then 20 per minute

    fast = RateLimiter(Limits().scaled(10), clock=lambda: now[0])
    assert sum(fast.acquire(n) is None for n in range(400)) == 300  # global: 30/s x 10
    off = RateLimiter(Limits.off(), clock=lambda: now[0])
    assert all(off.acquire(RESIDENT) is None for _ in range(1000))


async def test_bad_requests_use_telegram_descriptions(emulator: BotApiEmulator) -> None:
    emulator.user(RESIDENT)
    async with make_bot(emulator) as bot:
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(424242, "谁")
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(RESIDENT, "  ")
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(RESIDENT, "长" * 4097)
        sent = await bot.send_message(RESIDENT, "<b>已受理</b> &lt;A03&gt;", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text(
                "<b>已受理</b> &lt;A03&gt;", RESIDENT, sent.message_id, parse_mode="HTML"
            )
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", RESIDENT, 999)
        with pytest.raises(BadRequest, match=r"(?i)unsupported start tag \"br\""):
            await bot.send_message(RESIDENT, "1 <楼> 2 <br>", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
            await bot.send_message(RESIDENT, "已受理.", parse_mode=ParseMode.MARKDOWN_V2)
        md = await bot.send_message(RESIDENT, r"*加粗* 已受理\.", parse_mode=ParseMode.MARKDOWN_V2)
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            markup = InlineKeyboardMarkup([[InlineKeyboardButton("太长", callback_data="x" * 65)]])
            await bot.send_message(RESIDENT, "按钮", reply_markup=markup)

    assert sent.text == "已受理 <A03>" and sent.entities[0].type == "bold" and sent.entities[0].length == 3
    assert md.text == "加粗 已受理." and md.entities[0].type == "bold"


async def test_unknown_method_and_wrong_token_over_raw_http(emulator: BotApiEmulator) -> None:
    guarded = BotApiEmulator(token=TOKEN)
    await guarded.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{emulator.base_url}{TOKEN}/noSuchMethod") as response:
                assert response.status == 404
                assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
            async with http.get(f"{emulator.base_url}{TOKEN}/GETME") as response:
                body = await response.json()
                assert body["ok"] and body["result"]["username"] == "linli_bot"
            async with http.get(f"{guarded.base_url}654321:WRONG/getMe") as response:
                assert response.status == 401
            emulator.user(RESIDENT)
            keyboard = {"inline_keyboard": [[{"text": "好", "callback_data": "y"}]]}
            payload = {"chat_id": RESIDENT, "text": "JSON 正文", "reply_markup": keyboard}
            async with http.post(f"{emulator.base_url}{TOKEN}/sendmessage", json=payload) as response:
                body = await response.json()
                assert body["result"]["reply_markup"] == keyboard
                assert body["result"]["from"]["is_bot"] and body["result"]["chat"]["type"] == "private"
    finally:
        await guarded.stop()


# --------------------------------------------------------------------------- getUpdates semantics


async def test_get_updates_offsets_long_poll_and_conflict(emulator: BotApiEmulator) -> None:
    for text in ("一", "二", "三"):
        await emulator.send_text(RESIDENT, text)
    async with make_bot(emulator) as bot:
        first = await bot.get_updates(timeout=0)
        assert [u.message.text for u in first] == ["一", "二", "三"]
        assert [u.update_id for u in await bot.get_updates(timeout=0)] == [u.update_id for u in first]
        assert await bot.get_updates(offset=first[-1].update_id + 1, timeout=0) == ()

        poll = asyncio.create_task(bot.get_updates(offset=first[-1].update_id + 1, timeout=5))
        await emulator.wait_for_poll()  # parked before the update exists: it must be woken by it
        await emulator.send_text(RESIDENT, "四")
        fourth = await asyncio.wait_for(poll, 2)
        assert [u.message.text for u in fourth] == ["四"]

        await emulator.send_text(RESIDENT, "五")
        last = await bot.get_updates(offset=-1, timeout=0)  # keeps only the newest, like Telegram
        assert [u.message.text for u in last] == ["五"]
        assert emulator.pending_updates == 1

        older = asyncio.create_task(bot.get_updates(offset=last[0].update_id + 1, timeout=5))
        await emulator.wait_for_poll()
        async with make_bot(emulator) as second_instance:
            await second_instance.get_updates(offset=last[0].update_id + 1, timeout=0)
        with pytest.raises(Conflict):
            await older


# --------------------------------------------------------------------------- control API and console


async def test_control_api_client_drives_the_bot(emulator: BotApiEmulator) -> None:
    async with running_app(emulator, ECHO, PRESS), EmulatorClient(emulator.url) as client:
        await client.user(RESIDENT, "王阿姨")
        cursor = await client.cursor()
        await client.send_text(RESIDENT, "你好")
        menu = await client.wait_for(RESIDENT, after=cursor)
        query_id = await client.press(RESIDENT, menu.message_id, "cancel")
        edited = await client.wait_for_edit(RESIDENT, menu.message_id, after=menu.seq)
        answers = await client.callback_answers()
        listed = await client.sent(RESIDENT)
        stats = await client.stats()
        with pytest.raises(TimeoutError):
            await client.wait_for(RESIDENT, timeout=0.05)

    assert menu.text == "你好" and [b.callback_data for b in menu.buttons] == ["ok", "cancel"]
    assert edited.text == "已选择：cancel"
    assert [a.callback_query_id for a in answers] == [query_id]
    assert [m.message_id for m in listed] == [menu.message_id]
    assert stats["delivered"] == {str(RESIDENT): 1}


async def test_console_with_piped_input(emulator: BotApiEmulator) -> None:
    stdin = io.StringIO("你好\n#2\n/as 1002 李师傅\n/start\n/quit\n没读到这里\n")
    stdout = io.StringIO()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(f"欢迎，{update.effective_user.first_name}")

    async with running_app(emulator, ECHO, PRESS, CommandHandler("start", start)):
        await asyncio.wait_for(run_console(emulator, stdin=stdin, stdout=stdout, settle=0.05), 10)

    out = stdout.getvalue()
    assert "居民> 你好" in out
    assert "邻里> 你好" in out
    assert "[1] 确认 [2] 取消" in out
    assert "邻里 (提示)> 好的" in out
    assert "邻里 (已编辑)> 已选择：cancel" in out
    assert "欢迎，李师傅" in out
    assert "没读到这里" not in out
    assert out.index("邻里> 你好") < out.index("已选择：cancel") < out.index("欢迎，李师傅")
