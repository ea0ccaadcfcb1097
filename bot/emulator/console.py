"""A terminal chat with the bot through the emulator, so a person can try it without Telegram.

Typed lines go to the bot as the current persona; the bot's messages are printed as `邻里> ...` with
inline buttons numbered `[1] 确认 [2] 取消` (type `#2` to press one). Works with piped stdin too, which
is how it is tested: after each line it waits for the bot to finish answering before reading on.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TextIO

from bot.emulator.records import Event, SentMessage
from bot.emulator.server import BotApiEmulator

BOT = "邻里"
HELP = """\
控制台命令（其余以 / 开头的内容会作为命令发给机器人）：
  /as <用户id> [名字]   切换身份（负数 id 表示进入该群聊）
  /in <群id> [群名]     以当前身份进入群聊；/in 不带参数回到私聊
  #<n>                  按下最近一条消息的第 n 个按钮
  /reply <文字>         回复机器人在当前聊天的最后一条消息（机器人请您“回复本消息”时，直接输入也会作为回复）
  /photo [说明]  /sticker  /voice  /doc [文件名]  /loc <纬度> <经度>  /contact <电话>
  /block  /unblock      当前用户屏蔽/解除屏蔽机器人
  /clock [+1h|+30m|+2d] 看看或拨快演示时钟（提醒、升级、回访评价会随之发生）
  /?                    显示本帮助
  /quit                 退出"""


@dataclass(slots=True)
class Persona:
    user_id: int
    name: str
    chat_id: int

    def describe(self, emu: BotApiEmulator) -> str:
        if self.chat_id == self.user_id:
            return f"{self.name}({self.user_id}) 私聊"
        title = emu.chats[self.chat_id].get("title", self.chat_id)
        return f"{self.name}({self.user_id}) 在群「{title}」({self.chat_id})"


def _asks_reply(message: SentMessage) -> bool:
    return bool((message.reply_markup or {}).get("force_reply"))


def _start_reader(stdin: TextIO) -> asyncio.Queue[str | None]:
    """Lines from stdin via a daemon thread: never blocks the loop, and never blocks interpreter exit
    the way a pending asyncio.to_thread(readline) on a terminal would. None marks EOF."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def put(item: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop may already be closed at exit
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def pump() -> None:
        with contextlib.suppress(ValueError, OSError):  # stream closed under us
            for line in iter(stdin.readline, ""):
                put(line)
        put(None)

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    return queue


