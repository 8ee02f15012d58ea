"""Responses count their results' writes: the dashboards need not read the results

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 05:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Each statement that writes results moves its responses' ``results_version`` on once.
#: PostgreSQL: statement triggers with their rows as a transition table (a whole round
#: scored again is one UPDATE of its responses, not one per result); each event needs a
#: trigger of its own there.
POSTGRESQL = (
    """
    CREATE FUNCTION result_written() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE response SET results_version = results_version + 1
        WHERE id IN (SELECT response_id FROM written);
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER result_inserted AFTER INSERT ON result REFERENCING NEW TABLE AS written "
    "FOR EACH STATEMENT EXECUTE FUNCTION result_written()",
    "CREATE TRIGGER result_updated AFTER UPDATE ON result REFERENCING NEW TABLE AS written "
    "FOR EACH STATEMENT EXECUTE FUNCTION result_written()",
    "CREATE TRIGGER result_deleted AFTER DELETE ON result REFERENCING OLD TABLE AS written "
    "FOR EACH STATEMENT EXECUTE FUNCTION result_written()",
)
#: SQLite has row triggers only: a response moves on once per result written.
SQLITE = (
    "CREATE TRIGGER result_inserted AFTER INSERT ON result BEGIN "
    "UPDATE response SET results_version = results_version + 1 WHERE id = NEW.response_id; "
    "END",
    "CREATE TRIGGER result_updated AFTER UPDATE ON result BEGIN "
    "UPDATE response SET results_version = results_version + 1 "
    "WHERE id IN (OLD.response_id, NEW.response_id); END",
    "CREATE TRIGGER result_deleted AFTER DELETE ON result BEGIN "
    "UPDATE response SET results_version = results_version + 1 WHERE id = OLD.response_id; "
    "END",
)


def upgrade():
    with op.batch_alter_table("response") as batch:
        batch.add_column(
            sa.Column("results_version", sa.Integer(), server_default="0", nullable=False)
        )
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade():
    for name in ("result_inserted", "result_updated", "result_deleted"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER {name} ON result")
        else:
            op.execute(f"DROP TRIGGER {name}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION result_written()")
    with op.batch_alter_table("response") as batch:
        batch.drop_column("results_version")
