"""Notices: audience and mute rules, confirm materialising rows once, claim/mark/retry, crash resume."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import select

from services import SHANGHAI
from services.notices import broadcast as n
from services.people.residents import get_or_create_resident
from storage.db import Database
from storage.models import AudienceKind, DeliveryStatus, NoticeDelivery, NoticeKind, NoticeStatus

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
# tg id -> (grid, building)
PEOPLE = {101: ("A03", "9号楼"), 102: ("A03", "9号楼"), 103: ("A03", "10号楼"), 104: ("A04", "13号楼"),
          105: (None, None)}


async def populate(db: Database) -> None:
    from storage.models import Grid

    async with db.transaction() as s:
        for code in ("A03", "A04"):
            s.add(Grid(code=code, name=code))
        await s.flush()
        for tg, (grid, building) in PEOPLE.items():
            r = await get_or_create_resident(s, tg_user_id=tg, name=f"居民{tg}", now=NOW)
            r.grid_code, r.building = grid, building
            s.add(r)


async def draft(db: Database, kind: NoticeKind = NoticeKind.GENERAL, audience: AudienceKind = AudienceKind.GRID,
                value: str = "A03") -> int:
    async with db.transaction() as s:
        notice = await n.create_draft(s, author_tg_id=1, kind=kind, text="明天下午开会", audience_kind=audience,
                                      audience_value=value, now=NOW)
        assert notice.id is not None
        return notice.id


async def rows(db: Database, notice_id: int) -> dict[int, NoticeDelivery]:
    async with db.session() as s:
        found = (await s.exec(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice_id))).all()
        return {r.tg_user_id: r for r in found}


async def test_recipients_by_audience_and_mute(db: Database) -> None:
    await populate(db)
    async with db.transaction() as s:
        assert await n.mute(s, 102, NOW)
        assert not await n.mute(s, 102, NOW)
    cases = [
        (NoticeKind.GENERAL, AudienceKind.GRID, "A03", [101, 103]),
        (NoticeKind.GENERAL, AudienceKind.GRID, "A03,A04", [101, 103, 104]),
        (NoticeKind.GENERAL, AudienceKind.BUILDING, "9号楼", [101]),
        (NoticeKind.GENERAL, AudienceKind.COMMUNITY, "", [101, 103, 104, 105]),
        (NoticeKind.OUTAGE, AudienceKind.BUILDING, "9号楼", [101, 102]),  # urgent reaches the muted
        (NoticeKind.FRAUD, AudienceKind.COMMUNITY, "", [101, 102, 103, 104, 105]),
    ]
    for kind, audience, value, expected in cases:
        notice_id = await draft(db, kind, audience, value)
        async with db.session() as s:
            notice = await s.get(n.Notice, notice_id)
            assert await n.recipients(s, notice) == expected, (kind, audience, value)
    async with db.transaction() as s:
        assert await n.unmute(s, 102)
        assert not await n.unmute(s, 102)
    notice_id = await draft(db, value="A03")
    async with db.session() as s:
        assert await n.recipients(s, await s.get(n.Notice, notice_id)) == [101, 102, 103]


async def test_confirm_materialises_once_and_cancel(db: Database) -> None:
    await populate(db)
    notice_id = await draft(db)
    async with db.session() as s:
        assert await n.claim_batch(s, NOW, 10) == []  # a draft sends nothing
    async with db.transaction() as s:
        assert await n.confirm(s, notice_id, NOW) == 3
    async with db.transaction() as s:
        assert await n.confirm(s, notice_id, NOW) is None
        assert not await n.cancel(s, notice_id, NOW)
    assert set(await rows(db, notice_id)) == {101, 102, 103}
    other = await draft(db)
    async with db.transaction() as s:
        assert await n.cancel(s, other, NOW)
        assert await n.confirm(s, other, NOW) is None
    assert await rows(db, other) == {}


async def test_claim_mark_retry_and_finish(db: Database) -> None:
    await populate(db)
    notice_id = await draft(db, audience=AudienceKind.COMMUNITY, value="")
    async with db.transaction() as s:
        assert await n.confirm(s, notice_id, NOW) == 5
    async with db.transaction() as s:
        first = await n.claim_batch(s, NOW, 3)
    assert [c.tg_user_id for c in first] == [101, 102, 103]
    async with db.transaction() as s:
        assert [c.tg_user_id for c in await n.claim_batch(s, NOW, 10)] == [104, 105]  # leased ones skipped
        assert await n.claim_batch(s, NOW, 10) == []
        assert (await n.progress(s, notice_id)).status is NoticeStatus.SENDING
    async with db.transaction() as s:
        assert await n.mark_sent(s, first[0].delivery_id, NOW)
        assert not await n.mark_sent(s, first[0].delivery_id, NOW)  # only pending rows change
        assert await n.mark_unreachable(s, first[1].delivery_id, NOW, "Forbidden: bot was blocked by the user")
        due = await n.mark_retry(s, first[2].delivery_id, NOW, 3)
    assert due == NOW + timedelta(seconds=3)
    async with db.transaction() as s:
        assert await n.claim_batch(s, NOW + timedelta(seconds=2), 10) == []
        again = await n.claim_batch(s, NOW + timedelta(seconds=3), 10)
        assert [(c.tg_user_id, c.attempts) for c in again] == [(103, 2)]
        assert await n.finish(s, NOW) == []
        p = await n.progress(s, notice_id)
    assert (p.total, p.sent, p.unreachable, p.failed, p.pending) == (5, 1, 1, 0, 3)
    async with db.transaction() as s:
        await n.mark_sent(s, again[0].delivery_id, NOW)
        for c in (await rows(db, notice_id)).values():
            if c.tg_user_id in (104, 105):
                await n.mark_failed(s, c.id, NOW, "Bad Request: chat not found")
        assert await n.finish(s, NOW) == [notice_id]
        p = await n.progress(s, notice_id)
    assert (p.sent, p.unreachable, p.failed, p.pending, p.finished, p.status) == (2, 1, 2, 0, 5, NoticeStatus.DONE)


async def test_retry_gives_up_after_max_attempts(db: Database) -> None:
    await populate(db)
    notice_id = await draft(db, audience=AudienceKind.BUILDING, value="10号楼")
    async with db.transaction() as s:
        await n.confirm(s, notice_id, NOW)
    at = NOW
    for attempt in range(1, n.MAX_ATTEMPTS + 1):
        async with db.transaction() as s:
            [claim] = await n.claim_batch(s, at, 10)
            assert claim.attempts == attempt
            due = await n.mark_retry(s, claim.delivery_id, at, 1)
        at += timedelta(seconds=1)
    assert due is None
    assert (await rows(db, notice_id))[103].status is DeliveryStatus.FAILED


async def test_reclaim_only_if_untouched(db: Database) -> None:
    await populate(db)
    notice_id = await draft(db, audience=AudienceKind.BUILDING, value="10号楼")
    async with db.transaction() as s:
        await n.confirm(s, notice_id, NOW)
        [claim] = await n.claim_batch(s, NOW, 10)
        due = await n.mark_retry(s, claim.delivery_id, NOW, 2)
    async with db.transaction() as s:
        again = await n.reclaim(s, claim, due, NOW)
        assert again is not None and again.attempts == 2
        assert await n.reclaim(s, claim, due, NOW) is None  # the lease moved next_try_at: nobody else gets it


async def test_resume_after_crash(db: Database) -> None:
    """A sender claimed a batch, sent one, then died: after the lease the rest are claimed again, the sent
    one never."""
    await populate(db)
    notice_id = await draft(db, audience=AudienceKind.COMMUNITY, value="")
    async with db.transaction() as s:
        await n.confirm(s, notice_id, NOW)
        batch = await n.claim_batch(s, NOW, 10)
    async with db.transaction() as s:
        await n.mark_sent(s, batch[0].delivery_id, NOW)
    # crash: nothing else marked
    async with db.transaction() as s:
        assert await n.claim_batch(s, NOW + n.LEASE - timedelta(seconds=1), 10) == []
        resumed = await n.claim_batch(s, NOW + n.LEASE, 10)
    assert sorted(c.tg_user_id for c in resumed) == [102, 103, 104, 105]
    async with db.session() as s:
        total = (await s.exec(select(func.count()).select_from(NoticeDelivery))).one()
    assert total == 5



async def test_a_new_sender_takes_a_dead_one_s_claims_at_once_and_leaves_scheduled_rows(db: Database) -> None:
    """The next sender (a restart, a new leader) does not wait out the lease of rows a killed one had claimed; rows
    of a notice scheduled for later, never claimed, keep their time."""
    await populate(db)
    notice_id = await draft(db, audience=AudienceKind.COMMUNITY, value="")
    later = await draft(db, audience=AudienceKind.GRID, value="A04")
    async with db.transaction() as s:
        await n.schedule(s, later, NOW + timedelta(hours=3))
        await n.confirm(s, later, NOW)
        await n.confirm(s, notice_id, NOW)
        batch = await n.claim_batch(s, NOW, 10)
        await n.mark_sent(s, batch[0].delivery_id, NOW)
    assert {c.notice_id for c in batch} == {notice_id}
    async with db.transaction() as s:  # the sender died; the next one starts a second later
        assert await n.release_all(s, NOW + timedelta(seconds=1)) == 4
        resumed = await n.claim_batch(s, NOW + timedelta(seconds=1), 10)
    assert sorted(c.tg_user_id for c in resumed) == [102, 103, 104, 105]
    assert (await rows(db, later))[104].next_try_at == NOW + timedelta(hours=3)

# --- the sender's pieces (bot/sender.py) that need no Bot API --------------------------------


def test_sender_tasks_follow_the_pace() -> None:
    from bot.sender import MAX_TASKS, sender_tasks

    assert [sender_tasks(p) for p in (1, 30, 75, 76, 100, 150, 300, 10_000)] == [1, 1, 1, 2, 2, 2, 4, MAX_TASKS]


async def test_pacer_gives_concurrent_callers_their_own_slots() -> None:
    """Three tasks waiting at once are spaced 1/rate apart (slots reserved before sleeping), and a second
    message to a chat waits the chat interval."""
    import asyncio

    from bot.sender import Pacer

    clock = [100.0]
    sent: list[tuple[float, int]] = []

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0)
        clock[0] = max(clock[0], start + seconds)  # every sleeper began at `start`

    start = clock[0]
    pacer = Pacer(per_second=4, chat_interval=1.0, chat_burst=1, clock=lambda: clock[0], sleep=sleep)

    async def send(chat: int) -> None:
        await pacer.wait(chat)
        sent.append((clock[0], chat))

    await asyncio.gather(send(1), send(2), send(3), send(1))
    assert sorted(sent) == [(100.0, 1), (100.25, 2), (100.5, 3), (101.0, 1)]


async def test_sent_marks_are_committed_together(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Marks handed in while another task's commit runs go out in the next single UPDATE; each task returns
    only once its own row is committed (the sender's one-row-in-flight-per-task bound)."""
    import asyncio
    from types import SimpleNamespace

    from bot.sender import _SentMarks

    await populate(db)
    notice_id = await draft(db, audience=AudienceKind.COMMUNITY, value="")
    async with db.transaction() as s:
        await n.confirm(s, notice_id, NOW)
        ids = [c.delivery_id for c in await n.claim_batch(s, NOW, 10)]
    commits: list[list[int]] = []
    real = n.mark_sent_many

    async def recording(session: AsyncConnection, delivery_ids: list[int], now: datetime) -> int:
        commits.append(list(delivery_ids))
        await asyncio.sleep(0.01)  # a commit that takes a while (SQLite here answers at once, on the loop's thread)
        return await real(session, delivery_ids, now)

    monkeypatch.setattr(n, "mark_sent_many", recording)
    marks = _SentMarks(SimpleNamespace(db=db, now=lambda: NOW))  # type: ignore[arg-type]

    async def mark(delivery_id: int) -> DeliveryStatus:
        await marks.sent(delivery_id)
        async with db.session() as s:
            row = await s.get(NoticeDelivery, delivery_id)
        assert row is not None
        return row.status

    try:
        assert await asyncio.gather(*(mark(i) for i in ids[:4])) == [DeliveryStatus.SENT] * 4
    finally:
        await marks.close()
    assert commits == [ids[:1], ids[1:4]]
    async with db.transaction() as s:
        assert await real(s, ids[:2], NOW) == 0  # sent already: the status guard holds for many too
        assert await real(s, ids[4:], NOW) == 1
        assert await real(s, [], NOW) == 0


