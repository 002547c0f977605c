"""matrix summary: one stored row per current enrolment (and each cohort's pace), so the
completion matrix filters, sorts and pages in SQL, and each learner's chart figures
(learning/reports/summary.py)

The rows are not filled here: they are worked out by the application's rules from the course
it serves (which modules, quizzes and tasks count), which a migration fixed in time must not
import. The first write that touches a summary, or the first matrix page, builds every row;
`flask reports rebuild-summary` does it straight after the upgrade (docs/deploy.md).

Revision ID: 77d373bfd8db
Revises: d11c8f78143e
Create Date: 2026-12-03 13:22:38.543043

"""
from alembic import op
import sqlalchemy as sa

import learning.core.types


# revision identifiers, used by Alembic.
revision = '77d373bfd8db'
down_revision = 'd11c8f78143e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('chart_figures',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('score_0', sa.Integer(), nullable=False),
    sa.Column('score_1', sa.Integer(), nullable=False),
    sa.Column('score_2', sa.Integer(), nullable=False),
    sa.Column('score_3', sa.Integer(), nullable=False),
    sa.Column('score_4', sa.Integer(), nullable=False),
    sa.Column('score_5', sa.Integer(), nullable=False),
    sa.Column('score_6', sa.Integer(), nullable=False),
    sa.Column('score_7', sa.Integer(), nullable=False),
    sa.Column('score_8', sa.Integer(), nullable=False),
    sa.Column('score_9', sa.Integer(), nullable=False),
    sa.Column('decided_0', sa.Integer(), nullable=False),
    sa.Column('decided_1', sa.Integer(), nullable=False),
    sa.Column('decided_2', sa.Integer(), nullable=False),
    sa.Column('decided_3', sa.Integer(), nullable=False),
    sa.Column('decided_4', sa.Integer(), nullable=False),
    sa.Column('decided_5', sa.Integer(), nullable=False),
    sa.Column('decided_6', sa.Integer(), nullable=False),
    sa.Column('decided_days', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_chart_figures_user_id_user')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_chart_figures'))
    )
    op.create_table('matrix_cohort_pace',
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('learners', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.CheckConstraint('learners > 0 AND done >= 0', name=op.f('ck_matrix_cohort_pace_counts_positive')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_matrix_cohort_pace_cohort_id_cohort')),
    sa.PrimaryKeyConstraint('cohort_id', name=op.f('pk_matrix_cohort_pace'))
    )
    op.create_table('matrix_summary_layout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('layout', sa.Text(), nullable=False),
    sa.Column('built_at', learning.core.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_matrix_summary_layout_one_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matrix_summary_layout'))
    )
    op.create_table('matrix_summary',
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('learner_ref', sa.String(length=50), nullable=True),
    sa.Column('name_key', sa.String(length=120), nullable=False),
    sa.Column('ref_key', sa.String(length=50), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('required', sa.Integer(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('referrals', sa.Integer(), nullable=False),
    sa.Column('referred_now', sa.Integer(), nullable=False),
    sa.Column('waiting', sa.Integer(), nullable=False),
    sa.Column('started', sa.Boolean(), nullable=False),
    sa.Column('module_handed_in', sa.BigInteger(), nullable=False),
    sa.Column('quiz_handed_in', sa.BigInteger(), nullable=False),
    sa.Column('task_handed_in', sa.BigInteger(), nullable=False),
    sa.Column('next_due_on', sa.Date(), nullable=True),
    sa.CheckConstraint('done >= 0 AND done <= required', name=op.f('ck_matrix_summary_done_within_required')),
    sa.CheckConstraint('percent >= 0 AND percent <= 100', name=op.f('ck_matrix_summary_percent_range')),
    sa.CheckConstraint('referrals >= 0 AND referred_now >= 0 AND waiting >= 0', name=op.f('ck_matrix_summary_counts_not_negative')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_matrix_summary_cohort_id_cohort')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], name=op.f('fk_matrix_summary_enrolment_id_enrolment')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_matrix_summary_user_id_user')),
    sa.PrimaryKeyConstraint('enrolment_id', name=op.f('pk_matrix_summary'))
    )
    with op.batch_alter_table('matrix_summary', schema=None) as batch_op:
        batch_op.create_index('ix_matrix_summary_cohort', ['cohort_id', 'name', 'enrolment_id'], unique=False)
        batch_op.create_index('ix_matrix_summary_name', ['name', 'enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_matrix_summary_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('matrix_summary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matrix_summary_user_id'))
        batch_op.drop_index('ix_matrix_summary_name')
        batch_op.drop_index('ix_matrix_summary_cohort')

    op.drop_table('matrix_summary')
    op.drop_table('matrix_summary_layout')
    op.drop_table('matrix_cohort_pace')
    op.drop_table('chart_figures')
