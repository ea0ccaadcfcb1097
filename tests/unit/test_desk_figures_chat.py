"""The chat side of figures, 督办 and /history, below the bot: how /report and /supervise read what staff type,
how a report reads as one message ("—" for empty, numerator/denominator, the change), the case's story merged from
its events and the audit table, report charts kept until sent, and the 督办 a desk still waits for."""

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from handlers import texts
from handlers.deps import Deps
from handlers.desk import reports, supervision
from handlers.desk.history import chat_name
from intents import Engine
from services import SHANGHAI, outbox
from services.cases import history
from services.cases import supervision as supervisions
from services.cases.lifecycle import open_dispatched
from services.community.model import SAMPLE_COMMUNITY_FILE, load_community
from services.people.residents import get_or_create_resident
from services.reports import chart_store
from services.reports.figures import Filter, build_report
from services.reports.periods import PeriodError, PeriodKind, parse_period
from storage.db import Database
from storage.models import AuditEntry, OutboxStatus, ReportChart, Ticket, TicketEvent, TicketEventKind, TicketStatus

C = load_community(SAMPLE_COMMUNITY_FILE)
NOW = datetime(2026, 3, 17, 10, 0, tzinfo=SHANGHAI)  # a Tuesday
WORDS = ["超期未办结", "请说明原因"]


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def deps(db: Database | None = None, staff_chat_id: int | None = -100500) -> Deps:
    return Deps(db=db, community=C, engine=Engine.__new__(Engine), callback_secret=b"x",  # type: ignore[arg-type]
                staff_chat_id=staff_chat_id, clock=lambda: NOW)


# --- /supervise: the reply deadline -------------------------------------------------------------------------


@pytest.mark.parametrize(("tail", "expected"), [
    (["3天"], NOW + timedelta(days=3)),
    (["３天"], NOW + timedelta(days=3)),  # typed full-width
    (["48小时"], NOW + timedelta(hours=48)),
    (["2个工作日"], at(2026, 3, 19, 10, 0)),  # Tue 10:00 + two 9-hour working days
    (["2工作日"], at(2026, 3, 19, 10, 0)),
    (["3-20", "18:00"], at(2026, 3, 20, 18, 0)),
    (["2026-03-20", "18:00"], at(2026, 3, 20, 18, 0)),
    (["18:00"], at(2026, 3, 17, 18, 0)),  # later today
])
def test_reply_deadline_forms(tail: list[str], expected: datetime) -> None:
    assert supervision.reply_deadline([*WORDS, *tail], NOW, C) == (expected, WORDS)


def test_reply_deadline_absent_or_alone() -> None:
    assert supervision.reply_deadline(WORDS, NOW, C) == (None, WORDS)
    assert supervision.reply_deadline(["拖了3天", "还没人管"], NOW, C) == (None, ["拖了3天", "还没人管"])
    assert supervision.reply_deadline(["3天"], NOW, C) == (NOW + timedelta(days=3), [])  # no reason: refused later
    assert supervision.reply_deadline(["999天"], NOW, C) == (None, ["999天"])  # beyond 90 days: words


def test_parse_supervise() -> None:
    assert supervision.parse_supervise("/supervise ll-20260317-0001 超期 未办结 3天", NOW, C) == (
        "LL-20260317-0001", "超期 未办结", NOW + timedelta(days=3))
    assert supervision.parse_supervise("/supervise LL-20260317-0001 超期", NOW, C) == (
        "LL-20260317-0001", "超期", NOW + supervision.DEFAULT_REPLY)
    assert supervision.parse_supervise("/supervise LL-2026 超期", NOW, C) is None
    assert supervision.parse_supervise("/supervise", NOW, C) is None


# --- /report: what it reads ---------------------------------------------------------------------------------


def test_report_periods_words_and_labels() -> None:
    week, running = reports.read_period("week", NOW)
    assert (week.label, running) == ("2026-W12", True)
    assert reports.read_period("上周", NOW)[0].label == "2026-W11"
    assert reports.read_period("LastMonth", NOW) == (parse_period("2026-02"), False)
    assert reports.read_period("本季度", NOW)[0].label == "2026Q1"
    assert reports.read_period("lastquarter", NOW)[0].label == "2025Q4"
    assert reports.read_period("2026-03", NOW) == (parse_period("2026-03"), True)
    assert reports.read_period("2026-W10", NOW) == (parse_period("2026-W10"), False)
    for future in ("2026-04", "2026-W13", "2026Q2"):
        with pytest.raises(PeriodError, match="还没有开始"):
            reports.read_period(future, NOW)
    with pytest.raises(PeriodError, match="无法识别"):
        reports.read_period("fortnight", NOW)


