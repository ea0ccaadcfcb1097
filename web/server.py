"""uvicorn in the bot's own process and event loop: started after the bot has initialised, stopped before it shuts
down. The socket is bound here (a port in use is an error at start, not an exit from inside uvicorn), and uvicorn
installs no signal handlers: Ctrl-C belongs to the bot, which then stops the server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the bot owns the signals
        yield


class WebServer:
    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.host, self._port = host, port
        self.config = uvicorn.Config(app, host=host, port=port, lifespan="off", log_level="warning",
                                     access_log=False, proxy_headers=True, server_header=False)
        self.server = _Server(self.config)
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        return self._socket.getsockname()[1] if self._socket else self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP named, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say they are TCP,
        # and uvicorn writes a response's head and body apart; with Nagle on, each response waits ~40 ms for an ACK
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self.host, self._port))
        except OSError as exc:
            sock.close()
            raise RuntimeError(f"网页服务无法监听 {self.host}:{self._port}：{exc.strerror or exc}") from None
        sock.set_inheritable(True)
        self._socket = sock
        self._task = asyncio.create_task(self.server.serve(sockets=[sock]), name="linli-web")
        while not self.server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("网页服务未能启动")
            await asyncio.sleep(0.01)
        log.info("web on %s", self.url)

    async def stop(self) -> None:
        if self._task is None:
            return
        self.server.should_exit = True
        try:
            await asyncio.wait_for(self._task, timeout=10)
        except TimeoutError:
            self._task.cancel()
        finally:
            self._task = None
            if self._socket is not None:
                self._socket.close()
                self._socket = None


__all__ = ["WebServer"]