async def test_sender_transport_maps_failures_as_ptb_does() -> None:
    """The sender's aiohttp backend: a refused connection is a NetworkError, a silent server TimedOut,
    an answer is (status, body) for PTB to judge (429 → RetryAfter etc. happen in PTB's BaseRequest)."""
    import asyncio
    import socket

    from aiohttp import web
    from telegram.error import NetworkError, TimedOut

    from bot.transport import AiohttpRequest

    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(1)  # five times the client's timeout
        return web.json_response({"ok": True, "result": True})

    async def fast(_request: web.Request) -> web.Response:
        return web.json_response({"ok": False, "error_code": 429, "parameters": {"retry_after": 3}}, status=429)

    app = web.Application()
    app.router.add_post("/slow", slow)
    app.router.add_post("/fast", fast)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    request = AiohttpRequest(timeout=0.2)
    await request.initialize()
    try:
        status, body = await request.do_request(f"http://127.0.0.1:{port}/fast", "POST")
        assert status == 429 and b"retry_after" in body
        with pytest.raises(TimedOut):
            await request.do_request(f"http://127.0.0.1:{port}/slow", "POST")
        with pytest.raises(NetworkError):
            await request.do_request(f"http://127.0.0.1:{closed}/fast", "POST")
    finally:
        await request.shutdown()
        await runner.cleanup()


