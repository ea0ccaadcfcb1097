"""Case lifecycle: state guard, clocks, escalation, follow-up, duplicates and mediation.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Adds to ``tickets`` the optimistic ``version`` guard, the clock columns (pause, alerts, the indexed
``next_check_at`` the sweep reads), follow-up and rating columns; to ``ticket_events`` the escalation
level, target unit, rating and mediation stage/meeting time; and the ``ticket_followers`` and
``hotspot_warnings`` tables. Open tickets already stored get ``next_check_at = created_at`` so the
first sweep arms their clocks.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = ("received", "dispatched", "signed", "in_progress", "pending_info", "reopened")


def upgrade() -> None:
    op.create_table(
        "hotspot_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("scope_kind", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotspot_warnings")),
    )
    op.create_index(
        "ix_hotspot_warnings_scope", "hotspot_warnings", ["category", "scope_kind", "scope", "raised_at"]
    )
    op.create_table(
        "ticket_followers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_ticket_followers_resident_id_residents")
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_followers_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_followers")),
        sa.UniqueConstraint("ticket_id", "resident_id", name=op.f("uq_ticket_followers_ticket_id")),
    )
    op.create_index(op.f("ix_ticket_followers_resident_id"), "ticket_followers", ["resident_id"])
    op.create_index(op.f("ix_ticket_followers_ticket_id"), "ticket_followers", ["ticket_id"])

    with op.batch_alter_table("ticket_events") as batch:
        batch.add_column(sa.Column("level", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("unit", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("rating", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("mediation_stage", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("meeting_at", sa.DateTime(), nullable=True))
        batch.create_index(batch.f("ix_ticket_events_meeting_at"), ["meeting_at"])

    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("result", sa.Text(), nullable=True))
        batch.add_column(sa.Column("resume_status", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("emergency", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("escalation_level", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("clock_started_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("paused_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("paused_seconds", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("signed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("sign_reminded_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("breached_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("next_check_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("followup_sent_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("rating", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("rated_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("rating_comment", sa.Text(), nullable=True))
        batch.create_index("ix_tickets_category_created_at", ["category", "created_at"])
        batch.create_index(batch.f("ix_tickets_next_check_at"), ["next_check_at"])
        batch.create_index("ix_tickets_status_resolved_at", ["status", "resolved_at"])

    tickets = sa.table(
        "tickets", sa.column("status", sa.String()), sa.column("created_at"), sa.column("next_check_at")
    )
    op.execute(
        tickets.update().where(tickets.c.status.in_(_OPEN)).values(next_check_at=tickets.c.created_at)
    )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_status_resolved_at")
        batch.drop_index(batch.f("ix_tickets_next_check_at"))
        batch.drop_index("ix_tickets_category_created_at")
        for column in (
            "rating_comment",
            "rated_at",
            "rating",
            "followup_sent_at",
            "next_check_at",
            "breached_at",
            "reminded_at",
            "sign_reminded_at",
            "resolved_at",
            "signed_at",
            "paused_seconds",
            "paused_at",
            "clock_started_at",
            "escalation_level",
            "emergency",
            "resume_status",
            "result",
            "version",
        ):
            batch.drop_column(column)

    with op.batch_alter_table("ticket_events") as batch:
        batch.drop_index(batch.f("ix_ticket_events_meeting_at"))
        for column in ("meeting_at", "mediation_stage", "rating", "unit", "level"):
            batch.drop_column(column)

    op.drop_index(op.f("ix_ticket_followers_ticket_id"), table_name="ticket_followers")
    op.drop_index(op.f("ix_ticket_followers_resident_id"), table_name="ticket_followers")
    op.drop_table("ticket_followers")
    op.drop_index("ix_hotspot_warnings_scope", table_name="hotspot_warnings")
    op.drop_table("hotspot_warnings")
