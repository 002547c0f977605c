"""export_file: large CSV exports made by the worker, kept for their requester for a few
days (learning/reports/export_jobs.py)

Revision ID: 8c4d2f6a1e53
Revises: 5b1e0c3a9d27
Create Date: 2026-12-03 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import learning.core.types
from learning.core.downgrades import keep_table, restore_table


# revision identifiers, used by Alembic.
revision = '8c4d2f6a1e53'
down_revision = '5b1e0c3a9d27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created_at', learning.core.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', learning.core.types.UTCDateTime(), nullable=True),
    sa.Column('expires_at', learning.core.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'done')", name=op.f('ck_export_file_known_status')),
    sa.CheckConstraint('bytes >= 0 AND rows >= 0', name=op.f('ck_export_file_sizes_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_export_file_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_file'))
    )
    with op.batch_alter_table('export_file', schema=None) as batch_op:
        batch_op.create_index('ix_export_file_expires', ['expires_at'], unique=False)
        batch_op.create_index('ix_export_file_user', ['user_id', 'created_at'], unique=False)
    # Files prepared before a downgrade come back (until they expire).
    restore_table('export_file')


def downgrade():
    keep_table('export_file')
    with op.batch_alter_table('export_file', schema=None) as batch_op:
        batch_op.drop_index('ix_export_file_user')
        batch_op.drop_index('ix_export_file_expires')

    op.drop_table('export_file')
