"""Publication in two steps: preliminary results, disputes, round result settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 16:00:00

"""

import sqlalchemy as sa
from alembic import op

from assess.models import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disputes_close_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("anonymise_peers", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("flag_change", sa.Integer(), nullable=False, server_default="15")
        )
        batch_op.add_column(
            sa.Column("flag_verified_gap", sa.Integer(), nullable=False, server_default="10")
        )
        batch_op.add_column(sa.Column("preliminary_at", UTCDateTime(), nullable=True))

    op.create_table(
        "dispute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_code", sa.String(length=100), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("proposed", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("raised_by_id", sa.Integer(), nullable=True),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_dispute_response_id_response")
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"], ["user.id"], name=op.f("fk_dispute_raised_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["user.id"], name=op.f("fk_dispute_decided_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute")),
    )
    with op.batch_alter_table("dispute", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispute_response_id"), ["response_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dispute_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("dispute", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispute_status"))
        batch_op.drop_index(batch_op.f("ix_dispute_response_id"))
    op.drop_table("dispute")
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.drop_column("preliminary_at")
        batch_op.drop_column("flag_verified_gap")
        batch_op.drop_column("flag_change")
        batch_op.drop_column("anonymise_peers")
        batch_op.drop_column("disputes_close_on")
