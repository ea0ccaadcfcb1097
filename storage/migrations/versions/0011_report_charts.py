"""Report charts waiting to be sent: the PNG of a /report answer or a scheduled 周调度/月评估/季研判.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

``report_charts`` keeps a chart's bytes from the transaction that owes it to desk chats until the sender has sent
it (outbox rows name it: ``{"chart": id}``), so a restart in between still sends it; old ones are purged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_charts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_charts")),
    )
    op.create_index(op.f("ix_report_charts_created_at"), "report_charts", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_report_charts_created_at"), table_name="report_charts")
    op.drop_table("report_charts")
