"""deadlines set before a learner joined: the matrix summary keeps the day each learner
joined their cohort, so a date already past then never makes them overdue

The stored rows are worked out again on the next write or matrix page (the saved layout is
cleared, which is how the summary knows to rebuild), so the new column is never read empty.

Revision ID: 3b7d9e2a41c5
Revises: e97ca4378f15
Create Date: 2026-12-03 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b7d9e2a41c5'
down_revision = 'e97ca4378f15'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('matrix_summary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joined_on', sa.Date(), nullable=True))
    op.execute("DELETE FROM matrix_summary_layout")


def downgrade():
    with op.batch_alter_table('matrix_summary', schema=None) as batch_op:
        batch_op.drop_column('joined_on')
    # The rows' next due dates left out deadlines set before joining: rebuild them as before.
    op.execute("DELETE FROM matrix_summary_layout")
