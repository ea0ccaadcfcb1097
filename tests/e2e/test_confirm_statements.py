"""确认 reads no case before its write transaction: the duplicate check's candidates ride in the draft's
``DELETE … RETURNING`` and are compared under the lock (``services.cases.duplicates.Check``), so a press is the
speaker's read, then the one write transaction, then nothing else of its own."""

from __future__ import annotations

from linli_e2e import Bot, registered, ticket_number
from sqlalchemy import event

from handlers import texts

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
