"""The emulator's fault injection, raw updates, media (voice, albums) and webhook delivery, exercised by a
real python-telegram-bot Bot or Application over real HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InputMediaDocument, InputMediaPhoto, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter
from telegram.ext import Application, ApplicationBuilder, BaseHandler, ContextTypes, MessageHandler, filters

from bot.emulator import BotApiEmulator, EmulatorClient, Fault
from bot.emulator.files import tiny_png

TOKEN = "123456:TEST-TOKEN"
RESIDENT = 1001
WORKER = 1002
GROUP = -100123
SECRET = "s3cret_token-A1"


def make_bot(emu: BotApiEmulator) -> Bot:
    return Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url)


def build_app(emu: BotApiEmulator, *handlers: BaseHandler, polling: bool = True) -> Application:
    builder = ApplicationBuilder().token(TOKEN).base_url(emu.base_url).base_file_url(emu.base_file_url)
    if not polling:
        builder = builder.updater(None)
    app = builder.build()
    app.add_handlers(list(handlers))
    return app


@asynccontextmanager
async def polling_app(emu: BotApiEmulator, *handlers: BaseHandler) -> AsyncIterator[Application]:
    """A real Application long-polling the emulator, stopped cleanly on exit."""
    app = build_app(emu, *handlers)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(f"收到：{update.effective_message.text}")


ECHO = MessageHandler(filters.TEXT & ~filters.COMMAND, echo)


# --------------------------------------------------------------------------- fault injection


async def test_fail_answers_telegram_errors_for_the_next_calls_only(
    emulator: BotApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    emulator.user(RESIDENT)
    fault = emulator.fail("sendMessage", 502, times=2)
    async with make_bot(emulator) as bot:
        for _ in range(2):
            with pytest.raises(NetworkError, match="Bad Gateway"):
                await bot.send_message(RESIDENT, "第一次")
        delivered = await bot.send_message(RESIDENT, "第三次")

        emulator.fail("sendMessage", 429, retry_after=7)
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(RESIDENT, "限流")
        emulator.fail("sendPhoto", 403, description="Forbidden: bot was kicked from the group chat")
        with pytest.raises(Forbidden, match="kicked from the group chat"):
            await bot.send_photo(RESIDENT, tiny_png())
        emulator.fail("sendMessage", 500)
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(RESIDENT, "服务器错误")

    assert fault.remaining == 0 and emulator.faults == []
    assert raised.value.retry_after == timedelta(seconds=7)
    assert [m.text for m in emulator.messages_to(RESIDENT)] == ["第三次"]  # a failed call did nothing
    assert delivered.message_id == 1
    assert emulator.stats.calls["sendmessage"] == 5 and emulator.deliveries[RESIDENT] == 1


async def test_drop_loses_the_answer_before_or_after_the_message_is_recorded(emulator: BotApiEmulator) -> None:
    emulator.user(RESIDENT)
    async with make_bot(emulator) as bot:
        await bot.send_message(RESIDENT, "连接已建立")  # the client now reuses a kept-alive connection
        emulator.drop("sendMessage")
        with pytest.raises(NetworkError):
            await bot.send_message(RESIDENT, "丢在路上")
        emulator.drop("sendMessage", after_recording=True)
        with pytest.raises(NetworkError):
            await bot.send_message(RESIDENT, "送达但没收到回答")
        await bot.send_message(RESIDENT, "送达但没收到回答")  # a blind retry: Telegram would show it twice

    texts = [m.text for m in emulator.messages_to(RESIDENT)]
    assert texts == ["连接已建立", "送达但没收到回答", "送达但没收到回答"]
    assert emulator.stats.calls["sendmessage"] == 4


async def test_faults_queue_per_method_and_can_be_cleared(emulator: BotApiEmulator) -> None:
    emulator.user(RESIDENT)
    emulator.fail("sendMessage", 500)
    emulator.drop("SENDMESSAGE")  # method names are case-insensitive, as on Telegram
    emulator.fail("getChat", 502, times=3)
    async with make_bot(emulator) as bot:
        sent = await bot.send_photo(RESIDENT, tiny_png())  # other methods are untouched
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(RESIDENT, "一")
        with pytest.raises(NetworkError):
            await bot.send_message(RESIDENT, "二")
        await bot.send_message(RESIDENT, "三")
        emulator.clear_faults("sendMessage")
        assert [(f.method, f.remaining) for f in emulator.faults] == [("getchat", 3)]
        emulator.clear_faults()
        assert (await bot.get_chat(RESIDENT)).id == RESIDENT

    assert sent.photo and [m.body for m in emulator.messages_to(RESIDENT)] == ["", "三"]
    with pytest.raises(ValueError, match="unknown Bot API method"):
        emulator.fail("sendMesage")
    with pytest.raises(ValueError, match="times"):
        emulator.drop("sendMessage", times=0)
    with pytest.raises(ValueError, match="400-599"):
        emulator.fail("sendMessage", 200)


async def test_polling_bot_recovers_from_failed_and_lost_get_updates(emulator: BotApiEmulator) -> None:
    """The first poll fails with 502; the second takes the update but its answer is lost, so the next poll
    (same offset) gets it again: the bot handles it exactly once."""
    seen: list[str] = []

    async def note(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.message.text)
        await echo(update, context)

    emulator.fail("getUpdates", 502)
    emulator.drop("getUpdates", after_recording=True)
    await emulator.send_text(RESIDENT, "断网也要收到")
    async with polling_app(emulator, MessageHandler(filters.TEXT, note)):
        reply = await emulator.wait_for(RESIDENT, after=0, timeout=10)
        await emulator.wait_for_updates_consumed()

    assert reply.text == "收到：断网也要收到" and seen == ["断网也要收到"]
    assert emulator.faults == [] and emulator.stats.calls["getupdates"] >= 3


async def test_faults_over_the_control_api(emulator: BotApiEmulator) -> None:
    async with EmulatorClient(emulator.url) as client:
        failed = await client.fail("sendMessage", 503, times=2, description="Service Unavailable")
        dropped = await client.drop("editMessageText", after_recording=True)
        assert all(isinstance(f, Fault) for f in emulator.faults)
        pending = [(f.method, f.status, f.remaining, f.after_recording) for f in emulator.faults]
        await client.clear_faults("sendMessage")
        left = [f.method for f in emulator.faults]
        await client.clear_faults()

    assert failed["status"] == 503 and failed["remaining"] == 2 and dropped["status"] is None
    assert pending == [("sendmessage", 503, 2, False), ("editmessagetext", None, 1, True)]
    assert left == ["editmessagetext"] and emulator.faults == []


# --------------------------------------------------------------------------- raw (malformed) updates


async def test_raw_update_is_delivered_verbatim_and_numbering_continues(emulator: BotApiEmulator) -> None:
    malformed = {"update_id": 40, "message": {"message_id": 1, "from": 1.5, "date": "昨天", "chat": None}}
    first = emulator.inject_raw_update(malformed)
    await emulator.send_text(RESIDENT, "正常消息")
    numbered = emulator.inject_raw_update({"edited_message": ["不是对象"]})
    with pytest.raises(ValueError, match="update_id must be an integer"):
        emulator.inject_raw_update({"update_id": "41"})
    with pytest.raises(ValueError, match="JSON object"):
        emulator.inject_raw_update([1, 2])  # type: ignore[arg-type]

    url = f"{emulator.base_url}{TOKEN}/getUpdates"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"timeout": 0}) as response:
            updates = (await response.json())["result"]
        async with http.post(url, json={"offset": first + 1, "timeout": 0}) as response:  # skip it
            after_skip = (await response.json())["result"]

    assert (first, numbered) == (40, 42)
    assert updates[0] == malformed  # exactly as given: no filtering, no repair
    assert [u["update_id"] for u in updates] == [40, 41, 42]
    assert updates[1]["message"]["text"] == "正常消息"
    assert [u["update_id"] for u in after_skip] == [41, 42]
    assert emulator.updates_injected == 42


# --------------------------------------------------------------------------- media


async def test_resident_voice_is_a_realistic_downloadable_voice_note(emulator: BotApiEmulator) -> None:
    heard: list[tuple[str | None, int | None, bytes]] = []

    async def on_voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        voice = update.message.voice
        data = bytes(await (await voice.get_file()).download_as_bytearray())
        heard.append((voice.mime_type, voice.file_size, data))
        await update.message.reply_text("听到了")

    audio = b"OggS" + bytes(range(200))
    async with polling_app(emulator, MessageHandler(filters.VOICE, on_voice)):
        default = await emulator.send_voice(RESIDENT, duration=7)
        await emulator.wait_for(RESIDENT, "听到了", after=0)
        cursor = emulator.cursor()
        custom = await emulator.send_voice(RESIDENT, 2, data=audio)
        await emulator.wait_for(RESIDENT, "听到了", after=cursor)

    voice = default["voice"]
    assert set(voice) == {"file_id", "file_unique_id", "duration", "mime_type", "file_size"}
    assert (voice["duration"], voice["mime_type"]) == (7, "audio/ogg")
    assert emulator.files[voice["file_id"]].kind == "voice"
    assert heard[0][:2] == ("audio/ogg", voice["file_size"]) and heard[0][2].startswith(b"OggS")
    assert custom["voice"]["file_size"] == len(audio) and heard[1][2] == audio


async def test_resident_album_arrives_as_messages_sharing_one_media_group_id(emulator: BotApiEmulator) -> None:
    received: list[Any] = []
    all_three = asyncio.Event()

    async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        received.append(update.message)
        if len(received) == 3:
            all_three.set()

    async with polling_app(emulator, MessageHandler(filters.PHOTO, on_photo)):
        album = await emulator.send_album(RESIDENT, 3, caption="楼道堆物，三张照片")
        await asyncio.wait_for(all_three.wait(), 5)

    groups = {m["media_group_id"] for m in album}
    assert len(album) == 3 and len(groups) == 1 and next(iter(groups)).isdigit()
    assert [m.get("caption") for m in album] == ["楼道堆物，三张照片", None, None]
    assert len({m["photo"][-1]["file_id"] for m in album}) == 3
    assert [m.message_id for m in received] == [m["message_id"] for m in album]
    assert {m.media_group_id for m in received} == groups
    for wrong in (1, 11):
        with pytest.raises(ValueError, match="2-10 photos"):
            await emulator.send_album(RESIDENT, wrong)


async def test_bot_sends_albums_with_telegram_rules(emulator: BotApiEmulator) -> None:
    emulator.user(RESIDENT)
    emulator.group(GROUP, "网格A03工作群")
    resident_photo = (await emulator.send_photo(RESIDENT, caption="现场"))["photo"][-1]["file_id"]
    upload = tiny_png(4, 3)
    async with make_bot(emulator) as bot:
        album = await bot.send_media_group(
            GROUP,
            [
                InputMediaPhoto(resident_photo),
                InputMediaPhoto(upload, caption="<b>工单 LL-1</b> 现场照片", parse_mode=ParseMode.HTML),
            ],
        )
        downloaded = bytes(await (await bot.get_file(album[1].photo[-1].file_id)).download_as_bytearray())
        ten = await bot.send_media_group(RESIDENT, [InputMediaPhoto(resident_photo)] * 10)  # one flood token
        single = await bot.send_media_group(RESIDENT, [InputMediaPhoto(resident_photo)])
        documents = await bot.send_media_group(
            GROUP, [InputMediaDocument(b"a,b\n", filename="一.csv"), InputMediaDocument(b"c,d\n", filename="二.csv")]
        )
        refusals = {}
        for name, media in {
            "eleven": [InputMediaPhoto(resident_photo)] * 11,
            "mixed": [InputMediaPhoto(resident_photo), InputMediaDocument(b"x", filename="x.txt")],
            "unknown": [InputMediaPhoto(resident_photo), InputMediaPhoto("no-such-file")],
        }.items():
            with pytest.raises(BadRequest) as raised:
                await bot.send_media_group(GROUP, media)
            refusals[name] = raised.value.message
    async with aiohttp.ClientSession() as http:  # PTB refuses to send an empty album itself
        payload = {"chat_id": GROUP, "media": []}
        async with http.post(f"{emulator.base_url}{TOKEN}/sendMediaGroup", json=payload) as response:
            empty = await response.json()

    assert len({m.media_group_id for m in album}) == 1 and album[0].media_group_id
    assert album[0].photo[-1].file_id == resident_photo and downloaded == upload
    assert (album[1].photo[-1].width, album[1].photo[-1].height) == (4, 3)
    recorded = emulator.messages_to(GROUP)[:2]
    assert [(m.method, m.photo, m.media_group_id) for m in recorded] == [
        ("sendMediaGroup", resident_photo, album[0].media_group_id),
        ("sendMediaGroup", album[1].photo[-1].file_id, album[0].media_group_id),
    ]
    assert recorded[1].caption == "工单 LL-1 现场照片" and recorded[1].entities[0]["type"] == "bold"
    assert len(ten) == 10 and len({m.media_group_id for m in ten}) == 1
    assert single[0].media_group_id is None and single[0].photo
    assert [d.document.file_name for d in documents] == ["一.csv", "二.csv"]
    assert emulator.message(GROUP, documents[0].message_id).document == documents[0].document.file_id
    assert refusals == {
        "eleven": "Too many messages to send as an album",
        "mixed": "Document can't be mixed with other media types",
        "unknown": "Wrong file identifier/http url specified",
    }
    assert empty == {"ok": False, "error_code": 400, "description": "Bad Request: there are no messages to send"}
    assert emulator.deliveries == {GROUP: 4, RESIDENT: 11}
    assert len(emulator.messages_to(GROUP)) == 4  # refused albums sent nothing


async def test_bot_sends_voice_and_copies_a_residents_voice(emulator: BotApiEmulator) -> None:
    emulator.group(GROUP, "网格A03工作群")
    resident_voice = (await emulator.send_voice(RESIDENT, duration=9))["voice"]
    photo = (await emulator.send_photo(RESIDENT))["photo"][-1]["file_id"]
    audio = b"OggS" + bytes(range(50))
    async with make_bot(emulator) as bot:
        sent = await bot.send_voice(RESIDENT, audio, duration=4, caption="语音回复")
        downloaded = bytes(await (await bot.get_file(sent.voice.file_id)).download_as_bytearray())
        forwarded = await bot.send_voice(GROUP, resident_voice["file_id"], duration=9)
        copied = await bot.copy_message(GROUP, RESIDENT, 1)
        with pytest.raises(BadRequest, match=r"(?i)can't use file of type Photo as Voice"):
            await bot.send_voice(GROUP, photo)

    record = emulator.message(RESIDENT, sent.message_id)
    assert (record.method, record.voice, record.caption) == ("sendVoice", sent.voice.file_id, "语音回复")
    assert (sent.voice.mime_type, sent.voice.file_size, downloaded) == ("audio/ogg", len(audio), audio)
    assert forwarded.voice.file_id == resident_voice["file_id"]
    copy_record = emulator.message(GROUP, copied.message_id)
    assert (copy_record.method, copy_record.voice) == ("copyMessage", resident_voice["file_id"])
    assert copy_record.raw["voice"]["duration"] == 9


# --------------------------------------------------------------------------- webhook


class Receiver:
    """A local webhook endpoint: records every POST, answers `statuses` in turn, then 200. With `hold`,
    the first 200 waits for `release`, so a test can look at the emulator while a delivery is in flight."""

    def __init__(self, statuses: list[int] | None = None, on_update: Any = None, *, hold: bool = False) -> None:
        self.statuses = list(statuses or [])
        self.on_update = on_update
        self.posts: asyncio.Queue[tuple[dict[str, str], Any]] = asyncio.Queue()
        self.release = asyncio.Event()
        if not hold:
            self.release.set()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        await self.posts.put((dict(request.headers), body))
        if self.statuses:
            return web.Response(status=self.statuses.pop(0))
        await self.release.wait()
        if self.on_update is not None:
            await self.on_update(body)
        return web.Response(text="ok")

    async def next_post(self) -> tuple[dict[str, str], Any]:
        return await asyncio.wait_for(self.posts.get(), 5)


@asynccontextmanager
async def receiving(receiver: Receiver) -> AsyncIterator[Receiver]:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    receiver.url = f"http://{host}:{port}/hook"
    try:
        yield receiver
    finally:
        await runner.cleanup()


@pytest.fixture
async def fast_emulator() -> AsyncIterator[BotApiEmulator]:
    """Retries a failed webhook delivery after 10 ms (doubling) instead of Telegram-like seconds."""
    async with BotApiEmulator(webhook_retry_delay=0.01) as emu:
        yield emu


async def test_webhook_posts_updates_with_secret_and_retries_failures(fast_emulator: BotApiEmulator) -> None:
    emu = fast_emulator
    async with receiving(Receiver(statuses=[500, 502], hold=True)) as receiver, make_bot(emu) as bot:
        await emu.send_text(RESIDENT, "设置之前的消息")  # pending updates go to the webhook too
        assert await bot.set_webhook(receiver.url, secret_token=SECRET, allowed_updates=["message"])
        with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
            await bot.get_updates(timeout=0)
        attempts = [await receiver.next_post() for _ in range(3)]
        info_during = await bot.get_webhook_info()  # the third attempt is held by the receiver
        receiver.release.set()
        await emu.wait_for_updates_consumed()
        await emu.send_text(RESIDENT, "第二条")
        second = await receiver.next_post()
        await emu.wait_for_updates_consumed()
        info = await bot.get_webhook_info()
        assert await bot.delete_webhook()
        await emu.send_text(RESIDENT, "回到轮询")
        polled = await bot.get_updates(timeout=0)
        after_delete = await bot.get_webhook_info()

    assert [h.get("X-Telegram-Bot-Api-Secret-Token") for h, _ in attempts] == [SECRET] * 3
    assert all(h["Content-Type"] == "application/json" for h, _ in attempts)
    assert len({json.dumps(body) for _, body in attempts}) == 1  # the same update, retried
    assert attempts[0][1]["message"]["text"] == "设置之前的消息"
    assert second[1]["message"]["text"] == "第二条"
    assert second[1]["update_id"] == attempts[0][1]["update_id"] + 1
    assert info_during.pending_update_count == 1 and info_during.url == receiver.url
    assert info_during.last_error_message == "Wrong response from the webhook: 502 Bad Gateway"
    assert info.pending_update_count == 0 and info.allowed_updates == ("message",)
    assert [u.message.text for u in polled] == ["回到轮询"]
    assert after_delete.url == "" and after_delete.last_error_message is None


async def test_bot_behind_a_webhook_answers_users(fast_emulator: BotApiEmulator) -> None:
    emu = fast_emulator
    app = build_app(emu, ECHO, polling=False)

    async def feed(body: Any) -> None:
        await app.process_update(Update.de_json(body, app.bot))

    async with app, receiving(Receiver(on_update=feed)) as receiver:
        await app.bot.set_webhook(receiver.url, secret_token=SECRET)
        cursor = emu.cursor()
        await emu.send_text(RESIDENT, "走 webhook")
        reply = await emu.wait_for(RESIDENT, after=cursor)
        info = await app.bot.get_webhook_info()
        await app.bot.delete_webhook()

    assert reply.text == "收到：走 webhook"
    assert info.url == receiver.url and info.pending_update_count == 0


async def test_set_webhook_ends_a_parked_poll_and_checks_its_arguments(emulator: BotApiEmulator) -> None:
    async with make_bot(emulator) as bot, make_bot(emulator) as other:
        parked = asyncio.create_task(bot.get_updates(timeout=5))
        await emulator.wait_for_poll()
        with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
            await other.set_webhook("http://127.0.0.1:9/hook", secret_token="有空格 的密钥")
        with pytest.raises(BadRequest, match=r"(?i)secret token is too long"):
            await other.set_webhook("http://127.0.0.1:9/hook", secret_token="a" * 257)
        with pytest.raises(BadRequest, match=r"(?i)invalid webhook URL specified"):
            await other.set_webhook("ftp://example.org/hook")
        await other.set_webhook("http://127.0.0.1:9/hook", drop_pending_updates=True)
        with pytest.raises(Conflict, match="terminated by setWebhook request"):
            await asyncio.wait_for(parked, 2)
        assert await other.set_webhook("")  # an empty URL removes the webhook, as deleteWebhook does
        assert (await other.get_webhook_info()).url == ""
        assert await bot.get_updates(timeout=0) == ()


async def test_webhook_connections_post_several_updates_at_once(fast_emulator: BotApiEmulator) -> None:
    """``webhook_connections = 3``: three updates on their way at once (the receiver holds them), each once."""
    emu = fast_emulator
    emu.webhook_connections = 3
    async with receiving(Receiver(hold=True)) as receiver, make_bot(emu) as bot:
        for n in range(5):
            await emu.send_text(RESIDENT, f"消息{n}")
        assert await bot.set_webhook(receiver.url, secret_token=SECRET)
        held = [await receiver.next_post() for _ in range(3)]
        await asyncio.sleep(0.05)
        assert receiver.posts.empty()  # no fourth while three are held
        receiver.release.set()
        rest = [await receiver.next_post() for _ in range(2)]
        await emu.wait_for_updates_consumed()
        assert await bot.delete_webhook()
    texts_posted = sorted(body["message"]["text"] for _, body in [*held, *rest])
    assert texts_posted == [f"消息{n}" for n in range(5)]
