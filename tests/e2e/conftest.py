"""Fixtures for driving the bot through the local Bot API emulator (bot.emulator)."""

from collections.abc import AsyncIterator

import pytest

from bot.emulator import BotApiEmulator


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """A started emulator on a free port with Telegram's default flood limits; stopped afterwards."""
    emu = BotApiEmulator(bot_username="linli_bot")
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()
