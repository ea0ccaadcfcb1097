"""What reports read per case from its events, kept on the case row.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01

``tickets.first_signed_at`` (the first 签收 ever: ``signed_at`` is cleared when a case is reassigned or reopened),
``tickets.resolved_count`` and ``tickets.reopened_count`` (how many times the case was resolved and reopened).
``services.cases.lifecycle`` writes them with the status change that makes the event; existing cases get them
here from their events, in SQL (the same on SQLite and PostgreSQL). And ``ix_ticket_events_steps``, a partial
index of the escalation and mediation events, the only events PostgreSQL's reports still read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STEP_EVENTS = "kind IN ('escalated', 'mediation')"  # storage.models.STEP_EVENTS as it is now (copied, see 0014)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(sa.Column("first_signed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("resolved_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("reopened_count", sa.Integer(), server_default="0", nullable=False))
    backfill(op.get_bind())
    op.create_index("ix_ticket_events_steps", "ticket_events", ["ticket_id", "kind", "level", "mediation_stage"],
                    unique=False, postgresql_where=sa.text(STEP_EVENTS), sqlite_where=sa.text(STEP_EVENTS))


def backfill(conn: sa.Connection) -> None:
    """Every case's three columns from its events (also used by the tests, on cases written without them)."""
    tickets = sa.table("tickets", sa.column("id", sa.Integer()), sa.column("first_signed_at", sa.DateTime()),
                       sa.column("resolved_count", sa.Integer()), sa.column("reopened_count", sa.Integer()))
    events = sa.table("ticket_events", sa.column("ticket_id", sa.Integer()), sa.column("kind", sa.String()),
                      sa.column("to_status", sa.String()), sa.column("at", sa.DateTime()))

    def changed_to(status: str) -> list[sa.ColumnElement[bool]]:
        return [events.c.ticket_id == tickets.c.id, events.c.kind == "status_changed", events.c.to_status == status]

    conn.execute(tickets.update().values(
        first_signed_at=sa.select(sa.func.min(events.c.at)).where(*changed_to("signed")).scalar_subquery(),
        resolved_count=sa.select(sa.func.count()).where(*changed_to("resolved")).scalar_subquery(),
        reopened_count=sa.select(sa.func.count()).where(*changed_to("reopened")).scalar_subquery(),
    ))


def downgrade() -> None:
    op.drop_index("ix_ticket_events_steps", table_name="ticket_events")
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_column("reopened_count")
        batch_op.drop_column("resolved_count")
        batch_op.drop_column("first_signed_at")
