"""Open311 GeoReport v2, field by field against the spec: services.json, requests.json (GET with its filters and
defaults, POST with an API key), requests/<id>.json; errors as [{code, description}] with the right status; no
personal data in any read."""

from __future__ import annotations

import re
from datetime import timedelta

from linli_web_tests import COMMUNITY
from sqlmodel import select

from services.cases.intake import Intake, open_case
from services.community.model import Category
from services.people.residents import offline_resident
from services.web import open311
from storage.models import Channel, Resident, Ticket, TicketStatus

REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


async def case(site, text: str, category: str = "noise", location: str = "10号楼3单元502室",
               phone: str = "13712345678") -> Ticket:
    async with site.db.transaction() as s:
        r = await offline_resident(s, name="赵女士", phone=phone, building=None, grid_code=None, now=site.clock())
        return (await open_case(s, resident=r, intake=Intake(category, text, location), community=COMMUNITY,
                                staff_chat_id=None, now=site.clock())).ticket


async def client_key(site) -> str:
    async with site.db.transaction() as s:
        return await open311.add_client(s, name="区级平台", now=site.clock())


async def test_services_list_every_category_with_the_specs_fields(site) -> None:
    r = await site.client.get("/open311/v2/services.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert [s["service_code"] for s in body] == [c.value for c in Category]
    noise = body[0]
    assert noise == {"service_code": "noise", "service_name": "噪音扰民", "description": "噪音扰民类诉求",
                     "metadata": False, "type": "realtime", "keywords": "", "group": "接诉即办"}


async def test_a_request_read_field_by_field_without_personal_data(site) -> None:
    t = await case(site, "10号楼楼上装修吵，我电话13712345678，身份证11010519491231002X")
    r = await site.client.get(f"/open311/v2/requests/{t.number}.json")
    assert r.status_code == 200
    [item] = r.json()
    assert set(item) == REQUEST_FIELDS
    assert item["service_request_id"] == t.number
    assert item["status"] == "open" and item["status_notes"] == "已派单，等待承办单位签收"
    assert item["service_code"] == "noise" and item["service_name"] == "噪音扰民"
    assert item["agency_responsible"] == "金桂社区居民委员会"
    assert item["requested_datetime"] == "2026-03-17T10:00:00+08:00"
    assert ISO_WITH_OFFSET.match(item["updated_datetime"]) and ISO_WITH_OFFSET.match(item["expected_datetime"])
    assert item["address"] == "金桂社区10号楼"  # the building, never the flat
    point = next(b for b in COMMUNITY.building_points if b.name == "10号楼")  # from the community file
    assert (item["lat"], item["long"]) == (point.lat, point.lon)
    text = r.text
    for private in ("13712345678", "11010519491231002X", "赵女士", "502"):
        assert private not in text
    assert "137****" in item["description"]
    assert item["address_id"] is None and item["media_url"] is None


async def test_closed_requests_say_closed_with_the_result(site) -> None:
    from services.cases import lifecycle

    t = await case(site, "路灯坏了好几盏", category="repair")
    async with site.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        for step in (TicketStatus.SIGNED, TicketStatus.IN_PROGRESS):
            await lifecycle.transition(s, row, step, actor="staff:1", now=site.clock())
        await lifecycle.transition(s, row, TicketStatus.RESOLVED, actor="staff:1", now=site.clock(),
                                   result="已更换灯泡，联系人13600000000")
    [item] = (await site.client.get(f"/open311/v2/requests/{t.number}.json")).json()
    assert item["status"] == "closed" and item["status_notes"] == "已办结：已更换灯泡，联系人136****"


async def test_list_filters_and_the_ninety_day_default(site) -> None:
    old = await case(site, "去年的噪音问题，楼上装修", phone="13000000001")
    site.clock.advance(days=100)
    noise = await case(site, "楼上装修太吵了", phone="13000000002")
    repair = await case(site, "电梯坏了困人", category="repair", location="12号楼", phone="13000000003")
    numbers = [x["service_request_id"] for x in (await site.client.get("/open311/v2/requests.json")).json()]
    assert numbers == [repair.number, noise.number]  # newest first; 100 days ago is outside the default
    r = await site.client.get("/open311/v2/requests.json", params={"service_code": "repair"})
    assert [x["service_request_id"] for x in r.json()] == [repair.number]
    r = await site.client.get("/open311/v2/requests.json", params={"status": "closed"})
    assert r.json() == []
    since = (site.clock() - timedelta(days=120)).isoformat()
    r = await site.client.get("/open311/v2/requests.json", params={"start_date": since, "status": "open"})
    assert len(r.json()) == 3
    both = f"{old.number},{noise.number}"
    r = await site.client.get("/open311/v2/requests.json", params={"service_request_id": both})
    assert {x["service_request_id"] for x in r.json()} == {old.number, noise.number}


async def test_bad_dates_and_unknown_codes_are_400s_in_the_specs_shape(site) -> None:
    for params, word in (({"start_date": "yesterday"}, "start_date"),
                         ({"end_date": "2026-13-45T00:00:00Z"}, "end_date"),
                         ({"service_code": "noise,bogus"}, "bogus"), ({"status": "pending"}, "status"),
                         ({"start_date": "2026-03-10T00:00:00Z", "end_date": "2026-03-01T00:00:00Z"}, "before")):
        r = await site.client.get("/open311/v2/requests.json", params=params)
        assert r.status_code == 400, params
        [err] = r.json()
        assert err["code"] == 400 and word in err["description"]
    r = await site.client.get("/open311/v2/requests/LL-20990101-9999.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404
    assert (await site.client.get("/open311/v2/services.xml")).status_code == 404


async def test_at_most_a_thousand_requests(site) -> None:
    async with site.db.transaction() as s:
        r = await offline_resident(s, name="x", phone=None, building=None, grid_code=None, now=site.clock())
        for i in range(1005):
            s.add(Ticket(number=f"LL-20260317-{i:04d}", resident_id=r.id, category="noise", text=f"第{i}件",
                         unit="juweihui", created_at=site.clock(), updated_at=site.clock(), sign_due_at=site.clock(),
                         due_at=site.clock() + timedelta(days=1), status=TicketStatus.DISPATCHED))
    body = (await site.client.get("/open311/v2/requests.json")).json()
    assert len(body) == open311.MAX_REQUESTS == 1000


async def test_post_files_a_case_with_an_api_key(site) -> None:
    key = await client_key(site)
    form = {"api_key": key, "service_code": "sanitation", "description": "12号楼门口垃圾堆了三天没人清",
            "address_string": "12号楼", "first_name": "明", "last_name": "陈", "phone": "139-1111-2222"}
    r = await site.client.post("/open311/v2/requests.json", data=form)
    assert r.status_code == 201
    [item] = r.json()
    assert set(item) == {"service_request_id", "service_notice", "account_id"}
    async with site.db.session() as s:
        t = (await s.exec(select(Ticket).where(Ticket.number == item["service_request_id"]))).one()
        owner = await s.get(Resident, t.resident_id)
    assert t.channel is Channel.OPEN311 and t.category == "sanitation" and t.grid_code == "A03"
    assert t.contact_phone == "13911112222" and owner.name == "陈 明"
    assert ("wake", None) in site.recorder.calls
    read = (await site.client.get(f"/open311/v2/requests/{t.number}.json")).json()[0]
    assert "13911112222" not in str(read) and "陈" not in str(read)


async def test_post_refusals(site) -> None:
    key = await client_key(site)
    base = {"service_code": "noise", "description": "楼上装修太吵", "address_string": "9号楼"}
    r = await site.client.post("/open311/v2/requests.json", data=base)
    assert r.status_code == 403 and r.json()[0]["code"] == 403
    r = await site.client.post("/open311/v2/requests.json", data={**base, "api_key": "forged-key-0000000000"})
    assert r.status_code == 403
    for change, word in (({"service_code": "bogus"}, "service_code"), ({"description": ""}, "description"),
                         ({"address_string": ""}, "location"), ({"lat": "north", "long": "1"}, "lat")):
        r = await site.client.post("/open311/v2/requests.json", data={**base, "api_key": key, **change})
        assert r.status_code == 400 and word in r.json()[0]["description"], change
    async with site.db.transaction() as s:
        assert await open311.revoke_client(s, name="区级平台", now=site.clock())
    r = await site.client.post("/open311/v2/requests.json", data={**base, "api_key": key})
    assert r.status_code == 403
    async with site.db.session() as s:
        assert (await s.exec(select(Ticket))).all() == []


async def test_a_point_near_a_building_is_that_building(site) -> None:
    key = await client_key(site)
    r = await site.client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "repair", "description": "路灯不亮", "lat": "30.3001", "long": "120.1391"})
    assert r.status_code == 201
    async with site.db.session() as s:
        t = (await s.exec(select(Ticket))).one()
    assert t.location == "1号楼" and t.grid_code == "A01"
