"""人民调解 through the real bot: stages recorded in order from the staff chat, the meeting time sent to
the resident."""

from __future__ import annotations

from linli_e2e import Bot, Person, ticket_number
from sqlmodel import select

from handlers import texts
from storage.models import MediationStage, TicketEvent

DISPUTE = "跟楼下邻居吵起来了，想找人调解，9号楼"
STAFF_USER = 990001


async def dispute_ticket(bot: Bot, user_id: int) -> str:
    person = bot.person(user_id, "王阿姨")
    await person.send("/start g-A03")
    await bot.barrier()
    return await confirmed(bot, person, DISPUTE)


async def confirmed(bot: Bot, person: Person, text: str) -> str:
    """Confirm a complaint and wait for its card in the staff chat (posted in the background)."""
    cursor = bot.emulator.cursor()
    confirmation = await person.say(text, lambda m: bool(m.buttons))
    number = ticket_number((await person.confirm(confirmation)).body)
    await bot.staff_message(lambda m: number in m.text, after=cursor)
    return number


async def staff_says(bot: Bot, text: str) -> str:
    cursor = bot.emulator.cursor()
    await bot.emulator.send_text(STAFF_USER, text, chat_id=bot.staff_chat_id)
    return (await bot.staff_message(after=cursor)).text


async def test_mediation_stages_and_the_meeting_reaches_the_resident(bot: Bot) -> None:
    bot.emulator.user(STAFF_USER, "调解员")
    await bot.grant(STAFF_USER, "staff", "juweihui")
    number = await dispute_ticket(bot, 5101)
    assert await staff_says(bot, f"/mediate {number} 会议 2026-03-20 14:00") == texts.MEDIATE_REFUSED["out_of_order"]
    assert await staff_says(bot, f"/mediate {number} 申请") == texts.mediation_recorded(number, "申请", None)
    assert await staff_says(bot, f"/mediate {number} 登记") == texts.mediation_recorded(number, "登记", None)
    assert await staff_says(bot, f"/mediate {number} 会议") == texts.MEDIATE_REFUSED["meeting_time_required"]
    cursor = bot.emulator.cursor()
    reply = await staff_says(bot, f"/mediate {number} 会议 2026-03-20 14:00 社区调解室")
    assert reply.startswith(f"已记录 {number} 调解进展：会议")
    told = await bot.emulator.wait_for(5101, "调解会议", after=cursor)
    assert number in told.text and "3月20日 14:00" in told.text and "社区调解室" in told.text
    async with bot.db.session() as s:
        stages = [e.mediation_stage for e in (await s.exec(select(TicketEvent).where(
            TicketEvent.mediation_stage.is_not(None)).order_by(TicketEvent.id))).all()]
    assert stages == [MediationStage.APPLIED, MediationStage.REGISTERED, MediationStage.MEETING]


async def test_mediation_refuses_bad_input(bot: Bot) -> None:
    bot.emulator.user(STAFF_USER, "调解员")
    await bot.grant(STAFF_USER, "staff", "juweihui")
    assert await staff_says(bot, "/mediate") == texts.MEDIATE_USAGE
    assert await staff_says(bot, "/mediate LL-20990101-0001 登记") == texts.TICKET_NOT_FOUND_STAFF
    person = bot.person(5102, "李大爷")
    await person.send("/start g-A03")
    await bot.barrier()
    number = await confirmed(bot, person, "楼上天天装修，吵死了，9号楼")
    assert await staff_says(bot, f"/mediate {number} 申请") == texts.MEDIATE_REFUSED["not_dispute"]
