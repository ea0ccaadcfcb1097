"""The bot as `linli run` runs it now: every update through the inbox, polling or Telegram's webhook, in one process
(real HTTP to the emulator, real SQLite or PostgreSQL), and two workers sharing one PostgreSQL database.

Accept, store, return: a webhook without the secret changes nothing; a repeated or late update changes nothing; an
update a dead worker left leased is taken again; random JSON posted to the webhook never escapes as an error and
leaves nothing half-written; /healthz and /metrics say what happened.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linli_e2e import STAFF_CHAT_ID, WAIT, Bot, Clock, bot_settings, record_webhook_posts, ticket_number
from sqlalchemy import func
from sqlmodel import select

from bot import cluster as cluster_mod
from bot.app import build_application
from bot.emulator import BotApiEmulator, Limits
from bot.intake import wall_now
from bot.runtime import WEBHOOK_PATH, Runtime
from handlers import texts
from handlers.deps import KEY
from services import inbox, outbox
from storage.models import InboxStatus, InboxUpdate, Ticket
from tests.pg import free_port
from web.telegram import MAX_BODY

SECRET = "test-secret_42"
NOISE = "楼上天天装修，吵死了，9号楼"
HEADER = "X-Telegram-Bot-Api-Secret-Token"



@dataclass
class InboxBot(Bot):
    """The e2e Bot over a Runtime: its barrier also waits until the inbox has nothing left to handle."""

    runtime: Runtime | None = None
    port: int = 0

    async def barrier(self) -> None:
        probe = self.person(999_999, "探针")
        await probe.say("/help")
        await self.emulator.wait_for_updates_consumed(timeout=WAIT)
        async with asyncio.timeout(WAIT):
            while True:
                async with self.db.session() as s:
                    if not (await inbox.lag(s, inbox_now())).pending and not await outbox.pending(s):
                        break
                await asyncio.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def post(self, body: Any, *, secret: str | None = SECRET, raw: bytes | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/json", **({HEADER: secret} if secret is not None else {})}
        content = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        async with httpx.AsyncClient() as client:
            return await client.post(self.url + WEBHOOK_PATH, content=content, headers=headers)

    async def rows(self) -> dict[int, InboxUpdate]:
        async with self.db.session() as s:
            return {r.update_id: r for r in (await s.exec(select(InboxUpdate))).all()}


def inbox_now() -> datetime:
    return wall_now()


async def until(check: Any, timeout: float = WAIT) -> None:  # noqa: ASYNC109
    """Until ``check()`` (a plain or async callable) is true."""
    async with asyncio.timeout(timeout):
        while True:
            found = check()
            if asyncio.iscoroutine(found):
                found = await found
            if found:
                return
            await asyncio.sleep(0.02)


@asynccontextmanager
async def running(emulator: BotApiEmulator, tmp_path: Path, clock: Clock, *, webhook: bool = False,
                  database_url: str | None = None, name: str | None = None, web: bool = True,
                  prepared: list[Any] | None = None) -> AsyncIterator[InboxBot]:
    """The real bot under the Runtime `linli run` uses (one worker), against the emulator with its limits off."""
    emulator.set_limits(Limits.off())
    emulator.group(STAFF_CHAT_ID, "金桂社区工作人员群")
    port = free_port()
    overrides: dict[str, Any] = {"webhook": webhook, "webhook_secret": SECRET, "base_url": f"http://127.0.0.1:{port}",
                                 "web_port": port if web else None}
    if database_url:
        overrides["database_url"] = database_url
    settings_ = bot_settings(emulator, tmp_path / "linli.db", **overrides)
    app = build_application(settings_, clock=clock, rate_limited=False, serve_web=web)
    runtime = Runtime(app, settings_, cluster=cluster_mod.cluster_for(app.bot_data[KEY].db.url, name))
    for step in prepared or []:
        await step(app.bot_data[KEY].db)
    since = emulator.polls
    await runtime.start()
    try:
        if webhook:
            await until(lambda: emulator.webhook_url == f"http://127.0.0.1:{port}{WEBHOOK_PATH}")
        elif isinstance(runtime.cluster, cluster_mod.LocalCluster):
            await emulator.wait_for_poll(since=since, timeout=WAIT)
        yield InboxBot(app, emulator, clock, runtime=runtime, port=port)
    finally:
        await runtime.stop()


async def complaint(bot: Bot, user_id: int) -> str:
    person = bot.person(user_id, f"居民{user_id}")
    await person.say("/start g-A03", "第三网格")
    confirmation = await person.say(NOISE, lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    receipt = await person.confirm(confirmation)
    return ticket_number(receipt.text)


async def count_tickets(bot: Bot) -> int:
    async with bot.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(Ticket))).one())


# -- polling and the webhook, through the inbox ------


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_a_complaint_goes_through_the_inbox(emulator: BotApiEmulator, tmp_path: Path, clock: Clock,
                                                  webhook: bool) -> None:
    async with running(emulator, tmp_path, clock, webhook=webhook) as bot:
        number = await complaint(bot, 2001)
        await bot.barrier()
        rows = await bot.rows()
        assert len(rows) == emulator.updates_injected  # every update stored …
        assert {r.status for r in rows.values()} == {InboxStatus.DONE}  # … and handled
        assert all(r.payload == {} and r.attempts == 1 for r in rows.values())
        assert [t.number for t in await bot.tickets(2001)] == [number]
        assert emulator.pending_updates == 0


async def test_the_webhook_takes_updates_only_with_the_secret(emulator: BotApiEmulator, tmp_path: Path,
                                                              clock: Clock) -> None:
    async with running(emulator, tmp_path, clock, webhook=True) as bot:
        emulator.user(2002, "王阿姨")
        update = {"update_id": 900, "message": {"message_id": 1, "date": 1773712800, "text": "/help",
                                                "chat": {"id": 2002, "type": "private"},
                                                "from": {"id": 2002, "is_bot": False, "first_name": "王"}}}
        for secret in (None, "wrong", SECRET + "x", ""):
            response = await bot.post(update, secret=secret)
            assert response.status_code == 403, secret
        assert await bot.rows() == {}
        cursor = emulator.cursor()
        assert (await bot.post(update)).status_code == 200
        await emulator.wait_for(2002, after=cursor, timeout=WAIT)
        assert list(await bot.rows()) == [900]


async def test_a_repeated_or_late_update_changes_nothing(emulator: BotApiEmulator, tmp_path: Path,
                                                         clock: Clock) -> None:
    """Telegram delivers the complaint, then the press of 确认; then the complaint again (a retry that crossed our
    200), and the press again: one case, one confirmation asked, one receipt."""
    async with running(emulator, tmp_path, clock, webhook=True) as bot:
        person = bot.person(2003, "王阿姨")
        await person.say("/start g-A03", "第三网格")
        await bot.barrier()
        seen = record_webhook_posts(emulator)
        cursor = emulator.cursor()
        confirmation = await person.say(NOISE, lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
        receipt = await person.confirm(confirmation)
        await bot.barrier()
        complaint_update, press_update = seen[0], seen[1]
        before = len(person.replies(cursor))
        for update in (complaint_update, press_update, press_update, complaint_update):
            assert (await bot.post(update)).status_code == 200
        await bot.barrier()
        assert len(person.replies(cursor)) == before
        assert [t.number for t in await bot.tickets(2003)] == [ticket_number(receipt.text)]


async def test_an_update_a_dead_worker_left_leased_is_taken_again(emulator: BotApiEmulator, tmp_path: Path,
                                                                  clock: Clock) -> None:
    """Another worker claimed the resident's /help and died: once its lease ran out, this one answers it."""
    emulator.user(2004, "王阿姨")

    async def dead_worker(db) -> None:
        await db.migrate_async()
        update = {"update_id": 50, "message": {"message_id": 1, "date": 1773712800, "text": "/help",
                                               "chat": {"id": 2004, "type": "private"},
                                               "from": {"id": 2004, "is_bot": False, "first_name": "王"}}}
        long_ago = inbox_now() - inbox.LEASE - timedelta(seconds=1)
        async with db.transaction() as s:
            await inbox.accept(s, [inbox.Incoming(50, 2004, update)], long_ago)
            assert [c.update_id for c in await inbox.claim_batch(s, long_ago, 5, "dead:1")] == [50]

    async with running(emulator, tmp_path, clock, prepared=[dead_worker]) as bot:
        await emulator.wait_for(2004, timeout=WAIT)

        async def marked() -> bool:
            return (await bot.rows())[50].status is InboxStatus.DONE

        await until(marked)
        assert (await bot.rows())[50].attempts == 2


