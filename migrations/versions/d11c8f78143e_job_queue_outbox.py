"""job queue (the outbox): email and slow work leave the request (learning/core/jobs.py)

Revision ID: d11c8f78143e
Revises: 1a6c7a84150d
Create Date: 2026-12-03 13:11:16.602862

"""
from alembic import op
import sqlalchemy as sa

import learning.core.types
from learning.core.downgrades import keep_table, restore_table


# revision identifiers, used by Alembic.
revision = 'd11c8f78143e'
down_revision = '1a6c7a84150d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('run_after', learning.core.types.UTCDateTime(), nullable=False),
    sa.Column('locked_until', learning.core.types.UTCDateTime(), nullable=True),
    sa.Column('locked_by', sa.String(length=100), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('progress', sa.JSON(), nullable=True),
    sa.Column('created_at', learning.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', learning.core.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', learning.core.types.UTCDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'running', 'done', 'failed')", name=op.f('ck_job_known_status')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_job_attempts_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index('ix_job_due', ['status', 'run_after'], unique=False)
    # Email still waiting (or failed) when a downgrade took the table away comes back.
    restore_table('job')


def downgrade():
    keep_table('job')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('ix_job_due')

    op.drop_table('job')
