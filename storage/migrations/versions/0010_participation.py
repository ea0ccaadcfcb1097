"""Residents take part: points with who and why, partners and orders, wishes, check-ins, proposals, 议事会, 民生实事.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

``points_entries`` gains who caused a line (``actor_tg_id``), why in words (``note``) and, for a correction, the
line it reverses (``reverses_id``, unique: a line is reversed once). New tables: ``partners`` (社区合伙人),
``service_orders`` and ``order_events`` (居民点单、合伙人接单), ``wishes`` (微心愿), ``activities`` and
``activity_checkins`` (签到, once per person), ``proposals`` (码上议), ``council_topics``, ``council_polls`` and
``council_votes`` (议事会), ``projects``, ``project_subscriptions`` and ``project_updates`` (民生实事),
``list_publications`` (the three lists sent monthly to a grid).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = [
    "projects",
    "activities",
    "council_topics",
    "list_publications",
    "project_updates",
    "council_polls",
    "council_votes",
    "partners",
    "project_subscriptions",
    "proposals",
    "activity_checkins",
    "service_orders",
    "wishes",
    "order_events",
]  # in creation order (dropped in reverse)


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("unit", sa.String(length=128), nullable=False),
        sa.Column("budget", sa.String(length=64), nullable=False),
        sa.Column("milestones", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=16), nullable=False),
        sa.Column("word", sa.String(length=8), nullable=False),
        sa.Column("rule_code", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("grid_code", sa.String(length=16), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["grid_code"], ["grids.code"], name=op.f("fk_activities_grid_code_grids")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
        sa.UniqueConstraint("token", name=op.f("uq_activities_token")),
    )
    with op.batch_alter_table("activities") as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_word"), ["word"], unique=False)

    op.create_table(
        "council_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("grid_code", sa.String(length=16), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("polled_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["grid_code"], ["grids.code"], name=op.f("fk_council_topics_grid_code_grids")),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], name=op.f("fk_council_topics_notice_id_notices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_topics")),
    )
    op.create_table(
        "list_publications",
        sa.Column("grid_code", sa.String(length=16), nullable=False),
        sa.Column("monthly", sa.Boolean(), nullable=False),
        sa.Column("last_month", sa.String(length=7), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["grid_code"], ["grids.code"], name=op.f("fk_list_publications_grid_code_grids")),
        sa.PrimaryKeyConstraint("grid_code", name=op.f("pk_list_publications")),
    )
    op.create_table(
        "project_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_project_updates_project_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_updates")),
    )
    with op.batch_alter_table("project_updates") as batch_op:
        batch_op.create_index(batch_op.f("ix_project_updates_project_id"), ["project_id"], unique=False)

    op.create_table(
        "council_polls",
        sa.Column("poll_id", sa.String(length=64), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["council_topics.id"], name=op.f("fk_council_polls_topic_id_council_topics")
        ),
        sa.PrimaryKeyConstraint("poll_id", name=op.f("pk_council_polls")),
    )
    with op.batch_alter_table("council_polls") as batch_op:
        batch_op.create_index(batch_op.f("ix_council_polls_topic_id"), ["topic_id"], unique=False)

    op.create_table(
        "council_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("tg_user_id", sa.BigInteger(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["council_topics.id"], name=op.f("fk_council_votes_topic_id_council_topics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_votes")),
        sa.UniqueConstraint("topic_id", "tg_user_id", name=op.f("uq_council_votes_topic_id")),
    )
    with op.batch_alter_table("council_votes") as batch_op:
        batch_op.create_index(batch_op.f("ix_council_votes_topic_id"), ["topic_id"], unique=False)

    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("available", sa.String(length=255), nullable=False),
        sa.Column("area", sa.String(length=255), nullable=False),
        sa.Column("grid_code", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["grid_code"], ["grids.code"], name=op.f("fk_partners_grid_code_grids")),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], name=op.f("fk_partners_resident_id_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("resident_id", name=op.f("uq_partners_resident_id")),
    )
    op.create_table(
        "project_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_subscriptions_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_project_subscriptions_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_subscriptions")),
        sa.UniqueConstraint("project_id", "resident_id", name=op.f("uq_project_subscriptions_project_id")),
    )
    with op.batch_alter_table("project_subscriptions") as batch_op:
        batch_op.create_index(batch_op.f("ix_project_subscriptions_project_id"), ["project_id"], unique=False)

    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("grid_code", sa.String(length=16), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answered_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["grid_code"], ["grids.code"], name=op.f("fk_proposals_grid_code_grids")),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_proposals_project_id_projects")),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], name=op.f("fk_proposals_resident_id_residents")),
        sa.ForeignKeyConstraint(["topic_id"], ["council_topics.id"], name=op.f("fk_proposals_topic_id_council_topics")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        sa.UniqueConstraint("number", name=op.f("uq_proposals_number")),
    )
    with op.batch_alter_table("proposals") as batch_op:
        batch_op.create_index(batch_op.f("ix_proposals_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposals_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposals_resident_id"), ["resident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposals_topic_id"), ["topic_id"], unique=False)

    op.create_table(
        "activity_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("points_entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_activity_checkins_activity_id_activities")
        ),
        sa.ForeignKeyConstraint(
            ["points_entry_id"], ["points_entries.id"], name=op.f("fk_activity_checkins_points_entry_id_points_entries")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_activity_checkins_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_checkins")),
        sa.UniqueConstraint("activity_id", "resident_id", name=op.f("uq_activity_checkins_activity_id")),
    )
    with op.batch_alter_table("activity_checkins") as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_checkins_activity_id"), ["activity_id"], unique=False)

    op.create_table(
        "service_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("when_text", sa.String(length=255), nullable=False),
        sa.Column("place", sa.String(length=255), nullable=False),
        sa.Column("grid_code", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("window_until", sa.DateTime(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("points_entry_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["grid_code"], ["grids.code"], name=op.f("fk_service_orders_grid_code_grids")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_service_orders_partner_id_partners")),
        sa.ForeignKeyConstraint(
            ["points_entry_id"], ["points_entries.id"], name=op.f("fk_service_orders_points_entry_id_points_entries")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_service_orders_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_orders")),
    )
    with op.batch_alter_table("service_orders") as batch_op:
        batch_op.create_index(batch_op.f("ix_service_orders_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_orders_resident_id"), ["resident_id"], unique=False)
        batch_op.create_index("ix_service_orders_status_window_until", ["status", "window_until"], unique=False)

    op.create_table(
        "wishes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=16), nullable=True),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("posted_by", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("fulfilled_at", sa.DateTime(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("confirmed_by", sa.BigInteger(), nullable=True),
        sa.Column("points_entry_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["claimer_id"], ["residents.id"], name=op.f("fk_wishes_claimer_id_residents")),
        sa.ForeignKeyConstraint(["grid_code"], ["grids.code"], name=op.f("fk_wishes_grid_code_grids")),
        sa.ForeignKeyConstraint(
            ["points_entry_id"], ["points_entries.id"], name=op.f("fk_wishes_points_entry_id_points_entries")
        ),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], name=op.f("fk_wishes_resident_id_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wishes")),
    )
    with op.batch_alter_table("wishes") as batch_op:
        batch_op.create_index(batch_op.f("ix_wishes_grid_code"), ["grid_code"], unique=False)

    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor_tg_id", sa.BigInteger(), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["service_orders.id"], name=op.f("fk_order_events_order_id_service_orders")
        ),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_order_events_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    with op.batch_alter_table("order_events") as batch_op:
        batch_op.create_index(batch_op.f("ix_order_events_order_id"), ["order_id"], unique=False)

    with op.batch_alter_table("points_entries") as batch_op:
        batch_op.add_column(sa.Column("actor_tg_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("reverses_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_points_entries_reverses_id"), ["reverses_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_points_entries_reverses_id_points_entries"), "points_entries", ["reverses_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("points_entries") as batch_op:
        batch_op.drop_constraint("fk_points_entries_reverses_id_points_entries", type_="foreignkey")
        batch_op.drop_constraint("uq_points_entries_reverses_id", type_="unique")
        batch_op.drop_column("reverses_id")
        batch_op.drop_column("note")
        batch_op.drop_column("actor_tg_id")
    for table in reversed(TABLES):
        op.drop_table(table)
