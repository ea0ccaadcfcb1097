"""Initial schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Tables for residents, grids, tickets and their history, the daily ticket counter,
the points ledger and complaint drafts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daily_counters",
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_daily_counters")),
    )
    op.create_table(
        "grids",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("worker_name", sa.String(length=64), nullable=False),
        sa.Column("worker_tg_id", sa.BigInteger(), nullable=True),
        sa.Column("buildings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_grids")),
    )
    op.create_table(
        "residents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tg_user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("grid_code", sa.String(length=16), nullable=True),
        sa.Column("building", sa.String(length=32), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("age_band", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["grid_code"], ["grids.code"], name=op.f("fk_residents_grid_code_grids")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents")),
    )
    op.create_index(op.f("ix_residents_grid_code"), "residents", ["grid_code"], unique=False)
    op.create_index(op.f("ix_residents_tg_user_id"), "residents", ["tg_user_id"], unique=True)
    op.create_table(
        "drafts",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("location", sa.String(length=255), nullable=True),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_drafts_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("resident_id", name=op.f("pk_drafts")),
    )
    op.create_table(
        "points_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_points_entries_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entries")),
    )
    op.create_index("ix_points_entries_reason_ref", "points_entries", ["reason", "ref"], unique=False)
    op.create_index(op.f("ix_points_entries_resident_id"), "points_entries", ["resident_id"], unique=False)
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=255), nullable=True),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("grid_code", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("sign_due_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["grid_code"], ["grids.code"], name=op.f("fk_tickets_grid_code_grids")),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["tickets.id"], name=op.f("fk_tickets_merged_into_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_tickets_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    op.create_index(op.f("ix_tickets_due_at"), "tickets", ["due_at"], unique=False)
    op.create_index(op.f("ix_tickets_number"), "tickets", ["number"], unique=True)
    op.create_index(op.f("ix_tickets_resident_id"), "tickets", ["resident_id"], unique=False)
    op.create_index("ix_tickets_status_due_at", "tickets", ["status", "due_at"], unique=False)
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_events_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
    )
    op.create_index(op.f("ix_ticket_events_ticket_id"), "ticket_events", ["ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_events_ticket_id"), table_name="ticket_events")
    op.drop_table("ticket_events")
    op.drop_index("ix_tickets_status_due_at", table_name="tickets")
    op.drop_index(op.f("ix_tickets_resident_id"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_number"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_due_at"), table_name="tickets")
    op.drop_table("tickets")
    op.drop_index(op.f("ix_points_entries_resident_id"), table_name="points_entries")
    op.drop_index("ix_points_entries_reason_ref", table_name="points_entries")
    op.drop_table("points_entries")
    op.drop_table("drafts")
    op.drop_index(op.f("ix_residents_tg_user_id"), table_name="residents")
    op.drop_index(op.f("ix_residents_grid_code"), table_name="residents")
    op.drop_table("residents")
    op.drop_table("grids")
    op.drop_table("daily_counters")
