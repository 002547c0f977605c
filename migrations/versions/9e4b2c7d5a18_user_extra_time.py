"""learners' extra time in timed quizzes (access arrangements), set by their coordinator

Revision ID: 9e4b2c7d5a18
Revises: 6d2a8f4c1b07
Create Date: 2026-12-03 17:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

from learning.core.downgrades import keep_column, restore_column


# revision identifiers, used by Alembic.
revision = '9e4b2c7d5a18'
down_revision = '6d2a8f4c1b07'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extra_time_percent', sa.Integer(), nullable=False,
                                      server_default=sa.text('0')))
    restore_column('user', 'extra_time_percent')


def downgrade():
    # A learner's access arrangement is kept aside, so upgrading again gives it back.
    keep_column('user', 'extra_time_percent')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('extra_time_percent')
