"""Staff desk: the bot's posts about each ticket in staff chats.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

``ticket_posts`` maps a bot message (chat id, message id) to its ticket and kind (case card, escalation
card, relayed message, ForceReply prompt), so a staff member's reply in a group finds its case, and a
status change can refresh every card of the case.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_posts_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_posts")),
    )
    op.create_index("ix_ticket_posts_chat_id_message_id", "ticket_posts", ["chat_id", "message_id"], unique=True)
    op.create_index(op.f("ix_ticket_posts_ticket_id"), "ticket_posts", ["ticket_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_posts_ticket_id"), table_name="ticket_posts")
    op.drop_index("ix_ticket_posts_chat_id_message_id", table_name="ticket_posts")
    op.drop_table("ticket_posts")
