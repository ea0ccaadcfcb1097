"""Learning from the desk.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

``intent_corrections``: a resident's words and the category a person said they are (staff reassigning or
correcting a case, a resident choosing from the buttons), exported as training rows for the intents engine.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intent_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("predicted", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_intent_corrections_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intent_corrections")),
    )
    op.create_index(op.f("ix_intent_corrections_at"), "intent_corrections", ["at"])
    op.create_index(op.f("ix_intent_corrections_ticket_id"), "intent_corrections", ["ticket_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_intent_corrections_ticket_id"), table_name="intent_corrections")
    op.drop_index(op.f("ix_intent_corrections_at"), table_name="intent_corrections")
    op.drop_table("intent_corrections")