async def test_sender_transport_sends_the_parameters_as_one_json_object_and_files_as_multipart() -> None:
    """The fields PTB would have form-encoded (strings; a keyboard as JSON text) arrive as the same strings in a
    JSON body, Chinese text as it is; a call with a file is still multipart."""
    import json

    from aiohttp import web
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
    from telegram.request import RequestData
    from telegram.request._requestparameter import RequestParameter  # how PTB's Bot builds a call's RequestData

    from bot.transport import AiohttpRequest

    seen: list[tuple[str, dict[str, object]]] = []

    async def record(request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            seen.append((request.content_type, await request.json()))
        else:
            form = await request.post()
            seen.append((request.content_type,
                         {k: (v if isinstance(v, str) else v.file.read()) for k, v in form.items()}))
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/m", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/m"
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("确认提交", callback_data="ok.1a2b")]])
    text = "✅ 已受理！工单号：LL-20261202-0003\n类别：设施报修 & 100% = ?"
    data = RequestData([RequestParameter.from_input("chat_id", 500_001), RequestParameter.from_input("text", text),
                        RequestParameter.from_input("reply_markup", keyboard)])
    upload = RequestData([RequestParameter.from_input("chat_id", -100),
                          RequestParameter.from_input("photo", InputFile(b"\x89PNG...", filename="chart.png"))])
    request = AiohttpRequest()
    await request.initialize()
    try:
        assert (await request.do_request(url, "POST", data))[0] == 200
        assert (await request.do_request(url, "POST", upload))[0] == 200
    finally:
        await request.shutdown()
        await runner.cleanup()
    (kind, fields), (upload_kind, upload_fields) = seen
    assert kind == "application/json" and fields == data.json_parameters
    assert fields["text"] == text and fields["chat_id"] == "500001"
    assert json.loads(str(fields["reply_markup"])) == keyboard.to_dict()
    assert upload_kind == "multipart/form-data" and upload_fields["chat_id"] == "-100"
    assert upload_fields["photo"] == b"\x89PNG..."


