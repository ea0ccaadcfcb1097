"""Board sign-in (Mini App init data, one-time links, the session cookie) and the board itself: who sees what,
the desk's moves by the card's rules, and refusals logged in the audit table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from linli_web_tests import ADMIN, BOT_TOKEN, COMMUNITY, RESIDENT, WANG, ZHANG
from sqlmodel import select

from services.cases.intake import Intake, open_case
from services.people.residents import offline_resident
from services.web import auth
from storage.models import AuditEntry, Ticket, TicketEvent, TicketEventKind, TicketStatus
from web.core import SESSION_COOKIE


def init_data(user: int, *, at: datetime, token: str = BOT_TOKEN, **extra: str) -> str:
    fields = {"query_id": "AAH-test", "user": json.dumps({"id": user, "first_name": "张", "username": "zhang"}),
              "auth_date": str(int(at.timestamp())), **extra}
    fields["hash"] = auth.sign_init_data(fields, token)
    return urlencode(fields)


async def open_noise(site, text: str = "楼上装修太吵了", phone: str | None = "13912345678") -> Ticket:
    async with site.db.transaction() as s:
        r = await offline_resident(s, name="王大爷", phone=phone, building="9号楼", grid_code="A03", now=site.clock())
        opened = await open_case(s, resident=r, intake=Intake("noise", text, "9号楼"), community=COMMUNITY,
                                 staff_chat_id=-100500, now=site.clock())
    return opened.ticket


def test_init_data_check_follows_telegrams_algorithm() -> None:
    now = datetime(2026, 3, 17, 2, 0, tzinfo=UTC)
    good = init_data(ZHANG, at=now - timedelta(minutes=5))
    user = auth.check_init_data(good, BOT_TOKEN, now=now)
    assert isinstance(user, auth.WebAppUser) and user.id == ZHANG and user.username == "zhang"
    forged = good.replace("%22id%22%3A+3001", "%22id%22%3A+9001")
    assert forged != good
    assert auth.check_init_data(forged, BOT_TOKEN, now=now) is auth.InitDataError.BAD_HASH
    other_bot = init_data(ZHANG, at=now, token="654321:OTHER")
    assert auth.check_init_data(other_bot, BOT_TOKEN, now=now) is auth.InitDataError.BAD_HASH
    old = init_data(ZHANG, at=now - timedelta(hours=2))
    assert auth.check_init_data(old, BOT_TOKEN, now=now) is auth.InitDataError.EXPIRED
    future = init_data(ZHANG, at=now + timedelta(hours=1))
    assert auth.check_init_data(future, BOT_TOKEN, now=now) is auth.InitDataError.EXPIRED
    for bad in ("", "hash=abc", "a=1&a=2&hash=x&auth_date=1", "%%%"):
        assert auth.check_init_data(bad, BOT_TOKEN, now=now) is auth.InitDataError.MALFORMED
    # the data-check string: every field but hash, sorted, key=value, newline-separated
    assert auth.data_check_string({"b": "2", "a": "1", "hash": "h"}) == "a=1\nb=2"


async def test_mini_app_sign_in_sets_a_safe_session_cookie(site) -> None:
    await site.grant(ZHANG, "staff", "juweihui")
    r = await site.client.post("/auth/webapp", data={"init_data": init_data(ZHANG, at=site.clock())})
    assert r.status_code == 303 and r.headers["location"] == "/board"
    cookie = r.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http locally; https sites get Secure (below)
    assert (await site.client.get("/board")).status_code == 200


async def test_forged_or_expired_init_data_signs_nobody_in(site) -> None:
    await site.grant(ZHANG, "staff", "juweihui")
    forged = init_data(ZHANG, at=site.clock(), token="654321:OTHER")
    r = await site.client.post("/auth/webapp", data={"init_data": forged})
    assert r.status_code == 403 and "set-cookie" not in r.headers
    old = init_data(ZHANG, at=site.clock() - timedelta(hours=3))
    r = await site.client.post("/auth/webapp", data={"init_data": old})
    assert r.status_code == 403 and "过期" in r.text
    assert (await site.client.get("/board")).status_code == 401


async def test_secure_cookie_when_the_site_is_https(site) -> None:
    site.web.config.base_url = "https://linli.example.org"
    r = await site.client.post("/auth/webapp", data={"init_data": init_data(ZHANG, at=site.clock())})
    assert "Secure" in r.headers["set-cookie"]


async def test_one_time_link_signs_in_once_within_ten_minutes(site) -> None:
    await site.grant(ZHANG, "staff", "juweihui")
    async with site.db.transaction() as s:
        token = await auth.create_link(s, tg_user_id=ZHANG, now=site.clock())
    page = await site.client.get(f"/login/{token}")  # opening (a link preview) does not use it
    assert page.status_code == 200 and "登录" in page.text
    r = await site.client.post(f"/login/{token}")
    assert r.status_code == 303 and SESSION_COOKIE in r.headers["set-cookie"]
    assert (await site.client.get("/board")).status_code == 200
    site.client.cookies.clear()
    again = await site.client.post(f"/login/{token}")
    assert again.status_code == 403 and "已失效" in again.text
    async with site.db.transaction() as s:
        late = await auth.create_link(s, tg_user_id=ZHANG, now=site.clock())
    site.clock.advance(minutes=10, seconds=1)
    assert (await site.client.post(f"/login/{late}")).status_code == 403
    assert (await site.client.post("/login/not-a-token")).status_code == 403


async def test_the_board_is_for_staff_only(site) -> None:
    assert (await site.client.get("/board")).status_code == 401
    await site.sign_in(RESIDENT)
    r = await site.client.get("/board/cases")
    assert r.status_code == 403
    async with site.db.session() as s:
        refusals = (await s.exec(select(AuditEntry).where(AuditEntry.tg_user_id == RESIDENT))).all()
    assert refusals and not refusals[0].allowed and refusals[0].via == "web:cases"


async def test_each_sees_the_cases_of_their_scope_and_only_the_desk_sees_the_phone(site) -> None:
    t = await open_noise(site)  # 居委会 (juweihui) takes noise
    await site.grant(ZHANG, "staff", "juweihui")
    await site.grant(WANG, "staff", "wuye")
    await site.sign_in(WANG)
    listed = await site.client.get("/board/cases")
    assert t.number not in listed.text
    r = await site.client.get(f"/board/cases/{t.number}")
    assert r.status_code == 403
    await site.grant(4001, "supervisor")
    await site.sign_in(4001)
    page = await site.client.get(f"/board/cases/{t.number}")
    assert page.status_code == 200 and "楼上装修太吵了" in page.text
    assert "13912345678" not in page.text and "签收" not in page.text.split("办理过程")[0].split("</dl>")[1]
    session = await site.sign_in(ZHANG)
    page = await site.client.get(f"/board/cases/{t.number}")
    assert "13912345678" in page.text and 'action="/board/cases/' in page.text
    assert site.csrf(session) in page.text
    assert t.number in (await site.client.get("/board/cases?status=open")).text
    board = await site.client.get("/board")
    assert "金桂社区居民委员会" in board.text


async def test_sign_reply_and_resolve_from_the_board_follow_the_cards_rules(site) -> None:
    t = await open_noise(site)
    await site.grant(ZHANG, "staff", "juweihui")
    session = await site.sign_in(ZHANG)
    csrf = site.csrf(session)
    url = f"/board/cases/{t.number}"
    assert (await site.client.post(f"{url}/sign", data={"csrf": "wrong", "version": str(t.version)})).status_code == 403
    stale = await site.client.post(f"{url}/sign", data={"csrf": csrf, "version": str(t.version + 7)})
    assert "error=conflict" in stale.headers["location"]
    early = await site.client.post(f"{url}/resolve", data={"csrf": csrf, "text": "已处理"})
    assert "error=not_allowed" in early.headers["location"]  # sign first, as on the card
    r = await site.client.post(f"{url}/sign", data={"csrf": csrf, "version": str(t.version)})
    assert r.headers["location"] == f"{url}?done=sign"
    twice = await site.client.post(f"{url}/sign", data={"csrf": csrf, "version": str(t.version)})
    assert "error=conflict" in twice.headers["location"]
    r = await site.client.post(f"{url}/reply", data={"csrf": csrf, "text": "明天上门了解情况"})
    assert r.headers["location"] == f"{url}?done=reply_nobody"  # an offline resident: nobody to message
    empty = await site.client.post(f"{url}/resolve", data={"csrf": csrf, "text": "  "})
    assert "error=result_required" in empty.headers["location"]
    r = await site.client.post(f"{url}/resolve", data={"csrf": csrf, "text": "已协调，晚上不再施工"})
    assert r.headers["location"] == f"{url}?done=resolve"
    async with site.db.session() as s:
        row = await s.get(Ticket, t.id)
        kinds = [(e.kind, e.to_status) for e in (await s.exec(select(TicketEvent).where(
            TicketEvent.ticket_id == t.id).order_by(TicketEvent.id))).all()]
    assert row.status is TicketStatus.RESOLVED and row.result == "已协调，晚上不再施工"
    assert (TicketEventKind.STATUS_CHANGED, TicketStatus.SIGNED) in kinds
    assert (TicketEventKind.REPLY, None) in kinds
    assert (TicketEventKind.STATUS_CHANGED, TicketStatus.IN_PROGRESS) in kinds
    names = [c[0] for c in site.recorder.calls]
    assert names.count("signed") == 1 and "replied" in names and "resolved" in names
    assert ("signed", (t.number, "工作人员")) in site.recorder.calls


async def test_staff_of_another_unit_cannot_act_and_it_is_audited(site) -> None:
    t = await open_noise(site)
    await site.grant(WANG, "staff", "wuye")
    await site.grant(4001, "supervisor")
    session = await site.sign_in(4001)  # reads every case, never handles one
    r = await site.client.post(f"/board/cases/{t.number}/sign", data={"csrf": site.csrf(session),
                                                                      "version": str(t.version)})
    assert r.status_code == 403
    async with site.db.session() as s:
        row = await s.get(Ticket, t.id)
        audit = (await s.exec(select(AuditEntry).where(AuditEntry.ticket_id == t.id))).all()
    assert row.status is TicketStatus.DISPATCHED
    assert [(a.action, a.allowed, a.via) for a in audit] == [("ticket.act", False, "web:sign")]


async def test_figures_and_the_monday_report(site) -> None:
    await open_noise(site)
    await site.grant(ADMIN, "admin")
    site.clock.advance(days=7)
    await site.sign_in(ADMIN)
    r = await site.client.get("/board/figures?period=2026-W12")
    assert r.status_code == 200 and "响应率" in r.text and "2026年第12周" in r.text
    assert "无法联系办结" in r.text and "不计入满意率、未评价和解决率" in r.text  # how the rates count it
    r = await site.client.get("/board/report")
    assert r.status_code == 200 and "诉求办理报表" in r.text and "不计入满意率、未评价和解决率" in r.text
    chart = await site.client.get("/board/figures/chart.png?period=2026-W12")
    assert chart.status_code in (200, 503)
    if chart.status_code == 200:
        assert chart.content[:8] == b"\x89PNG\r\n\x1a\n"


async def test_logout_ends_the_session(site) -> None:
    await site.grant(ZHANG, "staff", "juweihui")
    await site.sign_in(ZHANG)
    assert (await site.client.get("/board")).status_code == 200
    r = await site.client.post("/logout")
    assert r.status_code == 303
    assert (await site.client.get("/board")).status_code == 401