# -- random JSON at the webhook ------

JSON_LEAF = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(
    allow_nan=False, allow_infinity=False) | st.text(max_size=40)
JSON = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                           max_size=4), max_leaves=12)
USER = st.fixed_dictionaries({"id": st.integers(1, 10**12) | JSON, "is_bot": st.booleans() | JSON,
                              "first_name": st.text(max_size=10) | JSON})
CHAT = st.fixed_dictionaries({"id": st.integers(-10**13, 10**12) | JSON,
                              "type": st.sampled_from(["private", "group", "supergroup", "channel"]) | JSON})
MESSAGE = st.fixed_dictionaries(
    {"message_id": st.integers(1, 10**6) | JSON, "date": st.integers(0, 2**31) | JSON, "chat": CHAT | JSON},
    optional={"from": USER | JSON, "text": st.text(max_size=60) | JSON, "caption": JSON, "photo": JSON,
              "entities": JSON})
QUERY = st.fixed_dictionaries({"id": st.text(max_size=8) | JSON, "from": USER | JSON,
                               "chat_instance": st.text(max_size=8) | JSON},
                              optional={"data": st.text(max_size=64) | JSON, "message": MESSAGE | JSON})
UPDATE_ID = st.integers(10_000, 10**9) | st.integers(-(2**70), 2**70) | JSON
UPDATES = st.fixed_dictionaries({}, optional={
    "update_id": UPDATE_ID, "message": MESSAGE | JSON, "edited_message": MESSAGE, "callback_query": QUERY | JSON,
    "poll_answer": JSON, "my_chat_member": JSON, "channel_post": MESSAGE,
}) | JSON


