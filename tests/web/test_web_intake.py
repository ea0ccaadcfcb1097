"""The 服务码 form and the tracking page, over HTTP as a browser with JavaScript off would use them: a case in the
same lifecycle (channel 服务码, outbox rows for the desk written with it), photos made safe, and every kind of bad
input answered with the right status and nothing half-written."""

from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import func
from sqlmodel import select

from services.cases import lifecycle
from services.web import tokens
from storage.models import (
    CaseToken,
    Channel,
    OutboxKind,
    OutboxMessage,
    Resident,
    Ticket,
    TicketFollower,
    TicketStatus,
)

NOISE = "楼上天天晚上装修，吵得睡不着"


def jpeg_with_gps() -> bytes:
    """A real JPEG carrying EXIF (camera, GPS position): what a phone's photo holds."""
    img = Image.new("RGB", (640, 480), (200, 60, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 30.0), 3: "E", 4: (116.0, 23.0, 50.0)}  # GPSInfo
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


async def count(site, model) -> int:
    async with site.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(model))).one())


async def file(site, text: str = NOISE, **fields):
    data = {"text": text, "location": "9号楼2单元", **{k: v for k, v in fields.items() if k != "photo"}}
    files = {"photo": ("p.jpg", fields["photo"], "image/jpeg")} if "photo" in fields else None
    return await site.client.post("/s/A03", data=data, files=files)


async def test_the_form_page_is_one_page_in_chinese_for_its_grid(site) -> None:
    r = await site.client.get("/s/a03")
    assert r.status_code == 200
    assert "A03" in r.text and "发生了什么" in r.text and 'enctype="multipart/form-data"' in r.text
    assert 'hx-post="/s/A03/suggest"' in r.text  # htmx only enhances: the form posts on its own
    assert 'src="/static/htmx.min.js"' in r.text
    assert (await site.client.get("/static/htmx.min.js")).status_code == 200
    assert (await site.client.get("/s/Z99")).status_code == 404


async def test_live_suggestion_names_the_category(site) -> None:
    r = await site.client.post("/s/A03/suggest", data={"text": NOISE})
    assert r.status_code == 200 and "噪音扰民" in r.text
    r = await site.client.post("/s/A03/suggest", data={"text": "我爸摔倒了起不来"})
    assert "120" in r.text  # an emergency is told to call at once
    assert (await site.client.post("/s/A03/suggest", data={"text": ""})).text.strip() == ""


async def test_filing_opens_a_case_in_the_lifecycle_and_the_tracking_page_follows_it(site) -> None:
    r = await file(site, phone="138 1234 5678", name="李阿姨")
    assert r.status_code == 303
    location = r.headers["location"]
    token = re.match(r"^/t/([A-Za-z0-9_-]{22})\?new=1$", location)[1]
    async with site.db.session() as s:
        t = (await s.exec(select(Ticket))).one()
        owner = await s.get(Resident, t.resident_id)
        rows = (await s.exec(select(OutboxMessage).where(OutboxMessage.ticket_id == t.id))).all()
        stored = (await s.exec(select(CaseToken))).one()
    assert t.channel is Channel.WEB and t.status is TicketStatus.DISPATCHED and t.category == "noise"
    assert t.grid_code == "A03" and t.contact_phone == "13812345678" and t.contact_name == "李阿姨"
    assert owner.tg_user_id is None and owner.phone == "13812345678"
    assert any(row.kind is OutboxKind.CARD and row.chat_id == -100500 for row in rows)  # the desk's card
    assert stored.token_hash == tokens.digest(token) and token not in stored.token_hash  # only the digest is kept
    assert ("wake", None) in site.recorder.calls
    page = await site.client.get(location)
    assert page.status_code == 200
    assert t.number in page.text and "已派单" in page.text and "噪音扰民" in page.text
    assert "13812345678" not in page.text  # no phone on the public page
    assert f"https://t.me/linli_bot?start=t-{token}" in page.text  # claim it in the bot
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"


async def test_the_rating_buttons_come_after_banjie_and_close_the_case(site) -> None:
    token = (await file(site)).headers["location"].split("/")[2].split("?")[0]
    page = await site.client.get(f"/t/{token}")
    assert "满意吗" not in page.text
    async with site.db.transaction() as s:
        t = (await s.exec(select(Ticket))).one()
        for step in (TicketStatus.SIGNED, TicketStatus.IN_PROGRESS):
            assert (await lifecycle.transition(s, t, step, actor="staff:1", now=site.clock())).ok
        assert (await lifecycle.transition(s, t, TicketStatus.RESOLVED, actor="staff:1", now=site.clock(),
                                           result="已协调楼上住户，晚上不再施工")).ok
    page = await site.client.get(f"/t/{token}")
    assert "已办结" in page.text and "晚上不再施工" in page.text and "满意吗" in page.text
    r = await site.client.post(f"/t/{token}/rate", data={"rating": "s"})
    assert r.status_code == 303 and r.headers["location"] == f"/t/{token}?rated=1"
    async with site.db.session() as s:
        t = (await s.exec(select(Ticket))).one()
    assert t.status is TicketStatus.CLOSED and t.rating.value == "satisfied"
    assert ("rated", (t.number, None)) in site.recorder.calls
    again = await site.client.post(f"/t/{token}/rate", data={"rating": "u"})
    assert again.status_code == 409  # rated once


