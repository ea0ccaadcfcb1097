"""While a case waits for the resident's answer (待补充), their words are read by the intents engine once: to tell
the answer from a question of their own ("下次理发是哪天"), and that same reading routes the question. What they are
answered stays as it was."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from linli_e2e import JUWEIHUI, LI, WAIT, Bot, Person, open_case, press, registered, say_in, ticket

from handlers import texts
from intents import Result
from storage.models import TicketStatus


async def _waiting(desk: Bot, user_id: int) -> tuple[str, Person]:
    """A signed case whose desk asked its resident a question (待补充)."""
    emu = desk.emulator
    person = await registered(desk, user_id)
    number, _, card = await open_case(desk, person)
    await press(desk, LI, JUWEIHUI, card, texts.BTN_SIGN)
    cursor = emu.cursor()
    await press(desk, LI, JUWEIHUI, card, texts.BTN_NEED_INFO)
    prompt = await emu.wait_for(JUWEIHUI, texts.staff_ask_info(number), after=cursor, timeout=WAIT)
    await say_in(desk, LI, JUWEIHUI, "请问是几单元几楼？", reply_to=prompt, expect=texts.staff_info_asked(number))
    await desk.barrier()
    assert (await ticket(desk, number)).status is TicketStatus.PENDING_INFO
    return number, person


@contextmanager
def _readings(desk: Bot) -> Iterator[list[str]]:
    """Every text the bot's engine reads while the block runs."""
    engine = desk.deps.engine
    seen: list[str] = []
    original = engine.classify

    def counting(text: str) -> Result:
        seen.append(text)
        return original(text)

    engine.classify = counting  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        engine.classify = original  # type: ignore[method-assign]


async def test_a_question_of_their_own_is_read_once_and_answered_as_before(desk: Bot) -> None:
    number, person = await _waiting(desk, 2001)
    with _readings(desk) as seen:
        answer = await person.say("下次理发是哪天")
        await desk.barrier()
    assert seen.count("下次理发是哪天") == 1
    assert "爱心义剪" in answer.text  # the service's answer, not "收到您的补充"
    assert (await ticket(desk, number)).status is TicketStatus.PENDING_INFO  # still waiting for the answer


async def test_the_answer_is_read_once_and_resumes_the_case(desk: Bot) -> None:
    number, person = await _waiting(desk, 2002)
    with _readings(desk) as seen:
        answer = await person.say("3单元502，白天一般都在家")
        await desk.barrier()
    assert seen == ["3单元502，白天一般都在家"]
    assert answer.text == texts.RESIDENT_INFO_THANKS
    assert (await ticket(desk, number)).status is TicketStatus.SIGNED