async def test_random_json_at_the_webhook_never_escapes_and_leaves_nothing_half_written(
        emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> None:
    async with running(emulator, tmp_path, clock, webhook=True) as bot:
        statuses: list[int] = []
        loop = asyncio.get_running_loop()
        client = httpx.AsyncClient(timeout=WAIT)

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        @given(body=UPDATES, mangle=st.sampled_from(["json", "json", "json", "bytes", "nan", "huge", "big", "deep"]),
               noise=st.binary(max_size=64))
        def post(body: Any, mangle: str, noise: bytes) -> None:
            raw = {"json": lambda: json.dumps(body).encode(),
                   "bytes": lambda: noise + b"\xff\xfe{",
                   "nan": lambda: b'{"update_id": 5, "x": NaN}',
                   "huge": lambda: json.dumps({"update_id": 6, "pad": "好" * MAX_BODY}).encode(),  # 413
                   "big": lambda: json.dumps(body).encode() + b" " * (MAX_BODY // 2),  # under the limit
                   "deep": lambda: b'{"update_id": 7, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                   }[mangle]()
            future = asyncio.run_coroutine_threadsafe(
                client.post(bot.url + WEBHOOK_PATH, content=raw, headers={HEADER: SECRET}), loop)
            statuses.append(future.result(WAIT).status_code)

        await asyncio.to_thread(post)
        await client.aclose()
        assert set(statuses) <= {200, 400, 413}, sorted(set(statuses))
        assert {200, 400, 413} <= set(statuses)

        async def handled() -> bool:  # everything accepted is handled, none of it raised past the handlers
            return all(r.status is not InboxStatus.PENDING for r in (await bot.rows()).values())

        await until(handled, WAIT * 3)
        rows = await bot.rows()
        assert all(r.error is None for r in rows.values()), [r.error for r in rows.values() if r.error]
        assert await count_tickets(bot) == 0
        bot.emulator.number_after(max(rows, default=0))  # the fuzz's ids are not the next resident's
        await complaint(bot, 2005)  # and the next resident is answered
        await bot.barrier()
        assert await count_tickets(bot) == 1


# -- health and metrics ------


async def test_health_and_metrics(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> None:
    async with running(emulator, tmp_path, clock, webhook=True) as bot:
        await complaint(bot, 2006)
        await bot.barrier()
        assert (await bot.post({"update_id": 777, "message": 1.5})).status_code == 200  # skipped
        async with httpx.AsyncClient() as client:
            health = await client.get(bot.url + "/healthz")
            text = (await client.get(bot.url + "/metrics")).text
        assert health.status_code == 200
        body = health.json()
        assert body["leader"] == body["worker"] == bot.runtime.cluster.name and body["is_leader"] is True
        assert body["database"] == "ok" and body["inbox"]["pending"] == 0
        values = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
                  for line in text.splitlines() if line and not line.startswith("#")}
        assert values['linli_updates_processed_total{outcome="done"}'] >= emulator.updates_injected
        assert values['linli_updates_accepted_total{via="webhook"}'] >= emulator.updates_injected
        assert values["linli_updates_skipped_total"] >= 1
        assert values['linli_open_cases{colour="green"}'] == 1
        assert values["linli_inbox_pending"] == 0 and values["linli_leader_known"] == 1
        assert values["linli_database_up"] == 1
        assert "linli_telegram_429_total" in values and "linli_outbox_depth" in text


async def test_health_says_no_when_the_database_is_gone(emulator: BotApiEmulator, tmp_path: Path,
                                                        clock: Clock) -> None:
    async with running(emulator, tmp_path, clock) as bot:
        db = bot.db
        real = db.session

        def broken():
            raise OSError("disk gone")

        db.session = broken  # type: ignore[method-assign]
        try:
            async with httpx.AsyncClient() as client:
                health = await client.get(bot.url + "/healthz")
                metrics_text = (await client.get(bot.url + "/metrics")).text
        finally:
            db.session = real  # type: ignore[method-assign]
        assert health.status_code == 503 and health.json()["database"].startswith("unreachable")
        assert "linli_database_up 0" in metrics_text


# -- two workers on one PostgreSQL database ------


async def test_two_workers_share_the_inbox_and_the_lead_moves_when_the_leader_stops(
        emulator: BotApiEmulator, tmp_path: Path, clock: Clock, pg_url: Any) -> None:
    url = pg_url.render_as_string(hide_password=False)
    async with running(emulator, tmp_path, clock, database_url=url, name="one", web=False) as first, \
            running(emulator, tmp_path, clock, database_url=url, name="two", web=False) as second:
        await until(lambda: first.runtime.cluster.is_leader or second.runtime.cluster.is_leader)
        leader, other = (first, second) if first.runtime.cluster.is_leader else (second, first)
        assert not other.runtime.cluster.is_leader
        async with leader.db.session() as s:
            assert await cluster_mod.leader_of(s) == leader.runtime.cluster.name
        numbers = await asyncio.gather(*(complaint(leader, 2100 + i) for i in range(6)))
        await leader.barrier()
        await leader.runtime.intake.stop()  # which worker claims first is timing: make it the other one
        numbers.append(await complaint(leader, 2106))
        await leader.runtime.intake.start()
        assert other.runtime.intake.handled  # the leader polled, the other worker handled
        await leader.runtime.cluster.stop()  # the leader steps down (as when its process dies)
        await until(lambda: other.runtime.cluster.is_leader, cluster_mod.HEARTBEAT * 5)
        more = await complaint(other, 2200)  # polled and sent by the new leader
        async with other.db.session() as s:
            assert await cluster_mod.leader_of(s) == other.runtime.cluster.name
            stored = sorted(t.number for t in (await s.exec(select(Ticket))).all())
        assert set(stored) == {*numbers, more}  # similar complaints may join one case


async def test_a_conversation_moving_between_workers_follows_the_database(
        emulator: BotApiEmulator, tmp_path: Path, clock: Clock, pg_url: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A grid worker writes a notice: /notice lands on one worker, the kind button on the other, the text on the
    first again. What the first cached in PTB's user_data (the composition at "choose a kind") is stale by then;
    it is dropped before each update, so the text is taken as the notice's text, not as a complaint."""
    from telegram.ext import CommandHandler

    from handlers.grid import notices as notice_handlers

    admin, worker = 9001, 8001
    monkeypatch.setenv("LINLI_ADMINS", str(admin))
    url = pg_url.render_as_string(hide_password=False)
    async with running(emulator, tmp_path, clock, database_url=url, name="one", web=False) as one, \
            running(emulator, tmp_path, clock, database_url=url, name="two", web=False) as two:
        for bot in (one, two):
            if not any(isinstance(h, CommandHandler) and "notice" in h.commands
                       for h in bot.app.handlers.get(notice_handlers.GROUP, [])):
                notice_handlers.register(bot.app)
        assert one.runtime.intake.fresh_user_state and two.runtime.intake.fresh_user_state

        async def only(bot: InboxBot) -> None:  # the other worker takes no updates for now
            other = two if bot is one else one
            await other.runtime.intake.stop()
            if not bot.runtime.intake._tasks:
                await bot.runtime.intake.start()

        await only(one)
        await one.person(admin, "书记").say(f"/grant {worker} gridworker A03",
                                           texts.role_granted(worker, "gridworker", "A03", True))
        li = one.person(worker, "李秀英")
        menu = await li.say("/notice", texts.NOTICE_CHOOSE_KIND)
        await only(two)
        pressed = await li.press(menu, texts.NOTICE_KINDS["general"])
        await pressed.edit(texts.notice_ask_text("general"))
        await only(one)
        await li.say("明天上午9点停水，请提前储水", texts.NOTICE_CHOOSE_AUDIENCE)
        assert await count_tickets(one) == 0


async def test_only_the_leader_runs_the_timers_and_the_sender(
        emulator: BotApiEmulator, tmp_path: Path, clock: Clock, pg_url: Any) -> None:
    """The sweep, follow-ups, reports (the desk tick), the purges and the paced sender run on the leader alone, so
    nothing is escalated or sent twice; when the lead moves, they move with it."""
    from bot import sender

    url = pg_url.render_as_string(hide_password=False)

    def timers(bot: InboxBot) -> set[str]:
        assert bot.app.job_queue is not None
        # what the scheduler will run (a paused job has no next run), not PTB's flag, which starts False for a job
        # that runs
        return {job.name for job in bot.app.job_queue.jobs() if job.job.next_run_time is not None}

    def sending(bot: InboxBot) -> bool:
        running = bot.app.bot_data.get(sender.SENDER_KEY)
        return running is not None and running.task is not None and not running.task.done()

    async with running(emulator, tmp_path, clock, database_url=url, name="one", web=False) as first, \
            running(emulator, tmp_path, clock, database_url=url, name="two", web=False) as second:
        await until(lambda: first.runtime.cluster.is_leader or second.runtime.cluster.is_leader)
        leader, other = (first, second) if first.runtime.cluster.is_leader else (second, first)
        assert {"desk", "purge-inbox"} <= timers(leader) and timers(other) == set()
        assert sending(leader) and not sending(other)
        await leader.runtime.cluster.stop()
        await until(lambda: other.runtime.cluster.is_leader, cluster_mod.HEARTBEAT * 5)
        assert {"desk", "purge-inbox"} <= timers(other) and timers(leader) == set()
        assert sending(other) and not sending(leader)
