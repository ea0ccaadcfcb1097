"""A newcomer's trial of the resident side on 2 December (helper `trial`): each test is one trip found by using the
bot as an elderly resident would, and fails on the code before its fix."""

from __future__ import annotations

from linli_e2e import Bot, registered

from handlers import texts

GIBBERISH = "今天天气不错啊哈"


async def test_pressing_to_human_twice_forwards_once(bot: Bot) -> None:
    """转人工 stayed on the message after it was pressed: a second tap (an unsteady hand, or not seeing the answer
    at once) forwarded the words to the staff group again, with a second header."""
    person = await registered(bot, 2101)
    reply = await person.say(GIBBERISH)
    [human] = reply.buttons
    staff_cursor = bot.emulator.cursor()
    assert (await person.click(reply, texts.BTN_HUMAN)).text == texts.HUMAN_FORWARDED
    assert bot.emulator.message(person.id, reply.message_id).buttons == []  # pressed once, gone
    again = await person.press(reply, texts.BTN_HUMAN, forge_data=human.callback_data)  # a stale client's tap
    assert (await again.reply()).text == texts.HUMAN_ALREADY
    await bot.barrier()
    staff = bot.emulator.messages_after(bot.staff_chat_id, staff_cursor)
    assert [m.text for m in staff if m.method == "forwardMessage"] == [GIBBERISH]
