"""One undecided dispute per question, held by the database

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 03:00:00

The service refuses a second dispute of a question while one waits for a decision, but two
requests at the same moment could both pass its check. A unique index on the open disputes
(a partial index: decided ones may be many) makes the second one fail, and the service tells
it as the check would have.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WHERE = sa.text("status = 'open'")


def upgrade():
    op.create_index(
        "uq_dispute_open_question",
        "dispute",
        ["response_id", "question_code"],
        unique=True,
        postgresql_where=WHERE,
        sqlite_where=WHERE,
    )


def downgrade():
    op.drop_index("uq_dispute_open_question", table_name="dispute")
