"""evidence: passages of a submitted answer an assessor attached to a criterion (met or not
yet met), kept per submission round, withdrawn rather than deleted

Revision ID: 3e8a5d2c7f19
Revises: 4e8a1c7b2d90
Create Date: 2026-12-03 20:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import learning.core.types
from learning.core.downgrades import keep_table, restore_table


# revision identifiers, used by Alembic.
revision = '3e8a5d2c7f19'
down_revision = '4e8a1c7b2d90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_id', sa.Integer(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.String(length=40), nullable=False),
    sa.Column('start_offset', sa.Integer(), nullable=False),
    sa.Column('end_offset', sa.Integer(), nullable=False),
    sa.Column('quote', sa.Text(), nullable=False),
    sa.Column('met', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', learning.core.types.UTCDateTime(), nullable=False),
    sa.Column('withdrawn_at', learning.core.types.UTCDateTime(), nullable=True),
    sa.CheckConstraint('start_offset >= 0 AND end_offset > start_offset', name=op.f('ck_evidence_passage_not_empty')),
    sa.ForeignKeyConstraint(['assessor_id'], ['user.id'], name=op.f('fk_evidence_assessor_id_user')),
    sa.ForeignKeyConstraint(['work_id'], ['submitted_work.id'], name=op.f('fk_evidence_work_id_submitted_work')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_work', ['work_id', 'start_offset'], unique=False)

    restore_table('evidence')  # what a downgrade kept (learning/core/downgrades.py)


def downgrade():
    keep_table('evidence')  # assessors' evidence passages and notes
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_work')

    op.drop_table('evidence')
