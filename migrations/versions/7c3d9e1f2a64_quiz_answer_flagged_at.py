"""quiz answer flagged_at: a learner flags a question of an open attempt for review (Moodle's
"Flag this question"), shown in the navigator and on the summary page before submitting

Revision ID: 7c3d9e1f2a64
Revises: 7c3d9e1f4a52
Create Date: 2026-12-03 19:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

import learning.core.types
from learning.core.downgrades import keep_column, restore_column


# revision identifiers, used by Alembic.
revision = '7c3d9e1f2a64'
down_revision = '7c3d9e1f4a52'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flagged_at', learning.core.types.UTCDateTime(), nullable=True))

    restore_column('quiz_answer', 'flagged_at')  # what a downgrade kept (learning/core/downgrades.py)


def downgrade():
    keep_column('quiz_answer', 'flagged_at')  # which questions learners flagged, and when
    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.drop_column('flagged_at')
