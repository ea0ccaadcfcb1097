"""Local Telegram Bot API emulator: run the real bot without Telegram (tests, benchmarks, console)."""

from bot.emulator.client import EmulatorClient, EmulatorError
from bot.emulator.console import run_console
from bot.emulator.limits import Limits, RateLimiter
from bot.emulator.server import ApiError, BotApiEmulator, Button, CallbackAnswer, Event, SentMessage, Stats

__all__ = [
    "ApiError",
    "BotApiEmulator",
    "Button",
    "CallbackAnswer",
    "EmulatorClient",
    "EmulatorError",
    "Event",
    "Limits",
    "RateLimiter",
    "SentMessage",
    "Stats",
    "run_console",
]
