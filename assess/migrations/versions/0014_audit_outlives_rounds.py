"""The audit trail outlives a deleted draft round

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 02:10:00

A round still in draft, made by mistake, may be deleted (``assess round delete``, the
round's page). Its events stay in the append-only trail, which no statement may rewrite, so
their ``round_id`` keeps naming it: the foreign key to ``round`` goes (the one to
``response`` stays: a response is removed only when no event names it). On SQLite the table
is rebuilt without it, and the triggers and partial indexes that the rebuild drops are made
again.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_audit_event_round_id_round"
OUTSIDE = sa.text("response_id IS NULL")


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(lambda batch: batch.drop_constraint(FOREIGN_KEY, type_="foreignkey"))
    else:
        op.drop_constraint(FOREIGN_KEY, "audit_event", type_="foreignkey")


def downgrade():
    # Events of a round deleted since name a round that is gone, and the trail cannot be
    # rewritten: PostgreSQL keeps them (the key checks new rows only); SQLite refuses the
    # rebuild while there are any.
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(
            lambda batch: batch.create_foreign_key(FOREIGN_KEY, "round", ["round_id"], ["id"])
        )
    else:
        op.create_foreign_key(
            FOREIGN_KEY, "audit_event", "round", ["round_id"], ["id"], postgresql_not_valid=True
        )


def _rebuild(change):
    """SQLite: the table made again with ``change``; its triggers and partial indexes with it."""
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    op.drop_index("ix_audit_event_round_activity", table_name="audit_event")
    op.drop_index("ix_audit_event_activity", table_name="audit_event")
    with op.batch_alter_table("audit_event", recreate="always") as batch:
        change(batch)
    op.create_index(
        "ix_audit_event_activity", "audit_event", ["at", "id"], sqlite_where=OUTSIDE
    )
    op.create_index(
        "ix_audit_event_round_activity",
        "audit_event",
        ["round_id", "at", "id"],
        sqlite_where=OUTSIDE,
    )
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
            "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
        )
