"""Results and responses leave half of each page free: rewritten in place, not moved

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:00:00

A round scored again rewrites every one of its results in one statement, and each result
written moves its response's ``results_version`` on (migration 0006). PostgreSQL writes a
new version of every row it updates. With full pages (the default fill factor, 100) the new
version goes to another page, and every index of the table gets a new entry for it: three
for a result, five for a response. With room on the page (fill factor 50) the new version
stays beside the old one as a heap-only tuple: no index entry is written, and the next
rewrite reclaims the old version's space as it reads the page, without a vacuum.

At 8,000 agencies, a whole round's 16,000 results rewritten in one ``UPDATE`` took 300 ms
with its trigger, and 100-115 ms with this room; over 16 rewrites the result table grew to
142 MB at fill factor 100 and stayed at 36 MB at 50 (BENCHMARKS.md, *Recompute*).

PostgreSQL only (SQLite has no fill factor). Existing rows get the room as they are next
rewritten; ``VACUUM FULL result, response`` gives it to all of them at once.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: The tables whose rows are rewritten wholesale, and the share of each page filled by new
#: rows (as in the models' ``postgresql_with``).
FILL = {"result": 50, "response": 50}


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table, percent in FILL.items():
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in FILL:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
