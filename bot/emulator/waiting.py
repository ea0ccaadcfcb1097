"""Waiting without polling: a broadcast signal, and a wait that re-checks a condition each time it fires."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class Signal:
    """Wakes every current waiter at once. `fire` is sync so plain methods (block()) can notify.

    `wait()` captures the current event when called, so check-then-wait without an await in between
    can never miss a fire.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    def wait(self) -> Awaitable[bool]:
        return self._event.wait()


async def wait_until(
    signal: Signal,
    find: Callable[[], T | None],
    timeout: float,  # noqa: ASYNC109 (the documented test API takes a timeout)
    why: Callable[[], str],
) -> T:
    """Re-evaluate `find` whenever `signal` fires until it returns something or `timeout` passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (found := find()) is None:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(why())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(remaining):
                await signal.wait()
    return found
