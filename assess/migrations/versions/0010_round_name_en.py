"""Rounds have an English name beside the Thai one

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 04:10:00

English pages and scorecards showed a round's Thai name. A round now has ``name_en`` (empty:
the Thai name is shown there too, as before).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("round") as batch:
        batch.add_column(sa.Column("name_en", sa.String(200), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("round") as batch:
        batch.drop_column("name_en")
