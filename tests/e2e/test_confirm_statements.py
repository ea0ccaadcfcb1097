"""确认 reads no case before its write transaction: the duplicate check's candidates ride in the draft's
``DELETE … RETURNING`` and are compared under the lock (``services.cases.duplicates.Check``); a press on the draft
the bot just showed makes no read at all (the draft known as written, checked by its ``DELETE``), so it is the one
write transaction and nothing else of its own."""

from __future__ import annotations

from linli_e2e import Bot, registered, ticket_number
from sqlalchemy import event

from handlers import texts
from storage.models import KnownUser

NOISE = "楼上天天装修，吵死了，9号楼"
PARKING = "小区东门口天天有车乱停，车都开不出去"


class Statements:
    """The SQL the bot runs while in the block, by its first words."""

    def __init__(self, bot: Bot) -> None:
        self.engine = bot.db.engine.sync_engine
        self.seen: list[str] = []

    def _note(self, conn: object, cursor: object, statement: str, *_: object) -> None:
        self.seen.append(" ".join(statement.split()))

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._note)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._note)

    def before_the_draft_is_taken(self) -> list[str]:
        """What ran before the draft was taken (a read of cases there is a look: the speaker's read is of residents)."""
        taken = next(i for i, s in enumerate(self.seen) if s.startswith("DELETE FROM drafts"))
        return self.seen[:taken]


async def test_a_press_on_confirm_reads_no_case_before_its_write(bot: Bot) -> None:
    neighbour = await registered(bot, 4301)
    draft = await neighbour.say(NOISE)
    await (await neighbour.press(draft, texts.BTN_CONFIRM)).edit("LL-")
    person = await registered(bot, 4302)
    draft = await person.say("9号楼楼上装修，天天吵")
    await bot.barrier()
    with Statements(bot) as sql:
        receipt = await (await person.press(draft, texts.BTN_CONFIRM)).edit("LL-")
        await bot.barrier()
    assert not [s for s in sql.before_the_draft_is_taken() if s.startswith("SELECT tickets.")], sql.seen
    [joined] = await bot.tickets(4301)
    assert ticket_number(receipt.body) == joined.number  # the same matter at the same place: joined, found so


async def test_submitting_two_matters_reads_no_case_before_its_write(bot: Bot) -> None:
    person = await registered(bot, 4303)
    await person.say(NOISE)
    both = await person.say(PARKING)
    await bot.barrier()
    with Statements(bot) as sql:
        await (await person.press(both, texts.BTN_SUBMIT_TWO)).edit("LL-")
        await bot.barrier()
    assert not [s for s in sql.before_the_draft_is_taken() if s.startswith("SELECT tickets.")], sql.seen
    assert len(await bot.tickets(4303)) == 2


def _own(seen: list[str]) -> list[str]:
    """The press's own statements: from the draft's DELETE to the inbox's done-mark, by their first words (the
    sender's, which edit the draft into the number after, are left out: they come after the mark)."""
    start = next(i for i, s in enumerate(seen) if s.startswith("DELETE FROM drafts"))
    end = next(i for i, s in enumerate(seen) if s.startswith("UPDATE inbox") and i > start)
    return [" ".join(s.split()[:3]) for s in seen[start:end + 1]]


async def test_a_press_on_confirm_is_five_statements_opening_or_joining(bot: Bot) -> None:
    """SQLite, a resident pressing 确认 on the draft the bot just showed them: no read at all (the draft, the
    resident's place and the flood count are checked and read by the draft's DELETE), then for a new case the
    ticket, its events, the owed rows and the inbox's mark; for a case joined the follower, the LINKED event (which
    reads the case), the owed rows and the mark. Five statements either way."""
    neighbour = await registered(bot, 4311)
    draft = await neighbour.say(NOISE)
    await bot.barrier()
    with Statements(bot) as sql:
        await (await neighbour.press(draft, texts.BTN_CONFIRM)).edit("LL-")
        await bot.barrier()
    assert not sql.before_the_draft_is_taken() or not [s for s in sql.before_the_draft_is_taken()
                                                       if s.startswith(("SELECT residents", "SELECT tickets"))]
    assert _own(sql.seen) == ["DELETE FROM drafts", "INSERT INTO tickets", "INSERT INTO ticket_events",
                              "INSERT INTO outbox", "UPDATE inbox SET"], sql.seen
    person = await registered(bot, 4312)
    draft = await person.say("9号楼楼上装修，天天吵")
    await bot.barrier()
    with Statements(bot) as sql:
        receipt = await (await person.press(draft, texts.BTN_CONFIRM)).edit("LL-")
        await bot.barrier()
    assert not [s for s in sql.before_the_draft_is_taken() if s.startswith(("SELECT residents", "SELECT tickets"))]
    assert _own(sql.seen) == ["DELETE FROM drafts", "INSERT INTO ticket_followers", "INSERT INTO ticket_events",
                              "INSERT INTO outbox", "UPDATE inbox SET"], sql.seen
    [joined] = await bot.tickets(4311)
    assert ticket_number(receipt.body) == joined.number


