"""The web side of linli: the 服务码 page anyone can file with, the board for desk staff and supervisors (also as a
Telegram Mini App), Open311 GeoReport v2. Starlette with Jinja2 templates and htmx, served by uvicorn in the bot's
own process and event loop (``web.server``)."""

from web.app import create_app
from web.core import Config, Hooks, Web

__all__ = ["Config", "Hooks", "Web", "create_app"]
