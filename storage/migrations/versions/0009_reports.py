"""Reports, supervision and the audit trail.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

``report_runs``: scheduled reports claimed for sending (one per kind and period). ``supervisions``: 督办 on a
case with its reply deadline and answer. ``audit_log``: every attempt to act (who, chat, when, allowed or
refused). Indexes for reports: ``tickets.created_at`` (a period's tickets) and a covering index of the events they
read (``ticket_id, kind, to_status, at, level, mediation_stage``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_runs")),
        sa.UniqueConstraint("kind", "period", name=op.f("uq_report_runs_kind")),
    )
    op.create_table(
        "supervisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("supervisor_tg_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("reply_by", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_supervisions_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervisions")),
    )
    op.create_index(op.f("ix_supervisions_ticket_id"), "supervisions", ["ticket_id"])
    op.create_index(op.f("ix_supervisions_reply_by"), "supervisions", ["reply_by"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("tg_user_id", sa.BigInteger(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("via", sa.String(length=255), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_audit_log_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index("ix_audit_log_tg_user_id_at", "audit_log", ["tg_user_id", "at"])
    op.create_index("ix_audit_log_ticket_id_at", "audit_log", ["ticket_id", "at"])
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])
    op.create_index("ix_ticket_events_report", "ticket_events",
                    ["ticket_id", "kind", "to_status", "at", "level", "mediation_stage"])


def downgrade() -> None:
    op.drop_index("ix_ticket_events_report", table_name="ticket_events")
    op.drop_index("ix_tickets_created_at", table_name="tickets")
    op.drop_index("ix_audit_log_ticket_id_at", table_name="audit_log")
    op.drop_index("ix_audit_log_tg_user_id_at", table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_supervisions_reply_by"), table_name="supervisions")
    op.drop_index(op.f("ix_supervisions_ticket_id"), table_name="supervisions")
    op.drop_table("supervisions")
    op.drop_table("report_runs")
