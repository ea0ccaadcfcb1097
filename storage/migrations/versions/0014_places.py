"""A case's building as a column, so duplicate and hotspot checks find the cases at one place in SQL.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

``tickets.building`` ("10号楼", from the location, None when it names none; kept with the location by the
code that writes it), indexes ``(category, building, created_at)`` and ``(category, grid_code, created_at)``
for the duplicate check (a category's open cases of the last 72 h at one building or in one grid) and the
hotspot count, and ``ticket_followers.linked_at`` for the day's linked duplicates. Existing cases get their
building from their location here, with the same rule as the code (``services.cases.tickets.building_of``,
copied: a migration must not change when that module does).
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BUILDING = re.compile(r"(\d{1,4})\s*(?:号楼|栋|幢|座)")


def _building(location: str | None) -> str | None:
    match = _BUILDING.search(unicodedata.normalize("NFKC", location)) if location else None
    return f"{int(match[1])}号楼" if match else None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(sa.Column("building", sa.String(length=32), nullable=True))
    tickets = sa.table("tickets", sa.column("id", sa.Integer()), sa.column("location", sa.String()),
                       sa.column("building", sa.String()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(tickets.c.id, tickets.c.location).where(tickets.c.location.is_not(None)))
    found = [{"i": i, "b": b} for i, location in rows if (b := _building(location)) is not None]
    if found:
        conn.execute(tickets.update().where(tickets.c.id == sa.bindparam("i")).values(building=sa.bindparam("b")),
                     found)
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.create_index("ix_tickets_place_building", ["category", "building", "created_at"], unique=False)
        batch_op.create_index("ix_tickets_place_grid", ["category", "grid_code", "created_at"], unique=False)
    with op.batch_alter_table("ticket_followers") as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_followers_linked_at"), ["linked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_followers") as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_followers_linked_at"))
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_index("ix_tickets_place_grid")
        batch_op.drop_index("ix_tickets_place_building")
        batch_op.drop_column("building")
