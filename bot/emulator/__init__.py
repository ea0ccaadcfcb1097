"""Local Telegram Bot API emulator: run the real bot without Telegram (tests, benchmarks, console)."""

from bot.emulator.client import EmulatorClient, EmulatorError
from bot.emulator.console import run_console
from bot.emulator.faults import Fault
from bot.emulator.limits import Limits, RateLimiter
from bot.emulator.protocol import ApiError
from bot.emulator.records import Button, CallbackAnswer, Event, SentMessage, Stats
from bot.emulator.server import BotApiEmulator

__all__ = [
    "ApiError",
    "BotApiEmulator",
    "Button",
    "CallbackAnswer",
    "EmulatorClient",
    "EmulatorError",
    "Event",
    "Fault",
    "Limits",
    "RateLimiter",
    "SentMessage",
    "Stats",
    "run_console",
]