async def test_a_photo_is_reencoded_without_its_metadata(site) -> None:
    original = jpeg_with_gps()
    assert b"PhoneMaker" in original
    r = await file(site, photo=original)
    assert r.status_code == 303
    [(file_id, stored)] = site.recorder.photos.items()
    async with site.db.session() as s:
        t = (await s.exec(select(Ticket))).one()
    assert t.photos == [file_id]
    with Image.open(io.BytesIO(stored)) as im:
        assert im.format == "JPEG" and im.size == (640, 480)
        assert not im.getexif() and "exif" not in im.info and "icc_profile" not in im.info
    assert b"PhoneMaker" not in stored
    token = r.headers["location"].split("/")[2].split("?")[0]
    shown = await site.client.get(f"/t/{token}/photo/0")
    assert shown.status_code == 200 and shown.content == stored and shown.headers["content-type"] == "image/jpeg"
    assert (await site.client.get(f"/t/{token}/photo/1")).status_code == 404


async def test_a_file_that_is_no_image_or_twenty_megabytes_is_refused_and_nothing_is_written(site) -> None:
    r = await file(site, photo=b"%PDF-1.4 not a photo at all" * 100)
    assert r.status_code == 415 and "不是照片" in r.text
    assert NOISE in r.text  # what the resident wrote is kept in the form
    big = b"\xff\xd8\xff\xe0" + b"\0" * (20 * 1024 * 1024)
    r = await file(site, photo=big)
    assert r.status_code == 413 and "照片太大" in r.text
    assert await count(site, Ticket) == 0 and await count(site, OutboxMessage) == 0
    assert site.recorder.photos == {}


async def test_when_telegram_cannot_keep_the_photo_nothing_is_written(site) -> None:
    site.recorder.fail_upload = True
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(buf, "PNG")
    r = await file(site, photo=buf.getvalue())
    assert r.status_code == 503 and "照片暂时无法保存" in r.text
    assert await count(site, Ticket) == 0


async def test_form_mistakes_are_told_and_nothing_is_written(site) -> None:
    r = await file(site, text="吵", phone="12345")
    assert r.status_code == 400
    assert "至少 4 个字" in r.text and "手机号码格式不对" in r.text
    r = await file(site, category="nonsense")
    assert r.status_code == 400 and "请选择列表中的类别" in r.text
    assert await count(site, Ticket) == 0


async def test_the_honeypot_catches_bots_quietly(site) -> None:
    r = await file(site, website="http://spam.example")
    assert r.status_code == 200 and "/t/" not in r.text
    assert await count(site, Ticket) == 0 and await count(site, Resident) == 0


async def test_a_hundred_posts_a_minute_from_one_address_get_429(site) -> None:
    answers = []
    for i in range(100):
        r = await file(site, text=f"{NOISE}，第{i}次反映，{i}号楼道")
        answers.append(r.status_code)
    assert answers[:5] == [303] * 5
    assert set(answers[5:]) == {429}
    r = await file(site)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0 and "提交太频繁" in r.text
    assert await count(site, Ticket) <= 5
    site.clock.advance(minutes=11)  # the window passes (the hourly limit still counts the five)
    assert (await file(site, text="小区路灯坏了好几盏，晚上很黑")).status_code == 303


async def test_duplicates_are_joined_as_in_chat_and_the_neighbour_tracks_the_same_case(site) -> None:
    first = await file(site, phone="13800000001")
    second = await site.client.post("/s/A03", data={"text": "9号楼楼上装修太吵了，晚上睡不着", "location": "9号楼",
                                                     "phone": "13800000002"})
    assert first.status_code == second.status_code == 303
    async with site.db.session() as s:
        assert int((await s.exec(select(func.count()).select_from(Ticket))).one()) == 1
        assert int((await s.exec(select(func.count()).select_from(TicketFollower))).one()) == 1
    page = await site.client.get(second.headers["location"])
    assert "已并入" in page.text
    # the neighbour's token opens the case, but is no author's: no rating, no photos
    token = second.headers["location"].split("/")[2].split("?")[0]
    r = await site.client.post(f"/t/{token}/rate", data={"rating": "s"})
    assert r.status_code == 403


async def test_unknown_or_malformed_tokens_open_nothing(site) -> None:
    await file(site)
    for bad in ("x" * 22, "short", "../../etc", tokens.new_token()):
        assert (await site.client.get(f"/t/{bad}")).status_code == 404
        assert (await site.client.post(f"/t/{bad}/rate", data={"rating": "s"})).status_code == 404
