"""The web side's settings and its server in the bot's event loop: WEB_PORT / --web-port / BASE_URL, a port in use
said at start, and a clean stop."""

from __future__ import annotations

import socket

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bot.settings import SettingsError, load_settings
from web.server import WebServer


def settings(**values: object):
    return load_settings(_env_file=None, **values)


def test_web_settings() -> None:
    s = settings()
    assert (s.web_host, s.web_port, s.base_url) == ("127.0.0.1", 8080, None)
    assert s.web_url == "http://127.0.0.1:8080"
    assert settings(web_port="off").web_port is None
    assert settings(web_port="0").web_port == 0
    assert settings(base_url="https://linli.example.org/").web_url == "https://linli.example.org"
    with pytest.raises(SettingsError, match="WEB_PORT"):
        settings(web_port=70000)
    with pytest.raises(SettingsError, match="BASE_URL"):
        settings(base_url="linli.example.org")


async def test_the_server_runs_in_this_loop_and_stops() -> None:
    app = Starlette(routes=[Route("/hello", lambda r: PlainTextResponse("你好"))])
    server = WebServer(app, port=0)
    await server.start()
    port = server.port
    assert port != 0
    # a TCP socket that says so: asyncio then turns Nagle off on each connection (else ~40 ms a response)
    assert server._socket.proto == socket.IPPROTO_TCP
    assert server._socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    try:
        async with httpx.AsyncClient() as client:
            r = await client.get(f"{server.url}/hello")
        assert r.text == "你好" and "server" not in r.headers
    finally:
        await server.stop()
    with socket.socket() as probe:  # nobody listens there any more
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


async def test_a_port_in_use_is_said_at_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = WebServer(Starlette(), port=taken.getsockname()[1])
        with pytest.raises(RuntimeError, match="网页服务无法监听"):
            await server.start()


async def test_the_bot_goes_on_without_its_web_side_when_the_port_is_taken(tmp_path, caplog) -> None:
    from bot import web_wiring
    from bot.app import build_application
    from handlers.desk.web import WEB_URL

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        s = settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", web_port=taken.getsockname()[1])
        app = build_application(s, serve_web=True)
        assert web_wiring.SERVER in app.bot_data
        from telegram import User

        app.bot._bot_user = User(1, "linli", is_bot=True, username="linli_bot")  # as after initialize()
        await web_wiring.start(app)
    assert web_wiring.SERVER not in app.bot_data and app.bot_data[WEB_URL] is None
    assert "without its web side" in caplog.text
    await web_wiring.stop(app)  # nothing to stop: fine
    await app.bot_data["linli"].db.dispose()