async def test_sender_transport_takes_proxies_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.transport import AiohttpRequest

    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                 "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,bot-api.internal")
    request = AiohttpRequest()
    await request.initialize()
    try:
        assert request._proxy("https://api.telegram.org/bot1:x/sendMessage") == "http://proxy.example:3128"
        assert request._proxy("https://bot-api.internal:8081/bot1:x/sendMessage") is None
        assert request._proxy("http://127.0.0.1:8081/bot1:x/sendMessage") is None  # no HTTP_PROXY
    finally:
        await request.shutdown()


async def test_pacer_lets_a_chat_have_a_short_burst_then_one_a_second() -> None:
    """Three messages to one chat go at once (a reply of three is not drawn out), the fourth waits until the
    window of three seconds has room; a group's 21st message in a minute waits for the minute."""
    import asyncio

    from bot.sender import Pacer

    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    pacer = Pacer(per_second=1000, chat_interval=1.0, chat_burst=3, group_window=60.0, group_burst=20,
                  clock=lambda: clock[0], sleep=sleep)
    times = []
    for _ in range(4):
        await pacer.wait(7)
        times.append(round(clock[0], 3))
    assert times[:3] == [0.0, 0.001, 0.002] and times[3] == 3.0
    clock[0] = 100.0
    group = []
    for _ in range(21):
        await pacer.wait(-100)
        group.append(clock[0])
    assert group[19] < 120.0 and group[20] >= 160.0
    await asyncio.sleep(0)


