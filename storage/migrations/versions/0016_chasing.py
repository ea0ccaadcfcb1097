"""Keeping after cases that stay overdue, and after residents who never answer 待补充.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

``tickets.overdue_steps``: how many further periods a red case has been alerted for (each one level up, grid →
community → street, then a reminder per period at the top); ``tickets.info_chased``: how far a case waiting in
待补充 has been chased (1: the resident reminded, 2: the desk told). Open cases that breached their limit or wait
for the resident were disarmed by the old sweep (``next_check_at`` NULL); they are armed again here at a moment
already past, so the next sweep looks at each once and stores its real next moment.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = ("received", "dispatched", "signed", "in_progress", "pending_info", "reopened")  # OPEN_STATUSES, copied


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(sa.Column("overdue_steps", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("info_chased", sa.Integer(), server_default="0", nullable=False))
    tickets = sa.table("tickets", sa.column("status", sa.String()), sa.column("next_check_at", sa.DateTime()),
                       sa.column("breached_at", sa.DateTime()), sa.column("paused_at", sa.DateTime()),
                       sa.column("due_at", sa.DateTime()))
    conn = op.get_bind()
    disarmed = [tickets.c.status.in_(OPEN), tickets.c.next_check_at.is_(None)]
    conn.execute(tickets.update().where(*disarmed, tickets.c.paused_at.is_not(None))
                 .values(next_check_at=tickets.c.paused_at))
    conn.execute(tickets.update().where(*disarmed, tickets.c.paused_at.is_(None), tickets.c.breached_at.is_not(None))
                 .values(next_check_at=tickets.c.due_at))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_column("info_chased")
        batch_op.drop_column("overdue_steps")
