"""csv uploads and enrolment imports in the database: an upload waits there between preview and
import (not in instance/, so any app server can confirm it), and a large import's progress and
outcome are kept while the worker runs it (learning/people/csv_uploads.py, import_jobs.py)

Revision ID: 5b7e2c9d1a40
Revises: 9e4b2c7d5a18
Create Date: 2026-12-03 17:05:00.000000

"""
from alembic import op
import sqlalchemy as sa

import learning.core.types
from learning.core.downgrades import keep_table, restore_table


# revision identifiers, used by Alembic.
revision = '5b7e2c9d1a40'
down_revision = '9e4b2c7d5a18'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('csv_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created_at', learning.core.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', learning.core.types.UTCDateTime(), nullable=False),
    sa.Column('confirmed_at', learning.core.types.UTCDateTime(), nullable=True),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_csv_upload_expires_after_created')),
    sa.CheckConstraint('rows >= 0', name=op.f('ck_csv_upload_rows_not_negative')),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_csv_upload_actor_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_csv_upload')),
    sa.UniqueConstraint('token', name=op.f('uq_csv_upload_token'))
    )
    with op.batch_alter_table('csv_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_csv_upload_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_csv_upload_expires_at'), ['expires_at'], unique=False)

    op.create_table('enrolment_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('upload_token', sa.String(length=64), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('enrolled_existing', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('emailed', sa.Integer(), nullable=False),
    sa.Column('new_user_ids', sa.JSON(), nullable=False),
    sa.Column('link_salt', sa.String(length=64), nullable=True),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_at', learning.core.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', learning.core.types.UTCDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('waiting', 'running', 'done', 'failed')", name=op.f('ck_enrolment_import_known_status')),
    sa.CheckConstraint('rows_done >= 0 AND rows_done <= rows_total', name=op.f('ck_enrolment_import_done_within_total')),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_enrolment_import_actor_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_enrolment_import_job_id_job'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment_import')),
    sa.UniqueConstraint('upload_token', name=op.f('uq_enrolment_import_upload_token'))
    )
    with op.batch_alter_table('enrolment_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_import_actor_id'), ['actor_id'], unique=False)
    # A downgrade kept what was waiting or under way; it comes back.
    restore_table('csv_upload')
    restore_table('enrolment_import')


def downgrade():
    keep_table('enrolment_import')
    keep_table('csv_upload')
    with op.batch_alter_table('enrolment_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolment_import_actor_id'))
    op.drop_table('enrolment_import')
    with op.batch_alter_table('csv_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_csv_upload_expires_at'))
        batch_op.drop_index(batch_op.f('ix_csv_upload_actor_id'))
    op.drop_table('csv_upload')
