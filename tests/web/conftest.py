"""The web app over a real migrated SQLite file, driven in-process with httpx (no server, no browser), with a clock
the test moves and hooks that record what the chat would be owed."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from intents import Engine
from services import SHANGHAI
from services.community.model import load_community
from services.people import roles
from services.people.residents import sync_grids
from services.web import auth
from storage.db import Database
from storage.models import RoleName, Ticket
from web import Config, Hooks, Web, create_app
from web.core import SESSION_COOKIE

# test modules import these as `from linli_web_tests import ...` (a conftest has no import name of its own)
sys.modules.setdefault("linli_web_tests", sys.modules[__name__])

BOT_TOKEN = "123456:WEB-TEST-TOKEN"
SECRET = b"web-test-secret"
ZHANG, WANG, ADMIN, RESIDENT = 3001, 3003, 9001, 1001  # staff 居委会, staff 物业, admin, a resident
ENGINE = Engine.from_file(None)
COMMUNITY = load_community(None)


class Clock:
    def __init__(self) -> None:
        self.value = datetime(2026, 3, 17, 10, 0, tzinfo=SHANGHAI)

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **delta: float) -> datetime:
        self.value += timedelta(**delta)
        return self.value


@dataclass
class Recorder:
    """Hooks that note what a change owed the chat (the bot's own hooks are tested end to end)."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    photos: dict[str, bytes] = field(default_factory=dict)
    fail_upload: bool = False

    def hooks(self) -> Hooks:
        async def signed(s: Any, t: Ticket, name: str) -> None:
            self.calls.append(("signed", (t.number, name)))

        async def resolved(s: Any, t: Ticket, result: str) -> None:
            self.calls.append(("resolved", (t.number, result)))

        async def replied(s: Any, t: Ticket, text: str) -> int:
            self.calls.append(("replied", (t.number, text)))
            return 0

        async def rated(s: Any, t: Ticket, esc: Any) -> None:
            self.calls.append(("rated", (t.number, esc)))

        async def withdrawn(s: Any, t: Ticket) -> None:
            self.calls.append(("withdrawn", t.number))

        async def upload(data: bytes) -> str:
            if self.fail_upload:
                raise RuntimeError("telegram away")
            file_id = f"AgAC-test-{len(self.photos)}"
            self.photos[file_id] = data
            return file_id

        async def fetch(file_id: str) -> bytes | None:
            return self.photos.get(file_id)

        return Hooks(wake=lambda: self.calls.append(("wake", None)), signed=signed, resolved=resolved,
                     replied=replied, rated=rated, withdrawn=withdrawn, upload_photo=upload, fetch_photo=fetch)


@dataclass
class Site:
    db: Database
    web: Web
    client: httpx.AsyncClient
    clock: Clock
    recorder: Recorder

    async def grant(self, user: int, role: str, scope: str = "") -> None:
        async with self.db.transaction() as s:
            await roles.grant(s, tg_user_id=user, role=RoleName(role), scope=scope, granted_by=None, now=self.clock())

    async def sign_in(self, user: int) -> str:
        """A session for ``user`` (as the Mini App or a link would open), set on the client."""
        async with self.db.transaction() as s:
            token = await auth.open_session(s, tg_user_id=user, via="test", now=self.clock())
        self.client.cookies.set(SESSION_COOKIE, token)
        return token

    def csrf(self, session: str) -> str:
        return auth.csrf_token(session, SECRET)


def make_web(db: Database, clock: Clock, recorder: Recorder, **config: Any) -> Web:
    return Web(db=db, community=COMMUNITY, engine=ENGINE, hooks=recorder.hooks(), clock=clock, staff_chat_id=-100500,
               admins=frozenset({ADMIN}),
               config=Config(base_url="http://127.0.0.1:8080", bot_token=BOT_TOKEN, bot_username="linli_bot",
                             secret=SECRET, **config))


@pytest.fixture
async def site(db: Database) -> AsyncIterator[Site]:
    async with db.transaction() as s:
        await sync_grids(s, COMMUNITY)
    clock, recorder = Clock(), Recorder()
    web = make_web(db, clock, recorder)
    transport = httpx.ASGITransport(app=create_app(web), client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Site(db, web, client, clock, recorder)
