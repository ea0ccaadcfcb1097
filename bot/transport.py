"""PTB's network backend on aiohttp, for the handlers' replies, getUpdates and the sender alike.

PTB's default backend (httpx on anyio) cost about 1.5 ms of CPU per call on the benchmark machine, aiohttp about
0.5 ms; with a reply or two per update that was a tenth of the bot's CPU. Only the transport changes: PTB's
:meth:`BaseRequest.post` still turns status codes into RetryAfter / Forbidden / BadRequest, and transport failures
become TimedOut / NetworkError as with httpx. Every 429 answer is counted for ``/metrics``.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot import metrics


class AiohttpRequest(BaseRequest):
    """A PTB request object on one aiohttp session: JSON bodies, multipart for uploads (a report's chart, a poster,
    an export)."""

    TIMEOUT = 5.0  # seconds to connect, and to wait for the answer, as PTB's HTTPXRequest by default

    def __init__(self, timeout: float = TIMEOUT, connections: int = 100) -> None:
        """``connections``: calls in flight at once (aiohttp's default 100; the handlers' Bot allows 256, as PTB's
        pool did for them)."""
        self._timeout = timeout
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        self._env_proxies: dict[str, str] = {}
        self._proxy_for: dict[str, str | None] = {}  # per scheme://host:port

    @property
    def read_timeout(self) -> float:
        return self._timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._timeout, sock_read=self._timeout))
            # HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY are honoured, as httpx does, but read once here:
            # aiohttp's trust_env reads them (and ~/.netrc) again on every request, 0.4 ms each.
            self._env_proxies, self._proxy_for = urllib.request.getproxies(), {}

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        body: Any = None
        headers = {"User-Agent": self.USER_AGENT}
        if request_data is not None and request_data.contains_files:  # a report's chart (PNG bytes): multipart
            body = _form(request_data)
        elif request_data is not None:
            # the parameters PTB would form-encode (strings; objects already JSON text), as one JSON object: the Bot
            # API takes either, and a form cost aiohttp a multipart writer (a uuid4) and percent-encoding every
            # byte of Chinese text, ~0.2 ms of CPU a call by profile; json.dumps a few µs
            body = json.dumps(request_data.json_parameters, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        options: dict[str, Any] = {}
        if _given(read_timeout) or _given(connect_timeout):  # PTB's defaults are DefaultValue objects
            options["timeout"] = aiohttp.ClientTimeout(
                total=None, sock_read=read_timeout if _given(read_timeout) else self._timeout,  # type: ignore[arg-type]
                sock_connect=connect_timeout if _given(connect_timeout) else self._timeout)  # type: ignore[arg-type]
        try:
            async with self._session.request(method, url, data=body, headers=headers, proxy=self._proxy(url),
                                             **options) as response:
                if response.status == 429:
                    metrics.too_many_requests()
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc


    def _proxy(self, url: str) -> str | None:
        parts = urllib.parse.urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._proxy_for:
            env = self._env_proxies
            bypass = bool(env.get("no")) and urllib.request.proxy_bypass_environment(parts.hostname or "", env)
            self._proxy_for[origin] = None if bypass else env.get(parts.scheme) or env.get("all")
        return self._proxy_for[origin]


def _form(request_data: RequestData) -> aiohttp.FormData:
    """A multipart body: the parameters as fields, each file as a part with its name and type."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime)
    return form


def _given(timeout: object) -> bool:
    """A timeout a caller passed (seconds, or None for none), not one of PTB's DefaultValue placeholders."""
    return timeout is None or isinstance(timeout, int | float)


__all__ = ["AiohttpRequest"]
