"""What the engine understands, acted on by the bot: a fixed problem offers to close its case, two asks in one
message are both answered, and the categories people choose or correct are kept for the engine to learn."""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from linli_e2e import JUWEIHUI, UNIT_CHATS, ZHANG, Bot, open_case, press, registered
from sqlmodel import select

from bot.intents_cli import _export
from bot.settings import Settings
from handlers import texts
from services.cases import corrections
from storage.models import CorrectionSource, IntentCorrection, TicketStatus


async def test_a_fixed_problem_offers_to_close_its_open_case(desk: Bot) -> None:
    person = await registered(desk, 2101)
    number, _, _ = await open_case(desk, person, "9号楼楼道灯坏了，晚上黑乎乎的", UNIT_CHATS["wuye"])
    await desk.barrier()
    offer = await person.say("楼道灯已经修好了，谢谢你们")
    assert number in offer.text and [b.text for b in offer.buttons] == [texts.BTN_RESOLVED_YES, texts.BTN_RESOLVED_NO]
    cursor = desk.emulator.cursor()
    pressed = await person.press(offer, texts.BTN_RESOLVED_YES)
    assert (await pressed.edit()).text == texts.resolved_done(number)
    [t] = await desk.tickets(2101)
    assert t.status is TicketStatus.RESOLVED and t.result
    heard = await desk.emulator.wait_for(UNIT_CHATS["wuye"], texts.staff_resident_resolved(number, "王阿姨"),
                                         after=cursor, timeout=10)
    assert heard.reply_to_message_id is not None  # under the case's card
    again = await person.say("修好了，谢谢")  # nothing open of that kind any more: just thanks
    assert again.text == texts.THANKS_REPLY


async def test_thanks_without_an_open_case_is_just_thanks(desk: Bot) -> None:
    person = await registered(desk, 2102)
    assert (await person.say("没有噪音了，谢谢你们")).text == texts.THANKS_REPLY
    assert await desk.tickets(2102) == []


async def test_a_complaint_and_a_question_are_both_answered(desk: Bot) -> None:
    person = await registered(desk, 2103)
    cursor = desk.emulator.cursor()
    await person.send("9号楼门口垃圾好几天没人清了，顺便问一下下次理发是哪天")
    draft = await person.reply(lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons), after=cursor)
    haircut = await person.reply(lambda m: "爱心义剪" in m.text, after=cursor)
    assert "垃圾" in draft.text and haircut.seq > draft.seq  # the complaint first, then the answer


async def test_corrections_are_kept_and_exported_for_training(desk: Bot, tmp_path: Path) -> None:
    person = await registered(desk, 2104)
    _, _, card = await open_case(desk, person, "楼上天天装修，吵死了，9号楼")  # filed as noise
    answer = await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_REASSIGN)
    assert answer.text == texts.STAFF_CHOOSE_UNIT
    assert (await press(desk, ZHANG, JUWEIHUI, card, texts.BTN_RECATEGORIZE_CASE)).text == texts.STAFF_CHOOSE_CATEGORY
    done = await press(desk, ZHANG, JUWEIHUI, card, "违建拆改")
    assert done.text == texts.staff_recategorized("违建拆改")
    await desk.barrier()
    [t] = await desk.tickets(2104)
    assert (t.category, t.unit) == ("construction", "chengguan")  # handed to the unit of the new category
    async with desk.db.session() as s:
        [row] = (await s.exec(select(IntentCorrection))).all()
    assert (row.label, row.predicted, row.source) == ("construction", "noise", CorrectionSource.CORRECTION)

    out = tmp_path / "rows.csv"
    url = desk.db.url.render_as_string(hide_password=False)
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    assert await _export(argparse.Namespace(out=out, since=None), settings) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["text"], r["label"], r["source"]) for r in rows] == [(t.text, "construction", "correction")]
    assert tuple(rows[0]) == corrections.COLUMNS
