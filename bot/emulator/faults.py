"""Fault injection, for tests of the bot's resilience: the next calls of a Bot API method fail with an HTTP
error in Telegram's JSON shape (`fail`), or lose the connection without an answer (`drop`), either before
the method ran or after it (Telegram accepted the message, the bot never heard back)."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from aiohttp import web

from bot.emulator.protocol import METHODS, ApiError


@dataclass(slots=True)
class Fault:
    """One injected failure of `method` (lower-cased), pending for `remaining` more calls.

    `status` None means drop the connection; `after_recording` (drops only) runs the method first.
    """

    method: str
    remaining: int
    status: int | None = None
    description: str | None = None
    retry_after: int | None = None
    after_recording: bool = False

    @property
    def drops(self) -> bool:
        return self.status is None

    def error(self) -> ApiError:
        """The answer of a `fail` fault (a dropped call has none)."""
        if self.status is None:
            raise ValueError("a dropped call gets no answer")
        return ApiError(self.status, self.description or "", retry_after=self.retry_after)


def default_description(status: int, retry_after: int | None) -> str:
    """Telegram's wording for the statuses it uses, the HTTP reason phrase for the others."""
    if status == 429:
        return f"Too Many Requests: retry after {retry_after}"
    if status == 400:
        return "Bad Request: injected fault"
    if status == 403:
        return "Forbidden: injected fault"
    if status == 409:
        return "Conflict: injected fault"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _method_name(method: str) -> str:
    name = method.lower()
    if name not in METHODS:
        raise ValueError(f"unknown Bot API method {method!r}")
    return name


def drop_connection(request: web.Request) -> web.Response:
    """Close the connection under the request: the client sees it end with no response at all."""
    if request.transport is not None:
        request.transport.close()
    return web.Response()  # never written: aiohttp finds the transport closed and lets it go


class FaultsMixin:
    """Pending faults in the order they were added; each call of a method consumes the first one for it."""

    def _init_faults(self) -> None:
        self.faults: list[Fault] = []

    def fail(
        self,
        method: str,
        status: int = 500,
        *,
        times: int = 1,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> Fault:
        """The next `times` calls of Bot API `method` answer HTTP `status` with Telegram's error body and do
        nothing else. A 429 carries `retry_after` (default 1 s), which python-telegram-bot turns into
        RetryAfter; PTB raises NetworkError for 5xx, BadRequest for 400, Forbidden for 403."""
        if not 400 <= status <= 599:
            raise ValueError(f"a fault's status is an HTTP error (400-599), not {status}")
        if status == 429 and retry_after is None:
            retry_after = 1
        text = description or default_description(status, retry_after)
        return self._add_fault(Fault(_method_name(method), times, status, text, retry_after))

    def drop(self, method: str, *, times: int = 1, after_recording: bool = False) -> Fault:
        """The next `times` calls of `method` get no answer: the connection closes (the bot sees a network
        error). With `after_recording` the call takes effect first, e.g. the message is delivered and
        recorded, and only its answer is lost, so a bot that retries blindly sends it twice."""
        return self._add_fault(Fault(_method_name(method), times, after_recording=after_recording))

    def clear_faults(self, method: str | None = None) -> None:
        """Forget pending faults, of one method or all."""
        name = None if method is None else method.lower()
        self.faults = [f for f in self.faults if name is not None and f.method != name]

    def _add_fault(self, fault: Fault) -> Fault:
        if fault.remaining < 1:
            raise ValueError(f"times must be at least 1, not {fault.remaining}")
        self.faults.append(fault)
        return fault

    def _take_fault(self, method: str) -> Fault | None:
        """Consume one use of the first pending fault for `method` (lower-cased)."""
        fault = next((f for f in self.faults if f.method == method), None)
        if fault is not None:
            fault.remaining -= 1
            if fault.remaining == 0:
                self.faults.remove(fault)
        return fault
