"""Agency records kept when a round's results come out

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 09:00:00

A published round's groups (type, parent, province, tags) were read from the agency list as
it is now: an agency edited after publication moved the round's ranks, medians and group
sizes, and a scorecard downloaded again said "15 of 32" under the code that said "15 of 31".
Each response now keeps its agency's record when the round's results come out. The rounds
already out keep their agencies' records as they are at this upgrade (the nearest there is).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "response_agency",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("name_th", sa.String(300), nullable=False),
        sa.Column("name_en", sa.String(300), nullable=False),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("parent_code", sa.String(40), nullable=False),
        sa.Column("parent_name_th", sa.String(300), nullable=False),
        sa.Column("parent_name_en", sa.String(300), nullable=False),
        sa.Column("province", sa.String(100), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["response.id"],
            name=op.f("fk_response_agency_response_id_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_response_agency")),
    )
    op.execute(
        """
        INSERT INTO response_agency (response_id, name_th, name_en, type, parent_code,
            parent_name_th, parent_name_en, province, tags)
        SELECT response.id, agency.name_th, agency.name_en, agency.type,
            COALESCE(parent.code, ''), COALESCE(parent.name_th, ''),
            COALESCE(parent.name_en, ''), COALESCE(agency.province, ''), agency.tags
        FROM response
        JOIN round ON round.id = response.round_id
        JOIN agency ON agency.id = response.agency_id
        LEFT OUTER JOIN agency AS parent ON parent.id = agency.parent_id
        WHERE round.status IN ('preliminary', 'published')
        """
    )


def downgrade():
    op.drop_table("response_agency")
