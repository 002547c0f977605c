"""when a learner first opened a released decision's feedback: the dashboard lists feedback not
yet read (learning/reports/todo.py)

Revision ID: 7c3d9e1f2b64
Revises: 5b7e2c9d1a40
Create Date: 2026-12-03 20:05:00.000000

"""
from alembic import op
import sqlalchemy as sa

import learning.core.types
from learning.core.downgrades import keep_column, restore_column


# revision identifiers, used by Alembic.
revision = '7c3d9e1f2b64'
down_revision = '5b7e2c9d1a40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('learner_read_at', learning.core.types.UTCDateTime(),
                                      nullable=True))
    restore_column('decision', 'learner_read_at')  # what a downgrade kept
    # No guess is made for decisions released before this: their learners see them once as
    # feedback to read, until they open the feedback page (a guess would also turn unread
    # decisions into read ones on a downgrade and upgrade back).


def downgrade():
    keep_column('decision', 'learner_read_at')  # when each learner read their feedback
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_column('learner_read_at')
