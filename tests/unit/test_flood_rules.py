"""Flood control's rules (services.flood), and the two things that let one busy chat delay the others (the update
processor's slots and the pacer's overall pace)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.processor import PerChatUpdateProcessor
from bot.sender import Pacer
from bot.settings import load_settings
from services.cases import duplicates, intake
from services.community.model import load_community
from services.flood import SPLIT_LENGTH, FloodLimits, FloodWindow, Verdict, confirmed_since
from services.people.residents import get_or_create_resident
from storage.db import Database
from storage.models import Channel

LIMITS = FloodLimits(messages=8, window=10.0, drafts=3)


def run(window: FloodWindow, times: list[float], user: int = 1, **kw: object) -> list[Verdict]:
    return [window.check(user, t, **kw) for t in times]  # type: ignore[arg-type]


def test_fifty_in_ten_seconds_lets_eight_through_and_warns_once() -> None:
    verdicts = run(FloodWindow(LIMITS), [i * 0.2 for i in range(50)])
    assert verdicts[:8] == [Verdict.PASS] * 8
    assert verdicts.count(Verdict.WARN) == 1 and verdicts[8] is Verdict.WARN
    assert verdicts.count(Verdict.PASS) == 8  # the window is full until t=10, and the flood ends at 9.8


def test_a_steady_writer_is_paced_not_cut_off_and_warned_once_per_flood() -> None:
    window = FloodWindow(LIMITS)
    verdicts = run(window, [i * 0.5 for i in range(60)])  # two a second for thirty seconds
    assert verdicts.count(Verdict.WARN) == 1  # no quiet window in between: one flood, one warning
    assert 8 * 3 <= verdicts.count(Verdict.PASS) <= 8 * 3 + 8
    assert window.check(1, 29.5 + 11) is Verdict.PASS  # after a quiet window: as new
    assert run(window, [41 + i * 0.01 for i in range(9)]).count(Verdict.WARN) == 1  # a new flood, a new warning


def test_others_are_counted_apart() -> None:
    window = FloodWindow(LIMITS)
    run(window, [0.0] * 20, user=1)
    assert window.check(2, 0.0) is Verdict.PASS


def test_an_album_counts_once_and_shares_its_first_photo_fate() -> None:
    window = FloodWindow(LIMITS)
    for album in range(8):
        assert run(window, [0.0] * 10, album=f"a{album}") == [Verdict.PASS] * 10
    assert run(window, [0.0] * 10, album="late") == [Verdict.WARN] + [Verdict.DROP] * 9


def test_the_pieces_of_a_long_text_count_once() -> None:
    window = FloodWindow(LIMITS)
    run(window, [0.0] * 7)
    assert window.check(1, 1.0, length=SPLIT_LENGTH + 96) is Verdict.PASS  # the eighth: a long text
    assert window.check(1, 1.2, length=SPLIT_LENGTH + 96) is Verdict.PASS  # its second piece
    assert window.check(1, 1.3, length=50) is Verdict.PASS  # its last piece
    assert window.check(1, 1.4, length=50) is Verdict.WARN  # then the window is full


def test_admitted_after_all_staff_get_more() -> None:
    window = FloodWindow(LIMITS)
    verdicts = run(window, [0.0] * 9)
    assert verdicts[-1] is Verdict.WARN
    window.set_staff(1, True)
    window.admit(1, 0.0, Verdict.WARN)
    assert run(window, [0.0] * 71).count(Verdict.PASS) == 71  # 80 in all: ten times the limit
    assert window.check(1, 0.0) is Verdict.WARN  # a warning still to give: it was taken back


def test_memory_is_bounded() -> None:
    window = FloodWindow(LIMITS, max_users=100)
    for user in range(1000):
        window.check(user, 0.0)
    assert len(window) <= 101
    window.check(5000, 100.0)  # everyone else quiet for a window: forgotten
    assert len(window) == 1


@given(st.lists(st.tuples(st.integers(1, 3), st.floats(0, 0.5), st.sampled_from([None, "a", "b"])), max_size=200))
def test_never_more_than_the_limit_in_any_window_and_one_warning_per_flood(
        steps: list[tuple[int, float, str | None]]) -> None:
    window = FloodWindow(LIMITS)
    now = 0.0
    passed: dict[int, list[float]] = {}
    warned: dict[int, int] = {}
    albums: dict[tuple[int, str], bool] = {}
    for user, gap, album in steps:
        now += gap
        verdict = window.check(user, now, album=album)
        first_of_album = album is not None and (user, album) not in albums
        if album is not None:
            albums.setdefault((user, album), verdict is Verdict.PASS)
        if verdict is Verdict.PASS and (album is None or first_of_album):
            passed.setdefault(user, []).append(now)
        warned[user] = warned.get(user, 0) + (verdict is Verdict.WARN)
    for times in passed.values():
        assert all(sum(1 for t in times if a - LIMITS.window < t <= a) <= LIMITS.messages for a in times)
    total = now if now > 0 else 1
    assert all(n <= 1 + total // LIMITS.window for n in warned.values())


# -- the cap in the database ------


async def test_confirmed_since_counts_own_cases_and_joined_ones_not_recorded_or_emergencies(db: Database) -> None:
    community = load_community(None)
    now = datetime(2026, 3, 17, 2, 0, tzinfo=UTC)
    async with db.transaction() as s:
        r = await get_or_create_resident(s, tg_user_id=77, name="赵大爷", now=now)
        other = await get_or_create_resident(s, tg_user_id=78, name="钱阿姨", now=now)
        for i, (who, channel, recorded) in enumerate([(r, Channel.TELEGRAM, None), (r, Channel.PHONE, 3001),
                                                      (other, Channel.TELEGRAM, None)]):
            await intake.open_case(s, resident=who, intake=intake.Intake(
                category="repair", text=f"{i + 1}号楼楼道灯坏了", location=f"{i + 1}号楼", channel=channel,
                recorded_by=recorded), community=community, staff_chat_id=None, now=now)
        joined = await intake.open_case(s, resident=r, intake=intake.Intake(
            category="repair", text="3号楼楼道灯坏了", location="3号楼"), community=community, staff_chat_id=None,
            now=now)
        assert joined.linked  # the neighbour's case: followed, not opened again
        assert await duplicates.followers(s, joined.ticket.id) == [r.id]
    async with db.session() as s:
        assert await confirmed_since(s, 77, now - timedelta(seconds=10)) == 2
        assert await confirmed_since(s, 77, now + timedelta(seconds=1)) == 0
        assert await confirmed_since(s, 78, now - timedelta(seconds=10)) == 1
        assert await confirmed_since(s, 79, now - timedelta(seconds=10)) == 0


def test_settings_name_the_flood_limits() -> None:
    s = load_settings(_env_file=None)
    assert (s.flood_messages, s.flood_window_seconds, s.flood_drafts) == (8, 10, 3)
    assert load_settings(_env_file=None, flood_messages="0").flood_messages == 0


# -- one busy chat must not delay the others ------


async def test_a_chat_held_back_by_its_own_pace_leaves_the_overall_pace_to_the_others() -> None:
    clock = [0.0]

    async def sleep(_: float) -> None:
        return None

    pacer = Pacer(per_second=30, chat_interval=1.0, chat_burst=3, clock=lambda: clock[0], sleep=sleep)
    for _ in range(5):
        await pacer.wait(1)  # a resident's five replies: three at once, the rest three seconds on
    assert list(pacer._chats[1])[-1] >= 3.0
    await pacer.wait(2)
    assert pacer._chats[2][0] < 0.5  # the neighbour's reply is not put after the resident's fifth
    slots = sorted([*pacer._chats[1], *pacer._chats[2]])
    assert all(b - a >= 1 / 30 - 1e-9 for a, b in itertools.pairwise(slots))  # 30 a second overall


async def test_a_chats_messages_keep_their_order_through_the_pacer() -> None:
    clock = [0.0]

    async def sleep(_: float) -> None:
        return None

    pacer = Pacer(per_second=30, chat_interval=1.0, chat_burst=3, clock=lambda: clock[0], sleep=sleep)
    for chat in (1, 2, 1, 2, 1, 1, 2, 1):
        await pacer.wait(chat)
    for chat in (1, 2):
        times = list(pacer._chats[chat])
        assert times == sorted(times)


async def test_updates_queued_behind_their_own_chat_hold_no_slot() -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=4)
    await processor.initialize()
    release = asyncio.Event()
    order: list[str] = []

    async def busy() -> None:
        await release.wait()

    async def quick() -> None:
        order.append("other")

    from telegram import Chat, Message, Update, User

    def update(chat: int, n: int) -> Update:
        user = User(chat, "u", False)
        return Update(n, message=Message(n, datetime.now(UTC), Chat(chat, "private"), from_user=user))

    flood = [asyncio.create_task(processor.process_update(update(1, n), busy())) for n in range(10)]
    await asyncio.sleep(0)
    other = asyncio.create_task(processor.process_update(update(2, 99), quick()))
    async with asyncio.timeout(2):
        await other
    assert order == ["other"]
    release.set()
    await asyncio.gather(*flood)
