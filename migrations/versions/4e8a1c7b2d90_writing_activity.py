"""what the writing page's script saw between saves (typing, active time, pastes), for the
writing-process report (learning/assessment/writing_process.py)

Revision ID: 4e8a1c7b2d90
Revises: 7c3d9e1f2a64
Create Date: 2026-12-03 20:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import learning.core.types
from learning.core.downgrades import keep_table, restore_table


# revision identifiers, used by Alembic.
revision = '4e8a1c7b2d90'
down_revision = '7c3d9e1f2a64'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'writing_activity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('draft_number', sa.Integer(), nullable=False),
        sa.Column('received_at', learning.core.types.UTCDateTime(), nullable=False),
        sa.Column('typed_chars', sa.Integer(), nullable=False),
        sa.Column('active_seconds', sa.Integer(), nullable=False),
        sa.Column('pastes', sa.JSON(), nullable=False),
        sa.CheckConstraint('typed_chars >= 0 AND active_seconds >= 0',
                           name=op.f('ck_writing_activity_counts_not_negative')),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id'],
                                name=op.f('fk_writing_activity_submission_id_submission')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_writing_activity')),
    )
    with op.batch_alter_table('writing_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_writing_activity_submission_id'),
                              ['submission_id'], unique=False)
    restore_table('writing_activity')  # what a downgrade kept


def downgrade():
    keep_table('writing_activity')  # learners' typing, time and pastes
    with op.batch_alter_table('writing_activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_writing_activity_submission_id'))
    op.drop_table('writing_activity')
