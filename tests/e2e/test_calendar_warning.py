"""chinesecalendar knows no holidays of 2027 yet: in December, when the community file lists none either and its
limits count working time, the desk is told once (through the outbox) how to list them; not in November, not when
the file lists them, never twice."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from linli_e2e import STAFF_CHAT_ID, Clock, community_with_chats, running_desk

from bot import jobs
from bot.emulator import BotApiEmulator
from handlers import texts
from services import SHANGHAI
from services.cases import working_time
from services.community.model import load_community


def test_next_year_is_unknown_only_in_december_and_only_when_nobody_lists_it() -> None:
    listed = load_community(community_with_chats_text(holidays=True)).working_time
    none = load_community().working_time
    december, november = datetime(2026, 12, 2, 10, tzinfo=SHANGHAI), datetime(2026, 11, 30, 10, tzinfo=SHANGHAI)
    assert not working_time.known_year(2027)  # as shipped: if this fails, 2027 is known and the warning is moot
    assert working_time.next_year_unknown(december, none) == 2027
    assert working_time.next_year_unknown(november, none) is None
    assert working_time.next_year_unknown(december, listed) is None
    assert working_time.next_year_unknown(datetime(2025, 12, 2, 10, tzinfo=SHANGHAI), none) is None  # 2026 known


def community_with_chats_text(*, holidays: bool, tmp: Path | None = None) -> Path:
    """The sample file (with chats when ``tmp`` is given), 2027's holidays listed when ``holidays``."""
    import tempfile

    base = Path(tmp or tempfile.mkdtemp())
    path = community_with_chats(base)
    text = path.read_text(encoding="utf-8")
    if holidays:
        text = text.replace("# holidays = [2027-01-01, 2027-02-15]", "holidays = [2027-01-01, 2027-02-15]")
        assert "\nholidays = [2027-01-01" in text
    path.write_text(text, encoding="utf-8")
    return path


async def test_the_desk_is_told_once_in_december(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> None:
    clock.set(2026, 11, 30, 10)
    async with running_desk(emulator, tmp_path, clock) as desk:
        assert await jobs.calendar_tick(desk.app) is None  # November: not yet
        clock.set(2026, 12, 2, 10)
        cursor = emulator.cursor()
        assert await jobs.calendar_tick(desk.app) == 2027
        await desk.barrier()
        [told] = emulator.messages_after(STAFF_CHAT_ID, cursor)
        assert told.text == texts.staff_calendar_unknown(2027, working_time.calendar_version())
        assert "holidays" in told.text and "workdays" in told.text and "[working_time]" in told.text
        desk.app.bot_data.pop(jobs.CALENDAR_DONE, None)  # as after a restart: the database remembers
        clock.set(2026, 12, 20, 10)
        cursor = emulator.cursor()
        assert await jobs.calendar_tick(desk.app) is None
        await jobs.desk_tick(desk.app)
        await desk.barrier()
        assert emulator.messages_after(STAFF_CHAT_ID, cursor) == []


async def test_not_when_the_file_lists_next_years_holidays(emulator: BotApiEmulator, tmp_path: Path,
                                                           clock: Clock) -> None:
    clock.set(2026, 12, 2, 10)
    path = community_with_chats_text(holidays=True, tmp=tmp_path)
    async with running_desk(emulator, tmp_path, clock, community_file=path) as desk:
        assert await jobs.calendar_tick(desk.app) is None
