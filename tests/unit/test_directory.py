"""The directory of users the bot has met: @username lookups, case-insensitive, newest holder wins."""

from datetime import datetime, timedelta

from services import SHANGHAI
from services.people.directory import find, remember, username_of
from storage.db import Database

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


def test_username_of() -> None:
    assert username_of("@Li_XY") == "li_xy"
    assert username_of(" li_xy2 ") == "li_xy2"
    for bad in ("@", "@ab", "@1abc", "@li-xy", "李秀英", "@" + "a" * 33):
        assert username_of(bad) is None, bad


async def test_remember_and_find(any_db: Database) -> None:
    async with any_db.transaction() as s:
        await remember(s, tg_user_id=7, username="Li_XY", name="李秀英", now=NOW)
        await remember(s, tg_user_id=8, username=None, name="王阿姨", now=NOW)
    async with any_db.session() as s:
        assert (await find(s, "@li_xy")).tg_user_id == 7
        assert await find(s, "@wang") is None
        assert await find(s, "not a name!") is None
    async with any_db.transaction() as s:  # 7 renames, 9 takes the old name later: the newest holder wins
        await remember(s, tg_user_id=7, username="li_new", name="李秀英", now=NOW + timedelta(days=1))
        await remember(s, tg_user_id=9, username="li_xy", name="新用户", now=NOW + timedelta(days=2))
    async with any_db.session() as s:
        assert (await find(s, "li_xy")).tg_user_id == 9
        assert (await find(s, "LI_NEW")).name == "李秀英"