def test_report_scopes_by_code_or_name() -> None:
    d = deps()
    assert reports.read_scope("wuye", d) == Filter(unit="wuye")
    assert reports.read_scope("WUYE", d) == Filter(unit="wuye")
    assert reports.read_scope("金桂社区居民委员会", d) == Filter(unit="juweihui")
    assert reports.read_scope("a03", d) == Filter(grid="A03")
    assert reports.read_scope("第三网格", d) == Filter(grid="A03")
    assert reports.read_scope("nowhere", d) is None
    with pytest.raises(reports.Refusal):
        reports.read(["week", "wuye", "A03"], d, NOW)
    with pytest.raises(reports.Refusal, match="不认识“nowhere”"):
        reports.read(["week", "nowhere"], d, NOW)


def test_a_bare_report_is_this_weeks_and_a_scope_alone_too() -> None:
    """Staff type ``/report`` expecting this week's figures; the usage is kept for what cannot be read."""
    d = deps()
    week = parse_period("2026-W12")
    assert reports.read([], d, NOW) == (week, True, None)
    assert reports.read(["A03"], d, NOW) == (week, True, Filter(grid="A03"))
    assert reports.read(["wuye"], d, NOW) == (week, True, Filter(unit="wuye"))
    assert reports.read(["上周"], d, NOW)[0].label == "2026-W11"
    with pytest.raises(reports.Refusal, match="用法：/report"):
        reports.read(["fortnight"], d, NOW)
    with pytest.raises(reports.Refusal, match="用法：/report"):
        reports.read(["week", "wuye", "A03"], d, NOW)


def test_scheduled_audiences_without_unit_chats() -> None:
    """The sample file has no unit or escalation chats: everything goes to the staff chat, once."""
    assert reports.audiences(deps()) == [(Filter(), [-100500])]
    assert reports.audiences(deps(staff_chat_id=None)) == []


async def test_an_empty_period_reads_dash_never_zero_percent(db: Database) -> None:
    async with db.session() as s:
        report = await build_report(s, parse_period("2026-W11"), community=C, now=NOW)
    text = reports.compose(report, PeriodKind.WEEK, C.name, False, 0, [])
    assert "· 受理 0，较上期 +0" in text
    for label in ("响应率", "按时办结率", "解决率", "满意率", "未评价"):
        assert f"· {label} —（0/0）\n" in text
    assert "0.0%" not in text and "100.0%" not in text
    assert "【各承办单位】" not in text  # no unit had a case


# --- the case's story ----------------------------------------------------------------------------------------


def attempt(minute: int, user: int, via: str, *, allowed: bool = True, chat: int = -100602) -> AuditEntry:
    return AuditEntry(at=at(2026, 3, 17, 10, minute), tg_user_id=user, chat_id=chat, action="ticket.act",
                      allowed=allowed, ticket_id=1, via=via)


def event(minute: int, actor: str, kind: TicketEventKind, **kw: object) -> TicketEvent:
    return TicketEvent(ticket_id=1, at=at(2026, 3, 17, 10, minute), actor=actor, kind=kind, **kw)


def test_story_gives_each_event_the_chat_and_button_of_the_act_that_made_it() -> None:
    steps = history.merge(
        [attempt(1, 7, "button:ss"), attempt(2, 7, "button:sd"), attempt(3, 7, "reply:ask_result"),
         attempt(3, 8, "button:se", allowed=False), attempt(4, 7, "/note")],
        [event(0, "resident:1", TicketEventKind.CREATED),
         event(1, "staff:7", TicketEventKind.STATUS_CHANGED, to_status=TicketStatus.SIGNED),
         event(3, "staff:7", TicketEventKind.STATUS_CHANGED, to_status=TicketStatus.RESOLVED, note="修好了"),
         event(4, "staff:7", TicketEventKind.NOTE, note="回访过"),
         event(9, "staff:7", TicketEventKind.NOTE, note="很久以后，别处")])
    lines = [(s.at.minute, s.actor, s.action, s.via, s.chat_id, s.allowed) for s in steps]
    assert lines == [
        (0, "resident:1", "created", "", None, True),
        (1, "staff:7", "status_changed", "button:ss", -100602, True),
        (2, "user:7", "ticket.act", "button:sd", -100602, True),  # the 办结 press only opened the prompt
        (3, "user:8", "ticket.act", "button:se", -100602, False),  # a refusal stays a line of its own
        (3, "staff:7", "status_changed", "reply:ask_result", -100602, True),
        (4, "staff:7", "note", "/note", -100602, True),
        (9, "staff:7", "note", "", None, True),  # no act of theirs just before: no chat to tell
    ]