async def test_the_handlers_replies_share_the_sender_s_pacer() -> None:
    from bot.sender import Pacer, SharedLimiter

    waited: list[int] = []

    class Recorder(Pacer):
        async def wait(self, chat_id: int) -> None:
            waited.append(chat_id)

    limiter = SharedLimiter(Recorder())

    async def call() -> bool:
        return True

    assert await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 42}, None) is True
    assert await limiter.process_request(call, (), {}, "answerCallbackQuery", {"callback_query_id": "x"}, None)
    assert await limiter.process_request(call, (), {}, "editMessageText", {"chat_id": "-100", "text": "x"}, None)
    assert waited == [42, -100]


async def test_pacer_says_how_long_a_chat_must_wait_without_taking_a_slot() -> None:
    """What lets the sender give a full desk group's card back instead of sleeping on it (and keeping a
    resident's number waiting): the wait a chat's own limits impose, asked without reserving anything."""
    from bot.sender import Pacer

    clock = [0.0]

    async def sleep(_: float) -> None:
        return None

    pacer = Pacer(per_second=30, chat_interval=1.0, chat_burst=1, group_window=60.0, group_burst=20,
                  clock=lambda: clock[0], sleep=sleep)
    assert pacer.ready_in(-100) == 0.0 and pacer.ready_in(7) == 0.0
    for _ in range(20):  # a desk group's twenty a minute, taken
        await pacer.wait(-100)
        clock[0] += 1.0
    assert pacer.ready_in(-100) == 40.0  # the 21st: a minute after the first
    waits = [pacer.ready_in(-100) for _ in range(3)]
    assert waits == [waits[0]] * 3  # asking reserves nothing
    assert pacer.ready_in(7) == 0.0  # a resident's chat is free all along
    await pacer.wait(7)
    assert 0.0 < pacer.ready_in(7) <= 1.0  # one a second in a private chat


async def test_pacer_spreads_a_group_s_last_slots_until_its_minute_frees_the_next() -> None:
    """A desk group's card stream faster than twenty a minute: one at once each while more than the reserve is free,
    then the reserve spread until the oldest send leaves the window (the sender combines what waits meanwhile), so no
    send waits for the rest of the minute; never more than twenty in any sixty seconds. Replies and alerts
    (``spread=False``) still take a free slot at once."""
    from itertools import pairwise

    from bot.sender import Pacer

    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    pacer = Pacer(per_second=30, chat_interval=1.0, chat_burst=3, group_window=60.0, group_burst=20,
                  group_reserve=5, clock=lambda: clock[0], sleep=sleep)
    for _ in range(15):  # a card a second: each at once while more than five slots are free
        assert pacer.ready_in(-100, spread=True) == 0.0
        await pacer.wait(-100, spread=True)
        clock[0] += 1.0
    assert clock[0] == 15.0 and pacer.free_now(-100) == 5
    assert pacer.ready_in(-100, spread=True) == pytest.approx((60.0 - 14.0) / 5 - 1.0)  # 5 left for 46 s
    assert pacer.ready_in(-100) == 0.0  # an emergency's alert would go now
    assert pacer.ready_in(7, spread=True) == 0.0  # a private chat has no minute to spread
    sent = [at for at in pacer._groups[-100]]
    while clock[0] < 300.0:  # and on for five minutes, sending whenever the group may take one
        await pacer.wait(-100, spread=True)
        sent.append(clock[0])
        clock[0] += 0.5
    assert all(later - at >= 60.0 for at, later in zip(sent, sent[20:], strict=False))  # twenty a minute
    assert max(b - a for a, b in pairwise(sent)) <= 60.0 / 5  # a send every few seconds
    unspread = Pacer(per_second=30, chat_interval=1.0, chat_burst=3, group_window=60.0, group_burst=20,
                     group_reserve=0, clock=lambda: clock[0], sleep=sleep)
    start, times = clock[0], []
    for _ in range(21):  # reserve 0: the whole minute at once, the rest waits for it
        await unspread.wait(-100, spread=True)
        times.append(clock[0] - start)
    assert times[19] < 20.0 and times[20] >= 60.0
