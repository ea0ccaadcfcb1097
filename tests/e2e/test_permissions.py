"""The permission matrix through the real bot: every privileged command and button × every role.

Each cell is done the way a Telegram client would do it (a button press, with data replayed from a card
the user can see where the bot offers no such button, a reply, a command), on a fresh case when it
changes one. A cell is "allowed" when the bot does the thing; a refused cell must answer with the
refusal, change nothing, and leave a line on the ``linli.audit`` log naming the user.

The case is a noise complaint from grid A03, handled by 居委会 (juweihui), in its unit's chat.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from linli_e2e import (
    JUWEIHUI,
    OTHER_GROUP,
    WAIT,
    Bot,
    Person,
    events,
    open_case,
    press,
    registered,
    say_in,
    ticket,
)

from bot.emulator import SentMessage
from handlers import texts
from handlers.callbacks import pack
from services.people.roles import Grant, roles_of
from storage.models import RoleName, TicketStatus

RESIDENT, GRIDWORKER, OTHER_GRIDWORKER, STAFF, OTHER_STAFF, ADMIN = 4101, 4102, 4103, 4104, 4105, 4106
ROLES: dict[str, tuple[int, tuple[str, str] | None]] = {
    "resident": (RESIDENT, None),
    "gridworker A03": (GRIDWORKER, ("gridworker", "A03")),
    "gridworker A04": (OTHER_GRIDWORKER, ("gridworker", "A04")),
    "staff juweihui": (STAFF, ("staff", "juweihui")),
    "staff wuye": (OTHER_STAFF, ("staff", "wuye")),
    "admin": (ADMIN, ("admin", "")),
}
TARGET = 4242  # the user roles are granted to and revoked from

CASE_ACTIONS = ["签收", "转派", "转派到单位", "需补充", "办结", "升级", "刷新卡片", "答复居民", "填写办结结果", "/note",
                "/mediate"]
VIEW_ACTIONS = ["/queue", "/board", "/rates"]
OTHER_ACTIONS = ["/notice", "/grant", "/revoke"]
ACTIONS = CASE_ACTIONS + VIEW_ACTIONS + OTHER_ACTIONS

# role -> the actions it may do; every other action must be refused
MAY: dict[str, set[str]] = {
    "resident": set(),
    "gridworker A03": {*CASE_ACTIONS, *VIEW_ACTIONS, "/notice"},
    "gridworker A04": {*VIEW_ACTIONS, "/notice"},
    "staff juweihui": {*CASE_ACTIONS, *VIEW_ACTIONS},
    "staff wuye": {*VIEW_ACTIONS},
    "admin": set(ACTIONS),
}


@dataclass
class Case:
    number: str
    card: SentMessage


@dataclass
class Cell:
    allowed: bool
    answer: str | None


class Matrix:
    """Runs one action as one user against the desk; knows what "allowed" looks like for each."""

    def __init__(self, bot: Bot, resident: Person) -> None:
        self.bot, self.resident = bot, resident

    async def case(self, *, signed: bool = False) -> Case:
        self.bot.clock.advance(days=4)  # past the duplicate window: the same complaint opens a new case
        number, _, card = await open_case(self.bot, self.resident)
        if signed:
            assert (await press(self.bot, ADMIN, JUWEIHUI, card, texts.BTN_SIGN)).text == texts.STAFF_SIGNED
        return Case(number, card)

    async def forged_press(self, user: int, case: Case, action: str, extra: str = "") -> str | None:
        """A modified client replays signed data it saw (or could have seen) on a card."""
        t = await ticket(self.bot, case.number)
        arg = f"{t.number}.{t.version}" + (f".{extra}" if extra else "")
        data = pack(self.bot.deps.callback_secret, action, arg)
        query = await self.bot.emulator.press(user, case.card.message_id, data, chat_id=JUWEIHUI, forge=True)
        answer = await self.bot.emulator.wait_for_answer(query, timeout=WAIT)
        await self.bot.barrier()
        return answer.text

    async def run(self, action: str, user: int) -> Cell:
        bot = self.bot
        if action in CASE_ACTIONS:
            case = await self.case(signed=action in ("需补充", "办结", "填写办结结果"))
            before = (await ticket(bot, case.number), len(await events(bot, case.number)))
            answer, ok = await self.case_action(action, user, case)
            if answer in (texts.STAFF_NO_ROLE, None) and not ok:  # a refusal changes nothing
                after = (await ticket(bot, case.number), len(await events(bot, case.number)))
                assert (after[0].version, after[0].status, after[1]) == (before[0].version, before[0].status,
                                                                         before[1]), action
            return Cell(ok, answer)
        if action in VIEW_ACTIONS:
            answer = (await say_in(bot, user, JUWEIHUI, action)).text
            return Cell(answer != texts.STAFF_NO_ROLE_VIEW, answer)
        if action == "/notice":
            person = bot.person(user)
            answer = (await person.say("/notice")).text
            if answer == texts.NOTICE_CHOOSE_KIND:
                return Cell(True, answer)
            return Cell(False, answer)
        command = f"{action} {TARGET} gridworker A03"
        answer = (await say_in(bot, user, JUWEIHUI, command)).text
        return Cell(answer != texts.GRANT_REFUSED, answer)

    async def case_action(self, action: str, user: int, case: Case) -> tuple[str | None, bool]:
        bot, card = self.bot, case.card
        wuye = bot.deps.community.unit("wuye").name
        level = bot.deps.community.escalation_level("grid").name
        if action == "签收":
            answer = (await press(bot, user, JUWEIHUI, card, texts.BTN_SIGN)).text
            return answer, answer == texts.STAFF_SIGNED
        if action == "转派":
            answer = (await press(bot, user, JUWEIHUI, card, texts.BTN_REASSIGN)).text
            return answer, answer == texts.STAFF_CHOOSE_UNIT
        if action == "转派到单位":
            answer = await self.forged_press(user, case, "sru", "wuye")
            return answer, answer == texts.staff_reassigned(wuye)
        if action == "需补充":
            answer = (await press(bot, user, JUWEIHUI, card, texts.BTN_NEED_INFO)).text
            return answer, answer == texts.STAFF_PROMPTED
        if action == "办结":
            answer = (await press(bot, user, JUWEIHUI, card, texts.BTN_RESOLVE)).text
            return answer, answer == texts.STAFF_PROMPTED
        if action == "升级":
            answer = (await press(bot, user, JUWEIHUI, card, texts.BTN_ESCALATE)).text
            return answer, answer == texts.staff_escalated(level)
        if action == "刷新卡片":
            answer = await self.forged_press(user, case, "sx")
            return answer, answer is None
        if action == "答复居民":
            answer = (await say_in(bot, user, JUWEIHUI, "我们下午上门。", reply_to=card)).text
            return answer, answer in (texts.STAFF_RELAYED, texts.STAFF_RELAY_FAILED)
        if action == "填写办结结果":  # an admin pressed 办结; the user answers the prompt
            cursor = bot.emulator.cursor()
            assert (await press(bot, ADMIN, JUWEIHUI, card, texts.BTN_RESOLVE)).text == texts.STAFF_PROMPTED
            prompt = await bot.emulator.wait_for(JUWEIHUI, case.number, after=cursor, timeout=WAIT)
            await bot.barrier()
            answer = (await say_in(bot, user, JUWEIHUI, "已协调楼上停工。", reply_to=prompt)).text
            ok = answer == texts.staff_resolved(case.number)
            assert ok is ((await ticket(bot, case.number)).status is TicketStatus.RESOLVED)
            return answer, ok
        if action == "/note":
            answer = (await say_in(bot, user, JUWEIHUI, f"/note {case.number} 内部备注")).text
            return answer, answer == texts.STAFF_NOTE_SAVED
        assert action == "/mediate"  # a noise case: an allowed user hears the mediation rule, not a refusal
        answer = (await say_in(bot, user, JUWEIHUI, f"/mediate {case.number} 申请")).text
        return answer, answer == texts.MEDIATE_REFUSED["not_dispute"]


async def with_roles(bot: Bot) -> Person:
    for user, role in ROLES.values():
        bot.emulator.user(user, f"用户{user}")
        if role is not None:
            await bot.grant(user, *role)
    resident = await registered(bot, 4001)
    return resident


@pytest.mark.parametrize("role", list(ROLES))
async def test_permission_matrix(desk: Bot, role: str, caplog: pytest.LogCaptureFixture) -> None:
    resident = await with_roles(desk)
    user = ROLES[role][0]
    matrix = Matrix(desk, resident)
    got: dict[str, Cell] = {}
    with caplog.at_level(logging.WARNING, logger="linli.audit"):
        for action in ACTIONS:
            audit_before = len([r for r in caplog.records if r.name == "linli.audit"])
            got[action] = await matrix.run(action, user)
            audit = [r.getMessage() for r in caplog.records if r.name == "linli.audit"][audit_before:]
            if got[action].allowed:
                assert not any(f"user={user} " in line for line in audit), (action, audit)
            else:
                assert any(f"user={user} " in line for line in audit), (action, got[action], audit)
    assert {a for a, cell in got.items() if cell.allowed} == MAY[role], {a: c.answer for a, c in got.items()}
    case = await ticket(desk, (await desk.tickets(4001))[0].number)
    assert case.grid_code == "A03" and case.unit == "juweihui"


ForgedRun = Callable[[Bot, int, SentMessage], Awaitable[str | None]]


async def test_bad_signatures_and_other_groups_are_refused_for_everyone(desk: Bot,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    """Data no client could have been given (bad signature), a desk command in a group that is no desk, a
    staff command in a private chat: refused for every role, admin included, and logged."""
    resident = await with_roles(desk)
    number, _, card = await open_case(desk, resident)
    secret = desk.deps.callback_secret
    t = await ticket(desk, number)
    good = pack(secret, "ss", f"{number}.{t.version}")
    tampered = good[:-1] + ("0" if good[-1] != "0" else "1")
    with caplog.at_level(logging.INFO):
        for user, role in ROLES.values():
            query = await desk.emulator.press(user, card.message_id, tampered, chat_id=JUWEIHUI, forge=True)
            answer = await desk.emulator.wait_for_answer(query, timeout=WAIT)
            assert (answer.text, answer.show_alert) == (texts.STALE_BUTTON, True)
            assert (await say_in(desk, user, OTHER_GROUP, "/queue")).text == texts.STAFF_NOT_DESK
            assert (await say_in(desk, user, OTHER_GROUP, f"/note {number} 备注")).text == texts.STAFF_NOT_DESK
            # privately: a resident is sent to /help; anyone with a role is told where it works and what works here
            assert (await desk.person(user).say("/board")).text == (texts.STAFF_COMMAND_PRIVATE if role is None else
                                                                   texts.staff_command_private(
                                                                       "/board", grid_worker=role[0] == "gridworker"))
    await desk.barrier()
    assert (await ticket(desk, number)).version == t.version
    audit = [r.getMessage() for r in caplog.records if r.name == "linli.audit"]
    for user, _role in ROLES.values():
        mine = [line for line in audit if f"user={user} " in line]
        assert len(mine) == 4, mine  # the tampered press, two commands in another group, one in private


async def test_grant_by_username_or_by_reply(desk: Bot) -> None:
    """Admins name people as they know them: @username (once the bot has met the user) or by replying."""
    await with_roles(desk)
    desk.emulator.user(4301, "赵网格", username="Zhao_Grid")
    desk.emulator.user(4302, "钱干事")  # no username at all
    admin = desk.person(ADMIN)
    await admin.say("/grant @zhao_grid gridworker A03", texts.grant_unknown_user("@zhao_grid"))
    await desk.person(4301).send("你好")  # the bot meets 赵
    await desk.barrier()
    before = desk.emulator.cursor()
    await admin.say("/grant @zhao_grid gridworker A03", texts.role_granted(4301, "gridworker", "A03", True))
    await desk.barrier()
    assert len(admin.replies(before)) == 1  # 赵 has a private chat with the bot: nothing to warn of
    cursor = desk.emulator.cursor()
    said = await desk.emulator.send_text(4302, "我是居委会新来的钱干事", JUWEIHUI)
    await desk.emulator.wait_for_updates_consumed()
    await desk.emulator.send_text(ADMIN, "/grant staff juweihui", JUWEIHUI, reply_to=said["message_id"])
    granted = await desk.emulator.wait_for(JUWEIHUI, None, after=cursor, timeout=WAIT)
    assert granted.text == texts.role_granted(4302, "staff", "juweihui", True)
    # 钱 has only spoken in the group, never started the bot: nothing it sends them privately can arrive
    warned = await desk.emulator.wait_for(JUWEIHUI, None, after=granted, timeout=WAIT)
    assert warned.text == texts.role_out_of_reach(4302, "staff", "juweihui", blocked=False)
    assert "/start" in warned.text
    # a resident replying the same way is refused, and the reply form names nobody when not a reply
    assert (await say_in(desk, RESIDENT, JUWEIHUI, "/grant staff juweihui")).text == texts.GRANT_REFUSED
    assert (await say_in(desk, ADMIN, JUWEIHUI, "/grant staff juweihui")).text == texts.GRANT_USAGE
    await admin.say("/revoke @Zhao_Grid gridworker A03", texts.role_revoked(4301, "gridworker", "A03", True))


async def test_grant_in_chinese_and_a_refusal_that_names_every_role(desk: Bot) -> None:
    """A trial's admin typed ``/grant 2002 网格员 A01`` and was refused, by a list that left out 督办."""
    await with_roles(desk)
    admin = desk.person(ADMIN)
    for user in (4311, 4312, 4313):
        await desk.person(user).send("你好")  # they have started the bot: no warning follows the grant
    await desk.barrier()
    await admin.say("/grant 4311 网格员 a01", texts.role_granted(4311, "gridworker", "A01", True))
    await admin.say("/grant 4312 坐席 juweihui", texts.role_granted(4312, "staff", "juweihui", True))
    await admin.say("/grant 4313 督办员", texts.role_granted(4313, "supervisor", "", True))
    assert texts.role_granted(4311, "gridworker", "A01", True) == "已设置 4311 为网格员（A01）。"
    refusal = (await say_in(desk, ADMIN, ADMIN, "/grant 4311 组长 A01")).text
    assert refusal == texts.GRANT_ERRORS["bad_role"]
    for name in ("网格员", "工作人员", "督办", "管理员"):
        assert name in refusal
    await admin.say("/revoke 4311 网格员 A01", texts.role_revoked(4311, "gridworker", "A01", True))
    async with desk.db.session() as s:
        assert await roles_of(s, 4312) == {Grant(RoleName.STAFF, "juweihui")}
        assert await roles_of(s, 4313) == {Grant(RoleName.SUPERVISOR)}