def test_one_act_with_several_events_lends_its_chat_to_each() -> None:
    steps = history.merge(
        [attempt(5, 7, "button:sru")],
        [event(5, "staff:7", TicketEventKind.REASSIGNED, unit="wuye"),
         event(5, "staff:7", TicketEventKind.STATUS_CHANGED, to_status=TicketStatus.DISPATCHED)])
    assert [(s.action, s.via, s.chat_id) for s in steps] == [("reassigned", "button:sru", -100602),
                                                             ("status_changed", "button:sru", -100602)]


def test_chat_names() -> None:
    d = deps()
    assert chat_name(d, -100500) == "工作人员群"
    assert chat_name(d, 3001) == "私聊"
    assert chat_name(d, -100999) == "群-100999"
    assert chat_name(d, None) is None


# --- charts kept until sent; 督办 waiting ---------------------------------------------------------------------


async def test_charts_are_kept_while_an_unsent_row_names_them(any_db: Database) -> None:
    db = any_db
    async with db.transaction() as s:
        waiting = await chart_store.save(s, b"\x89PNG waiting", title="a", now=NOW)
        sent = await chart_store.save(s, b"\x89PNG sent", title="b", now=NOW)
        fresh = await chart_store.save(s, b"\x89PNG fresh", title="c", now=NOW + timedelta(days=8))
        for chart, status in ((waiting, OutboxStatus.PENDING), (sent, OutboxStatus.SENT)):
            row = await outbox.owe(s, chat_id=-1, now=NOW, payload={chart_store.PAYLOAD_KEY: chart})
            row.status = status
    async with db.transaction() as s:
        assert await chart_store.purge(s, NOW + timedelta(days=7)) == 1
    async with db.session() as s:
        assert sorted((await s.exec(select(ReportChart.id))).all()) == sorted([waiting, fresh])
        assert await chart_store.load(s, waiting) == b"\x89PNG waiting" and await chart_store.load(s, sent) is None


def test_png_of_reads_what_a_chart_function_wrote() -> None:
    assert chart_store.png_of(lambda path: (path.write_bytes(b"\x89PNG"), path)[1]) == b"\x89PNG"


async def test_unanswered_supervisions_by_unit(any_db: Database) -> None:
    db = any_db
    async with db.transaction() as s:
        r = await get_or_create_resident(s, tg_user_id=9001, name="居民", now=NOW)
        cases = [await open_dispatched(s, resident=r, category=cat, text="问题", location="9号楼", photos=[],
                                       community=C, now=NOW) for cat in ("repair", "noise")]
        for i, t in enumerate(cases):
            await supervisions.supervise(s, t, reason=f"催{i}", reply_by=NOW + timedelta(hours=i + 1),
                                         supervisor_tg_id=7, now=NOW)
        done = await supervisions.supervise(s, cases[0], reason="已答", reply_by=NOW + timedelta(hours=9),
                                            supervisor_tg_id=7, now=NOW)
        assert done.supervision is not None
        await supervisions.answer(s, done.supervision, text="好", actor="staff:1", now=NOW)
    async with db.session() as s:
        every = await supervisions.unanswered(s)
        assert [(sup.reason, t.unit) for sup, t in every] == [("催0", "wuye"), ("催1", "juweihui")]
        assert [sup.reason for sup, _ in await supervisions.unanswered(s, {"juweihui"})] == ["催1"]
        assert await supervisions.unanswered(s, set()) == []
        assert isinstance(every[0][1], Ticket)
    d = deps(db)
    assert await supervision.overdue_count(d, NOW + timedelta(hours=1)) == 1
    assert await supervision.overdue_count(d, NOW + timedelta(hours=2)) == 2
    assert await supervision.overdue_count(d, NOW + timedelta(hours=2), "juweihui") == 1
    assert await supervision.overdue_count(d, NOW + timedelta(hours=2), None, "A01") == 0


async def test_without_a_cjk_font_the_words_still_go(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.reports import charts

    def no_font(*args: object, **kw: object) -> None:
        raise charts.ChartFontMissing("找不到中文字体")

    monkeypatch.setattr(charts, "report_chart", no_font)
    rendered = await reports.render(deps(db), parse_period("2026-W11"), Filter(), kind=PeriodKind.WEEK, now=NOW,
                                    so_far=False)
    assert rendered.charts == [] and rendered.text.endswith(texts.REPORT_CHART_MISSING)
    assert rendered.text.startswith("📊 周调度｜金桂社区\n2026年第11周（03.09–03.15），截至 3月17日 10:00")


async def test_kinds_never_claimed(db: Database) -> None:
    from services.reports import schedule

    async with db.transaction() as s:
        assert await schedule.never_claimed(s) == set(schedule.KINDS)
        [week] = [d for d in await schedule.due_reports(s, NOW) if d.kind is PeriodKind.WEEK]
        assert await schedule.claim(s, week, NOW)
        assert await schedule.never_claimed(s) == {PeriodKind.MONTH, PeriodKind.QUARTER}