async def test_someone_else_pressing_a_residents_confirm_files_nothing(bot: Bot) -> None:
    """Another user's press on a resident's 确认 (a button they cannot see in a private chat, sent anyway) takes
    their own draft or nothing: the resident's draft stays, no case is filed for either, and the resident's own
    press (the same data) then files it."""
    owner = await registered(bot, 4321)
    other = await registered(bot, 4322)
    await other.say("小区东门口天天有车乱停")  # a draft of their own, begun earlier (another stamp)
    bot.clock.advance(seconds=5)
    draft = await owner.say(NOISE)
    data = next(b.callback_data for b in draft.buttons if b.text == texts.BTN_CONFIRM)
    await bot.barrier()
    query = await bot.emulator.press(other.id, draft.message_id, data, chat_id=owner.id)
    assert (await bot.emulator.wait_for_answer(query, timeout=10)).text == texts.DRAFT_EXPIRED
    await bot.barrier()
    assert await bot.tickets(4321) == [] and await bot.tickets(4322) == []
    assert await bot.draft(4321) is not None and await bot.draft(4322) is not None
    await (await owner.press(draft, texts.BTN_CONFIRM, forge_data=data)).edit("LL-")
    assert len(await bot.tickets(4321)) == 1 and await bot.tickets(4322) == []


async def test_a_draft_changed_in_a_way_not_remembered_is_confirmed_as_it_is(bot: Bot) -> None:
    """The draft remembered as written is only a guess: changed since by a step that does not remember it (a
    location shared, at the same instant: the clock stands still here, so even its time is unchanged), the
    press's DELETE finds it not as remembered, rolls back, and the press is taken as before: the case has the
    place shared, not the one remembered."""
    person = await registered(bot, 4331)
    await person.say(NOISE)  # 9号楼, remembered
    cursor = bot.emulator.cursor()
    await bot.emulator.send_location(4331, 30.2985, 120.1389)  # by 10号楼
    shown = await person.reply(lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons), after=cursor)
    await bot.barrier()
    await (await person.press(shown, texts.BTN_CONFIRM)).edit("LL-")
    [case] = await bot.tickets(4331)
    assert case.building == "10号楼" and await bot.draft(4331) is None


async def test_a_first_contact_s_first_press_is_five_statements_and_they_are_in_the_directory(bot: Bot) -> None:
    """Someone whose very first message is a complaint: the directory row written with their resident, once
    committed, is remembered as seen, so the 确认 that follows reads nothing to check it (five statements, as for
    anyone) and the directory holds them."""
    newcomer = bot.person(4341, "李师傅")
    draft = await newcomer.say(NOISE, lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    await bot.barrier()
    with Statements(bot) as sql:
        await (await newcomer.press(draft, texts.BTN_CONFIRM)).edit("LL-")
        await bot.barrier()
    assert not [s for s in sql.before_the_draft_is_taken() if s.startswith("SELECT")], sql.seen
    assert _own(sql.seen) == ["DELETE FROM drafts", "INSERT INTO tickets", "INSERT INTO ticket_events",
                              "INSERT INTO outbox", "UPDATE inbox SET"], sql.seen
    async with bot.db.session() as s:
        known = await s.get(KnownUser, 4341)
    assert known is not None and known.name == "李师傅"
