"""Users the bot has seen.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

``known_users``: Telegram users met in any chat with their @username, so admins can name people by
username in ``/grant`` (the Bot API has no lookup by username for users).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_users",
        sa.Column("tg_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tg_user_id", name=op.f("pk_known_users")),
    )
    op.create_index(op.f("ix_known_users_username"), "known_users", ["username"])


def downgrade() -> None:
    op.drop_index(op.f("ix_known_users_username"), table_name="known_users")
    op.drop_table("known_users")
