"""Every neighbour following a case rates it too; a typed 确认 finds the draft message it confirms.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

``ticket_followers.rating`` / ``rated_at`` / ``rating_comment``: a follower's own 回访 answer (the case's
``tickets.rating`` stays its author's). ``drafts.shown_message_id``: the bot's message showing the draft with
确认提交, so a yes typed instead of pressed turns that message into the number as the button does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_followers") as batch_op:
        batch_op.add_column(sa.Column("rating", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("rated_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("rating_comment", sa.Text(), nullable=True))
    with op.batch_alter_table("drafts") as batch_op:
        batch_op.add_column(sa.Column("shown_message_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drafts") as batch_op:
        batch_op.drop_column("shown_message_id")
    with op.batch_alter_table("ticket_followers") as batch_op:
        batch_op.drop_column("rating_comment")
        batch_op.drop_column("rated_at")
        batch_op.drop_column("rating")
