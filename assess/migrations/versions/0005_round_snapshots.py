"""Round snapshots: the dashboards' tables of a big round, for a process that has none

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 01:00:00

"""

import sqlalchemy as sa
from alembic import op

from assess.models import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "round_snapshot",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("made_for", sa.Text(), nullable=False),
        sa.Column("agencies", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("made_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["round.id"],
            name=op.f("fk_round_snapshot_round_id_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("round_id", name=op.f("pk_round_snapshot")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Stored as it is: the tables are already compact, and compressing a few MB on
        # every write and read costs more than it saves.
        op.execute("ALTER TABLE round_snapshot ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade():
    op.drop_table("round_snapshot")
