"""The outbox and offline intake.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

``outbox``: every message the bot owes a person because of a committed change, written in that change's
transaction and sent by the one paced sender. ``tickets``: how a case came in (``channel``), who recorded it
for someone (``recorded_by``, ``contact_name``, ``contact_phone``), its voice or files (``attachments``) and an
emergency's kind (``emergency_kind``);
``drafts.attachments`` likewise. ``residents.tg_user_id`` may be empty: people whose case staff recorded
(代录) and who never use Telegram; ``residents.unreachable_at``: a message to them got 403.
``ticket_posts.media``/``batch``: a card sent as a photo (its caption is edited) or combined with others
(so one message may now stand for several cases: unique per chat, message and case).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_outbox_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_status_next_try_at", "outbox", ["status", "next_try_at"])
    op.create_index("ix_outbox_chat_id_status_id", "outbox", ["chat_id", "status", "id"])
    op.create_index(op.f("ix_outbox_ticket_id"), "outbox", ["ticket_id"])
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=16), server_default="telegram", nullable=False))
        batch.add_column(sa.Column("recorded_by", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("contact_name", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("contact_phone", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("attachments", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("emergency_kind", sa.String(length=16), nullable=True))
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("attachments", sa.JSON(), server_default="[]", nullable=False))
    with op.batch_alter_table("residents") as batch:
        batch.alter_column("tg_user_id", existing_type=sa.BigInteger(), nullable=True)
        batch.add_column(sa.Column("unreachable_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("ticket_posts") as batch:
        batch.add_column(sa.Column("media", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("batch", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.drop_index("ix_ticket_posts_chat_id_message_id")
        batch.create_index("ix_ticket_posts_chat_id_message_id_ticket_id", ["chat_id", "message_id", "ticket_id"],
                           unique=True)


def downgrade() -> None:
    with op.batch_alter_table("ticket_posts") as batch:
        batch.drop_index("ix_ticket_posts_chat_id_message_id_ticket_id")
        batch.create_index("ix_ticket_posts_chat_id_message_id", ["chat_id", "message_id"], unique=True)
        batch.drop_column("batch")
        batch.drop_column("media")
    with op.batch_alter_table("residents") as batch:
        batch.drop_column("unreachable_at")
        batch.alter_column("tg_user_id", existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table("drafts") as batch:
        batch.drop_column("attachments")
    with op.batch_alter_table("tickets") as batch:
        for column in ("emergency_kind", "attachments", "contact_phone", "contact_name", "recorded_by", "channel"):
            batch.drop_column(column)
    op.drop_index(op.f("ix_outbox_ticket_id"), table_name="outbox")
    op.drop_index("ix_outbox_chat_id_status_id", table_name="outbox")
    op.drop_index("ix_outbox_status_next_try_at", table_name="outbox")
    op.drop_table("outbox")
