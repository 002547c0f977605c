"""job.once_key: slow work that must not run twice at once (the originality re-index from the
admin page) is one waiting or running job per key, settled by a partial unique index

Revision ID: 5b1e0c3a9d27
Revises: a3c9e1f0b7d2
Create Date: 2026-12-03 16:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

from learning.core.downgrades import keep_column, restore_column


# revision identifiers, used by Alembic.
revision = '5b1e0c3a9d27'
down_revision = 'a3c9e1f0b7d2'
branch_labels = None
depends_on = None

ACTIVE = "once_key IS NOT NULL AND status IN ('pending', 'running')"


def upgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('once_key', sa.String(length=100), nullable=True))
        batch_op.create_index('uq_job_once_key_active', ['once_key'], unique=True,
                              sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
    restore_column('job', 'once_key')


def downgrade():
    # The key only guards jobs while they wait; the jobs themselves stay, and so does the key
    # of a job still waiting (an upgrade back must not let it be queued twice).
    keep_column('job', 'once_key')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('uq_job_once_key_active', sqlite_where=sa.text(ACTIVE),
                            postgresql_where=sa.text(ACTIVE))
        batch_op.drop_column('once_key')
