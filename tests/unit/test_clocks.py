"""Clocks: colours at the 75 % and 100 % marks, pause and resume, next check times. Pure, fake ``now``."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services import SHANGHAI
from services.cases.clocks import (
    Colour,
    Preview,
    colour,
    effective_due,
    elapsed_fraction,
    info_at,
    limit,
    next_check,
    pause,
    restart,
    resume,
    sign_overdue,
    yellow_at,
)
from services.community.model import WorkingTime
from storage.models import Ticket, TicketStatus

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI)
WEEK = timedelta(hours=168)
SIGN = timedelta(hours=2)


def make(status: TicketStatus = TicketStatus.SIGNED, *, hours: float = 168, **fields: object) -> Ticket:
    values: dict[str, object] = {
        "number": "LL-20261122-0001",
        "resident_id": 1,
        "category": "noise",
        "text": "楼上装修太吵",
        "unit": "juweihui",
        "status": status,
        "created_at": T0,
        "updated_at": T0,
        "sign_due_at": T0 + SIGN,
        "due_at": T0 + timedelta(hours=hours),
    }
    return Ticket(**(values | fields))


def at(fraction: float, total: timedelta = WEEK) -> datetime:
    return T0 + total * fraction


def apply(ticket: Ticket, changes: dict[str, object]) -> Ticket:
    for key, value in changes.items():
        setattr(ticket, key, value)
    return ticket


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [
        (0.0, Colour.GREEN),
        (0.5, Colour.GREEN),
        (0.74, Colour.GREEN),
        (0.75, Colour.YELLOW),
        (0.99, Colour.YELLOW),
        (1.0, Colour.RED),
        (1.5, Colour.RED),
    ],
)
def test_colour_marks(fraction: float, expected: Colour) -> None:
    ticket = make()
    assert colour(ticket, at(fraction)) is expected
    assert elapsed_fraction(ticket, at(fraction)) == pytest.approx(fraction)


def test_boundaries_are_exact_to_the_second() -> None:
    ticket = make()
    assert colour(ticket, yellow_at(ticket) - timedelta(seconds=1)) is Colour.GREEN
    assert colour(ticket, yellow_at(ticket)) is Colour.YELLOW
    assert colour(ticket, ticket.due_at - timedelta(seconds=1)) is Colour.YELLOW
    assert colour(ticket, ticket.due_at) is Colour.RED
    assert yellow_at(ticket) == T0 + timedelta(hours=126)


def test_two_hour_safety_clock() -> None:
    ticket = make(hours=2)
    assert colour(ticket, T0 + timedelta(minutes=89)) is Colour.GREEN
    assert colour(ticket, T0 + timedelta(minutes=90)) is Colour.YELLOW
    assert colour(ticket, T0 + timedelta(minutes=120)) is Colour.RED


def test_pause_stops_the_clock_and_resume_moves_the_deadline() -> None:
    ticket = make()
    paused = at(0.5)
    apply(ticket, {"status": TicketStatus.PENDING_INFO, **pause(ticket, paused)})
    # ten hours waiting for the resident: the clock stands still, the deadline slides
    during = paused + timedelta(hours=10)
    assert elapsed_fraction(ticket, during) == pytest.approx(0.5)
    assert colour(ticket, at(1.2)) is Colour.GREEN  # long after the original deadline, still paused
    assert effective_due(ticket, during) == T0 + WEEK + timedelta(hours=10)
    assert ticket.due_at == T0 + WEEK  # the stored deadline moves only on resume
    # no clock alert while paused: only the resident's silence is chased, when the file says (the sweep has it);
    # without the file the answer is the pause itself, no later than that
    assert next_check(ticket) == paused
    assert next_check(ticket, WorkingTime()) == info_at(ticket, 1, WorkingTime()) > paused

    apply(ticket, {"status": TicketStatus.SIGNED, **resume(ticket, during)})
    assert (ticket.paused_at, ticket.paused_seconds) == (None, 36_000)
    assert ticket.due_at == T0 + WEEK + timedelta(hours=10)  # the real deadline, indexable
    assert effective_due(ticket, during) == ticket.due_at
    assert limit(ticket) == WEEK
    assert colour(ticket, at(0.74) + timedelta(hours=10)) is Colour.GREEN
    assert colour(ticket, at(0.75) + timedelta(hours=10)) is Colour.YELLOW
    assert colour(ticket, at(1.0) + timedelta(hours=10) - timedelta(seconds=1)) is Colour.YELLOW
    assert colour(ticket, at(1.0) + timedelta(hours=10)) is Colour.RED
    assert next_check(ticket) == yellow_at(ticket) == at(0.75) + timedelta(hours=10)


def test_two_pauses_add_up() -> None:
    ticket = make()
    for start in (at(0.1), at(0.3)):
        apply(ticket, pause(ticket, start))
        apply(ticket, resume(ticket, start + timedelta(hours=3)))
    assert ticket.paused_seconds == 6 * 3600
    assert ticket.due_at == T0 + WEEK + timedelta(hours=6)
    assert elapsed_fraction(ticket, at(0.5) + timedelta(hours=6)) == pytest.approx(0.5)


def test_resume_without_pause_changes_nothing() -> None:
    assert resume(make(), at(0.2)) == {}


def test_emergency_is_red_at_once_while_open() -> None:
    sos = make(TicketStatus.DISPATCHED, hours=2, emergency=True)
    assert colour(sos, T0) is Colour.RED
    assert elapsed_fraction(sos, T0) == 0.0
    done = make(TicketStatus.CLOSED, hours=2, emergency=True, resolved_at=T0 + timedelta(minutes=30))
    assert colour(done, T0 + timedelta(hours=5)) is Colour.GREEN  # frozen at resolution, 25 %


def test_finished_clock_freezes_at_resolution() -> None:
    ticket = make(TicketStatus.RESOLVED, resolved_at=at(0.8))
    assert colour(ticket, at(3.0)) is Colour.YELLOW
    assert elapsed_fraction(ticket, at(3.0)) == pytest.approx(0.8)


def test_sign_clock() -> None:
    ticket = make(TicketStatus.DISPATCHED)
    assert not sign_overdue(ticket, T0 + SIGN - timedelta(seconds=1))
    assert sign_overdue(ticket, T0 + SIGN)
    assert not sign_overdue(make(TicketStatus.SIGNED), T0 + SIGN * 10)


def test_next_check_is_the_earliest_alert_not_given() -> None:
    ticket = make(TicketStatus.RECEIVED)
    assert next_check(ticket) == T0 + SIGN  # sign-for limit first
    ticket.sign_reminded_at = T0 + SIGN
    assert next_check(ticket) == at(0.75)
    ticket.reminded_at = at(0.75)
    assert next_check(ticket) == T0 + WEEK
    ticket.breached_at = T0 + WEEK
    assert next_check(ticket, WorkingTime()) == T0 + 2 * WEEK  # still red a further limit: one more level
    assert next_check(ticket) == T0 + WEEK  # without the file: no later than that (the sweep stores the real one)
    safety = make(TicketStatus.RECEIVED, hours=2)
    assert next_check(safety) == T0 + timedelta(minutes=90)  # yellow before the sign-for limit
    for status in (TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.PENDING_INFO, TicketStatus.WITHDRAWN):
        assert next_check(make(status)) is None


def test_preview_sees_pending_changes() -> None:
    ticket = make(TicketStatus.RECEIVED)
    assert next_check(Preview(ticket, {"status": TicketStatus.SIGNED})) == at(0.75)
    assert ticket.status is TicketStatus.RECEIVED


def test_restart_keeps_the_limit() -> None:
    ticket = make(TicketStatus.RESOLVED, paused_seconds=3600, due_at=T0 + WEEK + timedelta(hours=1))
    ticket.reminded_at = ticket.breached_at = at(1.0)
    later = at(2.0)
    apply(ticket, {"status": TicketStatus.REOPENED, **restart(ticket, later, SIGN)})
    assert (ticket.clock_started_at, ticket.due_at, ticket.sign_due_at) == (later, later + WEEK, later + SIGN)
    assert (ticket.paused_seconds, ticket.reminded_at, ticket.breached_at) == (0, None, None)
    assert colour(ticket, later) is Colour.GREEN


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        colour(make(), datetime(2026, 11, 22, 12))


@given(
    hours=st.integers(min_value=1, max_value=24 * 365),
    elapsed_s=st.integers(min_value=0, max_value=2 * 24 * 365 * 3600),
    paused_s=st.integers(min_value=0, max_value=30 * 24 * 3600),
)
def test_colour_agrees_with_the_fraction(hours: int, elapsed_s: int, paused_s: int) -> None:
    total = timedelta(hours=hours)
    ticket = make(hours=hours, paused_seconds=paused_s, due_at=T0 + total + timedelta(seconds=paused_s))
    now = (T0 + timedelta(seconds=paused_s + elapsed_s)).astimezone(UTC)
    used = timedelta(seconds=elapsed_s)
    expected = Colour.RED if used >= total else Colour.YELLOW if used * 4 >= total * 3 else Colour.GREEN
    assert colour(ticket, now) is expected
    if ticket.reminded_at is None and expected is Colour.GREEN:
        assert next_check(ticket) is not None and next_check(ticket) > now
