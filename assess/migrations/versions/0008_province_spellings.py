"""Provinces in one spelling: "จังหวัดเชียงใหม่", "Chiangmai" and "Chiang Mai" are one province

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 02:00:00

An agency's province was stored as typed, so one province could make several peer groups.
The agency import and the agency form now store a known province's English name
(``assess.provinces.canonical``); this gives the agencies stored before the same spelling.
Text that names no known province is left as it is. The change is not in the audit trail:
it changes no province, only how one is written. The downgrade keeps the new spellings (the
old ones are not recorded, and nothing depends on them).
"""

import sqlalchemy as sa
from alembic import op

from assess import provinces

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    agency = sa.table("agency", sa.column("province", sa.String))
    bind = op.get_bind()
    stored = bind.execute(sa.select(agency.c.province).distinct()).scalars().all()
    for before in stored:
        after = provinces.canonical(before) if before else before
        if after != before:
            bind.execute(
                agency.update().where(agency.c.province == before).values(province=after)
            )


def downgrade():
    pass
