"""The inbox: updates accepted before they are acknowledged, handled by any worker.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08

New table ``inbox``: one row per Telegram update, keyed on its ``update_id`` (a repeated delivery inserts
nothing), written before the webhook answers 200 or polling moves its offset; claimed by a worker with a
lease, one chat's rows in order (``chat_key``), marked done once handled, purged after two days.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_key", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox")),
    )
    op.create_index("ix_inbox_chat_key_status_update_id", "inbox", ["chat_key", "status", "update_id"])
    op.create_index("ix_inbox_status_lease_until", "inbox", ["status", "lease_until"])


def downgrade() -> None:
    op.drop_index("ix_inbox_status_lease_until", table_name="inbox")
    op.drop_index("ix_inbox_chat_key_status_update_id", table_name="inbox")
    op.drop_table("inbox")
