"""Background jobs: a heartbeat, and one job of a kind per round under way

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 12:00:00

A job whose process died (kill -9, a restart) stayed "running" for ever and kept the round's
bulk export from starting again. A running job now writes ``progress_at`` as it starts, with
its progress and every few seconds; one silent too long counts as interrupted. Two requests
at once could each start an export of the same round: a unique index on the jobs queued or
running (a partial index: finished ones may be many) makes the second one fail, and it is
told of the first. The jobs already left queued or running twice over for a round and kind
(the older ones of such a pair cannot be running any more) are recorded as interrupted, or
the index could not be made; the newest, if dead too, is found so by its silence.
"""

import sqlalchemy as sa
from alembic import op

from assess.models import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

WHERE = sa.text("status IN ('queued', 'running')")


def upgrade():
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("progress_at", UTCDateTime(), nullable=True))
    op.execute(
        """
        UPDATE job SET status = 'failed', error = 'interrupted'
        WHERE status IN ('queued', 'running') AND round_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM job AS newer
            WHERE newer.round_id = job.round_id AND newer.kind = job.kind
                AND newer.status IN ('queued', 'running') AND newer.id > job.id
        )
        """
    )
    op.create_index(
        "uq_job_active",
        "job",
        ["round_id", "kind"],
        unique=True,
        postgresql_where=WHERE,
        sqlite_where=WHERE,
    )


def downgrade():
    op.drop_index("uq_job_active", table_name="job")
    op.execute("UPDATE job SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table("job") as batch:
        batch.drop_column("progress_at")
