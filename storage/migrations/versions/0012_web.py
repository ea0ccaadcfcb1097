"""The web side: tracking tokens of cases filed on the 服务码 page, board sign-in (one-time links and sessions),
Open311 clients, and where imported cases came from.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

New tables: ``case_tokens`` (tracking tokens of cases filed on the web, kept as SHA-256, and who
claimed them in the bot), ``web_logins`` (one-time sign-in links: ten minutes, one use), ``web_sessions``
(signed-in board sessions), ``open311_clients`` (API keys of systems filing through Open311, kept as
SHA-256), ``case_sources`` (an imported case's channel and source number, unique together: re-importing a
file creates nothing twice).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_case_tokens_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"],
                                name=op.f("fk_case_tokens_resident_id_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_case_tokens_token_hash")),
    )
    with op.batch_alter_table("case_tokens") as batch_op:
        batch_op.create_index(batch_op.f("ix_case_tokens_ticket_id"), ["ticket_id"], unique=False)
    op.create_table(
        "web_logins",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("tg_user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_logins")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("tg_user_id", sa.BigInteger(), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions") as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_tg_user_id"), ["tg_user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_web_sessions_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "open311_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_open311_clients_name")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_clients_key_hash")),
    )
    op.create_table(
        "case_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_case_sources_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_sources")),
        sa.UniqueConstraint("channel", "source_ref", name=op.f("uq_case_sources_channel")),
    )
    with op.batch_alter_table("case_sources") as batch_op:
        batch_op.create_index(batch_op.f("ix_case_sources_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    for table in ("case_sources", "open311_clients", "web_sessions", "web_logins", "case_tokens"):
        op.drop_table(table)