class Console:
    """One chat session; `settle` is how long the bot must stay quiet before the next line is handled,
    `reply_wait` how long to wait for the bot's first reaction to a line."""

    def __init__(
        self,
        emu: BotApiEmulator,
        stdin: TextIO,
        stdout: TextIO,
        default_user: tuple[int, str],
        *,
        settle: float = 0.2,
        reply_wait: float = 2.0,
        commands: Mapping[str, Callable[[str], Awaitable[str]]] | None = None,
        idle: Callable[[], Awaitable[None]] | None = None,
        names: Callable[[int], Awaitable[str | None]] | None = None,
    ) -> None:
        self.emu = emu
        self.names = names  # the caller's: the name the bot already knows a user by (its database)
        self.commands = dict(commands or {})
        self.idle = idle  # the bot's own "nothing left to send", when it can tell
        self.stdin = stdin
        self.stdout = stdout
        self.settle = settle
        self.reply_wait = reply_wait
        user_id, name = default_user
        emu.user(user_id, name)
        self.persona = Persona(user_id, name, user_id)
        self.printed = emu.cursor()
        self.echo_input = not (hasattr(stdin, "isatty") and stdin.isatty())
        self.answered: set[tuple[int, int]] = set()  # ForceReply prompts a typed line already answered

    # ----------------------------------------------------------------- output

    def write(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def _chat_label(self, chat_id: int | None) -> str:
        chat = self.emu.chats.get(chat_id or 0, {})
        return str(chat.get("title") or chat.get("first_name") or chat_id)

    def _render_message(self, message: SentMessage, tag: str = "") -> None:
        here = message.chat_id == self.persona.chat_id
        who = (
            f"{BOT}{tag}" if here else f"{BOT}{tag} → {self._chat_label(message.chat_id)}[{message.chat_id}]"
        )
        body = message.body
        if message.photo:
            body = f"[图片] {body}".rstrip()
        elif message.document:
            body = f"[文件] {body}".rstrip()
        lines = body.split("\n")
        self.write(f"{who}> {lines[0]}")
        indent = " " * 4
        for line in lines[1:]:
            self.write(f"{indent}{line}")
        if message.buttons:
            self.write(indent + " ".join(f"[{b.index}] {b.text}" for b in message.buttons))
        if message.keyboard:
            self.write(indent + "⌨ " + " | ".join(message.keyboard))
        if _asks_reply(message):
            hint = (message.reply_markup or {}).get("input_field_placeholder")
            self.write(indent + "↩ 直接输入即回复本条" + (f"（{hint}）" if hint else ""))

    def _render(self, event: Event) -> None:
        if event.kind == "send" and event.message:
            self._render_message(event.message)
        elif event.kind == "edit" and event.message:
            self._render_message(event.message, " (已编辑)")
        elif event.kind == "delete" and event.message:
            self.write(f"{BOT} (撤回了一条消息: {event.message.body[:20]})")
        elif event.kind == "answer" and event.answer and event.answer.text:
            style = "弹窗" if event.answer.show_alert else "提示"
            self.write(f"{BOT} ({style})> {event.answer.text}")

    def flush_events(self) -> None:
        for event in self.emu.events_after(self.printed):
            self._render(event)
            self.printed = event.seq

    async def print_forever(self) -> None:
        """Print bot activity as it happens (also what the bot sends on its own, e.g. reminders)."""
        while True:
            waiter = self.emu.activity()  # taken before flushing, so nothing slips between the two
            self.flush_events()
            await waiter

    # ----------------------------------------------------------------- pacing

    async def _activity_within(self, seconds: float) -> bool:
        try:
            async with asyncio.timeout(seconds):
                await self.emu.activity()
        except TimeoutError:
            return False
        return True

    async def settle_after(self, mark: int) -> None:
        """Wait for the bot's reaction to input made at cursor `mark`, then for it to go quiet.

        The Bot API has no "done handling" signal, so quiet time is the only evidence available;
        this keeps piped transcripts in order and lets `#n` refer to the buttons just sent.
        """
        with contextlib.suppress(TimeoutError):
            await self.emu.wait_for_updates_consumed(timeout=self.reply_wait)
        if self.emu.cursor() == mark and not await self._activity_within(self.reply_wait):
            return
        while await self._activity_within(self.settle):
            pass

    # ----------------------------------------------------------------- input

    def _latest_buttons(self) -> SentMessage | None:
        messages = reversed(self.emu.messages_to(self.persona.chat_id))
        return next((m for m in messages if m.buttons and not m.deleted), None)

    async def _press(self, number: str) -> None:
        message = self._latest_buttons()
        if message is None:
            self.write("（当前聊天没有带按钮的消息）")
            return
        button = next((b for b in message.buttons if str(b.index) == number), None)
        if button is None:
            self.write(f"（没有第 {number} 个按钮）")
        elif button.callback_data is None:
            self.write(f"（链接按钮：{button.url}）")
        else:
            await self.emu.press(
                self.persona.user_id, message.message_id, button.callback_data, self.persona.chat_id
            )

    async def _known_name(self, user_id: int) -> str | None:
        """A user this emulator has not met yet is named as the bot knows them (an earlier run's, the community
        file's grid worker), not 用户<id>: the bot would take that for their new name and keep it."""
        if user_id in self.emu.users or self.names is None:
            return None
        return await self.names(user_id)

    async def _switch(self, arguments: list[str], *, to_group: bool) -> None:
        if not arguments:
            if to_group:
                self.persona.chat_id = self.persona.user_id
            else:
                self.write("用法：/as <用户id> [名字]")
                return
        else:
            try:
                target = int(arguments[0])
            except ValueError:
                self.write(f"（不是有效的 id：{arguments[0]}）")
                return
            name = " ".join(arguments[1:]) or None
            if target < 0:
                self.emu.group(target, name)
                self.persona.chat_id = target
            elif to_group:
                self.write("（群聊 id 是负数）")
                return
            else:
                user = self.emu.user(target, name or await self._known_name(target))
                self.persona = Persona(target, user["first_name"], target)
        self.write(f"—— 现在是 {self.persona.describe(self.emu)} ——")

    def _prompt(self) -> SentMessage | None:
        """The bot's newest message here when it asks to be replied to (ForceReply): a Telegram app opens the reply
        to it by itself, so a line typed next answers it, as it would on a phone."""
        last = next((m for m in reversed(self.emu.messages_to(self.persona.chat_id)) if not m.deleted), None)
        if last is None or not _asks_reply(last) or (last.chat_id, last.message_id) in self.answered:
            return None
        return last

    async def _reply(self, text: str) -> None:
        last = next((m for m in reversed(self.emu.messages_to(self.persona.chat_id)) if not m.deleted), None)
        if last is None:
            self.write("（当前聊天还没有机器人的消息可回复）")
            return
        await self.emu.reply(self.persona.user_id, last.message_id, text, self.persona.chat_id)

    async def _media(self, command: str, rest: str) -> bool:
        """Meta-commands that send something other than text. False if `command` is not one."""
        p, args = self.persona, rest.split()
        match command:
            case "/photo":
                await self.emu.send_photo(p.user_id, rest or None, p.chat_id)
            case "/sticker":
                await self.emu.send_sticker(p.user_id, chat_id=p.chat_id)
            case "/voice":
                await self.emu.send_voice(p.user_id, chat_id=p.chat_id)
            case "/doc":
                await self.emu.send_document(p.user_id, rest or "文件.pdf", p.chat_id)
            case "/contact" if args:
                await self.emu.send_contact(p.user_id, args[0], p.chat_id)
            case "/loc" if len(args) == 2:
                await self.emu.send_location(p.user_id, float(args[0]), float(args[1]), p.chat_id)
            case _:
                return False
        return True

    async def handle(self, line: str) -> bool:
        """Act on one input line; False means quit."""
        command, _, rest = line.partition(" ")
        rest = rest.strip()
        p = self.persona
        if command in ("/quit", "/exit"):
            return False
        if command == "/?":
            self.write(HELP)
        elif command in ("/as", "/in"):
            await self._switch(rest.split(), to_group=command == "/in")
        elif command == "/block":
            self.emu.block(p.user_id)
        elif command == "/unblock":
            self.emu.unblock(p.user_id)
        elif command == "/reply" and rest:
            await self._reply(rest)
        elif command in self.commands:  # the caller's own (the demo clock)
            self.write(await self.commands[command](rest))
        elif line.startswith("#") and line[1:].strip().isdigit():
            await self._press(line[1:].strip())
        elif await self._media(command, rest):
            pass
        elif not line.startswith("/") and (prompt := self._prompt()) is not None:
            self.answered.add((prompt.chat_id, prompt.message_id))  # the app closes the reply once it is sent
            await self.emu.reply(p.user_id, prompt.message_id, line, p.chat_id)
        else:
            await self.emu.send_text(p.user_id, line, p.chat_id)
        return True

    async def run(self) -> None:
        if self.names is not None and (known := await self.names(self.persona.user_id)):  # as the bot knows them
            self.emu.user(self.persona.user_id, known)
            self.persona.name = known
        self.write(f"邻里 控制台 —— 你是 {self.persona.describe(self.emu)}。输入 /? 查看帮助，/quit 退出。")
        lines = _start_reader(self.stdin)
        printer = asyncio.create_task(self.print_forever())
        try:
            while (raw := await lines.get()) is not None:
                line = raw.strip()
                if not line:
                    continue
                if self.echo_input:
                    self.write(f"{self.persona.name}> {line}")
                mark, injected = self.emu.cursor(), self.emu.updates_injected
                try:
                    if not await self.handle(line):
                        break
                except ValueError as error:  # e.g. an unknown chat or a stale button
                    self.write(f"（{error}）")
                    continue
                if self.emu.updates_injected != injected or line.partition(" ")[0] in self.commands:
                    await self.settle_after(mark)  # only then is there anything to wait for
                    if self.idle is not None:
                        await self.idle()
                        await self.settle_after(self.emu.cursor())
        finally:
            printer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await printer
            self.flush_events()


async def run_console(
    emu: BotApiEmulator,
    *,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    default_user: tuple[int, str] = (1001, "居民"),
    settle: float = 0.2,
    reply_wait: float = 2.0,
    commands: Mapping[str, Callable[[str], Awaitable[str]]] | None = None,
    idle: Callable[[], Awaitable[None]] | None = None,
    names: Callable[[int], Awaitable[str | None]] | None = None,
) -> None:
    """Chat with the bot behind `emu` until /quit or end of input; ``commands`` adds meta-commands of the
    caller's (``/clock`` from bot.console), each answering with a line to print; ``idle`` waits until the bot
    has sent all it owes, so a transcript shows a line's consequences before the next line; ``names`` gives the
    name the bot knows a user by, for ``/as <id>`` without one."""
    await Console(emu, stdin, stdout, default_user, settle=settle, reply_wait=reply_wait, commands=commands,
                  idle=idle, names=names).run()
