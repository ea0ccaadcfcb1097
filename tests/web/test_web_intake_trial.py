"""What an older resident on a phone got wrong on the 服务码 form (the phone trial), answered kindly: only emoji,
a phone number written with dashes or +86, a pasted letter of 5,000 characters, a photo lost to a mistake
elsewhere; and their Chinese punctuation kept as typed."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func
from sqlmodel import select

from services.web.intake import WebForm, clean_phone, has_words
from storage.models import Ticket


async def tickets(site) -> int:
    async with site.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(Ticket))).one())


def test_the_form_keeps_the_words_as_typed_and_writes_a_phone_number_one_way() -> None:
    form = WebForm.of(text="  3号楼2单元楼道灯坏了，晚上黑乎乎！\n老人下楼看不见  ", location="３号楼 2单元",
                      phone="+86 138-1234-5678")
    assert form.text == "3号楼2单元楼道灯坏了，晚上黑乎乎！\n老人下楼看不见"  # full-width ，！ stay Chinese
    assert form.phone == "13812345678" and form.errors() == []
    assert [clean_phone(p) for p in ("138 1234 5678", "１３８１２３４５６７８", "8613812345678", "010-12345678")] == \
        ["13812345678", "13812345678", "13812345678", "010-12345678"]
    assert WebForm.of(text="楼道灯坏了", phone="138 1234 567").errors() == ["phone_bad"]
    assert not has_words("😡😡😡😡😡！！") and has_words("漏水😡") and has_words("3")


async def test_only_emoji_is_asked_for_words_and_nothing_is_filed(site) -> None:
    r = await site.client.post("/s/A03", data={"text": "😡😡😡😡😡", "location": "3号楼2单元"})
    assert r.status_code == 400 and "请用文字说明发生了什么" in r.text
    assert "😡😡😡😡😡" in r.text and "3号楼2单元" in r.text  # kept in the form
    assert await tickets(site) == 0


async def test_a_pasted_5000_characters_are_refused_kindly_and_kept_whole_to_shorten(site) -> None:
    page = await site.client.get("/s/A03")
    assert 'maxlength="1000"' not in page.text.split('id="text"')[1].split(">")[0]  # no silent cut at 1,000
    long = "楼上漏水" * 1250
    r = await site.client.post("/s/A03", data={"text": long, "location": "3号楼2单元"})
    assert r.status_code == 400 and "最多 1000 字" in r.text and long in r.text
    assert await tickets(site) == 0


async def test_a_phone_with_dashes_files_and_a_short_one_is_told_with_an_example(site) -> None:
    words = "3号楼2单元楼道灯坏了好几天了晚上黑乎乎的"
    r = await site.client.post("/s/A03", data={"text": words, "phone": "138 1234 567"})
    assert r.status_code == 400 and "例如 13812345678" in r.text and "不想留电话可以空着" in r.text
    r = await site.client.post("/s/A03", data={"text": words, "phone": "138-1234-5678", "location": "3号楼2单元"})
    assert r.status_code == 303
    async with site.db.session() as s:
        t = (await s.exec(select(Ticket))).one()
    assert t.contact_phone == "13812345678" and t.text == words


async def test_a_photo_sent_with_a_mistake_elsewhere_is_asked_for_again(site) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(buf, "PNG")
    r = await site.client.post("/s/A03", data={"text": "吵"}, files={"photo": ("p.png", buf.getvalue(), "image/png")})
    assert r.status_code == 400 and "至少 4 个字" in r.text and "重新选择照片" in r.text
    r = await site.client.post("/s/A03", data={"text": "吵"})
    assert r.status_code == 400 and "重新选择照片" not in r.text  # no photo, no such sentence
    assert await tickets(site) == 0 and site.recorder.photos == {}


async def test_resident_pages_are_marked_for_large_type_and_the_new_case_clears_the_kept_draft(site) -> None:
    form = await site.client.get("/s/A03")
    assert '<body class="resident">' in form.text and 'src="/static/intake.js"' in form.text
    assert 'data-grid="A03"' in form.text and 'data-required="请写几句话，说明发生了什么。"' in form.text
    assert (await site.client.get("/static/intake.js")).status_code == 200
    r = await site.client.post("/s/A03", data={"text": "小区南门路灯不亮好几天了", "location": "南门"})
    new = await site.client.get(r.headers["location"])
    assert "data-filed" in new.text and 'src="/static/intake.js"' in new.text
    later = await site.client.get(r.headers["location"].split("?")[0])
    assert "data-filed" not in later.text


async def test_a_mistyped_address_says_so_in_chinese_with_a_way_back(site) -> None:
    r = await site.client.get("/s/A03/nope")
    assert r.status_code == 404 and "页面不存在" in r.text and '<a class="button" href="/">返回</a>' in r.text
