"""quiz answers may score below 0: a single-choice option with a negative weight scores its
negative fraction, as in Moodle (qtype_multichoice_single_question::grade_response)

The downgrade keeps the scores aside (core/downgrades.py) and sets negative ones to 0, which
the older CHECK allows; the upgrade back puts them back.

Revision ID: a3c9e1f0b7d2
Revises: 3b7d9e2a41c5
Create Date: 2026-12-03 17:00:00.000000

"""
from alembic import op

from learning.core import downgrades


# revision identifiers, used by Alembic.
revision = 'a3c9e1f0b7d2'
down_revision = '3b7d9e2a41c5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_quiz_answer_score_range'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_quiz_answer_score_range'),
                                         'score IS NULL OR (score >= -1 AND score <= 1)')
    downgrades.restore_column('quiz_answer', 'score')


def downgrade():
    bind = op.get_bind()
    if bind.exec_driver_sql("SELECT 1 FROM quiz_answer WHERE score < 0").first():
        downgrades.keep_column('quiz_answer', 'score')
        op.execute("UPDATE quiz_answer SET score = 0 WHERE score < 0")
    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_quiz_answer_score_range'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_quiz_answer_score_range'),
                                         'score IS NULL OR (score >= 0 AND score <= 1)')
