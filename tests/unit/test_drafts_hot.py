"""The draft's hot path (read once, changed in hand, written in one guarded statement) on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.cases import drafts
from services.cases.drafts import DraftStage
from services.people.residents import create_resident
from storage.db import Database
from storage.models import Draft

NOW = datetime(2026, 3, 17, 2, 0, tzinfo=UTC)


def test_appended_joins_within_the_window_and_starts_anew_after_it() -> None:
    first = drafts.appended(None, 7, "  楼道灯坏了 ", NOW)
    assert not first.joined and isinstance(first.draft, Draft)
    d = first.draft
    assert (d.resident_id, d.text, d.category, d.candidates, d.location, d.photos, d.attachments, d.stage,
            d.created_at, d.updated_at) == (7, "楼道灯坏了", None, [], None, [], [], DraftStage.COLLECTING, NOW, NOW)
    soon = NOW + timedelta(seconds=30)
    joined = drafts.appended(d, 7, "三楼", soon)
    assert joined.joined and joined.draft.text == "楼道灯坏了\n三楼" and joined.draft.created_at == NOW
    assert d.text == "楼道灯坏了"  # the row read is never touched
    late = drafts.appended(drafts.changed(d, now=NOW, category="repair", photos=["p"]), 7, "水管漏水",
                           NOW + timedelta(minutes=5))
    assert not late.joined and late.draft.text == "水管漏水" and late.draft.photos == [] and late.draft.category is None
    asking = drafts.changed(d, now=NOW, stage=DraftStage.ASKING_LOCATION)
    assert not drafts.appended(asking, 7, "3号楼", soon).joined
    photo_only = drafts.changed(drafts.copied(d, text=""), now=NOW, photos=["p"])
    words = drafts.appended(photo_only, 7, "门口垃圾", NOW + timedelta(minutes=20))
    assert words.joined and words.draft.photos == ["p"] and words.draft.text == "门口垃圾"


async def test_save_writes_only_over_the_row_read_and_take_takes_it_once(any_db: Database) -> None:
    async with any_db.transaction() as s:
        r = await create_resident(s, tg_user_id=5_000_000_000, name="孙阿姨", now=NOW)
    rid = r.id
    assert rid is not None
    first = drafts.changed(drafts.appended(None, rid, "楼道灯坏了", NOW).draft, now=NOW, candidates=[{"id": "repair"}],
                           attachments=[{"kind": "voice", "file_id": "v"}])
    later = NOW + timedelta(seconds=20)
    async with any_db.transaction() as s:
        assert await drafts.read(s, rid) is None
        assert await drafts.save(s, first, seen=None)
        assert not await drafts.save(s, first, seen=None)  # a row now: "there was none" no longer holds
        row = await drafts.read(s, rid)
        assert row is not None and row.text == "楼道灯坏了" and row.candidates == [{"id": "repair"}]
        assert row.attachments == [{"kind": "voice", "file_id": "v"}] and row.updated_at == NOW
        second = drafts.appended(row, rid, "三楼", later).draft
        assert not await drafts.save(s, second, seen=NOW - timedelta(seconds=1))  # not the row read
        assert await drafts.save(s, second, seen=NOW)
        assert (await drafts.read(s, rid)).text == "楼道灯坏了\n三楼"  # type: ignore[union-attr]
        assert await drafts.save(s, drafts.changed(second, now=later, stage=DraftStage.CONFIRMING), seen=drafts.ANY)
    async with any_db.transaction() as s:
        assert (await drafts.read(s, rid)).stage == DraftStage.CONFIRMING  # type: ignore[union-attr]
        assert not await drafts.take(s, rid, seen=NOW)  # an older read: not taken
        assert await drafts.take_with(s, rid, seen=NOW, returning=[]) is None
        assert await drafts.take_with(s, rid, seen=later, returning=[]) == {"resident_id": rid}
        assert not await drafts.take(s, rid, seen=later)  # the second tap
        assert await drafts.read(s, rid) is None
        assert await drafts.save(s, first, seen=None)
        assert await drafts.take(s, rid, seen=NOW)
